import {
  ADDRESS_FIELDS,
  type AddressKey,
  type ColumnValue,
  CUSTOMER_FIELDS,
  TOP_LEVEL_WRITABLE_FIELDS,
  WRITABLE_FIELDS,
  type WritableColumn,
} from '../../../shared/customer-fields';
import type { CustomerListQuery, CustomerWrite } from '../schemas/customers';
import { prepare, type Sql, sql } from './sql';

/** A row of the customers table, as D1 returns it: one column per catalogue field. */
export type CustomerRow = { [F in (typeof CUSTOMER_FIELDS)[number] as F['column']]: ColumnValue<F['kind']> } & {
  id: string;
  metadata: string;
  system_metadata: string;
  created_at: number;
};

/** address.<key> of the wire object and the column that stores it. */
export const ADDRESS_COLUMNS = Object.fromEntries(ADDRESS_FIELDS.map((f) => [f.key, f.column])) as Record<AddressKey, WritableColumn>;

/** Which customers a statement applies to: the ones just written, or all (the cron). */
export type CustomerSelector = { ids: string[] } | { sourceIds: string[] } | 'all';

/** The selected customers as a predicate over `customers c`. */
export function selectorSql(selector: CustomerSelector): Sql {
  if (selector === 'all') return { sql: '1', params: [] };
  if ('ids' in selector) return { sql: 'c.id IN (SELECT value FROM json_each(?))', params: [JSON.stringify(selector.ids)] };
  return { sql: 'c.source_id IN (SELECT value FROM json_each(?))', params: [JSON.stringify(selector.sourceIds)] };
}

/**
 * The next `size` customers after `after` in created_at order (descending: before it), as a
 * predicate over `customers c`. created_at is unique, so consecutive ranges never overlap nor skip
 * anyone; the far end is a scalar subquery over the created_at index (evaluated once), so the
 * statement covers at most `size` customers whatever else it tests. This is how heavy work is cut
 * into bounded D1 calls: each call evaluates a filter over one range, and other requests run
 * between the calls.
 */
export interface KeysetRange {
  after: number;
  size: number;
  descending: boolean;
}

const rangeParts = (r: KeysetRange) =>
  r.descending ? { cmp: '<', dir: 'DESC', edge: 'min', back: '>=' } : { cmp: '>', dir: 'ASC', edge: 'max', back: '<=' };

const rangeKeys = (r: KeysetRange) => {
  const { cmp, dir } = rangeParts(r);
  return `SELECT created_at AS k FROM customers WHERE created_at ${cmp} ? ORDER BY created_at ${dir} LIMIT ?`;
};

export function rangePredicate(r: KeysetRange): Sql {
  const { cmp, edge, back } = rangeParts(r);
  return {
    sql: `(c.created_at ${cmp} ? AND c.created_at ${back} (SELECT ${edge}(k) FROM (${rangeKeys(r)})))`,
    params: [r.after, r.after, r.size],
  };
}

/** How many customers the range holds and the created_at of its far end (null when empty). */
export function rangeEnd(db: D1Database, r: KeysetRange): D1PreparedStatement {
  return db.prepare(`SELECT count(*) AS customers, ${rangeParts(r).edge}(k) AS last FROM (${rangeKeys(r)})`).bind(r.after, r.size);
}

export interface RangeEnd {
  customers: number;
  last: number | null;
}

/** Reads the result of rangeEnd. */
export const rangeEndOf = (result: D1Result<Record<string, unknown>> | undefined): RangeEnd => {
  const row = result?.results[0] as { customers?: number; last?: number | null } | undefined;
  return { customers: Number(row?.customers ?? 0), last: row?.last ?? null };
};

/** Reads the selected customers back (e.g. at the end of a batch that changed them). */
export function selectCustomers(db: D1Database, selector: CustomerSelector): D1PreparedStatement {
  return prepare(db, sql`SELECT * FROM customers c WHERE ${selectorSql(selector)}`);
}

/** Every text column a write may set, source_id aside (the CSV import and the export read these too). */
export const CUSTOMER_TEXT_COLUMNS = WRITABLE_FIELDS.map((f) => f.column).filter(
  (c): c is Exclude<WritableColumn, 'source_id'> => c !== 'source_id',
);

type Assignment = [column: string, value: string | number | null];

