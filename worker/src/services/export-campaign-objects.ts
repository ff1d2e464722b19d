import * as exportsDb from '../db/exports';
import { apiError } from '../errors';
import { toIso } from '../lib/time';
import {
  DEFAULT_PUBLICATION_EXPORT_FIELDS,
  DEFAULT_VOUCHER_EXPORT_FIELDS,
  EXPORT_ORDERS,
  PUBLICATION_EXPORT_FIELDS,
  type PublicationExportField,
  type ExportCreate,
  VOUCHER_EXPORT_FIELDS,
  type VoucherExportField,
} from '../schemas/exports';
import { parseDiscount, rowValidity } from '../db/vouchers';
import { cellWriter, encoder, invalidParams, metadataCell, newExportRow, type StoredParameters } from './export-csv';

// Exports of a campaign's objects: its vouchers (codes) and its publications (who got which code).

// ---- Voucher exports (exported_object 'voucher': a campaign's codes)

const VOUCHER_EXPORT_ORDERS = ['created_at', '-created_at'] as const;
/** Rows per D1 read of a voucher or publication export. */
const CAMPAIGN_OBJECT_PAGE = 1000;

/** The campaign of a voucher (or publication) export: parameters.campaign_id, or filters.campaign_id {conditions: {$is|$in: [one id]}}. */
function exportCampaign(params: NonNullable<ExportCreate['parameters']>, what: string): string | undefined {
  const { campaign_id: filter, junction: _junction, ...rest } = params.filters ?? {};
  const unknown = Object.keys(rest);
  if (unknown.length > 0)
    throw invalidParams(`parameters.filters: only campaign_id is supported for ${what}, not ${unknown.map((k) => `"${k}"`).join(', ')}`);
  if (filter === undefined) return params.campaign_id;
  const conditions = (filter as { conditions?: Record<string, unknown> } | null)?.conditions ?? {};
  const values = conditions.$is ?? conditions.$in;
  const list = Array.isArray(values) ? values : [values];
  if (Object.keys(conditions).length !== 1 || list.length !== 1 || typeof list[0] !== 'string') {
    throw invalidParams('parameters.filters.campaign_id: must look like {"conditions": {"$is": ["camp_…"]}} (one campaign)');
  }
  if (params.campaign_id !== undefined && params.campaign_id !== list[0])
    throw invalidParams('parameters.campaign_id: names another campaign than filters.campaign_id');
  return list[0] as string;
}

/** What differs between the exports of a campaign's objects (vouchers, publications). */
export interface CampaignObjectExport {
  object: 'voucher' | 'publication';
  /** Plural, for messages. */
  noun: string;
  fields: readonly string[];
  defaults: string[];
  orders: readonly string[];
  /** Publications take the campaign only as filters.campaign_id. */
  campaignOnlyInFilters: boolean;
}

export const VOUCHER_EXPORT: CampaignObjectExport = {
  object: 'voucher',
  noun: 'vouchers',
  fields: VOUCHER_EXPORT_FIELDS,
  defaults: DEFAULT_VOUCHER_EXPORT_FIELDS,
  orders: VOUCHER_EXPORT_ORDERS,
  campaignOnlyInFilters: false,
};

/**
 * POST /v1/exports {exported_object: 'publication'}: OA ExportPublicationBase with the fields of
 * ExportPublicationFields. Filters: `campaign_id` as the voucher export takes it (ours: the OA's
 * ExportPublicationFilters names only metadata properties), so a segment distribution's result
 * is "the campaign's publications".
 */
export const PUBLICATION_EXPORT: CampaignObjectExport = {
  object: 'publication',
  noun: 'publications',
  fields: PUBLICATION_EXPORT_FIELDS,
  defaults: DEFAULT_PUBLICATION_EXPORT_FIELDS,
  orders: EXPORT_ORDERS,
  campaignOnlyInFilters: true,
};

/** The stored row of an export of a campaign's vouchers or publications: fields, order and campaign checked. */
export function campaignObjectExportRow(input: ExportCreate, kind: CampaignObjectExport, now: number): exportsDb.ExportRow {
  const params = input.parameters ?? {};
  const fields = params.fields ?? kind.defaults;
  if (fields.length === 0) throw apiError('invalid_export_fields', 'parameters.fields: list at least one field');
  const unknown = fields.filter((f) => !kind.fields.includes(f) && !/^metadata\.[^.]{1,100}(\.[^.]{1,100})*$/.test(f));
  if (unknown.length > 0) {
    throw apiError(
      'invalid_export_fields',
      `parameters.fields: unknown field(s) ${unknown.map((f) => `"${f}"`).join(', ')}; use ${kind.fields.join(', ')} or metadata.<key>`,
    );
  }
  const order = params.order ?? '';
  if (order !== '' && !kind.orders.includes(order))
    throw invalidParams(`parameters.order: must be ${kind.orders.join(' or ')} for ${kind.noun}`);
  if (kind.campaignOnlyInFilters && params.campaign_id !== undefined)
    throw invalidParams(`parameters.campaign_id: ${kind.noun} are filtered by filters.campaign_id`);
  const campaignId = exportCampaign(params, kind.noun);
  return newExportRow(
    kind.object,
    {
      order,
      fields,
      filters: campaignId ? { campaign_id: { conditions: { $in: [campaignId] } } } : {},
      response_format: 'CSV',
      ...(campaignId ? { campaign_id: campaignId } : {}),
      ...(params.raw_values ? { raw_values: true as const } : {}),
    },
    now,
  );
}

