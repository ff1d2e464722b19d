import { isPrototypeKey, PROTOTYPE_KEY_RULE } from '../../../shared/prototype-keys';
import type { AsyncAction, ImportCsvResult } from '../../../shared/types';
import * as asyncActions from '../db/async-actions';
import * as importDb from '../db/customer-import';
import { ADDRESS_FIELDS, TOP_LEVEL_WRITABLE_FIELDS, WRITABLE_FIELDS, type WritablePath } from '../../../shared/customer-fields';
import { d1Refusal } from '../db/errors';
import { ApiError, invalidPayload } from '../errors';
import { type CsvRecord, CsvEncodingError, CsvParser, decodeCsv, restoreFormula } from '../lib/csv';
import { randomId } from '../lib/ids';
import { toIso } from '../lib/time';
import { parseInput } from '../lib/validation';
import { customerImportRowSchema, MAX_IMPORT_ROWS } from '../schemas/imports';
import { operationStatus } from './async-actions';
import * as membership from './membership';

// POST /v1/customers/importCSV. The file arrives as byte chunks (routes/imports.ts reads the
// multipart body as a stream and keeps only the file's bytes). It is read twice, piece by piece,
// and never held as text, rows or records:
// 1. inside the request, every row is decoded, parsed and validated, keeping only counts and the
//    reported failures, so that a bad header, a byte that is not text or too many rows is a 400
//    before anything is written;
// 2. after the 202 (waitUntil), the same rows are read again and written in chunks, one D1 batch
//    per chunk: the chunk's upserts, the refresh of its customers' auto-update segments, and the
//    progress of the action, committed together.
// Peak memory is then the file's bytes plus one chunk (`npm run bench -- import-heap`).

/**
 * The columns Voucherify maps to customer fields: `Id` and the catalogue's columns (`Address_city`
 * …); the header match ignores case and spaces around. A Map: a column named `constructor` must
 * not find Object's.
 */
const MAPPED_COLUMNS: ReadonlyMap<string, MappedField> = new Map<string, MappedField>([
  ['id', 'id'],
  ...WRITABLE_FIELDS.map((f): [string, MappedField] => [f.column, f.path]),
]);
type MappedField = 'id' | WritablePath;

type Column = { kind: 'field'; field: MappedField } | { kind: 'metadata'; key: string };

/** Metadata keys the customers API accepts (metadataSchema). */
const MAX_METADATA_KEY = 100;
/** The report lists this many failures; failed_count counts them all. */
export const MAX_REPORTED_FAILURES = 1_000;

/** A CSV file as the byte chunks it arrived in. */
export type CsvFile = Iterable<Uint8Array>;

type RowKind = 'id' | 'source_id' | 'new';
interface ImportRow {
  /** The data row it came from, counted from 1 without the header (as failures report it). */
  row: number;
  kind: RowKind;
  record: importDb.ImportRecord;
}
type Failure = ImportCsvResult['failed'][number];

/** What reading a row gave: a record to write, or the reason it fails. */
export type RowOutcome = { row: number; write: ImportRow; failure?: undefined } | { row: number; write?: undefined; failure: Failure };

/** What the request learns of the file before answering: counts and the failures to report. */
export interface ImportScan {
  /** Data rows in the file. */
  total: number;
  /** Rows that passed validation, to be written. */
  valid: number;
  /** Rows that failed before any write (malformed, invalid): all counted, the first ones kept. */
  failedCount: number;
  failed: Failure[];
}

/**
 * A cell of a metadata column, typed: integers and decimals become numbers (not when they have a
 * leading zero, like a postal code, or lose precision), true/false (any case, as spreadsheets
 * write TRUE) become booleans; anything else stays text.
 */
export function typedCell(value: string): string | number | boolean {
  if (/^-?(0|[1-9]\d*)(\.\d+)?$/.test(value)) {
    const n = Number(value);
    if (Number.isFinite(n) && (value.includes('.') || Number.isSafeInteger(n))) return n;
    return value;
  }
  const lower = value.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  return value;
}