/** Maps the fields present in `write` to column assignments; absent fields are left out. */
function assignments(write: CustomerWrite): Assignment[] {
  const out: Assignment[] = [];
  for (const field of TOP_LEVEL_WRITABLE_FIELDS) {
    const value = write[field.path];
    if (value !== undefined) out.push([field.column, value]);
  }
  for (const field of ADDRESS_FIELDS) {
    const value = write.address === null ? null : write.address?.[field.key];
    if (value !== undefined) out.push([field.column, value]);
  }
  if (write.metadata !== undefined) out.push(['metadata', JSON.stringify(write.metadata ?? {})]);
  return out;
}

/**
 * Whether writing `write` over `row` would change it: some field the write sets holds another value
 * in the row. Metadata is replaced whole by a write, so it is compared as the JSON it would store
 * (keys in their order: a reordering counts as a change, and is written). Lets a server validate
 * that sends a customer as stored skip its write (services/visitor.ts customerWriteNeeded).
 */
export function changesCustomer(row: CustomerRow, write: CustomerWrite): boolean {
  const stored = row as unknown as Record<string, string | number | null | undefined>;
  return assignments(write).some(([column, value]) =>
    column === 'metadata' ? value !== JSON.stringify(JSON.parse(String(stored.metadata ?? '{}'))) : (stored[column] ?? null) !== value,
  );
}

/**
 * created_at for a new row: now, or one millisecond past the newest customer, whichever is later.
 * This keeps created_at unique (see migration 0001) inside a batch and across requests, since D1
 * runs statements one at a time.
 */
const nextCreatedAt = (now: number): Sql => sql`max(${now}, coalesce((SELECT max(created_at) FROM customers), 0) + 1)`;

/** The columns and values of a new row: id, the write's fields, created_at. */
function insertedRow(id: string, set: Assignment[], now: number): { columns: Sql; values: Sql } {
  return {
    columns: sql.raw(['id', ...set.map(([c]) => c), 'created_at'].join(', ')),
    values: sql.list([sql`${id}`, ...set.map(([, v]) => sql`${v}`), nextCreatedAt(now)]),
  };
}

export function insertCustomer(db: D1Database, id: string, write: CustomerWrite, now: number): D1PreparedStatement {
  const { columns, values } = insertedRow(id, assignments(write), now);
  return prepare(db, sql`INSERT INTO customers (${columns}) VALUES (${values}) RETURNING *`);
}

/**
 * Insert, or update the customer with the same source_id: one statement, so two concurrent
 * upserts of one source_id cannot create two customers. The returned row has updated_at null
 * exactly when it was created.
 */
export function upsertCustomerBySourceId(
  db: D1Database,
  newId: string,
  write: CustomerWrite & { source_id: string },
  now: number,
): D1PreparedStatement {
  const set = assignments(write);
  const { columns, values } = insertedRow(newId, set, now);
  const updates = sql.list([
    ...set.filter(([c]) => c !== 'source_id').map(([c]) => sql.raw(`${c} = excluded.${c}`)),
    sql`updated_at = ${now}`,
  ]);
  return prepare(
    db,
    sql`INSERT INTO customers (${columns}) VALUES (${values})
       ON CONFLICT (source_id) DO UPDATE SET ${updates}
       RETURNING *`,
  );
}

/**
 * Creates a customer with this source_id unless one exists; never changes an existing one. A new
 * one starts with `metadata` applied as a merge patch (the metadata bulk update's upsert), so it is
 * created as it ends up: one customer.created webhook event, not a creation and then an update.
 */
export function insertCustomerIfMissing(
  db: D1Database,
  id: string,
  sourceId: string,
  now: number,
  metadata: Record<string, unknown> = {},
): D1PreparedStatement {
  return prepare(
    db,
    sql`INSERT INTO customers (id, source_id, metadata, created_at) VALUES (${id}, ${sourceId}, json_patch('{}', ${JSON.stringify(metadata)}), ${nextCreatedAt(now)})
       ON CONFLICT (source_id) DO NOTHING`,
  );
}

export function updateCustomer(db: D1Database, id: string, write: CustomerWrite, now: number): D1PreparedStatement {
  const clauses = sql.assignments([...assignments(write), ['updated_at', now]]);
  return prepare(db, sql`UPDATE customers SET ${clauses} WHERE id = ${id} RETURNING *`);
}

