import { type CustomerSelector, selectorSql } from './customers';
import { type EventCounts, eventCountsOf, selectEventCounts } from './event-counters';
import { prepare, sql } from './sql';

/**
 * Records an event for the selected customer. Selecting inside the statement lets the event share a
 * batch with the upsert that creates the customer, whose id is not known before the batch runs.
 */
export function insertCustomerEvent(
  db: D1Database,
  event: { id: string; type: string; metadata: Record<string, unknown>; createdAt: number },
  customer: CustomerSelector,
  cap: { since: number; max: number } | null = null,
): D1PreparedStatement {
  const sel = selectorSql(customer);
  // With a cap (client events of a signed customer), nothing is recorded once the customer has
  // `cap.max` events since `cap.since`: the same count as a tracking profile's daily cap
  // (cappedProfileEventStatements), exact here where the consumer writes.
  return prepare(
    db,
    sql`INSERT INTO events (id, profile_id, type, metadata, created_at)
       SELECT ${event.id}, c.id, ${event.type}, ${JSON.stringify(event.metadata)}, ${event.createdAt} FROM customers c WHERE ${sel}
         AND (${cap?.max ?? null} IS NULL OR (SELECT count(*) FROM events e WHERE e.profile_id = c.id AND e.created_at >= ${cap?.since ?? 0}) < ${cap?.max ?? null})
       LIMIT 1`,
  );
}

/** How many events the customer named by id or source id has recorded since `since` (the daily cap's read). */
export async function countCustomerEventsSince(
  db: D1Database,
  customer: { id: string } | { source_id: string },
  since: number,
): Promise<number> {
  const who =
    'id' in customer
      ? sql`SELECT id FROM customers WHERE id = ${customer.id}`
      : sql`SELECT id FROM customers WHERE source_id = ${customer.source_id}`;
  const row = await prepare(db, sql`SELECT count(*) AS n FROM events WHERE profile_id = (${who}) AND created_at >= ${since}`).first<{
    n: number;
  }>();
  return row?.n ?? 0;
}

/** Records an event of a known profile id (a tracking profile not yet linked to a customer). */
export function insertProfileEvent(
  db: D1Database,
  event: { id: string; type: string; metadata: Record<string, unknown>; createdAt: number },
  profileId: string,
): D1PreparedStatement {
  return prepare(
    db,
    sql`INSERT INTO events (id, profile_id, type, metadata, created_at) VALUES (${event.id}, ${profileId}, ${event.type}, ${JSON.stringify(event.metadata)}, ${event.createdAt})`,
  );
}

/**
 * How many events of each type the customer has (for `events.<type>.count` in filters): its
 * counters (migration 0026), which still count the raw events retention has deleted.
 */
export async function eventCounts(db: D1Database, customerId: string): Promise<EventCounts> {
  return eventCountsOf(await selectEventCounts(db, [customerId]).all<Record<string, unknown>>());
}

/** A raw event as stored, the unit of the archive. */
export interface EventRow {
  id: string;
  profile_id: string;
  type: string;
  metadata: string;
  created_at: number;
}

// What the retention cron archives and deletes: the raw events, and the order activities (each
// with a snapshot of its order: migrations 0028, 0029), read as one stream of rows of the same
// shape (the order activity's customer as profile_id, its snapshot as metadata).
const [events, orderActivities] = [
  sql.raw('SELECT id, profile_id, type, metadata, created_at FROM events'),
  sql.raw('SELECT id, customer_id AS profile_id, type, snapshot AS metadata, created_at FROM order_activities'),
];

/** When the oldest raw event or order activity written before `before` was written; null when there is none (their created_at indexes). */
export async function oldestEventBefore(db: D1Database, before: number): Promise<number | null> {
  const row = await prepare(
    db,
    sql`SELECT min(at) AS at FROM (SELECT min(created_at) AS at FROM events WHERE created_at < ${before}
          UNION ALL SELECT min(created_at) FROM order_activities WHERE created_at < ${before})`,
  ).first<{ at: number | null }>();
  return row?.at ?? null;
}

/**
 * The rows of one archive step: at most `limit` raw events and order activities written in
 * [from, to), oldest first (ties by id), and how many archive objects of the hour starting at
 * `hour` are committed already (event_archive_hours.parts), in one batch.
 */
export async function expiringEvents(
  db: D1Database,
  q: { hour: number; from: number; to: number; limit: number },
): Promise<{ rows: EventRow[]; parts: number }> {
  const range = sql`WHERE created_at >= ${q.from} AND created_at < ${q.to} ORDER BY created_at, id LIMIT ${q.limit}`;
  const [rows, hour] = await db.batch<Record<string, unknown>>([
    // Each source its first `limit` of the range by its own created_at index, then the first
    // `limit` of both: the step never sorts more than twice its size.
    prepare(
      db,
      sql`SELECT * FROM (SELECT * FROM (${events} ${range}) UNION ALL SELECT * FROM (${orderActivities} ${range}))
         ORDER BY created_at, id LIMIT ${q.limit}`,
    ),
    prepare(db, sql`SELECT parts FROM event_archive_hours WHERE hour = ${q.hour}`),
  ]);
  return {
    rows: (rows?.results ?? []) as unknown as EventRow[],
    parts: Number(hour?.results[0]?.parts ?? 0),
  };
}

/**
 * Commits one archive object: the hour's count of objects and events goes up, and exactly the
 * archived rows (by id, raw events and order activities) are deleted, in one batch. Rows written
 * since the step read them, even in the same range, stay for a later object. Resolves to the
 * batch's results (their D1 time sizes the next step).
 */
export function deleteArchivedEvents(db: D1Database, hour: number, ids: string[]): Promise<D1Result[]> {
  const archived = sql`(SELECT value FROM json_each(${JSON.stringify(ids)}))`;
  return db.batch([
    prepare(
      db,
      sql`INSERT INTO event_archive_hours (hour, parts, events) VALUES (${hour}, 1, ${ids.length})
         ON CONFLICT (hour) DO UPDATE SET parts = parts + 1, events = events + excluded.events`,
    ),
    prepare(db, sql`DELETE FROM events WHERE id IN ${archived}`),
    prepare(db, sql`DELETE FROM order_activities WHERE id IN ${archived}`),
  ]);
}
