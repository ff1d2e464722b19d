import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { ALLOWED_ORIGIN, CLIENT_HEADERS, api, call, json, settled, signHash } from './helpers';

const DAY = 86_400_000;
const voucher = async (code: string, body: Record<string, unknown>) => {
  const res = await api('POST', `/v1/vouchers/${encodeURIComponent(code)}`, body);
  expect(res.status).toBe(200);
  return json(res);
};
const rule = async (rules: Record<string, unknown>, code: string, error?: { message: string }) => {
  const r = await json(await api('POST', '/v1/validation-rules', { name: `rule for ${code}`, rules, error }));
  expect(
    (await api('POST', `/v1/validation-rules/${r.id}/assignments`, { related_object_type: 'voucher', related_object_id: code })).status,
  ).toBe(200);
  return r;
};
const validate = async (code: string, body: unknown = {}) => {
  const res = await api('POST', `/v1/vouchers/${encodeURIComponent(code)}/validate`, body);
  expect(res.status).toBe(200);
  return json(res);
};
const clientValidate = (query: string, headers: Record<string, string> = {}) =>
  call(`/client/v1/validate?${query}`, { headers: { ...CLIENT_HEADERS, ...headers } });

describe('discounts', () => {
  it.each([
    ['AMOUNT', { type: 'AMOUNT', amount_off: 1500 }, 10000, 1500],
    ['AMOUNT larger than the order, clamped to it', { type: 'AMOUNT', amount_off: 1500 }, 1000, 1000],
    ['PERCENT', { type: 'PERCENT', percent_off: 15 }, 10000, 1500],
    ['PERCENT rounded half up to the cent', { type: 'PERCENT', percent_off: 12.5 }, 1001, 125],
    ['PERCENT clamped by amount_limit', { type: 'PERCENT', percent_off: 50, amount_limit: 2000 }, 10000, 2000],
    ['FIXED', { type: 'FIXED', fixed_amount: 7000 }, 10000, 3000],
    ['FIXED above the order: no discount', { type: 'FIXED', fixed_amount: 12000 }, 10000, 0],
  ])('%s', async (name, discount, amount, expected) => {
    const code = `D-${name.replace(/\W+/g, '-')}`;
    await voucher(code, { discount });
    const v = await validate(code, { order: { amount } });
    expect(v).toMatchObject({
      valid: true,
      code,
      discount,
      order: { amount, discount_amount: expected, total_discount_amount: expected, total_amount: amount - expected, object: 'order' },
      applicable_to: { object: 'list', total: 0 },
    });
    expect(v.tracking_id).toMatch(/^track_[A-Za-z0-9_-]{22}$/);
  });

  it('takes the order amount from the items when none is given', async () => {
    await voucher('ITEMS', { discount: { type: 'PERCENT', percent_off: 10 } });
    const v = await validate('ITEMS', {
      order: {
        items: [
          { sku_id: 'a', quantity: 2, price: 1500 },
          { product_id: 'b', amount: 1000 },
        ],
      },
    });
    expect(v.order).toMatchObject({ amount: 4000, discount_amount: 400, total_amount: 3600 });
  });
});

