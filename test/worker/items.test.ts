import { describe, expect, it } from 'vitest';
import { CLIENT_HEADERS, api, call, json } from './helpers';

// Product-scoped discounts. Citations (Voucherify's published OpenAPI): OA = readOnly-openAPI.json,
// OA24 = OpenAPI24.json.

const voucher = async (code: string, discount: Record<string, unknown>) => {
  const res = await api('POST', `/v1/vouchers/${encodeURIComponent(code)}`, { discount });
  expect(res.status, await res.clone().text()).toBe(200);
  return json(res);
};
const rule = async (code: string, body: Record<string, unknown>) => {
  const res = await api('POST', '/v1/validation-rules', { name: `rule of ${code}`, rules: body.rules ?? {}, ...body });
  expect(res.status, await res.clone().text()).toBe(200);
  const r = await json(res);
  expect((await api('POST', `/v1/validation-rules/${r.id}/assignments`, { voucher: code })).status).toBe(200);
  return r;
};
/** A rule set needs one rule: this one always holds. */
const ANY_ORDER = { '1': { name: 'order.amount', conditions: { $more_than_or_equal: [0] } }, logic: '1' };
const scoped = (code: string, applicable_to: Record<string, unknown>, rules: Record<string, unknown> = ANY_ORDER) =>
  rule(code, { rules, applicable_to });
const validate = async (code: string, body: unknown) => {
  const res = await api('POST', `/v1/vouchers/${encodeURIComponent(code)}/validate`, body);
  expect(res.status).toBe(200);
  return json(res);
};
const product = (id: string) => ({ object: 'product', id });

const SHOES = { product_id: 'shoes', quantity: 2, price: 5000 };
const SOCKS = { product_id: 'socks', quantity: 1, price: 1000 };

