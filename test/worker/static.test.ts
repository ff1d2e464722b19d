import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { hashIdentity } from '../../shared/identity';
import { app } from '../../worker/src/app';
import type { Env } from '../../worker/src/env';
import { identityVerifier } from '../../worker/src/services/identity';
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

  // The demo's passwordless sign-in answers a loopback host only (npm start serves 127.0.0.1).
  const demo = { ...env, DEMO: 'on' } as unknown as Env;
  const send = async (path: string, init: RequestInit = {}) => {
    const ctx = createExecutionContext();
    const res = await app.fetch(new Request(`http://127.0.0.1:8787${path}`, init), demo, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  };
  /** What the demo page sends: same-origin JSON, with its session cookie when signed in. */
  const page = (body: unknown, cookie?: string): RequestInit => ({
    method: 'POST',
    headers: { Origin: 'http://127.0.0.1:8787', 'Content-Type': 'application/json', ...(cookie ? { Cookie: cookie } : {}) },
    body: JSON.stringify(body),
  });
  const signIn = async (email: string, name?: string) => {
    const res = await send('/demo/api/session', page({ email, name }));
    expect(res.status).toBe(200);
    const cookie = (res.headers.get('Set-Cookie') ?? '').split(';')[0] as string;
    expect(res.headers.get('Set-Cookie')).toMatch(/HttpOnly/i);
    return { cookie, body: await json(res) };
  };

  it('checks out through the public API with the server key for the signed-in shopper, merging the tracking history', async () => {
    await send('/v1/vouchers/DEMO10', {
      method: 'POST',
      headers: { 'X-App-Id': env.APP_ID, 'X-App-Token': env.APP_TOKEN },
      body: JSON.stringify({ discount: { type: 'PERCENT', percent_off: 10 } }),
    });
    const { cookie, body: session } = await signIn('shopper@example.com', 'Shopper');
    // The signature the page hands to Vouchsafe.setIdentity.
    expect(await identityVerifier(demo, [session.signature]).trusts('identity', await hashIdentity('shopper@example.com'))).toBe(true);
    const tid = 'track_CCCCCCCCCCCCCCCCCCCCCC';
    const res = await send('/demo/api/checkout', page({ code: 'DEMO10', amount: 5000, tracking_id: tid }, cookie));
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({
      redeemed: true,
      customer: { source_id: 'shopper@example.com', name: 'Shopper', summary: { orders: { total_count: 1 } } },
    });
    expect(body.redemption.tracking_id).toBe(tid);
    const bad = await send('/demo/api/checkout', page({ code: 'DEMO10', amount: -1 }, cookie));
    expect(bad.status).toBe(400);
  });

  it('the demo checkout acts only for the shopper signed in on the page, and only for the page itself', async () => {
    await send('/v1/customers', {
      method: 'POST',
      headers: { 'X-App-Id': env.APP_ID, 'X-App-Token': env.APP_TOKEN },
      body: JSON.stringify({
        source_id: 'carol@example.com',
        email: 'carol@example.com',
        name: 'Carol Jones',
        metadata: { tier: 'bronze' },
      }),
    });
    const order = { code: 'NOPE', email: 'carol@example.com', name: 'Pwned', amount: 0 };
    // Anyone (curl, another site): no session, no customer.
    const anonymous = await send('/demo/api/checkout', page(order));
    expect(anonymous.status).toBe(401);
    expect(await anonymous.text()).not.toMatch(/Carol|bronze/);
    // A cross-site form or fetch: text/plain, or another origin.
    const { cookie } = await signIn('mallory@example.com');
    const plain = await send('/demo/api/checkout', {
      ...page(order, cookie),
      headers: { Origin: 'http://127.0.0.1:8787', 'Content-Type': 'text/plain', Cookie: cookie },
    });
    expect(plain.status).toBe(415);
    const crossSite = await send('/demo/api/checkout', {
      ...page(order, cookie),
      headers: { Origin: 'https://evil.example', 'Content-Type': 'application/json', Cookie: cookie },
    });
    expect(crossSite.status).toBe(403);
    expect(
      (
        await send('/demo/api/session', {
          ...page({ email: 'carol@example.com' }),
          headers: { Origin: 'https://evil.example', 'Content-Type': 'application/json' },
        })
      ).status,
    ).toBe(403);
    // Signed in as Mallory, naming Carol: the backend acts for Mallory.
    const mallory = await json(await send('/demo/api/checkout', page(order, cookie)));
    expect(JSON.stringify(mallory)).not.toMatch(/Carol|carol@|bronze|Pwned/);
    expect(mallory.customer?.source_id ?? null).not.toBe('carol@example.com');
    const carol = await json(
      await send('/v1/customers/carol%40example.com', { headers: { 'X-App-Id': env.APP_ID, 'X-App-Token': env.APP_TOKEN } }),
    );
    expect(carol.name).toBe('Carol Jones');
    // A forged session cookie is nobody.
    const forged = `vs_demo_session=${encodeURIComponent(JSON.stringify({ email: 'carol@example.com' }) + '.AAAA')}`;
    expect((await send('/demo/api/checkout', page(order, forged))).status).toBe(401);
  });
});
