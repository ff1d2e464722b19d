import { describe, expect, it } from 'vitest';
import { resolveTrackingId } from '../../worker/src/services/tracking';
import { TEST_ENV } from '../test-env';
import { CLIENT_HEADERS, api, call, json } from './helpers';

// Differences from Voucherify's wire that an unchanged integration meets: rules that only scope
// items, free units the order does not hold, the list parameters of the spec, the rate-limit
// headers, the tracking id of a redemption, and the smaller payload gaps. Citations: OA =
// voucherify-openapi production/readOnly-openAPI.json, OA24 = reference/OpenAPI.json blob ae6b585
// (OpenAPI24.json), LIM = documentation/guides/limits.mdx.

const voucher = async (code: string, body: Record<string, unknown>) => {
  const res = await api('POST', `/v1/vouchers/${encodeURIComponent(code)}`, body);
  expect(res.status, await res.clone().text()).toBe(200);
  return json(res);
};
const validate = async (code: string, body: unknown) => {
  const res = await api('POST', `/v1/vouchers/${encodeURIComponent(code)}/validate`, body);
  expect(res.status).toBe(200);
  return json(res);
};
const assign = async (ruleId: string, code: string) =>
  expect((await api('POST', `/v1/validation-rules/${ruleId}/assignments`, { voucher: code })).status).toBe(200);

