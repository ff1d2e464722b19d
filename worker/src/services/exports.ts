import { compileSql, FilterError, type FilterAst, MAX_SQL_PARAMS, parseFilter } from '../../../shared/filter';
import { CUSTOMER_FIELDS } from '../../../shared/customer-fields';
import type { Export, ExportList } from '../../../shared/types';
import type { Predicate } from '../db/customers';
import * as exportsDb from '../db/exports';
import { apiError, notFound } from '../errors';
import { csvRow, neutraliseFormula } from '../lib/csv';
import { randomId } from '../lib/ids';
import { signToken, verifyToken } from '../lib/signed-token';
import { toIso } from '../lib/time';
import { giveWay, MAX_RANGE, RangeSizer } from '../lib/range-sizer';
import {
  CUSTOMER_EXPORT_FIELDS,
  type CustomerExportField,
  DEFAULT_EXPORT_FIELDS,
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
import { membersPredicate } from './segments';

// Customer exports. An export stores only its definition; its CSV is generated when the signed
// download URL is fetched, streamed page by page (keyset pagination on the unique created_at), so
// 100,000 customers never sit in memory at once and every customer comes exactly once.

/** How long a download URL works. GET /v1/exports/{id} mints a fresh one each time. */
export const DOWNLOAD_TTL_SECONDS = 60 * 60;
/**
 * Customers per D1 query while streaming, at most (D1 allows 1,000 queries an invocation: 5 M
 * customers); fewer when the filters are slow, so no query holds the database long.
 */
export const EXPORT_PAGE_SIZE = MAX_RANGE;
/** `segment_id: {conditions: {$is|$in: [...]}}` may name this many segments. */
const MAX_EXPORT_SEGMENTS = 10;
const TOKEN_PURPOSE = 'export-download';

interface StoredParameters {
  /** Voucher exports: only this campaign's codes (OA ExportVoucherBase.parameters.campaign_id). */
  campaign_id?: string;
  order: string;
  fields: string[];
  filters: Record<string, unknown>;
  response_format: 'CSV';
  /** Only when asked for (parameters.raw_values): stored exports keep the OA's shape otherwise. */
  raw_values?: true;
}

interface ExportEnv {
  DB: D1Database;
  /** The download token is an HMAC under the server key: rotating the key revokes every URL. */
  APP_TOKEN: string;
}

const invalidParams = (details: string) => apiError('invalid_export_params', details);

// ---- Fields

type FieldSpec = { column: exportsDb.ExportableColumn; format: 'text' | 'number' | 'instant' | 'json' } | { metadataPath: string[] };

/** How each catalogue column is written into a CSV cell. */
const CELL_FORMAT = new Map<string, 'text' | 'number' | 'instant'>(
  CUSTOMER_FIELDS.map((f) => [f.column, f.kind === 'timestamp' ? 'instant' : f.kind === 'number' ? 'number' : 'text']),
);

function fieldSpec(field: string): FieldSpec | null {
  if (field.startsWith('metadata.')) {
    const path = field.slice('metadata.'.length).split('.');
    return path.every((key) => key.length > 0 && key.length <= 100) ? { metadataPath: path } : null;
  }
  if (!(CUSTOMER_EXPORT_FIELDS as readonly string[]).includes(field)) return null;
  const known = field as CustomerExportField;
  // `birthday` is Voucherify's deprecated alias of birthdate.
  const column: exportsDb.ExportableColumn = known === 'birthday' ? 'birthdate' : known;
  if (column === 'metadata') return { column, format: 'json' };
  return { column, format: CELL_FORMAT.get(column) ?? 'text' };
}

function checkFields(fields: string[] | undefined): string[] {
  const list = fields ?? DEFAULT_EXPORT_FIELDS;
  if (list.length === 0) throw apiError('invalid_export_fields', 'parameters.fields: list at least one field');
  const unknown = list.filter((f) => fieldSpec(f) === null);
  const repeated = list.filter((f, i) => list.indexOf(f) !== i);
  if (unknown.length > 0 || repeated.length > 0) {
    const problems = [
      ...(unknown.length ? [`unknown field(s) ${unknown.map((f) => `"${f}"`).join(', ')}`] : []),
      ...(repeated.length ? [`repeated field(s) ${repeated.map((f) => `"${f}"`).join(', ')}`] : []),
    ];
    throw apiError('invalid_export_fields', `parameters.fields: ${problems.join('; ')}; use ${CUSTOMER_EXPORT_FIELDS.join(', ')} or metadata.<key>`);
  }
  return list;
}

/**
 * A metadata value in a cell: text as is, other JSON values as JSON, nothing for null or absent.
 * `metadata.a.b` reads the key "a.b" when there is one, else the nested key b of a.
 */
function metadataCell(metadata: Record<string, unknown>, path: string[]): string {
  let value: unknown = Object.hasOwn(metadata, path.join('.')) ? metadata[path.join('.')] : undefined;
  if (value === undefined && path.length > 1) {
    value = path.reduce<unknown>(
      (node, key) => (node !== null && typeof node === 'object' && !Array.isArray(node) && Object.hasOwn(node, key) ? (node as Record<string, unknown>)[key] : undefined),
      metadata,
    );
  }
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * How cells are written: by default a value that would start a formula gets a leading ' (OWASP
 * CSV injection: a public client can choose a source_id such as =HYPERLINK(…)); raw, as stored.
 */
const cellWriter = (raw: boolean) => (raw ? csvRow : (cells: string[]) => csvRow(cells.map(neutraliseFormula)));

function rowFormatter(fields: string[], writeRow: (cells: string[]) => string): { columns: exportsDb.ExportableColumn[]; format: (row: exportsDb.ExportPageRow) => string } {
  const specs = fields.map((f) => fieldSpec(f) as FieldSpec);
  const columns = specs.map((s) => ('column' in s ? s.column : 'metadata'));
  const format = (row: exportsDb.ExportPageRow) => {
    let metadata: Record<string, unknown> | undefined;
    const cells = specs.map((spec) => {
      if ('metadataPath' in spec) {
        metadata ??= JSON.parse(String(row.metadata ?? '{}')) as Record<string, unknown>;
        return metadataCell(metadata, spec.metadataPath);
      }
      const value = row[spec.column];
      if (value === null || value === undefined) return '';
      if (spec.format === 'instant') return toIso(Number(value));
      return String(value);
    });
    return writeRow(cells);
  };
  return { columns, format };
}

// ---- Filters

/** `segment_id: {conditions: {$is: ['seg_…']}}` (or `$in` with several: members of any). */
function segmentIds(condition: unknown): string[] {
  const where = 'parameters.filters.segment_id';
  const conditions = (condition as { conditions?: unknown } | null)?.conditions;
  if (typeof conditions !== 'object' || conditions === null || Array.isArray(conditions)) {
    throw invalidParams(`${where}: must look like {"conditions": {"$is": ["seg_…"]}}`);
  }
  const entries = Object.entries(conditions);
  const [op, values] = entries[0] ?? [];
  if (entries.length !== 1 || (op !== '$is' && op !== '$in')) throw invalidParams(`${where}.conditions: takes exactly one operator, $is or $in`);
  const list = Array.isArray(values) ? values : [values];
  if (list.length === 0 || list.length > MAX_EXPORT_SEGMENTS || !list.every((v) => typeof v === 'string' && v.length > 0 && v.length <= 64)) {
    throw invalidParams(`${where}.conditions.${op}: must list 1 to ${MAX_EXPORT_SEGMENTS} segment ids`);
  }
  return [...new Set(list as string[])];
}

function parseExportFilter(filters: Record<string, unknown>): { ast: FilterAst; segments: string[] } {
  const { segment_id, ...rest } = filters;
  try {
    return { ast: parseFilter(rest), segments: segment_id === undefined ? [] : segmentIds(segment_id) };
  } catch (error) {
    if (error instanceof FilterError) {
      throw invalidParams(error.path ? `parameters.filters.${error.path}: ${error.message}` : `parameters.filters: ${error.message}`);
    }
    throw error;
  }
}

/**
 * The export's filters as one predicate over `customers c` at `now`: the segment filter grammar
 * (compileSql), joined by the filter's junction with membership of the named segments.
 */
async function exportPredicate(db: D1Database, filters: Record<string, unknown>, now: number): Promise<Predicate | null> {
  const { ast, segments } = parseExportFilter(filters);
  const parts: Predicate[] = [];
  if (ast.fields.length > 0) parts.push(compileSql(ast, now));
  if (segments.length > 0) {
    const members = await Promise.all(segments.map((id) => membersPredicate(db, id, now)));
    parts.push({ sql: members.map((m) => `coalesce((${m.sql}), 0)`).join(' OR '), params: members.flatMap((m) => m.params) });
  }
  if (parts.length === 0) return null;
  const predicate = {
    sql: parts.map((p) => `(${p.sql})`).join(ast.junction === 'or' ? ' OR ' : ' AND '),
    params: parts.flatMap((p) => p.params),
  };
  // The page query binds the cursor and the limit besides.
  if (predicate.params.length + 2 > MAX_SQL_PARAMS) {
    throw invalidParams(`parameters.filters: the filters need ${predicate.params.length} SQL parameters; at most ${MAX_SQL_PARAMS - 2} fit`);
  }
  return predicate;
}

// ---- The export object

async function downloadUrl(env: ExportEnv, origin: string, id: string, now: number): Promise<string> {
  const token = await signToken(env.APP_TOKEN, TOKEN_PURPOSE, id, Math.floor(now / 1000) + DOWNLOAD_TTL_SECONDS);
  return `${origin}/v1/exports/${encodeURIComponent(id)}/download?token=${token}`;
}

async function toExport(env: ExportEnv, origin: string, row: exportsDb.ExportRow, now: number): Promise<Export> {
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
    result: { url: await downloadUrl(env, origin, row.id, now) },
    user_id: null,
  };
}

