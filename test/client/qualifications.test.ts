import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { QualificationsResponse } from '../../client/types';
import {
  API_URL,
  KEYS,
  clearCookies,
  cookieJar,
  freshSdk,
  json,
  restoreCookieAccess,
  setURL,
  spyCookieWrites,
  stubFetch,
  win,
} from './helpers';

// The wire shape, from voucherify-openapi documentation/openapi/client-side.json @65c33a7:
// POST /client/v1/qualifications (L38), its body ClientQualificationsCheckEligibilityRequestBody
// (L2224: customer, order, tracking_id, scenario, options, session, metadata), its answer
// ClientQualificationsCheckEligibilityResponseBody (L2289: redeemables, tracking_id, order,
// stacking_rules) with QualificationsRedeemables (L3142: object "list", data_ref "data", data,
// total, has_more) of QualificationsRedeemableBase (L7489: id, object, result.discount, ...).
// The official client SDK posts that body as given (@voucherify/sdk ClientSide.qualifications).

const TRACKING_ID = 'track_AAAAAAAAAAAAAAAAAAAAAA';
const QUALIFICATIONS = `${API_URL}/client/v1/qualifications`;
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const bodyOf = (req: { init: { body?: string } }) => JSON.parse(req.init.body!) as Record<string, unknown>;

/** An answer in the spec's shape: one voucher and one promotion tier. */
const ANSWER: QualificationsResponse = {
  redeemables: {
    object: 'list',
    data_ref: 'data',
    data: [
      {
        id: 'WELCOME10',
        object: 'voucher',
        created_at: '2026-01-02T03:04:05.000Z',
        result: { discount: { type: 'PERCENT', percent_off: 10 } },
        campaign_id: 'camp_1',
      },
      {
        id: 'promo_abc',
        object: 'promotion_tier',
        created_at: '2026-01-03T03:04:05.000Z',
        result: { discount: { type: 'AMOUNT', amount_off: 500 } },
        name: 'Gold 5 off',
        banner: '5 off for Gold',
      },
    ],
    total: 2,
    has_more: false,
  },
  tracking_id: TRACKING_ID,
};

/** An SDK initialised on a page that already carries a known tracking cookie. */
async function ready() {
  win.document.cookie = `vs_tid=${TRACKING_ID}; Path=/`;
  const sdk = await freshSdk();
  sdk.init({ apiUrl: API_URL, ...KEYS });
  return sdk;
}

beforeEach(() => {
  setURL('https://shop.example.com/cart');
  clearCookies();
});

afterEach(() => {
  restoreCookieAccess();
  vi.unstubAllGlobals();
});

describe('qualifications: the request', () => {
  it("posts the spec's body: the cart as order, scenario, options, metadata, plus tracking_id and identity_hash", async () => {
    const { requests } = stubFetch(() => json(200, ANSWER));
    const sdk = await ready();
    await sdk.setIdentity('Alice@Example.com');
    await sdk.qualifications({
      amount: 5000,
      items: [{ sku_id: 'sku_1', quantity: 2, price: 2500 }],
      scenario: 'ALL',
      options: { limit: 10, expand: ['redeemable'] },
      metadata: { channel: 'web' },
      orderMetadata: { currency: 'EUR' },
    });
    expect(requests).toHaveLength(1);
    expect(requests[0]!.url).toBe(QUALIFICATIONS);
    expect(bodyOf(requests[0]!)).toEqual({
      order: { amount: 5000, items: [{ sku_id: 'sku_1', quantity: 2, price: 2500 }], metadata: { currency: 'EUR' } },
      scenario: 'ALL',
      options: { limit: 10, expand: ['redeemable'] },
      metadata: { channel: 'web' },
      tracking_id: TRACKING_ID,
      identity_hash: sha256('alice@example.com'),
    });
    // Only the hash: the raw identity never leaves the browser.
    expect(requests[0]!.init.body).not.toMatch(/alice/i);
  });

  it('sends a bare call as an empty order with the tracking id, through the same transport as validate()', async () => {
    const { requests } = stubFetch(() => json(200, ANSWER));
    const sdk = await ready();
    await sdk.qualifications();
    await sdk.validate('CODE');
    expect(requests[0]!.init).toEqual({
      method: 'POST',
      headers: {
        'X-Client-Application-Id': 'cl_app_1',
        'X-Client-Token': 'cl_tok_1',
        'X-Voucherify-Channel': 'Vouchsafe.js',
        'Content-Type': 'application/json',
      },
      body: `{"order":{},"tracking_id":"${TRACKING_ID}"}`,
      credentials: 'include',
      mode: 'cors',
    });
    // The same key headers and cookie policy as the validate that follows it.
    const { 'Content-Type': _, ...keyHeaders } = requests[0]!.init.headers!;
    expect(requests[1]!.init).toMatchObject({ method: 'GET', headers: keyHeaders, credentials: 'include', mode: 'cors' });
  });

  it("sends the customer as validate() does (the API believes it only signed), but never a tracking id of the caller's", async () => {
    const { requests } = stubFetch(() => json(200, ANSWER));
    const sdk = await freshSdk();
    sdk.init({ apiUrl: API_URL, ...KEYS, requireConsent: true });
    const planted = {
      amount: 1,
      customer: { source_id: 'cust-7' },
      tracking_id: 'track_BBBBBBBBBBBBBBBBBBBBBB',
      identity_hash: 'f'.repeat(64),
    };
    await sdk.qualifications(planted as never);
    await sdk.validate({ code: 'C', customer: { source_id: 'cust-7' } });
    expect(bodyOf(requests[0]!)).toEqual({ customer: { source_id: 'cust-7' }, order: { amount: 1 } });
    expect(requests[1]!.url).toBe(`${API_URL}/client/v1/validate?code=C&customer%5Bsource_id%5D=cust-7`);
  });
});

