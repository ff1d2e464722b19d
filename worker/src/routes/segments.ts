import { Hono } from 'hono';
import type { AppBindings } from '../env';
import { invalidQueryParams } from '../errors';
import { parseInput, parseJsonBody } from '../lib/validation';
import { segmentCreateSchema, segmentExplainSchema, segmentListQuerySchema } from '../schemas/segments';
import { explainSegment } from '../services/segment-explain';
import * as service from '../services/segments';

export const segmentRoutes = new Hono<AppBindings>()
  .post('/', async (c) => {
    const input = await parseJsonBody(c, segmentCreateSchema);
    // An initial sync that outgrows the request continues after the answer (then the cron).
    return c.json(await service.createSegment(c.env.DB, input, (work) => c.executionCtx.waitUntil(work()), c.env.WRITES));
  })
  .get('/', async (c) => {
    const { limit, page } = parseInput(segmentListQuerySchema, c.req.query(), invalidQueryParams);
    return c.json(await service.listSegments(c.env.DB, limit, page));
  })
  .get('/:id', async (c) => c.json(await service.getSegment(c.env.DB, c.req.param('id'))))
  .post('/:id/explain', async (c) => c.json(await explainSegment(c.env, c.req.param('id'), await parseJsonBody(c, segmentExplainSchema))))
  .delete('/:id', async (c) => {
    await service.deleteSegment(c.env, c.req.param('id'));
    return c.body(null, 204);
  });
