import type { RedemptionFilterField, RedemptionListQuery } from '../schemas/checkout';
import type { StringConditions } from '../schemas/common';
import type { CustomerRow } from './customers';
import type { VoucherRow } from './vouchers';
import { prepare, type Sql, sql } from './sql';

export interface RedemptionRow {
  id: string;
  object: 'redemption' | 'redemption_rollback';
  result: 'SUCCESS' | 'FAILURE';
  status: 'SUCCEEDED' | 'FAILED' | 'ROLLED_BACK';
  voucher_id: string | null;
  /** The code redeemed; '' on a stacked parent (and its rollback). */
  code: string;
  customer_id: string | null;
  tracking_id: string | null;
  /** The order amount (what a rollback takes off the customer's order summary), not a wire field. */
  amount: number | null;
  discount_amount: number | null;
  order_json: string;
  metadata: string;
  failure_code: string | null;
  failure_message: string | null;
  /** A stacked child: its parent redemption; a stacked rollback's child: the parent rollback. */
  parent_id: string | null;
  rollback_of: string | null;
  /**
   * A failed rollback: the redemption it tried to roll back (migration 0035). Apart from
   * rollback_of, whose UNIQUE guards that a redemption is rolled back once, so a redemption may be
   * refused any number of times. Absent on rows built before it existed: stored as null.
   */
  failed_rollback_of?: string | null;
  idempotency_key: string | null;
  created_at: number;
  request_hash: string | null;
  reason: string | null;
  error_message: string | null;
  channel_id: string | null;
}

/** Rows, and the customers and vouchers they name, for shaping answers. */
export interface RedemptionRelations {
  customers: Map<string, CustomerRow>;
  vouchers: Map<string, VoucherRow>;
}

const COLUMNS = [
  'id',
  'object',
  'result',
  'status',
  'voucher_id',
  'code',
  'customer_id',
  'tracking_id',
  'amount',
  'discount_amount',
  'order_json',
  'metadata',
  'failure_code',
  'failure_message',
  'parent_id',
  'rollback_of',
  'idempotency_key',
  'created_at',
  'request_hash',
  'reason',
  'error_message',
  'channel_id',
  'failed_rollback_of',
] as const satisfies readonly (keyof RedemptionRow)[];

/**
 * Which key wrote a row (migration 0024). Each class has its own namespace of idempotency keys: the
 * public client key can neither see nor take a key of the shop's backend, nor the reverse.
 */
export type KeyClass = 'server' | 'client';

/** The column that holds the idempotency keys of a class. */
const KEY_COLUMN: Record<KeyClass, string> = { server: 'idempotency_key', client: 'client_idempotency_key' };

/**
 * Inserts a row. With `customer`, customer_id is the customer that predicate selects at that point
 * of the batch (it may be created by the same batch). `keyClass` is the key that made the request:
 * the row's idempotency_key is stored in that class's column. With `orderId`, the stored order's id
 * is that expression's value at that point of the batch.
 */
export function insertRedemption(
  db: D1Database,
  row: RedemptionRow,
  customer?: Sql | null,
  keyClass: KeyClass = 'server',
  orderId?: Sql,
): D1PreparedStatement {
  const values = COLUMNS.map((column) =>
    column === 'customer_id' && customer
      ? sql`(SELECT c.id FROM customers c WHERE ${customer} LIMIT 1)`
      : column === 'idempotency_key' && keyClass !== 'server'
        ? sql`${null}`
        : column === 'order_json' && orderId
          ? // The order's id as stored: a redemption naming an order by source_id attaches to that order.
            sql`json_set(${row.order_json}, '$.id', coalesce(${orderId}, json_extract(${row.order_json}, '$.id')))`
          : sql`${row[column] ?? null}`,
  );
  const classed = [sql`${keyClass}`, sql`${keyClass === 'client' ? row.idempotency_key : null}`];
  return prepare(
    db,
    sql`INSERT INTO redemptions (${sql.raw(COLUMNS.join(', '))}, key_class, client_idempotency_key) VALUES (${sql.list([...values, ...classed])})`,
  );
}

