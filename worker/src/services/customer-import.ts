import { isPrototypeKey, PROTOTYPE_KEY_RULE } from '../../../shared/prototype-keys';
import type { AsyncAction, ImportCsvResult } from '../../../shared/types';
import * as asyncActions from '../db/async-actions';
import * as importDb from '../db/customer-import';
import { metadataSizeCheck } from '../db/customers';
import { ADDRESS_FIELDS, TOP_LEVEL_WRITABLE_FIELDS, WRITABLE_FIELDS, type WritablePath } from '../../../shared/customer-fields';
import { d1Refusal } from '../db/errors';
import { ApiError, invalidPayload } from '../errors';
import { CsvDecoder, CsvEncodingError, CsvParser, type CsvRecord, restoreFormula } from '../lib/csv';
import { randomId } from '../lib/ids';
import { toIso } from '../lib/time';
import type { PaceLimits, WritePacer } from '../lib/write-pacer';
import { parseInput } from '../lib/parse-input';
import { BatchSender, type ImportChunkMessage, type ImportChunkRow, type ImportRowKind, MAX_MESSAGE_BYTES, utf8Bytes, type WriteQueue } from '../queue/messages';
import { MAX_METADATA_BYTES } from '../schemas/customers';
import { customerImportRowSchema, MAX_IMPORT_ROWS } from '../schemas/imports';
import { operationStatus } from './async-actions';
import * as membership from './membership';

// POST /v1/customers/importCSV, as queue work. The file arrives as byte chunks
// (routes/imports.ts hands them on as the multipart body streams) and is never held whole, as
// text, rows or records:
// 1. inside the request, every row is decoded, parsed and validated as its bytes arrive; the valid
//    rows go out at once as chunk messages on the WRITES queue (each under Queues' 128 KB), and
//    only counts and the reported failures stay. The chunks wait in the queue until the file is
//    accepted: a bad header, a byte that is not text or too many rows is a 400 that drops them,
//    so nothing is written. Accepted, the async action is stored with the number of chunks;
// 2. the queue consumer writes each chunk in parts of whole slices (IMPORT_SLICE_ROWS rows), as
//    many slices per part as fit the bulk writers' D1 time target (lib/write-pacer.ts), pausing
//    between parts so checkouts get the database. A part is one D1 batch: its upserts, the refresh
//    of its customers' auto-update segments, its counts and failures added to the action, and a
//    marker per slice (migration 0014), so a chunk delivered twice, or two runners at once,
//    write and count each slice once. The chunk that completes the count makes the action DONE.
// Peak memory of the request is one chunk and a sendBatch in flight (`npm run bench -- import-heap`).

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

/** A CSV file held in memory, as byte chunks. */
export type CsvFile = Iterable<Uint8Array>;

type RowKind = ImportRowKind;
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

/**
 * Reads and validates a file as its bytes come: push() each byte chunk, then end(); both give the
 * rows completed so far. A missing or unusable header, bytes that are not text, or too many rows
 * is a 400 (ApiError); a bad row only fails itself, reported with its row number (data rows from 1).
 */
export class ImportRowReader {
  private readonly decoder = new CsvDecoder();
  private readonly parser = new CsvParser();
  private columns: Column[] | null = null;
  private sourceAt = -1;
  private row = 0;

  *push(bytes: Uint8Array): Generator<RowOutcome> {
    yield* this.decoded(this.decoder.push(bytes));
  }

  *end(): Generator<RowOutcome> {
    yield* this.decoded(this.decoder.end());
    yield* this.rows(this.parser.end());
    if (this.columns === null) throw invalidPayload('file: the CSV is empty; a header row is required');
  }

  /** Bytes that are not text are a 400 naming the line (the text before them is parsed first). */
  private *decoded(texts: Generator<string>): Generator<RowOutcome> {
    try {
      for (const text of texts) yield* this.rows(this.parser.push(text));
    } catch (error) {
      if (error instanceof CsvEncodingError) throw invalidPayload(`file: line ${this.parser.line} ${error.problem}`);
      throw error;
    }
  }

  private *rows(records: Iterable<CsvRecord>): Generator<RowOutcome> {
    for (const record of records) {
      if (this.columns === null) {
        if (record.error !== undefined) throw invalidPayload(`file: the header row is malformed: ${record.error}`);
        this.columns = readHeader(record.fields);
        this.sourceAt = this.columns.findIndex((c) => c.kind === 'field' && c.field === 'source_id');
        continue;
      }
      yield this.outcome(this.columns, record);
    }
  }