describe('failure reasons (HTTP 200, valid:false)', () => {
  it.each([
    ['an unknown code', 'NOPE', null, 'voucher not found', 'not_found'],
    ['an expired voucher', 'OLD', { expiration_date: new Date(Date.now() - DAY).toISOString() }, 'voucher expired', 'voucher_expired'],
    [
      'a voucher not active yet',
      'SOON',
      { start_date: new Date(Date.now() + DAY).toISOString() },
      'voucher not active',
      'voucher_not_active',
    ],
    ['a disabled voucher', 'OFF', { active: false }, 'voucher is disabled', 'voucher_disabled'],
  ])('%s', async (_, code, extra, reason, key) => {
    if (extra) await voucher(code, { discount: { type: 'AMOUNT', amount_off: 100 }, ...extra });
    const v = await validate(code, { order: { amount: 1000 } });
    expect(v).toMatchObject({ valid: false, reason, code, error: { key } });
    expect(v.tracking_id).toMatch(/^track_/);
    expect(v.error.request_id).toMatch(/^v-/);
    // OA24 reference/OpenAPI.json:L3789 (VouchersValidateInvalidResponseBody): error.details is required.
    expect(v.error.details).toEqual(expect.any(String));
  });

  it('words refusals as the spec does: lower-case message, the code as details', async () => {
    await voucher('WORDS-OFF', { discount: { type: 'AMOUNT', amount_off: 100 }, active: false });
    await voucher('WORDS-OLD', {
      discount: { type: 'AMOUNT', amount_off: 100 },
      expiration_date: new Date(Date.now() - DAY).toISOString(),
    });
    // OA24 reference/OpenAPI.json:L64325-L64328: {code:400, key:'voucher_disabled', message:'voucher is disabled', details:<code>}.
    expect((await validate('WORDS-OFF')).error).toMatchObject({
      code: 400,
      key: 'voucher_disabled',
      message: 'voucher is disabled',
      details: 'WORDS-OFF',
    });
    // OA24 reference/OpenAPI.json:L58929-L58932: {key:'voucher_expired', message:'voucher expired', details:<code>}.
    expect((await validate('WORDS-OLD')).error).toMatchObject({
      code: 400,
      key: 'voucher_expired',
      message: 'voucher expired',
      details: 'WORDS-OLD',
    });
    // An unknown code names the resource (OA example "False", readOnly-openAPI.json:L33194).
    expect((await validate('WORDS-NONE')).error).toMatchObject({
      code: 404,
      key: 'not_found',
      resource_id: 'WORDS-NONE',
      resource_type: 'voucher',
    });
  });

  it('answers no order when the request describes none (no fabricated order)', async () => {
    await voucher('NO-ORDER', { discount: { type: 'AMOUNT', amount_off: 100 } });
    const v = await validate('NO-ORDER');
    expect(v.valid).toBe(true);
    expect(v).not.toHaveProperty('order');
    expect((await validate('NO-ORDER', { order: { amount: 500 } })).order).toMatchObject({ amount: 500, total_amount: 400 });
  });

  it('quantity exceeded once every unit is redeemed', async () => {
    await voucher('ONCE', { discount: { type: 'AMOUNT', amount_off: 100 }, redemption: { quantity: 1 } });
    expect((await validate('ONCE')).valid).toBe(true);
    expect((await api('POST', '/v1/vouchers/ONCE/redemption', { customer: { source_id: 'once-1' }, order: { amount: 1000 } })).status).toBe(
      200,
    );
    expect(await validate('ONCE')).toMatchObject({ valid: false, reason: 'quantity exceeded', error: { key: 'quantity_exceeded' } });
  });

  it('order rules: amount and item count, with the rule custom message', async () => {
    await voucher('BIG', { discount: { type: 'AMOUNT', amount_off: 100 } });
    await rule(
      {
        '1': { name: 'order.amount', conditions: { $more_than_or_equal: [5000] }, error: { message: 'Spend at least 50.00' } },
        '2': { name: 'order.items.count', conditions: { $more_than: [1] } },
        logic: '1 and 2',
      },
      'BIG',
    );
    expect(await validate('BIG', { order: { amount: 4999, items: [{ sku_id: 'a', quantity: 3 }] } })).toMatchObject({
      valid: false,
      reason: 'order does not match validation rules',
      error: { key: 'order_rules_violated', message: 'Spend at least 50.00' },
    });
    expect((await validate('BIG', { order: { amount: 5000, items: [{ sku_id: 'a', quantity: 1 }] } })).error.key).toBe(
      'order_rules_violated',
    );
    expect((await validate('BIG', { order: { amount: 5000, items: [{ sku_id: 'a', quantity: 2 }] } })).valid).toBe(true);
  });

  it('customer metadata rules, with the rule set fallback message', async () => {
    await voucher('VIPONLY', { discount: { type: 'AMOUNT', amount_off: 100 } });
    await rule({ '1': { name: 'customer.metadata.vip', conditions: { $is: [true] } } }, 'VIPONLY', { message: 'VIPs only' });
    await api('POST', '/v1/customers', { source_id: 'vip-1', metadata: { vip: true } });
    await api('POST', '/v1/customers', { source_id: 'plain-1', metadata: { vip: false } });
    expect((await validate('VIPONLY', { customer: { source_id: 'vip-1' } })).valid).toBe(true);
    expect(await validate('VIPONLY', { customer: { source_id: 'plain-1' } })).toMatchObject({
      valid: false,
      reason: 'customer does not match segment rules',
      error: { key: 'customer_rules_violated', message: 'VIPs only' },
    });
  });
});

