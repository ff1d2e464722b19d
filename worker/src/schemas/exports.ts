import { z } from 'zod';
import { CUSTOMER_FIELDS } from '../../../shared/customer-fields';
import { intParam } from './common';

/**
 * The customer fields an export may list: Voucherify's names, which are the catalogue's columns,
 * plus `id`, `metadata` (the whole object) and `birthday` (the deprecated alias of birthdate);
 * `metadata.<key>` is checked separately.
 */
export const CUSTOMER_EXPORT_FIELDS = ['id', ...CUSTOMER_FIELDS.map((f) => f.column), 'birthday', 'metadata'] as const;
export type CustomerExportField = (typeof CUSTOMER_EXPORT_FIELDS)[number];

export const DEFAULT_EXPORT_FIELDS: CustomerExportField[] = ['name', 'source_id'];

/**
 * The voucher fields an export may list: those of OA ExportVoucherFields (readOnly-openAPI.json,
 * "Export Voucher Fields") that a DISCOUNT_VOUCHER here has. `customer_id` / `customer_source_id`:
 * the holder; `metadata.<key>` too.
 */
export const VOUCHER_EXPORT_FIELDS = [
  'id',
  'code',
  'voucher_type',
  'value',
  'discount_type',
  'discount_effect',
  'discount_amount_limit',
  'discount_unit_type',
  'campaign',
  'campaign_id',
  'start_date',
  'expiration_date',
  'redemption_quantity',
  'redemption_count',
  'active',
  'is_referral_code',
  'metadata',
  'additional_info',
  'customer_id',
  'customer_source_id',
  'created_at',
  'updated_at',
  'validity_day_of_week',
  'validity_timeframe_interval',
  'validity_timeframe_duration',
] as const;
export type VoucherExportField = (typeof VOUCHER_EXPORT_FIELDS)[number];
export const DEFAULT_VOUCHER_EXPORT_FIELDS: VoucherExportField[] = [
  'code',
  'voucher_type',
  'value',
  'discount_type',
  'campaign',
  'redemption_quantity',
  'redemption_count',
  'active',
  'customer_id',
];
/**
 * The publication fields of OA ExportPublicationFields (readOnly-openAPI.json "Export Publication
 * Fields"); `metadata.<key>` too. The OA's defaults table (POST /v1/exports) lists `code`,
 * `customer_id`, `date`, `channel`: `code` is the enum's `voucher_code`.
 */
export const PUBLICATION_EXPORT_FIELDS = [
  'voucher_code',
  'customer_id',
  'customer_source_id',
  'date',
  'channel',
  'campaign',
  'is_winner',
  'metadata',
] as const;
export type PublicationExportField = (typeof PUBLICATION_EXPORT_FIELDS)[number];
export const DEFAULT_PUBLICATION_EXPORT_FIELDS: PublicationExportField[] = ['voucher_code', 'customer_id', 'date', 'channel'];
export const EXPORT_ORDERS = ['created_at', '-created_at'] as const;
export const MAX_EXPORT_FIELDS = 100;

/**
 * POST /v1/exports. Field names are checked by the service (400 invalid_export_fields) and the
 * filter by the segment filter parser, so that each mistake gets its own Voucherify error key.
 */
export const exportCreateSchema = z.object({
  exported_object: z.string().min(1),
  parameters: z
    .object({
      order: z.string().max(64).optional(),
      fields: z.array(z.string().min(1).max(200)).max(MAX_EXPORT_FIELDS).optional(),
      filters: z.record(z.string(), z.unknown()).optional(),
      // OA ExportVoucherBase.parameters.campaign_id: the campaign whose vouchers are exported.
      campaign_id: z.string().min(1).max(100).optional(),
      /**
       * Not in the OA: cells as stored. By default a cell that would start a spreadsheet formula
       * (= + - @ tab CR) is written with a leading ' (OWASP CSV injection); the import removes it.
       */
      raw_values: z
        .boolean()
        .optional()
        .describe(
          "Not in Voucherify's API. Default false: a cell that starts with = + - @ tab or CR (a negative number excepted) is written with a leading ' so that spreadsheets do not run it as a formula (OWASP CSV injection), and the CSV import removes that ' again. true: every cell exactly as stored.",
        ),
    })
    .optional(),
});
export type ExportCreate = z.output<typeof exportCreateSchema>;

export const exportListQuerySchema = z
  .object({
    limit: intParam(1, 100).optional(),
    page: intParam(1, 99).optional(),
    order: z.enum(EXPORT_ORDERS).optional(),
  })
  .transform((q) => ({ limit: q.limit ?? 10, page: q.page ?? 1, order: q.order ?? '-created_at' }));

/** GET /v1/exports/{id}/download: the signed token of the URL. */
export const exportDownloadQuerySchema = z.object({ token: z.string().max(200).optional() });
