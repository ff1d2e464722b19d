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

/**
 * GET /: what this server is, for a person who opens the address `npm start` and the README print
 * (the same address is the official SDK's apiUrl, so it answers JSON, not a redirect into a page).
 */
export const rootRoutes = new Hono<AppBindings>().get('/', (c) =>
  c.json({
    name: 'vouchsafe',
    description: "Customer tracking, customer segments and voucher validation at the edge, wire-compatible with Voucherify's API.",
    links: { demo: '/demo/', console: '/console/', health: '/health', openapi: '/openapi.json', sdk: '/sdk/v1.js' },
  }),
);
