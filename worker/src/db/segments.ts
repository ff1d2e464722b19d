import type { Segment } from '../../../shared/types';
import { toIso } from '../lib/time';
import { type CustomerSelector, type Predicate, selectorSql } from './customers';

export interface SegmentRow {
  id: string;
  name: string;
  type: Segment['type'];
  filter: string | null;
  time_relative: number;
  initial_sync_status: Segment['initial_sync_status'];
  created_at: number;
  updated_at: number | null;
}

export function rowToSegment(row: SegmentRow): Segment {
  const segment: Segment = {
    id: row.id,
    name: row.name,
    created_at: toIso(row.created_at),
    type: row.type,
    filter: row.filter === null ? null : (JSON.parse(row.filter) as Record<string, unknown>),
    initial_sync_status: row.initial_sync_status,
    metadata: {},
    object: 'segment',
  };
  if (row.updated_at !== null) segment.updated_at = toIso(row.updated_at);
  return segment;
}

export function insertSegment(db: D1Database, row: SegmentRow): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO segments (id, name, type, filter, time_relative, initial_sync_status, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(row.id, row.name, row.type, row.filter, row.time_relative, row.initial_sync_status, row.created_at, row.updated_at);
}

export function findSegment(db: D1Database, id: string): Promise<SegmentRow | null> {
  return db.prepare('SELECT * FROM segments WHERE id = ?').bind(id).first<SegmentRow>();
}

export async function deleteSegment(db: D1Database, id: string): Promise<boolean> {
  return (await db.prepare('DELETE FROM segments WHERE id = ?').bind(id).run()).meta.changes > 0;
}

export async function listSegments(
  db: D1Database,
  limit: number,
  offset: number,
): Promise<{ rows: SegmentRow[]; total: number }> {
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

/** Segments of a type whose definitions are needed to judge customers (auto-update, passive). */
export async function listSegmentsOfType(db: D1Database, type: 'auto-update' | 'passive'): Promise<SegmentRow[]> {
  return (await db.prepare('SELECT * FROM segments WHERE type = ? ORDER BY created_at').bind(type).all<SegmentRow>())
    .results;
}

/**
 * Resolves references (ids or source ids) to customer ids; the refs that match no customer come
 * back in `unknown`.
 */
export async function resolveCustomerRefs(
  db: D1Database,
  refs: string[],
): Promise<{ ids: string[]; unknown: string[] }> {
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
  return db
    .prepare(
      `INSERT INTO segment_members (segment_id, customer_id, created_at)
       SELECT ?, c.id, ? FROM customers c WHERE c.id IN (SELECT value FROM json_each(?))
       ON CONFLICT DO NOTHING`,
    )
    .bind(segmentId, now, JSON.stringify(customerIds));
}

/** Every customer matching `predicate` becomes a member (initial sync: no entered events). */
export function insertMatchingMembers(
  db: D1Database,
  segmentId: string,
  predicate: Predicate,
  now: number,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO segment_members (segment_id, customer_id, created_at)
       SELECT ?, c.id, ? FROM customers c WHERE coalesce((${predicate.sql}), 0)
       ON CONFLICT DO NOTHING`,
    )
    .bind(segmentId, now, ...predicate.params);
}

const NEW_EVENT_ID = "'evcus_' || lower(hex(randomblob(12)))";

/**
 * Brings the stored membership of one auto-update segment in line with its filter for the selected
 * customers, recording each transition as a customer.segment.entered / left event. Four set-based
 * statements, to run inside one batch (one transaction): the events are derived from the membership
 * before it changes, so each transition is recorded exactly once, however often this runs.
 * `coalesce(…, 0)` makes an unknown (NULL) result count as "does not match" on both sides. The
 * "left" statement walks the selected customers first (CROSS JOIN fixes the order): after one
 * write that is a handful of rows, where walking the segment's members would read all of them.
 */
export function membershipDiff(
  db: D1Database,
  segment: { id: string; name: string },
  predicate: Predicate,
  selector: CustomerSelector,
  now: number,
): D1PreparedStatement[] {
  const sel = selectorSql(selector);
  const match = `coalesce((${predicate.sql}), 0)`;
  const eventData = "json_object('segment', json_object('id', ?, 'name', ?))";
  return [
    db
      .prepare(
        `INSERT INTO events (id, profile_id, type, metadata, created_at)
         SELECT ${NEW_EVENT_ID}, c.id, 'customer.segment.entered', ${eventData}, ?
         FROM customers c
         WHERE ${sel.sql} AND ${match}
           AND NOT EXISTS (SELECT 1 FROM segment_members m WHERE m.segment_id = ? AND m.customer_id = c.id)`,
      )
      .bind(segment.id, segment.name, now, ...sel.params, ...predicate.params, segment.id),
    db
      .prepare(
        `INSERT INTO segment_members (segment_id, customer_id, created_at)
         SELECT ?, c.id, ? FROM customers c WHERE ${sel.sql} AND ${match}
         ON CONFLICT DO NOTHING`,
      )
      .bind(segment.id, now, ...sel.params, ...predicate.params),
    db
      .prepare(
        `INSERT INTO events (id, profile_id, type, metadata, created_at)
         SELECT ${NEW_EVENT_ID}, c.id, 'customer.segment.left', ${eventData}, ?
         FROM customers c CROSS JOIN segment_members m ON m.segment_id = ? AND m.customer_id = c.id
         WHERE ${sel.sql} AND NOT ${match}`,
      )
      .bind(segment.id, segment.name, now, segment.id, ...sel.params, ...predicate.params),
    db
      .prepare(
        `DELETE FROM segment_members WHERE segment_id = ? AND customer_id IN
           (SELECT c.id FROM customers c WHERE ${sel.sql} AND NOT ${match})`,
      )
      .bind(segment.id, ...sel.params, ...predicate.params),
  ];
}

/** The predicate "is a stored member of this segment" (static and auto-update segments). */
export function memberOf(segmentId: string): Predicate {
  return { sql: 'c.id IN (SELECT customer_id FROM segment_members WHERE segment_id = ?)', params: [segmentId] };
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
export async function segmentsWithVoucherVersion(db: D1Database, ids: string[], voucherId: string): Promise<{ segments: SegmentRow[]; version: string | null }> {
  const [segments, voucher] = await db.batch<Record<string, unknown>>([
    db.prepare('SELECT * FROM segments WHERE id IN (SELECT value FROM json_each(?))').bind(JSON.stringify(ids)),
    db.prepare('SELECT definition_version FROM vouchers WHERE id = ?').bind(voucherId),
  ]);
  return {
    segments: (segments?.results ?? []) as unknown as SegmentRow[],
    version: (voucher?.results[0]?.definition_version as string | undefined) ?? null,
  };
}