describe('item effects (OA DiscountAmount/DiscountPercentVouchersEffectTypes, readOnly-openAPI.json:L6064, L6206)', () => {
  it('reproduces the APPLY_TO_ITEMS example of OA24 POST /v1/validations "True - 5 Redeemables" (OpenAPI24.json:L47166-L47266)', async () => {
    await voucher('EX-ITEMS', { type: 'AMOUNT', amount_off: 1000, effect: 'APPLY_TO_ITEMS' });
    await scoped('EX-ITEMS', {
      included: [
        {
          object: 'sku',
          id: 'sku_0a3efc90375d1217e2',
          source_id: 'test_standard_ultra_hd',
          product_id: 'prod_s3C0nDpr0DuC7',
          product_source_id: 'test_prod_id_2',
          strict: true,
          effect: 'APPLY_TO_EVERY',
        },
        { object: 'product', id: 'prod_0bc3bd8a4e072c5275', source_id: 'prod_0bc3bd8a4e072c5275', strict: true, effect: 'APPLY_TO_EVERY' },
      ],
    });
    const items = [
      { product_id: 'prod_s3C0nDpr0DuC7', sku_id: 'sku_0a3efc90375d1217e2', quantity: 1, price: 2000 },
      { product_id: 'prod_0bc3bd8a4e072c5275', quantity: 1, price: 700 },
    ];
    const res = await api('POST', '/v1/validations', { redeemables: [{ object: 'voucher', id: 'EX-ITEMS' }], order: { items } });
    const body = await json(res);
    expect(body.valid).toBe(true);
    // The example's order and items, field for field (OpenAPI24.json:L47174-L47218).
    expect(body.redeemables[0].order).toMatchObject({
      amount: 2700,
      items_discount_amount: 1700,
      total_discount_amount: 1700,
      total_amount: 1000,
      items_applied_discount_amount: 1700,
      total_applied_discount_amount: 1700,
      items: [
        {
          object: 'order_item',
          product_id: 'prod_s3C0nDpr0DuC7',
          sku_id: 'sku_0a3efc90375d1217e2',
          quantity: 1,
          amount: 2000,
          discount_amount: 1000,
          applied_discount_amount: 1000,
          price: 2000,
          subtotal_amount: 1000,
        },
        {
          object: 'order_item',
          product_id: 'prod_0bc3bd8a4e072c5275',
          quantity: 1,
          amount: 700,
          discount_amount: 700,
          applied_discount_amount: 700,
          price: 700,
          subtotal_amount: 0,
        },
      ],
      object: 'order',
    });
    // applicable_to lists the rule's entries (OpenAPI24.json:L47218-L47248; OA ApplicableToResultList L1170).
    expect(body.redeemables[0].applicable_to).toEqual({
      object: 'list',
      data_ref: 'data',
      total: 2,
      data: [
        {
          object: 'sku',
          id: 'sku_0a3efc90375d1217e2',
          source_id: 'test_standard_ultra_hd',
          product_id: 'prod_s3C0nDpr0DuC7',
          product_source_id: 'test_prod_id_2',
          strict: true,
          effect: 'APPLY_TO_EVERY',
          order_item_indices: [0],
        },
        {
          object: 'product',
          id: 'prod_0bc3bd8a4e072c5275',
          source_id: 'prod_0bc3bd8a4e072c5275',
          strict: true,
          effect: 'APPLY_TO_EVERY',
          order_item_indices: [1],
        },
      ],
    });
    expect(body.redeemables[0].result.discount).toMatchObject({ type: 'AMOUNT', effect: 'APPLY_TO_ITEMS', amount_off: 1000 });
    expect(body.order).toMatchObject({ amount: 2700, items_discount_amount: 1700, total_amount: 1000 });
  });

  it('discounts only the included items, and fills applicable_to / inapplicable_to (until now always empty)', async () => {
    await voucher('SHOES15', { type: 'PERCENT', percent_off: 15, effect: 'APPLY_TO_ITEMS' });
    await scoped('SHOES15', { included: [product('shoes')], excluded: [{ object: 'sku', id: 'shoes-gift-box' }] });
    const v = await validate('SHOES15', {
      order: { items: [SHOES, SOCKS, { product_id: 'shoes', sku_id: 'shoes-gift-box', quantity: 1, price: 500 }] },
    });
    expect(v).toMatchObject({ valid: true, discount: { type: 'PERCENT', percent_off: 15, effect: 'APPLY_TO_ITEMS' } });
    expect(v.order).toMatchObject({
      amount: 11500,
      discount_amount: 0,
      items_discount_amount: 1500,
      total_discount_amount: 1500,
      total_amount: 10000,
    });
    expect(v.order.items.map((i: { discount_amount: number; subtotal_amount: number }) => [i.discount_amount, i.subtotal_amount])).toEqual([
      [1500, 8500],
      [0, 1000],
      [0, 500],
    ]);
    expect(v.applicable_to).toMatchObject({
      object: 'list',
      data_ref: 'data',
      total: 1,
      data: [{ object: 'product', id: 'shoes', strict: false, effect: 'APPLY_TO_EVERY', order_item_indices: [0, 2] }],
    });
    expect(v.inapplicable_to).toMatchObject({ total: 1, data: [{ object: 'sku', id: 'shoes-gift-box', order_item_indices: [2] }] });
  });

  it.each([
    // "split discount proportionally to amount" (OA24 OpenAPI24.json:L6061)
    ['APPLY_TO_ITEMS_PROPORTIONALLY', { amount_off: 1000 }, [750, 250]],
    // "... proportionally to quantity": 3 units and 1 unit
    ['APPLY_TO_ITEMS_PROPORTIONALLY_BY_QUANTITY', { amount_off: 1000 }, [750, 250]],
    // "each unit of matched products has the same discount value"
    ['APPLY_TO_ITEMS_BY_QUANTITY', { amount_off: 200 }, [600, 200]],
    // "each item subtotal is discounted equally"
    ['APPLY_TO_ITEMS', { amount_off: 200 }, [200, 200]],
    // aggregated_amount_limit: "Maximum discount amount per order" (OA24 L6050), shared in proportion
    ['APPLY_TO_ITEMS_BY_QUANTITY', { amount_off: 200, aggregated_amount_limit: 400 }, [300, 100]],
  ])('AMOUNT %s %j', async (effect, fields, expected) => {
    const code = `AMT-${effect}-${Object.keys(fields).length}`;
    await voucher(code, { type: 'AMOUNT', effect, ...fields });
    const v = await validate(code, {
      order: {
        items: [
          { product_id: 'a', quantity: 3, price: 1000 },
          { product_id: 'b', quantity: 1, price: 1000 },
        ],
      },
    });
    expect(v.order.items.map((i: { discount_amount: number }) => i.discount_amount)).toEqual(expected);
    const total = (expected as number[]).reduce((a, b) => a + b, 0);
    expect(v.order).toMatchObject({ amount: 4000, items_discount_amount: total, total_amount: 4000 - total });
  });

  it('caps each line by a PERCENT amount_limit and the items together by aggregated_amount_limit', async () => {
    // amount_limit: "Upper limit allowed to be applied as a discount per order line item" (OA24 L6079).
    await voucher('PCT-LIMITS', {
      type: 'PERCENT',
      percent_off: 50,
      amount_limit: 3000,
      aggregated_amount_limit: 3500,
      effect: 'APPLY_TO_ITEMS',
    });
    const v = await validate('PCT-LIMITS', {
      order: {
        items: [
          { product_id: 'a', amount: 10000 },
          { product_id: 'b', amount: 2000 },
        ],
      },
    });
    // 50 %: 5000 and 1000; per line at most 3000: 3000 and 1000; together at most 3500.
    expect(v.order.items_discount_amount).toBe(3500);
    expect(v.order.items.map((i: { discount_amount: number }) => i.discount_amount)).toEqual([2625, 875]);
  });

  it('FIXED APPLY_TO_ITEMS sets a new unit price where it is lower (OA24 L6128)', async () => {
    await voucher('FIX-ITEMS', { type: 'FIXED', fixed_amount: 1500, effect: 'APPLY_TO_ITEMS' });
    const v = await validate('FIX-ITEMS', {
      order: {
        items: [
          { product_id: 'a', quantity: 2, price: 2000 },
          { product_id: 'b', quantity: 1, price: 1000 },
        ],
      },
    });
    expect(v.order.items.map((i: { discount_amount: number }) => i.discount_amount)).toEqual([1000, 0]);
  });

  it('computes an order-level discount with a scope on the scoped items only', async () => {
    await voucher('ORDER-SHOES', { type: 'PERCENT', percent_off: 10 });
    await scoped('ORDER-SHOES', { included: [product('shoes')] });
    const v = await validate('ORDER-SHOES', { order: { items: [SHOES, SOCKS] } });
    expect(v.order).toMatchObject({ amount: 11000, discount_amount: 1000, items_discount_amount: 0, total_amount: 10000 });
  });

  it('refuses an item-level discount without items: missing_order_items (errors.mdx:87)', async () => {
    await voucher('NEEDS-ITEMS', { type: 'AMOUNT', amount_off: 100, effect: 'APPLY_TO_ITEMS' });
    const v = await validate('NEEDS-ITEMS', { order: { amount: 5000 } });
    expect(v).toMatchObject({ valid: false, reason: 'order items were not specified', error: { code: 400, key: 'missing_order_items' } });
  });

  it('answers valid with no discount when no item is in scope (no effect; STACKING_RULES REDEEM_ANYWAY)', async () => {
    await voucher('SHOES-ONLY', { type: 'PERCENT', percent_off: 15, effect: 'APPLY_TO_ITEMS' });
    await scoped('SHOES-ONLY', { included: [product('shoes')] });
    const v = await validate('SHOES-ONLY', { order: { items: [SOCKS] } });
    expect(v).toMatchObject({ valid: true, order: { amount: 1000, total_discount_amount: 0, total_amount: 1000 } });
  });
});

