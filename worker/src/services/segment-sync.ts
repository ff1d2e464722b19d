import { compileSql } from '../../../shared/filter';
import { type KeysetRange, rangeEndOf } from '../db/customers';
import * as segmentsDb from '../db/segments';
import { randomId } from '../lib/ids';
import { budgetLeft, giveWay, RangeSizer, type WalkBudget } from '../lib/range-sizer';
import { BatchSender, enqueue, type SegmentRecomputeMessage, type SegmentSyncMessage, type WriteQueue } from '../queue/messages';
import { storedAst } from './membership';
import type { Sql } from '../db/sql';

// Heavy segment work as bounded steps.
//
// D1 runs one statement at a time per database: one filter over 100,000 customers held it for 37 s
// and every checkout waited. So an auto-update segment's initial sync and the cron's recompute walk
// the customers in keyset ranges of created_at (db/customers.ts rangePredicate), each step one D1
// call (one batch) over at most 5,000 customers, sized by time (lib/range-sizer.ts). Validates and
// redemptions run between the steps. A step is a function of the database and a cursor, so a walk
// runs as WRITES queue jobs: the creating request's waitUntil runs the first part of an
// initial sync, and a job message carries the rest; the cron sends one job per clock-relative
// segment. A job that runs out of its budget sends a message for the rest, with its cursor.
//
// Why membership stays exact while customers are written during the walk
// ----------------------------------------------------------------------
// The segment row is inserted (IN_PROGRESS, cursor before every customer) before the first step.
// From that commit on, every customer-write batch either
//   (a) knows the segment (it read the segments' version after the insert): its membershipDiff
//       sets the customer's membership from the customer as written, in the write's transaction; or
//   (b) does not (it read the version before, and commits after): its batch records the customer in
//       segment_pending instead (recordPendingForUnknownSegments, same transaction).
// A step sets the membership of its range from the customers as they are at the step's commit.
// D1 serialises batches, so for any customer c the last batch that touched c's membership before
// the end decides it, and each kind computes from the current row: a step or an (a)-write that
// commits after the last change to c is exact. The only way to end stale is a (b)-write committing
// after the step that covered c, and that write left c in segment_pending, which every step (and
// the cron) drains with the same diff. Customers created during the walk get created_at past every
// existing one, so they fall in a later range or are refreshed by (a)/(b). Nothing is missed.
//
// Events: the initial sync records none (existing customers did not just do anything). A write's
// diff records entered/left only for customers the sync has judged already (created_at <= cursor,
// or the sync is DONE): those have an exact membership, so a change is a real transition. For a
// customer the sync has not reached, the write sets membership silently, and the step later finds
// it already right. Events derive from the membership row inside the transaction that changes it
// (INSERT/DELETE are set-based and idempotent, segment_members has a primary key), so two runners
// over one range, or a write and a step, never record a transition twice nor a member twice.

/** A cursor before every customer (created_at is epoch milliseconds). */
export const BEFORE_ALL = Number.MIN_SAFE_INTEGER;

/** D1 allows 1,000 queries per invocation; a walk leaves room for the request's own queries. */
const CALLS_PER_INVOCATION = 800;
/** The initial sync continues after the answer in waitUntil, which Workers allow 30 s. */
const BACKGROUND_MS = 25_000;

export const backgroundBudget = (): WalkBudget => ({ calls: CALLS_PER_INVOCATION, deadline: Date.now() + BACKGROUND_MS });

/** What a walk over a segment achieved: its state, how many customers each step covered, and where it stopped. */
export interface WalkReport {
  status: 'DONE' | 'IN_PROGRESS' | 'GONE';
  steps: number[];
  /** IN_PROGRESS: the created_at of the last customer covered (the next walk starts after it). */
  cursor?: number;
}

/** D1 statements of one step at most (the range's diff, progress, the pending refresh): a job's budget is in statements. */
export const STATEMENTS_PER_STEP = 16;

/** The statements that refresh the customers pending for a segment, then forget them. */
function drainPending(db: D1Database, row: segmentsDb.SegmentRow, predicate: Sql, now: number): D1PreparedStatement[] {
  return [...segmentsDb.membershipDiff(db, row, predicate, segmentsDb.pendingFor(row.id), now), segmentsDb.clearPending(db, row.id)];
}

/**
 * Runs initial-sync steps of one auto-update segment until it is DONE or the budget is spent; the
 * cursor is stored with each step, so whoever runs next (waitUntil, the cron, a queue consumer)
 * continues where this stopped.
 */
export async function runInitialSync(db: D1Database, segmentId: string, budget: WalkBudget, sizer = new RangeSizer()): Promise<WalkReport> {
  const row = await segmentsDb.findSegment(db, segmentId);
  const steps: number[] = [];
  if (!row || row.type !== 'auto-update') return { status: 'GONE', steps };
  if (row.initial_sync_status === 'DONE') return { status: 'DONE', steps };
  const ast = storedAst(row);
  let after = row.sync_cursor ?? BEFORE_ALL;
  while (budgetLeft(budget)) {
    const now = Date.now();
    const predicate = compileSql(ast, now);
    const range: KeysetRange = { after, size: sizer.size, descending: false };
    const statements = segmentsDb.syncStep(db, row, predicate, range, { events: false, now });
    const progressAt = statements.push(segmentsDb.recordSyncProgress(db, row.id, range)) - 1;
    statements.push(...drainPending(db, row, predicate, now));
    budget.calls--;
    const results = await db.batch<Record<string, unknown>>(statements);
    sizer.record(Date.now() - now);
    steps.push(range.size);
    const progress = results[progressAt]?.results[0] as { initial_sync_status: string; sync_cursor: number | null } | undefined;
    // No row: the segment was deleted, or another runner finished it.
    if (!progress) return { status: (await segmentsDb.findSegment(db, segmentId)) ? 'DONE' : 'GONE', steps };
    if (progress.initial_sync_status === 'DONE' || progress.sync_cursor === null) return { status: 'DONE', steps };
    after = progress.sync_cursor;
    await giveWay();
  }
  return { status: 'IN_PROGRESS', steps };
}

