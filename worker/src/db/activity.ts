import { prepare, type Sql, sql } from './sql';

// The customer activity feed (GET /v1/customers/{id}/activity and /activities), read in one
// statement from the tables that record what happened to a customer: events (custom events and
// segment transitions), redemptions (attempts, failures, rollbacks), order_activities (orders
// created, updated, paid, canceled, fulfilled: written by the orders table's triggers, migration
// 0028) and the customer row itself (customer.created). Validations are not in it: the validations table records the attempt only,
// not whether it succeeded, and the feed has no type for an attempt of unknown outcome.

/** The activity types this feed can state (a subset of OA CustomerActivity.type). */
export const ACTIVITY_TYPES = [
  'customer.created',
  'customer.custom_event',
  'customer.segment.entered',
  'customer.segment.left',
  'customer.redemption.succeeded',
  'customer.redemption.failed',
  'customer.redemption.rollback.succeeded',
  'customer.redemption.rollback.failed',
  'customer.order.created',
  'customer.order.updated',
  'customer.order.paid',
  'customer.order.canceled',
  'customer.order.fulfilled',
] as const;
export type ActivityType = (typeof ACTIVITY_TYPES)[number];

export interface ActivityRow {
  /** The id of the row the activity reports: evcus_… (events), r_/rf_/rr_/rrf_… (redemptions), oev_… (orders), cust_… (created). */
  id: string;
  type: ActivityType;
  created_at: number;
  /** The stored event type (the custom event's name); null for other sources. */
  name: string | null;
  /** JSON: the event's metadata, the redemption's columns, or the order as it was; null for customer.created. */
  detail: string | null;
}

export interface ActivityQuery {
  customerId: string;
  limit: number;
  order: 'created_at' | '-created_at';
  /** Continue after this activity id (OA `starting_after_id`). */
  startingAfterId?: string;
  /** Continue after this time (the deprecated /activities `starting_after`). */
  startingAfter?: number;
  /** Inclusive bounds (OA `start_date` / `end_date`). */
  startDate?: number;
  endDate?: number;
  type?: string;
}

/**
 * A stacked redemption's parent only groups its children (one activity each), so it is left out.
 * A custom event name cannot contain a dot (schemas/events.ts), so the stored types
 * customer.segment.* never collide with one.
 */
const activityCte = (customerId: string): Sql => sql`WITH activity (id, type, created_at, name, detail) AS (
  SELECT id,
         CASE WHEN type IN ('customer.segment.entered', 'customer.segment.left') THEN type ELSE 'customer.custom_event' END,
         created_at, type, metadata
  FROM events WHERE profile_id = ${customerId}
  UNION ALL
  SELECT r.id,
         CASE WHEN r.object = 'redemption_rollback' AND r.result = 'FAILURE' THEN 'customer.redemption.rollback.failed'
              WHEN r.object = 'redemption_rollback' THEN 'customer.redemption.rollback.succeeded'
              WHEN r.result = 'SUCCESS' THEN 'customer.redemption.succeeded'
              ELSE 'customer.redemption.failed' END,
         r.created_at, NULL,
         json_object('voucher_id', r.voucher_id, 'code', r.code, 'tracking_id', r.tracking_id,
                     'order', json(r.order_json), 'metadata', json(r.metadata), 'result', r.result,
                     'failure_code', r.failure_code, 'failure_message', r.failure_message, 'reason', r.reason,
                     'rollback_of', coalesce(r.rollback_of, r.failed_rollback_of), 'parent_id', r.parent_id)
  FROM redemptions r
  WHERE r.customer_id = ${customerId} AND NOT EXISTS (SELECT 1 FROM redemptions child WHERE child.parent_id = r.id)
  UNION ALL
  SELECT id, type, created_at, NULL, snapshot FROM order_activities WHERE customer_id = ${customerId}
  UNION ALL
  SELECT id, 'customer.created', created_at, NULL, NULL FROM customers WHERE id = ${customerId}
)`;

/** Filters of the query: type, start and end (each optional). */
function activityFilters(q: ActivityQuery): Sql {
  const parts: Sql[] = [];
  if (q.type !== undefined) parts.push(sql`type = ${q.type}`);
  if (q.startDate !== undefined) parts.push(sql`created_at >= ${q.startDate}`);
  if (q.endDate !== undefined) parts.push(sql`created_at <= ${q.endDate}`);
  return sql.join(parts, 'AND');
}

/**
 * One page of the feed (and, when asked, the number of activities matching the filters), in one
 * batch. Ties on created_at are broken by id, so the cursor never skips or repeats an entry.
 */
export async function listActivity(
  db: D1Database,
  q: ActivityQuery,
  withTotal = false,
): Promise<{ rows: ActivityRow[]; hasMore: boolean; total?: number }> {
  const ascending = q.order === 'created_at';
  const direction = ascending ? 'ASC' : 'DESC';
  const after = ascending ? '>' : '<';
  const cte = activityCte(q.customerId);
  const filters = activityFilters(q);
  const cursor: Sql[] = [];
  if (q.startingAfterId !== undefined)
    cursor.push(sql`(created_at, id) ${sql.raw(after)} (SELECT created_at, id FROM activity WHERE id = ${q.startingAfterId})`);
  if (q.startingAfter !== undefined) cursor.push(sql`created_at ${sql.raw(after)} ${q.startingAfter}`);
  const page = prepare(
    db,
    sql`${cte}
       SELECT id, type, created_at, name, detail FROM activity
       WHERE ${filters} AND ${sql.join(cursor, 'AND')}
       ORDER BY created_at ${sql.raw(direction)}, id ${sql.raw(direction)} LIMIT ${q.limit + 1}`,
  );
  const statements = [page];
  if (withTotal) statements.push(prepare(db, sql`${cte} SELECT count(*) AS total FROM activity WHERE ${filters}`));
  const [rows, count] = await db.batch<Record<string, unknown>>(statements);
  const results = (rows?.results ?? []) as unknown as ActivityRow[];
  return {
    rows: results.slice(0, q.limit),
    hasMore: results.length > q.limit,
    ...(withTotal ? { total: Number(count?.results[0]?.total ?? 0) } : {}),
  };
}
