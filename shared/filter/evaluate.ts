/** @module Decides whether one customer profile matches a filter, in JavaScript (see semantics.ts), and explains why. */

import type { ExplainNode } from '../explain';
import type { Customer } from '../types';
import type { Condition, FieldFilter, FilterAst, Scalar } from './ast';
import type { Field } from './fields';
import { writtenOperands } from './parse';
import {
  compare,
  DAY_MS,
  foldAscii,
  numericValue,
  parseIsoDate,
  planCondition,
  type Plan,
  type Predicate,
  type TimeRange,
} from './semantics';

/** A customer as the API returns it, plus how many events of each type it has. */
export type FilterProfile = Customer & {
  events?: Record<string, { count: number }>;
  /** Per product or SKU id: how many of the customer's counting orders hold it (customer_products). */
  products?: Record<string, { count: number }>;
};

/**
 * Plans (see semantics.ts) depend on `now` only through its UTC day, so each parsed filter keeps the
 * plans of the day it last ran on: evaluating many profiles, or one profile per request all day,
 * plans once instead of once per condition per call.
 */
const planCache = new WeakMap<FilterAst, { day: number; plans: Plan[][] }>();

function plansFor(ast: FilterAst, now: number): Plan[][] {
  const day = Math.floor(now / DAY_MS);
  let cached = planCache.get(ast);
  if (cached?.day !== day) {
    cached = { day, plans: ast.fields.map(({ field, conditions }) => conditions.map((c) => planCondition(field.kind, c, now))) };
    planCache.set(ast, cached);
  }
  return cached.plans;
}

/**
 * True when `profile` matches the filter at `now` (epoch ms). Gives the same answer as the SQL of
 * compileSql(ast, now) over the stored customer.
 */
export function evaluate(ast: FilterAst, profile: FilterProfile, now: number): boolean {
  return walk(ast, profile, now, null);
}

/**
 * Why `profile` does or does not match the filter at `now`: the same walk as evaluate(), recording
 * each field and condition with the value it read. The root's `passed` is evaluate()'s answer.
 */
export function explainFilter(ast: FilterAst, profile: FilterProfile, now: number): ExplainNode {
  const fields: ExplainNode[] = [];
  const passed = walk(ast, profile, now, fields);
  return { kind: 'filter', label: ast.junction === 'and' ? 'match all' : 'match any', passed, logic: ast.junction, children: fields };
}

/**
 * The one walk of a filter over a profile. With `trace` null it decides only: it stops at the first
 * field that settles the junction and allocates nothing per condition. With a `trace` it goes
 * through every field and condition and appends one node per field, so the trace shows every
 * reason, and its verdict is the same, as the junction does not depend on the order.
 */
function walk(ast: FilterAst, profile: FilterProfile, now: number, trace: ExplainNode[] | null): boolean {
  const { fields } = ast;
  if (fields.length === 0) return true;
  const plans = plansFor(ast, now);
  const all = ast.junction === 'and';
  let verdict = all;
  for (let i = 0; i < fields.length; i++) {
    const { field, conditions } = fields[i] as FieldFilter;
    const fieldPlans = plans[i] ?? [];
    const value = read(field, profile);
    const conditionNodes: ExplainNode[] | null = trace && [];
    let matches = true;
    for (let j = 0; j < fieldPlans.length; j++) {
      const { predicate, negate } = fieldPlans[j] as Plan;
      const passed = test(field, predicate, value) !== negate;
      conditionNodes?.push(conditionNode(field, conditions[j] as Condition, value, passed));
      if (!passed) {
        matches = false;
        if (!conditionNodes) break;
      }
    }
    trace?.push({ kind: 'field', label: field.path, passed: matches, field: field.path, logic: 'and', children: conditionNodes ?? [] });
    if (matches !== all) {
      verdict = matches;
      if (!trace) break;
    }
  }
  return verdict;
}

function conditionNode(field: Field, condition: Condition, value: unknown, passed: boolean): ExplainNode {
  return {
    kind: 'condition',
    label: `${field.path} ${condition.op}`,
    passed,
    field: field.path,
    operator: condition.op,
    expected: writtenOperands(condition),
    actual: value === undefined ? null : value,
  };
}

