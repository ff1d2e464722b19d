/** @module The operators of the filter grammar and the values each takes on each kind of field. */

import type { FieldKind } from './fields';

/** Calendar windows (UTC; weeks start on Monday). They take no operand: `true`, `""` or `[true]`. */
export const WINDOW_OPERATORS = [
  '$today',
  '$yesterday',
  '$tomorrow',
  '$this_week',
  '$last_week',
  '$next_week',
  '$this_month',
  '$last_month',
  '$next_month',
  '$this_year',
  '$last_year',
  '$next_year',
] as const;

/** Operators that count days from `now` (the calendar windows aside). */
export const DAY_COUNT_OPERATORS = [
  '$is_days_ago',
  '$is_days_in_future',
  '$more_than_ago',
  '$less_than_ago',
  '$more_than_future',
  '$less_than_future',
] as const;

export const OPERATORS = [
  '$is',
  '$is_not',
  '$in',
  '$not_in',
  '$has_value',
  '$is_unknown',
  '$starts_with',
  '$ends_with',
  '$contains',
  '$not_contain',
  '$more_than',
  '$less_than',
  '$more_than_equal',
  '$less_than_equal',
  '$before',
  '$after',
  ...DAY_COUNT_OPERATORS,
  '$count',
  '$count_less',
  '$count_more',
  ...WINDOW_OPERATORS,
] as const;

export type Operator = (typeof OPERATORS)[number];
export type WindowOperator = (typeof WINDOW_OPERATORS)[number];

const OPERATOR_SET: ReadonlySet<string> = new Set(OPERATORS);
export const isOperator = (value: string): value is Operator => OPERATOR_SET.has(value);

/**
 * The shape of an operator's operand after parsing (the AST always holds an array):
 * - `texts`: 1..100 strings (numbers are turned into their decimal text).
 * - `numbers`: 1..100 numbers (numeric strings such as "3" are accepted).
 * - `scalars`: 1..100 strings, numbers or booleans, kept as given (metadata equality).
 * - `days`: 1..100 ISO dates, kept as the epoch ms of the start of their UTC day.
 * - `flag`: no operand; always `[true]`.
 * - `number`: exactly one number.
 * - `day_count`: exactly one whole number of days, 0..MAX_DAY_COUNT.
 * - `instant`: exactly one ISO date, as epoch ms.
 * - `count`: exactly one whole number, 0 or more.
 */
export type ValueClass = 'texts' | 'numbers' | 'scalars' | 'days' | 'flag' | 'number' | 'day_count' | 'instant' | 'count';

type Kinds = Partial<Record<FieldKind, ValueClass>>;

const EQUALITY: Kinds = {
  text: 'texts',
  number: 'numbers',
  event_count: 'numbers',
  product_count: 'numbers',
  timestamp: 'days',
  calendar_date: 'days',
  json: 'scalars',
};
// Set membership on a date would need day lists in SQL; `$is` with several dates covers it.
const MEMBERSHIP: Kinds = { text: 'texts', number: 'numbers', event_count: 'numbers', product_count: 'numbers', json: 'scalars' };
// An event count is never unknown (no events is 0), so asking is almost surely a mistake for `$more_than: [0]`.
const PRESENCE: Kinds = { text: 'flag', number: 'flag', timestamp: 'flag', calendar_date: 'flag', json: 'flag' };
const STRING: Kinds = { text: 'texts', json: 'texts' };
// On dates these count days ago ("last order less than 30 days ago"), as in Voucherify.
const COMPARISON: Kinds = {
  number: 'number',
  event_count: 'number',
  product_count: 'number',
  json: 'number',
  timestamp: 'day_count',
  calendar_date: 'day_count',
};
const DATE_INSTANT: Kinds = { timestamp: 'instant', calendar_date: 'instant', json: 'instant' };
const DATE_DAYS: Kinds = { timestamp: 'day_count', calendar_date: 'day_count', json: 'day_count' };
const COUNT: Kinds = { event_count: 'count', product_count: 'count', json: 'count' };
const WINDOW: Kinds = { timestamp: 'flag', calendar_date: 'flag', json: 'flag' };

/** Which operand each operator takes on each field kind; a missing entry means "does not apply". */
export const OPERATOR_VALUES: Readonly<Record<Operator, Kinds>> = {
  $is: EQUALITY,
  $is_not: EQUALITY,
  $in: MEMBERSHIP,
  $not_in: MEMBERSHIP,
  $has_value: PRESENCE,
  $is_unknown: PRESENCE,
  $starts_with: STRING,
  $ends_with: STRING,
  $contains: STRING,
  $not_contain: STRING,
  $more_than: COMPARISON,
  $less_than: COMPARISON,
  $more_than_equal: COMPARISON,
  $less_than_equal: COMPARISON,
  $before: DATE_INSTANT,
  $after: DATE_INSTANT,
  $is_days_ago: DATE_DAYS,
  $is_days_in_future: DATE_DAYS,
  $more_than_ago: DATE_DAYS,
  $less_than_ago: DATE_DAYS,
  $more_than_future: DATE_DAYS,
  $less_than_future: DATE_DAYS,
  $count: COUNT,
  $count_less: COUNT,
  $count_more: COUNT,
  $today: WINDOW,
  $yesterday: WINDOW,
  $tomorrow: WINDOW,
  $this_week: WINDOW,
  $last_week: WINDOW,
  $next_week: WINDOW,
  $this_month: WINDOW,
  $last_month: WINDOW,
  $next_month: WINDOW,
  $this_year: WINDOW,
  $last_year: WINDOW,
  $next_year: WINDOW,
};

/** Most values one operator may list, and most operators in one filter (all fields together). */
export const MAX_VALUES = 100;
export const MAX_CONDITIONS = 30;
/** Longest string operand, in UTF-16 code units (the length JavaScript reports). */
export const MAX_STRING_LENGTH = 255;
/** Largest day count (about 270 years), so that day arithmetic stays far from overflow. */
export const MAX_DAY_COUNT = 100_000;
