/**
 * The operator console's sign-in, session cookie and same-origin checks (issue 15 part 2). The
 * console runs at /console and talks to /v1/* in-process; these tests drive it like a browser:
 * form posts with Origin, the cookie sent back as a Cookie header.
 */
import { describe, expect, it } from 'vitest';
import { signToken } from '../../worker/src/lib/signed-token';
import { SESSION_COOKIE, SESSION_SECONDS } from '../../worker/src/console/session';
import { TEST_ENV } from '../test-env';
import { consoleGet, consolePost, HTTPS_ORIGIN, signIn } from './console-helpers';

describe('console sign-in', () => {
  it('sets an HttpOnly, SameSite=Strict, Secure (on https), Path=/console, 8-hour cookie for the right key', async () => {
    const res = await consolePost('/console/sign-in', { app_id: TEST_ENV.APP_ID, secret_key: TEST_ENV.APP_TOKEN, next: '/console/customers' });
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe('/console/customers');
    const cookie = res.headers.get('Set-Cookie') ?? '';
    expect(cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=\\d+\\.[A-Za-z0-9_-]{43};`));
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/console');
    expect(cookie).toContain(`Max-Age=${SESSION_SECONDS}`);
    expect(SESSION_SECONDS).toBe(8 * 3600);
    expect(cookie).toContain('Secure');
    // The key itself is nowhere in what the browser gets.
    expect(cookie).not.toContain(TEST_ENV.APP_TOKEN);
    // The expiry inside the token is the same 8 hours.
    const expiresAt = Number(/=(\d+)\./.exec(cookie)?.[1]);
    expect(expiresAt * 1000 - Date.now()).toBeGreaterThan(SESSION_SECONDS * 1000 - 60_000);
    expect(expiresAt * 1000 - Date.now()).toBeLessThanOrEqual(SESSION_SECONDS * 1000);
  });

  it('leaves Secure off on plain http (a local npm start)', async () => {
    const http = await consolePost('/console/sign-in', { app_id: TEST_ENV.APP_ID, secret_key: TEST_ENV.APP_TOKEN }, { scheme: 'http' });
    expect(http.status).toBe(303);
    const cookie = http.headers.get('Set-Cookie') ?? '';
    expect(cookie).toContain('HttpOnly');
    expect(cookie).not.toContain('Secure');
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
    for (const path of ['/console/segments', '/console/customers', '/console/vouchers', '/console/campaigns', '/console/simulator', '/console/imports']) {
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

    const [name, token] = cookie.split('=') as [string, string];
    const [expiry, mac] = token.split('.') as [string, string];
    const flipped = `${mac.slice(0, 10)}${mac[10] === 'A' ? 'B' : 'A'}${mac.slice(11)}`;
    const nowS = Math.floor(Date.now() / 1000);
    const refused = [
      `${name}=${expiry}.${flipped}`,
      `${name}=${Number(expiry) + 3600}.${mac}`,
      `${name}=${nowS - 1}.${(await signToken(TEST_ENV.APP_TOKEN, 'console-session', TEST_ENV.APP_ID, nowS - 1)).split('.')[1]}`,
      // Signed with another secret key: rotating APP_TOKEN ends every session.
      `${name}=${await signToken('previous-app-token', 'console-session', TEST_ENV.APP_ID, nowS + 3600)}`,
      `${name}=${await signToken(TEST_ENV.APP_TOKEN, 'console-session', 'another-app', nowS + 3600)}`,
      // An export download token (same key, another purpose) is no session.
      `${name}=${await signToken(TEST_ENV.APP_TOKEN, 'export-download', TEST_ENV.APP_ID, nowS + 3600)}`,
      `${name}=`,
    ];
    for (const bad of refused) {
      const res = await consoleGet('/console/customers', { cookie: bad });
      expect(res.status, bad).toBe(303);
    }
    // The same genuine cookie is refused once the server's secret key changes.
    expect((await consoleGet('/console/customers', { cookie }, { APP_TOKEN: 'rotated-token' })).status).toBe(303);
  });

  it('signs out: the cookie is cleared (Max-Age=0) on its path', async () => {
    const cookie = await signIn();
    const res = await consolePost('/console/sign-out', {}, { cookie });
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe('/console/sign-in');
    const cleared = res.headers.get('Set-Cookie') ?? '';
    expect(cleared).toMatch(new RegExp(`^${SESSION_COOKIE}=;`));
    expect(cleared).toContain('Max-Age=0');
    expect(cleared).toContain('Path=/console');
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
