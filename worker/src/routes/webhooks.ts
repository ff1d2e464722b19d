import { Hono } from 'hono';
import type { AppBindings } from '../env';
import { invalidQueryParams } from '../errors';
import { parseInput, parseJsonBody } from '../lib/parse-input';
import { deliveryListQuerySchema, webhookCreateSchema, webhookUpdateSchema } from '../schemas/webhooks';
import * as service from '../services/webhooks';

export const webhookRoutes = new Hono<AppBindings>()
  .post('/', async (c) => c.json(await service.createWebhook(c.env, await parseJsonBody(c, webhookCreateSchema))))
  .get('/', async (c) => c.json(await service.listWebhooks(c.env.DB)))
  .get('/:id', async (c) => c.json(await service.getWebhook(c.env.DB, c.req.param('id'))))
  .put('/:id', async (c) => c.json(await service.updateWebhook(c.env, c.req.param('id'), await parseJsonBody(c, webhookUpdateSchema))))
  .delete('/:id', async (c) => {
    await service.deleteWebhook(c.env.DB, c.req.param('id'));
    return c.body(null, 204);
  })
  .post('/:id/secret/rotate', async (c) => c.json(await service.rotateWebhookSecret(c.env.DB, c.req.param('id'))))
  .get('/:id/deliveries', async (c) => {
    const query = parseInput(deliveryListQuerySchema, c.req.query(), invalidQueryParams);
    return c.json(await service.listDeliveries(c.env.DB, c.req.param('id'), query));
  })
  .post('/:id/deliveries/:deliveryId/retry', async (c) =>
    c.json(await service.retryDelivery(c.env, c.env.WEBHOOKS, c.req.param('id'), c.req.param('deliveryId')), 202),
  );
