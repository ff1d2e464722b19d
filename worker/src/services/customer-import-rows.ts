import { isPrototypeKey, PROTOTYPE_KEY_RULE } from '../../../shared/prototype-keys';
import type { ImportCsvResult } from '../../../shared/types';
import * as importDb from '../db/customer-import';
import { ADDRESS_FIELDS, TOP_LEVEL_WRITABLE_FIELDS, WRITABLE_FIELDS, type WritablePath } from '../../../shared/customer-fields';
import { ApiError, invalidPayload } from '../errors';
import { CsvDecoder, CsvEncodingError, CsvParser, type CsvRecord, restoreFormula } from '../lib/csv';
import { parseInput } from '../lib/parse-input';
import { type ImportRowKind } from '../queue/messages';
import { customerImportRowSchema, MAX_IMPORT_ROWS } from '../schemas/imports';

// A customer import's rows: each decoded, parsed and validated as its bytes arrive (the
// request's part of the import, see services/customer-import.ts).

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

export type RowKind = ImportRowKind;
export interface ImportRow {
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

export const emptyScan = (): ImportScan => ({ total: 0, valid: 0, failedCount: 0, failed: [] });

export function count(scan: ImportScan, outcome: RowOutcome): void {
  scan.total += 1;
  if (outcome.write) scan.valid += 1;
  else {
    scan.failedCount += 1;
    if (scan.failed.length < MAX_REPORTED_FAILURES) scan.failed.push(outcome.failure);
  }
}