export function findRedemptionsByIdempotencyKey(db: D1Database, key: string, keyClass: KeyClass = 'server'): Promise<RedemptionRow | null> {
  return db.prepare(`SELECT * FROM redemptions WHERE ${KEY_COLUMN[keyClass]} = ?`).bind(key).first<RedemptionRow>();
}

export interface RedemptionGroup extends RedemptionRelations {
  head: RedemptionRow | null;
  /** Rows whose parent_id is the head (a stacked parent's children), in the order they were written. */
  children: RedemptionRow[];
}

/**
 * A redemption (by id, or by idempotency key within the namespace of the class of key that sent
 * it), its children and the customers and vouchers they name, in one batch.
 */
export async function findRedemptionGroup(
  db: D1Database,
  by: { id: string } | { idempotencyKey: string; keyClass: KeyClass },
): Promise<RedemptionGroup> {
  const head =
    'id' in by ? sql`${by.id}` : sql`(SELECT id FROM redemptions WHERE ${sql.raw(KEY_COLUMN[by.keyClass])} = ${by.idempotencyKey})`;
  const group = (column: string) => sql`SELECT ${sql.raw(column)} FROM redemptions WHERE id = ${head} OR parent_id = ${head}`;
  const [heads, children, customers, vouchers] = await db.batch<Record<string, unknown>>([
    prepare(db, sql`SELECT * FROM redemptions WHERE id = ${head}`),
    prepare(db, sql`SELECT * FROM redemptions WHERE parent_id = ${head} ORDER BY rowid`),
    prepare(db, sql`SELECT * FROM customers WHERE id IN (${group('customer_id')})`),
    prepare(db, sql`SELECT * FROM vouchers WHERE id IN (${group('voucher_id')})`),
  ]);
  return {
    head: (heads?.results[0] as unknown as RedemptionRow | undefined) ?? null,
    children: (children?.results ?? []) as unknown as RedemptionRow[],
    ...relations(customers?.results, vouchers?.results),
  };
}

function relations(customers: unknown[] | undefined, vouchers: unknown[] | undefined): RedemptionRelations {
  return {
    customers: new Map(((customers ?? []) as CustomerRow[]).map((c) => [c.id, c])),
    vouchers: new Map(((vouchers ?? []) as VoucherRow[]).map((v) => [v.id, v])),
  };
}

/** The customers and vouchers of some rows, in one statement each. */
export function relationStatements(db: D1Database, rows: RedemptionRow[]): D1PreparedStatement[] {
  const ids = (pick: (row: RedemptionRow) => string | null) => JSON.stringify([...new Set(rows.map(pick).filter((id) => id !== null))]);
  return [
    db.prepare('SELECT * FROM customers WHERE id IN (SELECT value FROM json_each(?))').bind(ids((r) => r.customer_id)),
    db.prepare('SELECT * FROM vouchers WHERE id IN (SELECT value FROM json_each(?))').bind(ids((r) => r.voucher_id)),
  ];
}

export function readRelations(results: D1Result<Record<string, unknown>>[]): RedemptionRelations {
  return relations(results[0]?.results, results[1]?.results);
}

/** The campaign of a redemption's voucher (migration 0017), as a SQL expression over `redemptions r`. */
const REDEMPTION_CAMPAIGN_ID = '(SELECT v.campaign_id FROM vouchers v WHERE v.id = r.voucher_id)';

/**
 * Each filterable field of GET /v1/redemptions as a SQL expression over `redemptions r`. The
 * parent object is the voucher's campaign; dashboard users do not exist here (null on every row).
 */
