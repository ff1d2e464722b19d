import { type CustomerSelector, selectorSql } from './customers';
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

/** How many events of each type the customer has (for `events.<type>.count` in filters). */
export async function eventCounts(db: D1Database, customerId: string): Promise<Record<string, { count: number }>> {
  const { results } = await db
    .prepare('SELECT type, count(*) AS n FROM events WHERE profile_id = ? GROUP BY type')
    .bind(customerId)
    .all<{ type: string; n: number }>();
  return Object.fromEntries(results.map((r) => [r.type, { count: r.n }]));
}
