import { VoucherifyClientSide, VoucherifyServerSide } from '@voucherify/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ENV } from '../test-env';
import { type LocalWorker, startLocalWorker } from './support/local-worker';

const ORIGIN = 'https://shop.example';
let worker: LocalWorker;
let server: ReturnType<typeof VoucherifyServerSide>;

beforeAll(async () => {
  // Voucherify's trust-the-browser behaviour (IDENTITY_VERIFICATION=off): the official SDK's raw
  // trackingId and a named customer count unsigned. sdk-client-identity.test.ts covers `required`.
  worker = await startLocalWorker({ IDENTITY_VERIFICATION: 'off' });
  server = VoucherifyServerSide({ applicationId: TEST_ENV.APP_ID, secretKey: TEST_ENV.APP_TOKEN, apiUrl: worker.url });
});
afterAll(() => worker?.stop());

// The SDK types discount types as an enum; the wire takes the plain strings.
const voucher = (body: object) => body as never;

const client = (trackingId?: string) =>
  VoucherifyClientSide({
    clientApplicationId: TEST_ENV.CLIENT_APP_ID,
    clientSecretKey: TEST_ENV.CLIENT_TOKEN,
    apiUrl: worker.url,
    origin: ORIGIN,
    ...(trackingId ? { trackingId } : {}),
  });

describe('@voucherify/sdk vouchers, validate and redeem against Vouchsafe', () => {
  it('manages vouchers and validation rules', async () => {
    const v = await server.vouchers.create(voucher({ code: 'SDK-10', type: 'DISCOUNT_VOUCHER', discount: { type: 'PERCENT', percent_off: 10 }, redemption: { quantity: 2 } }));
    expect(v).toMatchObject({ code: 'SDK-10', object: 'voucher' });
    expect((await server.vouchers.get('SDK-10')).discount).toMatchObject({ percent_off: 10 });
    expect((await server.vouchers.disable('SDK-10')).active).toBe(false);
    expect((await server.vouchers.enable('SDK-10')).active).toBe(true);
    const rule = await server.validationRules.create({
      name: 'orders over 20',
      rules: { '1': { name: 'order.amount', conditions: { $more_than: [2000] }, rules: {} }, logic: '1' },
    } as never);
    await server.validationRules.createAssignment(rule.id as string, { related_object_type: 'voucher', related_object_id: 'SDK-10' } as never);
    const refused = await server.validations.validateVoucher('SDK-10', { order: { amount: 1000 } });
    expect(refused).toMatchObject({ valid: false, reason: 'order does not match validation rules' });
  });

  it('validates from the client SDK with its exact query format and tracking id', async () => {
    await server.vouchers.create(voucher({ code: 'CLIENT 5', type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 500 } }));
    await server.customers.create({ source_id: 'sdk-client-1', metadata: { age: 30 } });
    const sdk = client('alice@example.com');
    const v = await sdk.validate({
      code: ' CLIENT 5\n',
      amount: 5000,
      items: [{ sku_id: 'sku_1', quantity: 2 }],
      metadata: { shop: 1 },
      orderMetadata: { currency: 'EUR' },
      customer: { source_id: 'sdk-client-1', metadata: { age: 30 } },
    });
    expect(v).toMatchObject({ valid: true, code: 'CLIENT 5', order: { amount: 5000, discount_amount: 500, total_amount: 4500, metadata: { currency: 'EUR' } } });
    // The raw identity of setIdentity becomes a stable track_ id, the same on every call.
    expect(v.tracking_id).toMatch(/^track_[A-Za-z0-9_-]{22}$/);
    expect((await client('alice@example.com').validate({ code: 'CLIENT 5', amount: 100 })).tracking_id).toBe(v.tracking_id);
    // validate('CODE') sends no tracking id: the service mints one.
    const bare = await client().validate('CLIENT 5');
    expect(bare.valid).toBe(true);
    expect(bare.tracking_id).not.toBe(v.tracking_id);
  });

  it('tracks with the client SDK, then the server redeems with the tracking id and merges the history', async () => {
    await server.vouchers.create(voucher({ code: 'MERGE-SDK', type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 100 } }));
    const first = await client().validate({ code: 'MERGE-SDK', amount: 1000 });
    const trackingId = first.tracking_id as string;
    await client(trackingId).track('viewed_product', { source_id: trackingId });
    const r = await server.redemptions.redeem('MERGE-SDK', {
      customer: { source_id: 'merged-sdk@example.com', email: 'merged-sdk@example.com' },
      order: { amount: 1000 },
      tracking_id: trackingId,
    } as never);
    expect(r).toMatchObject({ result: 'SUCCESS', tracking_id: trackingId, customer: { source_id: 'merged-sdk@example.com' } });
    const customer = await server.customers.get('merged-sdk@example.com');
    expect(customer).toMatchObject({ summary: { orders: { total_count: 1, total_amount: 1000 } } });
    const activity = await server.customers.listActivity(r.customer_id as string, {});
    expect((activity.data as { type: string }[]).some((e) => e.type === 'viewed_product')).toBe(true);

    const rollback = await server.redemptions.rollback(r.id, { reason: 'wrong size' });
    expect(rollback).toMatchObject({ object: 'redemption_rollback', result: 'SUCCESS' });
    await expect(server.redemptions.rollback(r.id)).rejects.toMatchObject({ code: 400, key: 'already_rolled_back' });
  });

  it('surfaces a refused redemption as a VoucherifyError', async () => {
    await server.vouchers.create(voucher({ code: 'SDK-ONCE', type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 100 }, redemption: { quantity: 1 } }));
    await server.redemptions.redeem('SDK-ONCE', { customer: { source_id: 'once-a' } } as never);
    const error = await server.redemptions.redeem('SDK-ONCE', { customer: { source_id: 'once-b' } } as never).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 400, key: 'quantity_exceeded', resource_type: 'redemption' });
    expect((error as { resource_id: string }).resource_id).toMatch(/^rf_/);
  });

  it('validates and redeems stackable', async () => {
    await server.vouchers.create(voucher({ code: 'STK-1', type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 100 } }));
    await server.vouchers.create(voucher({ code: 'STK-2', type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 200 } }));
    const redeemables = [{ object: 'voucher', id: 'STK-1' }, { object: 'voucher', id: 'STK-2' }] as never;
    const v = await server.validations.validateStackable({ redeemables, order: { amount: 1000 } } as never);
    expect(v).toMatchObject({ valid: true, order: { discount_amount: 300 } });
    const r = await server.redemptions.redeemStackable({ redeemables, order: { amount: 1000 }, customer: { source_id: 'stk-1' } } as never);
    expect(r.redemptions).toHaveLength(2);
  });
});
