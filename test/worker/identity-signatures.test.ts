/**
 * Identity signatures: bound to the kind of claim and the value they were made for, able to expire,
 * rotated with IDENTITY_SECRET_PREVIOUS, and never read from a URL. A customer named by source id
 * is looked up by source id only, by id by id only.
 */
import { beforeAll, describe, expect, it, type MockInstance, vi } from 'vitest';
import { hashIdentity, signClaim, signIdentity } from '../../shared/identity';
import { identityVerifier } from '../../worker/src/services/identity';
import { TEST_ENV } from '../test-env';
import { CLIENT_HEADERS, api, call, json, signAs, signHash } from './helpers';

const validate = (query: string, signature?: string, bindings = {}) =>
  call(
    `/client/v1/validate?code=SIGGOLD&amount=5000&${query}`,
    { headers: { ...CLIENT_HEADERS, ...(signature ? { 'X-Vouchsafe-Identity-Signature': signature } : {}) } },
    bindings,
  );

let alice: { id: string };
/** console.warn, watched from before this file's first client request (the operator's hint is logged once per isolate). */
let warnings: MockInstance<typeof console.warn>;

beforeAll(async () => {
  warnings = vi.spyOn(console, 'warn');
  alice = await json(await api('POST', '/v1/customers', { source_id: 'alice@sig.example', metadata: { tier: 'gold' } }));
  const segment = await json(
    await api('POST', '/v1/segments', {
      name: 'sig gold',
      type: 'auto-update',
      filter: { 'metadata.tier': { conditions: { $is: ['gold'] } } },
    }),
  );
  await api('POST', '/v1/vouchers/SIGGOLD', { discount: { type: 'AMOUNT', amount_off: 500 } });
  const rule = await json(
    await api('POST', '/v1/validation-rules', {
      name: 'sig gold',
      rules: { '1': { name: 'customer.segment', conditions: { $is: [segment.id] } } },
    }),
  );
  await api('POST', `/v1/validation-rules/${rule.id}/assignments`, { related_object_type: 'voucher', related_object_id: 'SIGGOLD' });
});

describe('the signature format', () => {
  it('is the documented worked example: <expiry>.<hex HMAC-SHA256 of kind:expiry:value>', async () => {
    // docs/identity.md, "Identity verification", shows these exact values (computed there with openssl).
    expect(await signClaim('example-secret', 'source_id', 'alice@example.com', { expiresAt: 1767225600 })).toBe(
      '1767225600.21e1d87700d7634b3ebac204a5ba7c867cbea9d41d6d3af8034e1ff9f8a772ed',
    );
    expect(await hashIdentity('alice@example.com')).toBe('ff8d9819fc0e12bf0d24892e45987e249a28dce836a85cad60e28eaaa8c6d976');
    expect(await signIdentity('example-secret', '  Alice@Example.com ', { expiresAt: 1767225600 })).toBe(
      '1767225600.e7609008757356b97cf3573b17d7e09a18386a9288198eb42e35bce768c0e950',
    );
  });

  it('expires a day after signing unless told otherwise; expiresAt null never expires', async () => {
    const now = Math.floor(Date.now() / 1000);
    const [expiry] = (await signAs('source_id', 'x')).split('.');
    expect(Number(expiry)).toBeGreaterThanOrEqual(now + 86_400 - 1);
    expect(Number(expiry)).toBeLessThanOrEqual(now + 86_400 + 1);
    expect((await signAs('source_id', 'x', { expiresAt: null })).startsWith('0.')).toBe(true);
  });
});

