import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../worker/src/app';
import type { Env } from '../../worker/src/env';
import { call, json } from './helpers';

describe('static files', () => {
  it('serves the SDK at /sdk/v1.js with long cache headers', async () => {
    const res = await call('/sdk/v1.js');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toMatch(/javascript/);
    expect(res.headers.get('Cache-Control')).toBe('public, max-age=86400, stale-while-revalidate=2592000');
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('*');
    expect(await res.text()).toContain('Vouchsafe');
  });

  it('passes a revalidation (304) through instead of calling it missing', async () => {
    const first = await call('/sdk/v1.js');
    const etag = first.headers.get('ETag');
    await first.arrayBuffer();
    expect(etag).toBeTruthy();
    const again = await call('/sdk/v1.js', { headers: { 'If-None-Match': etag as string } });
    expect(again.status).toBe(304);
  });

  it('answers 404 in the error shape for a missing file', async () => {
    const res = await call('/sdk/v2.js');
    expect(res.status).toBe(404);
    expect((await json(res)).key).toBe('not_found');
  });
});

describe('the demo storefront', () => {
  it('is off unless DEMO=on', async () => {
    // Through the worker's own fetch: wrangler.toml runs the worker first for every path.
    const send = async (path: string, init: RequestInit = {}) => {
      const ctx = createExecutionContext();
      const res = await app.fetch(new Request(`https://vouchsafe.test${path}`, init), env as unknown as Env, ctx);
      await waitOnExecutionContext(ctx);
      return res;
    };
    expect((await send('/demo/')).status).toBe(404);
    expect((await send('/demo/api/config')).status).toBe(404);
    const res = await send('/demo/api/checkout', { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
  });

  it('checks out through the public API with the server key, merging the tracking history', async () => {
    const demo = { ...env, DEMO: 'on' } as unknown as Env;
    const send = async (path: string, init: RequestInit = {}) => {
      const ctx = createExecutionContext();
      const res = await app.fetch(new Request(`https://vouchsafe.test${path}`, init), demo, ctx);
      await waitOnExecutionContext(ctx);
      return res;
    };
    await send('/v1/vouchers/DEMO10', {
      method: 'POST',
      headers: { 'X-App-Id': env.APP_ID, 'X-App-Token': env.APP_TOKEN },
      body: JSON.stringify({ discount: { type: 'PERCENT', percent_off: 10 } }),
    });
    const tid = 'track_CCCCCCCCCCCCCCCCCCCCCC';
    const res = await send('/demo/api/checkout', {
      method: 'POST',
      body: JSON.stringify({ code: 'DEMO10', email: 'shopper@example.com', name: 'Shopper', amount: 5000, tracking_id: tid }),
    });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({ redeemed: true, customer: { source_id: 'shopper@example.com', summary: { orders: { total_count: 1 } } } });
    expect(body.redemption.tracking_id).toBe(tid);
    const bad = await send('/demo/api/checkout', { method: 'POST', body: JSON.stringify({ code: 'DEMO10', email: 'nope', amount: 1 }) });
    expect(bad.status).toBe(400);
  });
});