/** Looks a customer up by id, or else by source_id (an id match wins if both match). */
export async function findCustomer(db: D1Database, idOrSourceId: string): Promise<CustomerRow | null> {
  return prepare(
    db,
    sql`SELECT * FROM customers WHERE id = ${idOrSourceId} OR source_id = ${idOrSourceId} ORDER BY id = ${idOrSourceId} DESC LIMIT 1`,
  ).first<CustomerRow>();
}

/**
 * Deletes the customer, and what it bought as a filter input (customer_products, migration 0028).
 * Its orders stay, naming the customer id, as Voucherify keeps them.
 */
export async function deleteCustomer(db: D1Database, id: string): Promise<boolean> {
  const [, result] = await db.batch([
    db.prepare('DELETE FROM customer_products WHERE customer_id = ?').bind(id),
    db.prepare('DELETE FROM customers WHERE id = ?').bind(id),
  ]);
  return (result?.meta.changes ?? 0) > 0;
}

/**
 * Every table that holds rows about a person, keyed by customer id, with the name under which the
 * permanent-deletion report counts them. A migration that adds such a table adds it here too, and
 * the permanent-deletion test checks each one.
 */
const PERSONAL_DATA: { table: string; column: string; report: string }[] = [
  { table: 'events', column: 'profile_id', report: 'events' },
  { table: 'event_counters', column: 'profile_id', report: 'event_counters' },
  { table: 'validations', column: 'customer_id', report: 'validations' },
  { table: 'redemptions', column: 'customer_id', report: 'redemptions' },
  { table: 'tracking_profiles', column: 'customer_id', report: 'tracking_profiles' },
  // The customer's orders, their activity and the products they bought (migration 0028).
  { table: 'order_activities', column: 'customer_id', report: 'order_events' },
  { table: 'customer_products', column: 'customer_id', report: 'customer_products' },
  { table: 'orders', column: 'customer_id', report: 'orders' },
  // Before the customer row, whose deletion would cascade to these uncounted.
  { table: 'segment_members', column: 'customer_id', report: 'segments' },
  { table: 'customers', column: 'id', report: 'customer' },
];

/**
 * The tracking profiles of the same person: linked to the customer, or carrying the identity hash
 * of the person's own e-mail or source id (other devices where they signed in, never linked by a
 * redemption). A hash someone merely claimed on their own profile does not reach anyone else's:
 * only the hashes of the erased customer's own identities are followed.
 */
const personTrackingProfiles = (id: string, hmacs: string): Sql =>
  sql`SELECT id FROM tracking_profiles WHERE customer_id = ${id} OR identity_hmac IN (SELECT value FROM json_each(${hmacs}))`;

/**
 * The webhook events that hold the customer (migration 0023: webhook_outbox.customer_id names the
 * customer of customer.*, customer.segment.* and redemption.* events).
 */
const personEvents = (id: string): Sql => sql`SELECT id FROM webhook_outbox WHERE customer_id = ${id}`;

/** Why a delivery of an erased person's event was never made (the delivery log shows it). */
export const ERASED_DELIVERY_ERROR = 'Cancelled: the customer was permanently deleted before this event was delivered.';

/**
 * Removes every row about the customer in one batch (all or nothing); returns counts per kind.
 *
 * Counted by a `count(*)` just before each DELETE, in the same batch, not by D1's meta.changes:
 * that also counts the rows triggers write (the customer.deleted outbox row), so a project with
 * webhooks would report two customers deleted for one.
 *
 * The webhook outbox: the events naming the person go, and their deliveries not yet made are
 * cancelled (status dead), so no retry sends the person's data after the erasure; deliveries made
 * already are the receivers' copy. The one event kept is the customer.deleted this deletion fires
 * (when an endpoint subscribes to it), emptied to the customer's id: receivers learn which
 * customer to erase on their side, and nothing else about them.
 */