describe('a validation rule with only applicable_to', () => {
  // OA GET /v1/validation-rules example "Business Validation Rule - Get some $ off"
  // (readOnly-openAPI.json:L61415): `rules: {logic: ''}` and a product in applicable_to.included.
  const SHOES_ONLY = { included: [{ object: 'product', id: 'prod_shoes', source_id: 'shoes' }], excluded: [], included_all: false };

  it('is accepted with rules {logic: ""} and with no rules at all (OA ValidationRuleBase, readOnly-openAPI.json:L29530: rules optional)', async () => {
    const withLogic = await api('POST', '/v1/validation-rules', {
      name: 'Get some $ off',
      type: 'basic',
      rules: { logic: '' },
      applicable_to: SHOES_ONLY,
    });
    expect(withLogic.status, await withLogic.clone().text()).toBe(200);
    const rule = await json(withLogic);
    expect(rule).toMatchObject({ rules: { logic: '' }, applicable_to: { included: [{ object: 'product', id: 'prod_shoes' }] } });
    // Read back and sent back unchanged, as an integration copying a rule does.
    const read = await json(await api('GET', `/v1/validation-rules/${rule.id}`));
    expect(read.rules).toEqual({ logic: '' });
    const noRules = await api('POST', '/v1/validation-rules', { name: 'scope only', applicable_to: SHOES_ONLY });
    expect(noRules.status, await noRules.clone().text()).toBe(200);
    expect((await json(noRules)).rules).toEqual({ logic: '' });
    // An update may drop the rules (null) and keep the scope.
    const withRule = await json(
      await api('POST', '/v1/validation-rules', {
        name: 'amount then scope',
        rules: { '1': { name: 'order.amount', conditions: { $more_than: [100000] } }, logic: '1' },
        applicable_to: SHOES_ONLY,
      }),
    );
    const dropped = await api('PUT', `/v1/validation-rules/${withRule.id}`, { rules: null });
    expect(dropped.status).toBe(200);
    expect((await json(dropped)).rules).toEqual({ logic: '' });
  });

  it('still refuses a logic that names rules the set does not hold, and joins rules by "and" under an empty logic', async () => {
    const bad = await api('POST', '/v1/validation-rules', { name: 'bad', rules: { logic: '1 and 2' } });
    expect(bad.status).toBe(400);
    expect((await json(bad)).details).toMatch(/^rules\.logic/);
    const empty = await json(
      await api('POST', '/v1/validation-rules', {
        name: 'two, empty logic',
        rules: {
          '1': { name: 'order.amount', conditions: { $more_than: [1000] } },
          '2': { name: 'order.amount', conditions: { $less_than: [5000] } },
          logic: '',
        },
      }),
    );
    await voucher('WG-EMPTYLOGIC', { discount: { type: 'AMOUNT', amount_off: 100 } });
    await assign(empty.id, 'WG-EMPTYLOGIC');
    expect((await validate('WG-EMPTYLOGIC', { order: { amount: 3000 } })).valid).toBe(true);
    expect((await validate('WG-EMPTYLOGIC', { order: { amount: 6000 } })).valid).toBe(false);
  });

  it('scopes the discount to its items and refuses nothing by itself', async () => {
    const rule = await json(
      await api('POST', '/v1/validation-rules', { name: 'shoes', type: 'basic', rules: { logic: '' }, applicable_to: SHOES_ONLY }),
    );
    await voucher('WG-SHOES15', { discount: { type: 'PERCENT', percent_off: 15, effect: 'APPLY_TO_ITEMS' } });
    await assign(rule.id, 'WG-SHOES15');
    const items = [
      { product_id: 'prod_shoes', quantity: 1, price: 10000 },
      { product_id: 'prod_socks', quantity: 2, price: 1000 },
    ];
    const v = await validate('WG-SHOES15', { order: { items } });
    expect(v.valid).toBe(true);
    // Only the shoes line is discounted (OA ApplicableTo.order_item_indices, readOnly-openAPI.json:L949).
    expect(v.order.items.map((i: { discount_amount: number }) => i.discount_amount)).toEqual([1500, 0]);
    expect(v.order).toMatchObject({ amount: 12000, items_discount_amount: 1500, total_amount: 10500 });
    expect(v.applicable_to.data).toMatchObject([{ object: 'product', id: 'prod_shoes', order_item_indices: [0] }]);
    // Explained: the rule set holds with no rule to judge and no logic to show.
    const explained = await json(await api('POST', '/v1/vouchers/WG-SHOES15/validate?explain=true', { order: { items } }));
    const rulesNode = (explained.explanation.children as { kind: string }[]).find((n) => n.kind === 'rules');
    expect(rulesNode).toEqual({ kind: 'rules', label: rule.id, passed: true, children: [] });
    // No shoes in the order: valid with no effect (redeemables_no_effect_rule REDEEM_ANYWAY).
    const none = await validate('WG-SHOES15', { order: { items: [items[1]] } });
    expect(none).toMatchObject({ valid: true, order: { total_discount_amount: 0 } });
    // An item discount without items is still refused as before (errors.mdx missing_order_items).
    const bare = await validate('WG-SHOES15', { order: { amount: 5000 } });
    expect(bare).toMatchObject({ valid: false, error: { key: 'missing_order_items' } });

    // An order-level AMOUNT under the same scope: at most what the scoped lines cost.
    await voucher('WG-SHOES-AMT', { discount: { type: 'AMOUNT', amount_off: 50000 } });
    await assign(rule.id, 'WG-SHOES-AMT');
    const capped = await validate('WG-SHOES-AMT', { order: { items } });
    expect(capped).toMatchObject({ valid: true, order: { discount_amount: 10000, total_amount: 2000 } });
  });
});

