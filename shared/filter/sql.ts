/**
 * @module Compiles a filter to a SQLite boolean expression over `customers AS c` (see semantics.ts).
 *
 * Only column names from fields.ts and fixed SQL text reach the statement; every operand and every
 * instant derived from `now` is a `?` parameter, in the order the placeholders appear. Placeholders
 * are anonymous, so the fragment can sit anywhere in a larger statement whose parameters are bound
 * as `[...before, ...params, ...after]`.
 */

import type { Condition, FilterAst } from './ast';
import { FilterError } from './errors';
import type { Field } from './fields';
import { compare, planCondition, type Comparison, type Predicate, type TimeRange } from './semantics';

export type SqlValue = string | number | null;

/**
 * SQL text with its bound values beside it: the one fragment type of the worker's statements
 * (worker/src/db/sql.ts). What compileSql returns is a boolean expression for a WHERE clause, never NULL.
 */
export interface Sql {
  sql: string;
  params: SqlValue[];
}

/** D1 refuses statements with more than 100 bound parameters. */
export const MAX_SQL_PARAMS = 100;

class Params {
  readonly list: SqlValue[] = [];
  /** Returns the placeholder; call in the order the placeholders appear in the text. */
  bind(value: SqlValue): '?' {
    this.list.push(value);
    return '?';
  }
}

/**
 * Compiles the filter for `SELECT … FROM customers c WHERE ${sql}` at `now` (epoch ms). The result
 * matches exactly the customers for which evaluate(ast, profile, now) is true.
 *
 * @example
 * ```ts
 * const { sql, params } = compileSql(parseFilter(input), Date.now())
 * await db.prepare(`SELECT id FROM customers c WHERE ${sql}`).bind(...params).all()
 * ```
 */
export function compileSql(ast: FilterAst, now: number): Sql {
  const fields = ast.fields.map(({ field, conditions }) =>
    joined(
      conditions.map((condition) => compileCondition(field, condition, now)),
      'AND',
    ),
  );
  const { sql, params } = fields.length === 0 ? { sql: '1', params: [] } : joined(fields, ast.junction === 'and' ? 'AND' : 'OR');
  if (params.length > MAX_SQL_PARAMS) {
    throw new FilterError('too_large', '', `the filter needs ${params.length} SQL parameters, more than the ${MAX_SQL_PARAMS} D1 allows`);
  }
  return { sql, params };
}

/** A compiled operand of a junction, with what it costs to evaluate per customer (see `costOf`). */
interface Part extends Sql {
  cost: number;
}

/**
 * Joins the parts cheapest first, so that an expensive test (metadata JSON, an event lookup) runs
 * only for the customers the cheap ones have not decided already (balanced() joins with CASE,
 * which stops at the first operand that decides). In a WHERE clause SQLite would defer subqueries
 * on its own, but where a filter is a column (the preview's verdicts, a sync's diff) it was judged
 * as written, every operand for every customer. Filters are pure, so the order changes the time,
 * never the answer. Explanations keep the written order: they come from evaluate(), not this text.
 */
function joined(parts: Part[], op: 'AND' | 'OR'): Part {
  const ordered = [...parts].sort((a, b) => a.cost - b.cost);
  return {
    sql: balanced(
      ordered.map((part) => part.sql),
      op,
    ),
    params: ordered.flatMap((part) => part.params),
    cost: parts.reduce((sum, part) => sum + part.cost, 0),
  };
}

/**
 * Joins as a balanced tree (SQLite limits expression depth to 100, and a chain of 30 would nest 30
 * deep) of CASEs rather than AND / OR: SQLite short-circuits a CASE, but computes both operands of
 * an AND or OR outside a WHERE clause (measured on SQLite 3.40 and on workerd's 3.47: the order of
 * the operands made no difference there). Every part is 0 or 1, never NULL, and so is the join.
 */
function balanced(parts: string[], op: 'AND' | 'OR'): string {
  if (parts.length === 1) return parts[0] ?? '1';
  const middle = Math.ceil(parts.length / 2);
  const [left, right] = [balanced(parts.slice(0, middle), op), balanced(parts.slice(middle), op)];
  return op === 'AND' ? `(CASE WHEN ${left} THEN ${right} ELSE 0 END)` : `(CASE WHEN ${left} THEN 1 ELSE ${right} END)`;
}

