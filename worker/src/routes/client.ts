import { type Context, Hono } from 'hono';
import type { AppBindings } from '../env';
import { parseQuery } from '../lib/qs';
import { parseInput, parseJsonBody } from '../lib/validation';
import { rateLimitValidate } from '../middleware/rate-limit';
import { clientValidateQuerySchema, stackableSchema } from '../schemas/checkout';
import { trackingCookie } from '../services/tracking';
import { validateStackable, validateVoucher } from '../services/validation';

/** A validate answer for a browser: the tracking cookie where allowed, and never cached. */
function respond(c: Context<AppBindings>, body: unknown, trackingId: string) {
  const cookie = trackingCookie(trackingId, c.req.raw);
  if (cookie) c.header('Set-Cookie', cookie);
  c.header('Cache-Control', 'no-store');
  return c.json(body);
}

/**
 * GET /client/v1/validate in the query format of the official client SDK:
 * code, amount, item[i][...], customer[source_id], metadata[k], order[metadata][k], tracking_id,
 * plus identity_hash from the Vouchsafe browser SDK.
 */
export const clientValidateRoutes = new Hono<AppBindings>().get('/', rateLimitValidate, async (c) => {
  const query = parseQuery(new URL(c.req.url).searchParams);
  const { item, order, ...rest } = parseInput(clientValidateQuerySchema, query);
  // The SDK sends items as `item`, outside the order.
  const context = { ...rest, order: item ? { ...order, items: [...(order?.items ?? []), ...item] } : order };
  const { body, trackingId } = await validateVoucher(c.env, rest.code, context, c.get('requestId'));
  return respond(c, body, trackingId);
});

/** POST /client/v1/validations: stackable validate with the client key. */
export const clientValidationsRoutes = new Hono<AppBindings>().post('/', rateLimitValidate, async (c) => {
  const { redeemables, ...context } = await parseJsonBody(c, stackableSchema);
  const { body, trackingId } = await validateStackable(c.env, redeemables.map((r) => r.id), context, c.get('requestId'));
  return respond(c, body, trackingId);
});