const FILTER_COLUMNS: Record<RedemptionFilterField, string> = {
  voucher_code: "nullif(r.code, '')",
  related_object_id: "CASE WHEN r.code = '' THEN coalesce(r.rollback_of, r.failed_rollback_of, r.id) ELSE coalesce(r.voucher_id, r.id) END",
  related_object_parent_id: REDEMPTION_CAMPAIGN_ID,
  parent_redemption_id: 'r.parent_id',
  failure_code: 'r.failure_code',
  result: 'r.result',
  object: 'r.object',
  customer_id: 'r.customer_id',
  campaign_name: `(SELECT c.name FROM campaigns c WHERE c.id = ${REDEMPTION_CAMPAIGN_ID})`,
  user_login: 'NULL',
};

const likeEscape = (value: string) => value.replace(/[\\%_]/g, (ch) => `\\${ch}`);

/** OA FilterConditionsString on one column; every condition given must hold. */
export function conditionsSql(expression: string, conditions: StringConditions): Sql {
  const column = sql.raw(expression);
  const parts: Sql[] = [];
  if (conditions.$in) parts.push(sql`${column} IN (SELECT value FROM json_each(${JSON.stringify(conditions.$in)}))`);
  if (conditions.$not_in)
    parts.push(sql`${column} IS NULL OR ${column} NOT IN (SELECT value FROM json_each(${JSON.stringify(conditions.$not_in)}))`);
  if (conditions.$is !== undefined) parts.push(sql`${column} = ${conditions.$is}`);
  if (conditions.$is_not !== undefined) parts.push(sql`${column} IS NULL OR ${column} != ${conditions.$is_not}`);
  if (conditions.$has_value !== undefined) parts.push(sql`${column} IS NOT NULL`);
  if (conditions.$is_unknown !== undefined) parts.push(sql`${column} IS NULL`);
  if (conditions.$starts_with !== undefined) parts.push(sql`${column} LIKE ${`${likeEscape(conditions.$starts_with)}%`} ESCAPE '\\'`);
  if (conditions.$ends_with !== undefined) parts.push(sql`${column} LIKE ${`%${likeEscape(conditions.$ends_with)}`} ESCAPE '\\'`);
  if (conditions.$contains !== undefined) parts.push(sql`${column} LIKE ${`%${likeEscape(conditions.$contains)}%`} ESCAPE '\\'`);
  if (conditions.$not_contain !== undefined)
    parts.push(sql`${column} IS NULL OR ${column} NOT LIKE ${`%${likeEscape(conditions.$not_contain)}%`} ESCAPE '\\'`);
  return sql.join(parts, 'AND');
}

/** The WHERE of a redemption list query, over `redemptions r`. */
export function listPredicate(q: Omit<RedemptionListQuery, 'limit' | 'page' | 'order'>): Sql {
  const parts: Sql[] = [];
  // Redemptions of a deleted customer keep its id: an id that is no customer still matches.
  if (q.customer !== undefined)
    parts.push(
      sql`r.customer_id IN (SELECT id FROM customers WHERE id = ${q.customer} OR source_id = ${q.customer}) OR r.customer_id = ${q.customer}`,
    );
  if (q.result) parts.push(sql`r.result IN (SELECT value FROM json_each(${JSON.stringify(q.result)}))`);
  // OA `campaign`: "the campaign **name** that the redemption resources originate from" (its id too, as elsewhere here).
  if (q.campaign !== undefined) {
    parts.push(
      sql`r.voucher_id IN (SELECT v.id FROM vouchers v WHERE v.campaign_id IN (SELECT id FROM campaigns WHERE name = ${q.campaign} OR id = ${q.campaign}))`,
    );
  }
  if (q.createdBefore !== undefined) parts.push(sql`r.created_at < ${q.createdBefore}`);
  if (q.createdAfter !== undefined) parts.push(sql`r.created_at > ${q.createdAfter}`);
  if (q.filters) {
    const { junction, ...fields } = q.filters;
    const filters = Object.entries(fields).map(([field, filter]) =>
      conditionsSql(FILTER_COLUMNS[field as RedemptionFilterField], filter.conditions),
    );
    if (filters.length > 0) parts.push(sql.join(filters, junction === 'or' ? 'OR' : 'AND'));
  }
  return sql.join(parts, 'AND');
}

