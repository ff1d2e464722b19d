/**
 * What goes through the WEBHOOKS queue (wrangler.toml `vouchsafe-webhooks`), consumed by
 * consumers/webhooks.ts (the delivery logic: services/webhook-delivery.ts). A queue of its own, so that a slow or failing receiver never
 * holds back the WRITES consumer (validation records, imports, segment walks), and with its own
 * batch size, retries and dead-letter queue.
 */
export type WebhookMessage =
  /** Wake the dispatcher: fan the outbox's unclaimed events out to delivery rows (many coalesce into one run). */
  | { kind: 'dispatch'; at: number }
  /**
   * One attempt of a delivery. `attempts` is the delivery's count when the message was sent: the
   * attempt happens only if it still is (a message delivered twice, or one overtaken by a manual
   * retry, attempts nothing).
   */
  | { kind: 'attempt'; delivery_id: string; attempts: number };

export type WebhookQueue = Pick<Queue<WebhookMessage>, 'send' | 'sendBatch'>;

/** The queues of wrangler.toml: the webhook messages, and where the platform moves those that failed max_retries times. */
export const WEBHOOKS_QUEUE = 'vouchsafe-webhooks';
export const WEBHOOKS_DEAD_LETTER_QUEUE = 'vouchsafe-webhooks-dlq';

export const isWebhookMessage = (body: unknown): body is WebhookMessage => {
  if (typeof body !== 'object' || body === null) return false;
  const m = body as Record<string, unknown>;
  return (
    (m.kind === 'dispatch' && typeof m.at === 'number') ||
    (m.kind === 'attempt' && typeof m.delivery_id === 'string' && typeof m.attempts === 'number')
  );
};

/** Queues' limit of one sendBatch call. */
const MAX_BATCH_MESSAGES = 100;

/** Sends messages (JSON), each with its own delay, in sendBatch calls of at most 100. */
export async function sendWebhookMessages(queue: WebhookQueue, messages: { body: WebhookMessage; delaySeconds?: number }[]): Promise<void> {
  for (let i = 0; i < messages.length; i += MAX_BATCH_MESSAGES) {
    await queue.sendBatch(
      messages
        .slice(i, i + MAX_BATCH_MESSAGES)
        .map((m) =>
          m.delaySeconds
            ? { body: m.body, contentType: 'json' as const, delaySeconds: m.delaySeconds }
            : { body: m.body, contentType: 'json' as const },
        ),
    );
  }
}
