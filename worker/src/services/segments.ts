import { compileSql, evaluate, FilterError, type FilterAst, isTimeRelative, parseFilter } from '../../../shared/filter';
import type { Segment } from '../../../shared/types';
import * as customersDb from '../db/customers';
import * as eventsDb from '../db/events';
import * as ordersDb from '../db/orders';
import * as segmentsDb from '../db/segments';
import { apiError, invalidPayload, notFound } from '../errors';
import { randomId } from '../lib/ids';
import { MAX_RANGE, type WalkBudget } from '../lib/range-sizer';
import type { WriteQueue } from '../queue/messages';
import { backgroundBudget, BEFORE_ALL, continueInitialSync, runInitialSync } from './segment-sync';
import { MAX_FILTER_SEGMENTS, type SegmentCreate, type SegmentUpdate } from '../schemas/segments';
import type { Sql } from '../db/sql';
import { rowToSegment } from '../views/segment';
import { rowToCustomer } from '../views/customer';

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

/** The create request runs the first steps of an initial sync itself; a small base is DONE in the answer. */
const inlineBudget = (): WalkBudget => ({ calls: 2, deadline: Date.now() + 100 });

const chunks = <T>(list: T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(list.length / size) }, (_, i) => list.slice(i * size, (i + 1) * size));

/**
 * POST /v1/segments. An auto-update segment is stored IN_PROGRESS first, then its members are
 * computed in bounded steps (services/segment-sync.ts): the first inline, the next after the answer
 * in `background` (the request's waitUntil), and whatever outlasts that as a job on `queue` (the
 * cron's, without one). The answer says which: DONE when the walk finished inline, else
 * IN_PROGRESS, as Voucherify answers a new dynamic segment (OA:L62535).
 */
export async function createSegment(
  db: D1Database,
  input: SegmentCreate,
  background: (work: () => Promise<unknown>) => void = (work) => void work(),
  queue?: WriteQueue,
): Promise<Segment> {
  const now = Date.now();
  const row: segmentsDb.SegmentRow = {
    id: randomId('seg_'),
    name: input.name,
    type: input.type,
    filter: null,
    time_relative: 0,
    initial_sync_status: 'DONE',
    sync_cursor: null,
    created_at: now,
    updated_at: null,
  };

  if (input.type === 'static') {
    // References resolve in reads of at most MAX_RANGE each; the segment and its members are then
    // written in one batch (all or nothing), its member statements at most MAX_RANGE rows each.
    const refs = input.customers ?? [];
    const ids: string[] = [];
    const unknown: string[] = [];
    for (const part of chunks(refs, MAX_RANGE)) {
      const resolved = await segmentsDb.resolveCustomerRefs(db, part);
      ids.push(...resolved.ids);
      unknown.push(...resolved.unknown);
    }
    if (unknown.length > 0) {
      const shown = unknown.slice(0, 5).join(', ');
      throw invalidPayload(`customers: ${unknown.length} unknown customer(s): ${shown}${unknown.length > 5 ? ', …' : ''}`);
    }
    const members = chunks([...new Set(ids)], MAX_RANGE).map((part) => segmentsDb.insertMembers(db, row.id, part, now));
    await db.batch([segmentsDb.insertSegment(db, row), ...members]);
    return rowToSegment(row);
  }

  const ast = parseSegmentFilter(input.filter);
  if ((await segmentsDb.countFilterSegments(db)) >= MAX_FILTER_SEGMENTS) {
    throw apiError('limit_exceeded', `At most ${MAX_FILTER_SEGMENTS} auto-update and passive segments may exist.`);
  }
  row.filter = JSON.stringify(input.filter);
  row.time_relative = isTimeRelative(ast) ? 1 : 0;
  // A passive segment stores no members: there is nothing to sync.
  if (input.type === 'passive') {
    await segmentsDb.insertSegment(db, row).run();
    return rowToSegment(row);
  }
  row.initial_sync_status = 'IN_PROGRESS';
  row.sync_cursor = BEFORE_ALL;
  await segmentsDb.insertSegment(db, row).run();
  const inline = await runInitialSync(db, row.id, inlineBudget());
  if (inline.status === 'IN_PROGRESS') {
    background(() => (queue ? continueInitialSync(db, queue, row.id) : runInitialSync(db, row.id, backgroundBudget())));
  }
  return rowToSegment({ ...row, initial_sync_status: inline.status === 'IN_PROGRESS' ? 'IN_PROGRESS' : 'DONE' });
}

