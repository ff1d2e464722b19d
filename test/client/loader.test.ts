import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { scriptOptions, type QueuedCall } from '../../client/loader';
import { API_URL, KEYS, clearCookies, cookieJar, freshSdk, json, restoreCookieAccess, setURL, stubFetch, win } from './helpers';

// Paths, not URL objects: the global URL here is happy-dom's, which node:fs does not accept.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const read = (path: string) => readFileSync(resolve(root, path), 'utf8');

interface Stub {
  _q?: QueuedCall[];
  [method: string]: unknown;
}
const global = () => win.Vouchsafe as Stub;
const call = (method: string, ...args: unknown[]) => (global()[method] as (...a: unknown[]) => Promise<unknown>)(...args);

/** Runs a classic script in the page's global scope, as a `<script>` element would. */
const runScript = (source: string) => new Function(source)();

function scriptTag(attrs: Record<string, string>) {
  const el = win.document.createElement('script');
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

const keyAttrs = { 'data-client-application-id': KEYS.clientApplicationId, 'data-client-token': KEYS.clientToken };

beforeEach(() => {
  setURL('https://shop.example.com/');
  clearCookies();
  Reflect.deleteProperty(win, 'Vouchsafe');
});

afterEach(() => {
  restoreCookieAccess();
  vi.unstubAllGlobals();
  Reflect.deleteProperty(win, 'Vouchsafe');
  Reflect.deleteProperty(win.document, 'currentScript');
});

describe.each([
  ['client/snippet.js', 'source'],
  ['dist/public/sdk/snippet.min.js', 'minified build'],
])('loader snippet %s (%s)', (path) => {
  it('queues calls made before the SDK loads, and they settle in call order once it does', async () => {
    const order: string[] = [];
    // The first request answers last: only in-order replay makes the promises settle in order.
    let delay = 30;
    const { requests } = stubFetch(async (req) => {
      await new Promise((r) => setTimeout(r, (delay -= 10)));
      return json(200, req.url.includes('/validate') ? { valid: true, code: 'EARLY' } : { object: 'event', type: 'x', customer: {} });
    });
    runScript(read(path));
    expect(global()._q).toEqual([]);

    const results = [
      call('setIdentity', 'alice@example.com'),
      call('validate', 'EARLY'),
      call('track', 'page_view', { path: '/' }),
      call('getTrackingId'),
    ].map((p, i) => p.then((v) => (order.push(String(i)), v)));
    expect(global()._q!.map(([method, args]) => [method, args])).toEqual([
      ['setIdentity', ['alice@example.com']],
      ['validate', ['EARLY']],
      ['track', ['page_view', { path: '/' }]],
      ['getTrackingId', []],
    ]);
    await new Promise((r) => setTimeout(r, 5));
    expect(order).toEqual([]);

    const sdk = await freshSdk();
    sdk.install(win, scriptTag({ src: 'https://vs.example.com/sdk/v1.js', ...keyAttrs }));
    const [identity, validation, event, trackingId] = await Promise.all(results);

    expect(order).toEqual(['0', '1', '2', '3']);
    expect(identity).toBeUndefined();
    expect(validation).toEqual({ valid: true, code: 'EARLY' });
    expect(event).toMatchObject({ object: 'event' });
    expect(trackingId).toBe(sdk.getTrackingId());
    expect(requests[0]!.url).toMatch(
      /^https:\/\/vs\.example\.com\/client\/v1\/validate\?code=EARLY&tracking_id=track_[\w-]{22}&identity_hash=[0-9a-f]{64}$/,
    );
    expect(win.Vouchsafe).toBe(sdk.api);
  });

  it('forwards calls through stubs captured before the SDK loaded', async () => {
    const { requests } = stubFetch();
    runScript(read(path));
    const earlyValidate = global().validate as (code: string) => Promise<unknown>;
    const sdk = await freshSdk();
    sdk.install(win, scriptTag({ 'data-api-url': API_URL, ...keyAttrs }));
    expect(await earlyValidate('LATE')).toEqual({ valid: true });
    expect(requests[0]!.url).toContain(`${API_URL}/client/v1/validate?code=LATE&`);
  });

  it('keeps an SDK that has already loaded', async () => {
    const sdk = await freshSdk();
    win.Vouchsafe = sdk.api;
    runScript(read(path));
    expect(win.Vouchsafe).toBe(sdk.api);
  });
});

describe('install', () => {
  it('auto-inits from the data- attributes of its script tag', async () => {
    const { requests } = stubFetch();
    const sdk = await freshSdk();
    sdk.install(
      win,
      scriptTag({
        src: 'https://vs.example.com/sdk/v1.js',
        ...keyAttrs,
        'data-api-url': 'https://api.shop.example/',
        'data-cookie-name': 'shop_tid',
      }),
    );
    expect(cookieJar().shop_tid).toBe(sdk.getTrackingId());
    await sdk.validate('A');
    expect(requests[0]!.url).toMatch(/^https:\/\/api\.shop\.example\/client\/v1\/validate\?code=A&tracking_id=track_/);
    expect(requests[0]!.init.headers).toMatchObject({ 'X-Client-Application-Id': 'cl_app_1', 'X-Client-Token': 'cl_tok_1' });
  });

  it('does not auto-init without the client key attributes, and calls then report it', async () => {
    const { fetchMock } = stubFetch();
    const sdk = await freshSdk();
    sdk.install(win, scriptTag({ src: 'https://vs.example.com/sdk/v1.js', 'data-client-token': 'x' }));
    expect(sdk.getTrackingId()).toBeNull();
    expect(await sdk.validate('A')).toMatchObject({ valid: false });
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it('does not replace an SDK instance that is already installed', async () => {
    const first = await freshSdk();
    first.install(win, null);
    const second = await freshSdk();
    second.install(win, scriptTag({ 'data-api-url': API_URL, ...keyAttrs }));
    expect(win.Vouchsafe).toBe(first.api);
    expect(second.getTrackingId()).toBeNull();
  });
});

describe('scriptOptions', () => {
  it.each([
    [
      { src: 'https://vs.example.com/sdk/v1.js?v=1', ...keyAttrs },
      { apiUrl: 'https://vs.example.com', requireConsent: false },
    ],
    [{ src: 'https://vs.example.com/sdk/v1.js', 'data-api-url': 'https://api.x', ...keyAttrs }, { apiUrl: 'https://api.x' }],
    [
      { ...keyAttrs, 'data-require-consent': '' },
      { apiUrl: '', requireConsent: true },
    ],
    [{ ...keyAttrs, 'data-require-consent': 'true' }, { requireConsent: true }],
    [{ ...keyAttrs, 'data-require-consent': 'false' }, { requireConsent: false }],
    [
      { ...keyAttrs, 'data-cookie-name': 'n', 'data-cookie-domain': 'shop.example' },
      { cookieName: 'n', cookieDomain: 'shop.example' },
    ],
  ])('%j -> %j', (attrs, expected) => {
    expect(scriptOptions(scriptTag(attrs))).toMatchObject({ ...KEYS, ...expected });
  });

  it('is undefined without a script tag or without the client key', () => {
    expect(scriptOptions(null)).toBeUndefined();
    expect(scriptOptions(scriptTag({ 'data-client-application-id': 'a' }))).toBeUndefined();
  });

  it('requires consent from a bare data-require-consent attribute before any cookie is written', async () => {
    const sdk = await freshSdk();
    sdk.install(win, scriptTag({ 'data-api-url': API_URL, ...keyAttrs, 'data-require-consent': '' }));
    expect(sdk.getTrackingId()).toBeNull();
    expect(cookieJar()).toEqual({});
  });
});

describe('built script-tag SDK (dist/public/sdk/v1.js)', () => {
  it('reads its own script tag, drains the snippet queue and becomes window.Vouchsafe', async () => {
    const { requests } = stubFetch();
    runScript(read('dist/public/sdk/snippet.min.js'));
    const early = call('validate', { code: 'BUNDLE', amount: 100 });
    const tag = scriptTag({ src: 'https://vs.example.com/sdk/v1.js', ...keyAttrs });
    Object.defineProperty(win.document, 'currentScript', { value: tag, configurable: true });
    runScript(read('dist/public/sdk/v1.js'));

    expect(await early).toEqual({ valid: true });
    const id = call('getTrackingId') as unknown;
    expect(id).toMatch(/^track_[\w-]{22}$/);
    expect(cookieJar().vs_tid).toBe(id);
    expect(requests[0]!.url).toBe(`https://vs.example.com/client/v1/validate?code=BUNDLE&amount=100&tracking_id=${id}`);
    expect(Object.keys(global()).sort()).toEqual([
      'consent',
      'getTrackingId',
      'init',
      'qualifications',
      'reset',
      'setIdentity',
      'track',
      'validate',
    ]);
  });

  it('queues an early qualifications() like any other call and sends it once loaded', async () => {
    const { requests } = stubFetch(() =>
      json(200, { redeemables: { object: 'list', data_ref: 'data', data: [], total: 0, has_more: false } }),
    );
    runScript(read('dist/public/sdk/snippet.min.js'));
    const early = call('qualifications', { amount: 100 });
    expect(global()._q!.map(([method, args]) => [method, args])).toEqual([['qualifications', [{ amount: 100 }]]]);
    const tag = scriptTag({ src: 'https://vs.example.com/sdk/v1.js', ...keyAttrs });
    Object.defineProperty(win.document, 'currentScript', { value: tag, configurable: true });
    runScript(read('dist/public/sdk/v1.js'));

    expect(await early).toMatchObject({ redeemables: { total: 0 } });
    const id = call('getTrackingId') as unknown;
    expect(requests.map((r) => [r.url, r.init.method, r.init.body])).toEqual([
      ['https://vs.example.com/client/v1/qualifications', 'POST', `{"order":{"amount":100},"tracking_id":"${id}"}`],
    ]);
  });
});