describe('UNIT discounts (OA DiscountUnit readOnly-openAPI.json:L6214, DiscountUnitMultiple L6269)', () => {
  const MUG = { product_id: 'mug', quantity: 1, price: 800 };

  it('makes unit_off units of unit_type free; ADD_MISSING_ITEMS adds the missing ones to the order', async () => {
    await voucher('FREE-MUG', { type: 'UNIT', unit_off: 2, unit_type: 'mug' });
    expect((await json(await api('GET', '/v1/vouchers/FREE-MUG'))).discount).toEqual({
      type: 'UNIT',
      unit_off: 2,
      unit_type: 'mug',
      effect: 'ADD_MISSING_ITEMS',
    });
    const v = await validate('FREE-MUG', { order: { items: [SOCKS, MUG] } });
    // OA OrderCalculated.initial_amount: "before any discount or other effect (e.g. add missing units)".
    expect(v.order).toMatchObject({ initial_amount: 1800, amount: 2600, items_discount_amount: 1600, total_amount: 1000 });
    expect(v.order.items[1]).toMatchObject({
      product_id: 'mug',
      quantity: 2,
      initial_quantity: 1,
      applied_quantity: 1,
      applied_quantity_amount: 800,
      amount: 1600,
      initial_amount: 800,
      discount_quantity: 2,
      discount_amount: 1600,
      subtotal_amount: 0,
    });
  });

  it('ADD_NEW_ITEMS adds unit_off units on top of those ordered; ADD_MANY_ITEMS grants several', async () => {
    await voucher('NEW-MUG', { type: 'UNIT', unit_off: 1, unit_type: 'mug', effect: 'ADD_NEW_ITEMS' });
    const v = await validate('NEW-MUG', { order: { items: [{ ...MUG, quantity: 2 }] } });
    expect(v.order).toMatchObject({ amount: 2400, items_discount_amount: 800, total_amount: 1600 });
    expect(v.order.items[0]).toMatchObject({ quantity: 3, initial_quantity: 2, discount_quantity: 1 });

    await voucher('MANY', {
      type: 'UNIT',
      effect: 'ADD_MANY_ITEMS',
      units: [
        { unit_off: 1, unit_type: 'mug', effect: 'ADD_MISSING_ITEMS' },
        { unit_off: 1, unit_type: 'socks' },
      ],
    });
    const many = await validate('MANY', { order: { items: [MUG, SOCKS, SHOES] } });
    expect(many.order).toMatchObject({ amount: 11800, items_discount_amount: 1800, total_amount: 10000 });
  });

  it('has no effect when the unit is not in the order (there is no catalogue to price it)', async () => {
    await voucher('NO-MUG', { type: 'UNIT', unit_off: 1, unit_type: 'mug' });
    const v = await validate('NO-MUG', { order: { items: [SOCKS] } });
    expect(v).toMatchObject({ valid: true, order: { amount: 1000, total_discount_amount: 0 } });
  });
});