export async function getSegment(db: D1Database, id: string): Promise<Segment> {
  return rowToSegment(await requireSegment(db, id));
}

/**
 * PUT /v1/segments/{id} (our addition; the OA has no segment update). Any segment may be renamed.
 * A passive segment takes a new filter, validated as on create, in one write: it stores no members,
 * so nothing else changes, and vouchers whose rules name it judge with the new filter from the next
 * validate (migration 0012's trigger gives them a new definition version). An auto-update segment's
 * filter is fixed: its stored members, and the entered/left events recorded for them, follow the
 * filter it has; a change would need a walk over every customer racing writes that still judge with
 * the old filter. A static segment has no filter. The type never changes.
 */
export async function updateSegment(db: D1Database, id: string, input: SegmentUpdate): Promise<Segment> {
  const row = await requireSegment(db, id);
  if (input.type !== undefined && input.type !== row.type)
    throw invalidPayload(`type: a segment's type cannot change (this one is ${row.type})`);
  let filter: { json: string; timeRelative: boolean } | undefined;
  if (input.filter !== undefined) {
    if (row.type === 'static') {
      if (input.filter !== null) throw invalidPayload('filter: a static segment has no filter');
    } else {
      if (input.filter === null) throw invalidPayload(`filter: a ${row.type} segment needs a filter`);
      const ast = parseSegmentFilter(input.filter);
      const json = JSON.stringify(input.filter);
      if (row.type === 'auto-update' && json !== row.filter) {
        throw invalidPayload(
          'filter: the filter of an auto-update segment is fixed; create a new segment with this filter (POST /v1/segments/preview with `against` shows who would enter and leave)',
        );
      }
      if (json !== row.filter) filter = { json, timeRelative: isTimeRelative(ast) };
    }
  }
  const updated = await segmentsDb.updateSegment(db, id, { name: input.name, filter }, Date.now());
  if (!updated) throw notFound('segment', id);
  return rowToSegment(updated);
}

export async function deleteSegment(env: { DB: D1Database; CACHE: KVNamespace }, id: string): Promise<void> {
  // Vouchers whose rules name the segment move to a new definition version (migration 0012).
  if (!(await segmentsDb.deleteSegment(env.DB, id))) throw notFound('segment', id);
}

export async function listSegments(db: D1Database, limit: number, page: number) {
  const { rows, total } = await segmentsDb.listSegments(db, limit, (page - 1) * limit);
  return { object: 'list' as const, data_ref: 'data' as const, data: rows.map(rowToSegment), total };
}

/**
 * Who belongs to a segment, as a predicate over customers: stored members (an index lookup per
 * customer), or the live filter of a passive segment (an evaluation per customer: callers walk it
 * in bounded ranges).
 */
export async function segmentMembers(
  db: D1Database,
  segmentId: string,
  now: number,
): Promise<{ kind: 'stored' | 'filter'; segmentId: string; predicate: Sql }> {
  const row = await requireSegment(db, segmentId);
  if (row.type === 'passive')
    return { kind: 'filter', segmentId: row.id, predicate: compileSql(parseFilter(JSON.parse(row.filter ?? '{}')), now) };
  return { kind: 'stored', segmentId: row.id, predicate: segmentsDb.memberOf(row.id) };
}

export async function membersPredicate(db: D1Database, segmentId: string, now: number): Promise<Sql> {
  return (await segmentMembers(db, segmentId, now)).predicate;
}

/**
 * The profile a customer not stored yet would have if they were tracked now under this source id:
 * every field empty, no orders, no events. Built from the catalogue's empty row through rowToCustomer,
 * so that it reads exactly as a stored customer with nothing set would.
 */
export function untrackedProfile(sourceId: string, now: number) {
  const row = { ...customersDb.emptyCustomerRow('', now), source_id: sourceId };
  return { ...rowToCustomer(row), events: {} };
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
    const [stored, passive, events, products] = await Promise.all([
      segmentsDb.segmentsWithMember(db, row.id),
      segmentsDb.listSegmentsOfType(db, 'passive'),
      eventsDb.eventCounts(db, row.id),
      ordersDb.customerProductCounts(db, row.id),
    ]);
    const profile = { ...rowToCustomer(row), events, products };
    matched = [...stored, ...passive.filter((s) => evaluate(storedFilter(s), profile, now))];
  }
  const data = matched.map((s) => ({ id: s.id, name: s.name, object: 'segment' as const }));
  return { object: 'list' as const, data_ref: 'data' as const, data, total: data.length };
}
