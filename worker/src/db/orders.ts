import type { OrderListOrder, OrderStatus } from '../schemas/orders';
import { prepare, type Sql, sql, type SqlValue } from './sql';

// The orders table (migration 0028) and what is derived from it: the customers' summary.orders.*
// and the customer_products input of the product filter. Both are recomputed from the table for the
// customers an order write touches, in the order write's batch, never counted up or down: sending an
// order again changes nothing, a status change or a new amount moves them by exactly that.

/**
 * The statuses that count toward summary.orders.*: "Lists only data for orders with the PAID or
 * FULFILLED status. Data from orders with a CREATED or CANCELED status are not included."
 * (voucherify-openapi production/readOnly-openAPI.json, CustomerSummaryOrders, L5664).
 */
export const COUNTING_STATUSES: readonly OrderStatus[] = ['PAID', 'FULFILLED'];
const COUNTING = sql.raw(COUNTING_STATUSES.map((s) => `'${s}'`).join(', '));

export interface OrderRow {
  id: string;
  source_id: string | null;
  customer_id: string | null;
  referrer_id: string | null;
  status: OrderStatus;
  amount: number | null;
  initial_amount: number | null;
  discount_amount: number | null;
  /** JSON array of the items as given. */
  items: string;
  /** JSON object. */
  metadata: string;
  /** JSON array of the product and SKU identifiers the items name. */
  products: string;
  created_at: number;
  updated_at: number | null;
}

/** The columns an order write may set; absent ones are left as stored (or their default on insert). */
export interface OrderWrite {
  source_id?: string | null;
  referrer_id?: string | null;
  status?: OrderStatus;
  amount?: number | null;
  initial_amount?: number | null;
  discount_amount?: number | null;
  items?: string;
  products?: string;
  metadata?: string;
  created_at?: number;
}

const JSON_COLUMNS = new Set(['items', 'products', 'metadata']);
/** Order of the columns a write may set: fixed here, never from input. */
const WRITABLE = [
  'source_id',
  'referrer_id',
  'status',
  'amount',
  'initial_amount',
  'discount_amount',
  'items',
  'products',
  'metadata',
] as const satisfies readonly (keyof OrderWrite)[];

/** How an upsert finds the order it may update. */
export type OrderKey = { id: string } | { sourceId: string };

/** The customer an order belongs to: `{ customer }` the customer that predicate selects at that point of the batch. */
export type OrderCustomer = { customer: Sql } | 'unchanged';

/** The customer id an order column takes: the customer a predicate over `customers c` selects. */
const customerIdOf = (customer: Sql): Sql => sql`(SELECT c.id FROM customers c WHERE ${customer} LIMIT 1)`;

export interface UpsertOptions {
  /** `keep`: an order that exists already keeps its figures (a redemption naming a stored order). */
  onExisting?: { keep: (keyof OrderWrite)[]; keepCustomerIfSet?: boolean };
}

/**
 * Creates the order, or updates the one the key names with the fields given (absent ones stay). An
 * update that would change nothing writes nothing (no updated_at, no activity). Keyed by id or
 * source_id, so two writes of one new order race to a single row.
 */