describe('a UNIT discount whose product is not in the order', () => {
  // OA24 POST /v1/vouchers/{code}/validate example "Free Shipping" (OpenAPI24.json:L58304): the
  // shipping product is added as a line of its own: quantity 1, discount_quantity 1,
  // initial_quantity 0, its `product`, and the order's amounts unchanged (it has no price).
  it('adds the line as the "Free Shipping" example shows it, with the product the voucher names', async () => {
    const product = { id: 'prod_5h1pp1ng', source_id: '5h1pp1ng', name: 'Shipping' };
    await voucher('WG-FREESHIP', {
      discount: { type: 'UNIT', unit_off: 1, unit_type: 'prod_5h1pp1ng', effect: 'ADD_MISSING_ITEMS', product },
    });
    const coffee = { product_id: 'prod_coffee', quantity: 1, price: 1200 };
    const print = { product_id: 'prod_print', quantity: 1, price: 3100 };
    const v = await validate('WG-FREESHIP', { order: { amount: 4300, items: [coffee, print] } });
    expect(v.valid).toBe(true);
    expect(v.order).toMatchObject({ amount: 4300, total_amount: 4300, total_discount_amount: 0 });
    expect(v.order.items).toHaveLength(3);
    // OpenAPI24.json:L58351-L58362, field for field.
    expect(v.order.items[2]).toMatchObject({
      object: 'order_item',
      product_id: 'prod_5h1pp1ng',
      quantity: 1,
      discount_quantity: 1,
      initial_quantity: 0,
      product,
    });
    expect(v.order.items[2].amount).toBeUndefined();
    // The shop's own lines are unchanged.
    expect(v.order.items[0]).toMatchObject({ product_id: 'prod_coffee', quantity: 1, amount: 1200, discount_amount: 0 });
  });

  // OA24 validate example "Unit - Add order items" (OpenAPI24.json:L58576): 3 units of a SKU added
  // with ADD_NEW_ITEMS, priced 29900 each (L58664-L58688): amount 89700, all of it discounted,
  // initial_quantity and initial_amount 0, subtotal_amount 0; the order's amount grows by it over its
  // initial_amount.
  it('prices the added units by the price the grant names, and the order totals include them', async () => {
    const sku = { id: 'sku_jacket', source_id: 'M0E20000000ELDH', name: 'Casual jacket', price: 29900 };
    await voucher('WG-JACKETS', {
      discount: { type: 'UNIT', unit_off: 3, unit_type: 'sku_jacket', effect: 'ADD_NEW_ITEMS', sku, product: { id: 'prod_jacket' } },
    });
    const order = { amount: 28000, items: [{ sku_id: 'sku_keychain', product_id: 'prod_keychain', quantity: 1, price: 28000 }] };
    const v = await validate('WG-JACKETS', { order });
    expect(v.order).toMatchObject({
      amount: 117700,
      initial_amount: 28000,
      items_discount_amount: 89700,
      total_discount_amount: 89700,
      total_amount: 28000,
    });
    expect(v.order.items[1]).toMatchObject({
      object: 'order_item',
      product_id: 'prod_jacket',
      sku_id: 'sku_jacket',
      quantity: 3,
      discount_quantity: 3,
      initial_quantity: 0,
      amount: 89700,
      discount_amount: 89700,
      initial_amount: 0,
      applied_discount_amount: 89700,
      price: 29900,
      subtotal_amount: 0,
      sku: { id: 'sku_jacket', source_id: 'M0E20000000ELDH', name: 'Casual jacket' },
    });
    // The voucher keeps the price it was given (this service's addition to the unit's product/sku).
    expect(v.discount.sku).toEqual(sku);

    // Redeemed: the redemption's order holds the added line and the same totals.
    const res = await api('POST', '/v1/vouchers/WG-JACKETS/redemption', { order, customer: { source_id: 'wg-jacket-buyer' } });
    expect(res.status, await res.clone().text()).toBe(200);
    const redemption = await json(res);
    expect(redemption.order).toMatchObject({ amount: 117700, total_amount: 28000 });
    expect(redemption.order.items[1]).toMatchObject({ sku_id: 'sku_jacket', quantity: 3, initial_quantity: 0 });
    expect((await json(await api('GET', `/v1/redemptions/${redemption.id}`))).order.items).toHaveLength(2);
  });

  it('adds one line for two codes of a stack adding the same unit (OA /v1/validations, readOnly-openAPI.json:L33027)', async () => {
    const unit = {
      type: 'UNIT',
      unit_off: 1,
      unit_type: 'prod_gift',
      effect: 'ADD_MISSING_ITEMS',
      product: { id: 'prod_gift', price: 500 },
    };
    await voucher('WG-GIFT-A', { discount: unit });
    await voucher('WG-GIFT-B', { discount: unit });
    const res = await api('POST', '/v1/validations', {
      redeemables: [
        { object: 'voucher', id: 'WG-GIFT-A' },
        { object: 'voucher', id: 'WG-GIFT-B' },
      ],
      order: { items: [{ product_id: 'prod_tea', quantity: 1, price: 2000 }] },
    });
    const v = await json(res);
    expect(v.valid).toBe(true);
    expect(v.order.items).toHaveLength(2);
    expect(v.order.items[1]).toMatchObject({
      product_id: 'prod_gift',
      quantity: 2,
      discount_quantity: 2,
      amount: 1000,
      discount_amount: 1000,
    });
    expect(v.order).toMatchObject({ amount: 3000, initial_amount: 2000, total_amount: 2000 });
    // Each redeemable's running order shows the line as far as it goes.
    expect(v.redeemables[0].order.items[1]).toMatchObject({ quantity: 1, amount: 500 });
  });
});

