/**
 * @module Moves a fragment's bound values into one JSON array parameter.
 *
 * D1 refuses a statement with more than 100 bound parameters, and one compiled filter may use up
 * to 100 (sql.ts MAX_SQL_PARAMS). A statement that judges many filters at once (the membership
 * refresh of a customer write judges every auto-update segment in one statement) would need their
 * sum. So its text is rewritten: the k-th anonymous `?` becomes `(?1 ->> '$[k]')`, and the values
 * travel as ONE parameter, the JSON array of them all. Nothing is spliced into the text as a
 * literal: every value is still bound, only packed.
 *
 * Types round-trip: `->>` gives a JSON string back as TEXT (escapes decoded), an integer as
 * INTEGER, a fraction as REAL (JSON.stringify writes the shortest text that reads back to the same
 * double) and null as NULL, which is what binding the value itself gives. A JSON list that a
 * filter binds as a string (`json_each(?)`) is a JSON string in the array, so it comes back as the
 * same text. Non-finite numbers have no JSON spelling and are refused.
 */

import type { Sql, SqlValue } from './sql';

/** The placeholder every rewritten value reads from. */
const PARAM = '?1';

/**
 * The fragment with every anonymous `?` read from parameter ?1, a JSON array of its values in
 * order. Placeholders inside string literals, quoted identifiers and comments are not
 * placeholders and are left alone; a numbered or named parameter is refused (it would no longer
 * mean what its author meant).
 *
 * @example
 * ```ts
 * packParams({ sql: 'c.a > ? AND c.b IN (SELECT value FROM json_each(?))', params: [5, '["x"]'] })
 * // { sql: "c.a > (?1 ->> '$[0]') AND c.b IN (SELECT value FROM json_each((?1 ->> '$[1]')))", params: ['[5,"[\\"x\\"]"]'] }
 * ```
 */
export function packParams(fragment: Sql): { sql: string; params: [string] } {
  const { sql: text, params } = fragment;
  let out = '';
  let next = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === "'" || c === '"' || c === '`') {
      const end = closingQuote(text, i, c);
      out += text.slice(i, end);
      i = end;
    } else if (c === '-' && text[i + 1] === '-') {
      const end = text.indexOf('\n', i);
      const stop = end === -1 ? text.length : end;
      out += text.slice(i, stop);
      i = stop;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end === -1 ? text.length : end + 2;
      out += text.slice(i, stop);
      i = stop;
    } else if (c === '?') {
      if (/[0-9]/.test(text[i + 1] ?? '')) throw new TypeError(`packParams: a numbered parameter at ${i} of the fragment`);
      out += `(${PARAM} ->> '$[${next}]')`;
      next++;
      i++;
    } else if ((c === ':' || c === '@' || c === '$') && /[A-Za-z_]/.test(text[i + 1] ?? '') && !/[A-Za-z0-9_]/.test(text[i - 1] ?? '')) {
      throw new TypeError(`packParams: a named parameter at ${i} of the fragment`);
    } else {
      out += c;
      i++;
    }
  }
  if (next !== params.length) throw new TypeError(`packParams: ${next} placeholders for ${params.length} values`);
  return { sql: out, params: [JSON.stringify(params.map(checked))] };
}

/** The index just past the quote that closes the one at `start` (a doubled quote is an escaped one). */
function closingQuote(text: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < text.length) {
    if (text[i] === quote) {
      if (text[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  throw new TypeError(`packParams: an unterminated ${quote} at ${start} of the fragment`);
}

function checked(value: SqlValue): SqlValue {
  if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError(`packParams: ${value} has no JSON spelling`);
  return value;
}