describe('order.items.any / every / none (OA24 rule names, OpenAPI24.json:L29769; condition shape L81336-L81350)', () => {
  const itemsRule = (name: string, ids: string[]) => ({
    '1': { name, conditions: { $is: ids.map((id) => ({ object: 'product', id, effect: 'APPLY_TO_EVERY' })) }, rules: {} },
    logic: '1',
  });

  it.each([
    ['order.items.any', ['shoes', 'boots'], [SOCKS, SHOES], [SOCKS]],
    ['order.items.every', ['shoes', 'socks'], [SOCKS, SHOES], [SHOES]],
    ['order.items.none', ['gift-card'], [SOCKS], [SOCKS, { product_id: 'gift-card', quantity: 1, price: 5000 }]],
  ])('%s', async (name, ids, passing, failing) => {
    const code = `RULE-${name}`;
    await voucher(code, { type: 'AMOUNT', amount_off: 100 });
    await rule(code, { rules: itemsRule(name, ids) });
    expect((await validate(code, { order: { items: passing } })).valid).toBe(true);
    expect(await validate(code, { order: { items: failing } })).toMatchObject({
      valid: false,
      reason: 'order does not match validation rules',
      error: { key: 'order_rules_violated' },
    });
  });

  it.each([
    [
      'a products collection',
      { '1': { name: 'order.items.any', conditions: { $is: [{ object: 'products_collection', id: 'pc_1' }] } } },
      'rules.1.conditions.$is.0',
    ],
    ['no list', { '1': { name: 'order.items.any', conditions: { $is: [] } } }, 'rules.1.conditions.$is'],
    [
      'an unknown operator',
      { '1': { name: 'order.items.none', conditions: { $contains: [product('x')] } } },
      'rules.1.conditions.$contains',
    ],
    [
      'nested item rules',
      {
        '1': {
          name: 'order.items.every',
          conditions: { $is: [product('x')] },
          rules: { '1': { name: 'order.items.metadata', property: 'a', conditions: { $is: [1] } } },
        },
      },
      'rules.1.rules: not supported',
    ],
  ])('refuses %s with 400 naming the path', async (_, rules, path) => {
    const res = await api('POST', '/v1/validation-rules', { name: 'bad', rules });
    expect(res.status).toBe(400);
    expect((await json(res)).details).toContain(path);
  });
});

