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

/** D1 statements per batch, and per delivery (Workers allow 1,000 queries an invocation): the rest is retried. */
const STATEMENTS_PER_BATCH = 300;
const STATEMENTS_PER_DELIVERY = 900;

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

/**
 * The queue() handler. Each message is applied with its marker (migration 0013) in one batch, so
 * a redelivered message changes nothing and a message is never half-written. Messages are batched
 * together; when such a batch fails, each of its messages is tried alone: one already applied is
 * acknowledged, one that fails (a poison message) is retried and, past max_retries, moved to the
 * dead-letter queue by the platform, whose consumer (below) keeps it for an operator.
 */
export async function consumeWrites(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const now = Date.now();
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
  const jobs: { message: Message<unknown>; body: JobMessage }[] = [];
  const { budget } = context;
  for (const message of batch.messages) {
    const body = message.body;
    if (!isWriteMessage(body)) {
      console.error(JSON.stringify({ queue: batch.queue, message_id: message.id, error: 'unknown message', attempts: message.attempts }));
      message.retry();
      continue;
    }
    if (isJob(body)) {
      jobs.push({ message, body });
      continue;
    }
    try {
      const writer = WRITERS[body.kind] as StatementWriter<RecordMessage>;
      // The marker first: a message applied before fails on it, not on a row of its own effects.
      const statements = [markApplied(db, body.id, now), ...(await writer(db, body, context))];
      if (statements.length > budget.statements && prepared.length > 0) {
        message.retry();
        continue;
      }
      budget.statements -= statements.length;
      prepared.push({ message, statements });
    } catch (error) {
      console.error(JSON.stringify({ queue: batch.queue, message_id: message.id, kind: body.kind, error: String(error) }));
      message.retry();
    }
  }
  for (const chunk of chunks(prepared)) await applyChunk(db, chunk);
  // Jobs run one after another until the delivery's time is spent; the rest go back on the queue
  // as new messages (no retry used). A delivery of 100 import chunks would otherwise hold one
  // invocation for minutes (and the local queue broker stalls on such deliveries).
  const jobsUntil = Date.now() + JOBS_PER_DELIVERY_MS;
  for (const [i, job] of jobs.entries()) {
    if (i > 0 && Date.now() > jobsUntil) await later(env, job.message, job.body, 0);
    else await runJob(env, job.message, job.body, context);
  }
}

/** Wall-clock time the jobs of one delivery may take, after the first (which always runs). */
const JOBS_PER_DELIVERY_MS = 10_000;

async function later(env: Env, message: Message<unknown>, body: JobMessage, delaySeconds: number): Promise<void> {
  await enqueue(env.WRITES, body, delaySeconds);
  message.ack();
}

async function runJob(env: Env, message: Message<unknown>, body: JobMessage, context: ConsumerContext): Promise<void> {
  try {
    const job = JOBS[body.kind] as Job<JobMessage>;
    const outcome = await job.run(env, body, context);
    // Again later, as a new message with the same body (and id): waiting costs no retry.
    if (outcome) return later(env, message, body, outcome.retryAfterSeconds);
    message.ack();
  } catch (error) {
    console.error(
      JSON.stringify({ queue: WRITES_QUEUE, message_id: message.id, kind: body.kind, attempts: message.attempts, error: String(error) }),
    );
    message.retry();
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

async function applyChunk(db: D1Database, chunk: Prepared[]): Promise<void> {
  try {
    await db.batch(chunk.flatMap((p) => p.statements));
    for (const p of chunk) p.message.ack();
    return;
  } catch (error) {
    if (chunk.length === 1) return settleFailure(chunk[0] as Prepared, error);
  }
  // One of them failed the whole batch: each alone, so the others are not held back by it.
  for (const p of chunk) {
    try {
      await db.batch(p.statements);
      p.message.ack();
    } catch (error) {
      settleFailure(p, error);
    }
  }
}

function settleFailure(p: Prepared, error: unknown): void {
  if (isAlreadyApplied(error)) {
    p.message.ack();
    return;
  }
  console.error(JSON.stringify({ queue: WRITES_QUEUE, message_id: p.message.id, attempts: p.message.attempts, error: String(error) }));
  p.message.retry();
}
