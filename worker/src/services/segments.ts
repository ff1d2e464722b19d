import { compileSql, evaluate, FilterError, type FilterAst, isTimeRelative, parseFilter } from '../../../shared/filter';
import type { Segment } from '../../../shared/types';
import * as customersDb from '../db/customers';
import * as eventsDb from '../db/events';
import * as segmentsDb from '../db/segments';
import { ApiError, invalidPayload, notFound } from '../errors';
import { randomId } from '../lib/ids';
import { MAX_FILTER_SEGMENTS, type SegmentCreate } from '../schemas/segments';

/** Validates a submitted filter once; a mistake becomes a 400 pointing into the filter. */
export function parseSegmentFilter(filter: unknown): FilterAst {
  try {
    return parseFilter(filter);
  } catch (error) {
    if (error instanceof FilterError) {
      throw invalidPayload(error.path ? `filter.${error.path}: ${error.message}` : `filter: ${error.message}`);
    }
    throw error;
  }
}

async function requireSegment(db: D1Database, id: string): Promise<segmentsDb.SegmentRow> {
  const row = await segmentsDb.findSegment(db, id);
  if (!row) throw notFound('segment', id);
  return row;
}

export async function createSegment(db: D1Database, input: SegmentCreate): Promise<Segment> {
  const now = Date.now();
  const row: segmentsDb.SegmentRow = {
    id: randomId('seg_'),
    name: input.name,
    type: input.type,
    filter: null,
    time_relative: 0,
    // Membership is computed inside the creating batch, so the sync is done when the answer leaves.
    initial_sync_status: 'DONE',
    created_at: now,
    updated_at: null,
  };

  if (input.type === 'static') {
    const refs = input.customers ?? [];
    const { ids, unknown } = await segmentsDb.resolveCustomerRefs(db, refs);
    if (unknown.length > 0) {
      const shown = unknown.slice(0, 5).join(', ');
      throw invalidPayload(`customers: ${unknown.length} unknown customer(s): ${shown}${unknown.length > 5 ? ', …' : ''}`);
    }
    await db.batch([segmentsDb.insertSegment(db, row), segmentsDb.insertMembers(db, row.id, ids, now)]);
    return segmentsDb.rowToSegment(row);
  }

  const ast = parseSegmentFilter(input.filter);
  if ((await segmentsDb.countFilterSegments(db)) >= MAX_FILTER_SEGMENTS) {
    throw new ApiError(400, 'limit_exceeded', 'Limit exceeded', `At most ${MAX_FILTER_SEGMENTS} auto-update and passive segments may exist.`);
  }
  row.filter = JSON.stringify(input.filter);
  row.time_relative = isTimeRelative(ast) ? 1 : 0;
  const statements = [segmentsDb.insertSegment(db, row)];
  // The initial sync records no entered events: existing customers did not just do anything.
  if (input.type === 'auto-update') statements.push(segmentsDb.insertMatchingMembers(db, row.id, compileSql(ast, now), now));
  await db.batch(statements);
  return segmentsDb.rowToSegment(row);
}

export async function getSegment(db: D1Database, id: string): Promise<Segment> {
  return segmentsDb.rowToSegment(await requireSegment(db, id));
}

export async function deleteSegment(env: { DB: D1Database; CACHE: KVNamespace }, id: string): Promise<void> {
  // Vouchers whose rules name the segment move to a new definition version (migration 0012).
  if (!(await segmentsDb.deleteSegment(env.DB, id))) throw notFound('segment', id);
}

export async function listSegments(db: D1Database, limit: number, page: number) {
  const { rows, total } = await segmentsDb.listSegments(db, limit, (page - 1) * limit);
  return { object: 'list' as const, data_ref: 'data' as const, data: rows.map(segmentsDb.rowToSegment), total };
}

/** Who belongs to a segment, as a predicate over customers: stored members, or the live filter. */
export async function membersPredicate(db: D1Database, segmentId: string, now: number): Promise<customersDb.Predicate> {
  const row = await requireSegment(db, segmentId);
  if (row.type === 'passive') return compileSql(parseFilter(JSON.parse(row.filter ?? '{}')), now);
  return segmentsDb.memberOf(row.id);
}

/**
 * The profile a customer not stored yet would have if they were tracked now under this source id:
 * every field empty, no orders, no events. Built from the catalogue's empty row through rowToCustomer,
 * so that it reads exactly as a stored customer with nothing set would.
 */
function untrackedProfile(sourceId: string, now: number) {
  const row = { ...customersDb.emptyCustomerRow('', now), source_id: sourceId };
  return { ...customersDb.rowToCustomer(row), events: {} };
}

const storedFilter = (s: segmentsDb.SegmentRow): FilterAst => parseFilter(JSON.parse(s.filter ?? '{}'));

/**
 * GET /v1/customers/{id}/segments: stored memberships (static, auto-update) plus the passive
 * segments the customer matches right now, judged by the one-profile back end. For a customer not
 * stored, the OA (OA:L57610) answers "the segments that the customer would potentially qualify
 * for": the auto-update and passive segments whose filter an empty profile matches (a static
 * segment never holds a customer that does not exist).
 */
export async function customerSegments(db: D1Database, idOrSourceId: string, now: number) {
  const row = await customersDb.findCustomer(db, idOrSourceId);
  let matched: segmentsDb.SegmentRow[];
  if (!row) {
    const [autoUpdate, passive] = await Promise.all([
      segmentsDb.listSegmentsOfType(db, 'auto-update'),
      segmentsDb.listSegmentsOfType(db, 'passive'),
    ]);
    const profile = untrackedProfile(idOrSourceId, now);
    matched = [...autoUpdate, ...passive].filter((s) => evaluate(storedFilter(s), profile, now));
  } else {
    const [stored, passive, events] = await Promise.all([
      segmentsDb.segmentsWithMember(db, row.id),
      segmentsDb.listSegmentsOfType(db, 'passive'),
      eventsDb.eventCounts(db, row.id),
    ]);
    const profile = { ...customersDb.rowToCustomer(row), events };
    matched = [...stored, ...passive.filter((s) => evaluate(storedFilter(s), profile, now))];
  }
  const data = matched.map((s) => ({ id: s.id, name: s.name, object: 'segment' as const }));
  return { object: 'list' as const, data_ref: 'data' as const, data, total: data.length };
}