describe('validation rules carry applicable_to (OA ValidationRuleBase.applicable_to, readOnly-openAPI.json:L29530)', () => {
  it('stores it normalised, answers it, takes it back, and a change applies at the next validate', async () => {
    await voucher('MOVING', { type: 'AMOUNT', amount_off: 300, effect: 'APPLY_TO_ITEMS' });
    const r = await scoped('MOVING', { included: [product('shoes')] });
    // OA24 ApplicableTo requires object, id, strict, effect (OpenAPI24.json:L40046).
    expect(r.applicable_to).toEqual({
      included: [{ object: 'product', id: 'shoes', strict: false, effect: 'APPLY_TO_EVERY' }],
      excluded: [],
      included_all: false,
    });
    const got = await json(await api('GET', `/v1/validation-rules/${r.id}`));
    expect(got.applicable_to).toEqual(r.applicable_to);
    const first = await validate('MOVING', { order: { items: [SHOES, SOCKS] } });
    expect(first.order.items.map((i: { discount_amount: number }) => i.discount_amount)).toEqual([300, 0]);

    const moved = await api('PUT', `/v1/validation-rules/${r.id}`, { ...got, applicable_to: { included: [product('socks')] } });
    expect(moved.status, await moved.clone().text()).toBe(200);
    const second = await validate('MOVING', { order: { items: [SHOES, SOCKS] } });
    expect(second.order.items.map((i: { discount_amount: number }) => i.discount_amount)).toEqual([0, 300]);

    // applicable_to: null clears it: the discount works on every item again.
    expect((await api('PUT', `/v1/validation-rules/${r.id}`, { applicable_to: null })).status).toBe(200);
    const third = await validate('MOVING', { order: { items: [SHOES, SOCKS] } });
    expect(third.order.items.map((i: { discount_amount: number }) => i.discount_amount)).toEqual([300, 300]);
    expect(third.applicable_to.total).toBe(0);
  });
});

describe('voucher discounts are checked on write: 400 naming the field, never a 500', () => {
  it.each([
    [
      'aggregated_amount_limit with APPLY_TO_ORDER',
      { type: 'AMOUNT', amount_off: 1, aggregated_amount_limit: 5 },
      'discount.aggregated_amount_limit: only with effect',
    ],
    ['an AMOUNT effect PERCENT lacks', { type: 'PERCENT', percent_off: 5, effect: 'APPLY_TO_ITEMS_PROPORTIONALLY' }, 'discount.effect'],
    ['ADD_MANY_ITEMS without units', { type: 'UNIT', effect: 'ADD_MANY_ITEMS' }, 'discount.units: required'],
    [
      'units without ADD_MANY_ITEMS',
      { type: 'UNIT', unit_off: 1, unit_type: 'x', units: [{ unit_off: 1, unit_type: 'y' }] },
      'discount.units: only with effect ADD_MANY_ITEMS',
    ],
    ['ADD_SAME_ITEMS', { type: 'UNIT', unit_off: 1, unit_type: 'x', effect: 'ADD_SAME_ITEMS' }, 'discount.effect'],
    ['a fractional unit_off', { type: 'UNIT', unit_off: 1.5, unit_type: 'x' }, 'discount.unit_off'],
    ['a unit formula', { type: 'UNIT', unit_off: 1, unit_type: 'x', unit_off_formula: 'x' }, 'discount.unit_off_formula: not supported'],
  ])('refuses %s', async (_, discount, details) => {
    const res = await api('POST', '/v1/vouchers', { discount });
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.key).toBe('invalid_payload');
    expect(body.details).toContain(details);
  });
});