function compileCondition(field: Field, condition: Condition, now: number): Part {
  const { predicate, negate } = planCondition(field.kind, condition, now);
  // Each part binds its own parameters, so that parts can be reordered with them.
  const params = new Params();
  const positive = compilePredicate(params, field, predicate);
  return { sql: negate ? `NOT ${positive}` : positive, params: params.list, cost: costOf(field, predicate) };
}

/**
 * Rough relative cost per customer of a compiled test, measured on SQLite 3.40 over the 100,000
 * customers of bench/segment-preview.bench.ts: a column comparison, a lookup in a list built once per
 * statement, a scan of the operands for each customer (text tests, several day ranges), a date parsed
 * from text, a walk of the metadata JSON, an index search in events.
 */
function costOf(field: Field, predicate: Predicate): number {
  switch (field.kind) {
    case 'json':
      // Matching against an operand list (json_each of it for every customer) costs twice an event lookup.
      return predicate.test === 'equals' || predicate.test === 'contains' ? 24 : 12;
    case 'event_count':
      return 16;
    case 'product_count':
      // One primary-key lookup in customer_products.
      return 12;
    case 'calendar_date':
      return predicate.test === 'present' ? 1 : 8;
    case 'text':
      if (predicate.test === 'present') return 1;
      if (predicate.test === 'equals') return 2;
      return 'values' in predicate && predicate.values.length === 1 ? 3 : 8;
    case 'number':
      return predicate.test === 'equals' ? 2 : 1;
    case 'timestamp':
      return predicate.test === 'in_ranges' && predicate.ranges.length > 1 ? 4 : 1;
  }
}

// ===== SQL spellings of the rules in semantics.ts

/** Mirrors isNumericText: -?[0-9]+(\.[0-9]+)? (GLOB patterns stay well under D1's 50-byte cap). */
const numericText = (x: string): string =>
  `((${x} GLOB '[0-9]*' OR ${x} GLOB '-[0-9]*') AND ${x} GLOB '*[0-9]' ` +
  `AND substr(${x}, 2) NOT GLOB '*[^0-9.]*' AND ${x} NOT GLOB '*.*.*')`;

/** `a` is a json_each row: numeric when a JSON number or a numeric string. */
const isNumeric = (a: string): string => `(${a}.type IN ('integer', 'real') OR (${a}.type = 'text' AND ${numericText(`${a}.value`)}))`;

/** JSON equality between json_each rows `m` (stored item) and `p` (operand). */
const jsonEquals = (m: string, p: string): string =>
  `((${m}.type = 'text' AND ${p}.type = 'text' AND ${m}.value = ${p}.value)` +
  ` OR (${isNumeric(m)} AND ${isNumeric(p)} AND CAST(${m}.value AS REAL) = CAST(${p}.value AS REAL))` +
  ` OR (${m}.type IN ('true', 'false') AND (${p}.type = ${m}.type OR (${p}.type = 'text' AND ${p}.value = ${m}.type)))` +
  ` OR (${m}.type = 'text' AND ${p}.type IN ('true', 'false') AND ${m}.value = ${p}.type))`;

/**
 * Epoch ms of a text in an accepted date spelling, else NULL; mirrors parseIsoDate. The round trip
 * through date()/strftime() refuses what SQLite would otherwise normalise (30 February, 24:00).
 */
const dateMs = (x: string): string =>
  `(CASE WHEN length(${x}) = 10 AND date(${x}) = ${x} THEN unixepoch(${x}) * 1000` +
  ` WHEN length(${x}) IN (20, 24) AND substr(${x}, 11, 1) = 'T' AND substr(${x}, 12, 2) < '24'` +
  ` AND strftime('%Y-%m-%dT%H:%M:%S', substr(${x}, 1, 19)) = substr(${x}, 1, 19)` +
  ` AND ((length(${x}) = 20 AND substr(${x}, 20, 1) = 'Z')` +
  ` OR (length(${x}) = 24 AND substr(${x}, 20, 1) = '.' AND substr(${x}, 21, 3) GLOB '[0-9][0-9][0-9]' AND substr(${x}, 24, 1) = 'Z'))` +
  ` THEN unixepoch(substr(${x}, 1, 19)) * 1000 + (CASE WHEN length(${x}) = 24 THEN CAST(substr(${x}, 21, 3) AS INTEGER) ELSE 0 END)` +
  ` END)`;

/**
 * `haystack` and `needle()` are already lower()-ed SQL expressions; the needle is never empty.
 * `needle()` is called where each copy of its text goes, as it may bind a parameter.
 */
