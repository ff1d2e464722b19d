import { Hono } from 'hono';
import type { AppBindings } from '../env';
import { invalidQueryParams } from '../errors';
import { parseInput, parseJsonBody } from '../lib/parse-input';
import { parseQuery } from '../lib/qs';
import {
  customerBulkSchema,
  customerCreateSchema,
  customerListQuerySchema,
  customerMetadataBulkSchema,
  customerUpdateSchema,
} from '../schemas/customers';
import { activitiesQuerySchema, activityQuerySchema } from '../schemas/activity';
import { asyncActionListQuerySchema } from '../schemas/async-actions';
import { walletQuerySchema } from '../schemas/wallet';
import { customerActivities, customerActivity } from '../services/activity';
import { getAsyncAction, listAsyncActions } from '../services/async-actions';
import * as service from '../services/customers';
import { customerSegments } from '../services/segments';
import { customerWallet } from '../services/wallet';

export const customerRoutes = new Hono<AppBindings>()
  .post('/', async (c) => {
    const { id, write } = await parseJsonBody(c, customerCreateSchema);
    return c.json(await service.createOrUpsertCustomer(c.env.DB, id, write));
  })
  .get('/', async (c) => {
    const query = parseInput(customerListQuerySchema, c.req.query(), invalidQueryParams);
    return c.json(await service.listCustomers(c.env.DB, query));
  })
  .post('/bulk/async', async (c) => {
    const records = await parseJsonBody(c, customerBulkSchema);
    const action = await service.bulkUpsertCustomers(c.env.DB, records, c.get('requestId'), c.env);
    return c.json({ async_action_id: action.id }, 202);
  })
  .post('/metadata/async', async (c) => {
    const { source_ids, metadata } = await parseJsonBody(c, customerMetadataBulkSchema);
    const action = await service.bulkMergeMetadata(c.env.DB, source_ids, metadata, c.get('requestId'), c.env);
    return c.json({ async_action_id: action.id }, 202);
  })
  .get('/:id', async (c) => c.json(await service.getCustomer(c.env.DB, c.req.param('id'))))
  .put('/:id', async (c) => {
    const write = await parseJsonBody(c, customerUpdateSchema);
    return c.json(await service.updateCustomer(c.env.DB, c.req.param('id'), write));
  })
  .delete('/:id', async (c) => {
    await service.deleteCustomer(c.env.DB, c.req.param('id'));
    return c.body(null, 204);
  })
  .post('/:id/permanent-deletion', async (c) => c.json(await service.deleteCustomerPermanently(c.env, c.req.param('id'))))
  .get('/:id/segments', async (c) => c.json(await customerSegments(c.env.DB, c.req.param('id'), Date.now())))
  .get('/:id/activity', async (c) => {
    const query = parseInput(activityQuerySchema, c.req.query(), invalidQueryParams);
    return c.json(await customerActivity(c.env.DB, c.req.param('id'), query));
  })
  .get('/:id/activities', async (c) => {
    const query = parseInput(activitiesQuerySchema, c.req.query(), invalidQueryParams);
    return c.json(await customerActivities(c.env.DB, c.req.param('id'), query));
  })
  .get('/:id/redeemables', async (c) => {
    // Parsed as nested (filters[...]) so that the refused advanced filters are seen by name.
    const query = parseInput(walletQuerySchema, parseQuery(new URL(c.req.url).searchParams), invalidQueryParams);
    return c.json(await customerWallet(c.env.DB, c.req.param('id'), query, Date.now()));
  });

export const asyncActionRoutes = new Hono<AppBindings>()
  .get('/', async (c) => {
    const query = parseInput(asyncActionListQuerySchema, c.req.query(), invalidQueryParams);
    return c.json(await listAsyncActions(c.env.DB, query));
  })
  .get('/:id', async (c) => c.json(await getAsyncAction(c.env.DB, c.req.param('id'))));
