import { Hono } from 'hono';
import type { AppBindings } from '../env';
import { invalidQueryParams } from '../errors';
import { parseInput, parseJsonBody } from '../lib/parse-input';
import { orderCreateSchema, orderImportSchema, orderListQuerySchema, orderUpdateSchema } from '../schemas/orders';
import { startOrderImport } from '../services/order-import';
import { startOrderCsvImport } from '../services/order-import-csv';
import * as service from '../services/orders';

/** The orders API (OA Orders): create or upsert, list, get and update by id or source_id, import. */
export const orderRoutes = new Hono<AppBindings>()
  .post('/', async (c) => c.json(await service.createOrder(c.env, await parseJsonBody(c, orderCreateSchema))))
  .get('/', async (c) => {
    const query = parseInput(orderListQuerySchema, c.req.query(), invalidQueryParams);
    return c.json(await service.listOrders(c.env.DB, query));
  })
  .post('/import', async (c) => {
    const orders = await parseJsonBody(c, orderImportSchema);
    const action = await startOrderImport(c.env, orders, c.get('requestId'));
    // 200, as the OA answers import-orders (not the 202 of the customers' bulk routes).
    return c.json({ async_action_id: action.id });
  })
  .post('/importCSV', async (c) => {
    const action = await startOrderCsvImport(c.env, c.req.raw, c.get('requestId'));
    return c.json({ async_action_id: action.id });
  })
  .get('/:id', async (c) => c.json(await service.getOrder(c.env.DB, c.req.param('id'))))
  .put('/:id', async (c) => c.json(await service.updateOrder(c.env, c.req.param('id'), await parseJsonBody(c, orderUpdateSchema))));