/** POST /v1/exports. Checks everything the download will need, so that a stored export works. */
export async function createExport(env: ExportEnv, origin: string, input: ExportCreate): Promise<Export> {
  if (input.exported_object === 'voucher') return createCampaignObjectExport(env, origin, input, VOUCHER_EXPORT);
  if (input.exported_object === 'publication') return createCampaignObjectExport(env, origin, input, PUBLICATION_EXPORT);
  if (input.exported_object !== 'customer') {
    throw invalidParams(`exported_object: only "customer", "voucher" and "publication" exports are supported, not "${input.exported_object}"`);
  }
  const params = input.parameters ?? {};
  const fields = checkFields(params.fields);
  const order = params.order ?? '';
  if (order !== '' && !(EXPORT_ORDERS as readonly string[]).includes(order)) {
    throw invalidParams(`parameters.order: must be ${EXPORT_ORDERS.join(' or ')}`);
  }
  const filters = { junction: 'and', ...params.filters };
  const now = Date.now();
  await exportPredicate(env.DB, filters, now);

  const row: exportsDb.ExportRow = {
    id: randomId('exp_'),
    exported_object: 'customer',
    parameters: JSON.stringify({ order, fields, filters, response_format: 'CSV', ...(params.raw_values ? { raw_values: true } : {}) } satisfies StoredParameters),
    channel: 'API',
    created_at: now,
    updated_at: null,
  };
  await exportsDb.insertExport(env.DB, row).run();
  return toExport(env, origin, row, now);
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
  return { object: 'list', data_ref: 'exports', exports: await Promise.all(rows.map((r) => toExport(env, origin, r, now))), total };
}