function readHeader(fields: string[]): Column[] {
  const seen = new Set<string>();
  const columns = fields.map((raw, i): Column => {
    const name = raw.trim();
    const where = `file: column ${i + 1} of the header`;
    if (name === '') throw invalidPayload(`${where} has no name`);
    if (isPrototypeKey(name)) throw invalidPayload(`${where} ("${name}"): ${PROTOTYPE_KEY_RULE}`);
    const mapped = MAPPED_COLUMNS.get(name.toLowerCase());
    const identity = mapped ? `field:${mapped}` : `metadata:${name}`;
    if (seen.has(identity)) throw invalidPayload(`${where} ("${name}") repeats an earlier column`);
    seen.add(identity);
    if (mapped) return { kind: 'field', field: mapped };
    if (name.length > MAX_METADATA_KEY) throw invalidPayload(`${where} is longer than ${MAX_METADATA_KEY} characters`);
    return { kind: 'metadata', key: name };
  });
  if (!columns.some((c) => c.kind === 'field')) {
    throw invalidPayload(
      `file: the header row names no customer column (${[...MAPPED_COLUMNS.keys()].join(', ')}); is the header missing?`,
    );
  }
  return columns;
}

/**
 * The cells of one row as the input of customerImportRowSchema; empty cells are left out. A cell
 * an export neutralised as a formula (`'=…`) reads as the value it was (lib/csv.ts).
 */
function rowInput(columns: Column[], fields: string[]): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  const address: Record<string, string> = {};
  const metadata: Record<string, unknown> = {};
  columns.forEach((column, i) => {
    const cell = fields[i] ?? '';
    if (cell === '') return;
    const value = restoreFormula(cell);
    if (column.kind === 'metadata') metadata[column.key] = typedCell(value);
    else if (column.field.startsWith('address.')) address[column.field.slice('address.'.length)] = value;
    else input[column.field] = value;
  });
  if (Object.keys(address).length > 0) input.address = address;
  if (Object.keys(metadata).length > 0) input.metadata = metadata;
  return input;
}

/** The validated write as the record the import statements read (column names as keys). */
function toRecord(id: string | undefined, write: ReturnType<typeof customerImportRowSchema.parse>['write']): importDb.ImportRecord {
  const record: importDb.ImportRecord = {};
  if (id !== undefined) record.id = id;
  for (const field of TOP_LEVEL_WRITABLE_FIELDS) {
    const value = write[field.path];
    if (typeof value === 'string') record[field.column] = value;
  }
  for (const field of ADDRESS_FIELDS) {
    const value = write.address?.[field.key];
    if (typeof value === 'string') record[field.column] = value;
  }
  if (write.metadata) record.metadata = write.metadata;
  return record;
}

const clip = (value: unknown): string | null => (typeof value === 'string' ? value.slice(0, 255) : null);

/** The file's records, decoded piece by piece; bytes that are not text are a 400 naming the line. */
function* csvRecords(file: CsvFile): Generator<CsvRecord> {
  const parser = new CsvParser();
  try {
    for (const text of decodeCsv(file)) yield* parser.push(text);
  } catch (error) {
    if (error instanceof CsvEncodingError) throw invalidPayload(`file: line ${parser.line} ${error.problem}`);
    throw error;
  }
  yield* parser.end();
}

/**
 * Reads and validates the file row by row. A missing or unusable header, bytes that are not text,
 * or too many rows is a 400 (ApiError); a bad row only fails itself, reported with its row number
 * (data rows from 1). The same file always gives the same outcomes, so it can be read twice.
 */