describe('list parameters of the spec', () => {
  it('GET /v1/publications takes every order of the spec, voucher_type in either case, and filters (readOnly-openAPI.json:L42736, L42776, L42792)', async () => {
    for (const [code, customer] of [
      ['WG-PUB-B', 'wg-pub-zed'],
      ['WG-PUB-A', 'wg-pub-amy'],
    ] as const) {
      await voucher(code, { discount: { type: 'AMOUNT', amount_off: 100 } });
      const res = await api('POST', '/v1/publications', { voucher: code, customer: { source_id: customer }, channel: 'API' });
      expect(res.status, await res.clone().text()).toBe(200);
    }
    const list = async (qs: string) => {
      const res = await api('GET', `/v1/publications?${qs}`);
      expect(res.status, await res.clone().text()).toBe(200);
      return (await json(res)).publications as { voucher: { code: string }; tracking_id: string; customer_id: string }[];
    };
    const codes = (rows: { voucher: { code: string } }[]) => rows.map((p) => p.voucher.code).filter((c) => c.startsWith('WG-PUB'));
    expect(codes(await list('order=voucher_code&limit=100'))).toEqual(['WG-PUB-A', 'WG-PUB-B']);
    expect(codes(await list('order=-voucher_code&limit=100'))).toEqual(['WG-PUB-B', 'WG-PUB-A']);
    expect(codes(await list('order=tracking_id&limit=100'))).toEqual(['WG-PUB-A', 'WG-PUB-B']);
    for (const order of ['id', '-id', 'customer_id', '-customer_id', 'channel', '-channel', 'created_at', '-tracking_id']) {
      expect(codes(await list(`order=${order}&limit=100`)).sort()).toEqual(['WG-PUB-A', 'WG-PUB-B']);
    }
    // The spec's enum is lower-case; the SDK sends DISCOUNT. No loyalty card is ever published here.
    expect(codes(await list('voucher_type=discount&limit=100'))).toHaveLength(2);
    expect(codes(await list('voucher_type=DISCOUNT&limit=100'))).toHaveLength(2);
    expect(await list('voucher_type=loyalty')).toEqual([]);
    expect(await list('is_referral_code=true')).toEqual([]);
    const amy = (await list('order=voucher_code&limit=100')).find((p) => p.voucher.code === 'WG-PUB-A');
    const byCustomer = await list(`filters[customer_id][conditions][$is]=${amy?.customer_id}`);
    expect(codes(byCustomer)).toEqual(['WG-PUB-A']);
    expect(codes(await list('filters[result][conditions][$is]=SUCCESS&limit=100'))).toHaveLength(2);
    expect(await list('filters[failure_code][conditions][$has_value]=true')).toEqual([]);
    const either = await list(
      `filters[junction]=OR&filters[customer_id][conditions][$is]=${amy?.customer_id}&filters[related_object_id][conditions][$is]=nothing`,
    );
    expect(codes(either)).toEqual(['WG-PUB-A']);
    // A field the spec does not name is refused by name, never ignored.
    expect((await api('GET', '/v1/publications?filters[colour][conditions][$is]=red')).status).toBe(400);
    const gift = await api('GET', '/v1/publications?voucher_type=gift');
    expect(gift.status).toBe(400);
    expect((await json(gift)).details).toMatch(/discount or loyalty/);
  });

  it('GET /v1/vouchers takes category (readOnly-openAPI.json:L34439), filters (L34485) and the SDK orders by type, campaign and category', async () => {
    await voucher('WG-LIST-1', { discount: { type: 'AMOUNT', amount_off: 100 } });
    await voucher('WG-LIST-2', { discount: { type: 'AMOUNT', amount_off: 100 } });
    const list = async (qs: string) => {
      const res = await api('GET', `/v1/vouchers?${qs}`);
      expect(res.status, await res.clone().text()).toBe(200);
      return ((await json(res)).vouchers as { code: string }[]).map((v) => v.code);
    };
    // No voucher here has a category: the filter matches none (it is not ignored).
    expect(await list('category=shoes')).toEqual([]);
    expect(await list('filters[code][conditions][$starts_with]=WG-LIST-&order=code')).toEqual(['WG-LIST-1', 'WG-LIST-2']);
    expect(await list('filters[code][conditions][$in][0]=WG-LIST-2&filters[code][conditions][$in][1]=nope')).toEqual(['WG-LIST-2']);
    expect(await list('filters[type][conditions][$is]=GIFT_VOUCHER')).toEqual([]);
    expect(await list('filters[junction]=or&filters[code][conditions][$is]=WG-LIST-1&filters[id][conditions][$is]=x')).toEqual([
      'WG-LIST-1',
    ]);
    for (const order of ['type', '-type', 'campaign', '-campaign', 'category', '-category']) {
      expect((await list(`order=${order}&limit=100`)).filter((c) => c.startsWith('WG-LIST-')).sort()).toEqual(['WG-LIST-1', 'WG-LIST-2']);
    }
    const bad = await api('GET', '/v1/vouchers?filters[colour][conditions][$is]=red');
    expect(bad.status).toBe(400);
    expect((await json(bad)).details).toMatch(/colour/);
  });

  it('GET /v1/campaigns takes campaign_status (readOnly-openAPI.json:L38857), is_referral_code (L38865) and order by updated_at (L38873)', async () => {
    const created = await api('POST', '/v1/campaigns', {
      name: 'wg-status',
      campaign_type: 'DISCOUNT_COUPONS',
      type: 'AUTO_UPDATE',
      voucher: { type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 100 } },
    });
    expect(created.status, await created.clone().text()).toBe(200);
    const names = async (qs: string) => {
      const res = await api('GET', `/v1/campaigns?${qs}`);
      expect(res.status, await res.clone().text()).toBe(200);
      return ((await json(res)).campaigns as { name: string }[]).map((c) => c.name);
    };
    expect(await names('campaign_status=DONE&limit=100')).toContain('wg-status');
    expect(await names('campaign_status=DRAFT')).toEqual([]);
    expect(await names('is_referral_code=true')).toEqual([]);
    expect(await names('is_referral_code=false&limit=100')).toContain('wg-status');
    expect(await names('order=-updated_at&limit=100')).toContain('wg-status');
    expect((await api('GET', '/v1/campaigns?campaign_status=SLEEPING')).status).toBe(400);
  });
});

