import type { Context, MiddlewareHandler } from 'hono';
import { TRACKING_ID } from '../../../shared/identity';
import type { AppBindings } from '../env';
import { apiError } from '../errors';

/** Both limiters count per minute (wrangler.toml), so a refused caller can retry after that. */
const RETRY_AFTER_SECONDS = 60;

/** A stack holds at most this many codes (stackableSchema); a longer body is refused anyway. */
const MAX_UNITS = 30;

export const tooManyRequests = (c: Context, retryAfterSeconds: number, details = `Retry after ${retryAfterSeconds} seconds.`) => {
  c.header('Retry-After', String(retryAfterSeconds));
  // Voucherify's names for the same (limits.mdx "Response headers"): when, in epoch seconds, the next request may be made.
  c.header('X-Rate-Limit-Retry', String(Math.ceil(Date.now() / 1000) + retryAfterSeconds));
  c.header('X-Rate-Limit-Remaining', '0');
  return apiError('too_many_requests', details);
};

/**
 * What every /v1 answer says of the server key's limit. This service limits only the public client
 * key (wrangler.toml); the server key has no request limit of its own here. The official SDK's
 * apiLimitsHandler reads `x-rate-limit-limit` and `x-rate-limit-remaining` from the last answer and
 * reads a missing one as 0 (voucherifysdk.esm.js ApiLimitsHandler.getRateLimit /
 * getRateLimitRemaining), which a caller throttling on "remaining is 0" takes for "stop". So the
 * headers Voucherify sends on each answer (limits.mdx, "Response headers": X-Rate-Limit-Limit,
 * -Remaining, -Retry) state room that never runs out: the same ceiling for both, and now as the time
 * the next request may be made.
 */
export const SERVER_KEY_RATE_LIMIT = 1_000_000;

export const apiLimitHeaders: MiddlewareHandler = async (c, next) => {
  c.header('X-Rate-Limit-Limit', String(SERVER_KEY_RATE_LIMIT));
  c.header('X-Rate-Limit-Remaining', String(SERVER_KEY_RATE_LIMIT));
  c.header('X-Rate-Limit-Retry', String(Math.floor(Date.now() / 1000)));
  await next();
};

/** What a client request costs: one token per voucher code it tries, charged to these buckets. */
export interface ClientCharge {
  units: number;
  trackingId: string | undefined;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads the charge from the request as sent, before any schema: the query's `tracking_id`, or the
 * JSON body's `tracking_id` (or a `track_…` `customer.source_id`, as the browser SDK's track()
 * sends it), and one unit per entry of a `redeemables` array. Hono keeps the body text, so the
 * route reads it again for free.
 */
async function requestCharge(c: Context<AppBindings>): Promise<ClientCharge> {
  let trackingId = c.req.query('tracking_id');
  let units = 1;
  if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
    let body: unknown;
    try {
      body = JSON.parse(await c.req.text());
    } catch {
      // Not JSON: the route answers 400; the request still costs its one unit.
    }
    if (isRecord(body)) {
      const sourceId = isRecord(body.customer) ? body.customer.source_id : undefined;
      const fromBody =
        typeof body.tracking_id === 'string'
          ? body.tracking_id
          : typeof sourceId === 'string' && TRACKING_ID.test(sourceId)
            ? sourceId
            : undefined;
      trackingId ??= fromBody;
      if (Array.isArray(body.redeemables)) units = Math.min(Math.max(body.redeemables.length, 1), MAX_UNITS);
    }
  }
  return { units, trackingId: trackingId ? trackingId.slice(0, 255) : undefined };
}

/**
 * Takes `units` tokens from the caller's IP bucket and, when it names one, its tracking id's
 * bucket; throws 429 with Retry-After when either is empty. Without CF-Connecting-IP (never the
 * case behind Cloudflare's edge) every caller shares one bucket.
 */
export async function chargeClient(c: Context<AppBindings>, charge: ClientCharge): Promise<void> {
  if (c.env.RATE_LIMITS === 'off') return;
  const ip = c.req.header('cf-connecting-ip') ?? 'unknown';
  const checks: Promise<RateLimitOutcome>[] = [];
  for (let i = 0; i < charge.units; i++) {
    checks.push(c.env.CLIENT_BY_IP.limit({ key: `ip:${ip}` }));
    if (charge.trackingId) checks.push(c.env.CLIENT_BY_TRACKING_ID.limit({ key: `tid:${charge.trackingId}` }));
  }
  const outcomes = await Promise.all(checks);
  if (outcomes.some((o) => !o.success)) throw tooManyRequests(c, RETRY_AFTER_SECONDS);
}

/**
 * Every /client/v1/* route: the client key is public, so without a limit it is enough to
 * enumerate voucher codes or to fill the database. Mount it after the client auth.
 */
export const rateLimitClient: MiddlewareHandler<AppBindings> = async (c, next) => {
  if (c.env.RATE_LIMITS !== 'off') await chargeClient(c, await requestCharge(c));
  await next();
};
