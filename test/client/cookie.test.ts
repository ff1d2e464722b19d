import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { COOKIE_DAYS, domainLevels, mintTrackingId } from '../../client/cookie';
import { API_URL, KEYS, clearCookies, cookieJar, freshSdk, restoreCookieAccess, setURL, spyCookieWrites, stubFetch, win } from './helpers';

const DAY_MS = 864e5;

/** `name=value; a=b; flag` -> { a: 'b', flag: true }, attribute names lowercased. */
function attributesOf(cookieString: string): Record<string, string | true> {
  const attrs: Record<string, string | true> = {};
  for (const part of cookieString.split('; ').slice(1)) {
    const i = part.indexOf('=');
    if (i === -1) attrs[part.toLowerCase()] = true;
    else attrs[part.slice(0, i).toLowerCase()] = part.slice(i + 1);
  }
  return attrs;
}

/** Writes that set a value, as opposed to removals (empty value, expiry in the past). */
const valueWrites = (writes: string[], name: string) => writes.filter((w) => w.startsWith(`${name}=`) && !w.startsWith(`${name}=;`));

beforeEach(() => {
  setURL('https://shop.example.co.uk/cart');
  clearCookies();
});

afterEach(() => {
  restoreCookieAccess();
  vi.unstubAllGlobals();
});