export function* readImportRows(file: CsvFile): Generator<RowOutcome> {
  const records = csvRecords(file);
  const first = records.next();
  if (first.done) throw invalidPayload('file: the CSV is empty; a header row is required');
  if (first.value.error !== undefined) throw invalidPayload(`file: the header row is malformed: ${first.value.error}`);
  const columns = readHeader(first.value.fields);
  const sourceAt = columns.findIndex((c) => c.kind === 'field' && c.field === 'source_id');

  let row = 0;
  for (const { fields, error } of records) {
    // The OA counts rows without the header: the first data row is row 1 (blank lines do not count).
    row += 1;
    if (row > MAX_IMPORT_ROWS) throw invalidPayload(`file: an import takes at most ${MAX_IMPORT_ROWS} rows`);
    if (error !== undefined) {
      yield { row, failure: { row, source_id: null, reason: `malformed CSV: ${error}` } };
      continue;
    }
    if (fields.length !== columns.length) {
      const reason = `the row has ${fields.length} fields, the header ${columns.length}`;
      yield { row, failure: { row, source_id: clip(restoreFormula(fields[sourceAt] ?? '')) || null, reason } };
      continue;
    }
    const input = rowInput(columns, fields);
    let parsed: ReturnType<typeof customerImportRowSchema.parse>;
    try {
      parsed = parseInput(customerImportRowSchema, input);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      yield { row, failure: { row, source_id: clip(input.source_id), reason: e.details ?? e.message } };
      continue;
    }
    const record = toRecord(parsed.id, parsed.write);
    const kind: RowKind = record.id !== undefined ? 'id' : record.source_id !== undefined ? 'source_id' : 'new';
    yield { row, write: { row, kind, record } };
  }
}

/** The first reading, inside the request: counts and reported failures only. */
export function scanImport(file: CsvFile): ImportScan {
  const scan: ImportScan = { total: 0, valid: 0, failedCount: 0, failed: [] };
  for (const outcome of readImportRows(file)) {
    scan.total += 1;
    if (outcome.write) scan.valid += 1;
    else {
      scan.failedCount += 1;
      if (scan.failed.length < MAX_REPORTED_FAILURES) scan.failed.push(outcome.failure);
    }
  }
  return scan;
}

// ---- Writing, after the 202

/**
 * D1 allows 1,000 queries per Worker invocation (paid plan), and the whole import runs in one (the
 * request's waitUntil). Counting every statement of a batch as a query (the pessimistic reading), a
 * chunk costs its upsert, its progress update, 4 statements per auto-update segment and the one
 * that records pending customers of segments newer than the list it read
 * (membership.refreshMemberships), so chunks grow with the segments to keep the import inside this
 * many, with room left for the request's own queries and for halving a chunk on a source_id clash.
 */
const QUERY_BUDGET = 800;
export const MIN_CHUNK_ROWS = 500;
export const MAX_CHUNK_ROWS = 5_000;
/** Characters of row JSON per chunk: one statement parameter stays well under D1's 2 MB. */
const MAX_CHUNK_CHARS = 500_000;

export function rowsPerChunk(rows: number, activeSegments: number): number {
  const chunks = Math.max(1, Math.floor(QUERY_BUDGET / (3 + 4 * activeSegments)));
  return Math.min(MAX_CHUNK_ROWS, Math.max(MIN_CHUNK_ROWS, Math.ceil(rows / chunks)));
}

/**
 * The file's valid rows in chunks of at most `maxRows` rows and MAX_CHUNK_CHARS of JSON. New
 * customers get their id here, so that the chunk's segment refresh can select them.
 */
function* chunked(file: CsvFile, maxRows: number): Generator<ImportRow[]> {
  let chunk: ImportRow[] = [];
  let chars = 0;
  for (const { write: row } of readImportRows(file)) {
    if (!row) continue; // failed: reported when the import started
    if (row.kind !== 'id') row.record.id = randomId('cust_');
    const size = JSON.stringify(row.record).length;
    if (chunk.length > 0 && (chunk.length >= maxRows || chars + size > MAX_CHUNK_CHARS)) {
      yield chunk;
      chunk = [];
      chars = 0;
    }
    chunk.push(row);
    chars += size;
  }
  if (chunk.length > 0) yield chunk;
}

/** Splits rows so that no group names one id twice (UPDATE … FROM applies one row per target). */
function distinctIdGroups(rows: ImportRow[]): ImportRow[][] {
  const groups: { ids: Set<string>; rows: ImportRow[] }[] = [];
  for (const row of rows) {
    const id = row.record.id as string;
    let group = groups.find((g) => !g.ids.has(id));
    if (!group) groups.push((group = { ids: new Set(), rows: [] }));
    group.ids.add(id);
    group.rows.push(row);
  }
  return groups.map((g) => g.rows);
}

