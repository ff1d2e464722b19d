import { compileSql } from '../../../shared/filter';
import type { SegmentSize } from '../../../shared/types';
import { MAX_STATEMENT_PARAMS } from '../db/segment-preview';
import * as sizesDb from '../db/segment-sizes';
import * as segmentsDb from '../db/segments';
import { notFound } from '../errors';
import { budgetLeft, giveWay, RangeSizer, type WalkBudget } from '../lib/range-sizer';
import { MAX_SIZE_HISTORY_DAYS } from '../schemas/segments';
import { storedAst } from './membership';
import { BEFORE_ALL } from './segment-sync';
import type { Sql } from '../db/sql';

const DAY_MS = 86_400_000;

/** The UTC day of an instant, as the history keys it. */
export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** Stored counts per D1 call: each is an index range of one segment's members. */
const STORED_PER_CALL = 10;
/** Parameters of a count statement besides its filters: the range's three. */
const RANGE_PARAMS = 3;

/**
 * The passive filters grouped so that each group's statement binds at most D1's 100 parameters
 * (a filter alone never needs more than 97: compileSql caps it at 100, and the caller skips any
 * that do not fit with the range).
 */
function groupByParams(filters: Sql[]): Sql[][] {
  const groups: Sql[][] = [];
  let current: Sql[] = [];
  let used = RANGE_PARAMS;
  for (const filter of filters) {
    if (current.length > 0 && used + filter.params.length > MAX_STATEMENT_PARAMS) {
      groups.push(current);
      current = [];
      used = RANGE_PARAMS;
    }
    current.push(filter);
    used += filter.params.length;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/**
 * The cron's size history: today's size of every segment, one row per segment per UTC
 * day (a later run the same day overwrites it). Static and auto-update segments count their stored
 * members; passive ones store none, so their filters are counted over every customer in ONE walk
 * in keyset ranges (each D1 call covers at most 5,000 customers, however many filters), all
 * filters judged in each step. A walk the budget cannot finish writes no passive size for this run
 * (a partial count would be a wrong one); the next run tries again. Days past the longest history
 * served are dropped.
 */
export async function recordSegmentSizes(
  db: D1Database,
  at: number,
  budget: WalkBudget = { calls: 300, deadline: Date.now() + 60_000 },
): Promise<{ stored: number; passive: number }> {
  const day = utcDay(at);
  const [stored, passive] = await Promise.all([
    // An auto-update segment still in its initial sync has no size yet: its members are being counted in.
    Promise.all([segmentsDb.listSegmentsOfType(db, 'auto-update'), segmentsDb.listSegmentsOfType(db, 'static')]).then((lists) =>
      lists.flat().filter((row) => row.initial_sync_status === 'DONE'),
    ),
    segmentsDb.listSegmentsOfType(db, 'passive'),
  ]);
  for (let i = 0; i < stored.length; i += STORED_PER_CALL) {
    budget.calls--;
    await db.batch(stored.slice(i, i + STORED_PER_CALL).map((row) => sizesDb.recordStoredSize(db, row.id, day)));
  }
  await sizesDb.pruneSizesBefore(db, utcDay(at - MAX_SIZE_HISTORY_DAYS * DAY_MS)).run();

  const judged = passive
    .map((row) => ({ row, filter: compileSql(storedAst(row), at) }))
    .filter(({ filter }) => filter.params.length + RANGE_PARAMS <= MAX_STATEMENT_PARAMS);
  if (judged.length === 0) return { stored: stored.length, passive: 0 };
  const groups = groupByParams(judged.map((j) => j.filter));
  const totals = judged.map(() => 0);
  const sizer = new RangeSizer();
  let after = BEFORE_ALL;
  for (;;) {
    if (!budgetLeft(budget)) return { stored: stored.length, passive: 0 };
    budget.calls--;
    const range = { after, size: sizer.size, descending: false };
    const started = Date.now();
    const step = await sizesDb.filterCountsInRange(db, groups, range);
    sizer.record(Date.now() - started);
    step.counts.flat().forEach((n, i) => (totals[i] = (totals[i] ?? 0) + n));
    if (step.end.last === null || step.end.customers < range.size) break;
    after = step.end.last;
    await giveWay();
  }
  await db.batch(judged.map(({ row }, i) => sizesDb.recordFilterSize(db, row.id, row.filter ?? '', day, totals[i] ?? 0)));
  return { stored: stored.length, passive: judged.length };
}

/** GET /v1/segments/{id}/sizes: the last `days` UTC days (today included) that the cron recorded, oldest first. */
export async function segmentSizes(db: D1Database, segmentId: string, days: number, now: number) {
  if (!(await segmentsDb.findSegment(db, segmentId))) throw notFound('segment', segmentId);
  const data: SegmentSize[] = await sizesDb.listSizes(db, segmentId, utcDay(now - (days - 1) * DAY_MS));
  return { object: 'list' as const, data_ref: 'data' as const, data, total: data.length };
}