function textTest(test: 'contains' | 'starts_with' | 'ends_with', haystack: string, needle: () => string): string {
  switch (test) {
    case 'contains':
      return `instr(${haystack}, ${needle()}) > 0`;
    case 'starts_with':
      return `instr(${haystack}, ${needle()}) = 1`;
    case 'ends_with':
      return `substr(${haystack}, -length(${needle()})) = ${needle()}`;
  }
}

/** `t` (epoch ms, may be NULL) lies in one of the ranges; never NULL. */
function inRanges(params: Params, t: string, ranges: readonly TimeRange[]): string {
  const [range] = ranges;
  if (ranges.length === 1 && range) {
    const bounds: string[] = [];
    if (range.from !== null) bounds.push(`${t} >= ${params.bind(range.from)}`);
    if (range.to !== null) bounds.push(`${t} < ${params.bind(range.to)}`);
    return bounds.length === 0 ? `(${t} IS NOT NULL)` : `coalesce(${bounds.join(' AND ')}, 0)`;
  }
  // Several ranges (one per day of `$is`) travel as one JSON parameter: [[from, to], ...].
  const list = JSON.stringify(ranges.map(({ from, to }) => [from, to]));
  return (
    `EXISTS (SELECT 1 FROM json_each(${params.bind(list)}) AS r` +
    ` WHERE ((r.value ->> 0) IS NULL OR ${t} >= (r.value ->> 0)) AND ((r.value ->> 1) IS NULL OR ${t} < (r.value ->> 1)))`
  );
}

const unsupported = (field: Field, predicate: Predicate): never => {
  throw new TypeError(`filter AST: ${predicate.test} cannot test ${field.kind} field ${field.path}`);
};

const jsonPath = (keys: readonly string[]): string => `$${keys.map((key) => `."${key}"`).join('')}`;

/**
 * How many events of this type the customer has had: its counter (event_counters, one row per
 * profile and type, kept by a trigger of the worker's schema in the transaction of every event, never lowered
 * when raw events expire), read by one primary-key lookup; 0 when it has none.
 */
const eventCount = (params: Params, event: string): string =>
  `coalesce((SELECT ec.count FROM event_counters AS ec WHERE ec.profile_id = c.id AND ec.type = ${params.bind(event)}), 0)`;

/** How many of the customer's counting orders hold the product (customer_products, migration 0028); 0 when none. */
const productCount = (params: Params, product: string): string =>
  `coalesce((SELECT cp.orders FROM customer_products AS cp WHERE cp.customer_id = c.id AND cp.product = ${params.bind(product)}), 0)`;

/**
 * `count of the customer's events of this type <cmp> value`. When 0 and 1 compare alike, so does
 * every count (counts are integers from 0 up and `value` is below 1), and the test is a constant.
 */
function eventCountTest(params: Params, event: string, cmp: Comparison, value: number): string {
  if (Math.floor(value) + 1 <= 1) {
    const [none, some] = [compare(0, cmp, value), compare(1, cmp, value)];
    if (none === some) return none ? '1' : '0';
  }
  return `(${eventCount(params, event)} ${cmp} ${params.bind(value)})`;
}

