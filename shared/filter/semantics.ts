/**
 * @module The meaning of every filter operator, decided once for both back ends.
 *
 * `evaluate()` (JavaScript, one profile) and `compileSql()` (SQLite on D1, many rows) must give every
 * customer the same answer. Whatever could drift between them is decided in this file: which test an
 * operator runs (`planCondition`), the time ranges derived from `now`, case folding, and what counts
 * as a number or a date. Each back end then implements the handful of tests below per field kind.
 *
 * ## General rules
 * - **Operands.** An array, or a single value standing for a one-element array. Operators without an
 *   operand ($has_value, $is_unknown, the calendar windows) take `true`, `""`, `"true"` or `[true]`.
 * - **Several values** in one operator mean any-of for positive operators (`$is: ["a", "b"]` is a or
 *   b) and none-of for the negated ones ($is_not, $not_in, $not_contain).
 * - **Several operators** in one `conditions` object must all hold. `junction` ("and" by default,
 *   any case) combines the field entries. A filter without field entries matches every customer.
 * - **Unknown values.** null, a missing field or metadata key, and the empty string "" are unknown.
 *   Every operator is false on an unknown value, except $is_unknown, $is_not, $not_in and
 *   $not_contain, which are true: "is not X" holds when nothing is known. A value of a type the
 *   operator cannot use (e.g. `$more_than` on the metadata string "abc") behaves the same way.
 * - **Case.** Folding is ASCII-only (A-Z to a-z), exactly what SQLite's built-in `lower()` does, so
 *   non-ASCII letters must match in case ("MÜNCHEN" does not contain "ü"). No Unicode normalisation:
 *   a precomposed "é" and "e" + combining accent are different strings.
 *
 * ## Operators by field kind
 * | Operator | text | number, event count, product count | timestamp, birthdate | metadata value |
 * |---|---|---|---|---|
 * | `$is` `$is_not` | exact and case-sensitive; `email` ASCII case-insensitive | numeric equality | same UTC day as the operand date | JSON equality (below); arrays: some element |
 * | `$in` `$not_in` | as `$is` | as `$is` | - | as `$is` |
 * | `$has_value` `$is_unknown` | not null, not "" | numbers always have a value; not for event or product counts | not null, not "" | present, not null, not ""; `[]` and `{}` have a value |
 * | `$contains` `$not_contain` | substring, ASCII case-insensitive | - | - | string: substring; array: some element JSON-equal to the operand |
 * | `$starts_with` `$ends_with` | prefix / suffix, ASCII case-insensitive | - | - | string values only (arrays: false) |
 * | `$more_than` `$less_than` `$more_than_equal` `$less_than_equal` | - | > < >= <= | in days ago (below) | numeric values only, > < >= <= |
 * | `$before` `$after` | - | - | strictly before / after the instant | ISO date strings only |
 * | `$is_days_ago` ... `$less_than_future` | - | - | day ranges (below) | ISO date strings only |
 * | `$count` `$count_less` `$count_more` | - | event and product counts: count = < > N | - | array length = < > N; not an array: false |
 * | calendar windows | - | - | UTC windows (below) | ISO date strings only |
 * An operator outside this table is refused by `parseFilter`.
 *
 * ## Numbers
 * Operands may be numbers or numeric strings ("3", as Voucherify's dashboard sends them). A stored
 * metadata value is numeric when it is a JSON number or a string matching `-?[0-9]+(\.[0-9]+)?`: no
 * spaces, no "+", no exponent, no leading or trailing dot. Booleans are not numbers. Values compare
 * as IEEE doubles (SQLite `CAST(x AS REAL)`, JavaScript `Number(x)`), so "34", "34.0" and 34 are
 * equal, and integers beyond 2^53 compare rounded in both back ends alike.
 *
 * ## JSON equality (metadata `$is`, `$in`, and `$contains` on arrays)
 * A stored item s equals an operand v when: both are strings and identical (case-sensitive); or
 * both are numeric (above) and numerically equal; or s is a boolean and v is the same boolean or its
 * text "true" / "false"; or s is the text "true" / "false" and v is that boolean. On an array the
 * test is membership: some element equals v (nested arrays and objects never do). Objects equal
 * nothing. Metadata `$is` never compares dates by day: "2026-06-15" is just a string there.
 *
 * ## Dates
 * Accepted spellings, for operands and for metadata strings alike: `YYYY-MM-DD` (00:00:00.000 UTC
 * of that day), `YYYY-MM-DDTHH:MM:SSZ` and `YYYY-MM-DDTHH:MM:SS.sssZ` (exactly three fractional
 * digits, upper-case T and Z), naming a real calendar date (no 30 February), hour 00-23, minute and
 * second 00-59. Anything else (offsets, spaces, epoch numbers) is not a date. `birthdate` is read
 * the same way, so a birthday is the instant 00:00 UTC of that calendar day.
 *
 * Day arithmetic counts UTC calendar days: day(t) = floor(t / 86 400 000 ms). With today = day(now),
 * a date t is d = today - day(t) days ago (time of day is ignored: any time today is 0 days ago,
 * even later than now) and f = -d days in the future.
 * - `$is_days_ago N`: d = N. `$is_days_in_future N`: f = N.
 * - `$more_than_ago N`, and `$more_than N` on a date field: d > N. `$more_than_equal N`: d >= N.
 * - `$less_than_ago N`, and `$less_than N` on a date field: 0 <= d < N, so future dates never count
 *   as "less than N days ago", and N = 0 matches nothing. `$less_than_equal N`: 0 <= d <= N.
 * - `$more_than_future N`: f > N. `$less_than_future N`: 0 <= f < N.
 * - `$before X`: t < X. `$after X`: t > X. `$is X` on a date field: day(t) = day(X).
 * - Windows: `$today` / `$yesterday` / `$tomorrow` are one day; weeks run Monday 00:00 to the next
 *   Monday 00:00 UTC; months and years are calendar months and years in UTC.
 * Each of these is a half-open range [from, to) of epoch ms, computed here from `now`, and both back
 * ends only compare t against the range ends: SQL never reads a clock.
 *
 * ## SQL notes
 * - LIKE is not used: D1 refuses LIKE/GLOB patterns longer than 50 bytes and operands may have 255
 *   characters. `instr()` and `substr()` take `%`, `_` and `\` literally, so nothing needs escaping.
 * - Every operand, and every instant derived from `now`, is a bound `?` parameter; lists are one
 *   JSON parameter read with `json_each(?)`.
 * - The compiled expression is never NULL, so `NOT (expr)` selects exactly the non-matching rows.
 */

