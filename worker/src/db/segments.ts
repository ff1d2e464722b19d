import { VOUCHER_VERSION_SQL } from './vouchers';
import type { Segment } from '../../../shared/types';
import { type KeysetRange, rangeEnd, rangePredicate } from './customers';
import { packParams } from '../../../shared/filter';
import { prepare, type Sql, sql } from './sql';

export interface SegmentRow {
  id: string;
  name: string;
  type: Segment['type'];
  filter: string | null;
  time_relative: number;
  initial_sync_status: Segment['initial_sync_status'];
  /** The created_at of the last customer the initial sync has judged; null once DONE (migration 0010). */
  sync_cursor: number | null;
  created_at: number;
  updated_at: number | null;
}

export function insertSegment(db: D1Database, row: SegmentRow): D1PreparedStatement {
  return prepare(
    db,
    sql`INSERT INTO segments (id, name, type, filter, time_relative, initial_sync_status, sync_cursor, created_at, updated_at)
       VALUES (${row.id}, ${row.name}, ${row.type}, ${row.filter}, ${row.time_relative}, ${row.initial_sync_status}, ${row.sync_cursor}, ${row.created_at}, ${row.updated_at})`,
  );
}

export function findSegment(db: D1Database, id: string): Promise<SegmentRow | null> {
  return db.prepare('SELECT * FROM segments WHERE id = ?').bind(id).first<SegmentRow>();
}

/**
 * Renames a segment and/or gives it a new filter, in one statement; returns the row as it is now
 * (null: no such segment). Only the columns given are set: migration 0012's triggers move the
 * vouchers whose rules name the segment to a new definition version when `filter` is set, and a
 * rename leaves their cached definitions alone.
 */
export async function updateSegment(
  db: D1Database,
  id: string,
  changes: { name?: string; filter?: { json: string; timeRelative: boolean } },
  now: number,
): Promise<SegmentRow | null> {
  const set: Sql[] = [];
  if (changes.name !== undefined) set.push(sql`name = ${changes.name}`);
  if (changes.filter !== undefined)
    set.push(sql`filter = ${changes.filter.json}`, sql`time_relative = ${changes.filter.timeRelative ? 1 : 0}`);
  set.push(sql`updated_at = ${now}`);
  return prepare(db, sql`UPDATE segments SET ${sql.list(set)} WHERE id = ${id} RETURNING *`).first<SegmentRow>();
}

export async function deleteSegment(db: D1Database, id: string): Promise<boolean> {
  return (await db.prepare('DELETE FROM segments WHERE id = ?').bind(id).run()).meta.changes > 0;
}

export async function listSegments(db: D1Database, limit: number, offset: number): Promise<{ rows: SegmentRow[]; total: number }> {
  const [page, count] = await db.batch<Record<string, unknown>>([
    db.prepare('SELECT * FROM segments ORDER BY created_at DESC, id LIMIT ? OFFSET ?').bind(limit, offset),
    db.prepare('SELECT count(*) AS total FROM segments'),
  ]);
  return { rows: (page?.results ?? []) as unknown as SegmentRow[], total: Number(count?.results[0]?.total ?? 0) };
}

export async function countFilterSegments(db: D1Database): Promise<number> {
  const row = await db.prepare("SELECT count(*) AS n FROM segments WHERE type != 'static'").first<{ n: number }>();
  return row?.n ?? 0;
}

/** Segments of a type (e.g. the auto-update and passive ones, whose definitions judge customers). */
export async function listSegmentsOfType(db: D1Database, type: Segment['type']): Promise<SegmentRow[]> {
  return (await db.prepare('SELECT * FROM segments WHERE type = ? ORDER BY created_at').bind(type).all<SegmentRow>()).results;
}

/**
 * Resolves references (ids or source ids) to customer ids; the refs that match no customer come
 * back in `unknown`.
 */