export function voucherCell(row: exportsDb.VoucherExportRow, field: string): string {
  if (field.startsWith('metadata.'))
    return metadataCell(JSON.parse(row.metadata) as Record<string, unknown>, field.slice('metadata.'.length).split('.'));
  const discount = parseDiscount(row.discount);
  const instant = (ms: number | null) => (ms === null ? '' : toIso(ms));
  const known = field as VoucherExportField;
  switch (known) {
    case 'id':
      return row.id;
    case 'code':
      return row.code;
    case 'voucher_type':
      return row.type;
    case 'value': {
      const d = discount as unknown as Record<string, unknown>;
      return String(d.amount_off ?? d.percent_off ?? d.fixed_amount ?? d.unit_off ?? '');
    }
    case 'discount_type':
      return discount.type;
    case 'discount_effect':
      return String(discount.effect ?? '');
    case 'discount_amount_limit':
      return String((discount as unknown as Record<string, unknown>).amount_limit ?? '');
    case 'discount_unit_type':
      return String((discount as unknown as Record<string, unknown>).unit_type ?? '');
    case 'campaign':
      return row.campaign ?? '';
    case 'campaign_id':
      return row.campaign_id ?? '';
    case 'start_date':
      return instant(row.start_date);
    case 'expiration_date':
      return instant(row.expiration_date);
    case 'redemption_quantity':
      return row.quantity === null ? '' : String(row.quantity);
    case 'redemption_count':
      return String(row.redeemed_quantity);
    case 'active':
      return row.active === 1 ? 'true' : 'false';
    case 'is_referral_code':
      return 'false';
    case 'metadata':
      return row.metadata;
    case 'additional_info':
      return row.additional_info ?? '';
    case 'customer_id':
      return row.holder_id ?? '';
    case 'customer_source_id':
      return row.customer_source_id ?? '';
    case 'created_at':
      return instant(row.created_at);
    case 'updated_at':
      return instant(row.updated_at);
    case 'validity_day_of_week':
      return (rowValidity(row).validity_day_of_week ?? []).join(',');
    case 'validity_timeframe_interval':
      return rowValidity(row).validity_timeframe?.interval ?? '';
    case 'validity_timeframe_duration':
      return rowValidity(row).validity_timeframe?.duration ?? '';
  }
}

/**
 * A campaign object's CSV (vouchers, publications), streamed a page at a time: keyset on insertion
 * order (`position`), `-created_at` walking it backwards.
 */
export function campaignObjectCsv<R extends { position: number }>(
  id: string,
  parameters: StoredParameters,
  readPage: (campaignId: string | null, cursor: number, size: number, descending: boolean) => Promise<R[]>,
  cell: (row: R, field: string) => string,
): ReadableStream<Uint8Array> {
  const writeRow = cellWriter(parameters.raw_values === true);
  const descending = parameters.order === '-created_at';
  let cursor = descending ? Number.MAX_SAFE_INTEGER : 0;
  let header: string | null = writeRow(parameters.fields);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const rows = await readPage(parameters.campaign_id ?? null, cursor, CAMPAIGN_OBJECT_PAGE, descending);
        let text = header ?? '';
        header = null;
        for (const r of rows) text += writeRow(parameters.fields.map((f) => cell(r, f)));
        if (text) controller.enqueue(encoder.encode(text));
        if (rows.length < CAMPAIGN_OBJECT_PAGE) controller.close();
        else cursor = (rows.at(-1) as R).position;
      } catch (error) {
        console.error(JSON.stringify({ export_id: id, error: String(error) }));
        controller.error(error);
      }
    },
  });
}

// ---- Publication exports (exported_object 'publication': who got which code)

export function publicationCell(row: exportsDb.PublicationExportRow, field: string): string {
  if (field.startsWith('metadata.'))
    return metadataCell(JSON.parse(row.metadata) as Record<string, unknown>, field.slice('metadata.'.length).split('.'));
  switch (field as PublicationExportField) {
    case 'voucher_code':
      return row.voucher_code;
    case 'customer_id':
      return row.customer_id;
    case 'customer_source_id':
      return row.customer_source_id ?? '';
    case 'date':
      return toIso(row.created_at);
    case 'channel':
      return row.channel;
    case 'campaign':
      return row.campaign ?? '';
    // No giveaway campaigns here: no publication is a draw's winner.
    case 'is_winner':
      return 'false';
    case 'metadata':
      return row.metadata;
  }
  return '';
}