describe('redeem, stacked and client-side', () => {
  it("redeems an item-scoped voucher: the redemption keeps each item's discount", async () => {
    await voucher('SHOES-RDM', { type: 'PERCENT', percent_off: 15, effect: 'APPLY_TO_ITEMS' });
    await scoped('SHOES-RDM', { included: [product('shoes')] });
    const res = await api('POST', '/v1/vouchers/SHOES-RDM/redemption', {
      customer: { source_id: 'items-1' },
      order: { items: [SHOES, SOCKS] },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const r = await json(res);
    expect(r).toMatchObject({
      result: 'SUCCESS',
      order: { amount: 11000, items_discount_amount: 1500, total_amount: 9500, status: 'PAID' },
    });
    expect(r.order.items.map((i: { applied_discount_amount: number }) => i.applied_discount_amount)).toEqual([1500, 0]);
    const stored = await json(await api('GET', `/v1/redemptions/${r.id}`));
    expect(stored.order).toMatchObject({
      items_discount_amount: 1500,
      total_amount: 9500,
      items: [{ discount_amount: 1500 }, { discount_amount: 0 }],
    });
  });

  it('stacks an item discount and an order discount (POST /v1/validations and /v1/redemptions)', async () => {
    await voucher('STACK-SHOES', { type: 'PERCENT', percent_off: 15, effect: 'APPLY_TO_ITEMS' });
    await scoped('STACK-SHOES', { included: [product('shoes')] });
    await voucher('STACK-5', { type: 'AMOUNT', amount_off: 500 });
    const body = {
      redeemables: [
        { object: 'voucher', id: 'STACK-SHOES' },
        { object: 'voucher', id: 'STACK-5' },
      ],
      order: { items: [SHOES, SOCKS] },
    };
    const v = await json(await api('POST', '/v1/validations', body));
    expect(v.order).toMatchObject({
      amount: 11000,
      discount_amount: 500,
      items_discount_amount: 1500,
      total_discount_amount: 2000,
      total_amount: 9000,
    });
    expect(v.redeemables[0].order).toMatchObject({ items_discount_amount: 1500, discount_amount: 0, total_amount: 9500 });
    const res = await api('POST', '/v1/redemptions', { ...body, customer: { source_id: 'items-2' } });
    expect(res.status, await res.clone().text()).toBe(200);
    const r = await json(res);
    expect(r.order).toMatchObject({ discount_amount: 500, items_discount_amount: 1500, total_amount: 9000 });
    expect(r.redemptions.map((c: { order: { total_discount_amount: number } }) => c.order.total_discount_amount)).toEqual([1500, 500]);
  });

  it('validates items from the client query format of the official SDK (item[i][...])', async () => {
    await voucher('CLIENT-SHOES', { type: 'PERCENT', percent_off: 15, effect: 'APPLY_TO_ITEMS' });
    await scoped('CLIENT-SHOES', { included: [product('shoes')] });
    const q =
      'code=CLIENT-SHOES&item[0][product_id]=shoes&item[0][quantity]=2&item[0][price]=5000&item[1][product_id]=socks&item[1][quantity]=1&item[1][price]=1000';
    const res = await call(`/client/v1/validate?${q}`, { headers: CLIENT_HEADERS });
    expect(res.status).toBe(200);
    const v = await json(res);
    expect(v).toMatchObject({
      valid: true,
      order: { amount: 11000, items_discount_amount: 1500, total_amount: 9500 },
      applicable_to: { total: 1 },
    });
  });
});

describe('the demo storefront (scripts/demo-data.js TEES15)', () => {
  it('seeds as the start script does, and discounts only the tee of a demo cart', async () => {
    // @ts-expect-error scripts/ is plain JavaScript (allowJs is off); the data is checked by the requests below.
    const { demoVouchers } = await import('../../scripts/demo-data.js');
    const { itemRule, ...tees } =
      (demoVouchers as { code: string; itemRule?: Record<string, unknown> }[]).find((v) => v.code === 'TEES15') ?? {};
    expect((await api('POST', '/v1/vouchers', tees)).status).toBe(200);
    const r = await json(await api('POST', '/v1/validation-rules', itemRule));
    expect((await api('POST', `/v1/validation-rules/${r.id}/assignments`, { voucher: 'TEES15' })).status).toBe(200);
    // The demo's cart lines (client/demo/app.js cartItems): sku_id, quantity, price.
    const cart = [
      { sku_id: 'sku_mug', quantity: 1, price: 1800 },
      { sku_id: 'sku_tee', quantity: 2, price: 2900 },
    ];
    const v = await validate('TEES15', { order: { items: cart } });
    expect(v.order).toMatchObject({ amount: 7600, items_discount_amount: 870, total_discount_amount: 870, total_amount: 6730 });
    expect(await validate('TEES15', { order: { items: cart.slice(0, 1) } })).toMatchObject({
      valid: false,
      error: { message: 'TEES15 is for tees: add an organic tee to your cart.' },
    });
  });
});
