import { compileSql, type FilterAst, parseFilter } from '../../../shared/filter';
import { type CustomerSelector } from '../db/customers';
import * as segmentsDb from '../db/segments';

/** An auto-update segment, ready to judge customers. */
export interface ActiveSegment {
  id: string;
  name: string;
  ast: FilterAst;
}

/** Filters were validated when the segment was created, so parsing a stored one cannot fail. */
const storedAst = (row: segmentsDb.SegmentRow): FilterAst => parseFilter(JSON.parse(row.filter ?? '{}'));

export async function loadActiveSegments(db: D1Database): Promise<ActiveSegment[]> {
  const rows = await segmentsDb.listSegmentsOfType(db, 'auto-update');
  return rows.map((row) => ({ id: row.id, name: row.name, ast: storedAst(row) }));
}

/**
 * The statements that bring the selected customers' auto-update memberships up to date. They go
 * into the same batch as the write that changed the customers, after it: the write and the
 * entered/left events it causes commit together or not at all.
 */
export function refreshMemberships(
  db: D1Database,
  segments: ActiveSegment[],
  selector: CustomerSelector,
  now: number,
): D1PreparedStatement[] {
  return segments.flatMap((segment) => segmentsDb.membershipDiff(db, segment, compileSql(segment.ast, now), selector, now));
}

/**
 * Cron: customers cross the line of a clock-relative filter ("no order for 30 days") without any
 * write, so these segments are recomputed over all customers, one set-based diff per segment.
 */
export async function recomputeTimeRelativeSegments(db: D1Database, now: number): Promise<number> {
  const rows = (await segmentsDb.listSegmentsOfType(db, 'auto-update')).filter((row) => row.time_relative === 1);
  for (const row of rows) {
    await db.batch(segmentsDb.membershipDiff(db, row, compileSql(storedAst(row), now), 'all', now));
  }
  return rows.length;
}
