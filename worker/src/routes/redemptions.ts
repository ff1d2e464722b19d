import { Hono } from 'hono';
import type { AppBindings } from '../env';
import { invalidQueryParams } from '../errors';
import { parseInput, parseJsonBody } from '../lib/validation';
import { redemptionListQuerySchema, stackableSchema } from '../schemas/vouchers';
import * as service from '../services/redemptions';
import { validateStackable } from '../services/validation';

export const redemptionRoutes = new Hono<AppBindings>()
  .post('/', async (c) => {
    const { redeemables, ...context } = await parseJsonBody(c, stackableSchema);
    const result = await service.redeem(c.env, {
      codes: redeemables.map((r) => r.id),
      context,
      trackingIdParam: c.req.query('tracking_id'),
      idempotencyKey: c.req.header('idempotency-key'),
      requestId: c.get('requestId'),
    });
    return c.json(result);
  })
  .get('/', async (c) => c.json(await service.listRedemptions(c.env.DB, parseInput(redemptionListQuerySchema, c.req.query(), invalidQueryParams))))
  .get('/:id', async (c) => c.json(await service.getRedemption(c.env.DB, c.req.param('id'))))
  .post('/:id/rollback', async (c) => c.json(await service.rollbackRedemption(c.env, c.req.param('id'), c.req.query('reason'))));

/** POST /v1/validations (stackable validate); the client route adds the tracking cookie. */
export const stackableValidationRoutes = new Hono<AppBindings>().post('/', async (c) => {
  const { redeemables, ...context } = await parseJsonBody(c, stackableSchema);
  const { body } = await validateStackable(c.env, redeemables.map((r) => r.id), context, c.get('requestId'));
  return c.json(body);
});
