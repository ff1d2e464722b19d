import { type Context, Hono } from 'hono';
import type { AppBindings } from '../env';
import { parseQuery } from '../lib/qs';
import { parseInput, readJsonBody } from '../lib/parse-input';
import { clientIdentitySchema } from '../schemas/identity';
import { clientValidateQuerySchema, sessionSchema, stackableSchema } from '../schemas/checkout';
import { trustedClientContext, withoutCustomerIds, withTrackingIdShown } from '../services/identity';
import { TRACKING_ID, trackingCookie } from '../services/tracking';
import { validateStackable, validateVoucher } from '../services/validation';
import { clientSessionMaxMs } from '../services/validation-sessions';
import { stackableRedeemables } from '../services/promotion-stacks';
import { clientSeesVoucherMetadata, withoutVoucherMetadata } from '../views/client-voucher';
import { qualificationSchema } from '../schemas/qualifications';
import { qualify } from '../services/qualifications';

/**
 * A validate answer for a browser: never cached, naming only the tracking id the request carried
 * (or, with none, the fresh one it was judged under, which nothing stores), and the tracking cookie
 * where allowed, but only for a device id (`track_…`) the request carried: a request without one
 * (no consent yet) gets no cookie, and a raw identity is never turned into one.
 */
export function respond(c: Context<AppBindings>, body: object, trackingId: string, carried: string | undefined) {
  const cookie = carried !== undefined && TRACKING_ID.test(carried) ? trackingCookie(carried, c.req.raw) : null;
  if (cookie) c.header('Set-Cookie', cookie);
  c.header('Cache-Control', 'no-store');
  return c.json(withTrackingIdShown(withoutCustomerIds(body), carried ?? trackingId));
}

/**
 * GET /client/v1/validate in the query format of the official client SDK:
 * code, amount, item[i][...], customer[source_id], metadata[k], order[metadata][k], tracking_id,
 * plus identity_hash from the Vouchsafe browser SDK. Its signature comes in the header only.
 */
export const clientValidateRoutes = new Hono<AppBindings>().get('/', async (c) => {
  const query = parseQuery(new URL(c.req.url).searchParams);
  const { item, order, session_type, session_key, session_ttl, session_ttl_unit, ...rest } = parseInput(clientValidateQuerySchema, query);
  // The SDK sends items as `item`, outside the order, and the session as flat parameters.
  const session =
    session_type !== undefined || session_key !== undefined
      ? parseInput(sessionSchema, { type: session_type, key: session_key, ttl: session_ttl, ttl_unit: session_ttl_unit })
      : rest.session;
  const raw = { ...rest, order: item ? { ...order, items: [...(order?.items ?? []), ...item] } : order, session };
  const context = await trustedClientContext(c.env, raw, { request: c.req.raw });
  const { body, trackingId } = await validateVoucher(c.env, rest.code, context, c.get('requestId'), {
    record: context.tracking_id !== undefined,
    clientSessions: { maxMs: clientSessionMaxMs(c.env) },
  });
  return respond(c, withoutVoucherMetadata(body, { voucherMetadata: clientSeesVoucherMetadata(c.env) }), trackingId, context.tracking_id);
});

/** POST /client/v1/validations: stackable validate with the client key. */
export const clientValidationsRoutes = new Hono<AppBindings>().post('/', async (c) => {
  const input = await readJsonBody(c);
  const { redeemables, ...raw } = parseInput(stackableSchema, input);
  const { identity_signature } = parseInput(clientIdentitySchema, input ?? {});
  const context = await trustedClientContext(c.env, raw, { request: c.req.raw, bodySignature: identity_signature });
  const { codes, ...named } = stackableRedeemables(redeemables);
  const { body, trackingId } = await validateStackable(c.env, codes, context, c.get('requestId'), {
    record: context.tracking_id !== undefined,
    clientSessions: { maxMs: clientSessionMaxMs(c.env) },
    ...named,
  });
  return respond(c, withoutVoucherMetadata(body, { voucherMetadata: clientSeesVoucherMetadata(c.env) }), trackingId, context.tracking_id);
});

/**
 * POST /client/v1/qualifications (the official client SDK's `qualifications`): judged on stored data
 * only (trustedClientContext drops the browser's customer fields and unsigned identities); promotion
 * tiers and codes the shop marked public to anyone, and the customer's own codes only when identity
 * verification accepted who the customer is. The answer names no customer (order.customer_id null)
 * and shows no voucher metadata unless the operator opts in; nothing is recorded.
 */
export const clientQualificationRoutes = new Hono<AppBindings>().post('/', async (c) => {
  const input = await readJsonBody(c);
  const raw = parseInput(qualificationSchema, input);
  const { identity_signature } = parseInput(clientIdentitySchema, input ?? {});
  const context = await trustedClientContext(c.env, raw, { request: c.req.raw, bodySignature: identity_signature });
  const { body, trackingId } = await qualify(c.env, context, {
    client: true,
    wallet: context.customer !== undefined || context.identity_hash !== undefined,
    showMetadata: clientSeesVoucherMetadata(c.env),
  });
  return respond(c, body, trackingId, context.tracking_id);
});
