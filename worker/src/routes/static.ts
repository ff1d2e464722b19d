import { Hono } from 'hono';
import type { AppBindings } from '../env';
import { apiError } from '../errors';

/**
 * /sdk/v1.js: the script-tag SDK. v1 changes only compatibly, so browsers may keep it a day and
 * serve a stale copy while revalidating for a month; CORS lets any storefront load it.
 */
export const sdkRoutes = new Hono<AppBindings>().get('/*', async (c) => {
  const asset = await c.env.ASSETS.fetch(c.req.raw);
  // 304 answers a revalidation (If-None-Match): the browser's copy is still good.
  if (!asset.ok && asset.status !== 304) throw apiError('not_found', 'No such file');
  const res = new Response(asset.body, asset);
  res.headers.set('Cache-Control', 'public, max-age=86400, stale-while-revalidate=2592000');
  res.headers.set('Access-Control-Allow-Origin', '*');
  res.headers.set('X-Content-Type-Options', 'nosniff');
  return res;
});
