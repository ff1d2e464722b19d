import { Hono } from 'hono';
import type { AppBindings } from '../env';
import { invalidQueryParams } from '../errors';
import { parseInput, parseJsonBody } from '../lib/parse-input';
import {
  segmentCreateSchema,
  segmentExplainSchema,
  segmentListQuerySchema,
  segmentPreviewSchema,
  segmentSizesQuerySchema,
  segmentUpdateSchema,
} from '../schemas/segments';
import { explainSegment } from '../services/segment-explain';
import { previewSegment } from '../services/segment-preview';
import { segmentSizes } from '../services/segment-sizes';
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
  // Our addition: reads only, so middleware/d1-session.ts lets a replica answer it.
  .post('/preview', async (c) => c.json(await previewSegment(c.env.DB, await parseJsonBody(c, segmentPreviewSchema))))
  .get('/:id', async (c) => c.json(await service.getSegment(c.env.DB, c.req.param('id'))))
  .put('/:id', async (c) => c.json(await service.updateSegment(c.env.DB, c.req.param('id'), await parseJsonBody(c, segmentUpdateSchema))))
  .get('/:id/sizes', async (c) => {
    const { days } = parseInput(segmentSizesQuerySchema, c.req.query(), invalidQueryParams);
    return c.json(await segmentSizes(c.env.DB, c.req.param('id'), days, Date.now()));
  })
  .post('/:id/explain', async (c) => c.json(await explainSegment(c.env, c.req.param('id'), await parseJsonBody(c, segmentExplainSchema))))
  .delete('/:id', async (c) => {
    await service.deleteSegment(c.env, c.req.param('id'));
    return c.body(null, 204);
  });