describe('segment rules', () => {
  it('includes and excludes known customers by static, auto-update and passive segments', async () => {
    const gold = await json(await api('POST', '/v1/customers', { source_id: 'seg-gold', metadata: { tier: 'gold' } }));
    await api('POST', '/v1/customers', { source_id: 'seg-plain', metadata: { tier: 'plain' } });
    const banned = await json(await api('POST', '/v1/customers', { source_id: 'seg-banned', metadata: { tier: 'gold' } }));
    const auto = await json(
      await api('POST', '/v1/segments', {
        name: 'gold',
        type: 'auto-update',
        filter: { 'metadata.tier': { conditions: { $is: ['gold'] } } },
      }),
    );
    const passive = await json(
      await api('POST', '/v1/segments', {
        name: 'gold (passive)',
        type: 'passive',
        filter: { 'metadata.tier': { conditions: { $is: ['gold'] } } },
      }),
    );
    const blocklist = await json(await api('POST', '/v1/segments', { name: 'blocked', type: 'static', customers: [banned.id] }));

    for (const [code, segment] of [
      ['AUTO', auto.id],
      ['PASSIVE', passive.id],
    ]) {
      await voucher(code, { discount: { type: 'AMOUNT', amount_off: 100 } });
      await rule(
        {
          '1': { name: 'customer.segment', conditions: { $is: [segment] } },
          '2': { name: 'customer.segment', conditions: { $is_not: [blocklist.id] } },
          logic: '1 and 2',
        },
        code,
      );
      expect((await validate(code, { customer: { id: gold.id } })).valid).toBe(true);
      expect((await validate(code, { customer: { source_id: 'seg-plain' } })).error.key).toBe('customer_rules_violated');
      expect((await validate(code, { customer: { source_id: 'seg-banned' } })).error.key).toBe('customer_rules_violated');
    }
    // A change of the customer shows at the next validation (the cached definition does not hold members).
    await api('PUT', '/v1/customers/seg-plain', { metadata: { tier: 'gold' } });
    expect((await validate('AUTO', { customer: { source_id: 'seg-plain' } })).valid).toBe(true);
    expect((await validate('PASSIVE', { customer: { source_id: 'seg-plain' } })).valid).toBe(true);
  });

  it('judges an anonymous visitor by its tracking profile: an event-count segment', async () => {
    const browsing = await json(
      await api('POST', '/v1/segments', {
        name: 'browsers',
        type: 'auto-update',
        filter: { 'events.viewed_product.count': { conditions: { $more_than_equal: [3] } } },
      }),
    );
    await voucher('BROWSER', { discount: { type: 'PERCENT', percent_off: 5 } });
    await rule({ '1': { name: 'customer.segment', conditions: { $is: [browsing.id] } } }, 'BROWSER');
    const first = await json(await clientValidate('code=BROWSER&amount=1000'));
    expect(first).toMatchObject({ valid: false, error: { key: 'customer_rules_violated' } });
    const tid = first.tracking_id;
    for (let i = 0; i < 3; i++) {
      const res = await call('/client/v1/events', {
        method: 'POST',
        headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json' },
        body: JSON.stringify({ event: 'viewed_product', customer: { source_id: tid } }),
      });
      expect(res.status).toBe(200);
    }
    // The events count once the queue consumer has written them (eventual, about a second).
    await settled();
    expect(await json(await clientValidate(`code=BROWSER&amount=1000&tracking_id=${tid}`))).toMatchObject({
      valid: true,
      tracking_id: tid,
    });
  });

  it('an exclude rule lets an anonymous visitor in', async () => {
    const seg = await json(
      await api('POST', '/v1/segments', {
        name: 'fraudsters',
        type: 'static',
        customers: [(await json(await api('POST', '/v1/customers', { source_id: 'fraud-1' }))).id],
      }),
    );
    await voucher('NOTFRAUD', { discount: { type: 'AMOUNT', amount_off: 100 } });
    await rule({ '1': { name: 'customer.segment', conditions: { $is_not: [seg.id] } } }, 'NOTFRAUD');
    expect((await json(await clientValidate('code=NOTFRAUD'))).valid).toBe(true);
    expect((await validate('NOTFRAUD', { customer: { source_id: 'fraud-1' } })).valid).toBe(false);
  });
});