import type { Condition, Scalar } from './ast';
import type { FieldKind } from './fields';
import type { WindowOperator } from './operators';

export const DAY_MS = 86_400_000;

/** A half-open range [from, to) of epoch ms; null leaves that side open. */
export interface TimeRange {
  readonly from: number | null;
  readonly to: number | null;
}

export type Comparison = '=' | '<' | '>' | '<=' | '>=';

/** The test an operator runs on a field value (before negation). */
export type Predicate =
  | { readonly test: 'equals'; readonly values: readonly Scalar[] }
  | { readonly test: 'present' }
  | { readonly test: 'contains' | 'starts_with' | 'ends_with'; readonly values: readonly string[] }
  | { readonly test: 'compare'; readonly cmp: Comparison; readonly value: number }
  | { readonly test: 'in_ranges'; readonly ranges: readonly TimeRange[] }
  | { readonly test: 'array_length'; readonly cmp: Comparison; readonly value: number };

/** `a cmp b`: the one reading of a comparison, for evaluate() and for what compileSql decides ahead. */
export function compare(a: number, cmp: Comparison, b: number): boolean {
  switch (cmp) {
    case '=':
      return a === b;
    case '<':
      return a < b;
    case '>':
      return a > b;
    case '<=':
      return a <= b;
    case '>=':
      return a >= b;
  }
}

/** A predicate, and whether the operator asks for its opposite (which unknown values satisfy). */
export interface Plan {
  readonly predicate: Predicate;
  readonly negate: boolean;
}

/** Lower-cases A-Z only, as SQLite's built-in lower() does. */
export function foldAscii(value: string): string {
  // Most values are already lower case: skip the replace, which is costly, when no A-Z is present.
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 65 && code <= 90) return value.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
  }
  return value;
}