export async function deleteCustomerPermanently(db: D1Database, id: string, identityHmacs: string[]): Promise<Record<string, number>> {
  const hmacs = JSON.stringify(identityHmacs);
  const profiles = personTrackingProfiles(id, hmacs);
  const rowsOf = (table: string, where: Sql) => ({
    count: prepare(db, sql`SELECT count(*) AS n FROM ${sql.raw(table)} WHERE ${where}`),
    remove: prepare(db, sql`DELETE FROM ${sql.raw(table)} WHERE ${where}`),
  });
  // The anonymous history of the person's other tracking profiles goes first, while the profiles
  // that name it still exist.
  const steps: { report: string; count: D1PreparedStatement; remove: D1PreparedStatement }[] = [
    { report: 'events', ...rowsOf('events', sql`profile_id IN (${profiles})`) },
    { report: 'event_counters', ...rowsOf('event_counters', sql`profile_id IN (${profiles})`) },
    { report: 'validations', ...rowsOf('validations', sql`tracking_id IN (${profiles})`) },
    { report: 'tracking_profiles', ...rowsOf('tracking_profiles', sql`id IN (${profiles})`) },
    ...PERSONAL_DATA.map(({ table, column, report }) => ({ report, ...rowsOf(table, sql`${sql.raw(column)} = ${id}`) })),
  ];
  // The outbox first, so that what the deletes below fire (customer.deleted) is not taken with it.
  const outbox = [
    prepare(
      db,
      sql`UPDATE webhook_deliveries SET status = 'dead', last_error = ${ERASED_DELIVERY_ERROR}, next_attempt_at = NULL
         WHERE event_id IN (${personEvents(id)}) AND status IN ('pending', 'failed')`,
    ),
    prepare(db, sql`DELETE FROM webhook_outbox WHERE customer_id = ${id}`),
  ];
  // Last: the customer.deleted event just fired keeps only the customer's id and creation time
  // (an empty customer row: no field, zero counters).
  const redact = prepare(
    db,
    sql`UPDATE webhook_outbox SET snapshot = json_object('customer', json_set(json(${JSON.stringify(emptyCustomerRow(id, 0))}), '$.created_at', snapshot -> '$.customer.created_at'))
       WHERE customer_id = ${id} AND type = 'customer.deleted'`,
  );
  const results = await db.batch<Record<string, unknown>>([...outbox, ...steps.flatMap((s) => [s.count, s.remove]), redact]);
  const counts: Record<string, number> = {};
  steps.forEach(({ report }, i) => {
    counts[report] = (counts[report] ?? 0) + Number(results[outbox.length + 2 * i]?.results[0]?.n ?? 0);
  });
  return counts;
}

/**
 * The guard of the metadata size limit (migration 0023): placed in a batch after the writes of
 * these customers, it rolls the whole batch back (D1 refusal 'customer_metadata_too_large') when
 * any of them then stores more than `maxBytes` bytes of metadata, and writes nothing otherwise.
 */
export function metadataSizeCheck(
  db: D1Database,
  customers: { ids?: string[]; sourceIds?: string[] },
  maxBytes: number,
): D1PreparedStatement {
  return prepare(
    db,
    sql`INSERT INTO customer_metadata_checks (ids, source_ids, max_bytes) VALUES (${JSON.stringify(customers.ids ?? [])}, ${JSON.stringify(customers.sourceIds ?? [])}, ${maxBytes})`,
  );
}

/**
 * Of these source ids, the customers whose metadata with `patch` merged in (RFC 7396) would be
 * more than `maxBytes` bytes as JSON, with that size: the failed rows of a bulk metadata merge.
 */
export async function metadataMergesOverLimit(
  db: D1Database,
  sourceIds: string[],
  patch: Record<string, unknown>,
  maxBytes: number,
): Promise<{ source_id: string; bytes: number }[]> {
  const { results } = await prepare(
    db,
    sql`SELECT source_id, bytes FROM (
         SELECT source_id, length(CAST(json_patch(metadata, ${JSON.stringify(patch)}) AS BLOB)) AS bytes FROM customers
         WHERE source_id IN (SELECT value FROM json_each(${JSON.stringify(sourceIds)})))
       WHERE bytes > ${maxBytes}`,
  ).all<{ source_id: string; bytes: number }>();
  return results;
}

/**
 * Merges `patch` into the metadata of the customers with these source ids (RFC 7396 merge patch:
 * a null value removes the key). Returns the customers it changed.
 */
export function mergeMetadataBySourceIds(
  db: D1Database,
  sourceIds: string[],
  patch: Record<string, unknown>,
  now: number,
): D1PreparedStatement {
  return prepare(
    db,
    sql`UPDATE customers SET metadata = json_patch(metadata, ${JSON.stringify(patch)}), updated_at = ${now}
       WHERE source_id IN (SELECT value FROM json_each(${JSON.stringify(sourceIds)})) RETURNING id, source_id`,
  );
}