describe('rate-limit headers', () => {
  // LIM L118-L124: X-Rate-Limit-Limit, -Remaining, -Retry on each answer; the official SDK's
  // apiLimitsHandler reads x-rate-limit-limit and x-rate-limit-remaining (voucherifysdk.esm.js
  // ApiLimitsHandler), and a missing header reads as 0.
  it('every /v1 answer names a limit with room left, errors included', async () => {
    for (const res of [await api('GET', '/v1/customers'), await api('GET', '/v1/customers/nobody-wg'), await call('/v1/customers')]) {
      expect(Number(res.headers.get('X-Rate-Limit-Limit'))).toBeGreaterThan(0);
      expect(Number(res.headers.get('X-Rate-Limit-Remaining'))).toBe(Number(res.headers.get('X-Rate-Limit-Limit')));
      expect(Number(res.headers.get('X-Rate-Limit-Retry'))).toBeGreaterThan(1_700_000_000);
      await res.arrayBuffer();
    }
  });
});

describe('tracking_id of redemptions', () => {
  // OA Redemption.tracking_id: "Hashed customer source ID" (readOnly-openAPI.json:L24546): a
  // request naming the customer by source_id alone gets the id that source id hashes to, the same
  // the browser SDK's identity of that customer resolves to; a rollback keeps it.
  it('names the tracking id of the customer on single and stacked redemptions and their rollbacks', async () => {
    const expected = (await resolveTrackingId(TEST_ENV.TRACKING_SECRET, 'wg-track@example.com')).id;
    await voucher('WG-TRACK-1', { discount: { type: 'AMOUNT', amount_off: 100 } });
    await voucher('WG-TRACK-2', { discount: { type: 'AMOUNT', amount_off: 100 } });
    const one = await json(
      await api('POST', '/v1/vouchers/WG-TRACK-1/redemption', { customer: { source_id: 'wg-track@example.com' }, order: { amount: 1000 } }),
    );
    expect(one.tracking_id).toBe(expected);
    const rollback = await json(await api('POST', `/v1/redemptions/${one.id}/rollback`, {}));
    expect(rollback).toMatchObject({ object: 'redemption_rollback', tracking_id: expected });

    const stack = await json(
      await api('POST', '/v1/redemptions', {
        redeemables: [{ object: 'voucher', id: 'WG-TRACK-2' }],
        customer: { source_id: 'wg-track@example.com' },
        order: { amount: 1000 },
      }),
    );
    expect(stack.parent_redemption.tracking_id).toBe(expected);
    expect(stack.redemptions.map((r: { tracking_id: string }) => r.tracking_id)).toEqual([expected]);
    // A tracking id the request names wins.
    await voucher('WG-TRACK-3', { discount: { type: 'AMOUNT', amount_off: 100 } });
    const named = await json(
      await api('POST', '/v1/vouchers/WG-TRACK-3/redemption', {
        customer: { source_id: 'wg-track@example.com' },
        tracking_id: 'track_AAAAAAAAAAAAAAAAAAAAAB',
      }),
    );
    expect(named.tracking_id).toBe('track_AAAAAAAAAAAAAAAAAAAAAB');
  });
});

describe('smaller payload gaps', () => {
  // OA24 EventsCreateResponseBody (OpenAPI24.json:L42146) requires metadata.
  it('an event answer carries its metadata, from either key', async () => {
    const res = await api('POST', '/v1/events', { event: 'wg_viewed', customer: { source_id: 'wg-events' }, metadata: { page: 3 } });
    expect(await json(res)).toMatchObject({ object: 'event', type: 'wg_viewed', metadata: { page: 3 } });
    const client = await call('/client/v1/events', {
      method: 'POST',
      headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json' },
      body: JSON.stringify({ event: 'wg_viewed', customer: { source_id: 'track_AAAAAAAAAAAAAAAAAAAAAC' }, metadata: { page: 4 } }),
    });
    expect(client.status).toBe(200);
    expect(await json(client)).toMatchObject({ object: 'event', metadata: { page: 4 } });
  });
});