export async function deleteExport(db: D1Database, id: string): Promise<void> {
  if (!(await exportsDb.deleteExport(db, id))) throw notFound('export', id);
}

// ---- The download

const encoder = new TextEncoder();

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
  if (token === undefined || token === '') throw apiError('unauthorized', 'A download link carries its token: read the export for its result.url.');
  const check = await verifyToken(env.APP_TOKEN, TOKEN_PURPOSE, id, token, now);
  if (check === 'expired') throw apiError('forbidden', 'The download link has expired; read the export again for a fresh one.');
  if (check !== 'valid') throw apiError('forbidden', 'The download link is not valid.');
  const row = await requireExport(env.DB, id);
  const parameters = JSON.parse(row.parameters) as StoredParameters;
  if (row.exported_object === 'voucher') return { filename: `${row.id}.csv`, body: campaignObjectCsv(id, parameters, (...page) => exportsDb.voucherExportPage(env.DB, ...page), voucherCell) };
  if (row.exported_object === 'publication') return { filename: `${row.id}.csv`, body: campaignObjectCsv(id, parameters, (...page) => exportsDb.publicationExportPage(env.DB, ...page), publicationCell) };
  // Filters are compiled now (clock-relative conditions mean "now"); a deleted segment is a 404 here.
  const where = await exportPredicate(env.DB, parameters.filters, now);
  const writeRow = cellWriter(parameters.raw_values === true);
  const { columns, format } = rowFormatter(parameters.fields, writeRow);
  const descending = parameters.order === '-created_at';

  let cursor = descending ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
  let header: string | null = writeRow(parameters.fields);
  // Without filters a range costs no evaluation: full ranges from the start.
  const sizer = new RangeSizer(where ? 1_000 : EXPORT_PAGE_SIZE, 500);
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        // Ranges where nothing matches add no text: keep walking until there is some, or the end.
        for (;;) {
          const range = { after: cursor, size: sizer.size, descending };
          const started = Date.now();
          const { rows, end } = await exportsDb.exportRange(env.DB, columns, where, range);
          sizer.record(Date.now() - started);
          let text = header ?? '';
          header = null;
          for (const r of rows) text += format(r);
          if (text) controller.enqueue(encoder.encode(text));
          if (end.last === null || end.customers < range.size) {
            controller.close();
            return;
          }
          cursor = end.last;
          if (text) return;
          await giveWay();
        }
      } catch (error) {
        // The status line is gone already: the client sees a truncated body, the operator this log.
        console.error(JSON.stringify({ export_id: id, error: String(error), stack: (error as Error).stack }));
        controller.error(error);
      }
    },
  });
  return { filename: `${row.id}.csv`, body };
}

