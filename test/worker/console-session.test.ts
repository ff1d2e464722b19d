/**
 * The operator console's sign-in, session cookie and same-origin checks. The
 * console runs at /console and talks to /v1/* in-process; these tests drive it like a browser:
 * form posts with Origin, the cookie sent back as a Cookie header.
 */
import { describe, expect, it, vi } from 'vitest';
import { signToken } from '../../worker/src/lib/signed-token';
import { DEMO_APP_TOKEN, MIN_APP_TOKEN_LENGTH, SESSION_COOKIE, SESSION_SECONDS } from '../../worker/src/console/session';
import type { Env } from '../../worker/src/env';
import { TEST_ENV } from '../test-env';
import { consoleGet, consolePost, HTTPS_ORIGIN, sessionCookieOf, signIn } from './console-helpers';
import { api, json } from './helpers';

describe('console sign-in', () => {
  it('sets an HttpOnly, SameSite=Strict, 8-hour __Host- cookie (Secure, Path=/) on https for the right key', async () => {
    const res = await consolePost('/console/sign-in', {
      app_id: TEST_ENV.APP_ID,
      secret_key: TEST_ENV.APP_TOKEN,
      next: '/console/customers',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe('/console/customers');
    const cookie = res.headers.get('Set-Cookie') ?? '';
    // A random session id, then the signed expiry: `<id>.<expiry>.<HMAC>`.
    expect(cookie).toMatch(new RegExp(`^__Host-${SESSION_COOKIE}=[0-9A-Za-z]{22}\\.\\d+\\.[A-Za-z0-9_-]{43};`));
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    // What the __Host- prefix requires: Path=/, Secure, no Domain.
    expect(cookie).toContain('Path=/;');
    expect(cookie).toContain('Secure');
    expect(cookie).not.toContain('Domain');
    expect(cookie).toContain(`Max-Age=${SESSION_SECONDS}`);
    expect(SESSION_SECONDS).toBe(8 * 3600);
    // The key itself is nowhere in what the browser gets.
    expect(cookie).not.toContain(TEST_ENV.APP_TOKEN);
    // The expiry inside the token is the same 8 hours.
    const expiresAt = Number(/=[0-9A-Za-z]{22}\.(\d+)\./.exec(cookie)?.[1]);
    expect(expiresAt * 1000 - Date.now()).toBeGreaterThan(SESSION_SECONDS * 1000 - 60_000);
    expect(expiresAt * 1000 - Date.now()).toBeLessThanOrEqual(SESSION_SECONDS * 1000);
  });

  it('gives every sign-in its own session, even two in the same second', async () => {
    const [a, b] = await Promise.all([signIn(), signIn()]);
    expect(a).not.toBe(b);
    expect(a.split('.')[0]).not.toBe(b.split('.')[0]);
  });

  it('leaves Secure off on plain http (a local npm start), with the plain name on Path=/console', async () => {
    const http = await consolePost('/console/sign-in', { app_id: TEST_ENV.APP_ID, secret_key: TEST_ENV.APP_TOKEN }, { scheme: 'http' });
    expect(http.status).toBe(303);
    const cookie = http.headers.get('Set-Cookie') ?? '';
    expect(cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=`));
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('Path=/console');
    expect(cookie).not.toContain('Secure');
    expect((await consoleGet('/console/customers', { scheme: 'http', cookie: sessionCookieOf(http) })).status).toBe(200);
  });

  it('on https, accepts the session only under its __Host- name (a plain cookie there may have been planted)', async () => {
    const cookie = await signIn();
    const plain = cookie.replace(/^__Host-/, '');
    expect(plain).not.toBe(cookie);
    expect((await consoleGet('/console/customers', { cookie: plain })).status).toBe(303);
    expect((await consoleGet('/console/customers', { cookie })).status).toBe(200);
  });

  it('shows the error and sets nothing for a wrong key', async () => {
    for (const form of [
      { app_id: TEST_ENV.APP_ID, secret_key: 'wrong' },
      { app_id: 'wrong', secret_key: TEST_ENV.APP_TOKEN },
      { app_id: TEST_ENV.APP_ID, secret_key: '' },
      // The client key pair opens nothing of the server's.
      { app_id: TEST_ENV.CLIENT_APP_ID, secret_key: TEST_ENV.CLIENT_TOKEN },
    ]) {
      const res = await consolePost('/console/sign-in', form);
      expect(res.status).toBe(401);
      expect(res.headers.get('Set-Cookie')).toBeNull();
      const html = await res.text();
      expect(html).toContain('role="alert"');
      expect(html).toContain('The Application ID or Secret Key is wrong.');
      // The typed secret is never echoed back into the page.
      if (form.secret_key) expect(html).not.toContain(`value="${form.secret_key}"`);
    }
  });

  it('sends pages without a session to sign-in, and htmx requests with HX-Redirect', async () => {
    for (const path of [
      '/console/segments',
      '/console/customers',
      '/console/vouchers',
      '/console/campaigns',
      '/console/simulator',
      '/console/imports',
    ]) {
      const res = await consoleGet(path);
      expect(res.status, path).toBe(303);
      expect(res.headers.get('Location')).toBe(`/console/sign-in?next=${encodeURIComponent(path)}`);
    }
    const htmx = await consoleGet('/console/segments', { headers: { 'HX-Request': 'true' } });
    expect(htmx.status).toBe(401);
    expect(htmx.headers.get('HX-Redirect')).toMatch(/^\/console\/sign-in/);
  });

  it('accepts its own cookie, and refuses a tampered, expired, other-key or other-app cookie', async () => {
    const cookie = await signIn();
    expect((await consoleGet('/console/customers', { cookie })).status).toBe(200);

    const [name, value] = cookie.split('=') as [string, string];
    const [sessionId, expiry, mac] = value.split('.') as [string, string, string];
    const flipped = `${mac.slice(0, 10)}${mac[10] === 'A' ? 'B' : 'A'}${mac.slice(11)}`;
    const otherId = `${sessionId.slice(0, 5)}${sessionId[5] === 'A' ? 'B' : 'A'}${sessionId.slice(6)}`;
    const nowS = Math.floor(Date.now() / 1000);
    const subject = (id: string, appId: string = TEST_ENV.APP_ID) => `${id}.${appId}`;
    const refused = [
      `${name}=${sessionId}.${expiry}.${flipped}`,
      `${name}=${sessionId}.${Number(expiry) + 3600}.${mac}`,
      // The signature binds the session id: it cannot be moved onto another one.
      `${name}=${otherId}.${expiry}.${mac}`,
      // The token without its session id (the format before sessions had one).
      `${name}=${expiry}.${mac}`,
      `${name}=${sessionId}.${await signToken(TEST_ENV.APP_TOKEN, 'console-session', subject(sessionId), nowS - 1)}`,
      // Signed with another secret key: rotating APP_TOKEN ends every session.
      `${name}=${sessionId}.${await signToken('previous-app-token-0123456789', 'console-session', subject(sessionId), nowS + 3600)}`,
      `${name}=${sessionId}.${await signToken(TEST_ENV.APP_TOKEN, 'console-session', subject(sessionId, 'another-app'), nowS + 3600)}`,
      // An export download token (same key, another purpose) is no session.
      `${name}=${sessionId}.${await signToken(TEST_ENV.APP_TOKEN, 'export-download', subject(sessionId), nowS + 3600)}`,
      `${name}=`,
    ];
    for (const bad of refused) {
      const res = await consoleGet('/console/customers', { cookie: bad });
      expect(res.status, bad).toBe(303);
    }
    // The same genuine cookie is refused once the server's secret key changes.
    expect((await consoleGet('/console/customers', { cookie }, { APP_TOKEN: 'rotated-app-token-0123456789' })).status).toBe(303);
  });

  it('signs out: the cookie is cleared (Max-Age=0) under its name and path', async () => {
    const cookie = await signIn();
    const res = await consolePost('/console/sign-out', {}, { cookie });
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe('/console/sign-in');
    const cleared = res.headers.get('Set-Cookie') ?? '';
    expect(cleared).toMatch(new RegExp(`^__Host-${SESSION_COOKIE}=;`));
    expect(cleared).toContain('Max-Age=0');
    expect(cleared).toContain('Path=/;');
    const http = await consolePost('/console/sign-out', {}, { scheme: 'http' });
    expect(http.headers.get('Set-Cookie') ?? '').toMatch(new RegExp(`^${SESSION_COOKIE}=;.*Path=/console`));
  });
});

describe('a signed-out session is over on the server', () => {
  it('a copy of the cookie kept after sign-out opens no page and changes nothing', async () => {
    const code = `SIGNOUT-${crypto.randomUUID().slice(0, 8)}`;
    expect(
      (await api('POST', '/v1/vouchers', { code, type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 500 } })).status,
    ).toBe(200);
    const copied = await signIn();
    expect((await consoleGet('/console/customers', { cookie: copied })).status).toBe(200);

    expect((await consolePost('/console/sign-out', {}, { cookie: copied })).status).toBe(303);

    // A page load goes to sign-in; an htmx request is told to go there.
    const pageLoad = await consoleGet('/console/customers', { cookie: copied });
    expect(pageLoad.status).toBe(303);
    expect(pageLoad.headers.get('Location')).toBe('/console/sign-in?next=%2Fconsole%2Fcustomers');
    const htmx = await consoleGet('/console/segments', { cookie: copied, headers: { 'HX-Request': 'true' } });
    expect(htmx.status).toBe(401);
    expect(htmx.headers.get('HX-Redirect')).toMatch(/^\/console\/sign-in/);
    // The sign-in page itself no longer counts it as signed in.
    expect((await consoleGet('/console/sign-in', { cookie: copied })).status).toBe(200);
    // A state change with it is refused, and nothing is written.
    const disable = await consolePost(`/console/vouchers/${code}/disable`, {}, { cookie: copied });
    expect(disable.status).toBe(401);
    expect(await disable.text()).toContain('Your session has ended; sign in again.');
    expect((await json(await api('GET', `/v1/vouchers/${code}`))).active).toBe(true);
  });

  it('signing out ends that session only: another sign-in of the same key pair goes on', async () => {
    const [mine, other] = await Promise.all([signIn(), signIn()]);
    expect((await consolePost('/console/sign-out', {}, { cookie: mine })).status).toBe(303);
    expect((await consoleGet('/console/customers', { cookie: mine })).status).toBe(303);
    expect((await consoleGet('/console/customers', { cookie: other })).status).toBe(200);
    // Signing out twice, or without a session, is harmless.
    expect((await consolePost('/console/sign-out', {}, { cookie: mine })).status).toBe(303);
    expect((await consolePost('/console/sign-out', {})).status).toBe(303);
    expect((await consoleGet('/console/customers', { cookie: other })).status).toBe(200);
  });
});

describe('sign-in guessing', () => {
  /** The production default: RATE_LIMITS unset, the limit on. */
  const limitsOn: Partial<Env> = { RATE_LIMITS: undefined };
  const from = (ip: string) => ({ headers: { 'CF-Connecting-IP': ip } });

  it('refuses a sixth attempt a minute from one IP with 429 and a message, even with the right key, and logs each failure without the key', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const ip = '203.0.113.61';
      for (let i = 0; i < 5; i++) {
        const res = await consolePost('/console/sign-in', { app_id: TEST_ENV.APP_ID, secret_key: `wrong-guess-${i}` }, from(ip), limitsOn);
        expect(res.status, `attempt ${i + 1}`).toBe(401);
      }
      const right = await consolePost('/console/sign-in', { app_id: TEST_ENV.APP_ID, secret_key: TEST_ENV.APP_TOKEN }, from(ip), limitsOn);
      expect(right.status).toBe(429);
      expect(right.headers.get('Retry-After')).toBe('60');
      expect(right.headers.get('Set-Cookie')).toBeNull();
      const html = await right.text();
      expect(html).toContain('role="alert"');
      expect(html).toContain('Too many sign-in attempts from your address. Wait 60 seconds, then try again.');
      // Another address is not held back by this one.
      const elsewhere = await consolePost(
        '/console/sign-in',
        { app_id: TEST_ENV.APP_ID, secret_key: TEST_ENV.APP_TOKEN },
        from('203.0.113.62'),
        limitsOn,
      );
      expect(elsewhere.status).toBe(303);

      const logged = warn.mock.calls.map((args) => String(args[0]));
      expect(logged.filter((l) => l.includes('"console_sign_in_failed"') && l.includes(ip))).toHaveLength(5);
      expect(logged.filter((l) => l.includes('"console_sign_in_rate_limited"') && l.includes(ip))).toHaveLength(1);
      for (const line of logged) {
        expect(line).not.toContain('wrong-guess');
        expect(line).not.toContain(TEST_ENV.APP_TOKEN);
      }
    } finally {
      warn.mockRestore();
    }
  });

  it('RATE_LIMITS=off (local benchmarks) lets every attempt through', async () => {
    for (let i = 0; i < 8; i++) {
      const res = await consolePost('/console/sign-in', { app_id: TEST_ENV.APP_ID, secret_key: 'wrong' }, from('203.0.113.63'), {
        RATE_LIMITS: 'off',
      });
      expect(res.status).toBe(401);
    }
    const right = await consolePost('/console/sign-in', { app_id: TEST_ENV.APP_ID, secret_key: TEST_ENV.APP_TOKEN }, from('203.0.113.63'), {
      RATE_LIMITS: 'off',
    });
    expect(right.status).toBe(303);
  });
});

describe('a guessable server key turns the console off', () => {
  const DEMO = { APP_ID: 'demo-app-id', APP_TOKEN: DEMO_APP_TOKEN };

  it('refuses the demo key or a short one on a deployed host, and says why on the page', async () => {
    for (const [token, reason] of [
      [DEMO_APP_TOKEN, 'the demo value'],
      ['a'.repeat(MIN_APP_TOKEN_LENGTH - 1), `shorter than ${MIN_APP_TOKEN_LENGTH} characters`],
    ] as const) {
      const bindings = { APP_ID: DEMO.APP_ID, APP_TOKEN: token };
      const form = await consoleGet('/console/sign-in', {}, bindings);
      expect(form.status, token).toBe(403);
      const html = await form.text();
      expect(html).toContain('data-testid="weak-app-token"');
      expect(html).toContain(reason);
      expect(html).not.toContain('name="secret_key"');
      expect(html).not.toContain(token);
      // The right key is refused too, and no session is set.
      const post = await consolePost('/console/sign-in', { app_id: DEMO.APP_ID, secret_key: token }, {}, bindings);
      expect(post.status, token).toBe(403);
      expect(post.headers.get('Set-Cookie')).toBeNull();
      expect((await consoleGet('/console/customers', {}, bindings)).status).toBe(403);
    }
  });

  it('keeps the local demo working with the demo key on 127.0.0.1 and localhost', async () => {
    for (const host of ['127.0.0.1:8787', 'localhost:8787']) {
      expect((await consoleGet('/console/sign-in', { scheme: 'http', host }, DEMO)).status, host).toBe(200);
      const res = await consolePost(
        '/console/sign-in',
        { app_id: DEMO.APP_ID, secret_key: DEMO.APP_TOKEN },
        { scheme: 'http', host },
        DEMO,
      );
      expect(res.status, host).toBe(303);
    }
  });

  it('accepts a key of the minimum length on a deployed host', async () => {
    const bindings = { APP_TOKEN: 'k'.repeat(MIN_APP_TOKEN_LENGTH) };
    expect((await consoleGet('/console/sign-in', {}, bindings)).status).toBe(200);
  });
});

describe('console same-origin checks', () => {
  it('refuses a cross-origin POST that carries a valid session cookie', async () => {
    const cookie = await signIn();
    for (const path of ['/console/sign-out', '/console/vouchers', '/console/segments/preview', '/console/sign-in']) {
      const res = await consolePost(path, { code: 'X' }, { cookie, origin: 'https://evil.example' });
      expect(res.status, path).toBe(403);
      expect(res.headers.get('Set-Cookie'), path).toBeNull();
    }
    // No Origin and a cross-site fetch metadata header: refused too.
    const res = await consolePost('/console/sign-out', {}, { cookie, origin: null, fetchSite: 'cross-site' });
    expect(res.status).toBe(403);
    // No Origin but Sec-Fetch-Site: same-origin (a browser that omits Origin): allowed.
    const same = await consolePost('/console/sign-out', {}, { cookie, origin: null, fetchSite: 'same-origin' });
    expect(same.status).toBe(303);
    // Neither header (not a browser page of ours): refused.
    const bare = await consolePost('/console/sign-out', {}, { cookie, origin: null });
    expect(bare.status).toBe(403);
  });

  it('sends security headers: CSP with self scripts only, no framing, nosniff, no-store', async () => {
    const res = await consoleGet('/console/sign-in');
    expect(res.status).toBe(200);
    const csp = res.headers.get('Content-Security-Policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers.get('X-Frame-Options')).toBe('DENY');
    expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff');
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const html = await res.text();
    expect(html.startsWith('<!doctype html>')).toBe(true);
    // No inline script: every <script> has a src on our origin.
    for (const tag of html.match(/<script[^>]*>/g) ?? []) expect(tag).toMatch(/src="\/console\/assets\//);
    expect(html).toMatch(/<label for="app-id">/);
    expect(html).toMatch(/<label for="secret-key">/);
  });

  it('serves htmx with a year of cache (its version is in its name) and the stylesheet revalidated', async () => {
    const page = await (await consoleGet('/console/sign-in')).text();
    const htmx = /src="(\/console\/assets\/htmx-[0-9.]+\.min\.js)"/.exec(page)?.[1];
    const css = /href="(\/console\/assets\/console\.css)"/.exec(page)?.[1];
    expect(htmx).toBeDefined();
    const js = await consoleGet(htmx as string);
    expect(js.status).toBe(200);
    expect(js.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
    expect(js.headers.get('Content-Type')).toMatch(/javascript/);
    expect(await js.text()).toContain('htmx');
    const style = await consoleGet(css as string);
    expect(style.status).toBe(200);
    expect(style.headers.get('Cache-Control')).toBe('no-cache');
    expect(style.headers.get('Content-Type')).toMatch(/text\/css/);
    expect((await consoleGet('/console/assets/nothing.js')).status).toBe(404);
  });
});