export function upsertOrder(
  db: D1Database,
  key: OrderKey,
  newId: string,
  write: OrderWrite,
  customer: OrderCustomer,
  now: number,
  options: UpsertOptions = {},
): D1PreparedStatement {
  const id = 'id' in key ? key.id : newId;
  const given = WRITABLE.filter((column) => write[column] !== undefined);
  const columns: string[] = ['id', ...given];
  const values: Sql[] = [sql`${id}`, ...given.map((c) => sql`${(write[c] ?? null) as SqlValue}`)];
  if ('sourceId' in key && !given.includes('source_id')) {
    columns.push('source_id');
    values.push(sql`${key.sourceId}`);
  }
  if (customer !== 'unchanged') {
    columns.push('customer_id');
    values.push(customerIdOf(customer.customer));
  }
  columns.push('created_at', 'updated_at');
  values.push(sql`${write.created_at ?? now}`, sql`${null}`);

  const keep = new Set<string>(options.onExisting?.keep ?? []);
  const updated = given.filter((c) => !keep.has(c) && c !== ('sourceId' in key ? 'source_id' : ''));
  const sets = updated.map((c) => sql.raw(`${c} = excluded.${c}`));
  const differs = updated.map((c) =>
    sql.raw(JSON_COLUMNS.has(c) ? `json(orders.${c}) IS NOT json(excluded.${c})` : `orders.${c} IS NOT excluded.${c}`),
  );
  if (customer !== 'unchanged') {
    sets.push(
      sql.raw(
        options.onExisting?.keepCustomerIfSet
          ? 'customer_id = coalesce(orders.customer_id, excluded.customer_id)'
          : 'customer_id = excluded.customer_id',
      ),
    );
    differs.push(
      sql.raw(
        options.onExisting?.keepCustomerIfSet
          ? '(orders.customer_id IS NULL AND excluded.customer_id IS NOT NULL)'
          : 'orders.customer_id IS NOT excluded.customer_id',
      ),
    );
  }
  const conflict = sql.raw('id' in key ? 'id' : 'source_id');
  const onConflict =
    sets.length === 0
      ? sql`ON CONFLICT (${conflict}) DO NOTHING`
      : sql`ON CONFLICT (${conflict}) DO UPDATE SET ${sql.list([...sets, sql`updated_at = ${now}`])} WHERE ${sql.join(differs, 'OR')}`;
  return prepare(db, sql`INSERT INTO orders (${sql.raw(columns.join(', '))}) VALUES (${sql.list(values)}) ${onConflict}`);
}

/** The order a key names (id, else source_id), as a predicate over `orders o`. */
export const orderKeySql = (key: OrderKey): Sql => ('id' in key ? sql`o.id = ${key.id}` : sql`o.source_id = ${key.sourceId}`);

/** The stored id of the order a key names, as an expression at its point of a batch. */
export const storedOrderId = (key: OrderKey): Sql => sql`(SELECT o.id FROM orders o WHERE ${orderKeySql(key)})`;

/** The customer the order a key names has at that point of a batch, or `also`: a predicate over `customers c`. */
export function customerOfOrderOr(key: OrderKey, also: Sql | null): Sql {
  const ofOrder = sql`c.id IN (SELECT o.customer_id FROM orders o WHERE ${orderKeySql(key)})`;
  return also ? sql.join([also, ofOrder], 'OR') : ofOrder;
}

/** The order a key names, read in a batch. */
export const selectOrder = (db: D1Database, key: OrderKey): D1PreparedStatement =>
  prepare(db, sql`SELECT * FROM orders o WHERE ${orderKeySql(key)}`);

/** The order a key names. */
export const findOrderByKey = (db: D1Database, key: OrderKey): Promise<OrderRow | null> => selectOrder(db, key).first<OrderRow>();

/** An order by id, else by source_id (GET and PUT /v1/orders/{orderId}: "Unique Voucherify order ID or order source ID"). */
export async function findOrder(db: D1Database, idOrSourceId: string): Promise<OrderRow | null> {
  return prepare(
    db,
    sql`SELECT * FROM orders WHERE id = ${idOrSourceId} UNION ALL SELECT * FROM orders WHERE source_id = ${idOrSourceId} LIMIT 1`,
  ).first<OrderRow>();
}

/** The orders named by ids or source ids, for the import's chunks: which customers they belonged to before. */
export function selectOrderCustomers(db: D1Database, ids: string[], sourceIds: string[]): D1PreparedStatement {
  return prepare(
    db,
    sql`SELECT DISTINCT customer_id FROM orders
        WHERE customer_id IS NOT NULL AND (id IN (SELECT value FROM json_each(${JSON.stringify(ids)}))
           OR source_id IN (SELECT value FROM json_each(${JSON.stringify(sourceIds)})))`,
  );
}

/** A rollback's order no longer counts (OA: a rolled back redemption's order reads CANCELED). */
export function cancelOrder(db: D1Database, id: string, now: number): D1PreparedStatement {
  return prepare(db, sql`UPDATE orders SET status = 'CANCELED', updated_at = ${now} WHERE id = ${id} AND status != 'CANCELED'`);
}