const ORDER_BY: Record<RedemptionListQuery['order'], string> = {
  created_at: 'r.created_at ASC, r.rowid ASC',
  '-created_at': 'r.created_at DESC, r.rowid DESC',
  id: 'r.id ASC',
  '-id': 'r.id DESC',
  voucher_code: 'r.code ASC, r.created_at ASC',
  '-voucher_code': 'r.code DESC, r.created_at DESC',
  tracking_id: 'r.tracking_id ASC NULLS LAST, r.created_at ASC',
  '-tracking_id': 'r.tracking_id DESC NULLS LAST, r.created_at DESC',
  customer_id: 'r.customer_id ASC NULLS LAST, r.created_at ASC',
  '-customer_id': 'r.customer_id DESC NULLS LAST, r.created_at DESC',
};

/**
 * One page of redemptions with the total, and the customers and vouchers of the page: two
 * batches whatever the page size.
 */
export async function listRedemptions(
  db: D1Database,
  where: Sql,
  page: { limit: number; page: number; order: RedemptionListQuery['order'] },
): Promise<{ rows: RedemptionRow[]; total: number } & RedemptionRelations> {
  const [rows, count] = await db.batch<Record<string, unknown>>([
    prepare(
      db,
      sql`SELECT r.* FROM redemptions r WHERE ${where} ORDER BY ${sql.raw(ORDER_BY[page.order])} LIMIT ${page.limit} OFFSET ${(page.page - 1) * page.limit}`,
    ),
    prepare(db, sql`SELECT count(*) AS total FROM redemptions r WHERE ${where}`),
  ]);
  const list = (rows?.results ?? []) as unknown as RedemptionRow[];
  const related =
    list.length > 0 ? readRelations(await db.batch<Record<string, unknown>>(relationStatements(db, list))) : relations([], []);
  return { rows: list, total: Number(count?.results[0]?.total ?? 0), ...related };
}

/**
 * The redeem batch's per-customer guard (migrations 0016, 0033): aborts it
 * (customer_redemption_limit_reached) when the customer `customer` selects has more than
 * `maxCount` successful, not rolled back redemptions of the voucher since `since`, counting its
 * validation sessions' holds still live at `now` as redemptions.
 */
export function checkCustomerRedemptions(
  db: D1Database,
  voucherId: string,
  customer: Sql,
  since: number,
  maxCount: number,
  now: number,
): D1PreparedStatement {
  return prepare(
    db,
    sql`INSERT INTO redemption_limit_checks (voucher_id, customer_id, since, max_count, at)
        VALUES (${voucherId}, (SELECT c.id FROM customers c WHERE ${customer} LIMIT 1), ${since}, ${maxCount}, ${now})`,
  );
}

/** Takes one unit of quantity; past the quantity the table's CHECK fails and the batch rolls back. */
export function takeVoucherUnit(db: D1Database, voucherId: string, now: number): D1PreparedStatement {
  return db.prepare('UPDATE vouchers SET redeemed_quantity = redeemed_quantity + 1, updated_at = ? WHERE id = ?').bind(now, voucherId);
}

/**
 * Gives back the unit `redemptionId` took, unless that redemption is rolled back already: so the
 * rollback batch may return units before it inserts its rollback rows (their rows then see the
 * voucher as the rollback leaves it, migration 0022), and a concurrent second rollback still fails
 * on the rows' UNIQUE rollback_of (already_rolled_back), never on the quantity's CHECK.
 */
export function returnVoucherUnit(db: D1Database, voucherId: string, redemptionId: string, now: number): D1PreparedStatement {
  return prepare(
    db,
    sql`UPDATE vouchers SET redeemed_quantity = redeemed_quantity - 1, updated_at = ${now}
       WHERE id = ${voucherId} AND NOT EXISTS (SELECT 1 FROM redemptions WHERE rollback_of = ${redemptionId})`,
  );
}

