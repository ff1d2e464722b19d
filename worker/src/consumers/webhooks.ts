import { recordDeadLetters } from '../db/queued-writes';
import * as webhooksDb from '../db/webhooks';
import type { AttemptClaim } from '../db/webhooks';
import type { Env } from '../env';
import { isWebhookMessage, WEBHOOKS_DEAD_LETTER_QUEUE, type WebhookMessage } from '../queue/webhook-messages';
import { dispatch, dispatchHasLeftWork, runAttempts } from '../services/webhook-delivery';

/**
 * The WEBHOOKS queue's consumer. Dispatch wake-ups coalesce into one dispatcher run; attempts run
 * together, their bookkeeping in two batches. The queue's own retries are for what throws here (a
 * D1 outage); past them, the dead-letter consumer keeps the message and marks its delivery dead.
 */
export async function consumeWebhooks(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  if (batch.queue === WEBHOOKS_DEAD_LETTER_QUEUE) {
    const now = Date.now();
    await recordDeadLetters(
      env.DB,
      batch.messages.map((m) => ({
        id: m.id,
        kind: isWebhookMessage(m.body) ? `webhook_${m.body.kind}` : null,
        body: JSON.stringify(m.body) ?? 'null',
        attempts: m.attempts,
      })),
      now,
    );
    const ids = batch.messages.flatMap((m) => (isWebhookMessage(m.body) && m.body.kind === 'attempt' ? [m.body.delivery_id] : []));
    if (ids.length > 0)
      await webhooksDb
        .markDeliveriesDead(env.DB, ids, 'The delivery engine failed on this attempt past its retries (see dead_letters).')
        .run();
    batch.ackAll();
    return;
  }
  const wakeUps: Message<unknown>[] = [];
  const attempts: Message<unknown>[] = [];
  for (const message of batch.messages) {
    const body = message.body;
    if (!isWebhookMessage(body)) {
      console.error(JSON.stringify({ queue: batch.queue, message_id: message.id, error: 'unknown message' }));
      message.retry();
    } else if (body.kind === 'dispatch') wakeUps.push(message);
    else attempts.push(message);
  }
  if (wakeUps.length > 0 || dispatchHasLeftWork()) {
    try {
      await dispatch(env);
      for (const m of wakeUps) m.ack();
    } catch (error) {
      console.error(JSON.stringify({ queue: batch.queue, webhooks: 'dispatch failed', error: String(error) }));
      for (const m of wakeUps) m.retry();
    }
  }
  if (attempts.length > 0) {
    try {
      const claims = attempts.map((m) => {
        const body = m.body as Extract<WebhookMessage, { kind: 'attempt' }>;
        return [body.delivery_id, body.attempts] as AttemptClaim;
      });
      await runAttempts(env, claims);
      for (const m of attempts) m.ack();
    } catch (error) {
      // The claims are compare-and-set: a retried message attempts nothing already attempted.
      console.error(JSON.stringify({ queue: batch.queue, webhooks: 'attempts failed', error: String(error) }));
      for (const m of attempts) m.retry();
    }
  }
}