/** The keys a customer list sorts by. */
export interface ListKeys {
  id: string;
  created_at: number;
  updated_at: number | null;
  source_id: string | null;
}

/** SQLite's BINARY collation compares UTF-8 bytes, which order as code points (not UTF-16 units). */
function compareText(a: string, b: string): number {
  for (let i = 0, j = 0; i < a.length && j < b.length;) {
    const x = a.codePointAt(i) as number;
    const y = b.codePointAt(j) as number;
    if (x !== y) return x - y;
    i += x > 0xffff ? 2 : 1;
    j += y > 0xffff ? 2 : 1;
  }
  return a.length - b.length;
}

/** NULL first or last, else `compare`; created_at (unique) breaks every tie. */
const byThen =
  <K extends 'updated_at' | 'source_id'>(
    key: K,
    descending: boolean,
    compare: (x: NonNullable<ListKeys[K]>, y: NonNullable<ListKeys[K]>) => number,
  ) =>
  (a: ListKeys, b: ListKeys): number => {
    const x = a[key];
    const y = b[key];
    const sign = descending ? -1 : 1;
    if (x === null || y === null) {
      if (x === y) return sign * (a.created_at - b.created_at);
      // ASC puts NULL first for updated_at (as SQLite does) and last for source_id; DESC NULLS LAST.
      const nullFirst = key === 'updated_at' && !descending;
      return (x === null ? -1 : 1) * (nullFirst ? 1 : -1);
    }
    return sign * (compare(x as NonNullable<ListKeys[K]>, y as NonNullable<ListKeys[K]>) || a.created_at - b.created_at);
  };

/**
 * The orders of GET /v1/customers: the SQL of each, and the same order in JavaScript, for a list
 * merged from bounded range queries (a passive segment's members).
 */
export const LIST_ORDERS: Record<CustomerListQuery['order'], { sql: string; compare: (a: ListKeys, b: ListKeys) => number }> = {
  created_at: { sql: 'created_at ASC', compare: (a, b) => a.created_at - b.created_at },
  '-created_at': { sql: 'created_at DESC', compare: (a, b) => b.created_at - a.created_at },
  updated_at: { sql: 'updated_at ASC NULLS FIRST, created_at ASC', compare: byThen('updated_at', false, (x, y) => x - y) },
  '-updated_at': { sql: 'updated_at DESC NULLS LAST, created_at DESC', compare: byThen('updated_at', true, (x, y) => x - y) },
  source_id: { sql: 'source_id ASC NULLS LAST, created_at ASC', compare: byThen('source_id', false, compareText) },
  '-source_id': { sql: 'source_id DESC NULLS LAST, created_at DESC', compare: byThen('source_id', true, compareText) },
};

/** The list's filters as WHERE terms; the cursor apart, since it narrows the page and not the total. */
function listConditions(q: CustomerListQuery, restrict?: Sql, membersOf?: string): { where: Sql[]; cursor: Sql | null } {
  const where: Sql[] = [];
  if (restrict) where.push(sql`coalesce((${restrict}), 0)`);
  if (membersOf !== undefined) {
    // Bare (never NULL: customer_id is NOT NULL), so the planner may drive the query from the members' key.
    where.push(storedMember(membersOf));
  }
  const add = (clause: (value: string | number) => Sql, value: string | number | undefined) => {
    if (value !== undefined) where.push(clause(value));
  };
  add((v) => sql`c.email = ${v} COLLATE NOCASE`, q.email);
  add((v) => sql`c.address_city = ${v}`, q.city);
  add((v) => sql`c.name = ${v}`, q.name);
  add((v) => sql`c.created_at < ${v}`, q.createdBefore);
  add((v) => sql`c.created_at > ${v}`, q.createdAfter);
  add((v) => sql`c.updated_at < ${v}`, q.updatedBefore);
  add((v) => sql`c.updated_at > ${v}`, q.updatedAfter);
  const cursor =
    q.startingAfter === undefined
      ? null
      : q.order === 'created_at'
        ? sql`c.created_at > ${q.startingAfter}`
        : sql`c.created_at < ${q.startingAfter}`;
  return { where, cursor };
}

/** Conditions joined by AND, as written (an empty list: no WHERE clause). */
const whereClause = (conditions: Sql[]): Sql => (conditions.length ? sql`WHERE ${conjunction(conditions)}` : sql.raw(''));
const conjunction = (conditions: Sql[]): Sql => ({
  sql: conditions.map((c) => c.sql).join(' AND '),
  params: conditions.flatMap((c) => c.params),
});

