import { app } from './app';
import { consumeWrites } from './consumers/writes';
import { WRITES_QUEUE } from './queue/messages';
import { WEBHOOKS_DEAD_LETTER_QUEUE, WEBHOOKS_QUEUE } from './queue/webhook-messages';
import { consumeWebhooks } from './consumers/webhooks';
import { sweepWebhooks, WEBHOOK_SWEEP_CRON } from './services/webhook-delivery';
import { wakeDispatcher, writesMayHaveWrittenEvents } from './services/webhook-wake';
import type { Env } from './env';
import { deleteExpiredClientRedemptionRows, deleteStaleAnonymousProfiles, forgetAppliedMessages } from './services/retention';
import { expireRawEvents } from './services/event-retention';
import { forgetExpiredSessions } from './services/validation-sessions';
import { recordSegmentSizes } from './services/segment-sizes';
import { runScheduledSegmentWork } from './services/segment-sync';

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext) {
    // The official SDK joins apiUrl and the base path with '/', so an apiUrl with a trailing slash
    // requests `//v1/...`; collapse the leading slashes instead of answering 404.
    const url = new URL(request.url);
    if (url.pathname.startsWith('//')) {
      url.pathname = url.pathname.replace(/^\/+/, '/');
      request = new Request(url, request);
    }
    return app.fetch(request, env, ctx);
  },

  /**
   * Cron triggers (wrangler.toml [triggers]). Every minute (WEBHOOK_SWEEP_CRON): the webhook
   * dispatcher's sweep (services/webhook-delivery.ts). Every 15 minutes: sends the queue a job per
   * clock-relative segment to recompute and per initial sync to finish (walked in bounded steps by
   * the consumer), records today's size of every segment (its history), and deletes anonymous
   * tracking data and the public key's guest and failed redemptions past their retention, and
   * archives to R2 then deletes raw events past EVENT_RETENTION_DAYS (services/event-retention.ts),
   * and deletes expired validation-session holds (services/validation-sessions.ts).
   */
  async scheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext) {
    if (controller.cron === WEBHOOK_SWEEP_CRON) {
      await sweepWebhooks(env, controller.scheduledTime);
      return;
    }
    ctx.waitUntil(deleteStaleAnonymousProfiles(env, controller.scheduledTime));
    ctx.waitUntil(deleteExpiredClientRedemptionRows(env, controller.scheduledTime));
    ctx.waitUntil(forgetAppliedMessages(env, controller.scheduledTime));
    ctx.waitUntil(expireRawEvents(env, controller.scheduledTime));
    ctx.waitUntil(forgetExpiredSessions(env, controller.scheduledTime));
    // Awaited (not only waitUntil): the invocation is the work, and its end is when the work ends.
    await runScheduledSegmentWork(env.DB, env.WRITES, controller.scheduledTime);
    await recordSegmentSizes(env.DB, controller.scheduledTime);
  },

  /**
   * The WEBHOOKS queue and its dead-letter queue: consumers/webhooks.ts. The WRITES queue
   * and its dead-letter queue: consumers/writes.ts; a WRITES delivery that may have written events
   * (through the outbox triggers) then wakes the webhook dispatcher (services/webhook-wake.ts).
   */
  async queue(batch: MessageBatch<unknown>, env: Env) {
    if (batch.queue === WEBHOOKS_QUEUE || batch.queue === WEBHOOKS_DEAD_LETTER_QUEUE) {
      await consumeWebhooks(batch, env);
      return;
    }
    await consumeWrites(batch, env);
    if (batch.queue === WRITES_QUEUE && writesMayHaveWrittenEvents(batch.messages.map((m) => m.body))) await wakeDispatcher(env);
  },
} satisfies ExportedHandler<Env>;