describe('qualifications: consent and identity', () => {
  it('sends no tracking id, no identity, no signature and no cookie before consent(true) when consent is required', async () => {
    const writes = spyCookieWrites();
    const { requests } = stubFetch(() => json(200, ANSWER));
    const sdk = await freshSdk();
    sdk.init({ apiUrl: API_URL, ...KEYS, requireConsent: true });
    await sdk.setIdentity('alice@example.com', { signature: 'ab'.repeat(32) });
    expect(await sdk.qualifications({ amount: 100 })).toEqual(ANSWER);
    expect(writes).toEqual([]);
    expect(cookieJar()).toEqual({});
    expect(bodyOf(requests[0]!)).toEqual({ order: { amount: 100 } });
    expect(requests[0]!.init.credentials).toBe('omit');
    expect(requests[0]!.init.headers).not.toHaveProperty('X-Vouchsafe-Identity-Signature');

    sdk.consent(true);
    const id = sdk.getTrackingId();
    expect(id).toMatch(/^track_[\w-]{22}$/);
    await sdk.qualifications({ amount: 100 });
    expect(bodyOf(requests[1]!)).toEqual({ order: { amount: 100 }, tracking_id: id, identity_hash: sha256('alice@example.com') });
    expect(requests[1]!.init.credentials).toBe('include');
    // The signature is a credential: in a header, never in the body.
    expect(requests[1]!.init.headers).toMatchObject({ 'X-Vouchsafe-Identity-Signature': 'ab'.repeat(32) });
    expect(requests[1]!.init.body).not.toContain('ab'.repeat(32));

    sdk.consent(false);
    await sdk.qualifications({ amount: 100 });
    expect(bodyOf(requests[2]!)).toEqual({ order: { amount: 100 } });
    expect(requests[2]!.init.credentials).toBe('omit');
    expect(requests[2]!.init.headers).not.toHaveProperty('X-Vouchsafe-Identity-Signature');
  });

  it('waits for a setIdentity() not awaited, and forgets the identity and its signature on reset()', async () => {
    const { requests } = stubFetch(() => json(200, ANSWER));
    const sdk = await ready();
    const signature = `1900000000.${'c0ffee'.repeat(10)}abcd`;
    void sdk.setIdentity('first@example.com');
    void sdk.setIdentity('second@example.com', { signature });
    await sdk.qualifications();
    expect(bodyOf(requests[0]!)).toMatchObject({ identity_hash: sha256('second@example.com') });
    expect(requests[0]!.init.headers).toMatchObject({ 'X-Vouchsafe-Identity-Signature': signature });

    sdk.reset();
    await sdk.qualifications();
    const after = bodyOf(requests[1]!);
    expect(after).not.toHaveProperty('identity_hash');
    expect(after.tracking_id).toMatch(/^track_[\w-]{22}$/);
    expect(after.tracking_id).not.toBe(TRACKING_ID);
    expect(requests[1]!.init.headers).not.toHaveProperty('X-Vouchsafe-Identity-Signature');
  });
});

describe('qualifications: the answer', () => {
  it('resolves to the JSON body of a 2xx answer', async () => {
    stubFetch(() => json(200, ANSWER));
    const sdk = await ready();
    const r = await sdk.qualifications({ amount: 5000 });
    expect(r).toEqual(ANSWER);
    if ('error' in r) throw new Error('expected an answer');
    expect(r.redeemables.data.map((d) => [d.object, d.id])).toEqual([
      ['voucher', 'WELCOME10'],
      ['promotion_tier', 'promo_abc'],
    ]);
  });

  it('resolves to { error } with the error body of a non-2xx answer', async () => {
    const error = {
      code: 400,
      key: 'invalid_payload',
      message: 'Invalid payload',
      details: 'scenario PROMOTION_STACKS',
      request_id: 'v-1',
    };
    stubFetch(() => json(400, error));
    const sdk = await ready();
    expect(await sdk.qualifications({ scenario: 'PROMOTION_STACKS' })).toEqual({ error });
  });

  it('resolves to { error: { message } } for a non-JSON error, a 2xx that is not an object, or a network error', async () => {
    stubFetch(() => new Response('<html>Bad gateway</html>', { status: 502 }));
    const sdk = await ready();
    expect(await sdk.qualifications()).toEqual({ error: { message: 'Unexpected status code: 502' } });
    stubFetch(() => json(200, [1, 2]));
    expect(await sdk.qualifications()).toEqual({ error: { message: 'Invalid response body' } });
    stubFetch(() => Promise.reject(new TypeError('Failed to fetch')));
    expect(await sdk.qualifications()).toEqual({ error: { message: 'network error' } });
  });

  it('resolves to { error } without a request before init(), and warns once for options that cannot be sent', async () => {
    const { fetchMock } = stubFetch();
    const fresh = await freshSdk();
    expect(await fresh.qualifications({ amount: 1 })).toEqual({ error: { message: expect.stringContaining('init()') } });
    expect(fetchMock).not.toHaveBeenCalled();

    const sdk = await ready();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(await sdk.qualifications({ options: circular })).toEqual({ error: { message: expect.stringContaining('circular') } });
    expect(warn).toHaveBeenCalledOnce();
    expect(warn.mock.calls[0]![0]).toBe('[vouchsafe] qualifications() failed');
    expect(fetchMock).not.toHaveBeenCalled();
  });
});