describe('client validate', () => {
  it('reads the exact query format of the official client SDK', async () => {
    await voucher('AB C', { discount: { type: 'PERCENT', percent_off: 10 } });
    await api('POST', '/v1/customers', { source_id: 's1', metadata: { age: 2 } });
    const query =
      'code=AB%20C&item%5B0%5D%5Bsku_id%5D=sku_1&item%5B0%5D%5Bquantity%5D=2&amount=5000' +
      '&metadata%5Bshop%5D=1&order%5Bmetadata%5D%5Bcurrency%5D=EUR&customer%5Bsource_id%5D=s1' +
      '&customer%5Bmetadata%5D%5Bage%5D=2&tracking_id=alice%40x.com';
    // Voucherify's trust-the-browser behaviour: the claimed customer and raw tracking id count.
    const off = { IDENTITY_VERIFICATION: 'off' };
    const res = await call(`/client/v1/validate?${query}`, { headers: CLIENT_HEADERS }, off);
    expect(res.status).toBe(200);
    const v = await json(res);
    expect(v).toMatchObject({
      valid: true,
      code: 'AB C',
      order: { amount: 5000, discount_amount: 500, metadata: { currency: 'EUR' }, items: [{ sku_id: 'sku_1', quantity: 2 }] },
    });
    // The public key never learns a customer's internal id.
    expect(v.order.customer_id).toBeNull();
    // A raw identity as tracking id is never stored (it becomes a stable track_ id under an HMAC),
    // and the client answer names it as sent, never as the derived id.
    expect(v.tracking_id).toBe('alice@x.com');
    expect((await json(await call(`/client/v1/validate?${query}`, { headers: CLIENT_HEADERS }, off))).tracking_id).toBe(v.tracking_id);
    const raw = await env.DB.prepare("SELECT count(*) AS n FROM tracking_profiles WHERE id LIKE '%alice%'").first<{ n: number }>();
    expect(raw?.n).toBe(0);
    // With verification required, the same query validates too, for an anonymous visitor: the
    // unsigned raw identity is not used as a tracking id.
    const anonymous = await json(await clientValidate(query));
    expect(anonymous).toMatchObject({ valid: true, order: { customer_id: null } });
    expect(anonymous.tracking_id).not.toBe(v.tracking_id);
  });

  it('records the attempt on the tracking profile the request carries, and stores only the HMAC of the identity', async () => {
    await voucher('TRACKME', { discount: { type: 'AMOUNT', amount_off: 100 } });
    const hash = 'a'.repeat(64);
    const tid = 'track_TrackMeTrackMeTrack000';
    const v = await json(
      await clientValidate(`code=TRACKME&tracking_id=${tid}&identity_hash=${hash}`, {
        'X-Vouchsafe-Identity-Signature': await signHash(hash),
      }),
    );
    expect(v.tracking_id).toBe(tid);
    await settled();
    const profile = await env.DB.prepare('SELECT * FROM tracking_profiles WHERE id = ?').bind(v.tracking_id).first<any>();
    expect(profile).toMatchObject({ validations_count: 1, codes: '["TRACKME"]' });
    expect(profile.identity_hmac).toMatch(/^[0-9a-f]{64}$/);
    expect(profile.identity_hmac).not.toBe(hash);
    await clientValidate(`code=NOSUCH&tracking_id=${v.tracking_id}`);
    await settled();
    const after = await env.DB.prepare('SELECT * FROM tracking_profiles WHERE id = ?').bind(v.tracking_id).first<any>();
    expect(after).toMatchObject({ validations_count: 2, codes: '["TRACKME","NOSUCH"]' });
    expect(after.last_seen).toBeGreaterThanOrEqual(after.first_seen);
    // Each attempt is kept with its outcome (written after the judgement, off the request's path).
    const attempts = await env.DB.prepare('SELECT code, result, reason FROM validations WHERE tracking_id = ? ORDER BY created_at')
      .bind(tid)
      .all();
    expect(attempts.results).toEqual([
      { code: 'TRACKME', result: 'VALID', reason: null },
      { code: 'NOSUCH', result: 'INVALID', reason: 'not_found' },
    ]);
  });

  it('a request without a tracking id (no consent yet) writes nothing', async () => {
    await voucher('NOTRACE', { discount: { type: 'AMOUNT', amount_off: 100 } });
    const count = async () =>
      (
        await env.DB.prepare('SELECT (SELECT count(*) FROM tracking_profiles) + (SELECT count(*) FROM validations) AS n').first<{
          n: number;
        }>()
      )?.n;
    await settled();
    const before = await count();
    const single = await json(await clientValidate('code=NOTRACE&amount=1000'));
    expect(single.valid).toBe(true);
    const stacked = await call('/client/v1/validations', {
      method: 'POST',
      headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json' },
      body: JSON.stringify({ redeemables: [{ object: 'voucher', id: 'NOTRACE' }], order: { amount: 1000 } }),
    });
    expect((await json(stacked)).valid).toBe(true);
    await settled();
    expect(await count()).toBe(before);
    expect(await env.DB.prepare('SELECT 1 FROM tracking_profiles WHERE id = ?').bind(single.tracking_id).first()).toBeNull();
  });

  it('sets the tracking cookie only on same-site requests, with the id of the response', async () => {
    await voucher('COOKIE', { discount: { type: 'AMOUNT', amount_off: 100 } });
    const tid = 'track_CookieCookieCookie0000';
    const cross = await clientValidate(`code=COOKIE&tracking_id=${tid}`, { 'Sec-Fetch-Site': 'cross-site' });
    expect(cross.headers.get('Set-Cookie')).toBeNull();
    // No tracking id sent (no consent yet in the browser SDK): no cookie either.
    const none = await clientValidate('code=COOKIE', { 'Sec-Fetch-Site': 'same-origin' });
    expect(none.headers.get('Set-Cookie')).toBeNull();
    const same = await clientValidate(`code=COOKIE&tracking_id=${tid}`, { 'Sec-Fetch-Site': 'same-origin' });
    const body = await json(same);
    const cookie = same.headers.get('Set-Cookie') ?? '';
    expect(cookie).toContain(`vs_tid=${body.tracking_id}`);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Max-Age=34560000/);
    expect(cookie).toMatch(/Secure/);
    expect(same.headers.get('Cache-Control')).toBe('no-store');
    // Same site, another host (api.shop.example serving www pages of shop.example): the cookie goes
    // on the domain both share, so the storefront's script can read it.
    const site = await exports.default.fetch(
      new Request(`https://api.shop.example/client/v1/validate?code=COOKIE&tracking_id=${body.tracking_id}`, {
        headers: { ...CLIENT_HEADERS, Origin: ALLOWED_ORIGIN, 'Sec-Fetch-Site': 'same-site' },
      }),
    );
    expect(site.headers.get('Set-Cookie')).toContain(`vs_tid=${body.tracking_id}`);
    expect(site.headers.get('Set-Cookie')).toContain('Domain=shop.example');
  });

  it('refuses a malformed query with 400 naming the field', async () => {
    const res = await clientValidate('code=');
    expect(res.status).toBe(400);
    expect((await json(res)).details).toMatch(/^code:/);
    const amount = await clientValidate('code=X&amount=abc');
    expect(amount.status).toBe(400);
    expect((await json(amount)).details).toMatch(/^amount:/);
    const bad = await clientValidate('code=X&identity_hash=raw@example.com');
    expect(bad.status).toBe(400);
    expect((await json(bad)).details).toMatch(/^identity_hash:/);
  });

  it('answers stackable validations for several vouchers', async () => {
    await voucher('S1', { discount: { type: 'AMOUNT', amount_off: 300 } });
    await voucher('S2', { discount: { type: 'PERCENT', percent_off: 10 } });
    const res = await call('/client/v1/validations', {
      method: 'POST',
      headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        redeemables: [
          { object: 'voucher', id: 'S1' },
          { object: 'voucher', id: 'S2' },
          { object: 'voucher', id: 'S3' },
        ],
        order: { amount: 10000 },
      }),
    });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.valid).toBe(false);
    // OA production/readOnly-openAPI.json:L30305 (ValidationsValidateResponseBody): `redeemables`
    // lists the result of EACH redeemable; example "False" (OA:L33194) holds INAPPLICABLE and
    // SKIPPED entries. Under ALL, "if one incentive is invalid ... no incentives are applied"
    // (documentation/orchestrate/stacking-rules.mdx l.40-41): the good codes are SKIPPED with
    // preceding_validation_failed and the order carries no discount.
    expect(body.redeemables.map((r: any) => [r.id, r.status])).toEqual([
      ['S1', 'SKIPPED'],
      ['S2', 'SKIPPED'],
      ['S3', 'INAPPLICABLE'],
    ]);
    expect(body.skipped_redeemables).toMatchObject([
      { id: 'S1', status: 'SKIPPED', result: { details: { key: 'preceding_validation_failed' } } },
      { id: 'S2', status: 'SKIPPED' },
    ]);
    expect(body.inapplicable_redeemables).toMatchObject([
      {
        id: 'S3',
        status: 'INAPPLICABLE',
        result: { error: { key: 'not_found', resource_id: 'S3', resource_type: 'voucher' }, details: { key: 'not_found' } },
      },
    ]);
    expect(body.order).toMatchObject({ amount: 10000, discount_amount: 0, total_discount_amount: 0, total_amount: 10000 });
    expect(body.id).toMatch(/^valid_/);
    // SDK dist/types/Validations.d.ts:94 (ValidationsStackingRules) requires these two.
    expect(body.stacking_rules).toMatchObject({ redeemables_application_mode: 'ALL', redeemables_sorting_rule: 'REQUESTED_ORDER' });
    expect(body.tracking_id).toMatch(/^track_/);
  });

  it('applies every redeemable when all are applicable, each order showing the running total', async () => {
    await voucher('R1', { discount: { type: 'AMOUNT', amount_off: 300 } });
    await voucher('R2', { discount: { type: 'PERCENT', percent_off: 10 } });
    const res = await call('/client/v1/validations', {
      method: 'POST',
      headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        redeemables: [
          { object: 'voucher', id: 'R1' },
          { object: 'voucher', id: 'R2' },
        ],
        order: { amount: 10000 },
      }),
    });
    const body = await json(res);
    expect(body.valid).toBe(true);
    expect(body.skipped_redeemables).toEqual([]);
    expect(body.inapplicable_redeemables).toEqual([]);
    // OA example "True - 5 Redeemables" (readOnly-openAPI.json:L33250): each APPLICABLE
    // redeemable's order carries the discount of the redeemables up to and including it.
    expect(body.redeemables.map((r: any) => [r.status, r.order.total_discount_amount, r.order.total_amount])).toEqual([
      ['APPLICABLE', 300, 9700],
      ['APPLICABLE', 1300, 8700],
    ]);
    expect(body.order).toMatchObject({ amount: 10000, total_discount_amount: 1300, total_amount: 8700 });
  });
});

