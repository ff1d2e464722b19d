import { VoucherifyServerSide } from '@voucherify/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalWorker, startLocalWorker } from './support/local-worker';
import { serverSdk } from './support/server-sdk';

// Validation as the official @voucherify/sdk 2.9.0 sees it, asserted against the spec:
// - OA  = voucherifyio/voucherify-openapi production/readOnly-openAPI.json @65c33a7
// - OA24 = the same repository's reference/OpenAPI.json (blob ae6b585), the last with /validate
// - SDK = node_modules/@voucherify/sdk/dist/types

let worker: LocalWorker;
let server: ReturnType<typeof VoucherifyServerSide>;

beforeAll(async () => {
  worker = await startLocalWorker();
  server = serverSdk(worker);
  await server.vouchers.create({ code: 'SV-AMOUNT', type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 500 } } as never);
  await server.vouchers.create({ code: 'SV-PERCENT', type: 'DISCOUNT_VOUCHER', discount: { type: 'PERCENT', percent_off: 10 } } as never);
  await server.vouchers.create({
    code: 'SV-OFF',
    type: 'DISCOUNT_VOUCHER',
    discount: { type: 'AMOUNT', amount_off: 100 },
    active: false,
  } as never);
});
afterAll(async () => {
  await worker?.stop();
});

describe('validations.validateStackable through the official SDK', () => {
  it('valid: every redeemable APPLICABLE, in the order sent, with the whole stacking_rules', async () => {
    const res: any = await server.validations.validateStackable({
      redeemables: [
        { object: 'voucher', id: 'SV-AMOUNT' },
        { object: 'voucher', id: 'SV-PERCENT' },
      ],
      order: { amount: 10000 },
    });
    // OA:L30305 ValidationsValidateResponseBody: id, valid, redeemables, skipped_redeemables,
    // inapplicable_redeemables, order, tracking_id, stacking_rules.
    expect(res.id).toMatch(/^valid_/);
    expect(res.valid).toBe(true);
    expect(res.redeemables.map((r: any) => [r.id, r.status, r.object])).toEqual([
      ['SV-AMOUNT', 'APPLICABLE', 'voucher'],
      ['SV-PERCENT', 'APPLICABLE', 'voucher'],
    ]);
    expect(res.skipped_redeemables).toEqual([]);
    expect(res.inapplicable_redeemables).toEqual([]);
    expect(res.order).toMatchObject({ amount: 10000, total_discount_amount: 1500, total_amount: 8500, object: 'order' });
    // SDK Validations.d.ts:94 ValidationsStackingRules: both keys are required.
    expect(res.stacking_rules).toMatchObject({
      redeemables_limit: 30,
      redeemables_application_mode: 'ALL',
      redeemables_sorting_rule: 'REQUESTED_ORDER',
    });
    expect(res.tracking_id).toMatch(/^track_/);
  });

  it('invalid: the bad code INAPPLICABLE, the good one SKIPPED, and no discount anywhere', async () => {
    const res: any = await server.validations.validateStackable({
      redeemables: [
        { object: 'voucher', id: 'SV-AMOUNT' },
        { object: 'voucher', id: 'SV-OFF' },
      ],
      order: { amount: 10000 },
    });
    expect(res.valid).toBe(false);
    // OA example "False" (OA:L33194): redeemables holds the INAPPLICABLE and SKIPPED results.
    expect(res.redeemables.map((r: any) => [r.id, r.status])).toEqual([
      ['SV-AMOUNT', 'SKIPPED'],
      ['SV-OFF', 'INAPPLICABLE'],
    ]);
    // OA ValidationsRedeemableSkippedResultPrecedingValidationFailed.
    expect(res.skipped_redeemables[0].result.details).toEqual({
      key: 'preceding_validation_failed',
      message: 'Redeemable cannot be applied due to preceding validation failure',
    });
    // OA ValidationsRedeemableInapplicable: result.error is the Error object, result.details {message, key}.
    expect(res.inapplicable_redeemables[0].result).toMatchObject({
      error: {
        code: 400,
        key: 'voucher_disabled',
        message: 'voucher is disabled',
        details: 'SV-OFF',
        request_id: expect.stringMatching(/^v-/),
      },
      details: { key: 'voucher_disabled', message: 'voucher is disabled' },
    });
    // stacking-rules.mdx l.40-41 (ALL): "No incentives are applied."
    expect(res.order).toMatchObject({ amount: 10000, total_discount_amount: 0, total_amount: 10000 });
  });

  it('validations.validateVoucher: a refusal carries the details the spec requires', async () => {
    const res: any = await server.validations.validateVoucher('SV-OFF', { order: { amount: 1000 } } as never);
    // OA24:L3789 VouchersValidateInvalidResponseBody; example OA24:L64325-L64328.
    expect(res).toMatchObject({
      valid: false,
      code: 'SV-OFF',
      reason: 'voucher is disabled',
      error: { code: 400, key: 'voucher_disabled', message: 'voucher is disabled', details: 'SV-OFF' },
    });
  });
});
