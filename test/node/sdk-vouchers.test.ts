import { VoucherifyClientSide, VoucherifyServerSide } from '@voucherify/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ENV } from '../test-env';
import { type LocalWorker, startLocalWorker } from './support/local-worker';
import { serverSdk } from './support/server-sdk';

const ORIGIN = 'https://shop.example';
let worker: LocalWorker;
let server: ReturnType<typeof VoucherifyServerSide>;

beforeAll(async () => {
  // Voucherify's trust-the-browser behaviour (IDENTITY_VERIFICATION=off): the official SDK's raw
  // trackingId and a named customer count unsigned. sdk-client-identity.test.ts covers `required`.
  worker = await startLocalWorker({ IDENTITY_VERIFICATION: 'off' });
  server = serverSdk(worker);
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
    const v = await server.vouchers.create(
      voucher({ code: 'SDK-10', type: 'DISCOUNT_VOUCHER', discount: { type: 'PERCENT', percent_off: 10 }, redemption: { quantity: 2 } }),
    );
    expect(v).toMatchObject({ code: 'SDK-10', object: 'voucher' });
    expect((await server.vouchers.get('SDK-10')).discount).toMatchObject({ percent_off: 10 });
    expect((await server.vouchers.disable('SDK-10')).active).toBe(false);
    expect((await server.vouchers.enable('SDK-10')).active).toBe(true);
    const rule = await server.validationRules.create({
      name: 'orders over 20',
      rules: { '1': { name: 'order.amount', conditions: { $more_than: [2000] }, rules: {} }, logic: '1' },
    } as never);
    await server.validationRules.createAssignment(
      rule.id as string,
      { related_object_type: 'voucher', related_object_id: 'SDK-10' } as never,
    );
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
    expect(v).toMatchObject({
      valid: true,
      code: 'CLIENT 5',
      order: { amount: 5000, discount_amount: 500, total_amount: 4500, metadata: { currency: 'EUR' } },
    });
    // The raw identity of setIdentity is an identity claim: the answer names it as sent, never the
    // stable track_ id derived from it, which would be a bearer credential for that customer.
    expect(v.tracking_id).toBe('alice@example.com');
    expect((await client('alice@example.com').validate({ code: 'CLIENT 5', amount: 100 })).tracking_id).toBe('alice@example.com');
    // validate('CODE') sends no tracking id: the service mints one.
    const bare = await client().validate('CLIENT 5');
    expect(bare.valid).toBe(true);
    expect(bare.tracking_id).toMatch(/^track_[A-Za-z0-9_-]{22}$/);
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
    // OA CustomerActivity (OA:L4638) / EventCustomerCustomEvent (OA:L7429): the event name is in data.data.event.type.
    type Entry = { type: string; data: { data: { event?: { type: string } } } };
    // The browser's event goes through the queue: written before or after the redemption, it ends
    // on the customer (an event sent before the link is merged either way).
    await expect
      .poll(
        async () =>
          ((await server.customers.listActivity(r.customer_id as string, {})).data as Entry[]).some(
            (e) => e.type === 'customer.custom_event' && e.data.data.event?.type === 'viewed_product',
          ),
        { timeout: 10_000 },
      )
      .toBe(true);
    const activity = await server.customers.listActivity(r.customer_id as string, {});
    expect((activity.data as Entry[]).some((e) => e.type === 'customer.redemption.succeeded')).toBe(true);

    const rollback = await server.redemptions.rollback(r.id, { reason: 'wrong size' });
    expect(rollback).toMatchObject({ object: 'redemption_rollback', result: 'SUCCESS' });
    await expect(server.redemptions.rollback(r.id)).rejects.toMatchObject({ code: 400, key: 'already_rolled_back' });
  });

  it('surfaces a refused redemption as a VoucherifyError', async () => {
    await server.vouchers.create(
      voucher({ code: 'SDK-ONCE', type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 100 }, redemption: { quantity: 1 } }),
    );
    await server.redemptions.redeem('SDK-ONCE', { customer: { source_id: 'once-a' } } as never);
    const error = await server.redemptions.redeem('SDK-ONCE', { customer: { source_id: 'once-b' } } as never).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 400, key: 'quantity_exceeded', resource_type: 'redemption' });
    expect((error as { resource_id: string }).resource_id).toMatch(/^rf_/);
  });

  it('validates and redeems stackable', async () => {
    await server.vouchers.create(voucher({ code: 'STK-1', type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 100 } }));
    await server.vouchers.create(voucher({ code: 'STK-2', type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 200 } }));
    const redeemables = [
      { object: 'voucher', id: 'STK-1' },
      { object: 'voucher', id: 'STK-2' },
    ] as never;
    const v = await server.validations.validateStackable({ redeemables, order: { amount: 1000 } } as never);
    expect(v).toMatchObject({ valid: true, order: { discount_amount: 300 } });
    const r = await server.redemptions.redeemStackable({ redeemables, order: { amount: 1000 }, customer: { source_id: 'stk-1' } } as never);
    expect(r.redemptions).toHaveLength(2);
  });
});