describe('customer data at validate (the customer sent is upserted as the customers API would)', () => {
  const FULL = {
    source_id: 'val-up@example.com',
    name: 'Val Up',
    email: 'val-up@example.com',
    phone: '+48 600 000 001',
    description: 'vip',
    birthdate: '1990-05-17',
    address: { city: 'Berlin', country: 'DE', postal_code: '10115', line_1: 'Str 1' },
    metadata: { tier: 'gold' },
  };

  it('a server validate writes every field; null clears one; the rules judge the customer as written', async () => {
    await voucher('VAL-UP', { discount: { type: 'AMOUNT', amount_off: 100 } });
    await rule({ '1': { name: 'customer.metadata.tier', conditions: { $is: ['gold'] } } }, 'VAL-UP');
    // OA RedemptionsRedeemRequestBody.customer / Customer (production/readOnly-openAPI.json:L4614):
    // the full customer object; the same fields the customers API stores.
    expect((await validate('VAL-UP', { customer: FULL, order: { amount: 1000 } })).valid).toBe(true);
    const stored = await json(await api('GET', `/v1/customers/${encodeURIComponent(FULL.source_id)}`));
    expect(stored).toMatchObject({
      name: 'Val Up',
      phone: '+48 600 000 001',
      description: 'vip',
      birthdate: '1990-05-17',
      address: { city: 'Berlin', country: 'DE', postal_code: '10115', line_1: 'Str 1' },
      metadata: { tier: 'gold' },
    });
    // null clears (OA marks the fields nullable); the new metadata is what the rule now sees.
    const refused = await validate('VAL-UP', { customer: { source_id: FULL.source_id, phone: null, metadata: { tier: 'silver' } } });
    expect(refused).toMatchObject({ valid: false, error: { key: 'customer_rules_violated' } });
    const after = await json(await api('GET', `/v1/customers/${encodeURIComponent(FULL.source_id)}`));
    expect(after.phone).toBeNull();
    expect(after.metadata).toEqual({ tier: 'silver' });
    expect(after.name).toBe('Val Up');
  });

  it('a stackable server validate writes the customer too, and enters its auto-update segments', async () => {
    await voucher('VAL-ST', { discount: { type: 'AMOUNT', amount_off: 100 } });
    const seg = await json(
      await api('POST', '/v1/segments', {
        name: 'poznaniacy',
        type: 'auto-update',
        filter: { 'address.city': { conditions: { $is: ['Poznań'] } } },
      }),
    );
    const res = await api('POST', '/v1/validations', {
      redeemables: [{ object: 'voucher', id: 'VAL-ST' }],
      customer: { ...FULL, source_id: 'val-st@example.com', address: { city: 'Poznań' } },
    });
    expect((await json(res)).valid).toBe(true);
    const members = await json(await api('GET', `/v1/customers?segment_id=${seg.id}`));
    expect(members.customers.map((c: { source_id: string }) => c.source_id)).toEqual(['val-st@example.com']);
  });

  it('a client validate writes no customer', async () => {
    await voucher('VAL-CL', { discount: { type: 'AMOUNT', amount_off: 100 } });
    const res = await clientValidate('code=VAL-CL&customer[source_id]=val-client@example.com&customer[name]=Nobody');
    expect(res.status).toBe(200);
    expect((await api('GET', '/v1/customers/val-client@example.com')).status).toBe(404);
  });
});