/**
 * summary.redemptions.* after a redemption attempt of the selected customer. summary.orders.* is not
 * counted here: the redemption writes its order to the orders table, and the summary is recomputed
 * from that table in the same batch (db/orders.ts), so an order redeemed against twice counts once.
 */
export function recordRedemptionInSummary(
  db: D1Database,
  customer: Sql,
  outcome: { succeeded: boolean; now: number },
): D1PreparedStatement {
  const { succeeded, now } = outcome;
  return prepare(
    db,
    sql`UPDATE customers AS c SET
          redemptions_total_redeemed = redemptions_total_redeemed + 1,
          redemptions_total_succeeded = redemptions_total_succeeded + ${succeeded ? 1 : 0},
          redemptions_total_failed = redemptions_total_failed + ${succeeded ? 0 : 1},
          updated_at = ${now}
        WHERE ${customer}`,
  );
}

/** summary.redemptions.* after a rollback (its order is CANCELED and the orders summary recomputed beside it). */
export function recordRollbackInSummary(db: D1Database, customerId: string, now: number): D1PreparedStatement {
  return prepare(
    db,
    sql`UPDATE customers SET
         redemptions_total_rolled_back = redemptions_total_rolled_back + 1,
         redemptions_total_rollback_succeeded = redemptions_total_rollback_succeeded + 1,
         updated_at = ${now}
       WHERE id = ${customerId}`,
  );
}

/** summary.redemptions.total_rollback_failed after a refused rollback was stored (migration 0035). */
export function recordFailedRollbackInSummary(db: D1Database, customerId: string, now: number): D1PreparedStatement {
  return prepare(
    db,
    sql`UPDATE customers SET redemptions_total_rollback_failed = redemptions_total_rollback_failed + 1, updated_at = ${now}
       WHERE id = ${customerId}`,
  );
}

/** The redemption is rolled back; its order now reads as the rollback left it (status CANCELED). */
export function markRolledBack(db: D1Database, id: string, orderJson: string): D1PreparedStatement {
  return db.prepare("UPDATE redemptions SET status = 'ROLLED_BACK', order_json = ? WHERE id = ?").bind(orderJson, id);
}

/**
 * Deletes up to `limit` redemptions the public client key stored for nobody, made before `before`:
 * guest redemptions (no customer) and failed ones, each with its stacked children and any rollback
 * of them, in one batch. Resolves to how many were picked; fewer than `limit` means none is left.
 * Oldest first, through the partial index of client rows (migration 0024).
 */
export async function deleteExpiredClientRedemptions(db: D1Database, before: number, limit: number): Promise<number> {
  const { results } = await prepare(
    db,
    sql`SELECT id FROM redemptions
       WHERE key_class = 'client' AND created_at < ${before} AND parent_id IS NULL AND (customer_id IS NULL OR result = 'FAILURE')
       ORDER BY created_at LIMIT ${limit}`,
  ).all<{ id: string }>();
  if (results.length === 0) return 0;
  const heads = JSON.stringify(results.map((r) => r.id));
  const group = sql`SELECT id FROM redemptions WHERE id IN (SELECT value FROM json_each(${heads})) OR parent_id IN (SELECT value FROM json_each(${heads}))`;
  await db.batch([
    // A rollback (and each child's rollback) names what it rolled back: it goes with it, and so
    // does a failed rollback, which names it in its own column (migration 0035).
    prepare(db, sql`DELETE FROM redemptions WHERE rollback_of IN (${group})`),
    prepare(db, sql`DELETE FROM redemptions WHERE failed_rollback_of IN (${group})`),
    prepare(db, sql`DELETE FROM redemptions WHERE id IN (${group})`),
  ]);
  return results.length;
}
