/**
 * RFC 4180 CSV: a parser for imports and the quoting of exports.
 *
 * The parser reads what spreadsheets write: an optional BOM, CRLF, LF or lone CR line breaks,
 * fields in double quotes holding commas, line breaks and `""` for a quote. It is lenient where
 * RFC 4180 is silent in practice (a quote inside an unquoted field is kept as a character) and
 * strict where guessing would change data: text after a closing quote, or a quote that never
 * closes, makes that record malformed; the records around it still parse.
 *
 * It is incremental (CsvParser takes the text piece by piece and keeps only the record in
 * progress), so a 25 MiB import never sits in memory as one string; decodeCsv turns the file's
 * bytes into those pieces, refusing rather than repairing bytes that are not text.
 */

import { hexByte, validUtf8Length } from './text';

/** One record, with the physical line (1-based) it starts on, so reports can point into the file. */
export type CsvRecord = { line: number; fields: string[]; error?: undefined } | { line: number; fields?: undefined; error: string };

/** A field longer than this is not stored (no column takes it: metadata is at most 32 KB as JSON). */
export const MAX_FIELD_CHARS = 65_536;
/** Fields one record may have; more is no customer row, and would grow one array without bound. */
export const MAX_FIELDS = 1_000;

const QUOTE = 34; // "
const COMMA = 44; // ,
const CR = 13;
const LF = 10;

const enum State {
  /** Before a record: line breaks here are blank lines. */
  RecordStart,
  /** After a comma (or the record's first character): a quote opens a quoted field. */
  FieldStart,
  Unquoted,
  Quoted,
  /** A quote inside a quoted field: `""` is a quote, anything else closes the field. */
  QuoteInQuoted,
  /** A malformed record: everything up to the next line break is skipped. */
  SkipLine,
}

export class CsvParser {
  private state = State.RecordStart;
  private fields: string[] = [];
  private field = '';
  private error: string | undefined;
  /** The physical line the next character is on. */
  private lineNumber = 1;
  private recordLine = 1;
  /** The last character taken was a CR: an LF right after it is the same line break. */
  private afterCr = false;
  private started = false;
  private readonly out: CsvRecord[] = [];

  /** The physical line the parser has reached (where the next character of the file sits). */
  get line(): number {
    return this.lineNumber;
  }

  /** Takes the next piece of the text; returns the records it completed. */
  push(text: string): CsvRecord[] {
    let i = 0;
    if (!this.started) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) i = 1;
    }
    const n = text.length;
    while (i < n) {
      const ch = text.charCodeAt(i);
      switch (this.state) {
        case State.RecordStart: {
          if (ch === CR || ch === LF) {
            this.lineBreak(ch); // a blank line is no record
            i += 1;
            break;
          }
          this.afterCr = false;
          this.recordLine = this.lineNumber;
          this.state = State.FieldStart;
          break;
        }
        case State.FieldStart: {
          this.afterCr = false;
          if (ch === QUOTE) {
            this.state = State.Quoted;
            i += 1;
          } else this.state = State.Unquoted;
          break;
        }
        case State.Unquoted: {
          let end = i;
          while (end < n) {
            const c = text.charCodeAt(end);
            if (c === COMMA || c === CR || c === LF) break;
            end += 1;
          }
          this.append(text, i, end);
          i = end;
          if (i < n) i = this.afterField(text.charCodeAt(i), i);
          break;
        }
        case State.Quoted: {
          const close = text.indexOf('"', i);
          const end = close === -1 ? n : close;
          this.countBreaks(text, i, end);
          this.append(text, i, end);
          i = end;
          if (close !== -1) {
            this.afterCr = false;
            this.state = State.QuoteInQuoted;
            i += 1;
          }
          break;
        }
        case State.QuoteInQuoted: {
          if (ch === QUOTE) {
            this.appendText('"');
            this.state = State.Quoted;
            i += 1;
            break;
          }
          if (ch === COMMA || ch === CR || ch === LF) {
            i = this.afterField(ch, i);
            break;
          }
          this.endField();
          this.error ??= `unexpected text after the closing quote of field ${this.fields.length}`;
          this.state = State.SkipLine;
          break;
        }
        case State.SkipLine: {
          let end = i;
          while (end < n) {
            const c = text.charCodeAt(end);
            if (c === CR || c === LF) break;
            end += 1;
          }
          i = end;
          if (i < n) {
            this.endRecord();
            this.lineBreak(text.charCodeAt(i));
            i += 1;
          }
          break;
        }
      }
    }
    return this.out.splice(0);
  }

  /** The end of the text: the record in progress, if any, is complete (or malformed). */
  end(): CsvRecord[] {
    switch (this.state) {
      case State.RecordStart:
        break;
      case State.Quoted:
        this.error ??= 'a quoted field is never closed (a quote is missing)';
        this.endRecord();
        break;
      case State.SkipLine:
        this.endRecord();
        break;
      default:
        this.endField();
        this.endRecord();
    }
    this.state = State.RecordStart;
    return this.out.splice(0);
  }

  /** A comma or a line break after a field, at text[i]; returns where to go on. */
  private afterField(ch: number, i: number): number {
    this.endField();
    if (ch === COMMA) {
      this.state = State.FieldStart;
      return i + 1;
    }
    this.endRecord();
    this.lineBreak(ch);
    return i + 1;
  }

  private append(text: string, from: number, to: number): void {
    if (to > from) this.appendText(text.slice(from, to));
  }

  private appendText(part: string): void {
    if (this.error !== undefined) return;
    if (this.field.length + part.length > MAX_FIELD_CHARS) {
      this.error = `field ${this.fields.length + 1} is longer than ${MAX_FIELD_CHARS.toLocaleString('en')} characters`;
      this.field = '';
      return;
    }
    this.field += part;
  }

  private endField(): void {
    if (this.error === undefined) {
      if (this.fields.length === MAX_FIELDS) {
        this.error = `the record has more than ${MAX_FIELDS.toLocaleString('en')} fields`;
        this.fields = [];
      } else this.fields.push(this.field);
    }
    this.field = '';
  }

  private endRecord(): void {
    this.out.push(this.error === undefined ? { line: this.recordLine, fields: this.fields } : { line: this.recordLine, error: this.error });
    this.fields = [];
    this.field = '';
    this.error = undefined;
    this.state = State.RecordStart;
  }

  /** One line break character (CRLF counts once, as do lone CR and LF). */
  private lineBreak(ch: number): void {
    if (ch === LF && this.afterCr) {
      this.afterCr = false;
      return;
    }
    this.lineNumber += 1;
    this.afterCr = ch === CR;
  }

  private countBreaks(text: string, from: number, to: number): void {
    for (let k = from; k < to; k++) {
      const ch = text.charCodeAt(k);
      if (ch === CR || ch === LF) this.lineBreak(ch);
      else this.afterCr = false;
    }
  }
}

