import { Hono } from 'hono';
import type { AppBindings } from '../env';
import { parseQuery } from '../lib/qs';
import { parseInput, parseJsonBody } from '../lib/parse-input';
import { clientValidateQuerySchema, validationContextSchema } from '../schemas/checkout';
import { trustedClientContext } from '../services/identity';
import { redeemTier, validatePromotions } from '../services/promotion-checkout';
import { clientSeesVoucherMetadata } from '../views/client-voucher';
import { respond } from './client';

// Promotion tiers at checkout, beside the tier management routes of routes/promotions.ts:
// which tiers apply (server and client key) and the redemption of one tier.

/** POST /v1/promotions/validation and POST /v1/promotions/tiers/{id}/redemption (the SDK's promotions.validate, promotions.tiers.redeem). */
export const promotionCheckoutRoutes = new Hono<AppBindings>()
  .post('/validation', async (c) => {
    const context = await parseJsonBody(c, validationContextSchema.default({}));
    const { body } = await validatePromotions(c.env, context, { upsertCustomer: true });
    return c.json(body);
  })
  .post('/tiers/:id/redemption', async (c) => {
    const context = await parseJsonBody(c, validationContextSchema.default({}));
    return c.json(
      await redeemTier(c.env, {
        tierId: c.req.param('id'),
        context,
        trackingIdParam: c.req.query('tracking_id'),
        idempotencyKey: c.req.header('idempotency-key'),
        channelId: c.env.APP_ID,
      }),
    );
  });

/** The client validate query without a code: what the official SDK's client.validate sends without one. */
const clientPromotionQuerySchema = clientValidateQuerySchema.omit({ code: true });

/**
 * GET /client/v1/promotions/validation (the official client SDK's `validate` without a code), with
 * the rules of GET /client/v1/validate: an identity counts only when signed, nothing is recorded
 * without a tracking id, no stored customer id and (unless the operator shows it) no metadata in
 * the answer, and the tracking id named as sent.
 */
export const clientPromotionValidationRoutes = new Hono<AppBindings>().get('/', async (c) => {
  const query = parseQuery(new URL(c.req.url).searchParams);
  const { item, order, ...rest } = parseInput(clientPromotionQuerySchema, query);
  const raw = { ...rest, order: item ? { ...order, items: [...(order?.items ?? []), ...item] } : order };
  const context = await trustedClientContext(c.env, raw, { request: c.req.raw });
  const { body, trackingId } = await validatePromotions(c.env, context, { record: context.tracking_id !== undefined });
  const showMetadata = clientSeesVoucherMetadata(c.env);
  const shown = {
    ...body,
    promotions: body.promotions.map((p) => ({
      ...p,
      metadata: showMetadata ? p.metadata : {},
      order: { ...p.order, customer_id: null },
    })),
  };
  return respond(c, shown, trackingId, context.tracking_id);
});
