import { compileSql, FilterError, type FilterAst, MAX_SQL_PARAMS, parseFilter } from '../../../shared/filter';
import { CUSTOMER_FIELDS } from '../../../shared/customer-fields';
import * as exportsDb from '../db/exports';
import { apiError } from '../errors';
import { toIso } from '../lib/time';
import { giveWay, MAX_RANGE, RangeSizer } from '../lib/range-sizer';
import {
  CUSTOMER_EXPORT_FIELDS,
  type CustomerExportField,
  DEFAULT_EXPORT_FIELDS,
  EXPORT_ORDERS,
  type ExportCreate,
} from '../schemas/exports';
import { membersPredicate } from './segments';
import { cellWriter, encoder, invalidParams, metadataCell, newExportRow, type StoredParameters } from './export-csv';
import type { Sql } from '../db/sql';

// Customer exports: their fields, their filters, and their CSV.

/**
 * Customers per D1 query while streaming, at most (D1 allows 1,000 queries an invocation: 5 M
 * customers); fewer when the filters are slow, so no query holds the database long.
 */
export const EXPORT_PAGE_SIZE = MAX_RANGE;

/** `segment_id: {conditions: {$is|$in: [...]}}` may name this many segments. */
const MAX_EXPORT_SEGMENTS = 10;

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
    throw apiError(
      'invalid_export_fields',
      `parameters.fields: ${problems.join('; ')}; use ${CUSTOMER_EXPORT_FIELDS.join(', ')} or metadata.<key>`,
    );
  }
  return list;
}

function rowFormatter(
  fields: string[],
  writeRow: (cells: string[]) => string,
): { columns: exportsDb.ExportableColumn[]; format: (row: exportsDb.ExportPageRow) => string } {
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
  if (entries.length !== 1 || (op !== '$is' && op !== '$in'))
    throw invalidParams(`${where}.conditions: takes exactly one operator, $is or $in`);
  const list = Array.isArray(values) ? values : [values];
  if (
    list.length === 0 ||
    list.length > MAX_EXPORT_SEGMENTS ||
    !list.every((v) => typeof v === 'string' && v.length > 0 && v.length <= 64)
  ) {
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
async function exportPredicate(db: D1Database, filters: Record<string, unknown>, now: number): Promise<Sql | null> {
  const { ast, segments } = parseExportFilter(filters);
  const fields = ast.fields.length > 0 ? compileSql(ast, now) : null;
  const members = await Promise.all(segments.map((id) => membersPredicate(db, id, now)));
  const predicate = exportsDb.exportFilter(fields, members, ast.junction === 'or' ? 'OR' : 'AND');
  if (!predicate) return null;
  // The page query binds the cursor and the limit besides.
  if (predicate.params.length + 2 > MAX_SQL_PARAMS) {
    throw invalidParams(
      `parameters.filters: the filters need ${predicate.params.length} SQL parameters; at most ${MAX_SQL_PARAMS - 2} fit`,
    );
  }
  return predicate;
}

// ---- The export

/** The stored row of a customer export: fields, order and filters checked, so that the download works. */
export async function customerExportRow(db: D1Database, input: ExportCreate, now: number): Promise<exportsDb.ExportRow> {
  const params = input.parameters ?? {};
  const fields = checkFields(params.fields);
  const order = params.order ?? '';
  if (order !== '' && !(EXPORT_ORDERS as readonly string[]).includes(order)) {
    throw invalidParams(`parameters.order: must be ${EXPORT_ORDERS.join(' or ')}`);
  }
  const filters = { junction: 'and', ...params.filters };
  await exportPredicate(db, filters, now);

  return newExportRow(
    'customer',
    { order, fields, filters, response_format: 'CSV', ...(params.raw_values ? { raw_values: true as const } : {}) },
    now,
  );
}

// ---- The download

/**
 * A customer export's CSV, streamed page by page (keyset pagination on the unique created_at), so
 * 100,000 customers never sit in memory at once and every customer comes exactly once.
 */
export async function customerCsv(
  db: D1Database,
  id: string,
  parameters: StoredParameters,
  now: number,
): Promise<ReadableStream<Uint8Array>> {
  // Filters are compiled now (clock-relative conditions mean "now"); a deleted segment is a 404 here.
  const where = await exportPredicate(db, parameters.filters, now);
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
          const { rows, end } = await exportsDb.exportRange(db, columns, where, range);
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
  return body;
}
