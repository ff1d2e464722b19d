import type { Customer } from '../../../shared/types';
import type { CustomerListQuery, CustomerWrite } from '../schemas/customers';
import { toIso } from '../lib/time';

/** A row of the customers table, as D1 returns it. */
export interface CustomerRow {
  id: string;
  source_id: string | null;
  name: string | null;
  description: string | null;
  email: string | null;
  phone: string | null;
  birthdate: string | null;
  address_city: string | null;
  address_state: string | null;
  address_line_1: string | null;
  address_line_2: string | null;
  address_country: string | null;
  address_postal_code: string | null;
  metadata: string;
  system_metadata: string;
  redemptions_total_redeemed: number;
  redemptions_total_failed: number;
  redemptions_total_succeeded: number;
  redemptions_total_rolled_back: number;
  redemptions_total_rollback_failed: number;
  redemptions_total_rollback_succeeded: number;
  redemptions_gift_redeemed_amount: number;
  redemptions_gift_amount_to_go: number;
  redemptions_loyalty_redeemed_points: number;
  redemptions_loyalty_points_to_go: number;
  orders_total_amount: number;
  orders_total_count: number;
  orders_average_amount: number;
  orders_last_order_amount: number;
  orders_last_order_date: number | null;
  loyalty_points: number;
  loyalty_referred_customers: number;
  created_at: number;
  updated_at: number | null;
}


/** address.<field> of the wire object and the column that stores it. */
export const ADDRESS_COLUMNS = {
  city: 'address_city',
  state: 'address_state',
  line_1: 'address_line_1',
  line_2: 'address_line_2',
  country: 'address_country',
  postal_code: 'address_postal_code',
} as const;

/** A SQL boolean expression over `customers c` with its bound values (see shared/filter compileSql). */
export interface Predicate {
  sql: string;
  params: (string | number | null)[];
}

/** Which customers a statement applies to: the ones just written, or all (the cron). */
export type CustomerSelector = { ids: string[] } | { sourceIds: string[] } | 'all';

/** The selected customers as a predicate over `customers c`. */
export function selectorSql(selector: CustomerSelector): Predicate {
  if (selector === 'all') return { sql: '1', params: [] };
  if ('ids' in selector) return { sql: 'c.id IN (SELECT value FROM json_each(?))', params: [JSON.stringify(selector.ids)] };
  return { sql: 'c.source_id IN (SELECT value FROM json_each(?))', params: [JSON.stringify(selector.sourceIds)] };
}

/** Reads the selected customers back (e.g. at the end of a batch that changed them). */
export function selectCustomers(db: D1Database, selector: CustomerSelector): D1PreparedStatement {
  const sel = selectorSql(selector);
  return db.prepare(`SELECT * FROM customers c WHERE ${sel.sql}`).bind(...sel.params);
}

/** The customer's own text fields besides source_id and the address; names reach SQL only from here. */
const PROFILE_COLUMNS = ['name', 'description', 'email', 'phone', 'birthdate'] as const;

/** Every text column a write may set, source_id aside (the CSV import writes these too). */
export const CUSTOMER_TEXT_COLUMNS = [
  ...PROFILE_COLUMNS,
  'address_city',
  'address_state',
  'address_line_1',
  'address_line_2',
  'address_country',
  'address_postal_code',
] as const satisfies readonly (string & keyof CustomerRow)[];

type Assignment = [column: string, value: string | number | null];

/** Maps the fields present in `write` to column assignments; absent fields are left out. */
function assignments(write: CustomerWrite): Assignment[] {
  const out: Assignment[] = [];
  for (const key of ['source_id', ...PROFILE_COLUMNS] as const) {
    const value = write[key];
    if (value !== undefined) out.push([key, value]);
  }
  if (write.address === null) {
    for (const column of Object.values(ADDRESS_COLUMNS)) out.push([column, null]);
  } else if (write.address !== undefined) {
    for (const [field, column] of Object.entries(ADDRESS_COLUMNS)) {
      const value = write.address[field as keyof typeof ADDRESS_COLUMNS];
      if (value !== undefined) out.push([column, value]);
    }
  }
  if (write.metadata !== undefined) out.push(['metadata', JSON.stringify(write.metadata ?? {})]);
  return out;
}

/**
 * created_at for a new row: now, or one millisecond past the newest customer, whichever is later.
 * This keeps created_at unique (see migration 0001) inside a batch and across requests, since D1
 * runs statements one at a time.
 */
const NEXT_CREATED_AT = 'max(?, coalesce((SELECT max(created_at) FROM customers), 0) + 1)';

