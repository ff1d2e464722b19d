/** @module The field paths a filter may name, what kind each is, and where it lives in D1. */

import { FilterError } from './errors';

/**
 * How a field's value is stored, which decides the operators that apply to it:
 * - `text`: a TEXT column; the profile holds a string or null.
 * - `number`: an INTEGER column that is never NULL; the profile holds a number.
 * - `timestamp`: an INTEGER column of epoch ms (NULL allowed); the profile holds an ISO string or nothing.
 * - `calendar_date`: a TEXT column `YYYY-MM-DD`; the profile holds the same string or null.
 * - `event_count`: how many events of one type the customer has; 0 when none.
 * - `json`: a value inside the metadata or system_metadata JSON column; any JSON type, or missing.
 */
export type FieldKind = 'text' | 'number' | 'timestamp' | 'calendar_date' | 'event_count' | 'json';

export type Field =
  | { kind: 'text'; path: string; column: string; profilePath: readonly string[]; foldCase: boolean }
  | { kind: 'number' | 'timestamp' | 'calendar_date'; path: string; column: string; profilePath: readonly string[] }
  | { kind: 'event_count'; path: string; event: string }
  | { kind: 'json'; path: string; column: 'metadata' | 'system_metadata'; keys: readonly string[] };

/** Longest field path, in dot-separated segments (`metadata.a.b.c.d`). */
export const MAX_PATH_SEGMENTS = 5;

/** Metadata keys and event names a path may name; keeps JSON paths free of quoting problems. */
export const KEY_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Event names the events API accepts: exactly the ones `events.<name>.count` can name. */
export const EVENT_NAME_PATTERN = KEY_PATTERN;

type FixedField = Exclude<Field, { kind: 'event_count' | 'json' }>;

const text = (path: string, column: string, foldCase = false): FixedField => ({
  kind: 'text',
  path,
  column,
  profilePath: path.split('.'),
  foldCase,
});
const typed = (kind: 'number' | 'timestamp' | 'calendar_date', path: string, column: string): FixedField => ({
  kind,
  path,
  column,
  profilePath: path.split('.'),
});

/** Every field with a column of its own. Column names come only from here, never from input. */
const FIXED_FIELDS: ReadonlyMap<string, FixedField> = new Map(
  [
    text('name', 'name'),
    // Addresses are case-insensitive in practice (RFC 5321 local parts aside), and users type them in any case.
    text('email', 'email', true),
    text('phone', 'phone'),
    text('source_id', 'source_id'),
    text('description', 'description'),
    text('address.city', 'address_city'),
    text('address.state', 'address_state'),
    text('address.country', 'address_country'),
    text('address.postal_code', 'address_postal_code'),
    text('address.line_1', 'address_line_1'),
    text('address.line_2', 'address_line_2'),
    typed('timestamp', 'created_at', 'created_at'),
    typed('timestamp', 'updated_at', 'updated_at'),
    typed('timestamp', 'summary.orders.last_order_date', 'orders_last_order_date'),
    typed('calendar_date', 'birthdate', 'birthdate'),
    typed('number', 'summary.orders.total_amount', 'orders_total_amount'),
    typed('number', 'summary.orders.total_count', 'orders_total_count'),
    typed('number', 'summary.orders.average_amount', 'orders_average_amount'),
    typed('number', 'summary.orders.last_order_amount', 'orders_last_order_amount'),
    typed('number', 'summary.redemptions.total_redeemed', 'redemptions_total_redeemed'),
    typed('number', 'summary.redemptions.total_failed', 'redemptions_total_failed'),
    typed('number', 'summary.redemptions.total_succeeded', 'redemptions_total_succeeded'),
    typed('number', 'summary.redemptions.total_rolled_back', 'redemptions_total_rolled_back'),
    typed('number', 'summary.redemptions.total_rollback_failed', 'redemptions_total_rollback_failed'),
    typed('number', 'summary.redemptions.total_rollback_succeeded', 'redemptions_total_rollback_succeeded'),
    typed('number', 'summary.redemptions.gift.redeemed_amount', 'redemptions_gift_redeemed_amount'),
    typed('number', 'summary.redemptions.gift.amount_to_go', 'redemptions_gift_amount_to_go'),
    typed('number', 'summary.redemptions.loyalty_card.redeemed_points', 'redemptions_loyalty_redeemed_points'),
    typed('number', 'summary.redemptions.loyalty_card.points_to_go', 'redemptions_loyalty_points_to_go'),
    typed('number', 'loyalty.points', 'loyalty_points'),
    typed('number', 'loyalty.referred_customers', 'loyalty_referred_customers'),
  ].map((field) => [field.path, field]),
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

  if (root === 'metadata' || root === 'system_metadata') {
    if (rest.length === 0) {
      throw new FilterError('unknown_field', path, `field path "${path}" must name a key, e.g. "${root}.tier"`);
    }
    const bad = rest.find((key) => !KEY_PATTERN.test(key));
    if (bad !== undefined) {
      throw new FilterError(
        'unknown_field',
        path,
        `"${bad}" in field path "${path}" is not a valid key: use 1 to 64 of A-Z a-z 0-9 _ -`,
      );
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

  throw new FilterError('unknown_field', path, `unknown field "${path}"`);
}
