import { type Context, Hono } from 'hono';
import type { AppBindings } from '../env';
import { apiError, invalidQueryParams } from '../errors';
import { parseQuery } from '../lib/qs';
import { parseInput, parseJsonBody, readJsonBody } from '../lib/parse-input';
import {
  explainQuerySchema,
  redemptionListQuerySchema,
  rollbackBodySchema,
  rollbackQuerySchema,
  stackableSchema,
  validationContextSchema,
  voucherRedemptionsQuerySchema,
} from '../schemas/checkout';
import { clientIdentitySchema } from '../schemas/identity';
import { cleanCode } from '../schemas/vouchers';
import { trustedClientContext, withTrackingIdShown } from '../services/identity';
import { stackableRedeemables } from '../services/promotion-stacks';
import { redeem, type RedeemRequest } from '../services/redeem';
import { getRedemption, listRedemptions, listVoucherRedemptions } from '../services/redemption-queries';
import { rollbackRedemption, rollbackStackedRedemption } from '../services/rollback';
import { validateStackable } from '../services/validation';

/** The qs-style query (created_at[after]=…, filters[result][conditions][$in][0]=…); a repeated key is a list. */
function listQuery(c: Context<AppBindings>) {
  const search = new URL(c.req.url).searchParams;
  const query: Record<string, unknown> = parseQuery(search);
  const results = search.getAll('result');
  if (results.length > 1) query.result = results;
  return query;
}

/** POST /v1/redemptions and POST /client/v1/redemptions share everything but the caller. */
async function redeemStackable(c: Context<AppBindings>, caller: RedeemRequest['caller']) {
  const input = await readJsonBody(c);
  const { redeemables, ...raw } = parseInput(stackableSchema, input);
  const { codes, kinds, stackId } = stackableRedeemables(redeemables);
  const common = {
    route: 'stackable',
    caller,
    codes,
    kinds,
    ...(stackId === undefined ? {} : { stackId }),
    idempotencyKey: c.req.header('idempotency-key'),
  } as const;
  if (caller === 'server') {
    return redeem(c.env, { ...common, context: raw, trackingIdParam: c.req.query('tracking_id'), channelId: c.env.APP_ID });
  }
  // The client key is public: the URL's tracking_id is a claim like the body's (the body's wins),
  // judged by the same rule; only a signed identity counts, and no customer field is believed. The
  // answer names only the tracking id the request carried.
  const claimed = { ...raw, tracking_id: raw.tracking_id ?? c.req.query('tracking_id') };
  const context = await trustedClientContext(c.env, claimed, {
    request: c.req.raw,
    bodySignature: parseInput(clientIdentitySchema, input ?? {}).identity_signature,
  });
  const answer = await redeem(c.env, { ...common, context, channelId: c.env.CLIENT_APP_ID });
  return withTrackingIdShown(answer, context.tracking_id ?? null);
}

async function rollbackRequest(c: Context<AppBindings>) {
  const query = parseInput(rollbackQuerySchema, c.req.query(), invalidQueryParams);
  return {
    id: c.req.param('id') as string,
    reason: query.reason,
    body: await parseJsonBody(c, rollbackBodySchema),
    channelId: c.env.APP_ID,
  };
}

export const redemptionRoutes = new Hono<AppBindings>()
  .post('/', async (c) => c.json(await redeemStackable(c, 'server')))
  .get('/', async (c) => c.json(await listRedemptions(c.env.DB, parseInput(redemptionListQuerySchema, listQuery(c), invalidQueryParams))))
  .get('/:id', async (c) => c.json(await getRedemption(c.env.DB, c.req.param('id'))))
  .post('/:id/rollback', async (c) => c.json(await rollbackRedemption(c.env, await rollbackRequest(c))))
  .post('/:id/rollbacks', async (c) => c.json(await rollbackStackedRedemption(c.env, await rollbackRequest(c))));

/** POST and GET /v1/vouchers/{code}/redemption (the code cleaned as the official SDK cleans codes). */
export const voucherRedemptionRoutes = new Hono<AppBindings>()
  .post('/:code/redemption', async (c) => {
    const context = await parseJsonBody(c, validationContextSchema.default({}));
    const result = await redeem(c.env, {
      route: 'voucher',
      caller: 'server',
      codes: [cleanCode(c.req.param('code'))],
      context,
      trackingIdParam: c.req.query('tracking_id'),
      idempotencyKey: c.req.header('idempotency-key'),
      channelId: c.env.APP_ID,
    });
    return c.json(result);
  })
  .get('/:code/redemption', async (c) => {
    const page = parseInput(voucherRedemptionsQuerySchema, c.req.query(), invalidQueryParams);
    return c.json(await listVoucherRedemptions(c.env.DB, cleanCode(c.req.param('code')), page));
  });

/** POST /v1/validations (stackable validate); the client route adds the tracking cookie. */
export const stackableValidationRoutes = new Hono<AppBindings>().post('/', async (c) => {
  const explain = parseInput(explainQuerySchema, c.req.query(), invalidQueryParams);
  const { redeemables, ...context } = await parseJsonBody(c, stackableSchema);
  const { codes, ...named } = stackableRedeemables(redeemables);
  const { body } = await validateStackable(c.env, codes, context, c.get('requestId'), { upsertCustomer: true, explain, ...named });
  return c.json(body);
});

/**
 * POST /client/v1/redemptions (the official client SDK's redeemStackable). The client key ships in
 * every storefront page, so this is off unless CLIENT_REDEMPTIONS=on (as Voucherify asks a project
 * to enable client-side redemption). It names existing customers only and writes none.
 */
export const clientRedemptionRoutes = new Hono<AppBindings>().post('/', async (c) => {
  if (c.env.CLIENT_REDEMPTIONS !== 'on') {
    throw apiError('forbidden', 'Client-side redemptions are disabled; the operator enables them with CLIENT_REDEMPTIONS=on.');
  }
  c.header('Cache-Control', 'no-store');
  return c.json(await redeemStackable(c, 'client'));
});
