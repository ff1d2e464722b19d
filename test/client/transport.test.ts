import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { toQuery } from '../../client/transport';
import { API_URL, KEYS, clearCookies, freshSdk, json, restoreCookieAccess, setURL, stubFetch, win } from './helpers';

// qs 6.9.7 is what @voucherify/sdk 2.9.0 serialises GET queries with (it is in the lockfile through it).
const qs = createRequire(import.meta.url)('qs') as { stringify(value: unknown): string };

const TRACKING_ID = 'track_AAAAAAAAAAAAAAAAAAAAAA';
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** An SDK initialised on a page that already carries a known tracking cookie. */
async function ready(apiUrl = API_URL) {
  win.document.cookie = `vs_tid=${TRACKING_ID}; Path=/`;
  const sdk = await freshSdk();
  sdk.init({ apiUrl, ...KEYS });
  return sdk;
}

beforeEach(() => {
  setURL('https://shop.example.com/checkout');
  clearCookies();
});

afterEach(() => {
  restoreCookieAccess();
  vi.unstubAllGlobals();
});

describe('toQuery', () => {
  it.each([
    { code: 'AB C', amount: 5000 },
    {
      item: [
        { sku_id: 'sku_1', quantity: 2 },
        { product_id: 'p 2', price: 1.5 },
      ],
    },
    { metadata: { "it's": '(a)*!~-_.', 'a&b=c': 'x+y/z?#', nested: { deep: [1, [2, 3]] } } },
    { customer: { source_id: 'zoë@example.com', metadata: { vip: true, score: 0, none: null } } },
    { order: { metadata: {} }, empty: [], skipped: undefined, when: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)) },
    { emoji: '🎟️ 10%', tab: 'a\tb' },
  ])('matches qs.stringify for %j', (params) => {
    expect(toQuery(params)).toBe(qs.stringify(params));
  });
});

describe('validate', () => {
  it('sends the official SDK query format plus tracking_id and identity_hash', async () => {
    const { requests } = stubFetch();
    const sdk = await ready();
    await sdk.setIdentity('alice@x.com');
    await sdk.validate({
      code: ' AB C\n',
      items: [{ sku_id: 'sku_1', quantity: 2 }],
      amount: 5000,
      metadata: { shop: 1 },
      orderMetadata: { currency: 'EUR' },
      customer: { source_id: 's1', metadata: { age: 2 } },
    });
    expect(requests).toHaveLength(1);
    expect(requests[0]!.url).toBe(
      'https://api.vouchsafe.test/client/v1/validate?code=AB%20C&item%5B0%5D%5Bsku_id%5D=sku_1&item%5B0%5D%5Bquantity%5D=2&amount=5000' +
        '&metadata%5Bshop%5D=1&order%5Bmetadata%5D%5Bcurrency%5D=EUR&customer%5Bsource_id%5D=s1' +
        `&customer%5Bmetadata%5D%5Bage%5D=2&tracking_id=${TRACKING_ID}&identity_hash=${sha256('alice@x.com')}`,
    );
  });

  it('sends a bare code with the tracking id, and session parameters flat', async () => {
    const { requests } = stubFetch();
    const sdk = await ready(API_URL + '/');
    await sdk.validate('\tSUMMER 10\r\n');
    await sdk.validate({ code: 'X', session_type: 'LOCK', session_key: 'ssn_1', session_ttl: 7, session_ttl_unit: 'DAYS' });
    expect(requests.map((r) => r.url)).toEqual([
      `${API_URL}/client/v1/validate?code=SUMMER%2010&tracking_id=${TRACKING_ID}`,
      `${API_URL}/client/v1/validate?code=X&tracking_id=${TRACKING_ID}&session_type=LOCK&session_key=ssn_1&session_ttl=7&session_ttl_unit=DAYS`,
    ]);
  });

  it('sends the client key headers and the cookies of the API', async () => {
    const { requests } = stubFetch();
    const sdk = await ready();
    await sdk.validate('CODE');
    expect(requests[0]!.init).toEqual({
      method: 'GET',
      headers: { 'X-Client-Application-Id': 'cl_app_1', 'X-Client-Token': 'cl_tok_1', 'X-Voucherify-Channel': 'Vouchsafe.js' },
      credentials: 'include',
      mode: 'cors',
    });
  });

  it('resolves to the JSON body of a 2xx answer, valid or not', async () => {
    const invalid = { valid: false, reason: 'voucher expired', code: 'OLD', tracking_id: TRACKING_ID, error: { message: 'expired' } };
    stubFetch(() => json(200, invalid));
    const sdk = await ready();
    expect(await sdk.validate('OLD')).toEqual(invalid);
  });

  it('resolves to { valid: false, error } with the error body of a non-2xx answer', async () => {
    const error = { code: 400, key: 'ambiguous_tracking_id', message: 'Ambiguous trackingId', details: 'd', request_id: 'v-1' };
    stubFetch(() => json(400, error));
    const sdk = await ready();
    expect(await sdk.validate('CODE')).toEqual({ valid: false, error });
  });

  it('resolves to { valid: false, error: { message } } for a non-2xx answer without a JSON body', async () => {
    stubFetch(() => new Response('<html>Bad gateway</html>', { status: 502 }));
    const sdk = await ready();
    expect(await sdk.validate('CODE')).toEqual({ valid: false, error: { message: 'Unexpected status code: 502' } });
  });

  it('resolves to a network error when fetch rejects or throws', async () => {
    stubFetch(() => Promise.reject(new TypeError('Failed to fetch')));
    const sdk = await ready();
    expect(await sdk.validate('CODE')).toEqual({ valid: false, error: { message: 'network error' } });
    vi.stubGlobal('fetch', () => {
      throw new TypeError('blocked');
    });
    expect(await sdk.validate('CODE')).toEqual({ valid: false, error: { message: 'network error' } });
  });

  it('resolves to an error without a request before init() or without a code', async () => {
    const { fetchMock } = stubFetch();
    const fresh = await freshSdk();
    expect(await fresh.validate('CODE')).toMatchObject({ valid: false, error: { message: expect.stringContaining('init()') } });
    const sdk = await ready();
    for (const input of ['', ' \n\t', { code: '' }, null as never, undefined as never]) {
      expect(await sdk.validate(input)).toMatchObject({ valid: false, error: { message: expect.any(String) } });
    }
    expect(fetchMock).not.toHaveBeenCalled();
  });
});

