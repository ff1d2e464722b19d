import { isAlreadyApplied, markApplied, recordDeadLetters, validationAttemptStatements } from '../db/queued-writes';
import { profileLinks } from '../db/tracking';
import type { Env } from '../env';
import { failGeneration } from '../db/campaigns';
import { runCampaignCodes } from '../services/campaigns';
import { failDeadLetteredDistribution, runDistribution } from '../services/distributions';
import { IMPORT_PACE, writeImportChunk } from '../services/customer-import-chunks';
import { failImport } from '../services/customer-import-report';
import { failDeadLetteredOrderImport, runOrderImport } from '../services/order-import';
import type { JobOutcome, StatementBudget } from '../queue/jobs';
import { bulkWriteTarget, WritePacer } from '../lib/write-pacer';
import { customerEventStatements, profileEventStatements } from '../services/events';
import { type ActiveSegment, loadActiveSegments } from '../services/membership';
import { runSegmentJob, STATEMENTS_PER_STEP } from '../services/segment-sync';
import {
  DEAD_LETTER_QUEUE,
  enqueue,
  messageBytes,
  sendBatchGroups,
  type JobKind,
  type JobMessage,
  type MessageOf,
  type RecordKind,
  type RecordMessage,
  type WriteMessage,
  WRITES_QUEUE,
} from '../queue/messages';

interface ConsumerContext {
  /** The auto-update segments, loaded once per delivery for the messages that write customers. */
  segments(): Promise<ActiveSegment[]>;
  /** The links of the delivery's tracking profiles to customers, read once per delivery. */
  links(): Promise<Map<string, { customer_id: string; linked_at: number }>>;
  /** D1 statements left to this delivery: the record messages take theirs first, then each job. */
  budget: StatementBudget;
  /** Sizes the import chunks' parts by time: one per delivery, so each chunk starts from what the last one learned. */
  importPacer(): WritePacer;
}

/**
 * How each kind of message is written: as D1 statements, batched with the other messages of the
 * delivery (one round trip for up to 100 attempts and events).
 */
type StatementWriter<M> = (db: D1Database, message: M, context: ConsumerContext) => Promise<D1PreparedStatement[]> | D1PreparedStatement[];

const WRITERS: { [K in RecordKind]: StatementWriter<MessageOf<K>> } = {
  validation: (db, m) => validationAttemptStatements(db, m),
  profile_event: async (db, m, context) => profileEventStatements(db, m, (await context.links()).get(m.tracking_id), context.segments),
  customer_event: async (db, m, context) => customerEventStatements(db, m, await context.segments()),
};

/** Whether a message is one the statement writers apply (its marker in applied_messages), not a job. */
export const isStatementMessage = (body: unknown): body is RecordMessage => isWriteMessage(body) && !isJob(body);

/**
 * How each kind of long work runs: one message at a time, by itself. It returns when done (the
 * message is acknowledged), asks to run again later (sent again with a delay, as a new message, so
 * waiting uses none of its retries), or throws (retried; past max_retries, dead-lettered). A job
 * applies its own effects idempotently: import chunks with their markers (migration 0014),
 * segment walks by exact steps.
 */
type JobRunner<M> = (env: Env, message: M, context: ConsumerContext) => Promise<JobOutcome>;

/**
 * A job kind: how it runs, and what its dead-lettered message (one that gave up past max_retries)
 * leaves behind, when the work it belonged to can no longer finish and must say so.
 */
interface Job<M> {
  run: JobRunner<M>;
  deadLettered?: (env: Env, message: M) => Promise<unknown>;
}

/** Wall-clock time of one segment walk (a consumer invocation may run 15 minutes; D1 waits are most of it). */
const WALK_MS = 25_000;

async function segmentWalk(
  env: Env,
  message: MessageOf<'segment_sync' | 'segment_recompute'>,
  context: ConsumerContext,
): Promise<JobOutcome> {
  const calls = Math.floor(context.budget.statements / STATEMENTS_PER_STEP);
  if (calls < 1) return { retryAfterSeconds: 0 };
  const report = await runSegmentJob(env.DB, env.WRITES, message, { calls, deadline: Date.now() + WALK_MS });
  context.budget.statements -= report.steps.length * STATEMENTS_PER_STEP;
}

