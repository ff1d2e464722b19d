import { Hono } from 'hono';
import type { AppBindings } from '../env';
import { invalidQueryParams } from '../errors';
import { parseInput, parseJsonBody } from '../lib/parse-input';
import { exportCreateSchema, exportDownloadQuerySchema, exportListQuerySchema } from '../schemas/exports';
import * as service from '../services/exports';

/** The worker's own origin: download URLs point back at it. */
const origin = (url: string) => new URL(url).origin;

/** /v1/exports (server key). The SDK reaches these as client.distributions.exports.*. */
export const exportRoutes = new Hono<AppBindings>()
  .post('/', async (c) => c.json(await service.createExport(c.env, origin(c.req.url), await parseJsonBody(c, exportCreateSchema))))
  .get('/', async (c) => {
    const query = parseInput(exportListQuerySchema, c.req.query(), invalidQueryParams);
    return c.json(await service.listExports(c.env, origin(c.req.url), query));
  })
  .get('/:id', async (c) => c.json(await service.getExport(c.env, origin(c.req.url), c.req.param('id'))))
  .delete('/:id', async (c) => {
    await service.deleteExport(c.env.DB, c.req.param('id'));
    return c.body(null, 204);
  });

/**
 * GET /v1/exports/{id}/download?token=…: the CSV, streamed. Mounted before the server-key check:
 * the signed token in the URL is the credential (an HMAC over id and expiry, valid one hour).
 */
export const exportDownloadRoutes = new Hono<AppBindings>().get('/:id/download', async (c) => {
  const { token } = parseInput(exportDownloadQuerySchema, c.req.query(), invalidQueryParams);
  const { filename, body } = await service.downloadExport(c.env, c.req.param('id'), token, Date.now());
  return c.body(body, 200, {
    'Content-Type': 'text/csv; charset=utf-8',
    'Content-Disposition': `attachment; filename="${filename}"`,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
});
