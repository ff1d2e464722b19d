/**
 * The demo's sign-in asks for no password and signs the e-mail with the real IDENTITY_SECRET. A
 * deployment left with DEMO=on must not hand that to the world: it answers loopback hosts only,
 * unless DEMO_PUBLIC_SIGNIN=on says otherwise, which the worker then logs loudly.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { app } from '../../worker/src/app';
import type { Env } from '../../worker/src/env';
import { PUBLIC_SIGNIN_WARNING } from '../../worker/src/routes/demo';
import { json } from './helpers';

const signIn = async (origin: string, bindings: Partial<Env>, email = 'carol@example.com') => {
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request(`${origin}/demo/api/session`, {
      method: 'POST',
      headers: { Origin: origin, 'Content-Type': 'application/json' },
      body: JSON.stringify({ email }),
    }),
    { ...env, DEMO: 'on', ...bindings } as unknown as Env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
};

afterEach(() => vi.restoreAllMocks());

describe('the demo sign-in is never reachable by accident on a real deployment', () => {
  it.each(['http://127.0.0.1:8787', 'http://localhost:8787', 'http://[::1]:8787'])('answers on a loopback host: %s', async (origin) => {
    const res = await signIn(origin, {});
    expect(res.status).toBe(200);
    expect((await json(res)).signature).toMatch(/^\d+\.[0-9a-f]{64}$/);
  });

  it.each(['https://shop.example', 'https://demo.workers.dev', 'http://10.0.0.5:8787'])(
    'refuses any other host with DEMO=on alone, signing nothing: %s',
    async (origin) => {
      const res = await signIn(origin, {});
      expect(res.status).toBe(403);
      const body = await json(res);
      expect(body).toMatchObject({
        key: 'forbidden',
        details: expect.stringContaining('DEMO_PUBLIC_SIGNIN'),
        request_id: expect.any(String),
      });
      expect(JSON.stringify(body)).not.toMatch(/signature/);
      expect(res.headers.get('Set-Cookie')).toBeNull();
    },
  );

  it('refuses a loopback host called from a page of another origin', async () => {
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request('http://127.0.0.1:8787/demo/api/session', {
        method: 'POST',
        headers: { Origin: 'https://evil.example', 'Content-Type': 'application/json' },
        body: '{"email":"carol@example.com"}',
      }),
      { ...env, DEMO: 'on' } as unknown as Env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(403);
  });

  it('with DEMO_PUBLIC_SIGNIN=on answers any host, and warns once per isolate that anyone can sign in as anyone', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect((await signIn('https://shop.example', { DEMO_PUBLIC_SIGNIN: 'on' })).status).toBe(200);
    expect((await signIn('https://shop.example', { DEMO_PUBLIC_SIGNIN: 'on' }, 'dave@example.com')).status).toBe(200);
    const warnings = warn.mock.calls.filter((args) => String(args[0]).includes(PUBLIC_SIGNIN_WARNING));
    expect(warnings).toHaveLength(1);
    expect(PUBLIC_SIGNIN_WARNING).toMatch(/ANYONE CAN SIGN IN AS ANY CUSTOMER/);
  });
});