describe('mintTrackingId', () => {
  it('is track_ plus 128 random bits as 22 base64url characters', () => {
    const ids = Array.from({ length: 200 }, () => mintTrackingId());
    for (const id of ids) {
      expect(id).toMatch(/^track_[A-Za-z0-9_-]{22}$/);
      expect(Buffer.from(id.slice(6), 'base64url')).toHaveLength(16);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('domainLevels', () => {
  it.each([
    ['shop.example.co.uk', ['co.uk', 'example.co.uk', 'shop.example.co.uk']],
    ['example.com', ['example.com']],
    ['a.b.example.com', ['example.com', 'b.example.com', 'a.b.example.com']],
    ['localhost', []],
    ['app.localhost', []],
    ['127.0.0.1', []],
    ['[::1]', []],
    ['intranet', []],
  ])('%s -> %j', (host, levels) => {
    expect(domainLevels(host)).toEqual(levels);
  });
});

describe('tracking cookie', () => {
  it('is written once on the registrable domain with Path=/, SameSite=Lax, Secure and 400 days', async () => {
    const writes = spyCookieWrites();
    const sdk = await freshSdk();
    sdk.init({ apiUrl: API_URL, ...KEYS });
    const id = sdk.getTrackingId();
    expect(id).toMatch(/^track_[A-Za-z0-9_-]{22}$/);

    const own = valueWrites(writes, 'vs_tid');
    expect(own).toEqual([expect.stringMatching(`^vs_tid=${id};`)]);
    const attrs = attributesOf(own[0]!);
    expect(attrs).toMatchObject({ path: '/', samesite: 'Lax', domain: 'example.co.uk', secure: true });
    const lifetime = Date.parse(String(attrs.expires)) - Date.now();
    expect(COOKIE_DAYS).toBe(400);
    expect(lifetime).toBeGreaterThan(400 * DAY_MS - 5_000);
    expect(lifetime).toBeLessThanOrEqual(400 * DAY_MS);
  });

  it('finds the registrable domain by probing shortest-first, past the public suffix, and leaves no probe behind', async () => {
    const writes = spyCookieWrites();
    const sdk = await freshSdk();
    sdk.init({ apiUrl: API_URL, ...KEYS });
    const probeDomains = valueWrites(writes, 'vs_probe').map((w) => attributesOf(w).domain);
    // happy-dom ships the Public Suffix List, so co.uk is refused as a browser would refuse it.
    expect(probeDomains).toEqual(['co.uk', 'example.co.uk']);
    expect(cookieJar()).not.toHaveProperty('vs_probe');

    setURL('https://www.example.co.uk/');
    expect(cookieJar().vs_tid).toBe(sdk.getTrackingId());
  });

  it('has no Secure attribute on an http page', async () => {
    setURL('http://shop.example.com/');
    const writes = spyCookieWrites();
    const sdk = await freshSdk();
    sdk.init({ apiUrl: API_URL, ...KEYS });
    const attrs = attributesOf(valueWrites(writes, 'vs_tid')[0]!);
    expect(attrs).toMatchObject({ domain: 'example.com', path: '/', samesite: 'Lax' });
    expect(attrs).not.toHaveProperty('secure');
    expect(cookieJar().vs_tid).toBe(sdk.getTrackingId());
  });

  it.each(['http://localhost:3000/', 'http://127.0.0.1:8787/shop'])('is host-only without probing on %s', async (url) => {
    setURL(url);
    clearCookies();
    const writes = spyCookieWrites();
    const sdk = await freshSdk();
    sdk.init({ apiUrl: API_URL, ...KEYS });
    expect(valueWrites(writes, 'vs_probe')).toEqual([]);
    const own = valueWrites(writes, 'vs_tid');
    expect(own).toHaveLength(1);
    expect(attributesOf(own[0]!)).not.toHaveProperty('domain');
    expect(cookieJar().vs_tid).toBe(sdk.getTrackingId());
  });

  it('uses the cookieDomain option instead of probing', async () => {
    setURL('https://a.b.example.com/');
    const writes = spyCookieWrites();
    const sdk = await freshSdk();
    sdk.init({ apiUrl: API_URL, ...KEYS, cookieDomain: 'b.example.com', cookieName: 'shop_tid' });
    expect(valueWrites(writes, 'vs_probe')).toEqual([]);
    expect(attributesOf(valueWrites(writes, 'shop_tid')[0]!).domain).toBe('b.example.com');

    setURL('https://c.b.example.com/');
    expect(cookieJar().shop_tid).toBe(sdk.getTrackingId());
    setURL('https://example.com/');
    expect(cookieJar()).not.toHaveProperty('shop_tid');
  });

  it('never rewrites a cookie that is already there, such as one the server set', async () => {
    win.document.cookie = 'vs_tid=track_fromTheServer000000000; Path=/; Domain=example.co.uk';
    const writes = spyCookieWrites();
    const { requests } = stubFetch();
    const sdk = await freshSdk();
    sdk.init({ apiUrl: API_URL, ...KEYS });
    sdk.consent(true);
    sdk.init({ apiUrl: API_URL, ...KEYS });
    await sdk.validate('CODE');
    await sdk.track('page_view');

    expect(sdk.getTrackingId()).toBe('track_fromTheServer000000000');
    expect(writes).toEqual([]);
    expect(requests[0]!.url).toContain('tracking_id=track_fromTheServer000000000');
  });

  it('reads its own cookie on the next page load instead of minting or writing again', async () => {
    const first = await freshSdk();
    first.init({ apiUrl: API_URL, ...KEYS });
    const writes = spyCookieWrites();
    const second = await freshSdk();
    second.init({ apiUrl: API_URL, ...KEYS });
    expect(second.getTrackingId()).toBe(first.getTrackingId());
    expect(writes).toEqual([]);
  });

  it('keeps the id in memory only when cookie writes do not stick', async () => {
    spyCookieWrites(true);
    const { requests } = stubFetch();
    const sdk = await freshSdk();
    sdk.init({ apiUrl: API_URL, ...KEYS });
    const id = sdk.getTrackingId();
    expect(id).toMatch(/^track_/);
    expect(cookieJar()).toEqual({});

    sdk.init({ apiUrl: API_URL, ...KEYS });
    expect(sdk.getTrackingId()).toBe(id);
    await sdk.validate('CODE');
    expect(requests[0]!.url).toContain(`tracking_id=${id}`);
  });

  it('keeps working in memory when document.cookie throws (sandboxed iframe)', async () => {
    const denied = () => {
      throw new Error('SecurityError: sandboxed');
    };
    vi.spyOn(win.document, 'cookie', 'get').mockImplementation(denied);
    vi.spyOn(win.document, 'cookie', 'set').mockImplementation(denied);
    const { requests } = stubFetch();
    const sdk = await freshSdk();
    expect(() => sdk.init({ apiUrl: API_URL, ...KEYS })).not.toThrow();
    expect(sdk.getTrackingId()).toMatch(/^track_/);
    expect(() => sdk.consent(false)).not.toThrow();
    expect(() => sdk.reset()).not.toThrow();
    expect(await sdk.validate('CODE')).toEqual({ valid: true });
    expect(requests).toHaveLength(1);
  });
});

describe('consent', () => {
  it('sends no tracking id, no identity and no cookie, and writes none, before consent(true) when consent is required', async () => {
    const writes = spyCookieWrites();
    const { requests } = stubFetch();
    const sdk = await freshSdk();
    sdk.init({ apiUrl: API_URL, ...KEYS, requireConsent: true });
    expect(sdk.getTrackingId()).toBeNull();
    await sdk.setIdentity('alice@example.com', { signature: 'ab'.repeat(32) });
    await sdk.validate('CODE');
    expect(await sdk.track('page_view')).toEqual({ error: { message: 'No consent' } });
    expect(writes).toEqual([]);
    expect(cookieJar()).toEqual({});
    // One request (the validate; track sent nothing), anonymous, and without the API's cookies.
    expect(requests).toHaveLength(1);
    expect(requests[0]!.url).toBe(`${API_URL}/client/v1/validate?code=CODE`);
    expect(requests[0]!.init.credentials).toBe('omit');
    expect(requests[0]!.init.headers).not.toHaveProperty('X-Vouchsafe-Identity-Signature');

    sdk.consent(true);
    const id = sdk.getTrackingId();
    expect(id).toMatch(/^track_[\w-]{22}$/);
    expect(cookieJar().vs_tid).toBe(id);
    await sdk.validate('CODE');
    expect(requests[1]!.url).toContain(`tracking_id=${id}&identity_hash=`);
    // The signature is a credential: in a header, never in the URL (which logs keep).
    expect(requests[1]!.url).not.toContain('identity_signature');
    expect(requests[1]!.init.headers).toMatchObject({ 'X-Vouchsafe-Identity-Signature': 'ab'.repeat(32) });
    expect(requests[1]!.init.credentials).toBe('include');
  });

  it('consent(false) removes the cookie and the id: nothing identifies the visitor any more', async () => {
    const { requests } = stubFetch();
    const sdk = await freshSdk();
    sdk.init({ apiUrl: API_URL, ...KEYS });
    const stored = sdk.getTrackingId();
    expect(cookieJar().vs_tid).toBe(stored);

    const writes = spyCookieWrites();
    sdk.consent(false);
    expect(cookieJar()).not.toHaveProperty('vs_tid');
    expect(sdk.getTrackingId()).toBeNull();

    sdk.init({ apiUrl: API_URL, ...KEYS });
    await sdk.validate('CODE');
    expect(valueWrites(writes, 'vs_tid')).toEqual([]);
    expect(cookieJar()).not.toHaveProperty('vs_tid');
    expect(requests[0]!.url).not.toContain('tracking_id');
    expect(requests[0]!.init.credentials).toBe('omit');
    expect(requests[0]!.init.headers).not.toHaveProperty('X-Vouchsafe-Identity-Signature');

    sdk.consent(true);
    const fresh = sdk.getTrackingId();
    expect(fresh).toMatch(/^track_/);
    expect(fresh).not.toBe(stored);
    expect(cookieJar().vs_tid).toBe(fresh);
  });

  it('consent(false) also removes a cookie set on a parent domain by an earlier visit', async () => {
    win.document.cookie = 'vs_tid=track_earlierVisit0000000000; Path=/; Domain=example.co.uk';
    const sdk = await freshSdk();
    sdk.init({ apiUrl: API_URL, ...KEYS, requireConsent: true });
    sdk.consent(false);
    expect(cookieJar()).toEqual({});
    setURL('https://www.example.co.uk/');
    expect(cookieJar()).toEqual({});
  });

  it('leaves the cookie of an earlier consent alone until consent(true), then uses it without writing', async () => {
    win.document.cookie = 'vs_tid=track_consentedBefore0000000; Path=/';
    const writes = spyCookieWrites();
    const sdk = await freshSdk();
    sdk.init({ apiUrl: API_URL, ...KEYS, requireConsent: true });
    expect(sdk.getTrackingId()).toBeNull();
    sdk.consent(true);
    expect(sdk.getTrackingId()).toBe('track_consentedBefore0000000');
    expect(writes).toEqual([]);
  });

  it('applies a consent(true) given before init()', async () => {
    const sdk = await freshSdk();
    sdk.consent(true);
    sdk.init({ apiUrl: API_URL, ...KEYS, requireConsent: true });
    expect(cookieJar().vs_tid).toBe(sdk.getTrackingId());
  });
});

describe('adopting an existing cookie (a pre-set tracking id is never taken on trust)', () => {
  it.each([
    ['too short', 'track_short'],
    ['not a tracking id', 'alice@example.com'],
    ['an injected attribute', 'track_AAAAAAAAAAAAAAAAAAAAAA;Domain=evil'],
  ])('replaces a vs_tid that is %s with a fresh id', async (_, planted) => {
    win.document.cookie = `vs_tid=${encodeURIComponent(planted)}; Path=/`;
    const { requests } = stubFetch();
    const sdk = await freshSdk();
    sdk.init({ apiUrl: API_URL, ...KEYS });
    const id = sdk.getTrackingId();
    expect(id).toMatch(/^track_[\w-]{22}$/);
    expect(id).not.toBe(planted);
    expect(cookieJar().vs_tid).toBe(id);
    await sdk.validate('CODE');
    expect(requests[0]!.url).toContain(`tracking_id=${id}`);
  });

  it('keeps a well-formed one', async () => {
    win.document.cookie = 'vs_tid=track_AAAAAAAAAAAAAAAAAAAAAA; Path=/';
    const sdk = await freshSdk();
    sdk.init({ apiUrl: API_URL, ...KEYS });
    expect(sdk.getTrackingId()).toBe('track_AAAAAAAAAAAAAAAAAAAAAA');
  });
});

describe('reset', () => {
  it('replaces the tracking id and its cookie, and forgets the identity', async () => {
    const { requests } = stubFetch();
    const sdk = await freshSdk();
    sdk.init({ apiUrl: API_URL, ...KEYS });
    const before = sdk.getTrackingId();
    await sdk.setIdentity('alice@example.com');
    await sdk.validate('CODE');
    expect(requests[0]!.url).toContain('identity_hash=');

    sdk.reset();
    const after = sdk.getTrackingId();
    expect(after).toMatch(/^track_/);
    expect(after).not.toBe(before);
    expect(cookieJar().vs_tid).toBe(after);
    await sdk.validate('CODE');
    expect(requests[1]!.url).toContain(`tracking_id=${after}`);
    expect(requests[1]!.url).not.toContain('identity_hash');
  });

  it('does nothing before init()', async () => {
    const writes = spyCookieWrites();
    const sdk = await freshSdk();
    sdk.reset();
    expect(sdk.getTrackingId()).toBeNull();
    expect(writes).toEqual([]);
  });
});