/**
 * Yields every record of `text`. Blank lines are skipped; a malformed record comes back with
 * `error` instead of `fields`, and parsing resumes on the next line.
 */
export function* parseCsv(text: string): Generator<CsvRecord> {
  const parser = new CsvParser();
  yield* parser.push(text);
  yield* parser.end();
}

// ---- Bytes to text

/** The file is not text in its encoding; `problem` completes "line N …". */
export class CsvEncodingError extends Error {
  constructor(readonly problem: string) {
    super(problem);
    this.name = 'CsvEncodingError';
  }
}

type Encoding = 'utf-8' | 'utf-16le' | 'utf-16be';

const NOT_UTF8_HINT = 'save the file as UTF-8 (or as UTF-16 with a byte order mark)';

/**
 * The text of a CSV file given as byte chunks, piece by piece. UTF-8 unless a byte order mark says
 * UTF-16 (little or big endian); the BOM itself is dropped. Bytes that are not valid in the
 * encoding, and NUL characters (a UTF-16 file without a BOM reads as UTF-8 with a NUL in every
 * other byte), are refused: the valid text before them is yielded first, then CsvEncodingError is
 * thrown, so a parser fed with the pieces knows the line.
 */
export function* decodeCsv(chunks: Iterable<Uint8Array>): Generator<string> {
  const decoder = new CsvDecoder();
  for (const chunk of chunks) yield* decoder.push(chunk);
  yield* decoder.end();
}

/** decodeCsv as chunks come (a body as it streams): push() each chunk, then end(). */
export class CsvDecoder {
  private encoding: Encoding | undefined;
  private decoder: TextDecoder | undefined;
  private carry: Uint8Array = new Uint8Array(0);

  *push(chunk: Uint8Array): Generator<string> {
    const bytes = this.carry.length === 0 ? chunk : concat(this.carry, chunk);
    // Three bytes tell every BOM apart; a first chunk shorter than that waits for the next.
    if (this.encoding === undefined && bytes.length < 3) {
      this.carry = bytes;
      return;
    }
    yield* this.piece(bytes, false);
  }

  *end(): Generator<string> {
    if (this.carry.length > 0 || this.encoding === undefined) yield* this.piece(this.carry, true);
  }

  private piece(bytes: Uint8Array, final: boolean): Generator<string> {
    if (this.encoding === undefined) {
      this.encoding = bytes[0] === 0xff && bytes[1] === 0xfe ? 'utf-16le' : bytes[0] === 0xfe && bytes[1] === 0xff ? 'utf-16be' : 'utf-8';
      const bom = this.encoding !== 'utf-8' ? 2 : bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
      bytes = bytes.subarray(bom);
      // The BOM is dropped above, so a U+FEFF inside the text (one per piece) is kept as it is.
      this.decoder = new TextDecoder(this.encoding === 'utf-8' ? 'utf-8' : 'utf-16le', { fatal: true, ignoreBOM: true });
    }
    const encoding = this.encoding;
    const cut = final ? bytes.length : encoding === 'utf-8' ? utf8Boundary(bytes) : utf16Boundary(bytes, encoding === 'utf-16be');
    this.carry = bytes.slice(cut);
    return decodePiece(bytes.subarray(0, cut), encoding, this.decoder as TextDecoder);
  }
}

