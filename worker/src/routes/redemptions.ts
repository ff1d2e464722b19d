import { type Context, Hono } from 'hono';
import type { AppBindings } from '../env';
import { apiError, invalidQueryParams } from '../errors';
import { parseQuery } from '../lib/qs';
import { parseInput, parseJsonBody, readJsonBody } from '../lib/validation';
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
import { requestSignature, SIGNATURE_HEADER, trustedClientContext } from '../services/identity';
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
  // The client key is public: only a signed identity counts, and no customer field is believed.
  const context =
    caller === 'client'
      ? await trustedClientContext(c.env, raw, requestSignature(parseInput(clientIdentitySchema, input ?? {}).identity_signature, c.req.header(SIGNATURE_HEADER)))
      : raw;
  return redeem(c.env, {
    route: 'stackable',
    caller,
    codes: redeemables.map((r) => r.id),
    context,
    trackingIdParam: c.req.query('tracking_id'),
    idempotencyKey: c.req.header('idempotency-key'),
    channelId: caller === 'client' ? c.env.CLIENT_APP_ID : c.env.APP_ID,
  });
}

async function rollbackRequest(c: Context<AppBindings>) {
  const query = parseInput(rollbackQuerySchema, c.req.query(), invalidQueryParams);
  return { id: c.req.param('id') as string, reason: query.reason, body: await parseJsonBody(c, rollbackBodySchema), channelId: c.env.APP_ID };
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
  const { body } = await validateStackable(c.env, redeemables.map((r) => r.id), context, c.get('requestId'), { upsertCustomer: true, explain });
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
