import { type CustomerSelector, selectorSql } from './customers';

/**
 * Records an event for the selected customer. Selecting inside the statement lets the event share a
 * batch with the upsert that creates the customer, whose id is not known before the batch runs.
 */
export function insertCustomerEvent(
  db: D1Database,
  event: { id: string; type: string; metadata: Record<string, unknown>; createdAt: number },
  customer: CustomerSelector,
): D1PreparedStatement {
  const sel = selectorSql(customer);
  return db
    .prepare(
      `INSERT INTO events (id, profile_id, type, metadata, created_at)
       SELECT ?, c.id, ?, ?, ? FROM customers c WHERE ${sel.sql} LIMIT 1`,
    )
    .bind(event.id, event.type, JSON.stringify(event.metadata), event.createdAt, ...sel.params);
}

/** Records an event of a known profile id (a tracking profile not yet linked to a customer). */
export function insertProfileEvent(
  db: D1Database,
  event: { id: string; type: string; metadata: Record<string, unknown>; createdAt: number },
  profileId: string,
): D1PreparedStatement {
  return db
    .prepare('INSERT INTO events (id, profile_id, type, metadata, created_at) VALUES (?, ?, ?, ?, ?)')
    .bind(event.id, profileId, event.type, JSON.stringify(event.metadata), event.createdAt);
}

/** How many events of each type the customer has (for `events.<type>.count` in filters). */
export async function eventCounts(db: D1Database, customerId: string): Promise<Record<string, { count: number }>> {
  const { results } = await db
    .prepare('SELECT type, count(*) AS n FROM events WHERE profile_id = ? GROUP BY type')
    .bind(customerId)
    .all<{ type: string; n: number }>();
  return Object.fromEntries(results.map((r) => [r.type, { count: r.n }]));
}
