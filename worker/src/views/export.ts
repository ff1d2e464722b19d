import type { Export, ExportList } from '../../../shared/types';
import type { ExportRow } from '../db/exports';
import { toIso } from '../lib/time';

/** The parameters an export was created with, as stored in its row. */
export interface StoredParameters {
  /** Voucher exports: only this campaign's codes (OA ExportVoucherBase.parameters.campaign_id). */
  campaign_id?: string;
  order: string;
  fields: string[];
  filters: Record<string, unknown>;
  response_format: 'CSV';
  /** Only when asked for (parameters.raw_values): stored exports keep the OA's shape otherwise. */
  raw_values?: true;
}

/** OA Export, from its stored row and its download URL (minted afresh by each read). */
export function exportView(row: ExportRow, url: string): Export {
  const parameters = JSON.parse(row.parameters) as StoredParameters;
  return {
    id: row.id,
    object: 'export',
    created_at: toIso(row.created_at),
    // Nothing to wait for: the file is generated when its URL is fetched.
    status: 'DONE',
    channel: 'API',
    exported_object: row.exported_object === 'voucher' || row.exported_object === 'publication' ? row.exported_object : 'customer',
    parameters,
    result: { url },
    user_id: null,
  };
}

/** GET /v1/exports: a page of exports and the count of all. */
export const exportListView = (exports: Export[], total: number): ExportList => ({ object: 'list', data_ref: 'exports', exports, total });