/** The positive test as a 0/1 expression (never NULL), so callers may negate it with NOT. */
function compilePredicate(params: Params, field: Field, predicate: Predicate): string {
  switch (field.kind) {
    case 'text': {
      const column = `c.${field.column}`;
      switch (predicate.test) {
        case 'present':
          return `(${column} IS NOT NULL AND ${column} <> '')`;
        case 'equals': {
          const list = params.bind(JSON.stringify(predicate.values));
          return field.foldCase
            ? `coalesce(lower(${column}) IN (SELECT lower(value) FROM json_each(${list})), 0)`
            : `coalesce(${column} IN (SELECT value FROM json_each(${list})), 0)`;
        }
        case 'contains':
        case 'starts_with':
        case 'ends_with': {
          const [only] = predicate.values;
          // One operand (the usual case) is bound as itself: json_each over the list runs again for
          // every customer, three times the cost of the test it feeds.
          if (predicate.values.length === 1 && only !== undefined) {
            return `coalesce(${textTest(predicate.test, `lower(${column})`, () => `lower(${params.bind(only)})`)}, 0)`;
          }
          return `EXISTS (SELECT 1 FROM json_each(${params.bind(JSON.stringify(predicate.values))}) AS p WHERE ${textTest(predicate.test, `lower(${column})`, () => 'lower(p.value)')})`;
        }
        default:
          return unsupported(field, predicate);
      }
    }

    case 'number':
    case 'event_count':
    case 'product_count': {
      if (field.kind === 'event_count' && predicate.test === 'compare')
        return eventCountTest(params, field.event, predicate.cmp, predicate.value);
      const value =
        field.kind === 'event_count'
          ? eventCount(params, field.event)
          : field.kind === 'product_count'
            ? productCount(params, field.product)
            : `c.${field.column}`;
      switch (predicate.test) {
        case 'present':
          return `(${value} IS NOT NULL)`;
        case 'equals':
          return `coalesce(${value} IN (SELECT value FROM json_each(${params.bind(JSON.stringify(predicate.values))})), 0)`;
        case 'compare':
          return `coalesce(${value} ${predicate.cmp} ${params.bind(predicate.value)}, 0)`;
        default:
          return unsupported(field, predicate);
      }
    }

    case 'timestamp': {
      const column = `c.${field.column}`;
      if (predicate.test === 'present') return `(${column} IS NOT NULL)`;
      if (predicate.test === 'in_ranges') return inRanges(params, column, predicate.ranges);
      return unsupported(field, predicate);
    }

    case 'calendar_date': {
      const column = `c.${field.column}`;
      if (predicate.test === 'present') return `(${column} IS NOT NULL AND ${column} <> '')`;
      if (predicate.test === 'in_ranges') {
        // json_each over a one-element array names the parsed value once instead of repeating the CASE.
        return `EXISTS (SELECT 1 FROM json_each(json_array(${dateMs(column)})) AS d WHERE ${inRanges(params, 'd.value', predicate.ranges)})`;
      }
      return unsupported(field, predicate);
    }

    case 'json': {
      const column = `c.${field.column}`;
      // Both bind the path, so each is called exactly where its text goes.
      // json_each(column, path) yields the value itself when it is a scalar or null (key NULL), the
      // elements of an array (integer keys), the members of an object (text keys), nothing if missing.
      const items = () => `json_each(${column}, ${params.bind(jsonPath(field.keys))}) AS m`;
      // json_array(column -> path) is one row for the value whatever its type; missing reads as null.
      const root = () => `json_each(json_array(${column} -> ${params.bind(jsonPath(field.keys))})) AS m`;
      switch (predicate.test) {
        case 'present':
          return `EXISTS (SELECT 1 FROM ${root()} WHERE m.type <> 'null' AND NOT (m.type = 'text' AND m.value = ''))`;
        case 'equals':
          return `EXISTS (SELECT 1 FROM ${items()}, json_each(${params.bind(JSON.stringify(predicate.values))}) AS p WHERE typeof(m.key) <> 'text' AND ${jsonEquals('m', 'p')})`;
        case 'contains':
          return (
            `EXISTS (SELECT 1 FROM ${items()}, json_each(${params.bind(JSON.stringify(predicate.values))}) AS p` +
            ` WHERE (m.key IS NULL AND m.type = 'text' AND ${textTest('contains', 'lower(m.value)', () => 'lower(p.value)')})` +
            ` OR (typeof(m.key) = 'integer' AND ${jsonEquals('m', 'p')}))`
          );
        case 'starts_with':
        case 'ends_with':
          return `EXISTS (SELECT 1 FROM ${items()}, json_each(${params.bind(JSON.stringify(predicate.values))}) AS p WHERE m.key IS NULL AND m.type = 'text' AND ${textTest(predicate.test, 'lower(m.value)', () => 'lower(p.value)')})`;
        case 'compare':
          return `EXISTS (SELECT 1 FROM ${items()} WHERE m.key IS NULL AND ${isNumeric('m')} AND CAST(m.value AS REAL) ${predicate.cmp} ${params.bind(predicate.value)})`;
        case 'in_ranges':
          return `EXISTS (SELECT 1 FROM ${items()}, json_each(json_array(${dateMs('m.value')})) AS d WHERE m.key IS NULL AND m.type = 'text' AND ${inRanges(params, 'd.value', predicate.ranges)})`;
        case 'array_length':
          return `EXISTS (SELECT 1 FROM ${root()} WHERE m.type = 'array' AND json_array_length(m.value) ${predicate.cmp} ${params.bind(predicate.value)})`;
      }
    }
  }
}
