import { app } from './app';
import { consumeWrites } from './queue/consumer';
import type { Env } from './env';
import { deleteStaleAnonymousProfiles, forgetAppliedMessages } from './services/retention';
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
   * Cron trigger (wrangler.toml [triggers]): sends the queue a job per clock-relative segment to
   * recompute and per initial sync to finish (walked in bounded steps by the consumer), records
   * today's size of every segment (its history), and deletes anonymous tracking data past its
   * retention.
   */
  async scheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext) {
    ctx.waitUntil(deleteStaleAnonymousProfiles(env, controller.scheduledTime));
    ctx.waitUntil(forgetAppliedMessages(env, controller.scheduledTime));
    // Awaited (not only waitUntil): the invocation is the work, and its end is when the work ends.
    await runScheduledSegmentWork(env.DB, env.WRITES, controller.scheduledTime);
    await recordSegmentSizes(env.DB, controller.scheduledTime);
  },

  /** The WRITES queue and its dead-letter queue (wrangler.toml): queue/consumer.ts. */
  async queue(batch: MessageBatch<unknown>, env: Env) {
    await consumeWrites(batch, env);
  },
} satisfies ExportedHandler<Env>;