const NUMERIC_TEXT = /^-?[0-9]+(\.[0-9]+)?$/;

/** True for strings the filter reads as numbers (the SQL back end checks the same shape with GLOB). */
export const isNumericText = (value: string): boolean => NUMERIC_TEXT.test(value);

/** The number a stored value stands for, or null when it is not numeric. */
export function numericValue(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && isNumericText(value)) return Number(value);
  return null;
}

const isLeapYear = (y: number): boolean => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * ((month + 9) % 12) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/**
 * Epoch ms of a date in one of the accepted spellings (see "Dates" above), or null.
 * Integer arithmetic rather than Date.parse, whose handling of years below 100 and of impossible
 * dates differs between engines.
 */
export function parseIsoDate(value: string): number | null {
  // Hand-rolled for speed (evaluate() reads every date of every profile). It accepts exactly
  // YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ and YYYY-MM-DDTHH:MM:SS.sssZ, as the SQL back end does.
  const length = value.length;
  if (length !== 10 && length !== 20 && length !== 24) return null;
  if (value[4] !== '-' || value[7] !== '-') return null;
  const year = digitsAt(value, 0, 4);
  const month = digitsAt(value, 5, 2);
  const day = digitsAt(value, 8, 2);
  let hour = 0;
  let minute = 0;
  let second = 0;
  let ms = 0;
  if (length > 10) {
    if (value[10] !== 'T' || value[13] !== ':' || value[16] !== ':' || value[length - 1] !== 'Z') return null;
    hour = digitsAt(value, 11, 2);
    minute = digitsAt(value, 14, 2);
    second = digitsAt(value, 17, 2);
    if (length === 24) {
      if (value[19] !== '.') return null;
      ms = digitsAt(value, 20, 3);
    }
  }
  if (year < 0 || day < 0 || hour < 0 || minute < 0 || second < 0 || ms < 0) return null;
  if (month < 1 || month > 12) return null;
  const monthDays = month === 2 && isLeapYear(year) ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
  if (day < 1 || day > monthDays || hour > 23 || minute > 59 || second > 59) return null;
  return daysFromCivil(year, month, day) * DAY_MS + ((hour * 60 + minute) * 60 + second) * 1000 + ms;
}

/** The decimal number of `count` ASCII digits at `start`, or -1 when any of them is no digit. */
function digitsAt(value: string, start: number, count: number): number {
  let n = 0;
  for (let i = start; i < start + count; i++) {
    const digit = value.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    n = n * 10 + digit;
  }
  return n;
}

/** Epoch ms of 00:00 UTC on the day of `ms`. */
export const startOfUtcDay = (ms: number): number => Math.floor(ms / DAY_MS) * DAY_MS;

function windowRange(op: WindowOperator, now: number): TimeRange {
  const today = startOfUtcDay(now);
  const days = (fromOffset: number, toOffset: number): TimeRange => ({
    from: today + fromOffset * DAY_MS,
    to: today + toOffset * DAY_MS,
  });
  // Day 0 (1970-01-01) was a Thursday: shifting by 3 makes Monday 0.
  const sinceMonday = (((Math.floor(now / DAY_MS) + 3) % 7) + 7) % 7;
  const date = new Date(today);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  const months = (offset: number): TimeRange => ({
    from: Date.UTC(year, month + offset, 1),
    to: Date.UTC(year, month + offset + 1, 1),
  });
  const years = (offset: number): TimeRange => ({ from: Date.UTC(year + offset, 0, 1), to: Date.UTC(year + offset + 1, 0, 1) });
  switch (op) {
    case '$today':
      return days(0, 1);
    case '$yesterday':
      return days(-1, 0);
    case '$tomorrow':
      return days(1, 2);
    case '$this_week':
      return days(-sinceMonday, 7 - sinceMonday);
    case '$last_week':
      return days(-sinceMonday - 7, -sinceMonday);
    case '$next_week':
      return days(7 - sinceMonday, 14 - sinceMonday);
    case '$this_month':
      return months(0);
    case '$last_month':
      return months(-1);
    case '$next_month':
      return months(1);
    case '$this_year':
      return years(0);
    case '$last_year':
      return years(-1);
    case '$next_year':
      return years(1);
  }
}