const JOBS: { [K in JobKind]: Job<MessageOf<K>> } = {
  import_chunk: {
    run: (env, m, context) => writeImportChunk(env.DB, m, context.segments, context.budget, context.importPacer()),
    // An import missing a chunk cannot finish: say so on its action.
    deadLettered: (env, m) => failImport(env.DB, m.action_id),
  },
  segment_sync: { run: segmentWalk },
  segment_recompute: { run: segmentWalk },
  order_import: {
    run: (env, m, context) => runOrderImport(env, m, context.segments, context.budget),
    deadLettered: (env, m) => failDeadLetteredOrderImport(env.DB, m.action_id),
  },
  campaign_codes: {
    run: (env, m, context) => runCampaignCodes(env, m, context.budget),
    // A campaign's generation whose message gave up cannot finish either.
    deadLettered: (env, m) => failGeneration(env.DB, m.campaign_id).run(),
  },
  distribution: {
    run: (env, m, context) => runDistribution(env, m, context.budget),
    // Nor can a segment distribution.
    deadLettered: (env, m) => failDeadLetteredDistribution(env.DB, m.distribution_id),
  },
};

/**
 * D1 statements per batch, and per delivery (Workers allow 1,000 queries an invocation): the record
 * messages past the delivery's budget are sent again as new messages (see consumeWrites).
 */
const STATEMENTS_PER_BATCH = 300;
const STATEMENTS_PER_DELIVERY = 900;

/**
 * What one delivery did, logged as one JSON line when COUNT_OPS=on (docs/benchmarks.md): messages
 * delivered; record messages applied (or found applied already) and jobs run to an answer; messages
 * sent again as new ones (past the budget, or a job's "later"); messages retried (faults only);
 * the D1 statements of the record batches, the sum of their statements' meta.duration and the wall
 * time around their db.batch calls.
 */
export interface DeliveryStats {
  queue: string;
  messages: number;
  applied: number;
  resent: number;
  retried: number;
  statements: number;
  d1_ms: number;
  batch_ms: number;
}

function isWriteMessage(body: unknown): body is WriteMessage {
  if (typeof body !== 'object' || body === null) return false;
  const { kind, id, at } = body as Record<string, unknown>;
  return (
    typeof kind === 'string' &&
    (Object.hasOwn(WRITERS, kind) || Object.hasOwn(JOBS, kind)) &&
    typeof id === 'string' &&
    typeof at === 'number'
  );
}

const isJob = (body: WriteMessage): body is JobMessage => Object.hasOwn(JOBS, body.kind);

interface Prepared {
  message: Message<unknown>;
  statements: D1PreparedStatement[];
}

/** A delivery's acknowledgements, counted as they are given (the COUNT_OPS line). */
class Settle {
  readonly stats: DeliveryStats;
  constructor(queue: string, messages: number) {
    this.stats = { queue, messages, applied: 0, resent: 0, retried: 0, statements: 0, d1_ms: 0, batch_ms: 0 };
  }
  applied(message: Message<unknown>): void {
    this.stats.applied++;
    message.ack();
  }
  resent(message: Message<unknown>): void {
    this.stats.resent++;
    message.ack();
  }
  retry(message: Message<unknown>): void {
    this.stats.retried++;
    message.retry();
  }
  /** Runs one D1 batch of record statements, timed. */
  async batch(db: D1Database, statements: D1PreparedStatement[]): Promise<void> {
    this.stats.statements += statements.length;
    const started = Date.now();
    try {
      const results = await db.batch(statements);
      for (const r of results) this.stats.d1_ms += r.meta?.duration ?? 0;
    } finally {
      this.stats.batch_ms += Date.now() - started;
    }
  }
}