  private outcome(columns: Column[], { fields, error }: CsvRecord): RowOutcome {
    // The OA counts rows without the header: the first data row is row 1 (blank lines do not count).
    const row = (this.row += 1);
    if (row > MAX_IMPORT_ROWS) throw invalidPayload(`file: an import takes at most ${MAX_IMPORT_ROWS} rows`);
    if (error !== undefined) return { row, failure: { row, source_id: null, reason: `malformed CSV: ${error}` } };
    if (fields.length !== columns.length) {
      const reason = `the row has ${fields.length} fields, the header ${columns.length}`;
      return { row, failure: { row, source_id: clip(restoreFormula(fields[this.sourceAt] ?? '')) || null, reason } };
    }
    const input = rowInput(columns, fields);
    let parsed: ReturnType<typeof customerImportRowSchema.parse>;
    try {
      parsed = parseInput(customerImportRowSchema, input);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      return { row, failure: { row, source_id: clip(input.source_id), reason: e.details ?? e.message } };
    }
    const record = toRecord(parsed.id, parsed.write);
    const kind: RowKind = record.id !== undefined ? 'id' : record.source_id !== undefined ? 'source_id' : 'new';
    return { row, write: { row, kind, record } };
  }
}

/** The outcome of every row of a file held in memory. */
export function* readImportRows(file: CsvFile): Generator<RowOutcome> {
  const reader = new ImportRowReader();
  for (const bytes of file) yield* reader.push(bytes);
  yield* reader.end();
}

/** Counts and reported failures of a file held in memory (what the request learns of it). */
export function scanImport(file: CsvFile): ImportScan {
  const scan = emptyScan();
  for (const outcome of readImportRows(file)) count(scan, outcome);
  return scan;
}

const emptyScan = (): ImportScan => ({ total: 0, valid: 0, failedCount: 0, failed: [] });

function count(scan: ImportScan, outcome: RowOutcome): void {
  scan.total += 1;
  if (outcome.write) scan.valid += 1;
  else {
    scan.failedCount += 1;
    if (scan.failed.length < MAX_REPORTED_FAILURES) scan.failed.push(outcome.failure);
  }
}

// ---- The request: read, validate and send

/**
 * Bytes of one chunk message: Queues take messages under 128 KB (MAX_MESSAGE_BYTES), this leaves
 * room for the envelope. A valid row is far smaller (metadata at most 32 KB as JSON, text columns
 * 255 characters), so every row fits a chunk.
 */
export const MAX_CHUNK_BYTES = 120_000;
/** Rows per chunk, however small: one upsert of json_each over this many rows stays short. */
export const MAX_CHUNK_ROWS = 5_000;
const ENVELOPE_BYTES = 200;

/** Gathers valid rows into chunk messages of at most MAX_CHUNK_BYTES and MAX_CHUNK_ROWS. */
class ChunkBuilder {
  private rows: ImportChunkRow[] = [];
  private bytes = ENVELOPE_BYTES;
  count = 0;

  constructor(
    private readonly actionId: string,
    private readonly at: number,
  ) {}

  /**
   * Adds a row; returns the chunk it completed, if any. A row that may create a customer gets the
   * new id here, once, so a chunk written twice names the same customers.
   */
  add(row: ImportRow): { message: ImportChunkMessage; bytes: number } | null {
    if (row.kind !== 'id') row.record.id = randomId('cust_');
    const entry: ImportChunkRow = [row.row, row.kind, row.record];
    const size = utf8Bytes(JSON.stringify(entry)) + 1;
    const full = this.rows.length >= MAX_CHUNK_ROWS || this.bytes + size > MAX_CHUNK_BYTES ? this.take() : null;
    this.rows.push(entry);
    this.bytes += size;
    return full;
  }

  take(): { message: ImportChunkMessage; bytes: number } | null {
    if (this.rows.length === 0) return null;
    const message: ImportChunkMessage = { kind: 'import_chunk', id: randomId('ich_'), at: this.at, action_id: this.actionId, rows: this.rows };
    const bytes = this.bytes;
    this.rows = [];
    this.bytes = ENVELOPE_BYTES;
    this.count += 1;
    return { message, bytes };
  }
}