describe('a signature is believed', () => {
  it('for the kind and the exact value it was made for, until its expiry', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claim = 'customer%5Bsource_id%5D=alice%40sig.example';
    expect((await json(await validate(claim))).valid).toBe(false);
    expect((await json(await validate(claim, await signAs('source_id', 'alice@sig.example')))).valid).toBe(true);
    expect((await json(await validate(claim, await signAs('source_id', 'alice@sig.example', { expiresAt: now + 60 })))).valid).toBe(true);
    expect((await json(await validate(claim, await signAs('source_id', 'alice@sig.example', { expiresAt: null })))).valid).toBe(true);
    // Expired: not believed (the visitor is anonymous, never an error).
    const expired = await validate(claim, await signAs('source_id', 'alice@sig.example', { expiresAt: now - 1 }));
    expect(expired.status).toBe(200);
    expect((await json(expired)).valid).toBe(false);
    // An expiry moved forward by hand breaks the HMAC.
    const [, mac] = (await signAs('source_id', 'alice@sig.example', { expiresAt: now - 1 })).split('.');
    expect((await json(await validate(claim, `${now + 3600}.${mac}`))).valid).toBe(false);
    // Another kind of the same value, and the same kind of another case: not this claim.
    expect((await json(await validate(claim, await signAs('id', 'alice@sig.example')))).valid).toBe(false);
    expect((await json(await validate(claim, await signHash(await hashIdentity('alice@sig.example'))))).valid).toBe(false);
    expect(
      (await json(await validate('customer%5Bsource_id%5D=ALICE%40sig.example', await signAs('source_id', 'alice@sig.example')))).valid,
    ).toBe(false);
  });

  it('with IDENTITY_SECRET_PREVIOUS during a rotation, and not once that is removed', async () => {
    const claim = 'customer%5Bsource_id%5D=alice%40sig.example';
    const old = await signClaim('the-old-secret', 'source_id', 'alice@sig.example');
    expect((await json(await validate(claim, old))).valid).toBe(false);
    expect((await json(await validate(claim, old, { IDENTITY_SECRET_PREVIOUS: 'the-old-secret' }))).valid).toBe(true);
    // The new secret keeps working during the rotation.
    expect(
      (await json(await validate(claim, await signAs('source_id', 'alice@sig.example'), { IDENTITY_SECRET_PREVIOUS: 'the-old-secret' })))
        .valid,
    ).toBe(true);
  });

  it('from a comma-separated list in the header: one signature per kind the request claims', async () => {
    const both = [await signAs('tracking_id', 'alice@sig.example'), await signAs('source_id', 'alice@sig.example')].join(', ');
    const v = await json(await validate('tracking_id=alice%40sig.example&customer%5Bsource_id%5D=alice%40sig.example', both));
    expect(v).toMatchObject({ valid: true, tracking_id: 'alice@sig.example' });
  });

  it('by the verifier only within its expiry, whatever the clock of the request', async () => {
    const sig = await signAs('id', 'c', { expiresAt: 2_000_000_000 });
    const env = { IDENTITY_SECRET: TEST_ENV.IDENTITY_SECRET };
    expect(await identityVerifier(env, [sig], 1_999_999_999_000).trusts('id', 'c')).toBe(true);
    expect(await identityVerifier(env, [sig], 2_000_000_000_000).trusts('id', 'c')).toBe(false);
    expect(await identityVerifier({}, [sig], 1_999_999_999_000).trusts('id', 'c')).toBe(false);
  });
});

describe('a signature never travels in a URL', () => {
  it('is refused (400) in the query of a client route, signed or not, so it is never logged as a working credential', async () => {
    const sig = await signAs('source_id', 'alice@sig.example');
    const res = await validate(`customer%5Bsource_id%5D=alice%40sig.example&identity_signature=${sig}`);
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({
      key: 'invalid_query_params',
      details: expect.stringContaining('X-Vouchsafe-Identity-Signature'),
      request_id: expect.any(String),
    });
    const post = await call(`/client/v1/validations?identity_signature=${sig}`, {
      method: 'POST',
      headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json' },
      body: JSON.stringify({ redeemables: [{ object: 'voucher', id: 'SIGGOLD' }], customer: { source_id: 'alice@sig.example' } }),
    });
    expect(post.status).toBe(400);
  });

  it('is allowed by CORS as the X-Vouchsafe-Identity-Signature header', async () => {
    const res = await call('/client/v1/validate', {
      method: 'OPTIONS',
      headers: {
        Origin: CLIENT_HEADERS.Origin,
        'Access-Control-Request-Method': 'GET',
        'Access-Control-Request-Headers': 'x-vouchsafe-identity-signature',
      },
    });
    expect((res.headers.get('Access-Control-Allow-Headers') ?? '').toLowerCase()).toContain('x-vouchsafe-identity-signature');
  });
});

describe('a signed customer is matched as the kind the caller named', () => {
  it("a source id equal to another customer's id is not that customer", async () => {
    // A shop that signs user-chosen usernames: a user names themselves after Alice's customer id.
    const asSource = `customer%5Bsource_id%5D=${encodeURIComponent(alice.id)}`;
    expect((await json(await validate(asSource, await signAs('source_id', alice.id)))).valid).toBe(false);
    // Even where every claim is believed (IDENTITY_VERIFICATION=off), that source id names nobody.
    expect((await json(await validate(asSource, undefined, { IDENTITY_VERIFICATION: 'off' }))).valid).toBe(false);
    // Named as the id it is (and signed so), it is Alice.
    expect((await json(await validate(`customer%5Bid%5D=${encodeURIComponent(alice.id)}`, await signAs('id', alice.id)))).valid).toBe(true);
  });

  it('the server key too: a source id never finds a customer by id', async () => {
    const res = await api('POST', '/v1/vouchers/SIGGOLD/validate', { customer: { source_id: alice.id }, order: { amount: 5000 } });
    expect((await json(res)).valid).toBe(false);
    expect(
      (await json(await api('POST', '/v1/vouchers/SIGGOLD/validate', { customer: { id: alice.id }, order: { amount: 5000 } }))).valid,
    ).toBe(true);
  });
});