interface Tally {
  created: number;
  updated: number;
  unchanged: number;
  failed: Failure[];
}

type Plan = { statement: D1PreparedStatement; read: (results: { created: number }[], tally: Tally) => void };

/** The statements of one chunk, each with how to read its result into the tally. */
function planChunk(db: D1Database, rows: ImportRow[], active: membership.ActiveSegment[], now: number): Plan[] {
  const byKind = (kind: RowKind) => rows.filter((r) => r.kind === kind);
  const [idRows, sourceRows, newRows] = [byKind('id'), byKind('source_id'), byKind('new')];
  const plans: Plan[] = [];

  if (idRows.length > 0) {
    // Read first in the batch (results are read in order): which ids name no customer.
    let unknown = new Set<string>();
    const isUnknown = (row: ImportRow) => unknown.has(row.record.id as string);
    plans.push({
      statement: importDb.unknownIds(db, [...new Set(idRows.map((r) => r.record.id as string))]),
      read: (results, tally) => {
        unknown = new Set((results as unknown as { id: string }[]).map((r) => r.id));
        for (const row of idRows.filter(isUnknown)) {
          tally.failed.push({ row: row.row, source_id: row.record.source_id ?? null, reason: `Cannot find customer with id ${row.record.id}` });
        }
      },
    });
    for (const group of distinctIdGroups(idRows)) {
      plans.push({
        statement: importDb.updateById(db, group.map((r) => r.record), now),
        read: (results, tally) => {
          tally.updated += results.length;
          tally.unchanged += group.filter((row) => !isUnknown(row)).length - results.length;
        },
      });
    }
  }
  const countUpserts = (count: number) => (results: { created: number }[], tally: Tally) => {
    const created = results.filter((r) => r.created === 1).length;
    tally.created += created;
    tally.updated += results.length - created;
    tally.unchanged += count - results.length;
  };
  if (sourceRows.length > 0) {
    plans.push({ statement: importDb.upsertBySourceId(db, sourceRows.map((r) => r.record), now), read: countUpserts(sourceRows.length) });
  }
  if (newRows.length > 0) {
    plans.push({ statement: importDb.insertNew(db, newRows.map((r) => r.record), now), read: countUpserts(newRows.length) });
  }

  // The chunk's customers, to re-evaluate their auto-update segments in the same transaction.
  const refresh = (selector: { ids: string[] } | { sourceIds: string[] }) =>
    membership.refreshMemberships(db, active, selector, now).map((statement) => ({ statement, read: () => {} }));
  const ids = [...idRows, ...newRows].map((r) => r.record.id as string);
  if (ids.length > 0) plans.push(...refresh({ ids }));
  if (sourceRows.length > 0) plans.push(...refresh({ sourceIds: sourceRows.map((r) => r.record.source_id as string) }));
  return plans;
}

class ImportRun {
  private readonly result: ImportCsvResult;
  private pendingProgress: D1PreparedStatement | undefined;
  private written = 0;

  constructor(
    private readonly db: D1Database,
    private readonly action: AsyncAction,
    private readonly file: CsvFile,
    private readonly scan: ImportScan,
  ) {
    this.result = initialResult(scan);
  }

  async run(): Promise<void> {
    try {
      const active = await membership.loadActiveSegments(this.db);
      for (const chunk of chunked(this.file, rowsPerChunk(this.scan.valid, active.length))) {
        await this.writeChunk(chunk, active);
        this.written += chunk.length;
        // Recorded with the next chunk's batch: no query of its own. The last chunk's is the DONE.
        if (this.written < this.scan.valid) this.pendingProgress = this.update('IN_PROGRESS');
      }
      await this.update('DONE').run();
    } catch (error) {
      console.error(JSON.stringify({ async_action_id: this.action.id, error: String(error), stack: (error as Error).stack }));
      this.result.error = 'The import stopped on an internal error; rows reported as done were written. Importing the file again is safe.';
      await this.update('FAILED').run();
    }
  }

