import type { ValidationAttemptMessage } from '../queue/messages';
import { prepare, sql } from './sql';
import { type SubjectKeys, subjectCustomerId } from './tracking';

/** Codes a profile remembers trying; older ones are forgotten past this. */
const MAX_CODES = 50;

/**
 * What an attempt's customer is looked up by: its customer by the kind the request named it as. A
 * message queued before the kind was recorded names it either way, as it was judged then.
 */
const attemptCustomer = (m: ValidationAttemptMessage): SubjectKeys => {
  const kind = m.customer_ref_kind;
  return {
    customerId: kind === 'source_id' ? null : m.customer_ref,
    sourceId: kind === 'id' ? null : m.customer_ref,
    trackingId: m.tracking_id,
    identityHmac: m.identity_hmac,
  };
};

/**
 * A validate call's record: the visit on the tracking profile (created on first sight; its
 * counters count the attempts, its codes the first code of the call), then one validations row a
 * code with its outcome, on the customer the request was about when one is known by now.
 * Messages may arrive out of order: `last_seen` only moves forward.
 */
export function validationAttemptStatements(db: D1Database, m: ValidationAttemptMessage): D1PreparedStatement[] {
  const statements: D1PreparedStatement[] = [];
  const code = m.attempts[0]?.code ?? null;
  if (m.tracking_id !== null) {
    statements.push(
      prepare(
        db,
        sql`INSERT INTO tracking_profiles (id, identity_hmac, first_seen, last_seen, validations_count, codes)
           VALUES (${m.tracking_id}, ${m.identity_hmac}, ${m.at}, ${m.at}, ${m.attempts.length > 0 ? 1 : 0}, CASE WHEN ${code} IS NULL THEN '[]' ELSE json_array(${code}) END)
           ON CONFLICT (id) DO UPDATE SET
             last_seen = max(last_seen, excluded.last_seen),
             first_seen = min(first_seen, excluded.first_seen),
             identity_hmac = coalesce(excluded.identity_hmac, identity_hmac),
             validations_count = validations_count + excluded.validations_count,
             codes = CASE
               WHEN ${code} IS NULL OR EXISTS (SELECT 1 FROM json_each(codes) WHERE value = ${code}) THEN codes
               WHEN json_array_length(codes) >= ${sql.raw(String(MAX_CODES))} THEN json_insert(json_remove(codes, '$[0]'), '$[#]', ${code})
               ELSE json_insert(codes, '$[#]', ${code}) END`,
      ),
    );
  }
  if (m.attempts.length > 0) {
    statements.push(
      prepare(
        db,
        sql`INSERT INTO validations (id, tracking_id, customer_id, code, amount, created_at, result, reason)
           SELECT a.value ->> 'id', ${m.tracking_id}, ${subjectCustomerId(attemptCustomer(m))}, a.value ->> 'code', ${m.amount}, ${m.at}, a.value ->> 'result', a.value ->> 'reason'
           FROM json_each(${JSON.stringify(m.attempts)}) a`,
      ),
    );
  }
  return statements;
}

/**
 * The row that says a message was applied, first in the message's statements. A plain INSERT: for
 * a message applied before it fails on the primary key, and the batch (the message's effects) rolls back.
 */
export function markApplied(db: D1Database, messageId: string, now: number): D1PreparedStatement {
  return db.prepare('INSERT INTO applied_messages (id, applied_at) VALUES (?, ?)').bind(messageId, now);
}

/** Whether a failed batch failed on markApplied, i.e. its message was applied before. */
export const isAlreadyApplied = (error: unknown): boolean => /UNIQUE constraint failed: applied_messages\.id/.test(String(error));

export function recordDeadLetters(
  db: D1Database,
  letters: { id: string; kind: string | null; body: string; attempts: number }[],
  now: number,
): Promise<unknown> {
  return prepare(
    db,
    sql`INSERT INTO dead_letters (id, kind, body, attempts, dead_at)
       SELECT l.value ->> 'id', l.value ->> 'kind', l.value ->> 'body', l.value ->> 'attempts', ${now} FROM json_each(${JSON.stringify(letters)}) l
       WHERE true ON CONFLICT (id) DO NOTHING`,
  ).run();
}

export function listDeadLetters(
  db: D1Database,
): Promise<{ id: string; kind: string | null; body: string; attempts: number; dead_at: number }[]> {
  return db
    .prepare('SELECT * FROM dead_letters ORDER BY dead_at DESC LIMIT 100')
    .all<{ id: string; kind: string | null; body: string; attempts: number; dead_at: number }>()
    .then((r) => r.results);
}

/**
 * Forgets up to `limit` applied markers older than `before` (past Queues' longest retention no
 * copy of their message can arrive). Resolves to how many went.
 */
export async function deleteAppliedBefore(db: D1Database, before: number, limit: number): Promise<number> {
  const result = await db
    .prepare('DELETE FROM applied_messages WHERE id IN (SELECT id FROM applied_messages WHERE applied_at < ? ORDER BY applied_at LIMIT ?)')
    .bind(before, limit)
    .run();
  return result.meta.changes ?? 0;
}
