/** @module Validates a Voucherify segment filter once and turns it into a FilterAst. */

import type { Condition, FieldFilter, FilterAst, Junction, Scalar } from './ast';
import { FilterError } from './errors';
import { resolveField, type Field } from './fields';
import { isOperator, MAX_CONDITIONS, MAX_DAY_COUNT, MAX_STRING_LENGTH, MAX_VALUES, OPERATOR_VALUES, type ValueClass } from './operators';
import { isNumericText, parseIsoDate, startOfUtcDay } from './semantics';

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const describe = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'string' ? `"${value}"` : String(value);

/**
 * Parses a segment filter such as
 * `{ junction: 'and', 'address.city': { conditions: { $is: ['Berlin'] } } }`.
 * Throws FilterError, whose `path` names the offending part, for anything it cannot accept; the
 * returned AST is safe to evaluate and to compile to SQL.
 *
 * @example
 * ```ts
 * const ast = parseFilter({ 'summary.orders.last_order_date': { conditions: { $less_than: [30] } } })
 * evaluate(ast, customer, Date.now())
 * ```
 */
export function parseFilter(input: unknown): FilterAst {
  if (!isPlainObject(input)) {
    throw new FilterError('bad_shape', '', `a filter must be an object, not ${describe(input)}`);
  }
  let junction: Junction = 'and';
  const fields: FieldFilter[] = [];
  let conditionCount = 0;

  for (const [key, entry] of Object.entries(input)) {
    if (key === 'junction') {
      junction = parseJunction(entry);
      continue;
    }
    const field = resolveField(key);
    if (!isPlainObject(entry)) {
      throw new FilterError('bad_shape', key, `"${key}" must be an object like {"conditions": {"$is": [...]}}`);
    }
    const extra = Object.keys(entry).find((k) => k !== 'conditions');
    if (extra !== undefined) {
      // Ignoring an unknown key could silently change which customers match.
      throw new FilterError('bad_shape', `${key}.${extra}`, `"${key}" may only hold "conditions", not "${extra}"`);
    }
    const { conditions } = entry;
    if (!isPlainObject(conditions) || Object.keys(conditions).length === 0) {
      throw new FilterError('bad_shape', `${key}.conditions`, `"${key}.conditions" must be an object with at least one operator`);
    }
    const parsed: Condition[] = [];
    for (const [op, raw] of Object.entries(conditions)) {
      const path = `${key}.conditions.${op}`;
      conditionCount += 1;
      if (conditionCount > MAX_CONDITIONS) {
        throw new FilterError('too_large', path, `a filter may have at most ${MAX_CONDITIONS} conditions`);
      }
      parsed.push(parseCondition(field, op, raw, path));
    }
    fields.push({ field, conditions: parsed });
  }
  return { junction, fields };
}

function parseJunction(value: unknown): Junction {
  const lower = typeof value === 'string' ? value.toLowerCase() : value;
  if (lower === 'and' || lower === 'or') return lower;
  throw new FilterError('bad_value', 'junction', `junction must be "and" or "or", not ${describe(value)}`);
}

const FIELD_KIND_NAMES: Record<Field['kind'], string> = {
  text: 'a text field',
  number: 'a number field',
  timestamp: 'a date field',
  calendar_date: 'a date field',
  event_count: 'an event count',
  product_count: 'a product count',
  json: 'a metadata field',
};

/**
 * The operands of each parsed condition as its author wrote them ("2026-05-16", "30"), for
 * explanations: the AST itself holds the normalised values both back ends read (epoch ms, 30).
 * Kept beside the AST rather than in it, so the AST stays exactly what the back ends consume.
 */
const written = new WeakMap<Condition, readonly unknown[]>();

/** A condition's operands as written, a single operand as a one-element list (semantics.ts, "Operands"). */
export const writtenOperands = (condition: Condition): readonly unknown[] => written.get(condition) ?? condition.values;