/**
 * The queue() handler. Each message is applied with its marker (migration 0013) in one batch, so
 * a redelivered message changes nothing and a message is never half-written. Messages are batched
 * together; when such a batch fails, each of its messages is tried alone: one already applied is
 * acknowledged, one that fails (a poison message) is retried and, past max_retries, moved to the
 * dead-letter queue by the platform, whose consumer (below) keeps it for an operator.
 *
 * Retries are for faults only. A record message that does not fit the delivery's statement budget
 * is sent again as a new message (the same body, so the same id: its marker still makes it
 * exactly-once) and acknowledged: every retry counts toward max_retries, so under a backlog a
 * retried message would reach the dead-letter queue without anything being wrong with it, and be
 * missing from counts and memberships until an operator replayed it. A new message starts at
 * attempt 1. Jobs do the same with what outgrows their budget (later()).
 */
export async function consumeWrites(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const now = Date.now();
  const settle = new Settle(batch.queue, batch.messages.length);
  try {
    await consume(batch, env, settle, now);
  } finally {
    if (env.COUNT_OPS === 'on') console.log(JSON.stringify({ consumer: settle.stats }));
  }
}

async function consume(batch: MessageBatch<unknown>, env: Env, settle: Settle, now: number): Promise<void> {
  if (batch.queue === DEAD_LETTER_QUEUE) {
    await recordDeadLetters(
      env.DB,
      batch.messages.map((m) => ({
        id: m.id,
        kind: isWriteMessage(m.body) ? m.body.kind : null,
        body: JSON.stringify(m.body) ?? 'null',
        attempts: m.attempts,
      })),
      now,
    );
    // Each job kind's own dead-letter handling (its JOBS entry), in the order the messages came.
    for (const m of batch.messages) {
      if (!isWriteMessage(m.body) || !isJob(m.body)) continue;
      const job = JOBS[m.body.kind] as Job<JobMessage>;
      await job.deadLettered?.(env, m.body);
    }
    batch.ackAll();
    return;
  }
  const db = env.DB;
  let segments: Promise<ActiveSegment[]> | null = null;
  let links: Promise<Map<string, { customer_id: string; linked_at: number }>> | null = null;
  const profiles = batch.messages.flatMap((m) => (isWriteMessage(m.body) && m.body.kind === 'profile_event' ? [m.body.tracking_id] : []));
  let importPacer: WritePacer | null = null;
  const context: ConsumerContext = {
    segments: () => (segments ??= loadActiveSegments(db)),
    links: () => (links ??= profileLinks(db, profiles)),
    budget: { statements: STATEMENTS_PER_DELIVERY },
    importPacer: () => (importPacer ??= new WritePacer(bulkWriteTarget(env), IMPORT_PACE)),
  };

  const prepared: Prepared[] = [];
  const overflow: { message: Message<unknown>; body: RecordMessage }[] = [];
  const jobs: { message: Message<unknown>; body: JobMessage }[] = [];
  const { budget } = context;
  for (const message of batch.messages) {
    const body = message.body;
    if (!isWriteMessage(body)) {
      console.error(JSON.stringify({ queue: batch.queue, message_id: message.id, error: 'unknown message', attempts: message.attempts }));
      settle.retry(message);
      continue;
    }
    if (isJob(body)) {
      jobs.push({ message, body });
      continue;
    }
    // Nothing left of the budget: no need to build its statements to know it will not fit.
    if (budget.statements <= 0 && prepared.length > 0) {
      overflow.push({ message, body });
      continue;
    }
    try {
      const writer = WRITERS[body.kind] as StatementWriter<RecordMessage>;
      // The marker first: a message applied before fails on it, not on a row of its own effects.
      const statements = [markApplied(db, body.id, now), ...(await writer(db, body, context))];
      if (statements.length > budget.statements && prepared.length > 0) {
        overflow.push({ message, body });
        continue;
      }
      budget.statements -= statements.length;
      prepared.push({ message, statements });
    } catch (error) {
      console.error(JSON.stringify({ queue: batch.queue, message_id: message.id, kind: body.kind, error: String(error) }));
      settle.retry(message);
    }
  }
  for (const chunk of chunks(prepared)) await applyChunk(db, chunk, settle);
  await sendAgain(env, overflow, settle);
  // Jobs run one after another until the delivery's time is spent; the rest go back on the queue
  // as new messages (no retry used). A delivery of 100 import chunks would otherwise hold one
  // invocation for minutes (and the local queue broker stalls on such deliveries).
  const jobsUntil = Date.now() + JOBS_PER_DELIVERY_MS;
  for (const [i, job] of jobs.entries()) {
    if (i > 0 && Date.now() > jobsUntil) await later(env, job.message, job.body, 0, settle);
    else await runJob(env, job.message, job.body, context, settle);
  }
}

