import { VoucherifyServerSide } from '@voucherify/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setVoucherHolder } from '../../worker/src/db/vouchers';
import { type LocalWorker, startLocalWorker } from './support/local-worker';
import { serverSdk, loose } from './support/server-sdk';

let worker: LocalWorker;
let server: ReturnType<typeof VoucherifyServerSide>;

beforeAll(async () => {
  worker = await startLocalWorker();
  server = serverSdk(worker);
});
afterAll(() => worker?.stop());

/** A voucher with one validation rule, made and assigned through the SDK (SDK ValidationRules.d.ts:2, :38). */
async function voucherWithRule(code: string, rules: Record<string, unknown>) {
  await server.vouchers.create(loose({ code, type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 100 } }));
  const rule = await server.validationRules.create({ name: `limits ${code}`, rules });
  expect(rule).toMatchObject({ object: 'validation_rules', rules });
  await server.validationRules.createAssignment(rule.id, { voucher: code });
}

describe('@voucherify/sdk: per-customer and holder-only limits', () => {
  it('redeems once per customer with redemption.count.per_customer (OA24 rule names, OpenAPI24.json:L29769)', async () => {
    await voucherWithRule('SDK-ONCE', {
      '1': { name: 'redemption.count.per_customer', conditions: { $less_than_or_equal: [1] }, error: { message: 'Once per customer' } },
      logic: '1',
    });
    const params = loose({ customer: { source_id: 'sdk-once' }, order: { amount: 2000 } });
    expect(await server.validations.validateVoucher('SDK-ONCE', params)).toMatchObject({ valid: true });
    expect(await server.redemptions.redeem('SDK-ONCE', params)).toMatchObject({ result: 'SUCCESS', voucher: { code: 'SDK-ONCE' } });
    // errors.mdx:L101 redemption_rules_violated; OA24 "Validation Rule Not Satisfied" (OpenAPI24.json:L93983).
    expect(await server.validations.validateVoucher('SDK-ONCE', params)).toMatchObject({
      valid: false,
      reason: 'redemption does not match validation rules',
      error: { key: 'redemption_rules_violated', message: 'Once per customer' },
    });
    await expect(server.redemptions.redeem('SDK-ONCE', params)).rejects.toMatchObject({ code: 400, key: 'redemption_rules_violated' });
    // Five at once for a fresh customer: exactly one goes through.
    const fresh = loose({ customer: { source_id: 'sdk-once-2' }, order: { amount: 2000 } });
    const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => server.redemptions.redeem('SDK-ONCE', fresh)));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason.key)).toEqual(
      Array(4).fill('redemption_rules_violated'),
    );
  });

  it('lets only the holder redeem with publication.redeemable_by_linked_customer', async () => {
    await voucherWithRule('SDK-HELD', {
      '1': { name: 'publication.redeemable_by_linked_customer', conditions: { $is: [true] } },
      logic: '1',
    });
    const holder = (await server.customers.create({ source_id: 'sdk-holder' })) as { id: string };
    await server.customers.create({ source_id: 'sdk-other' });
    // What a publication will do (no voucher route sets holder_id: OA24 VouchersUpdateRequestBody).
    await setVoucherHolder(worker.db, 'SDK-HELD', holder.id, Date.now()).run();
    // OA24 Voucher.holder_id (OpenAPI24.json:L4511); SDK Vouchers.d.ts:78.
    expect((await server.vouchers.get('SDK-HELD')).holder_id).toBe(holder.id);

    const as = (source_id: string) => loose({ customer: { source_id }, order: { amount: 2000 } });
    // OA24 "Wrong customer" (OpenAPI24.json:L93968-L93973): customer does not match validation rules.
    expect(await server.validations.validateVoucher('SDK-HELD', as('sdk-other'))).toMatchObject({
      valid: false,
      reason: 'customer does not match validation rules',
      error: { key: 'customer_rules_violated' },
    });
    await expect(server.redemptions.redeem('SDK-HELD', as('sdk-other'))).rejects.toMatchObject({
      code: 400,
      key: 'customer_rules_violated',
    });
    expect(await server.validations.validateVoucher('SDK-HELD', as('sdk-holder'))).toMatchObject({ valid: true });
    expect(await server.redemptions.redeem('SDK-HELD', as('sdk-holder'))).toMatchObject({
      result: 'SUCCESS',
      customer: { source_id: 'sdk-holder' },
    });
  });
});
