import { isAlreadyApplied, markApplied, recordDeadLetters, validationAttemptStatements } from '../db/queued-writes';
import { profileLinks } from '../db/tracking';
import type { Env } from '../env';
import { customerEventStatements, profileEventStatements } from '../services/events';
import { type ActiveSegment, loadActiveSegments } from '../services/membership';
import type { MessageOf, WriteKind, WriteMessage } from './messages';

/** The queues of wrangler.toml: the writes, and where the platform moves what failed max_retries times. */
export const WRITES_QUEUE = 'vouchsafe-writes';
export const DEAD_LETTER_QUEUE = 'vouchsafe-writes-dlq';

interface ConsumerContext {
  /** The auto-update segments, loaded once per delivery for the messages that write customers. */
  segments(): Promise<ActiveSegment[]>;
  /** The links of the delivery's tracking profiles to customers, read once per delivery. */
  links(): Promise<Map<string, { customer_id: string; linked_at: number }>>;
}

/**
 * How each kind of message is written: as D1 statements, batched with the other messages of the
 * delivery (one round trip for up to 100 attempts and events).
 */
type StatementWriter<M> = (db: D1Database, message: M, context: ConsumerContext) => Promise<D1PreparedStatement[]> | D1PreparedStatement[];

const WRITERS: { [K in WriteKind]: StatementWriter<MessageOf<K>> } = {
  validation: (db, m) => validationAttemptStatements(db, m),
  profile_event: async (db, m, context) => profileEventStatements(db, m, (await context.links()).get(m.tracking_id), context.segments),
  customer_event: async (db, m, context) => customerEventStatements(db, m, await context.segments()),
};

/** Whether a message is one the statement writers apply (with its marker in applied_messages). */
export const isStatementMessage = (body: unknown): body is WriteMessage => isWriteMessage(body);

/** D1 statements per batch, and per delivery (Workers allow 1,000 queries an invocation): the rest is retried. */
const STATEMENTS_PER_BATCH = 300;
const STATEMENTS_PER_DELIVERY = 900;

function isWriteMessage(body: unknown): body is WriteMessage {
  if (typeof body !== 'object' || body === null) return false;
  const { kind, id, at } = body as Record<string, unknown>;
  return typeof kind === 'string' && Object.hasOwn(WRITERS, kind) && typeof id === 'string' && typeof at === 'number';
}

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
      batch.messages.map((m) => ({ id: m.id, kind: isWriteMessage(m.body) ? m.body.kind : null, body: JSON.stringify(m.body) ?? 'null', attempts: m.attempts })),
      now,
    );
    batch.ackAll();
    return;
  }
  const db = env.DB;
  let segments: Promise<ActiveSegment[]> | null = null;
  let links: Promise<Map<string, { customer_id: string; linked_at: number }>> | null = null;
  const profiles = batch.messages.flatMap((m) => (isWriteMessage(m.body) && m.body.kind === 'profile_event' ? [m.body.tracking_id] : []));
  const context: ConsumerContext = {
    segments: () => (segments ??= loadActiveSegments(db)),
    links: () => (links ??= profileLinks(db, profiles)),
  };

  const prepared: Prepared[] = [];
  let budget = STATEMENTS_PER_DELIVERY;
  for (const message of batch.messages) {
    const body = message.body;
    if (!isWriteMessage(body)) {
      console.error(JSON.stringify({ queue: batch.queue, message_id: message.id, error: 'unknown message', attempts: message.attempts }));
      message.retry();
      continue;
    }
    try {
      const writer = WRITERS[body.kind] as StatementWriter<WriteMessage>;
      // The marker first: a message applied before fails on it, not on a row of its own effects.
      const statements = [markApplied(db, body.id, now), ...(await writer(db, body, context))];
      if (statements.length > budget && prepared.length > 0) {
        message.retry();
        continue;
      }
      budget -= statements.length;
      prepared.push({ message, statements });
    } catch (error) {
      console.error(JSON.stringify({ queue: batch.queue, message_id: message.id, kind: body.kind, error: String(error) }));
      message.retry();
    }
  }
  for (const chunk of chunks(prepared)) await applyChunk(db, chunk);
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
