import { Hono } from 'hono';
import type { AppBindings } from '../env';
import { invalidQueryParams } from '../errors';
import { parseInput, parseJsonBody } from '../lib/parse-input';
import { parseQuery } from '../lib/qs';
import { tierCreateSchema, tierListQuerySchema, tierUpdateSchema } from '../schemas/promotions';
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
  .get('/:campaignId/tiers', async (c) => c.json(await service.listCampaignTiers(c.env.DB, c.req.param('campaignId'))))
  .post('/:campaignId/tiers', async (c) =>
    c.json(await service.createTier(c.env, c.req.param('campaignId'), await parseJsonBody(c, tierCreateSchema))),
  );
