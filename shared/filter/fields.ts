/** @module The field paths a filter may name, what kind each is, and where it lives in D1. */

import { CUSTOMER_FIELDS } from '../customer-fields';
import { isPrototypeKey, PROTOTYPE_KEY_RULE, PROTOTYPE_KEYS } from '../prototype-keys';
import { FilterError } from './errors';

/**
 * How a field's value is stored, which decides the operators that apply to it:
 * - `text`: a TEXT column; the profile holds a string or null.
 * - `number`: an INTEGER column that is never NULL; the profile holds a number.
 * - `timestamp`: an INTEGER column of epoch ms (NULL allowed); the profile holds an ISO string or nothing.
 * - `calendar_date`: a TEXT column `YYYY-MM-DD`; the profile holds the same string or null.
 * - `event_count`: how many events of one type the customer has; 0 when none.
 * - `product_count`: how many of the customer's counting orders (PAID, FULFILLED) hold one product
 *   or SKU (by id or source id); 0 when none. Our addition: Voucherify has no filter on what a
 *   customer bought.
 * - `json`: a value inside the metadata or system_metadata JSON column; any JSON type, or missing.
 */
export type FieldKind = 'text' | 'number' | 'timestamp' | 'calendar_date' | 'event_count' | 'product_count' | 'json';

export type Field =
  | { kind: 'text'; path: string; column: string; profilePath: readonly string[]; foldCase: boolean }
  | { kind: 'number' | 'timestamp' | 'calendar_date'; path: string; column: string; profilePath: readonly string[] }
  | { kind: 'event_count'; path: string; event: string }
  | { kind: 'product_count'; path: string; product: string }
  | { kind: 'json'; path: string; column: 'metadata' | 'system_metadata'; keys: readonly string[] };

/** Longest field path, in dot-separated segments (`metadata.a.b.c.d`). */
export const MAX_PATH_SEGMENTS = 5;

/**
 * Metadata keys and event names a path may name; keeps JSON paths free of quoting problems, and
 * prototype keys out (the JSON body parser refuses them as keys anyway).
 */
export const KEY_PATTERN = new RegExp(`^(?!(?:${PROTOTYPE_KEYS.join('|')})$)[A-Za-z0-9_-]{1,64}$`);

/** Event names the events API accepts: exactly the ones `events.<name>.count` can name. */
export const EVENT_NAME_PATTERN = KEY_PATTERN;

type FixedField = Exclude<Field, { kind: 'event_count' | 'product_count' | 'json' }>;

/** Every customer field with a column of its own. Column names come only from the catalogue, never from input. */
const FIXED_FIELDS: ReadonlyMap<string, FixedField> = new Map(
  CUSTOMER_FIELDS.map((f): [string, FixedField] => {
    const profilePath = f.path.split('.');
    const field: FixedField =
      f.kind === 'text'
        ? { kind: 'text', path: f.path, column: f.column, profilePath, foldCase: 'foldCase' in f }
        : { kind: f.kind, path: f.path, column: f.column, profilePath };
    return [f.path, field];
  }),
);

/** Resolves a field path of a filter; throws FilterError (at `path`) for anything not supported. */
export function resolveField(path: string): Field {
  const fixed = FIXED_FIELDS.get(path);
  if (fixed) return fixed;

  const segments = path.split('.');
  if (segments.length > MAX_PATH_SEGMENTS) {
    throw new FilterError('unknown_field', path, `field path "${path}" is deeper than ${MAX_PATH_SEGMENTS} segments`);
  }
  const [root, ...rest] = segments;
  const prototypeKey = rest.find(isPrototypeKey);
  if (prototypeKey !== undefined) {
    throw new FilterError('unknown_field', path, `"${prototypeKey}" in field path "${path}": ${PROTOTYPE_KEY_RULE}`);
  }

  if (root === 'metadata' || root === 'system_metadata') {
    if (rest.length === 0) {
      throw new FilterError('unknown_field', path, `field path "${path}" must name a key, e.g. "${root}.tier"`);
    }
    const bad = rest.find((key) => !KEY_PATTERN.test(key));
    if (bad !== undefined) {
      throw new FilterError('unknown_field', path, `"${bad}" in field path "${path}" is not a valid key: use 1 to 64 of A-Z a-z 0-9 _ -`);
    }
    return { kind: 'json', path, column: root, keys: rest };
  }

  if (root === 'events') {
    const [event, count] = rest;
    if (rest.length !== 2 || count !== 'count' || event === undefined) {
      throw new FilterError('unknown_field', path, `event fields look like "events.<event name>.count", not "${path}"`);
    }
    if (!KEY_PATTERN.test(event)) {
      throw new FilterError(
        'unknown_field',
        path,
        `"${event}" in field path "${path}" is not a valid event name: use 1 to 64 of A-Z a-z 0-9 _ -`,
      );
    }
    return { kind: 'event_count', path, event };
  }

  if (root === 'orders') {
    const [products, product, count] = rest;
    if (rest.length !== 3 || products !== 'products' || count !== 'count' || product === undefined) {
      throw new FilterError('unknown_field', path, `order fields look like "orders.products.<product id>.count", not "${path}"`);
    }
    if (!KEY_PATTERN.test(product)) {
      throw new FilterError(
        'unknown_field',
        path,
        `"${product}" in field path "${path}" is not a product id a filter can name: use 1 to 64 of A-Z a-z 0-9 _ -`,
      );
    }
    return { kind: 'product_count', path, product };
  }

  throw new FilterError('unknown_field', path, `unknown field "${path}"`);
}