/**
 * X-Vouchsafe-Identity: what became of a client request's claim of who it is. An unchanged
 * Voucherify storefront names its customer unsigned (the client SDK's customer[source_id] or
 * tracking_id, OA24 reference/OpenAPI.json L93850 of voucherify-openapi), which the default
 * IDENTITY_VERIFICATION=required ignores: the header says so, so that the shop can tell why a
 * segment member gets customer_rules_violated.
 */
describe('the X-Vouchsafe-Identity header', () => {
  const HEADER = 'X-Vouchsafe-Identity';
  const claim = 'customer%5Bsource_id%5D=alice%40sig.example';
  const post = (path: string, body: object, signature?: string, bindings = {}) =>
    call(
      path,
      {
        method: 'POST',
        headers: {
          ...CLIENT_HEADERS,
          'Content-Type': 'application/json',
          ...(signature ? { 'X-Vouchsafe-Identity-Signature': signature } : {}),
        },
        body: JSON.stringify(body),
      },
      bindings,
    );

  it('is unverified for an unsigned claim, verified for a signed one, absent with no claim or with verification off', async () => {
    const unsigned = await validate(claim);
    expect(unsigned.headers.get(HEADER)).toBe('unverified');
    expect(await json(unsigned)).toMatchObject({ valid: false, error: { key: 'customer_rules_violated' } });
    const signed = await validate(claim, await signAs('source_id', 'alice@sig.example'));
    expect(signed.headers.get(HEADER)).toBe('verified');
    expect((await json(signed)).valid).toBe(true);
    // A raw identity as tracking_id (the client SDK's setIdentity) is a claim too; a device's own id is not.
    expect((await validate('tracking_id=alice%40sig.example')).headers.get(HEADER)).toBe('unverified');
    expect((await validate('tracking_id=track_DeviceDeviceDeviceDev0')).headers.get(HEADER)).toBeNull();
    expect((await validate('')).headers.get(HEADER)).toBeNull();
    // One claim signed and another not: something was ignored.
    const mixed = await validate(`${claim}&tracking_id=bob%40sig.example`, await signAs('source_id', 'alice@sig.example'));
    expect(mixed.headers.get(HEADER)).toBe('unverified');
    // IDENTITY_VERIFICATION=off believes every claim: nothing was verified, nothing ignored.
    const off = await validate(claim, undefined, { IDENTITY_VERIFICATION: 'off' });
    expect(off.headers.get(HEADER)).toBeNull();
    expect((await json(off)).valid).toBe(true);
  });

  it('is on every client route that reads a claim: validations, qualifications, promotions validation, redemptions, events', async () => {
    const customer = { source_id: 'alice@sig.example' };
    const signature = await signAs('source_id', 'alice@sig.example');
    const routes: [string, (signature?: string) => Promise<Response>][] = [
      [
        'POST /client/v1/validations',
        (s) => post('/client/v1/validations', { redeemables: [{ object: 'voucher', id: 'SIGGOLD' }], customer }, s),
      ],
      ['POST /client/v1/qualifications', (s) => post('/client/v1/qualifications', { customer, order: { amount: 5000 } }, s)],
      [
        'GET /client/v1/promotions/validation',
        (s) =>
          call(`/client/v1/promotions/validation?amount=5000&${claim}`, {
            headers: { ...CLIENT_HEADERS, ...(s ? { 'X-Vouchsafe-Identity-Signature': s } : {}) },
          }),
      ],
      [
        'POST /client/v1/redemptions',
        (s) =>
          post('/client/v1/redemptions', { redeemables: [{ object: 'voucher', id: 'SIGGOLD' }], customer, order: { amount: 5000 } }, s),
      ],
      ['POST /client/v1/events', (s) => post('/client/v1/events', { event: 'viewed', customer }, s)],
    ];
    for (const [route, send] of routes) {
      const unsigned = await send();
      expect(unsigned.headers.get(HEADER), `${route} unsigned (${unsigned.status})`).toBe('unverified');
      const signed = await send(signature);
      expect(signed.headers.get(HEADER), `${route} signed (${signed.status})`).toBe('verified');
    }
    // The server key's routes believe the shop's backend: no such header.
    const server = await api('POST', '/v1/vouchers/SIGGOLD/validate', { customer, order: { amount: 5000 } });
    expect(server.headers.get(HEADER)).toBeNull();
  });

  it('is readable by browser code (Access-Control-Expose-Headers)', async () => {
    const res = await validate(claim);
    expect((res.headers.get('Access-Control-Expose-Headers') ?? '').toLowerCase()).toContain('x-vouchsafe-identity');
  });

  it("logs one hint for the operator per isolate, naming the way out and nobody's identity", async () => {
    await validate(claim);
    await validate(claim);
    const hints = warnings.mock.calls.map((args) => String(args[0])).filter((line) => line.includes('identity_unverified'));
    expect(hints).toHaveLength(1);
    expect(hints[0]).toContain('IDENTITY_VERIFICATION=off');
    expect(hints[0]).toContain('X-Vouchsafe-Identity-Signature');
    expect(hints[0]).not.toContain('alice');
  });
});
