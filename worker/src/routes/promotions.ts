import { Hono } from 'hono';
import type { AppBindings } from '../env';
import { invalidQueryParams } from '../errors';
import { parseInput, parseJsonBody } from '../lib/parse-input';
import { parseQuery } from '../lib/qs';
import { tierCreateSchema, tierListQuerySchema, tierUpdateSchema } from '../schemas/promotions';
import { stackCreateSchema, stackListQuerySchema, stackUpdateSchema } from '../schemas/promotion-stacks';
import * as stacks from '../services/promotion-stacks';
import * as service from '../services/promotions';

const query = (url: string) => parseQuery(new URL(url).searchParams);

/** /v1/promotions: promotion tiers (OA readOnly-openAPI.json:L40413-L41346; the SDK's promotions.tiers.*). */
export const promotionRoutes = new Hono<AppBindings>()
  .get('/tiers', async (c) =>
    c.json(await service.listTiers(c.env.DB, parseInput(tierListQuerySchema, query(c.req.url), invalidQueryParams))),
  )
  .get('/tiers/:id', async (c) => c.json(await service.getTier(c.env.DB, c.req.param('id'))))
  .put('/tiers/:id', async (c) => c.json(await service.updateTier(c.env, c.req.param('id'), await parseJsonBody(c, tierUpdateSchema))))
  // OA: 204 with no content.
  .delete('/tiers/:id', async (c) => {
    await service.deleteTier(c.env, c.req.param('id'));
    return c.body(null, 204);
  })
  .post('/tiers/:id/enable', async (c) => c.json(await service.setTierActive(c.env, c.req.param('id'), true)))
  .post('/tiers/:id/disable', async (c) => c.json(await service.setTierActive(c.env, c.req.param('id'), false)))
  // Stacks (OA readOnly-openAPI.json:L41346-L41960; the SDK's promotions.stack.*).
  .get('/stacks', async (c) =>
    c.json(await stacks.listStacks(c.env.DB, parseInput(stackListQuerySchema, query(c.req.url), invalidQueryParams))),
  )
  .get('/:campaignId/stacks', async (c) => c.json(await stacks.listCampaignStacks(c.env.DB, c.req.param('campaignId'))))
  .post('/:campaignId/stacks', async (c) =>
    c.json(await stacks.createStack(c.env, c.req.param('campaignId'), await parseJsonBody(c, stackCreateSchema))),
  )
  .get('/:campaignId/stacks/:stackId', async (c) =>
    c.json(await stacks.getStack(c.env.DB, c.req.param('campaignId'), c.req.param('stackId'))),
  )
  .put('/:campaignId/stacks/:stackId', async (c) =>
    c.json(await stacks.updateStack(c.env, c.req.param('campaignId'), c.req.param('stackId'), await parseJsonBody(c, stackUpdateSchema))),
  )
  // OA: 204 with no content.
  .delete('/:campaignId/stacks/:stackId', async (c) => {
    await stacks.deleteStack(c.env, c.req.param('campaignId'), c.req.param('stackId'));
    return c.body(null, 204);
  })
  .get('/:campaignId/tiers', async (c) => c.json(await service.listCampaignTiers(c.env.DB, c.req.param('campaignId'))))
  .post('/:campaignId/tiers', async (c) =>
    c.json(await service.createTier(c.env, c.req.param('campaignId'), await parseJsonBody(c, tierCreateSchema))),
  );