const storedMember = (segmentId: string): Sql => sql`c.id IN (SELECT customer_id FROM segment_members WHERE segment_id = ${segmentId})`;

/**
 * One page of customers plus the total matching the filters (the cursor narrows the page only),
 * optionally among the stored members of a static or auto-update segment: index work only, no
 * filter evaluated per customer. A passive segment's filter goes through matchesInRange instead.
 * The members' total with no other filter is counted on segment_members' primary key alone (a
 * stored counter would be one more row every membership change writes, on the checkout path).
 */
export async function listCustomers(
  db: D1Database,
  q: CustomerListQuery,
  membersOf?: string,
): Promise<{ rows: CustomerRow[]; total: number; hasMore: boolean }> {
  const { where, cursor } = listConditions(q, undefined, membersOf);
  const onlyMembers = membersOf !== undefined && where.length === 1;
  const pageWhere = whereClause(cursor ? [...where, cursor] : where);

  const [page, count] = await db.batch<Record<string, unknown>>([
    prepare(
      db,
      sql`SELECT * FROM customers c ${pageWhere} ORDER BY ${sql.raw(LIST_ORDERS[q.order].sql)} LIMIT ${q.limit + 1} OFFSET ${(q.page - 1) * q.limit}`,
    ),
    onlyMembers
      ? db.prepare('SELECT count(*) AS total FROM segment_members WHERE segment_id = ?').bind(membersOf)
      : prepare(db, sql`SELECT count(*) AS total FROM customers c ${whereClause(where)}`),
  ]);
  const rows = (page?.results ?? []) as unknown as CustomerRow[];
  return {
    rows: rows.slice(0, q.limit),
    hasMore: rows.length > q.limit,
    total: Number(count?.results[0]?.total ?? 0),
  };
}

/**
 * The customers of one keyset range that match the list's filters and `restrict`: how many match
 * (for the total), and the first `keep` of those the page may show, in the list's order, by their
 * sort keys. One D1 call over at most range.size customers, with the range's end.
 */
export async function matchesInRange(
  db: D1Database,
  q: CustomerListQuery,
  restrict: Sql,
  range: KeysetRange,
  keep: number,
): Promise<{ matched: number; candidates: ListKeys[]; end: RangeEnd }> {
  const { where, cursor } = listConditions(q, restrict);
  const inRange = rangePredicate(range);
  const [matches, end] = await db.batch<Record<string, unknown>>([
    prepare(
      db,
      sql`SELECT c.id, c.created_at, c.updated_at, c.source_id, count(*) OVER () AS matched, ${cursor ?? sql.raw('1')} AS on_page
         FROM customers c WHERE ${conjunction([inRange, ...where])}
         ORDER BY on_page DESC, ${sql.raw(LIST_ORDERS[q.order].sql)} LIMIT ${keep}`,
    ),
    rangeEnd(db, range),
  ]);
  const rows = (matches?.results ?? []) as unknown as (ListKeys & { matched: number; on_page: number })[];
  return {
    matched: Number(rows[0]?.matched ?? 0),
    candidates: rows
      .filter((r) => r.on_page)
      .map(({ id, created_at, updated_at, source_id }) => ({ id, created_at, updated_at, source_id })),
    end: rangeEndOf(end),
  };
}

/** The customers with these ids (any order). */
export async function customersByIds(db: D1Database, ids: string[]): Promise<CustomerRow[]> {
  if (ids.length === 0) return [];
  return (
    await db.prepare('SELECT * FROM customers WHERE id IN (SELECT value FROM json_each(?))').bind(JSON.stringify(ids)).all<CustomerRow>()
  ).results;
}

/**
 * The row of a visitor who is no customer yet: no fields, zero counters. Rules judge an anonymous
 * visitor against it, so a rule on a customer field sees exactly what a new customer would have.
 */
export function emptyCustomerRow(id: string, createdAt: number): CustomerRow {
  const row: Record<string, unknown> = { id, metadata: '{}', system_metadata: '{}' };
  for (const field of CUSTOMER_FIELDS) row[field.column] = field.kind === 'number' ? 0 : null;
  row.created_at = createdAt;
  return row as CustomerRow;
}
