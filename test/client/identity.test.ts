import { createHash, webcrypto } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { hashIdentity } from '../../client/identity';
import { normalizeIdentity } from '../../shared/identity';
import { API_URL, KEYS, clearCookies, freshSdk, restoreCookieAccess, setURL, stubFetch } from './helpers';

/** Node's SHA-256, an implementation independent of the WebCrypto path under test. */
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** What an http page has: getRandomValues, but no crypto.subtle outside secure contexts. */
const stubCryptoWithoutSubtle = () => vi.stubGlobal('crypto', { getRandomValues: webcrypto.getRandomValues.bind(webcrypto) });

beforeEach(() => {
  setURL('https://shop.example.com/');
  clearCookies();
});

afterEach(() => {
  restoreCookieAccess();
  vi.unstubAllGlobals();
});

describe('normalizeIdentity', () => {
  it.each([
    ['  Alice.Morgan@Example.COM \n', 'alice.morgan@example.com'],
    ['\tBOB@x.io', 'bob@x.io'],
    ['  Customer_42  ', 'Customer_42'],
    ['CRM-ID-ABC', 'CRM-ID-ABC'],
  ])('%j -> %j', (input, normalised) => {
    expect(normalizeIdentity(input)).toBe(normalised);
  });
});

describe('hashIdentity', () => {
  it('matches the FIPS 180-2 SHA-256 vector for "abc" as lower-case hex', async () => {
    expect(await hashIdentity('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('hashes the normalised form, UTF-8 encoded', async () => {
    expect(await hashIdentity(' Zoë@Example.com ')).toBe(sha256('zoë@example.com'));
    expect(await hashIdentity(' Customer_42 ')).toBe(sha256('Customer_42'));
    expect(await hashIdentity(' Customer_42 ')).not.toBe(sha256('customer_42'));
  });

  it.each(['', '   ', 'undefined', 'null'])('gives no identity for %j', async (id) => {
    expect(await hashIdentity(id)).toBeNull();
  });

  it('gives no identity where crypto.subtle is missing (plain http page)', async () => {
    stubCryptoWithoutSubtle();
    expect(await hashIdentity('alice@example.com')).toBeNull();
  });
});

describe('setIdentity', () => {
  it('sends only the hash, on validate and on track', async () => {
    const { requests } = stubFetch();
    const sdk = await freshSdk();
    sdk.init({ apiUrl: API_URL, ...KEYS });
    await sdk.setIdentity(' Alice@Example.com ');
    await sdk.validate('CODE');
    await sdk.track('login');
    const hash = sha256('alice@example.com');
    expect(requests[0]!.url).toContain(`&identity_hash=${hash}`);
    expect(JSON.parse(requests[1]!.init.body!).identity_hash).toBe(hash);
    for (const { url, init } of requests) expect(url + (init.body ?? '')).not.toMatch(/alice/i);
  });

  it('is applied to a request made right after it without awaiting', async () => {
    const { requests } = stubFetch();
    const sdk = await freshSdk();
    sdk.init({ apiUrl: API_URL, ...KEYS });
    void sdk.setIdentity('first@example.com');
    void sdk.setIdentity('second@example.com');
    await sdk.validate('CODE');
    expect(requests[0]!.url).toContain(`identity_hash=${sha256('second@example.com')}`);
  });

  it('resolves without an identity, and sends nothing of it, where crypto.subtle is missing', async () => {
    stubCryptoWithoutSubtle();
    const { requests } = stubFetch();
    const sdk = await freshSdk();
    sdk.init({ apiUrl: API_URL, ...KEYS });
    await expect(sdk.setIdentity('alice@example.com')).resolves.toBeUndefined();
    await sdk.validate('CODE');
    await sdk.track('login');
    expect(requests[0]!.url).not.toContain('identity_hash');
    expect(JSON.parse(requests[1]!.init.body!)).not.toHaveProperty('identity_hash');
    for (const { url, init } of requests) expect(url + (init.body ?? '')).not.toMatch(/alice/i);
  });

  it('sends the signature the shop backend gave in a header, never in a URL or body (validate and track), and forgets it on reset', async () => {
    const { requests } = stubFetch();
    const sdk = await freshSdk();
    sdk.init({ apiUrl: API_URL, ...KEYS });
    const signature = `1900000000.${'c0ffee'.repeat(10)}abcd`;
    await sdk.setIdentity('alice@example.com', { signature });
    await sdk.validate('CODE');
    await sdk.track('login');
    expect(requests[0]!.url).toContain(`&identity_hash=${sha256('alice@example.com')}`);
    expect(JSON.parse(requests[1]!.init.body!)).toMatchObject({ identity_hash: sha256('alice@example.com') });
    for (const { url, init } of requests.slice(0, 2)) {
      expect(init.headers).toMatchObject({ 'X-Vouchsafe-Identity-Signature': signature });
      expect(url + (init.body ?? '')).not.toContain(signature);
    }
    // A later identity without a signature does not inherit the earlier one.
    await sdk.setIdentity('bob@example.com');
    await sdk.validate('CODE');
    expect(requests[2]!.init.headers).not.toHaveProperty('X-Vouchsafe-Identity-Signature');
    await sdk.setIdentity('alice@example.com', { signature });
    sdk.reset();
    await sdk.validate('CODE');
    expect(requests[3]!.url).not.toMatch(/identity_(hash|signature)/);
    expect(requests[3]!.init.headers).not.toHaveProperty('X-Vouchsafe-Identity-Signature');
  });
});
