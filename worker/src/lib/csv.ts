/**
 * RFC 4180 CSV: a parser for imports and the quoting of exports.
 *
 * The parser reads what spreadsheets write: an optional UTF-8 BOM, CRLF, LF or lone CR line
 * breaks, fields in double quotes holding commas, line breaks and `""` for a quote. It is lenient
 * where RFC 4180 is silent in practice (a quote inside an unquoted field is kept as a character)
 * and strict where guessing would change data: text after a closing quote, or a quote that never
 * closes, makes that record malformed; the records around it still parse.
 */

/** One record, with the physical line (1-based) it starts on, so reports can point into the file. */
export type CsvRecord = { line: number; fields: string[]; error?: undefined } | { line: number; fields?: undefined; error: string };

const QUOTE = 34; // "
const COMMA = 44; // ,
const CR = 13;
const LF = 10;

/**
 * Yields every record of `text`. Blank lines are skipped; a malformed record comes back with
 * `error` instead of `fields`, and parsing resumes on the next line.
 */
export function* parseCsv(text: string): Generator<CsvRecord> {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const n = text.length;

  /** Moves past one line break at i (CRLF, LF or CR) and counts it. */
  const skipBreak = () => {
    if (text.charCodeAt(i) === CR && text.charCodeAt(i + 1) === LF) i += 2;
    else i += 1;
    line += 1;
  };
  /** Skips the rest of a malformed record: to the next line break outside quotes, or the end. */
  const skipToLineEnd = () => {
    while (i < n) {
      const ch = text.charCodeAt(i);
      if (ch === CR || ch === LF) {
        skipBreak();
        return;
      }
      i += 1;
    }
  };

  while (i < n) {
    const start = line;
    const first = text.charCodeAt(i);
    if (first === CR || first === LF) {
      skipBreak(); // a blank line is no record
      continue;
    }
    const fields: string[] = [];
    let error: string | undefined;
    for (;;) {
      if (text.charCodeAt(i) === QUOTE) {
        // Quoted field: runs to the next quote not doubled; may hold commas and line breaks.
        i += 1;
        let value = '';
        for (;;) {
          const close = text.indexOf('"', i);
          if (close === -1) {
            error = 'a quoted field is never closed (a quote is missing)';
            line += countBreaks(text, i, n);
            i = n;
            break;
          }
          line += countBreaks(text, i, close);
          value += text.slice(i, close);
          if (text.charCodeAt(close + 1) === QUOTE) {
            value += '"';
            i = close + 2;
            continue;
          }
          i = close + 1;
          break;
        }
        if (error) break;
        fields.push(value);
        const next = text.charCodeAt(i);
        if (i < n && next !== COMMA && next !== CR && next !== LF) {
          error = `unexpected text after the closing quote of field ${fields.length}`;
          skipToLineEnd();
          break;
        }
      } else {
        let end = i;
        while (end < n) {
          const ch = text.charCodeAt(end);
          if (ch === COMMA || ch === CR || ch === LF) break;
          end += 1;
        }
        fields.push(text.slice(i, end));
        i = end;
      }
      // After a field: a comma starts the next one; a line break or the end closes the record.
      if (i >= n) break;
      const sep = text.charCodeAt(i);
      if (sep === COMMA) {
        i += 1;
        continue;
      }
      skipBreak();
      break;
    }
    yield error === undefined ? { line: start, fields } : { line: start, error };
  }
}

/** Line breaks in text[from, to): CRLF counts once, as do lone CR and LF. */
function countBreaks(text: string, from: number, to: number): number {
  let count = 0;
  for (let k = from; k < to; k++) {
    const ch = text.charCodeAt(k);
    if (ch === LF) count += 1;
    else if (ch === CR && text.charCodeAt(k + 1) !== LF) count += 1;
  }
  return count;
}

const NEEDS_QUOTES = /[",\r\n]/;

/** One field, quoted when it holds a comma, a quote or a line break (quotes doubled). */
export function csvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** One record with its CRLF terminator, as RFC 4180 writes it. */
export function csvRow(values: readonly string[]): string {
  return values.map(csvField).join(',') + '\r\n';
}
