import type { Export, ExportList } from '../../../shared/types';
import type { ExportRow } from '../db/exports';
import { toIso } from '../lib/time';

/** The parameters an export was created with, as stored in its row. */
export interface StoredParameters {
  /** Voucher exports: only this campaign's codes (OA ExportVoucherBase.parameters.campaign_id). */
  campaign_id?: string;
  /** '' when none was given (the download's default order); never shown as such. */
  order: string;
  fields: string[];
  filters: Record<string, unknown>;
  response_format: 'CSV';
  /** Only when asked for (parameters.raw_values): stored exports keep the OA's shape otherwise. */
  raw_values?: true;
}

/**
 * OA Export, from its stored row and its download URL (minted afresh by each read). `scheduled`:
 * the answer of its creation, which the spec says is SCHEDULED (ExportsCreateResponseBody is a
 * oneOf of Export*Scheduled whose status enum is ['SCHEDULED'], readOnly-openAPI.json:L10527,
 * :L10606); every later read is DONE, as its definition is written and its CSV is generated when
 * the URL is fetched, so there is nothing to wait for. The URL works from the first answer on.
 * `parameters.order` is absent when none was given: the spec's order enums have no empty string
 * (ExportCustomerOrder, readOnly-openAPI.json:L10060).
 */
export function exportView(row: ExportRow, url: string, scheduled = false): Export {
  const { order, ...stored } = JSON.parse(row.parameters) as StoredParameters;
  const parameters = order ? { order, ...stored } : stored;
  return {
    id: row.id,
    object: 'export',
    created_at: toIso(row.created_at),
    status: scheduled ? 'SCHEDULED' : 'DONE',
    channel: 'API',
    exported_object: row.exported_object === 'voucher' || row.exported_object === 'publication' ? row.exported_object : 'customer',
    parameters,
    result: { url },
    user_id: null,
  };
}

/** GET /v1/exports: a page of exports and the count of all. */
export const exportListView = (exports: Export[], total: number): ExportList => ({ object: 'list', data_ref: 'exports', exports, total });
