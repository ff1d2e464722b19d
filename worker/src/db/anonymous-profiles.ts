/** Writes by the public client key, bounded: capped events of a tracking profile, and retention. */

export interface ProfileEvent {
  id: string;
  type: string;
  metadata: Record<string, unknown>;
  createdAt: number;
}

/**
 * One batch: note the visit of the tracking profile (creating it, and keeping a verified identity
 * HMAC when given), then record the event unless the profile already has `cap` events since
 * `since`. Resolves to whether the event was recorded.
 */
export async function recordCappedProfileEvent(
  db: D1Database,
  trackingId: string,
  identityHmac: string | null,
  event: ProfileEvent,
  cap: { since: number; max: number },
): Promise<boolean> {
  const [, inserted] = await db.batch([
    db
      .prepare(
        `INSERT INTO tracking_profiles (id, identity_hmac, first_seen, last_seen) VALUES (?1, ?2, ?3, ?3)
         ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen, identity_hmac = coalesce(excluded.identity_hmac, identity_hmac)`,
      )
      .bind(trackingId, identityHmac, event.createdAt),
    db
      .prepare(
        `INSERT INTO events (id, profile_id, type, metadata, created_at)
         SELECT ?1, ?2, ?3, ?4, ?5
         WHERE (SELECT count(*) FROM events WHERE profile_id = ?2 AND created_at >= ?6) < ?7`,
      )
      .bind(event.id, trackingId, event.type, JSON.stringify(event.metadata), event.createdAt, cap.since, cap.max),
  ]);
  return (inserted?.meta.changes ?? 0) > 0;
}

/**
 * Deletes up to `limit` anonymous tracking profiles (never linked to a customer) last seen before
 * `before`, with their events and validations, in one batch. Resolves to how many profiles went;
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
  const stale = `SELECT id FROM tracking_profiles WHERE id IN (SELECT value FROM json_each(?1)) AND customer_id IS NULL AND last_seen < ?2`;
  await db.batch([
    db.prepare(`DELETE FROM events WHERE profile_id IN (${stale})`).bind(ids, before),
    db.prepare(`DELETE FROM validations WHERE customer_id IS NULL AND tracking_id IN (${stale})`).bind(ids, before),
    db.prepare(`DELETE FROM tracking_profiles WHERE id IN (${stale})`).bind(ids, before),
  ]);
  return results.length;
}
