import { deleteEventCounters } from './event-counters';
import { prepare, sql } from './sql';

/** Writes by the public client key, bounded: capped events of a tracking profile, and retention. */

export interface ProfileEvent {
  id: string;
  type: string;
  metadata: Record<string, unknown>;
  createdAt: number;
}

/**
 * The statements that note the visit of the tracking profile (creating it, and keeping a verified
 * identity HMAC when given), then record the event unless the profile already has `cap.max`
 * events since `cap.since`. Written by the queue consumer; the request checked the cap on a read
 * already (countProfileEventsSince), this keeps it exact when requests race.
 *
 * The cap counts raw rows, not event_counters: a day's rows are always within the retention window
 * (a day or more; 0 is for tests and demos), the (profile_id, created_at) index reads at most the
 * cap's own number of them, and a counter per day would cost a row per visitor and day for nothing.
 */
export function cappedProfileEventStatements(
  db: D1Database,
  trackingId: string,
  identityHmac: string | null,
  event: ProfileEvent,
  cap: { since: number; max: number } | null,
): D1PreparedStatement[] {
  return [
    prepare(
      db,
      sql`INSERT INTO tracking_profiles (id, identity_hmac, first_seen, last_seen) VALUES (${trackingId}, ${identityHmac}, ${event.createdAt}, ${event.createdAt})
         ON CONFLICT (id) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen), identity_hmac = coalesce(excluded.identity_hmac, identity_hmac)`,
    ),
    prepare(
      db,
      sql`INSERT INTO events (id, profile_id, type, metadata, created_at)
         SELECT ${event.id}, ${trackingId}, ${event.type}, ${JSON.stringify(event.metadata)}, ${event.createdAt}
         WHERE ${cap?.max ?? null} IS NULL OR (SELECT count(*) FROM events WHERE profile_id = ${trackingId} AND created_at >= ${cap?.since ?? 0}) < ${cap?.max ?? null}`,
    ),
  ];
}

/** How many events a tracking profile has recorded since `since` (the daily cap's read). */
export async function countProfileEventsSince(db: D1Database, trackingId: string, since: number): Promise<number> {
  const row = await db
    .prepare('SELECT count(*) AS n FROM events WHERE profile_id = ? AND created_at >= ?')
    .bind(trackingId, since)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/**
 * Deletes up to `limit` anonymous tracking profiles (never linked to a customer) last seen before
 * `before`, with their events, event counters and validations, in one batch. Resolves to how many profiles went;
 * fewer than `limit` means none is left.
 */
export async function deleteStaleAnonymousProfiles(db: D1Database, before: number, limit: number): Promise<number> {
  const { results } = await db
    .prepare('SELECT id FROM tracking_profiles WHERE customer_id IS NULL AND last_seen < ? ORDER BY last_seen LIMIT ?')
    .bind(before, limit)
    .all<{ id: string }>();
  if (results.length === 0) return 0;
  const ids = JSON.stringify(results.map((r) => r.id));
  // A redemption may link one of them between the read and this batch: the guard keeps it.
  const stale = sql`SELECT id FROM tracking_profiles WHERE id IN (SELECT value FROM json_each(${ids})) AND customer_id IS NULL AND last_seen < ${before}`;
  await db.batch([
    prepare(db, sql`DELETE FROM events WHERE profile_id IN (${stale})`),
    deleteEventCounters(db, stale),
    prepare(db, sql`DELETE FROM validations WHERE customer_id IS NULL AND tracking_id IN (${stale})`),
    prepare(db, sql`DELETE FROM tracking_profiles WHERE id IN (${stale})`),
  ]);
  return results.length;
}