function* decodePiece(bytes: Uint8Array, encoding: Encoding, decoder: TextDecoder): Generator<string> {
  if (bytes.length === 0) return;
  const units = encoding === 'utf-16be' ? swapBytes(bytes) : bytes;
  let text: string;
  try {
    text = decoder.decode(units);
  } catch {
    if (encoding === 'utf-8') {
      const valid = validUtf8Length(bytes);
      yield decoder.decode(bytes.subarray(0, valid));
      throw new CsvEncodingError(`is not valid UTF-8 (byte ${hexByte(bytes[valid])}); ${NOT_UTF8_HINT}`);
    }
    const { valid, unit } = validUtf16Length(units);
    if (valid > 0) yield decoder.decode(units.subarray(0, valid * 2));
    throw new CsvEncodingError(
      unit === undefined
        ? 'ends in the middle of a UTF-16 character'
        : `is not valid UTF-16 (a lone surrogate 0x${unit.toString(16).toUpperCase()})`,
    );
  }
  const nul = text.indexOf('\0');
  if (nul !== -1) {
    if (nul > 0) yield text.slice(0, nul);
    throw new CsvEncodingError(`holds a NUL character; is the file UTF-16 without a byte order mark? ${NOT_UTF8_HINT}`);
  }
  yield text;
}

/** Where the last complete UTF-8 sequence ends: a sequence cut by the chunk's end waits for the next chunk. */
function utf8Boundary(bytes: Uint8Array): number {
  const n = bytes.length;
  for (let k = 1; k <= 3 && k <= n; k++) {
    const b = bytes[n - k] as number;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back for its lead
    const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return length > k ? n - k : n;
  }
  return n;
}

/** Whole code units, and not a high surrogate whose low half is in the next chunk. */
function utf16Boundary(bytes: Uint8Array, bigEndian: boolean): number {
  let cut = bytes.length - (bytes.length % 2);
  if (cut >= 2) {
    const high = bigEndian ? (bytes[cut - 2] as number) : (bytes[cut - 1] as number);
    if (high >= 0xd8 && high <= 0xdb) cut -= 2;
  }
  return cut;
}

/** Code units (little endian) before the first lone surrogate or a trailing odd byte, and that unit. */
function validUtf16Length(bytes: Uint8Array): { valid: number; unit: number | undefined } {
  const count = Math.floor(bytes.length / 2);
  const unitAt = (k: number) => (bytes[2 * k] as number) | ((bytes[2 * k + 1] as number) << 8);
  for (let k = 0; k < count; k++) {
    const unit = unitAt(k);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = k + 1 < count ? unitAt(k + 1) : -1;
      if (next >= 0xdc00 && next <= 0xdfff) {
        k += 1;
        continue;
      }
      return { valid: k, unit };
    }
    if (unit >= 0xdc00 && unit <= 0xdfff) return { valid: k, unit };
  }
  return { valid: count, unit: undefined };
}

function swapBytes(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let k = 0; k + 1 < bytes.length; k += 2) {
    out[k] = bytes[k + 1] as number;
    out[k + 1] = bytes[k] as number;
  }
  if (bytes.length % 2 === 1) out[bytes.length - 1] = bytes[bytes.length - 1] as number;
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

// ---- Writing

const NEEDS_QUOTES = /[",\r\n]/;

/** One field, quoted when it holds a comma, a quote or a line break (quotes doubled). */
export function csvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** One record with its CRLF terminator, as RFC 4180 writes it. */
export function csvRow(values: readonly string[]): string {
  return values.map(csvField).join(',') + '\r\n';
}

// ---- Formulas (OWASP "CSV Injection")

/**
 * A cell a spreadsheet would run as a formula: it starts with = + - @ tab or CR, possibly after
 * quotes this escape added earlier (so the escape is reversible, see restoreFormula).
 */
const FORMULA_START = /^'*[=+\-@\t\r]/;
/** A negative number is no formula, and stays a number in the spreadsheet. */
const NEGATIVE_NUMBER = /^-\d+(\.\d+)?$/;
/** What neutraliseFormula wrote: one quote more than the value had, before a formula character. */
const NEUTRALISED = /^'+[=+\-@\t\r]/;

/**
 * The cell as an export writes it by default: a value that would start a formula gets a leading
 * `'`, which spreadsheets read as "text follows" and do not display.
 */
export function neutraliseFormula(value: string): string {
  return FORMULA_START.test(value) && !NEGATIVE_NUMBER.test(value) ? `'${value}` : value;
}

/** The inverse of neutraliseFormula, applied to every imported cell: default exports re-import exactly. */
export function restoreFormula(cell: string): string {
  return NEUTRALISED.test(cell) ? cell.slice(1) : cell;
}