/**
 * Rows read between two turns given to the isolate's other requests. Reading and validating a
 * row is CPU only, and a network read or a queue send (the only awaits that wait) may come
 * thousands of rows apart: measured locally, a 50,000-row file held every validate and redeem
 * of the same isolate for a second. A turn every 500 rows (a few ms of work) lets them in.
 */
const ROWS_PER_TURN = 500;
const nextTurn = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Reads and validates the file as it arrives, sends its valid rows as chunk messages, then stores
 * the action (IN_PROGRESS with the number of chunks; DONE when there is nothing to write) and
 * returns it, for the 202. A refused file (ApiError) leaves no action, and its chunks are dropped.
 */
export async function startCustomerImport(
  db: D1Database,
  queue: WriteQueue,
  file: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  requestId: string,
): Promise<AsyncAction> {
  const startedAt = Date.now();
  const actionId = randomId('aa_');
  await importDb.receiveImport(db, actionId, startedAt).run();
  const scan = emptyScan();
  const chunks = new ChunkBuilder(actionId, startedAt);
  const sender = new BatchSender(queue);
  try {
    const reader = new ImportRowReader();
    const take = async (outcomes: Iterable<RowOutcome>) => {
      for (const outcome of outcomes) {
        if (scan.total % ROWS_PER_TURN === ROWS_PER_TURN - 1) await nextTurn();
        count(scan, outcome);
        const full = outcome.write ? chunks.add(outcome.write) : null;
        if (full) await sender.add(full.message, full.bytes);
      }
    };
    for await (const bytes of file) await take(reader.push(bytes));
    await take(reader.end());
    const last = chunks.take();
    if (last) await sender.add(last.message, last.bytes);
    await sender.flush();
  } catch (error) {
    // Should this delete fail too, the chunks wait RECEIVING_LIMIT_MS and are dropped then.
    await importDb
      .refuseImport(db, actionId)
      .run()
      .catch((e: unknown) => console.error(JSON.stringify({ async_action_id: actionId, error: String(e) })));
    throw error;
  }

  const now = Date.now();
  const result = initialResult(scan);
  const done = chunks.count === 0;
  const action: AsyncAction = {
    id: actionId,
    type: 'CUSTOMERS.IMPORT_CSV',
    status: done ? 'DONE' : 'IN_PROGRESS',
    result: done ? finishedResult(result) : result,
    created_at: toIso(startedAt),
    updated_at: toIso(now),
    request_id: requestId,
    progress: done ? 100 : 0,
    processing_time: done ? now - startedAt : 0,
    object: 'async_action',
  };
  if (done) action.operation_status = operationStatus(result);
  await db.batch([asyncActions.insertAsyncAction(db, action), importDb.acceptImport(db, actionId, chunks.count)]);
  return action;
}

// ---- The queue consumer: one chunk

/** What a job asks of the consumer: nothing (done: ack), or to run it again after a delay. */
export type JobOutcome = void | { retryAfterSeconds: number };

/** A request reading a file takes less than this; chunks of an import still unaccepted after it are dropped. */
const RECEIVING_LIMIT_MS = 15 * 60_000;

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

/**
 * The writes of some rows, each followed by the statement that counts what it did in the part's
 * import_chunks row (db/customer-import.ts: changes() of the statement before), then the refresh
 * of their customers' auto-update segments.
 */