/**
 * summary.orders.* of the selected customers (a predicate over `customers c`), recomputed from their
 * counting orders; a customer whose figures are already right is not written.
 */
export function recomputeOrderSummary(db: D1Database, customers: Sql, now: number): D1PreparedStatement {
  const counting = sql`FROM orders o WHERE o.customer_id = c.id AND o.status IN (${COUNTING})`;
  return prepare(
    db,
    sql`UPDATE customers SET orders_total_amount = s.total_amount, orders_total_count = s.total_count,
          orders_last_order_amount = s.last_amount, orders_last_order_date = s.last_date, updated_at = ${now}
        FROM (SELECT c.id AS customer_id,
                     (SELECT coalesce(sum(coalesce(o.amount, 0)), 0) ${counting}) AS total_amount,
                     (SELECT count(*) ${counting}) AS total_count,
                     coalesce((SELECT coalesce(o.amount, 0) ${counting} ORDER BY o.created_at DESC, o.rowid DESC LIMIT 1), 0) AS last_amount,
                     (SELECT max(o.created_at) ${counting}) AS last_date
              FROM customers c WHERE ${customers}) AS s
        WHERE customers.id = s.customer_id
          AND (customers.orders_total_amount IS NOT s.total_amount OR customers.orders_total_count IS NOT s.total_count
               OR customers.orders_last_order_amount IS NOT s.last_amount OR customers.orders_last_order_date IS NOT s.last_date)`,
  );
}

/** customer_products of the selected customers, rebuilt from their counting orders (two statements). */
export function rebuildCustomerProducts(db: D1Database, customers: Sql): D1PreparedStatement[] {
  const ids = sql`SELECT c.id FROM customers c WHERE ${customers}`;
  return [
    prepare(db, sql`DELETE FROM customer_products WHERE customer_id IN (${ids})`),
    prepare(
      db,
      sql`INSERT INTO customer_products (customer_id, product, orders)
          SELECT o.customer_id, k.value, count(DISTINCT o.id) FROM orders o, json_each(o.products) AS k
          WHERE o.customer_id IN (${ids}) AND o.status IN (${COUNTING})
          GROUP BY o.customer_id, k.value`,
    ),
  ];
}

/** What every order write ends with for the customers it touched: the summary and the product counts. */
export function derivedOrderWrites(db: D1Database, customers: Sql, now: number): D1PreparedStatement[] {
  return [recomputeOrderSummary(db, customers, now), ...rebuildCustomerProducts(db, customers)];
}

/** The products a customer bought (its counting orders), for judging one profile: per product id, the count. */
export async function customerProductCounts(db: D1Database, customerId: string): Promise<Record<string, { count: number }>> {
  const { results } = await prepare(db, sql`SELECT product, orders FROM customer_products WHERE customer_id = ${customerId}`).all<{
    product: string;
    orders: number;
  }>();
  return Object.fromEntries(results.map((r) => [r.product, { count: r.orders }]));
}

const ORDER_BY: Record<OrderListOrder, string> = {
  created_at: 'created_at ASC, rowid ASC',
  '-created_at': 'created_at DESC, rowid DESC',
  updated_at: 'coalesce(updated_at, created_at) ASC, rowid ASC',
  '-updated_at': 'coalesce(updated_at, created_at) DESC, rowid DESC',
};

/** One page of orders and the total, in one batch. */
export async function listOrders(
  db: D1Database,
  page: { limit: number; page: number; order: OrderListOrder },
): Promise<{ rows: OrderRow[]; total: number }> {
  const [rows, count] = await db.batch<Record<string, unknown>>([
    prepare(
      db,
      sql`SELECT * FROM orders ORDER BY ${sql.raw(ORDER_BY[page.order])} LIMIT ${page.limit} OFFSET ${(page.page - 1) * page.limit}`,
    ),
    prepare(db, sql`SELECT count(*) AS total FROM orders`),
  ]);
  return { rows: (rows?.results ?? []) as unknown as OrderRow[], total: Number(count?.results[0]?.total ?? 0) };
}