/** The value a field holds in the profile, as stored (undefined when missing); an event count is 0 when none. */
function read(field: Field, profile: FilterProfile): unknown {
  switch (field.kind) {
    case 'event_count':
      return lookup(profile.events, [field.event, 'count']) ?? 0;
    case 'product_count':
      return lookup(profile.products, [field.product, 'count']) ?? 0;
    case 'json':
      return lookup(profile[field.column], field.keys);
    default:
      return lookup(profile, field.profilePath);
  }
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Walks own properties only, so a key such as "constructor" never reaches the prototype. */
function lookup(root: unknown, path: readonly string[]): unknown {
  let value = root;
  for (const key of path) {
    if (!isPlainObject(value) || !Object.hasOwn(value, key)) return undefined;
    value = value[key];
  }
  return value;
}

const inRanges = (t: number, ranges: readonly TimeRange[]): boolean =>
  ranges.some(({ from, to }) => (from === null || t >= from) && (to === null || t < to));

const unsupported = (field: Field, predicate: Predicate): never => {
  throw new TypeError(`filter AST: ${predicate.test} cannot test ${field.kind} field ${field.path}`);
};

function textMatches(value: string, predicate: Predicate & { values: readonly string[] }): boolean {
  const folded = foldAscii(value);
  return predicate.values.some((operand) => {
    const needle = foldAscii(operand);
    if (predicate.test === 'contains') return folded.includes(needle);
    return predicate.test === 'starts_with' ? folded.startsWith(needle) : folded.endsWith(needle);
  });
}

/** JSON equality between a stored metadata item and an operand (semantics.ts, "JSON equality"). */
function jsonEquals(item: unknown, operand: Scalar): boolean {
  if (typeof item === 'string' && typeof operand === 'string' && item === operand) return true;
  const a = numericValue(item);
  const b = numericValue(operand);
  if (a !== null && b !== null && a === b) return true;
  if (typeof item === 'boolean') return operand === item || operand === String(item);
  return typeof item === 'string' && typeof operand === 'boolean' && item === String(operand);
}

/** The positive test (before negation) of the value `raw` read for `field`; a missing or unusable value fails it. */
function test(field: Field, predicate: Predicate, raw: unknown): boolean {
  switch (field.kind) {
    case 'text': {
      const value = typeof raw === 'string' && raw !== '' ? raw : null;
      if (predicate.test === 'present') return value !== null;
      if (value === null) return false;
      if (predicate.test === 'equals') {
        const fold = field.foldCase ? foldAscii : (s: string) => s;
        return predicate.values.some((operand) => fold(value) === fold(String(operand)));
      }
      if (predicate.test === 'contains' || predicate.test === 'starts_with' || predicate.test === 'ends_with') {
        return textMatches(value, predicate);
      }
      return unsupported(field, predicate);
    }

    case 'number':
    case 'event_count':
    case 'product_count': {
      const value = typeof raw === 'number' && Number.isFinite(raw) ? raw : null;
      if (predicate.test === 'present') return value !== null;
      if (value === null) return false;
      if (predicate.test === 'equals') return predicate.values.some((operand) => operand === value);
      if (predicate.test === 'compare') return compare(value, predicate.cmp, predicate.value);
      return unsupported(field, predicate);
    }

    case 'timestamp':
    case 'calendar_date': {
      if (predicate.test === 'present') return typeof raw === 'string' && raw !== '';
      const t = typeof raw === 'string' ? parseIsoDate(raw) : null;
      if (predicate.test === 'in_ranges') return t !== null && inRanges(t, predicate.ranges);
      return unsupported(field, predicate);
    }

    case 'json': {
      const value = raw;
      switch (predicate.test) {
        case 'present':
          return value !== undefined && value !== null && value !== '';
        case 'equals': {
          const items: unknown[] = Array.isArray(value) ? value : value === undefined || isPlainObject(value) ? [] : [value];
          return items.some((item) => predicate.values.some((operand) => jsonEquals(item, operand)));
        }
        case 'contains':
          // A list is searched for the element; a string for the substring.
          if (Array.isArray(value)) return value.some((item) => predicate.values.some((operand) => jsonEquals(item, operand)));
          return typeof value === 'string' && textMatches(value, predicate);
        case 'starts_with':
        case 'ends_with':
          return typeof value === 'string' && textMatches(value, predicate);
        case 'compare': {
          const n = numericValue(value);
          return n !== null && compare(n, predicate.cmp, predicate.value);
        }
        case 'in_ranges': {
          const t = typeof value === 'string' ? parseIsoDate(value) : null;
          return t !== null && inRanges(t, predicate.ranges);
        }
        case 'array_length':
          return Array.isArray(value) && compare(value.length, predicate.cmp, predicate.value);
      }
    }
  }
}