function rowWrites(db: D1Database, partId: string, rows: ImportRow[], active: membership.ActiveSegment[], now: number): D1PreparedStatement[] {
  const byKind = (kind: RowKind) => rows.filter((r) => r.kind === kind);
  const [idRows, sourceRows, newRows] = [byKind('id'), byKind('source_id'), byKind('new')];
  const statements: D1PreparedStatement[] = [];
  if (idRows.length > 0) {
    const reason = (row: ImportRow) => `Cannot find customer with id ${row.record.id}`;
    statements.push(
      importDb.countUnknownIds(
        db,
        partId,
        idRows.map((row) => ({ id: row.record.id as string, failure: { row: row.row, source_id: row.record.source_id ?? null, reason: reason(row) } })),
      ),
    );
    for (const group of distinctIdGroups(idRows)) {
      statements.push(importDb.updateById(db, group.map((r) => r.record), now), importDb.countIdUpdates(db, partId, group.map((r) => r.record.id as string)));
    }
  }
  if (sourceRows.length > 0) {
    statements.push(
      importDb.countNewSourceIds(db, partId, sourceRows.map((r) => r.record.source_id as string)),
      importDb.upsertBySourceId(db, sourceRows.map((r) => r.record), now),
      importDb.countSourceUpserts(db, partId, sourceRows.length),
    );
  }
  if (newRows.length > 0) statements.push(importDb.insertNew(db, newRows.map((r) => r.record), now), importDb.countInserted(db, partId));
  // Metadata cells merge into what is stored: the size guard rolls the part back when a customer
  // would then store more than the limit (the part is split until that row is alone, and failed).
  const withMetadata = rows.filter((r) => r.record.metadata !== undefined);
  if (withMetadata.length > 0) {
    const byId = withMetadata.filter((r) => r.kind !== 'source_id').map((r) => r.record.id as string);
    const bySourceId = withMetadata.filter((r) => r.kind === 'source_id').map((r) => r.record.source_id as string);
    statements.push(metadataSizeCheck(db, { ids: byId, sourceIds: bySourceId }, MAX_METADATA_BYTES));
  }

  const ids = [...idRows, ...newRows].map((r) => r.record.id as string);
  if (ids.length > 0) statements.push(...membership.refreshMemberships(db, active, { ids }, now));
  if (sourceRows.length > 0) statements.push(...membership.refreshMemberships(db, active, { sourceIds: sourceRows.map((r) => r.record.source_id as string) }, now));
  return statements;
}

/** A delivery's allowance of D1 statements, shared by its messages (1,000 queries per invocation). */
export interface StatementBudget {
  statements: number;
}

/**
 * Rows of one slice: the unit a part of a chunk is sized in, and the grain of its markers. Every
 * runner of a chunk cuts it into the same slices, whatever size its pacer chose, so markers of
 * two runners collide instead of overlapping. 50: a chunk of 5,000 rows leaves 100 markers.
 */
export const IMPORT_SLICE_ROWS = 50;

/** Slices per part: 500 rows to start with, one slice at least, a whole chunk at most. */
export const IMPORT_PACE: PaceLimits = { initial: 10, min: 1, max: Math.ceil(MAX_CHUNK_ROWS / IMPORT_SLICE_ROWS) };

/** A slice's path in its chunk: fixed width, so no slice's marker is a prefix of another's. */
const slicePath = (index: number): string => String(index).padStart(3, '0');

/**
 * Writes one chunk of an import (the consumer's import_chunk job). Chunks that arrive while the
 * request still reads the file wait; those of a refused file, or of a finished action, are
 * dropped. The chunk is written in parts of whole slices sized by `pacer`, each part one batch
 * with a marker per slice `<id>/<slice>`; when a row takes a source_id held by another customer
 * the part fails, its slices are written one by one, and the failing slice is halved until that
 * row is alone, each half with its own marker `<id>/<slice><path>`. A redelivered chunk skips the
 * slices written and splits where the last attempt did. Then, if every chunk is written, the
 * action is finished.
 */
export async function writeImportChunk(
  db: D1Database,
  message: ImportChunkMessage,
  segments: () => Promise<membership.ActiveSegment[]>,
  budget: StatementBudget,
  pacer: WritePacer,
): Promise<JobOutcome> {
  const state = await importDb.findImport(db, message.action_id);
  if (!state) return; // a refused file
  if (state.chunks === null) {
    const waited = Date.now() - state.created_at;
    if (waited > RECEIVING_LIMIT_MS) return; // the request stopped before accepting the file
    return { retryAfterSeconds: Math.min(30, Math.max(1, Math.ceil(waited / 4_000))) };
  }
  if (state.status !== 'IN_PROGRESS') return;
  const applied = new Set(await importDb.appliedChunkParts(db, message.id));
  if (!applied.has(message.id)) {
    const rows: ImportRow[] = message.rows.map(([row, kind, record]) => ({ row, kind, record }));
    try {
      await new ChunkWriter(db, message, await segments(), applied, budget, pacer).writeChunk(rows);
    } catch (error) {
      // The parts written are marked: the next delivery goes on from them.
      if (error instanceof OutOfBudget) return { retryAfterSeconds: 0 };
      throw error;
    }
  }
  await finishImportIfComplete(db, message.action_id);
}

class OutOfBudget extends Error {}

class ChunkWriter {
  constructor(
    private readonly db: D1Database,
    private readonly message: ImportChunkMessage,
    private readonly active: membership.ActiveSegment[],
    private applied: Set<string>,
    private readonly budget: StatementBudget,
    private readonly pacer: WritePacer,
  ) {}