describe('track', () => {
  it('posts the event with the tracking id as customer.source_id', async () => {
    const answer = { object: 'event', type: 'newsletter_signup', customer: { id: 'cust_1', source_id: TRACKING_ID, object: 'customer' } };
    const { requests } = stubFetch(() => json(200, answer));
    const sdk = await ready();
    expect(await sdk.track('newsletter_signup', { list: 'weekly' })).toEqual(answer);
    await sdk.track('page_view');
    expect(requests[0]!.url).toBe(`${API_URL}/client/v1/events`);
    expect(requests[0]!.init).toEqual({
      method: 'POST',
      headers: {
        'X-Client-Application-Id': 'cl_app_1',
        'X-Client-Token': 'cl_tok_1',
        'X-Voucherify-Channel': 'Vouchsafe.js',
        'Content-Type': 'application/json',
      },
      body: `{"event":"newsletter_signup","customer":{"source_id":"${TRACKING_ID}"},"metadata":{"list":"weekly"}}`,
      credentials: 'include',
      mode: 'cors',
    });
    expect(requests[1]!.init.body).toBe(`{"event":"page_view","customer":{"source_id":"${TRACKING_ID}"},"metadata":{}}`);
  });

  it('resolves to { error } for an error answer, a network error, or metadata that cannot be sent', async () => {
    const error = { code: 401, key: 'unauthorized', message: 'Unauthorized' };
    stubFetch(() => json(401, error));
    const sdk = await ready();
    expect(await sdk.track('x')).toEqual({ error });
    stubFetch(() => Promise.reject(new TypeError('Failed to fetch')));
    expect(await sdk.track('x')).toEqual({ error: { message: 'network error' } });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(await sdk.track('x', circular)).toEqual({ error: { message: expect.stringContaining('circular') } });
    expect(warn).toHaveBeenCalledOnce();
    expect(await sdk.track('')).toEqual({ error: { message: expect.any(String) } });
  });
});
