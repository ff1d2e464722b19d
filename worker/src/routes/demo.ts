import { Hono } from 'hono';
import { z } from 'zod';
import type { AppBindings, Env } from '../env';
import { ApiError } from '../errors';
import { parseJsonBody } from '../lib/validation';

type ApiFetch = (request: Request, env: Env, ctx: ExecutionContext) => Response | Promise<Response>;

const checkoutSchema = z.object({
  code: z.string().min(1).max(100),
  email: z.string().max(254).regex(/^[^\s@]+@[^\s@]+$/, 'must be an email address'),
  name: z.string().max(255).optional(),
  amount: z.number().int().min(0),
  items: z.array(z.object({ sku_id: z.string().max(255), quantity: z.number().int().min(1), price: z.number().int().min(0) })).max(50).optional(),
  tracking_id: z.string().max(255).optional(),
});

type ActivityEntry = { id: string; type: string; created_at: string; data?: { data?: Record<string, any> } };

/**
 * The page's timeline line for one activity (GET /v1/customers/{id}/activity, OA CustomerActivity):
 * a custom event under its own name with its metadata, the other kinds with the one detail shown.
 */
function timelineEntry(entry: ActivityEntry) {
  const data = entry.data?.data ?? {};
  const line = (type: string, detail: Record<string, unknown>) => ({ id: entry.id, type, data: detail, created_at: entry.created_at });
  if (entry.type === 'customer.custom_event') return line(String(data.event?.type ?? entry.type), data.event?.metadata ?? {});
  if (entry.type.startsWith('customer.segment.')) return line(entry.type, { segment: data.segment });
  if (entry.type.startsWith('customer.redemption.')) return line(entry.type, { code: data.voucher?.code });
  return line(entry.type, {});
}

/**
 * The demo storefront (npm start): its page and the backend route a real shop would run on its own
 * server. That route holds the server key and talks to the public API exactly like such a backend,
 * so the demo shows the real flow. Off unless DEMO=on (.dev.vars.example sets it): in production
 * it would let anyone redeem with the server key.
 */
export function demoRoutes(api: ApiFetch) {
  return new Hono<AppBindings>()
    .use('*', async (c, next) => {
      if (c.env.DEMO !== 'on') throw new ApiError(404, 'not_found', 'Resource not found', 'The demo is off (DEMO=on enables it).');
      await next();
    })
    // The page reads the client key from here, so editing .dev.vars needs no change to the page.
    .get('/api/config', (c) => c.json({ clientApplicationId: c.env.CLIENT_APP_ID, clientToken: c.env.CLIENT_TOKEN }))
    .post('/api/checkout', async (c) => {
      const input = await parseJsonBody(c, checkoutSchema);
      const call = async (method: string, path: string, body?: unknown) => {
        const res = await api(
          new Request(new URL(path, c.req.url), {
            method,
            headers: { 'X-App-Id': c.env.APP_ID, 'X-App-Token': c.env.APP_TOKEN, 'Content-Type': 'application/json' },
            body: body === undefined ? undefined : JSON.stringify(body),
          }),
          c.env,
          c.executionCtx,
        );
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };
      const redemption = await call('POST', `/v1/vouchers/${encodeURIComponent(input.code)}/redemption`, {
        customer: { source_id: input.email, email: input.email, ...(input.name ? { name: input.name } : {}) },
        order: { amount: input.amount, items: input.items },
        tracking_id: input.tracking_id,
      });
      const customer = await call('GET', `/v1/customers/${encodeURIComponent(input.email)}`);
      const id = String(customer.body.id ?? input.email);
      const [segments, activity] = await Promise.all([
        call('GET', `/v1/customers/${encodeURIComponent(id)}/segments`),
        call('GET', `/v1/customers/${encodeURIComponent(id)}/activity?limit=50`),
      ]);
      return c.json({
        redemption: redemption.body,
        redeemed: redemption.status === 200,
        customer: customer.status === 200 ? customer.body : null,
        segments: segments.status === 200 ? segments.body.data : [],
        activity: activity.status === 200 ? (activity.body.data as ActivityEntry[]).map(timelineEntry) : [],
      });
    })
    .get('/*', async (c) => {
      const url = new URL(c.req.url);
      // /demo and /demo/ are the page itself.
      if (url.pathname === '/demo') return c.redirect('/demo/', 301);
      const asset = await c.env.ASSETS.fetch(c.req.raw);
      // 304 answers a revalidation (If-None-Match): the browser's copy is still good.
      if (!asset.ok && asset.status !== 304) throw new ApiError(404, 'not_found', 'Resource not found', 'No such file');
      const res = new Response(asset.body, asset);
      res.headers.set('Cache-Control', 'no-cache');
      return res;
    });
}