export function insertCustomer(db: D1Database, id: string, write: CustomerWrite, now: number): D1PreparedStatement {
  const set = assignments(write);
  const columns = ['id', ...set.map(([c]) => c), 'created_at'];
  const placeholders = [...columns.slice(0, -1).map(() => '?'), NEXT_CREATED_AT];
  return db
    .prepare(`INSERT INTO customers (${columns.join(', ')}) VALUES (${placeholders.join(', ')}) RETURNING *`)
    .bind(id, ...set.map(([, v]) => v), now);
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
  const columns = ['id', ...set.map(([c]) => c), 'created_at'];
  const placeholders = [...columns.slice(0, -1).map(() => '?'), NEXT_CREATED_AT];
  const updates = [...set.filter(([c]) => c !== 'source_id').map(([c]) => `${c} = excluded.${c}`), 'updated_at = ?'];
  return db
    .prepare(
      `INSERT INTO customers (${columns.join(', ')}) VALUES (${placeholders.join(', ')})
       ON CONFLICT (source_id) DO UPDATE SET ${updates.join(', ')}
       RETURNING *`,
    )
    .bind(newId, ...set.map(([, v]) => v), now, now);
}

/** Creates a customer with this source_id unless one exists; never changes an existing one. */
export function insertCustomerIfMissing(db: D1Database, id: string, sourceId: string, now: number): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO customers (id, source_id, created_at) VALUES (?, ?, ${NEXT_CREATED_AT})
       ON CONFLICT (source_id) DO NOTHING`,
    )
    .bind(id, sourceId, now);
}

export function updateCustomer(db: D1Database, id: string, write: CustomerWrite, now: number): D1PreparedStatement {
  const set = assignments(write);
  const clauses = [...set.map(([c]) => `${c} = ?`), 'updated_at = ?'];
  return db
    .prepare(`UPDATE customers SET ${clauses.join(', ')} WHERE id = ? RETURNING *`)
    .bind(...set.map(([, v]) => v), now, id);
}

/** Looks a customer up by id, or else by source_id (an id match wins if both match). */
export async function findCustomer(db: D1Database, idOrSourceId: string): Promise<CustomerRow | null> {
  return db
    .prepare(
      `SELECT * FROM customers WHERE id = ?1 OR source_id = ?1 ORDER BY id = ?1 DESC LIMIT 1`,
    )
    .bind(idOrSourceId)
    .first<CustomerRow>();
}

export async function deleteCustomer(db: D1Database, id: string): Promise<boolean> {
  const result = await db.prepare('DELETE FROM customers WHERE id = ?').bind(id).run();
  return result.meta.changes > 0;
}

/**
 * Every table that holds rows about a person, keyed by customer id, with the name under which the
 * permanent-deletion report counts them. A migration that adds such a table adds it here too, and
 * the permanent-deletion test checks each one.
 */
const PERSONAL_DATA: { table: string; column: string; report: string }[] = [
  { table: 'events', column: 'profile_id', report: 'events' },
  { table: 'validations', column: 'customer_id', report: 'validations' },
  { table: 'redemptions', column: 'customer_id', report: 'redemptions' },
  { table: 'tracking_profiles', column: 'customer_id', report: 'tracking_profiles' },
  // Before the customer row, whose deletion would cascade to these uncounted.
  { table: 'segment_members', column: 'customer_id', report: 'segments' },
  { table: 'customers', column: 'id', report: 'customer' },
];

/**
 * The tracking profiles of the same person: linked to the customer, or carrying the identity hash
 * of one that is (other devices, never linked by a redemption).
 */
const PERSON_TRACKING_PROFILES = `SELECT id FROM tracking_profiles WHERE customer_id = ?1 OR identity_hmac IN
  (SELECT identity_hmac FROM tracking_profiles WHERE customer_id = ?1 AND identity_hmac IS NOT NULL)`;

/** Removes every row about the customer in one batch (all or nothing); returns counts per kind. */
export async function deleteCustomerPermanently(db: D1Database, id: string): Promise<Record<string, number>> {
  // The anonymous history of the person's other tracking profiles goes first, while the profiles
  // that name it still exist.
  const anonymous = [
    { report: 'events', statement: db.prepare(`DELETE FROM events WHERE profile_id IN (${PERSON_TRACKING_PROFILES})`).bind(id) },
    { report: 'validations', statement: db.prepare(`DELETE FROM validations WHERE tracking_id IN (${PERSON_TRACKING_PROFILES})`).bind(id) },
    { report: 'tracking_profiles', statement: db.prepare(`DELETE FROM tracking_profiles WHERE id IN (${PERSON_TRACKING_PROFILES})`).bind(id) },
  ];
  const steps = [
    ...anonymous,
    ...PERSONAL_DATA.map(({ table, column, report }) => ({ report, statement: db.prepare(`DELETE FROM ${table} WHERE ${column} = ?`).bind(id) })),
  ];
  const results = await db.batch(steps.map((s) => s.statement));
  const counts: Record<string, number> = {};
  steps.forEach(({ report }, i) => {
    counts[report] = (counts[report] ?? 0) + (results[i]?.meta.changes ?? 0);
  });
  return counts;
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
  return db
    .prepare(
      `UPDATE customers SET metadata = json_patch(metadata, ?), updated_at = ?
       WHERE source_id IN (SELECT value FROM json_each(?)) RETURNING id, source_id`,
    )
    .bind(JSON.stringify(patch), now, JSON.stringify(sourceIds));
}

const ORDER_BY: Record<CustomerListQuery['order'], string> = {
  created_at: 'created_at ASC',
  '-created_at': 'created_at DESC',
  updated_at: 'updated_at ASC NULLS FIRST, created_at ASC',
  '-updated_at': 'updated_at DESC NULLS LAST, created_at DESC',
  source_id: 'source_id ASC NULLS LAST, created_at ASC',
  '-source_id': 'source_id DESC NULLS LAST, created_at DESC',
};

/** One page of customers plus the total matching the filters (the cursor narrows the page only). */
export async function listCustomers(
  db: D1Database,
  q: CustomerListQuery,
  restrict?: Predicate,
): Promise<{ rows: CustomerRow[]; total: number; hasMore: boolean }> {
  const where: string[] = [];
  const params: (string | number | null)[] = [];
  if (restrict) {
    where.push(`coalesce((${restrict.sql}), 0)`);
    params.push(...restrict.params);
  }
  const add = (clause: string, value: string | number | undefined) => {
    if (value === undefined) return;
    where.push(clause);
    params.push(value);
  };
  add('email = ? COLLATE NOCASE', q.email);
  add('address_city = ?', q.city);
  add('name = ?', q.name);
  add('created_at < ?', q.createdBefore);
  add('created_at > ?', q.createdAfter);
  add('updated_at < ?', q.updatedBefore);
  add('updated_at > ?', q.updatedAfter);
  const filterSql = where.length ? `WHERE ${where.join(' AND ')}` : '';

  const pageWhere = [...where];
  const pageParams = [...params];
  if (q.startingAfter !== undefined) {
    pageWhere.push(q.order === 'created_at' ? 'created_at > ?' : 'created_at < ?');
    pageParams.push(q.startingAfter);
  }
  const pageSql = pageWhere.length ? `WHERE ${pageWhere.join(' AND ')}` : '';

  const [page, count] = await db.batch<Record<string, unknown>>([
    db
      .prepare(`SELECT * FROM customers c ${pageSql} ORDER BY ${ORDER_BY[q.order]} LIMIT ? OFFSET ?`)
      .bind(...pageParams, q.limit + 1, (q.page - 1) * q.limit),
    db.prepare(`SELECT count(*) AS total FROM customers c ${filterSql}`).bind(...params),
  ]);
  const rows = (page?.results ?? []) as unknown as CustomerRow[];
  return {
    rows: rows.slice(0, q.limit),
    hasMore: rows.length > q.limit,
    total: Number(count?.results[0]?.total ?? 0),
  };
}

const parseJsonObject = (text: string): Record<string, unknown> => {
  const value: unknown = JSON.parse(text);
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
};

export function rowToCustomer(row: CustomerRow): Customer {
  const address = {
    city: row.address_city,
    state: row.address_state,
    line_1: row.address_line_1,
    line_2: row.address_line_2,
    country: row.address_country,
    postal_code: row.address_postal_code,
  };
  const orders: Customer['summary']['orders'] = {
    total_amount: row.orders_total_amount,
    total_count: row.orders_total_count,
    average_amount: row.orders_average_amount,
    last_order_amount: row.orders_last_order_amount,
  };
  if (row.orders_last_order_date !== null) orders.last_order_date = toIso(row.orders_last_order_date);
  const customer: Customer = {
    id: row.id,
    source_id: row.source_id,
    name: row.name,
    description: row.description,
    email: row.email,
    phone: row.phone,
    birthdate: row.birthdate,
    address: Object.values(address).some((v) => v !== null) ? address : null,
    summary: {
      redemptions: {
        total_redeemed: row.redemptions_total_redeemed,
        total_failed: row.redemptions_total_failed,
        total_succeeded: row.redemptions_total_succeeded,
        total_rolled_back: row.redemptions_total_rolled_back,
        total_rollback_failed: row.redemptions_total_rollback_failed,
        total_rollback_succeeded: row.redemptions_total_rollback_succeeded,
        gift: { redeemed_amount: row.redemptions_gift_redeemed_amount, amount_to_go: row.redemptions_gift_amount_to_go },
        loyalty_card: {
          redeemed_points: row.redemptions_loyalty_redeemed_points,
          points_to_go: row.redemptions_loyalty_points_to_go,
        },
      },
      orders,
    },
    loyalty: { points: row.loyalty_points, referred_customers: row.loyalty_referred_customers, campaigns: {} },
    referrals: { total: 0, campaigns: [] },
    metadata: parseJsonObject(row.metadata),
    system_metadata: parseJsonObject(row.system_metadata),
    created_at: toIso(row.created_at),
    object: 'customer',
  };
  if (row.updated_at !== null) customer.updated_at = toIso(row.updated_at);
  return customer;
}

/** True when `error` is D1 refusing a duplicate value of `table.column`. */
export function isUniqueViolation(error: unknown, table: string, column: string): boolean {
  return error instanceof Error && error.message.includes(`UNIQUE constraint failed: ${table}.${column}`);
}