export async function resolveCustomerRefs(db: D1Database, refs: string[]): Promise<{ ids: string[]; unknown: string[] }> {
  const { results } = await db
    .prepare(
      `SELECT r.value AS ref, c.id AS id FROM json_each(?) r
       LEFT JOIN customers c ON c.id = r.value OR c.source_id = r.value`,
    )
    .bind(JSON.stringify(refs))
    .all<{ ref: string; id: string | null }>();
  const ids = new Set<string>();
  const unknown: string[] = [];
  for (const { ref, id } of results) {
    if (id === null) unknown.push(ref);
    else ids.add(id);
  }
  return { ids: [...ids], unknown };
}

export function insertMembers(db: D1Database, segmentId: string, customerIds: string[], now: number): D1PreparedStatement {
  return prepare(
    db,
    sql`INSERT INTO segment_members (segment_id, customer_id, created_at)
       SELECT ${segmentId}, c.id, ${now} FROM customers c WHERE c.id IN (SELECT value FROM json_each(${JSON.stringify(customerIds)}))
       ON CONFLICT DO NOTHING`,
  );
}

const NEW_EVENT_ID = sql.raw("'evcus_' || lower(hex(randomblob(12)))");

/**
 * Whether the segment's initial sync has judged customer `c` already: always once the sync is DONE
 * (sync_cursor null). Only such a customer's change is a transition worth an entered/left event;
 * a customer the sync has not reached yet gets its membership set silently, as the sync would set
 * it (the sync records no events: existing customers did not just do anything).
 */
const synced = (segmentId: string): Sql =>
  sql`c.created_at <= coalesce((SELECT sync_cursor FROM segments WHERE id = ${segmentId}), c.created_at)`;

/** The metadata of a customer.segment.entered / left event. */
const segmentEventData = (segment: { id: string; name: string }): Sql =>
  sql`json_object('segment', json_object('id', ${segment.id}, 'name', ${segment.name}))`;

/**
 * Brings the stored membership of one auto-update segment in line with its filter for the selected
 * customers (a few, named by a write), recording each transition as a customer.segment.entered /
 * left event. Four set-based statements, to run inside one batch (one transaction): the events are
 * derived from the membership before it changes, so each transition is recorded exactly once,
 * however often this runs. `coalesce(…, 0)` makes an unknown (NULL) result count as "does not
 * match" on both sides. The "left" statement walks the selected customers first (CROSS JOIN fixes
 * the order): after one write that is a handful of rows, where walking the segment's members would
 * read all of them.
 */
export function membershipDiff(
  db: D1Database,
  segment: { id: string; name: string },
  predicate: Sql,
  selected: Sql,
  now: number,
): D1PreparedStatement[] {
  const match = sql`coalesce((${predicate}), 0)`;
  const eventData = segmentEventData(segment);
  const isSynced = synced(segment.id);
  return [
    prepare(
      db,
      sql`INSERT INTO events (id, profile_id, type, metadata, created_at)
         SELECT ${NEW_EVENT_ID}, c.id, 'customer.segment.entered', ${eventData}, ${now}
         FROM customers c
         WHERE ${selected} AND ${match} AND ${isSynced}
           AND NOT EXISTS (SELECT 1 FROM segment_members m WHERE m.segment_id = ${segment.id} AND m.customer_id = c.id)`,
    ),
    prepare(
      db,
      sql`INSERT INTO segment_members (segment_id, customer_id, created_at)
         SELECT ${segment.id}, c.id, ${now} FROM customers c WHERE ${selected} AND ${match}
         ON CONFLICT DO NOTHING`,
    ),
    prepare(
      db,
      sql`INSERT INTO events (id, profile_id, type, metadata, created_at)
         SELECT ${NEW_EVENT_ID}, c.id, 'customer.segment.left', ${eventData}, ${now}
         FROM customers c CROSS JOIN segment_members m ON m.segment_id = ${segment.id} AND m.customer_id = c.id
         WHERE ${selected} AND NOT ${match} AND ${isSynced}`,
    ),
    prepare(
      db,
      sql`DELETE FROM segment_members WHERE segment_id = ${segment.id} AND customer_id IN
           (SELECT c.id FROM customers c WHERE ${selected} AND NOT ${match})`,
    ),
  ];
}

