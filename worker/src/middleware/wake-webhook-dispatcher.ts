import type { MiddlewareHandler } from 'hono';
import type { AppBindings } from '../env';
import { requestMayHaveWrittenEvents, wakeDispatcher, webhooksKnownOff } from '../services/webhook-wake';

/**
 * After a mutating request has answered, one wake-up for the webhook dispatcher, when an enabled
 * endpoint exists (services/webhook-wake.ts says why and how stale that can be). It runs after
 * the response (waitUntil), so the request neither waits for it nor counts its storage reads.
 */
export const wakeWebhookDispatcher: MiddlewareHandler<AppBindings> = async (c, next) => {
  await next();
  // Webhooks off, as this isolate knows: not even a waitUntil.
  if (!requestMayHaveWrittenEvents(c.req.method, c.req.path, c.res.status) || webhooksKnownOff()) return;
  let ctx: ExecutionContext;
  try {
    ctx = c.executionCtx;
  } catch {
    return; // called without an execution context (app.fetch in a test): nothing can outlive the response
  }
  ctx.waitUntil(wakeDispatcher(c.env));
};