  /** Whether the part at `path` was split: one of its halves is written. */
  private splitBefore(path: string): boolean {
    const partId = path === '' ? this.message.id : `${this.message.id}/${path}`;
    return [...this.applied].some((id) => id.startsWith(`${this.message.id}/${path}`) && id !== partId);
  }

  /** Writes the chunk's slices not written yet, in parts sized by the pacer, then marks the chunk done. */
  async writeChunk(rows: ImportRow[]): Promise<void> {
    const { db, message } = this;
    // Markers of a chunk halved as a whole (before chunks were written in slices): go on that way.
    if ([...this.applied].some((id) => /^[LR]/.test(id.slice(message.id.length + 1)))) return this.write(rows, '');
    const sliceCount = Math.ceil(rows.length / IMPORT_SLICE_ROWS);
    const sliceId = (index: number) => `${message.id}/${slicePath(index)}`;
    const sliceRows = (from: number, count: number) => rows.slice(from * IMPORT_SLICE_ROWS, (from + count) * IMPORT_SLICE_ROWS);
    /** Slices before this one are written one by one: a part over them failed on a taken source_id. */
    let singlesUntil = 0;
    for (;;) {
      const pending: number[] = [];
      for (let i = 0; i < sliceCount; i++) if (!this.applied.has(sliceId(i))) pending.push(i);
      const first = pending[0];
      if (first === undefined) break;
      // A slice split before (by this runner or an earlier delivery): its halves, as then.
      if (this.splitBefore(slicePath(first))) {
        await this.write(sliceRows(first, 1), slicePath(first));
        continue;
      }
      const most = first < singlesUntil ? 1 : this.pacer.size;
      let count = 1;
      while (count < most && pending[count] === first + count && !this.splitBefore(slicePath(first + count))) count++;
      const ids = Array.from({ length: count }, (_, i) => sliceId(first + i));
      const partId = ids[0] as string;
      const completes = count === pending.length;
      const now = Date.now();
      const statements = [
        importDb.openChunkPart(db, partId, message.action_id, [], now),
        ...(count > 1 ? [importDb.openChunkMarkers(db, ids.slice(1), message.action_id, now)] : []),
        ...rowWrites(db, partId, sliceRows(first, count), this.active, now),
        importDb.addChunkPartToAction(db, message.action_id, partId, MAX_REPORTED_FAILURES, now),
        // The part that leaves nothing pending also marks the chunk done.
        ...(completes ? [importDb.openChunkPart(db, message.id, message.action_id, [], now), ...importDb.completeChunk(db, message.action_id)] : []),
      ];
      const outcome = await this.run(statements, count);
      if (outcome === 'written') {
        for (const id of completes ? [...ids, message.id] : ids) this.applied.add(id);
      } else if (outcome === 'taken') {
        // Another runner wrote some of these slices meanwhile: go on from what D1 holds.
        this.applied = new Set(await importDb.appliedChunkParts(db, message.id));
      } else if (count > 1) {
        singlesUntil = first + count;
      } else {
        await this.write(sliceRows(first, 1), slicePath(first));
      }
    }
    if (!this.applied.has(message.id)) {
      await this.run([importDb.openChunkPart(db, message.id, message.action_id, [], Date.now()), ...importDb.completeChunk(db, message.action_id)], 0);
    }
  }

  /**
   * Writes `rows` as the part at `path`, halving it while a row takes another customer's
   * source_id: '' for a whole chunk (as chunks were written before slices), a slice's path for a
   * slice; L and R appended for halves. The part's own marker closes it when its halves are done.
   */
  async write(rows: ImportRow[], path: string): Promise<void> {
    const { db, message } = this;
    const partId = path === '' ? message.id : `${message.id}/${path}`;
    if (this.applied.has(partId)) return;
    const close = () => [
      importDb.addChunkPartToAction(db, message.action_id, partId, MAX_REPORTED_FAILURES, Date.now()),
      ...(path === '' ? importDb.completeChunk(db, message.action_id) : []),
    ];
    if (!this.splitBefore(path)) {
      const now = Date.now();
      const outcome = await this.run([importDb.openChunkPart(db, partId, message.action_id, [], now), ...rowWrites(db, partId, rows, this.active, now), ...close()], units(rows));
      this.applied.add(partId);
      if (outcome === 'written' || outcome === 'taken') return;
      this.applied.delete(partId);
      if (rows.length === 1) {
        const [row] = rows as [ImportRow];
        const reason =
          outcome === 'duplicate_source_id'
            ? `source_id ${row.record.source_id} already belongs to another customer`
            : `the customer's metadata would be more than ${MAX_METADATA_BYTES} bytes as JSON once this row's metadata is merged into it`;
        const failure = { row: row.row, source_id: row.record.source_id ?? null, reason };
        await this.run([importDb.openChunkPart(db, partId, message.action_id, [failure], Date.now()), ...close()], 0);
        this.applied.add(partId);
        return;
      }
    }
    const middle = Math.ceil(rows.length / 2);
    await this.write(rows.slice(0, middle), `${path}L`);
    await this.write(rows.slice(middle), `${path}R`);
    await this.run([importDb.openChunkPart(db, partId, message.action_id, [], Date.now()), ...(path === '' ? importDb.completeChunk(db, message.action_id) : [])], 0);
    this.applied.add(partId);
  }

