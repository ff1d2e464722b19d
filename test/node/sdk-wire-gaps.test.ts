import { VoucherifyServerSide } from '@voucherify/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalWorker, startLocalWorker } from './support/local-worker';
import { loose, serverSdk } from './support/server-sdk';

// The official SDK, unchanged, on the wire gaps it meets: scope-only rules, free units the order
// does not hold, list parameters, its apiLimitsHandler and a redemption's tracking id. Citations:
// OA = voucherify-openapi production/readOnly-openAPI.json, OA24 = reference/OpenAPI.json blob
// ae6b585 (OpenAPI24.json), SDK = node_modules/@voucherify/sdk/dist.

let worker: LocalWorker;
let server: ReturnType<typeof VoucherifyServerSide>;

beforeAll(async () => {
  worker = await startLocalWorker();
  server = serverSdk(worker);
});
afterAll(() => worker?.stop());

describe('@voucherify/sdk on the wire gaps', () => {
  it('apiLimitsHandler reads a limit with room left (SDK ApiLimitsHandler.d.ts; limits.mdx "Response headers")', async () => {
    await server.customers.list({ limit: 1 });
    expect(server.apiLimitsHandler.areLimitsAvailable()).toBe(true);
    expect(server.apiLimitsHandler.getRateLimit()).toBeGreaterThan(0);
    expect(server.apiLimitsHandler.getRateLimitRemaining()).toBe(server.apiLimitsHandler.getRateLimit());
    expect(server.apiLimitsHandler.getRetryAfter()).toBe(0);
  });

  it('creates a rule with rules {logic: ""} and only applicable_to, and it scopes the discount (OA GET /v1/validation-rules example, readOnly-openAPI.json:L61415)', async () => {
    // SDK ValidationRules.d.ts:7: `rules?: {logic?, …}`.
    const rule = await server.validationRules.create(
      loose({
        name: 'sdk scope only',
        type: 'basic',
        rules: { logic: '' },
        applicable_to: { included: [{ object: 'product', id: 'prod_mug' }], excluded: [], included_all: false },
      }),
    );
    expect(rule).toMatchObject({ object: 'validation_rules', rules: { logic: '' } });
    await server.vouchers.create(
      loose({ code: 'SDK-MUGS', type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 300, effect: 'APPLY_TO_ITEMS' } }),
    );
    await server.validationRules.createAssignment(rule.id, { voucher: 'SDK-MUGS' });
    const v = (await server.validations.validateVoucher(
      'SDK-MUGS',
      loose({
        order: {
          items: [
            { product_id: 'prod_mug', quantity: 1, price: 1000 },
            { product_id: 'prod_tea', quantity: 1, price: 1000 },
          ],
        },
      }),
    )) as unknown as { valid: boolean; order: { items: { discount_amount: number }[]; total_amount: number } };
    expect(v.valid).toBe(true);
    expect(v.order.items.map((i) => i.discount_amount)).toEqual([300, 0]);
    expect(v.order.total_amount).toBe(1700);
  });

  it('validateVoucher of a free-shipping UNIT code returns the added line (OA24 validate "Free Shipping", OpenAPI24.json:L58304)', async () => {
    await server.vouchers.create(
      loose({
        code: 'SDK-FREESHIP',
        type: 'DISCOUNT_VOUCHER',
        discount: {
          type: 'UNIT',
          unit_off: 1,
          unit_type: 'prod_ship',
          effect: 'ADD_MISSING_ITEMS',
          product: { id: 'prod_ship', name: 'Shipping' },
        },
      }),
    );
    const v = (await server.validations.validateVoucher(
      'SDK-FREESHIP',
      loose({ order: { amount: 4300, items: [{ product_id: 'prod_coffee', quantity: 1, price: 4300 }] } }),
    )) as unknown as { valid: boolean; order: { amount: number; items: Record<string, unknown>[] } };
    expect(v.valid).toBe(true);
    expect(v.order.amount).toBe(4300);
    expect(v.order.items[1]).toMatchObject({
      product_id: 'prod_ship',
      quantity: 1,
      discount_quantity: 1,
      initial_quantity: 0,
      product: { id: 'prod_ship', name: 'Shipping' },
    });
  });

  it('lists publications and vouchers with the parameters the SDK types (SDK Distributions.d.ts, Vouchers.d.ts:152)', async () => {
    await server.vouchers.create(loose({ code: 'SDK-PUB-LIST', type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 100 } }));
    await server.distributions.publications.create(loose({ voucher: 'SDK-PUB-LIST', customer: { source_id: 'sdk-pub-list' } }));
    const pubs = (await server.distributions.publications.list(
      loose({ order: '-voucher_code', voucher_type: 'DISCOUNT', customer: 'sdk-pub-list' }),
    )) as unknown as { publications: { voucher: { code: string } }[] };
    expect(pubs.publications.map((p) => p.voucher.code)).toEqual(['SDK-PUB-LIST']);
    expect((await server.vouchers.list({ category: 'summer' })).vouchers).toEqual([]);
    const byCampaign = await server.vouchers.list({ order: '-campaign', limit: 100 });
    expect(byCampaign.vouchers.map((v) => v.code)).toContain('SDK-PUB-LIST');
  });

  it('a redemption names the tracking id its customer hashes to (OA Redemption.tracking_id, readOnly-openAPI.json:L24546)', async () => {
    await server.vouchers.create(loose({ code: 'SDK-TRACKED', type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 100 } }));
    const r = await server.redemptions.redeem('SDK-TRACKED', loose({ customer: { source_id: 'sdk-tracked' }, order: { amount: 1000 } }));
    expect(r.tracking_id).toMatch(/^track_[A-Za-z0-9_-]{22}$/);
    const again = await server.redemptions.get(r.id);
    expect(again.tracking_id).toBe(r.tracking_id);
  });
});