  /**
   * Writes one chunk in one batch. A source_id already held by another customer (a row that names
   * an `Id` and a taken `Source_id`) aborts the batch; the chunk is then halved until that row is
   * alone, and only it fails. Any other error stops the import.
   */
  private async writeChunk(rows: ImportRow[], active: membership.ActiveSegment[]): Promise<void> {
    const plans = planChunk(this.db, rows, active, Date.now());
    const statements = plans.map((p) => p.statement);
    if (this.pendingProgress) statements.push(this.pendingProgress);
    let results: D1Result<{ created: number }>[];
    try {
      results = await this.db.batch<{ created: number }>(statements);
    } catch (error) {
      if (d1Refusal(error) !== 'duplicate_source_id') throw error;
      if (rows.length > 1) {
        const middle = Math.ceil(rows.length / 2);
        await this.writeChunk(rows.slice(0, middle), active);
        await this.writeChunk(rows.slice(middle), active);
        return;
      }
      const [row] = rows as [ImportRow];
      this.fail({ row: row.row, source_id: row.record.source_id ?? null, reason: `source_id ${row.record.source_id} already belongs to another customer` });
      return;
    }
    this.pendingProgress = undefined;
    const tally: Tally = { created: 0, updated: 0, unchanged: 0, failed: [] };
    plans.forEach((plan, i) => plan.read(results[i]?.results ?? [], tally));
    this.result.created_count += tally.created;
    this.result.updated_count += tally.updated;
    this.result.unchanged_count += tally.unchanged;
    this.result.done_count += tally.created + tally.updated + tally.unchanged;
    for (const failure of tally.failed) this.fail(failure);
  }

  private fail(failure: Failure): void {
    this.result.failed_count += 1;
    if (this.result.failed.length < MAX_REPORTED_FAILURES) this.result.failed.push(failure);
    else this.result.failed_truncated = true;
  }

  private update(status: AsyncAction['status']): D1PreparedStatement {
    const now = Date.now();
    const rows = this.scan.valid;
    const progress = status === 'DONE' ? 100 : rows === 0 ? 0 : Math.min(99, Math.floor((100 * this.written) / rows));
    return asyncActions.updateAsyncAction(this.db, this.action.id, {
      status,
      operationStatus: status === 'IN_PROGRESS' ? undefined : operationStatus(this.result, status === 'FAILED'),
      progress,
      result: status === 'IN_PROGRESS' ? this.result : { ...this.result, message: importMessage(this.result) },
      processingTime: now - Date.parse(this.action.created_at),
      updatedAt: now,
    });
  }
}


/** The OA example's wording: "0 customer(s) imported successfully, 2 failed." */
const importMessage = (result: ImportCsvResult): string =>
  `${result.done_count} customer(s) imported successfully, ${result.failed_count} failed.`;

function initialResult(scan: ImportScan): ImportCsvResult {
  const result: ImportCsvResult = {
    total_count: scan.total,
    done_count: 0,
    failed_count: scan.failedCount,
    created_count: 0,
    updated_count: 0,
    unchanged_count: 0,
    failed: [...scan.failed],
  };
  if (scan.failedCount > scan.failed.length) result.failed_truncated = true;
  return result;
}

/**
 * Reads and validates the file, stores the action IN_PROGRESS and hands the writes to
 * `background`, which starts them (the route: in the request's waitUntil), so the caller can
 * answer 202 at once. `file` is read again by the writes: its chunks must stay as they are.
 */
export async function startCustomerImport(
  db: D1Database,
  file: readonly Uint8Array[],
  requestId: string,
  background: (work: () => Promise<void>) => void,
): Promise<AsyncAction> {
  const scan = scanImport(file);
  const now = Date.now();
  const action: AsyncAction = {
    id: randomId('aa_'),
    type: 'CUSTOMERS.IMPORT_CSV',
    status: 'IN_PROGRESS',
    result: initialResult(scan),
    created_at: toIso(now),
    updated_at: toIso(now),
    request_id: requestId,
    progress: 0,
    processing_time: 0,
    object: 'async_action',
  };
  await asyncActions.insertAsyncAction(db, action).run();
  const run = new ImportRun(db, action, file, scan);
  background(() => run.run());
  return action;
}
