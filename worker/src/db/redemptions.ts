export interface RedemptionRow {
  id: string;
  object: 'redemption' | 'redemption_rollback';
  result: 'SUCCESS' | 'FAILURE';
  status: 'SUCCEEDED' | 'FAILED' | 'ROLLED_BACK';
  voucher_id: string | null;
  code: string;
  customer_id: string | null;
  tracking_id: string | null;
  amount: number | null;
  discount_amount: number | null;
  order_json: string;
  metadata: string;
  failure_code: string | null;
  failure_message: string | null;
  parent_id: string | null;
  rollback_of: string | null;
  idempotency_key: string | null;
  created_at: number;
}

export function insertRedemption(db: D1Database, row: RedemptionRow, customerSql?: { sql: string; params: (string | number | null)[] }): D1PreparedStatement {
  // The customer may be created by the same batch, so its id can be selected inside the statement.
  const customerId = customerSql ? `(SELECT c.id FROM customers c WHERE ${customerSql.sql} LIMIT 1)` : '?';
  return db
    .prepare(
      `INSERT INTO redemptions (id, object, result, status, voucher_id, code, customer_id, tracking_id, amount, discount_amount,
         order_json, metadata, failure_code, failure_message, parent_id, rollback_of, idempotency_key, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ${customerId}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    )
    .bind(
      row.id, row.object, row.result, row.status, row.voucher_id, row.code,
      ...(customerSql ? customerSql.params : [row.customer_id]),
      row.tracking_id, row.amount, row.discount_amount, row.order_json, row.metadata, row.failure_code,
      row.failure_message, row.parent_id, row.rollback_of, row.idempotency_key, row.created_at,
    );
}

export function findRedemption(db: D1Database, id: string): Promise<RedemptionRow | null> {
  return db.prepare('SELECT * FROM redemptions WHERE id = ?').bind(id).first<RedemptionRow>();
}

export function findRedemptionsByIdempotencyKey(db: D1Database, key: string): Promise<RedemptionRow | null> {
  return db.prepare('SELECT * FROM redemptions WHERE idempotency_key = ?').bind(key).first<RedemptionRow>();
}

export function childRedemptions(db: D1Database, parentId: string): Promise<D1Result<RedemptionRow>> {
  return db.prepare('SELECT * FROM redemptions WHERE parent_id = ? ORDER BY id').bind(parentId).all<RedemptionRow>();
}

export async function listRedemptions(
  db: D1Database,
  q: { limit: number; page: number; customerId?: string },
): Promise<{ rows: RedemptionRow[]; total: number }> {
  const where = q.customerId ? 'WHERE customer_id = ?' : '';
  const params = q.customerId ? [q.customerId] : [];
  const [page, count] = await db.batch<Record<string, unknown>>([
    db
      .prepare(`SELECT * FROM redemptions ${where} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`)
      .bind(...params, q.limit, (q.page - 1) * q.limit),
    db.prepare(`SELECT count(*) AS total FROM redemptions ${where}`).bind(...params),
  ]);
  return { rows: (page?.results ?? []) as unknown as RedemptionRow[], total: Number(count?.results[0]?.total ?? 0) };
}

/** Takes one unit of quantity; past the quantity the table's CHECK fails and the batch rolls back. */
export function takeVoucherUnit(db: D1Database, voucherId: string, now: number): D1PreparedStatement {
  return db.prepare('UPDATE vouchers SET redeemed_quantity = redeemed_quantity + 1, updated_at = ? WHERE id = ?').bind(now, voucherId);
}

export function returnVoucherUnit(db: D1Database, voucherId: string, now: number): D1PreparedStatement {
  return db.prepare('UPDATE vouchers SET redeemed_quantity = redeemed_quantity - 1, updated_at = ? WHERE id = ?').bind(now, voucherId);
}

/** summary.* after a redemption attempt of the selected customer. */
export function recordRedemptionInSummary(
  db: D1Database,
  customer: { sql: string; params: (string | number | null)[] },
  outcome: { succeeded: boolean; orderAmount: number | null; now: number },
): D1PreparedStatement {
  const orders = outcome.succeeded && outcome.orderAmount !== null
    ? `, orders_total_amount = orders_total_amount + ?, orders_total_count = orders_total_count + 1,
         orders_last_order_amount = ?, orders_last_order_date = ?`
    : '';
  const orderParams = outcome.succeeded && outcome.orderAmount !== null ? [outcome.orderAmount, outcome.orderAmount, outcome.now] : [];
  return db
    .prepare(
      `UPDATE customers AS c SET
         redemptions_total_redeemed = redemptions_total_redeemed + 1,
         redemptions_total_succeeded = redemptions_total_succeeded + ?,
         redemptions_total_failed = redemptions_total_failed + ?,
         updated_at = ? ${orders}
       WHERE ${customer.sql}`,
    )
    .bind(outcome.succeeded ? 1 : 0, outcome.succeeded ? 0 : 1, outcome.now, ...orderParams, ...customer.params);
}

/** summary.* after a rollback: the order no longer counts. */
export function recordRollbackInSummary(db: D1Database, customerId: string, orderAmount: number | null, now: number): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE customers SET
         redemptions_total_rolled_back = redemptions_total_rolled_back + 1,
         redemptions_total_rollback_succeeded = redemptions_total_rollback_succeeded + 1,
         orders_total_amount = max(0, orders_total_amount - ?),
         orders_total_count = max(0, orders_total_count - ?),
         updated_at = ?
       WHERE id = ?`,
    )
    .bind(orderAmount ?? 0, orderAmount === null ? 0 : 1, now, customerId);
}

export function markRolledBack(db: D1Database, id: string): D1PreparedStatement {
  return db.prepare("UPDATE redemptions SET status = 'ROLLED_BACK' WHERE id = ?").bind(id);
}

/** Which named constraint or trigger aborted a batch, if one did. */
export function abortReason(error: unknown): 'voucher_quantity_exceeded' | 'ambiguous_tracking_id' | 'duplicate_idempotency_key' | 'already_rolled_back' | null {
  const message = error instanceof Error ? error.message : '';
  if (message.includes('voucher_quantity_exceeded')) return 'voucher_quantity_exceeded';
  if (message.includes('ambiguous_tracking_id')) return 'ambiguous_tracking_id';
  if (message.includes('redemptions.idempotency_key')) return 'duplicate_idempotency_key';
  if (message.includes('redemptions.rollback_of')) return 'already_rolled_back';
  return null;
}