// The SDK's voucher and validation-rule calls (SDK dist/voucherifysdk.esm.js: Vouchers.list L536,
// ValidationRules L1588-L1668), asserting the shapes the SDK types and the spec give.
describe('@voucherify/sdk voucher listing, restrictions and validation-rule management', () => {
  it('vouchers.list: the OA envelope with paging and created_at filters, qs-encoded by the SDK', async () => {
    const since = new Date(Date.now() - 1).toISOString();
    for (const code of ['LIST-1', 'LIST-2', 'LIST-3']) {
      await server.vouchers.create(voucher({ code, type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 10 } }));
    }
    // SDK Vouchers.d.ts:152 VouchersListParams; :172 VouchersListResponse {object, total, data_ref:'vouchers', vouchers}.
    const page = await server.vouchers.list({ limit: 2, page: 1, order: 'code', created_at: { after: since } });
    expect(page).toMatchObject({ object: 'list', data_ref: 'vouchers', total: 3 });
    expect(page.vouchers.map((v) => v.code)).toEqual(['LIST-1', 'LIST-2']);
    const next = await server.vouchers.list({ limit: 2, page: 2, order: 'code', created_at: { after: since } });
    expect(next.vouchers.map((v) => v.code)).toEqual(['LIST-3']);
    // SDK Vouchers.d.ts:76: is_referral_code is typed as always present; OA example L35147 has publish and assets.
    expect(page.vouchers[0]).toMatchObject({
      is_referral_code: false,
      publish: { object: 'list', count: 0 },
      validation_rules_assignments: { total: 0 },
    });
    // No voucher here has a category: a category filter matches none (OA GET /v1/vouchers `category`).
    expect(await server.vouchers.list({ category: 'Summer' })).toMatchObject({ object: 'list', total: 0, vouchers: [] });
    // A filter that cannot be applied is refused, not ignored.
    await expect(server.vouchers.list({ filters: { colour: { conditions: { $is: 'red' } } } })).rejects.toMatchObject({
      code: 400,
      key: 'invalid_query_params',
    });
    // Campaigns exist: an unknown campaign's vouchers are none (test/node/sdk-campaigns.test.ts lists a real one).
    expect(await server.vouchers.list({ campaign: 'Summer' })).toMatchObject({ object: 'list', data_ref: 'vouchers', total: 0 });
  });

  it('vouchers.create keeps validity_day_of_week and refuses the voucher on other days, at validate and redeem', async () => {
    const today = new Date().getUTCDay();
    const otherDays = [0, 1, 2, 3, 4, 5, 6].filter((d) => d !== today && d !== (today + 1) % 7);
    const v = await server.vouchers.create(
      voucher({ code: 'SDK-DOW', type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 10 }, validity_day_of_week: otherDays }),
    );
    // SDK Vouchers.d.ts:45 validity_day_of_week?: number[].
    expect(v.validity_day_of_week).toEqual(otherDays);
    const validation = await server.validations.validateVoucher('SDK-DOW', { order: { amount: 1000 } });
    // errors.mdx voucher_not_active_now; OA24 L64354 "Voucher Inactive".
    expect(validation).toMatchObject({ valid: false, error: { key: 'voucher_not_active_now' } });
    await expect(
      server.redemptions.redeem('SDK-DOW', { customer: { source_id: 'sdk-dow' }, order: { amount: 1000 } } as never),
    ).rejects.toMatchObject({
      code: 400,
      key: 'voucher_not_active_now',
    });
  });

  it('vouchers.create refuses a field the spec defines but Vouchsafe does not implement', async () => {
    const error = await server.vouchers
      .create(
        voucher({ code: 'SDK-CFG', type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 10 }, code_config: { prefix: 'X-' } }),
      )
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 400, key: 'invalid_payload', details: expect.stringContaining('code_config') });
    await expect(server.vouchers.get('SDK-CFG')).rejects.toMatchObject({ code: 404 });
  });

  it('vouchers.update takes back the voucher the SDK read (read-only fields echoed)', async () => {
    const v = await server.vouchers.create(
      voucher({ code: 'SDK-ECHO', type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 10 } }),
    );
    const updated = await server.vouchers.update({ ...(v as never as object), code: 'SDK-ECHO', additional_info: 'echoed' } as never);
    expect(updated).toMatchObject({ code: 'SDK-ECHO', additional_info: 'echoed' });
  });

  it('validationRules: createAssignment(id, {voucher}), list, update, listAssignments, deleteAssignment', async () => {
    await server.vouchers.create(voucher({ code: 'SDK-RULED', type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 10 } }));
    const rule = await server.validationRules.create({
      name: 'sdk over 5',
      rules: { '1': { name: 'order.amount', conditions: { $more_than: [500] } }, logic: '1' },
    });
    // SDK ValidationRules.d.ts:38 ValidationRulesCreateAssignment {voucher?}; :43 the response requires updated_at.
    const assignment = await server.validationRules.createAssignment(rule.id, { voucher: 'SDK-RULED' });
    expect(assignment).toMatchObject({ rule_id: rule.id, related_object_type: 'voucher', object: 'validation_rules_assignment' });
    expect(assignment.updated_at).toEqual(expect.any(String));
    expect((await server.validations.validateVoucher('SDK-RULED', { order: { amount: 1000 } })).valid).toBe(true);

    // SDK ValidationRules.d.ts:56 ValidationRulesListResponse {object:'list', total, data_ref:'data', data}.
    const rules = await server.validationRules.list({ limit: 100 });
    expect(rules).toMatchObject({ object: 'list', data_ref: 'data' });
    expect(rules.data.map((r) => r.id)).toContain(rule.id);

    // SDK ValidationRules.d.ts:34 update({id, ...}): PUT without the id in the body.
    const updated = await server.validationRules.update({
      id: rule.id,
      rules: { '1': { name: 'order.amount', conditions: { $more_than: [5000] } }, logic: '1' },
    });
    expect(updated).toMatchObject({ id: rule.id, name: 'sdk over 5', object: 'validation_rules' });
    expect((await server.validations.validateVoucher('SDK-RULED', { order: { amount: 1000 } })).valid).toBe(false);

    // SDK ValidationRules.d.ts:66 ValidationRulesListAssignmentsResponse.
    const assignments = await server.validationRules.listAssignments(rule.id, { limit: 10 });
    expect(assignments).toMatchObject({ object: 'list', data_ref: 'data', total: 1, data: [{ id: assignment.id }] });
    const everywhere = await server.validationRules.listRulesAssignments({ rule: rule.id });
    expect(everywhere).toMatchObject({ total: 1, data: [{ id: assignment.id, rule_id: rule.id }] });

    await server.validationRules.deleteAssignment(rule.id, assignment.id);
    expect((await server.validationRules.listAssignments(rule.id)).total).toBe(0);
    expect((await server.validations.validateVoucher('SDK-RULED', { order: { amount: 1000 } })).valid).toBe(true);
  });
});
