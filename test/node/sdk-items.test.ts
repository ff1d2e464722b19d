import { VoucherifyClientSide, VoucherifyServerSide } from '@voucherify/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ENV } from '../test-env';
import { type LocalWorker, startLocalWorker } from './support/local-worker';
import { serverSdk, loose } from './support/server-sdk';

// The official SDK drives an item-scoped discount through validate and redeem ("the
// per-customer and holder rules and an item-scoped discount through a validate and a redeem").
// Shapes: SDK dist/types/DiscountVoucher.d.ts (DiscountPercent, effect APPLY_TO_ITEMS), Orders.d.ts
// (OrdersItem: discount_amount, applied_discount_amount, subtotal_amount), ApplicableTo.d.ts
// (ApplicableToResultList), Validations.d.ts:56-59 (order.items, items_discount_amount,
// items_applied_discount_amount); OA OrderCalculatedItem readOnly-openAPI.json:L18567.

const ORIGIN = 'https://shop.example';
let worker: LocalWorker;
let server: ReturnType<typeof VoucherifyServerSide>;

beforeAll(async () => {
  worker = await startLocalWorker({ IDENTITY_VERIFICATION: 'off' });
  server = serverSdk(worker);
});
afterAll(() => worker?.stop());

const ITEMS = [
  { product_id: 'shoes', quantity: 2, price: 5000 },
  { product_id: 'socks', quantity: 1, price: 1000 },
];

describe('@voucherify/sdk: an item-scoped discount (SHOES15: 15 % off shoes only)', () => {
  it('creates it, validates (server and client SDK) and redeems it; only the shoes are discounted', async () => {
    await server.vouchers.create(
      loose({ code: 'SDK-SHOES15', type: 'DISCOUNT_VOUCHER', discount: { type: 'PERCENT', percent_off: 15, effect: 'APPLY_TO_ITEMS' } }),
    );
    const rule = await server.validationRules.create(
      loose({
        name: 'shoes only',
        // OA24 rule name order.items.any with the spec's condition shape (OpenAPI24.json:L29769, L81336-L81350).
        rules: {
          '1': { name: 'order.items.any', conditions: { $is: [{ object: 'product', id: 'shoes', effect: 'APPLY_TO_EVERY' }] }, rules: {} },
          logic: '1',
        },
        error: { message: 'Add a pair of shoes to use SHOES15' },
        // OA ValidationRuleBase.applicable_to (readOnly-openAPI.json:L29530).
        applicable_to: { included: [{ object: 'product', id: 'shoes' }], excluded: [], included_all: false },
      }),
    );
    expect(rule).toMatchObject({
      object: 'validation_rules',
      applicable_to: { included: [{ object: 'product', id: 'shoes', strict: false, effect: 'APPLY_TO_EVERY' }] },
    });
    await server.validationRules.createAssignment(rule.id, { voucher: 'SDK-SHOES15' });

    const v = await server.validations.validateVoucher('SDK-SHOES15', loose({ order: { items: ITEMS } }));
    expect(v).toMatchObject({
      valid: true,
      applicable_to: { object: 'list', data_ref: 'data', total: 1, data: [{ object: 'product', id: 'shoes', order_item_indices: [0] }] },
      inapplicable_to: { object: 'list', total: 0 },
      order: {
        amount: 11000,
        discount_amount: 0,
        items_discount_amount: 1500,
        total_discount_amount: 1500,
        total_amount: 9500,
        items_applied_discount_amount: 1500,
      },
    });
    const items = (
      v as unknown as { order: { items: { discount_amount: number; applied_discount_amount: number; subtotal_amount: number }[] } }
    ).order.items;
    expect(items.map((i) => [i.discount_amount, i.applied_discount_amount, i.subtotal_amount])).toEqual([
      [1500, 1500, 8500],
      [0, 0, 1000],
    ]);

    // The client SDK sends the items as item[i][...] in the query (SDK esm.js:2076).
    const client = VoucherifyClientSide({
      clientApplicationId: TEST_ENV.CLIENT_APP_ID,
      clientSecretKey: TEST_ENV.CLIENT_TOKEN,
      apiUrl: worker.url,
      origin: ORIGIN,
    });
    const fromBrowser = await client.validate({
      code: 'SDK-SHOES15',
      items: [
        { product_id: 'shoes', quantity: 2, amount: 10000 },
        { product_id: 'socks', quantity: 1, amount: 1000 },
      ],
    });
    expect(fromBrowser).toMatchObject({ valid: true, order: { amount: 11000, items_discount_amount: 1500, total_amount: 9500 } });
    const socksOnly = await client.validate({ code: 'SDK-SHOES15', items: [{ product_id: 'socks', quantity: 1, amount: 1000 }] });
    expect(socksOnly).toMatchObject({
      valid: false,
      reason: 'order does not match validation rules',
      error: { message: 'Add a pair of shoes to use SHOES15' },
    });

    const r = await server.redemptions.redeem('SDK-SHOES15', loose({ customer: { source_id: 'sdk-items-1' }, order: { items: ITEMS } }));
    expect(r).toMatchObject({ result: 'SUCCESS', order: { amount: 11000, items_discount_amount: 1500, total_amount: 9500 } });
    expect((r.order?.items ?? []).map((i) => i.discount_amount)).toEqual([1500, 0]);
    expect((await server.redemptions.get(r.id)).order).toMatchObject({ items_discount_amount: 1500, total_amount: 9500 });
  });

  it('stacks it with an order discount through validateStackable and redeemStackable', async () => {
    await server.vouchers.create(
      loose({
        code: 'SDK-UNIT-SOCKS',
        type: 'DISCOUNT_VOUCHER',
        discount: { type: 'UNIT', unit_off: 1, unit_type: 'socks', effect: 'ADD_MISSING_ITEMS' },
      }),
    );
    await server.vouchers.create(loose({ code: 'SDK-5OFF', type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 500 } }));
    const body = {
      redeemables: [
        { object: 'voucher', id: 'SDK-UNIT-SOCKS' },
        { object: 'voucher', id: 'SDK-5OFF' },
      ],
      order: { items: ITEMS },
    };
    const v = await server.validations.validateStackable(loose(body));
    expect(v).toMatchObject({
      valid: true,
      order: { amount: 11000, items_discount_amount: 1000, discount_amount: 500, total_amount: 9500 },
    });
    const r = await server.redemptions.redeemStackable(loose({ ...body, customer: { source_id: 'sdk-items-2' } }));
    expect(r.order).toMatchObject({ items_discount_amount: 1000, discount_amount: 500, total_amount: 9500 });
    expect(r.redemptions.map((c) => c.order?.total_discount_amount)).toEqual([1000, 500]);
  });
});
