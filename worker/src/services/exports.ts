import type { Export, ExportList } from '../../../shared/types';
import * as exportsDb from '../db/exports';
import { apiError, notFound } from '../errors';
import { signToken, verifyToken } from '../lib/signed-token';
import { type ExportCreate } from '../schemas/exports';
import {
  campaignObjectCsv,
  campaignObjectExportRow,
  PUBLICATION_EXPORT,
  publicationCell,
  VOUCHER_EXPORT,
  voucherCell,
} from './export-campaign-objects';
import { invalidParams, type StoredParameters } from './export-csv';
import { customerExportRow, customerCsv } from './export-customers';
import { exportListView, exportView } from '../views/export';

// Exports. An export stores only its definition; its CSV is generated when the signed download URL
// is fetched, streamed page by page by its kind (export-customers.ts, export-campaign-objects.ts).

/** How long a download URL works. GET /v1/exports/{id} mints a fresh one each time. */
export const DOWNLOAD_TTL_SECONDS = 60 * 60;
const TOKEN_PURPOSE = 'export-download';

export interface ExportEnv {
  DB: D1Database;
  /** The download token is an HMAC under the server key: rotating the key revokes every URL. */
  APP_TOKEN: string;
}

// ---- The export object

async function downloadUrl(env: ExportEnv, origin: string, id: string, now: number): Promise<string> {
  const token = await signToken(env.APP_TOKEN, TOKEN_PURPOSE, id, Math.floor(now / 1000) + DOWNLOAD_TTL_SECONDS);
  return `${origin}/v1/exports/${encodeURIComponent(id)}/download?token=${token}`;
}

async function toExport(env: ExportEnv, origin: string, row: exportsDb.ExportRow, now: number, scheduled = false): Promise<Export> {
  return exportView(row, await downloadUrl(env, origin, row.id, now), scheduled);
}

/** POST /v1/exports. Checks everything the download will need, so that a stored export works. */
export async function createExport(env: ExportEnv, origin: string, input: ExportCreate): Promise<Export> {
  if (input.exported_object !== 'customer' && input.exported_object !== 'voucher' && input.exported_object !== 'publication') {
    throw invalidParams(
      `exported_object: only "customer", "voucher" and "publication" exports are supported, not "${input.exported_object}"`,
    );
  }
  const now = Date.now();
  const row =
    input.exported_object === 'voucher'
      ? campaignObjectExportRow(input, VOUCHER_EXPORT, now)
      : input.exported_object === 'publication'
        ? campaignObjectExportRow(input, PUBLICATION_EXPORT, now)
        : await customerExportRow(env.DB, input, now);
  await exportsDb.insertExport(env.DB, row).run();
  return toExport(env, origin, row, now, true);
}

async function requireExport(db: D1Database, id: string): Promise<exportsDb.ExportRow> {
  const row = await exportsDb.findExport(db, id);
  if (!row) throw notFound('export', id);
  return row;
}

export async function getExport(env: ExportEnv, origin: string, id: string): Promise<Export> {
  return toExport(env, origin, await requireExport(env.DB, id), Date.now());
}

export async function listExports(
  env: ExportEnv,
  origin: string,
  query: { limit: number; page: number; order: 'created_at' | '-created_at' },
): Promise<ExportList> {
  const { rows, total } = await exportsDb.listExports(env.DB, query.limit, (query.page - 1) * query.limit, query.order);
  const now = Date.now();
  return exportListView(await Promise.all(rows.map((r) => toExport(env, origin, r, now))), total);
}

export async function deleteExport(db: D1Database, id: string): Promise<void> {
  if (!(await exportsDb.deleteExport(db, id))) throw notFound('export', id);
}

// ---- The download

/**
 * GET /v1/exports/{id}/download?token=…: the CSV as a stream. The token is checked before the
 * export is looked up, so the endpoint tells nothing about ids to those without a valid link:
 * no token → 401, a wrong or expired one → 403, then an unknown (deleted) export → 404.
 */
export async function downloadExport(
  env: ExportEnv,
  id: string,
  token: string | undefined,
  now: number,
): Promise<{ filename: string; body: ReadableStream<Uint8Array> }> {
  // No credential at all is a 401, as everywhere under /v1; a token that is wrong or stale, a 403.
  if (token === undefined || token === '')
    throw apiError('unauthorized', 'A download link carries its token: read the export for its result.url.');
  const check = await verifyToken(env.APP_TOKEN, TOKEN_PURPOSE, id, token, now);
  if (check === 'expired') throw apiError('forbidden', 'The download link has expired; read the export again for a fresh one.');
  if (check !== 'valid') throw apiError('forbidden', 'The download link is not valid.');
  const row = await requireExport(env.DB, id);
  const parameters = JSON.parse(row.parameters) as StoredParameters;
  if (row.exported_object === 'voucher')
    return {
      filename: `${row.id}.csv`,
      body: campaignObjectCsv(id, parameters, (...page) => exportsDb.voucherExportPage(env.DB, ...page), voucherCell),
    };
  if (row.exported_object === 'publication')
    return {
      filename: `${row.id}.csv`,
      body: campaignObjectCsv(id, parameters, (...page) => exportsDb.publicationExportPage(env.DB, ...page), publicationCell),
    };
  return { filename: `${row.id}.csv`, body: await customerCsv(env.DB, id, parameters, now) };
}
