import type { SegmentSize } from '../../../shared/types';
import { type KeysetRange, type RangeEnd, rangeEnd, rangeEndOf, rangePredicate } from './customers';
import { type Sql, prepare, sql } from './sql';

// Migration 0019: a segment's size per UTC day, kept by the cron (services/segment-sizes.ts).

/**
 * Records a static or auto-update segment's stored member count for `day` (a count over
 * segment_members' primary key: an index range, no filter evaluated). Nothing when the segment is
 * gone; the day's row is replaced when it exists.
 */
export function recordStoredSize(db: D1Database, segmentId: string, day: string): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO segment_sizes (segment_id, day, size)
       SELECT s.id, ?, (SELECT count(*) FROM segment_members m WHERE m.segment_id = s.id) FROM segments s WHERE s.id = ?
       ON CONFLICT (segment_id, day) DO UPDATE SET size = excluded.size`,
    )
    .bind(day, segmentId);
}

/**
 * Records a passive segment's count for `day`, unless its filter changed since the count began
 * (`filter` is the stored text the count judged with): a count of an old filter is never written.
 */
export function recordFilterSize(db: D1Database, segmentId: string, filter: string, day: string, size: number): D1PreparedStatement {
  return prepare(
    db,
    sql`INSERT INTO segment_sizes (segment_id, day, size)
       SELECT s.id, ${day}, ${size} FROM segments s WHERE s.id = ${segmentId} AND s.filter = ${filter}
       ON CONFLICT (segment_id, day) DO UPDATE SET size = excluded.size`,
  );
}

/** Forgets the days before `firstKept` (YYYY-MM-DD). */
export function pruneSizesBefore(db: D1Database, firstKept: string): D1PreparedStatement {
  return db.prepare('DELETE FROM segment_sizes WHERE day < ?').bind(firstKept);
}

/**
 * How many customers of `range` each filter matches: one statement per group of filters (the
 * caller groups them so that each statement stays within D1's 100 bound parameters), all in one
 * D1 call over at most range.size customers, with the range's end.
 */
export async function filterCountsInRange(
  db: D1Database,
  groups: Sql[][],
  range: KeysetRange,
): Promise<{ counts: number[][]; end: RangeEnd }> {
  const inRange = rangePredicate(range);
  const statements = groups.map((filters) => {
    const sums = sql.list(filters.map((f, i) => sql`sum(coalesce((${f}), 0)) AS ${sql.raw(`n${i}`)}`));
    return prepare(db, sql`SELECT ${sums} FROM customers c WHERE ${inRange}`);
  });
  const results = await db.batch<Record<string, unknown>>([...statements, rangeEnd(db, range)]);
  const counts = groups.map((filters, g) => filters.map((_, i) => Number(results[g]?.results[0]?.[`n${i}`] ?? 0)));
  return { counts, end: rangeEndOf(results[groups.length]) };
}

/** A segment's sizes from `firstDay` (YYYY-MM-DD) on, oldest first. */
export async function listSizes(db: D1Database, segmentId: string, firstDay: string): Promise<SegmentSize[]> {
  return (
    await db
      .prepare('SELECT day, size FROM segment_sizes WHERE segment_id = ? AND day >= ? ORDER BY day')
      .bind(segmentId, firstDay)
      .all<SegmentSize>()
  ).results;
}