/**
 * Sends the record messages past the budget again as new messages, in sendBatch calls within
 * Queues' limits (100 messages, 256 KB), and acknowledges each once the call that carried it
 * succeeded. A call that fails is a fault: its messages are retried, which sends them again too.
 */
async function sendAgain(env: Env, overflow: { message: Message<unknown>; body: RecordMessage }[], settle: Settle): Promise<void> {
  for (const group of sendBatchGroups(overflow, (o) => messageBytes(o.body))) {
    try {
      await env.WRITES.sendBatch(group.map((o) => ({ body: o.body, contentType: 'json' as const })));
      for (const o of group) settle.resent(o.message);
    } catch (error) {
      console.error(JSON.stringify({ queue: WRITES_QUEUE, resend: group.length, error: String(error) }));
      for (const o of group) settle.retry(o.message);
    }
  }
}

/** Wall-clock time the jobs of one delivery may take, after the first (which always runs). */
const JOBS_PER_DELIVERY_MS = 10_000;

async function later(env: Env, message: Message<unknown>, body: JobMessage, delaySeconds: number, settle: Settle): Promise<void> {
  await enqueue(env.WRITES, body, delaySeconds);
  settle.resent(message);
}

async function runJob(env: Env, message: Message<unknown>, body: JobMessage, context: ConsumerContext, settle: Settle): Promise<void> {
  try {
    const job = JOBS[body.kind] as Job<JobMessage>;
    const outcome = await job.run(env, body, context);
    // Again later, as a new message with the same body (and id): waiting costs no retry.
    if (outcome) return later(env, message, body, outcome.retryAfterSeconds, settle);
    settle.applied(message);
  } catch (error) {
    console.error(
      JSON.stringify({ queue: WRITES_QUEUE, message_id: message.id, kind: body.kind, attempts: message.attempts, error: String(error) }),
    );
    settle.retry(message);
  }
}

/** Consecutive messages whose statements fit one batch. */
function chunks(prepared: Prepared[]): Prepared[][] {
  const out: Prepared[][] = [];
  let current: Prepared[] = [];
  let size = 0;
  for (const p of prepared) {
    if (current.length > 0 && size + p.statements.length > STATEMENTS_PER_BATCH) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(p);
    size += p.statements.length;
  }
  if (current.length > 0) out.push(current);
  return out;
}

async function applyChunk(db: D1Database, chunk: Prepared[], settle: Settle): Promise<void> {
  try {
    await settle.batch(
      db,
      chunk.flatMap((p) => p.statements),
    );
    for (const p of chunk) settle.applied(p.message);
    return;
  } catch (error) {
    if (chunk.length === 1) return settleFailure(chunk[0] as Prepared, error, settle);
  }
  // One of them failed the whole batch: each alone, so the others are not held back by it.
  for (const p of chunk) {
    try {
      await settle.batch(db, p.statements);
      settle.applied(p.message);
    } catch (error) {
      settleFailure(p, error, settle);
    }
  }
}

function settleFailure(p: Prepared, error: unknown, settle: Settle): void {
  if (isAlreadyApplied(error)) {
    settle.applied(p.message);
    return;
  }
  console.error(JSON.stringify({ queue: WRITES_QUEUE, message_id: p.message.id, attempts: p.message.attempts, error: String(error) }));
  settle.retry(p.message);
}
