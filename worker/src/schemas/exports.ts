import { z } from 'zod';
import { intParam } from './common';

/** The customer fields an export may list (Voucherify's list), plus `metadata.<key>`. */
export const CUSTOMER_EXPORT_FIELDS = [
  'name',
  'id',
  'description',
  'email',
  'source_id',
  'created_at',
  'address_city',
  'address_state',
  'address_line_1',
  'address_line_2',
  'address_country',
  'address_postal_code',
  'redemptions_total_redeemed',
  'redemptions_total_failed',
  'redemptions_total_succeeded',
  'redemptions_total_rolled_back',
  'redemptions_total_rollback_failed',
  'redemptions_total_rollback_succeeded',
  'orders_total_amount',
  'orders_total_count',
  'orders_average_amount',
  'orders_last_order_amount',
  'orders_last_order_date',
  'loyalty_points',
  'loyalty_referred_customers',
  'updated_at',
  'phone',
  'birthday',
  'birthdate',
  'metadata',
] as const;
export type CustomerExportField = (typeof CUSTOMER_EXPORT_FIELDS)[number];

export const DEFAULT_EXPORT_FIELDS: CustomerExportField[] = ['name', 'source_id'];
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