// ---- Voucher exports (exported_object 'voucher': a campaign's codes)

const VOUCHER_EXPORT_ORDERS = ['created_at', '-created_at'] as const;
/** Rows per D1 read of a voucher or publication export. */
const CAMPAIGN_OBJECT_PAGE = 1000;

/** The campaign of a voucher (or publication) export: parameters.campaign_id, or filters.campaign_id {conditions: {$is|$in: [one id]}}. */
function exportCampaign(params: NonNullable<ExportCreate['parameters']>, what: string): string | undefined {
  const { campaign_id: filter, junction: _junction, ...rest } = params.filters ?? {};
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw invalidParams(`parameters.filters: only campaign_id is supported for ${what}, not ${unknown.map((k) => `"${k}"`).join(', ')}`);
  if (filter === undefined) return params.campaign_id;
  const conditions = (filter as { conditions?: Record<string, unknown> } | null)?.conditions ?? {};
  const values = conditions.$is ?? conditions.$in;
  const list = Array.isArray(values) ? values : [values];
  if (Object.keys(conditions).length !== 1 || list.length !== 1 || typeof list[0] !== 'string') {
    throw invalidParams('parameters.filters.campaign_id: must look like {"conditions": {"$is": ["camp_…"]}} (one campaign)');
  }
  if (params.campaign_id !== undefined && params.campaign_id !== list[0]) throw invalidParams('parameters.campaign_id: names another campaign than filters.campaign_id');
  return list[0] as string;
}

/** What differs between the exports of a campaign's objects (vouchers, publications). */
interface CampaignObjectExport {
  object: 'voucher' | 'publication';
  /** Plural, for messages. */
  noun: string;
  fields: readonly string[];
  defaults: string[];
  orders: readonly string[];
  /** Publications take the campaign only as filters.campaign_id. */
  campaignOnlyInFilters: boolean;
}