  /**
   * One batch of `slices` slices through the pacer. `written`, or `taken`: a marker was written
   * meanwhile (another delivery), so the part, or some of its slices, is done; or a taken
   * source_id or metadata past the limit, to report.
   */
  private async run(statements: D1PreparedStatement[], slices: number): Promise<'written' | 'taken' | 'duplicate_source_id' | 'customer_metadata_too_large'> {
    if (statements.length > this.budget.statements) throw new OutOfBudget();
    this.budget.statements -= statements.length;
    try {
      await this.pacer.write(slices, () => this.db.batch(statements));
      return 'written';
    } catch (error) {
      if (importDb.isChunkPartApplied(error)) return 'taken';
      const refusal = d1Refusal(error);
      if (refusal === 'duplicate_source_id' || refusal === 'customer_metadata_too_large') return refusal;
      throw error;
    }
  }
}

/** The rows of a half-slice, as the pacer counts them: in slices. */
const units = (rows: ImportRow[]): number => rows.length / IMPORT_SLICE_ROWS;

/** Finishes the action once every chunk is written: any runner may, the first one does (WHERE status = IN_PROGRESS). */
async function finishImportIfComplete(db: D1Database, actionId: string): Promise<void> {
  const state = await importDb.findImport(db, actionId);
  if (!state || state.chunks === null || state.chunks_done < state.chunks || state.status !== 'IN_PROGRESS') return;
  const action = await asyncActions.findAsyncAction(db, actionId);
  if (!action) return;
  const result = action.result as ImportCsvResult;
  const now = Date.now();
  await asyncActions
    .updateAsyncAction(db, actionId, {
      status: 'DONE',
      operationStatus: operationStatus(result),
      progress: 100,
      result: finishedResult(result),
      processingTime: now - Date.parse(action.created_at),
      updatedAt: now,
    })
    .run();
}

/** A chunk that failed past its retries (the dead-letter queue): the import cannot finish. */
export async function failImport(db: D1Database, actionId: string): Promise<void> {
  const action = await asyncActions.findAsyncAction(db, actionId);
  if (!action || action.status !== 'IN_PROGRESS') return;
  const result = action.result as ImportCsvResult;
  result.error = 'The import stopped on an internal error; rows reported as done were written. Importing the file again is safe.';
  const now = Date.now();
  await asyncActions
    .updateAsyncAction(db, actionId, {
      status: 'FAILED',
      operationStatus: operationStatus(result, true),
      progress: action.progress,
      result,
      processingTime: now - Date.parse(action.created_at),
      updatedAt: now,
    })
    .run();
}

/** The OA example's wording: "0 customer(s) imported successfully, 2 failed." */
const importMessage = (result: ImportCsvResult): string =>
  `${result.done_count} customer(s) imported successfully, ${result.failed_count} failed.`;

/** The result as DONE shows it: failures in row order, flagged when some were left out, and the message. */
function finishedResult(result: ImportCsvResult): ImportCsvResult {
  const finished: ImportCsvResult = { ...result, failed: [...result.failed].sort((a, b) => a.row - b.row) };
  if (result.failed_count > result.failed.length) finished.failed_truncated = true;
  return { ...finished, message: importMessage(finished) };
}

function initialResult(scan: ImportScan): ImportCsvResult {
  return {
    total_count: scan.total,
    done_count: 0,
    failed_count: scan.failedCount,
    created_count: 0,
    updated_count: 0,
    unchanged_count: 0,
    failed: [...scan.failed],
  };
}
