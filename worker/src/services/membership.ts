import { compileSql, type FilterAst, parseFilter } from '../../../shared/filter';
import { type CustomerRow, type CustomerSelector, selectCustomers, selectorSql } from '../db/customers';
import * as segmentsDb from '../db/segments';

/** An auto-update segment, ready to judge customers. */
export interface ActiveSegment {
  id: string;
  name: string;
  ast: FilterAst;
}

/** Filters were validated when the segment was created, so parsing a stored one cannot fail. */
export const storedAst = (row: segmentsDb.SegmentRow): FilterAst => parseFilter(JSON.parse(row.filter ?? '{}'));

/**
 * The auto-update segments of this isolate, parsed, with the version they were read at. Staleness:
 * every use is keyed by a version read from D1 in the same request (migration 0009's triggers replace
 * it on any segment change), so a changed segment is never judged with an old filter; a request
 * that read the version before a concurrent change commits judges with the segments of its read,
 * exactly as if it had committed first.
 */
let cache: { version: string; segments: ActiveSegment[] } | null = null;

function remember(version: string, rows: segmentsDb.SegmentRow[]): ActiveSegment[] {
  const segments = rows.map((row) => ({ id: row.id, name: row.name, ast: storedAst(row) }));
  cache = { version, segments };
  return segments;
}

/**
 * The active segments at `version` (read by the caller inside a batch it makes anyway): no round
 * trip while this isolate's copy is current, one batch when it is not.
 */
export async function activeSegmentsAt(db: D1Database, version: string): Promise<ActiveSegment[]> {
  if (cache?.version === version) return cache.segments;
  const fresh = await segmentsDb.autoUpdateSegmentsWithVersion(db);
  return remember(fresh.version, fresh.rows);
}

/** The active segments, for a caller with no batch to carry the version read: one small query when current. */
export async function loadActiveSegments(db: D1Database): Promise<ActiveSegment[]> {
  const version = segmentsDb.segmentsVersionOf(await segmentsDb.selectSegmentsVersion(db).all());
  return activeSegmentsAt(db, version);
}

/**
 * The statements that bring the selected customers' auto-update memberships up to date. They go
 * into the same batch as the write that changed the customers, after it: the write and the
 * entered/left events it causes commit together or not at all. Their number does not grow with the
 * number of segments (db/segments.ts membershipRefresh): one statement judges every segment into a
 * scratch table (migration 0027), four set-based statements apply entered / member / left / delete
 * from it, one records the customers as pending for any auto-update segment created since
 * `segments` was read, which the segment's sync then refreshes (services/segment-sync.ts: a write
 * never leaves a membership stale), and the last empties the scratch. 7 statements with any
 * segment, 1 with none; more judge statements only when the filters' text
 * together passes 90 KB (MAX_JUDGE_SQL).
 */
export function refreshMemberships(
  db: D1Database,
  segments: ActiveSegment[],
  selector: CustomerSelector,
  now: number,
): D1PreparedStatement[] {
  const selected = selectorSql(selector);
  const pending = segmentsDb.recordPendingForUnknownSegments(
    db,
    segments.map((s) => s.id),
    selected,
  );
  if (segments.length === 0) return [pending];
  const judged = segments.map((segment) => ({ id: segment.id, predicate: compileSql(segment.ast, now) }));
  return [...segmentsDb.membershipRefresh(db, judged, selected, now), pending, segmentsDb.clearSegmentMatches(db)];
}

/** A customer write as one batch, with a named accessor for what it read back. */
export interface CustomerWriteBatch {
  statements: D1PreparedStatement[];
  /** The selected customers as the batch left them. */
  customers(results: D1Result<Record<string, unknown>>[]): CustomerRow[];
}

/**
 * The one way customers are written: the writes (and anything else that changes what the
 * segments look at, e.g. a redemption's summary), then the refresh of the selected customers'
 * auto-update memberships with their entered/left events, then the customers read back, all in
 * one batch. Callers may append statements after these.
 */
export function customerWriteBatch(
  db: D1Database,
  segments: ActiveSegment[],
  writes: D1PreparedStatement[],
  selector: CustomerSelector,
  now: number,
): CustomerWriteBatch {
  const refresh = refreshMemberships(db, segments, selector, now);
  const readBack = writes.length + refresh.length;
  return {
    statements: [...writes, ...refresh, selectCustomers(db, selector)],
    customers: (results) => (results[readBack]?.results ?? []) as unknown as CustomerRow[],
  };
}

/** Customer writes and their membership refresh, without the read-back: for a batch that reads the customer itself, or none. */
export function refreshedWrites(
  db: D1Database,
  segments: ActiveSegment[],
  writes: D1PreparedStatement[],
  selector: CustomerSelector,
  now: number,
): D1PreparedStatement[] {
  return [...writes, ...refreshMemberships(db, segments, selector, now)];
}

/** Runs customerWriteBatch on its own; returns the written customers. */
export async function writeCustomers(
  db: D1Database,
  writes: D1PreparedStatement[],
  selector: CustomerSelector,
  now: number,
): Promise<{ customers: CustomerRow[]; results: D1Result<Record<string, unknown>>[] }> {
  const batch = customerWriteBatch(db, await loadActiveSegments(db), writes, selector, now);
  const results = await db.batch<Record<string, unknown>>(batch.statements);
  return { customers: batch.customers(results), results };
}