/** Range of dates that are `d` days ago with lo <= d <= hi (null: unbounded that way). */
function daysAgo(now: number, lo: number | null, hi: number | null): TimeRange {
  const today = startOfUtcDay(now);
  return {
    // d <= hi  <=>  day(t) >= today - hi
    from: hi === null ? null : today - hi * DAY_MS,
    // d >= lo  <=>  day(t) <= today - lo  <=>  t < start of the day after
    to: lo === null ? null : today - (lo - 1) * DAY_MS,
  };
}

const only = (values: readonly Scalar[]): number => {
  const [value] = values;
  if (typeof value !== 'number') throw new TypeError('filter AST: expected one number operand');
  return value;
};

const isDateKind = (kind: FieldKind): boolean => kind === 'timestamp' || kind === 'calendar_date';

/**
 * Turns one parsed condition into the test both back ends run. `now` (epoch ms) fixes every
 * relative date, so the two back ends agree as long as they get the same `now`.
 */
export function planCondition(kind: FieldKind, condition: Condition, now: number): Plan {
  const { op, values } = condition;
  const yes = (predicate: Predicate): Plan => ({ predicate, negate: false });
  const not = (predicate: Predicate): Plan => ({ predicate, negate: true });
  const ranges = (...list: TimeRange[]): Predicate => ({ test: 'in_ranges', ranges: list });
  const compare = (cmp: Comparison): Predicate => ({ test: 'compare', cmp, value: only(values) });
  const strings = values.map(String);

  switch (op) {
    case '$is':
    case '$in':
    case '$is_not':
    case '$not_in': {
      const predicate: Predicate = isDateKind(kind)
        ? ranges(...values.map((day) => ({ from: Number(day), to: Number(day) + DAY_MS })))
        : { test: 'equals', values };
      return op === '$is' || op === '$in' ? yes(predicate) : not(predicate);
    }
    case '$has_value':
      return yes({ test: 'present' });
    case '$is_unknown':
      return not({ test: 'present' });
    case '$contains':
      return yes({ test: 'contains', values: strings });
    case '$not_contain':
      return not({ test: 'contains', values: strings });
    case '$starts_with':
      return yes({ test: 'starts_with', values: strings });
    case '$ends_with':
      return yes({ test: 'ends_with', values: strings });
    case '$more_than':
      return yes(isDateKind(kind) ? ranges(daysAgo(now, only(values) + 1, null)) : compare('>'));
    case '$more_than_equal':
      return yes(isDateKind(kind) ? ranges(daysAgo(now, only(values), null)) : compare('>='));
    case '$less_than':
      return yes(isDateKind(kind) ? ranges(daysAgo(now, 0, only(values) - 1)) : compare('<'));
    case '$less_than_equal':
      return yes(isDateKind(kind) ? ranges(daysAgo(now, 0, only(values))) : compare('<='));
    case '$more_than_ago':
      return yes(ranges(daysAgo(now, only(values) + 1, null)));
    case '$less_than_ago':
      return yes(ranges(daysAgo(now, 0, only(values) - 1)));
    case '$is_days_ago':
      return yes(ranges(daysAgo(now, only(values), only(values))));
    case '$is_days_in_future':
      return yes(ranges(daysAgo(now, -only(values), -only(values))));
    case '$more_than_future':
      return yes(ranges(daysAgo(now, null, -only(values) - 1)));
    case '$less_than_future':
      return yes(ranges(daysAgo(now, -(only(values) - 1), 0)));
    case '$before':
      return yes(ranges({ from: null, to: only(values) }));
    case '$after':
      // Instants are whole milliseconds in both back ends, so "> X" is ">= X + 1".
      return yes(ranges({ from: only(values) + 1, to: null }));
    case '$count':
    case '$count_less':
    case '$count_more': {
      const cmp: Comparison = op === '$count' ? '=' : op === '$count_less' ? '<' : '>';
      return yes(kind === 'json' ? { test: 'array_length', cmp, value: only(values) } : compare(cmp));
    }
    default:
      return yes(ranges(windowRange(op, now)));
  }
}