function parseCondition(field: Field, op: string, raw: unknown, path: string): Condition {
  if (!isOperator(op)) throw new FilterError('unknown_operator', path, `unknown operator "${op}"`);
  const valueClass = OPERATOR_VALUES[op][field.kind];
  if (valueClass === undefined) {
    throw new FilterError('unknown_operator', path, `${op} does not apply to ${FIELD_KIND_NAMES[field.kind]} ("${field.path}")`);
  }
  const condition: Condition = { op, values: parseValues(valueClass, raw, path, op) };
  written.set(condition, Array.isArray(raw) ? [...raw] : [raw]);
  return condition;
}

const SINGLE: ReadonlySet<ValueClass> = new Set(['number', 'day_count', 'instant', 'count']);

function parseValues(valueClass: ValueClass, raw: unknown, path: string, op: string): Scalar[] {
  if (valueClass === 'flag') {
    const inner = Array.isArray(raw) && raw.length === 1 ? raw[0] : raw;
    if (inner === true || inner === '' || inner === 'true') return [true];
    throw new FilterError('bad_value', path, `${op} takes no operand: write true`);
  }
  const list: unknown[] = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) throw new FilterError('bad_value', path, `${op} needs a value`);
  if (list.length > MAX_VALUES) {
    throw new FilterError('too_large', path, `${op} may list at most ${MAX_VALUES} values`);
  }
  if (SINGLE.has(valueClass) && list.length > 1) {
    throw new FilterError('bad_value', path, `${op} takes exactly one value`);
  }
  return list.map((value, i) => parseValue(valueClass, value, Array.isArray(raw) ? `${path}[${i}]` : path));
}

function checkString(value: string, path: string): string {
  if (value.length === 0) throw new FilterError('bad_value', path, 'an empty string is not a value; use $is_unknown');
  if (value.length > MAX_STRING_LENGTH) {
    throw new FilterError('bad_value', path, `strings may have at most ${MAX_STRING_LENGTH} characters`);
  }
  // SQLite's length() and instr() stop at NUL, JavaScript's do not.
  if (value.includes('\u0000')) throw new FilterError('bad_value', path, 'strings may not contain NUL characters');
  return value;
}

const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

function toNumber(value: unknown, path: string): number {
  if (isFiniteNumber(value)) return value;
  if (typeof value === 'string' && isNumericText(value)) return Number(value);
  throw new FilterError('bad_value', path, `expected a number, not ${describe(value)}`);
}

function toWholeNumber(value: unknown, path: string, max: number): number {
  const n = toNumber(value, path);
  if (!Number.isInteger(n) || n < 0 || n > max) {
    throw new FilterError('bad_value', path, `expected a whole number from 0 to ${max}, not ${describe(value)}`);
  }
  return n;
}

function toDate(value: unknown, path: string): number {
  const ms = typeof value === 'string' ? parseIsoDate(value) : null;
  if (ms === null) {
    throw new FilterError('bad_value', path, `expected a date as YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS.sssZ, not ${describe(value)}`);
  }
  return ms;
}

function parseValue(valueClass: Exclude<ValueClass, 'flag'>, value: unknown, path: string): Scalar {
  switch (valueClass) {
    case 'texts':
      if (isFiniteNumber(value)) return String(value);
      if (typeof value === 'string') return checkString(value, path);
      throw new FilterError('bad_value', path, `expected a string, not ${describe(value)}`);
    case 'scalars':
      if (isFiniteNumber(value) || typeof value === 'boolean') return value;
      if (typeof value === 'string') return checkString(value, path);
      throw new FilterError('bad_value', path, `expected a string, number or boolean, not ${describe(value)}`);
    case 'numbers':
    case 'number':
      return toNumber(value, path);
    case 'days':
      return startOfUtcDay(toDate(value, path));
    case 'instant':
      return toDate(value, path);
    case 'day_count':
      return toWholeNumber(value, path, MAX_DAY_COUNT);
    case 'count':
      return toWholeNumber(value, path, Number.MAX_SAFE_INTEGER);
  }
}