/** An auto-update segment as a write's membership refresh judges it: its filter compiled at the write's time. */
export interface JudgedSegment {
  id: string;
  predicate: Sql;
}

/**
 * The longest text a judge statement may have: D1 refuses statements over 100 KB, and the rest is
 * margin. A compiled filter is a few hundred bytes to a few KB (its values are bound, not written
 * in), so every auto-update segment of a normal store fits one statement; only when their filters
 * together outgrow this are they judged in several (one per 90 KB of filter text, not per segment).
 */
export const MAX_JUDGE_SQL = 90_000;

/** What a segment's CASE branch adds to a judge statement's text: its filter, and each value rewritten by packParams. */
const judgeBranchSize = (segment: JudgedSegment): number => segment.predicate.sql.length + 40 + segment.predicate.params.length * 24;

/** The segments in consecutive groups whose judge statements stay under `maxSql`. */
function judgeGroups(segments: JudgedSegment[], maxSql: number): JudgedSegment[][] {
  const groups: JudgedSegment[][] = [];
  let current: JudgedSegment[] = [];
  let size = 0;
  for (const segment of segments) {
    const branch = judgeBranchSize(segment);
    if (current.length > 0 && size + branch > maxSql) {
      groups.push(current);
      current = [];
      size = 0;
    }
    current.push(segment);
    size += branch;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/**
 * One statement judging every segment of `group` for the selected customers into segment_matches:
 * each selected customer is paired with each segment (the customers first, as CROSS JOIN fixes the
 * order: a handful of them, each found by its key), and a CASE on the segment's position runs only
 * that segment's filter. The filters' values, up to 100 per filter and more together than D1's 100
 * parameters, travel as one JSON array (shared/filter/json-params.ts packParams). `coalesce(…, 0)`
 * makes an unknown (NULL) result count as "does not match", as membershipDiff does.
 */
function judgeStatement(db: D1Database, group: JudgedSegment[], selected: Sql): D1PreparedStatement {
  const ids = JSON.stringify(group.map((s) => s.id));
  const branches = group.map((segment, k) => sql`WHEN ${sql.raw(String(k))} THEN coalesce((${segment.predicate}), 0)`);
  const cases: Sql = { sql: branches.map((b) => b.sql).join(' '), params: branches.flatMap((b) => b.params) };
  const statement = sql`INSERT INTO segment_matches (segment_id, customer_id)
     SELECT g.value, c.id FROM customers c CROSS JOIN json_each(${ids}) g
     WHERE ${selected} AND CASE g.key ${cases} ELSE 0 END`;
  const packed = packParams(statement);
  return db.prepare(packed.sql).bind(...packed.params);
}

/** The segment's name and id as the metadata of a customer.segment.entered / left event, from `segments s`. */
const SEGMENT_EVENT_DATA = sql.raw("json_object('segment', json_object('id', s.id, 'name', s.name))");

/**
 * The synced() guard of membershipDiff over `segments s` and `customers c`: the segment's initial
 * sync has judged the customer already (or is DONE), so a change is a transition worth an event.
 */
const SYNCED = sql.raw('c.created_at <= coalesce(s.sync_cursor, c.created_at)');

/**
 * Brings the stored membership of every segment in `segments` in line with its filter for the
 * selected customers, recording each transition as a customer.segment.entered / left event, in a
 * number of statements that does not grow with the number of segments: the judge statement(s)
 * (judgeStatement: one unless the filters' text together passes MAX_JUDGE_SQL), then four
 * set-based statements that read the matches: entered events, new members, left events, removed
 * members. The caller ends the group with clearSegmentMatches, in the same batch. The guarantees
 * are membershipDiff's: events derive from the membership before it changes, inside the batch's
 * transaction, so each transition is recorded exactly once however often this runs; only the
 * listed segments are touched (a static segment's stored members, or a segment the writer did not
 * know, are not); a customer the segment's initial sync has not reached gets its membership set
 * silently. A segment deleted since the writer read the list matches nobody (the joins on
 * `segments` find no row), so the write still commits.
 */
export function membershipRefresh(
  db: D1Database,
  segments: JudgedSegment[],
  selected: Sql,
  now: number,
  maxSql = MAX_JUDGE_SQL,
): D1PreparedStatement[] {
  if (segments.length === 0) return [];
  const known = sql`(SELECT value FROM json_each(${JSON.stringify(segments.map((s) => s.id))}))`;
  const matched = sql.raw('EXISTS (SELECT 1 FROM segment_matches x WHERE x.segment_id = m.segment_id AND x.customer_id = m.customer_id)');
  return [
    ...judgeGroups(segments, maxSql).map((group) => judgeStatement(db, group, selected)),
    prepare(
      db,
      sql`INSERT INTO events (id, profile_id, type, metadata, created_at)
         SELECT ${NEW_EVENT_ID}, x.customer_id, 'customer.segment.entered', ${SEGMENT_EVENT_DATA}, ${now}
         FROM segment_matches x JOIN segments s ON s.id = x.segment_id JOIN customers c ON c.id = x.customer_id
         WHERE ${SYNCED}
           AND NOT EXISTS (SELECT 1 FROM segment_members m WHERE m.segment_id = x.segment_id AND m.customer_id = x.customer_id)`,
    ),
    prepare(
      db,
      sql`INSERT INTO segment_members (segment_id, customer_id, created_at)
         SELECT x.segment_id, x.customer_id, ${now} FROM segment_matches x
         WHERE EXISTS (SELECT 1 FROM segments s WHERE s.id = x.segment_id)
         ON CONFLICT DO NOTHING`,
    ),
    prepare(
      db,
      sql`INSERT INTO events (id, profile_id, type, metadata, created_at)
         SELECT ${NEW_EVENT_ID}, c.id, 'customer.segment.left', ${SEGMENT_EVENT_DATA}, ${now}
         FROM customers c CROSS JOIN segment_members m ON m.customer_id = c.id CROSS JOIN segments s ON s.id = m.segment_id
         WHERE ${selected} AND m.segment_id IN ${known} AND ${SYNCED} AND NOT ${matched}`,
    ),
    prepare(
      db,
      sql`DELETE FROM segment_members AS m
         WHERE m.customer_id IN (SELECT c.id FROM customers c WHERE ${selected}) AND m.segment_id IN ${known} AND NOT ${matched}`,
    ),
  ];
}

/** Empties the scratch of membershipRefresh: the last statement of a write's refresh (migration 0027). */
export function clearSegmentMatches(db: D1Database): D1PreparedStatement {
  return db.prepare('DELETE FROM segment_matches');
}

/**
 * The written customers, recorded as pending for every auto-update segment the writer did not know
 * (created after it read the segments' version). One statement in the write's own batch, so the
 * write and this record commit together: see services/segment-sync.ts for why nothing is missed.
 * It reads the segments table (at most 100 filter segments) and nothing when all are known.
 */
export function recordPendingForUnknownSegments(db: D1Database, knownIds: string[], selected: Sql): D1PreparedStatement {
  return prepare(
    db,
    sql`INSERT INTO segment_pending (segment_id, customer_id)
       SELECT s.id, c.id FROM segments s CROSS JOIN customers c
       WHERE s.type = 'auto-update' AND s.id NOT IN (SELECT value FROM json_each(${JSON.stringify(knownIds)})) AND ${selected}
       ON CONFLICT DO NOTHING`,
  );
}

/** The customers pending for a segment, as a predicate over `customers c`. */
export function pendingFor(segmentId: string): Sql {
  return { sql: 'c.id IN (SELECT customer_id FROM segment_pending WHERE segment_id = ?)', params: [segmentId] };
}

/** Forgets the pending customers of a segment (after their diff, in the same batch). */
export function clearPending(db: D1Database, segmentId: string): D1PreparedStatement {
  return db.prepare('DELETE FROM segment_pending WHERE segment_id = ?').bind(segmentId);
}

/** Auto-update segments with pending customers. */
export async function segmentsWithPending(db: D1Database): Promise<SegmentRow[]> {
  return (
    await db
      .prepare(
        `SELECT * FROM segments s WHERE s.type = 'auto-update'
           AND EXISTS (SELECT 1 FROM segment_pending p WHERE p.segment_id = s.id) ORDER BY s.created_at`,
      )
      .all<SegmentRow>()
  ).results;
}

/** Auto-update segments whose initial sync has not finished (the cron resumes them). */
export async function segmentsSyncing(db: D1Database): Promise<SegmentRow[]> {
  return (
    await db
      .prepare("SELECT * FROM segments WHERE type = 'auto-update' AND initial_sync_status = 'IN_PROGRESS' ORDER BY created_at")
      .all<SegmentRow>()
  ).results;
}

/**
 * One step of a walk over the segment's customers: brings the membership of the customers in
 * `range` (at most range.size of them) in line with the filter, in one batch. The filter runs once
 * per customer, into the scratch table; the diff then reads the scratch. With `events`, each
 * transition is recorded as for a write (the cron's recompute); without, membership is set silently
 * (the initial sync). The last statement reads where the range ended.
 */
export function syncStep(
  db: D1Database,
  segment: { id: string; name: string },
  predicate: Sql,
  range: KeysetRange,
  options: { events: boolean; now: number },
): D1PreparedStatement[] {
  const inRange = rangePredicate(range);
  const { id } = segment;
  const matched = sql`EXISTS (SELECT 1 FROM segment_sync_matches x WHERE x.segment_id = ${id} AND x.customer_id = c.id)`;
  const eventData = segmentEventData(segment);
  const { now } = options;
  const statements = [
    prepare(
      db,
      sql`INSERT INTO segment_sync_matches (segment_id, customer_id)
         SELECT ${id}, c.id FROM customers c WHERE ${inRange} AND coalesce((${predicate}), 0)`,
    ),
  ];
  if (options.events) {
    statements.push(
      prepare(
        db,
        sql`INSERT INTO events (id, profile_id, type, metadata, created_at)
           SELECT ${NEW_EVENT_ID}, x.customer_id, 'customer.segment.entered', ${eventData}, ${now}
           FROM segment_sync_matches x WHERE x.segment_id = ${id}
             AND NOT EXISTS (SELECT 1 FROM segment_members m WHERE m.segment_id = ${id} AND m.customer_id = x.customer_id)`,
      ),
    );
  }
  statements.push(
    prepare(
      db,
      sql`INSERT INTO segment_members (segment_id, customer_id, created_at)
         SELECT ${id}, x.customer_id, ${now} FROM segment_sync_matches x WHERE x.segment_id = ${id}
         ON CONFLICT DO NOTHING`,
    ),
  );
  if (options.events) {
    statements.push(
      prepare(
        db,
        sql`INSERT INTO events (id, profile_id, type, metadata, created_at)
           SELECT ${NEW_EVENT_ID}, c.id, 'customer.segment.left', ${eventData}, ${now}
           FROM customers c CROSS JOIN segment_members m ON m.segment_id = ${id} AND m.customer_id = c.id
           WHERE ${inRange} AND NOT ${matched}`,
      ),
    );
  }
  statements.push(
    prepare(
      db,
      sql`DELETE FROM segment_members WHERE segment_id = ${id} AND customer_id IN
           (SELECT c.id FROM customers c WHERE ${inRange} AND NOT ${matched})`,
    ),
    db.prepare('DELETE FROM segment_sync_matches WHERE segment_id = ?').bind(id),
    rangeEnd(db, range),
  );
  return statements;
}

/**
 * Records an initial-sync step: the cursor moves to the range's end, or, when no customer lies
 * beyond it, the sync is DONE (cursor null). In the step's batch, after the diff, so progress and
 * membership commit together. max() never moves the cursor back (two runners on one segment);
 * max(NULL, …) is NULL, so a DONE sync stays DONE. Returns the row as it is now.
 */
export function recordSyncProgress(db: D1Database, segmentId: string, range: KeysetRange): D1PreparedStatement {
  const end = sql`(SELECT max(k) FROM (SELECT created_at AS k FROM customers WHERE created_at > ${range.after} ORDER BY created_at LIMIT ${range.size}))`;
  const beyond = sql`EXISTS (SELECT 1 FROM customers WHERE created_at > coalesce(${end}, ${range.after}))`;
  return prepare(
    db,
    sql`UPDATE segments SET
         sync_cursor = CASE WHEN ${beyond} THEN max(sync_cursor, ${end}) END,
         initial_sync_status = CASE WHEN ${beyond} THEN initial_sync_status ELSE 'DONE' END
       WHERE id = ${segmentId} AND initial_sync_status = 'IN_PROGRESS'
       RETURNING initial_sync_status, sync_cursor`,
  );
}

/**
 * The predicate "is a stored member of this segment" (static and auto-update segments). Its users
 * judge the customers of one bounded range, so it is a primary-key lookup per customer: the
 * `IN (SELECT …)` spelling it replaced built the list of every member of the segment again for each
 * step (3 of the 5 ms a preview step spent on it, 16,667 members, SQLite 3.40).
 */
export function memberOf(segmentId: string): Sql {
  return { sql: 'EXISTS (SELECT 1 FROM segment_members AS sm WHERE sm.segment_id = ? AND sm.customer_id = c.id)', params: [segmentId] };
}

/** The segments that store this customer as a member. */
export async function segmentsWithMember(db: D1Database, customerId: string): Promise<SegmentRow[]> {
  return (
    await db
      .prepare(
        `SELECT s.* FROM segments s JOIN segment_members m ON m.segment_id = s.id
         WHERE m.customer_id = ? ORDER BY s.created_at`,
      )
      .bind(customerId)
      .all<SegmentRow>()
  ).results;
}

/** The version of the segment definitions (migration 0009 bumps it on every change). */
export function selectSegmentsVersion(db: D1Database): D1PreparedStatement {
  return db.prepare("SELECT version FROM definition_versions WHERE name = 'segments'");
}

/** Reads the version out of the result of selectSegmentsVersion. */
export function segmentsVersionOf(result: D1Result<Record<string, unknown>> | undefined): string {
  return String(result?.results[0]?.version ?? '');
}

/** The auto-update segments and the version they belong to, read together (one batch). */
export async function autoUpdateSegmentsWithVersion(db: D1Database): Promise<{ version: string; rows: SegmentRow[] }> {
  const [version, rows] = await db.batch<Record<string, unknown>>([
    selectSegmentsVersion(db),
    db.prepare("SELECT * FROM segments WHERE type = 'auto-update' ORDER BY created_at"),
  ]);
  return { version: segmentsVersionOf(version), rows: (rows?.results ?? []) as unknown as SegmentRow[] };
}

/** Segments by id, with a voucher's definition version read in the same batch (services/definitions.ts). */
export async function segmentsWithVoucherVersion(
  db: D1Database,
  ids: string[],
  voucherId: string,
): Promise<{ segments: SegmentRow[]; version: string | null }> {
  const [segments, voucher] = await db.batch<Record<string, unknown>>([
    db.prepare('SELECT * FROM segments WHERE id IN (SELECT value FROM json_each(?))').bind(JSON.stringify(ids)),
    db.prepare(`SELECT ${VOUCHER_VERSION_SQL('v')} AS definition_version FROM vouchers v WHERE v.id = ?`).bind(voucherId),
  ]);
  return {
    segments: (segments?.results ?? []) as unknown as SegmentRow[],
    version: (voucher?.results[0]?.definition_version as string | undefined) ?? null,
  };
}
