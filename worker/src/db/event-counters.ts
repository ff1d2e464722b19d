import { prepare, type Sql, sql } from './sql';

// event_counters (migration 0026): per profile (customer or tracking profile) and event type, how
// many events it has had, with the first and last time. The trigger event_counters_count adds every
// inserted event in the insert's own transaction; what is here are the other changes, each a
// statement for the batch of the write it belongs to. Raw events deleted by retention are never
// subtracted: the counters are the record of what happened, the raw rows only its recent detail.

/** Counts of one profile by type, as filters and validation rules read them. */
export type EventCounts = Record<string, { count: number }>;

/**
 * Moves the counters of `fromProfile` onto the profile `toProfile` selects (sums of counts, the
 * earlier first time, the later last time) and deletes them from `fromProfile`: in one batch,
 * a link that runs again (another redemption with the same tracking id) moves only what the
 * profile counted since, so nothing is counted twice.
 */
export function mergeEventCounters(db: D1Database, fromProfile: string, toProfile: Sql): D1PreparedStatement[] {
  return [
    prepare(
      db,
      sql`INSERT INTO event_counters (profile_id, type, count, first_at, last_at)
         SELECT ${toProfile}, type, count, first_at, last_at FROM event_counters WHERE profile_id = ${fromProfile}
         ON CONFLICT (profile_id, type) DO UPDATE SET
           count = count + excluded.count,
           first_at = min(first_at, excluded.first_at),
           last_at = max(last_at, excluded.last_at)`,
    ),
    prepare(db, sql`DELETE FROM event_counters WHERE profile_id = ${fromProfile}`),
  ];
}

/** Deletes the counters of the profiles `profiles` selects (a query of ids). */
export function deleteEventCounters(db: D1Database, profiles: Sql): D1PreparedStatement {
  return prepare(db, sql`DELETE FROM event_counters WHERE profile_id IN (${profiles})`);
}

/**
 * The counts by type summed over these profiles (a customer and the tracking profile it came
 * with): one primary-key range per profile. Null ids are ignored.
 */
export function selectEventCounts(db: D1Database, profiles: (Sql | string | null)[]): D1PreparedStatement {
  return prepare(
    db,
    sql`SELECT type, sum(count) AS n FROM event_counters WHERE profile_id IN (${sql.list(profiles.map((p) => (typeof p === 'object' && p !== null ? p : sql`${p}`)))}) GROUP BY type`,
  );
}

/** The rows of selectEventCounts as counts by type. */
export const eventCountsOf = (result: D1Result<Record<string, unknown>> | undefined): EventCounts =>
  Object.fromEntries((result?.results ?? []).map((r) => [String(r.type), { count: Number(r.n) }]));