const VOUCHER_EXPORT: CampaignObjectExport = {
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
const PUBLICATION_EXPORT: CampaignObjectExport = {
  object: 'publication',
  noun: 'publications',
  fields: PUBLICATION_EXPORT_FIELDS,
  defaults: DEFAULT_PUBLICATION_EXPORT_FIELDS,
  orders: EXPORT_ORDERS,
  campaignOnlyInFilters: true,
};

/** POST /v1/exports of a campaign's vouchers or publications: fields, order and campaign checked, the export stored. */
async function createCampaignObjectExport(env: ExportEnv, origin: string, input: ExportCreate, kind: CampaignObjectExport): Promise<Export> {
  const params = input.parameters ?? {};
  const fields = params.fields ?? kind.defaults;
  if (fields.length === 0) throw apiError('invalid_export_fields', 'parameters.fields: list at least one field');
  const unknown = fields.filter((f) => !kind.fields.includes(f) && !/^metadata\.[^.]{1,100}(\.[^.]{1,100})*$/.test(f));
  if (unknown.length > 0) {
    throw apiError('invalid_export_fields', `parameters.fields: unknown field(s) ${unknown.map((f) => `"${f}"`).join(', ')}; use ${kind.fields.join(', ')} or metadata.<key>`);
  }
  const order = params.order ?? '';
  if (order !== '' && !kind.orders.includes(order)) throw invalidParams(`parameters.order: must be ${kind.orders.join(' or ')} for ${kind.noun}`);
  if (kind.campaignOnlyInFilters && params.campaign_id !== undefined) throw invalidParams(`parameters.campaign_id: ${kind.noun} are filtered by filters.campaign_id`);
  const campaignId = exportCampaign(params, kind.noun);
  const now = Date.now();
  const row: exportsDb.ExportRow = {
    id: randomId('exp_'),
    exported_object: kind.object,
    parameters: JSON.stringify({
      order,
      fields,
      filters: campaignId ? { campaign_id: { conditions: { $in: [campaignId] } } } : {},
      response_format: 'CSV',
      ...(campaignId ? { campaign_id: campaignId } : {}),
      ...(params.raw_values ? { raw_values: true } : {}),
    } satisfies StoredParameters),
    channel: 'API',
    created_at: now,
    updated_at: null,
  };
  await exportsDb.insertExport(env.DB, row).run();
  return toExport(env, origin, row, now);
}

function voucherCell(row: exportsDb.VoucherExportRow, field: string): string {
  if (field.startsWith('metadata.')) return metadataCell(JSON.parse(row.metadata) as Record<string, unknown>, field.slice('metadata.'.length).split('.'));
  const discount = parseDiscount(row.discount);
  const instant = (ms: number | null) => (ms === null ? '' : toIso(ms));
  const known = field as VoucherExportField;
  switch (known) {
    case 'id': return row.id;
    case 'code': return row.code;
    case 'voucher_type': return row.type;
    case 'value': {
      const d = discount as unknown as Record<string, unknown>;
      return String(d.amount_off ?? d.percent_off ?? d.fixed_amount ?? d.unit_off ?? '');
    }
    case 'discount_type': return discount.type;
    case 'discount_effect': return String(discount.effect ?? '');
    case 'discount_amount_limit': return String((discount as unknown as Record<string, unknown>).amount_limit ?? '');
    case 'discount_unit_type': return String((discount as unknown as Record<string, unknown>).unit_type ?? '');
    case 'campaign': return row.campaign ?? '';
    case 'campaign_id': return row.campaign_id ?? '';
    case 'start_date': return instant(row.start_date);
    case 'expiration_date': return instant(row.expiration_date);
    case 'redemption_quantity': return row.quantity === null ? '' : String(row.quantity);
    case 'redemption_count': return String(row.redeemed_quantity);
    case 'active': return row.active === 1 ? 'true' : 'false';
    case 'is_referral_code': return 'false';
    case 'metadata': return row.metadata;
    case 'additional_info': return row.additional_info ?? '';
    case 'customer_id': return row.holder_id ?? '';
    case 'customer_source_id': return row.customer_source_id ?? '';
    case 'created_at': return instant(row.created_at);
    case 'updated_at': return instant(row.updated_at);
    case 'validity_day_of_week': return (rowValidity(row).validity_day_of_week ?? []).join(',');
    case 'validity_timeframe_interval': return rowValidity(row).validity_timeframe?.interval ?? '';
    case 'validity_timeframe_duration': return rowValidity(row).validity_timeframe?.duration ?? '';
  }
}

/**
 * A campaign object's CSV (vouchers, publications), streamed a page at a time: keyset on insertion
 * order (`position`), `-created_at` walking it backwards.
 */
function campaignObjectCsv<R extends { position: number }>(
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


function publicationCell(row: exportsDb.PublicationExportRow, field: string): string {
  if (field.startsWith('metadata.')) return metadataCell(JSON.parse(row.metadata) as Record<string, unknown>, field.slice('metadata.'.length).split('.'));
  switch (field as PublicationExportField) {
    case 'voucher_code': return row.voucher_code;
    case 'customer_id': return row.customer_id;
    case 'customer_source_id': return row.customer_source_id ?? '';
    case 'date': return toIso(row.created_at);
    case 'channel': return row.channel;
    case 'campaign': return row.campaign ?? '';
    // No giveaway campaigns here: no publication is a draw's winner.
    case 'is_winner': return 'false';
    case 'metadata': return row.metadata;
  }
  return '';
}
