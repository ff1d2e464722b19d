import type { MiddlewareHandler } from 'hono';
import type { AppBindings } from '../env';
import { ApiError } from '../errors';

/** Both limiters count per minute (wrangler.toml), so a refused caller can retry after that. */
const RETRY_AFTER_SECONDS = 60;

/**
 * Client validate, per IP and per tracking id (Workers Rate Limiting binding). Voucher codes are
 * short secrets: without a limit, a client key is enough to enumerate them.
 */
export const rateLimitValidate: MiddlewareHandler<AppBindings> = async (c, next) => {
  if (c.env.RATE_LIMITS !== 'off') {
    const ip = c.req.header('cf-connecting-ip') ?? 'unknown';
    const trackingId = c.req.query('tracking_id');
    const checks = [c.env.VALIDATE_BY_IP.limit({ key: `ip:${ip}` })];
    if (trackingId) checks.push(c.env.VALIDATE_BY_TRACKING_ID.limit({ key: `tid:${trackingId}` }));
    const outcomes = await Promise.all(checks);
    if (outcomes.some((o) => !o.success)) {
      c.header('Retry-After', String(RETRY_AFTER_SECONDS));
      throw new ApiError(429, 'too_many_requests', 'Too many requests hit the API too quickly.', `Retry after ${RETRY_AFTER_SECONDS} seconds.`);
    }
  }
  await next();
};