/**
 * Walks the customers of one auto-update segment after `after` at `now`, recording every
 * transition (for clock-relative filters), with its pending customers refreshed at each step.
 * IN_PROGRESS when the budget ran out first, with the cursor to continue from (each step is exact
 * on its own).
 */
export async function recomputeSegment(
  db: D1Database,
  row: segmentsDb.SegmentRow,
  now: number,
  budget: WalkBudget,
  sizer = new RangeSizer(),
  after = BEFORE_ALL,
): Promise<WalkReport> {
  const predicate = compileSql(storedAst(row), now);
  const steps: number[] = [];
  while (budgetLeft(budget)) {
    const range: KeysetRange = { after, size: sizer.size, descending: false };
    const statements = segmentsDb.syncStep(db, row, predicate, range, { events: true, now });
    const endAt = statements.length - 1;
    statements.push(...drainPending(db, row, predicate, now));
    const started = Date.now();
    budget.calls--;
    const results = await db.batch<Record<string, unknown>>(statements);
    sizer.record(Date.now() - started);
    steps.push(range.size);
    const end = rangeEndOf(results[endAt]);
    if (end.last === null || end.customers < range.size) return { status: 'DONE', steps };
    after = end.last;
    await giveWay();
  }
  return { status: 'IN_PROGRESS', steps, cursor: after };
}

/** A job message that continues a segment's initial sync from its stored cursor. */
export const syncJob = (segmentId: string, at = Date.now()): SegmentSyncMessage => ({
  kind: 'segment_sync',
  id: randomId('job_'),
  at,
  segment_id: segmentId,
});

const recomputeJob = (segmentId: string, now: number, after: number): SegmentRecomputeMessage => ({
  kind: 'segment_recompute',
  id: randomId('job_'),
  at: Date.now(),
  segment_id: segmentId,
  now,
  after,
});

/**
 * An initial sync after the creating request's answer (its waitUntil, 30 s at most): steps until
 * the budget is spent, then a job message for the rest, so the queue finishes it without waiting
 * for the cron.
 */
export async function continueInitialSync(
  db: D1Database,
  queue: WriteQueue,
  segmentId: string,
  budget = backgroundBudget(),
): Promise<WalkReport> {
  const report = await runInitialSync(db, segmentId, budget);
  if (report.status === 'IN_PROGRESS') await enqueue(queue, syncJob(segmentId));
  return report;
}

/**
 * The consumer's segment jobs: a walk within `budget`, then a message for the rest when the
 * budget ran out. A message run twice (a redelivery, or the cron's next run while a walk goes
 * on) only repeats exact steps.
 */
export async function runSegmentJob(
  db: D1Database,
  queue: WriteQueue,
  message: SegmentSyncMessage | SegmentRecomputeMessage,
  budget: WalkBudget,
): Promise<WalkReport> {
  if (message.kind === 'segment_sync') return continueInitialSync(db, queue, message.segment_id, budget);
  const row = await segmentsDb.findSegment(db, message.segment_id);
  // Deleted, or changed back to a filter the clock does not move, or still in its initial sync
  // (which computes it at its own time): nothing to recompute.
  if (!row || row.type !== 'auto-update' || row.time_relative !== 1 || row.initial_sync_status !== 'DONE')
    return { status: 'GONE', steps: [] };
  const report = await recomputeSegment(db, row, message.now, budget, new RangeSizer(), message.after);
  if (report.status === 'IN_PROGRESS' && report.cursor !== undefined)
    await enqueue(queue, recomputeJob(row.id, message.now, report.cursor));
  return report;
}

/**
 * The cron's segment work: a job message per unfinished initial sync and per clock-relative
 * auto-update segment (customers cross "no order for 30 days" without any write), which the
 * queue consumer walks in bounded steps; and, here, the refresh of customers left pending for
 * finished segments (one batch each).
 */
export async function runScheduledSegmentWork(db: D1Database, queue: WriteQueue, now: number): Promise<void> {
  const jobs = [
    ...(await segmentsDb.segmentsSyncing(db)).map((row) => syncJob(row.id)),
    ...(await segmentsDb.listSegmentsOfType(db, 'auto-update'))
      .filter((row) => row.time_relative === 1 && row.initial_sync_status === 'DONE')
      .map((row) => recomputeJob(row.id, now, BEFORE_ALL)),
  ];
  const sender = new BatchSender(queue);
  for (const job of jobs) await sender.add(job);
  await sender.flush();

  const budget: WalkBudget = { calls: CALLS_PER_INVOCATION, deadline: Date.now() + 60_000 };
  for (const row of await segmentsDb.segmentsWithPending(db)) {
    if (!budgetLeft(budget) || row.initial_sync_status !== 'DONE') continue;
    budget.calls--;
    await db.batch(drainPending(db, row, compileSql(storedAst(row), now), now));
  }
}
