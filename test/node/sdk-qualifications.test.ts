import { VoucherifyClientSide, VoucherifyServerSide } from '@voucherify/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signClaim } from '../../shared/identity';
import { TEST_ENV } from '../test-env';
import { type LocalWorker, startLocalWorker } from './support/local-worker';
import { serverSdk } from './support/server-sdk';

/**
 * Qualifications through the official SDK, unchanged: qualifications.checkEligibility(body)
 * (node_modules/@voucherify/sdk/dist/Qualifications.d.ts:9, POST /v1/qualifications) and the client
 * side's qualifications(body) (dist/ClientSide.d.ts:52, POST /client/v1/qualifications), answering
 * QualificationsCheckEligibilityResponseBody (dist/types/Qualifications.d.ts:25; voucherify-openapi
 * documentation/openapi/qualifications.json:L397, redeemables L670, each redeemable L1544).
 */
let worker: LocalWorker;
let sdk: ReturnType<typeof VoucherifyServerSide>;
const ORIGIN = 'https://shop.example';

const client = (signature?: string) =>
  VoucherifyClientSide({
    clientApplicationId: TEST_ENV.CLIENT_APP_ID,
    clientSecretKey: TEST_ENV.CLIENT_TOKEN,
    apiUrl: worker.url,
    origin: ORIGIN,
    ...(signature ? { customHeaders: { 'X-Vouchsafe-Identity-Signature': signature } } : {}),
  });

beforeAll(async () => {
  worker = await startLocalWorker();
  sdk = serverSdk(worker);
  await sdk.customers.create({ source_id: 'sdkq-gold', metadata: { tier: 'gold' } });
  await sdk.customers.create({ source_id: 'sdkq-plain' });
  const segment = await sdk.segments.create({
    name: 'sdkq gold',
    type: 'auto-update',
    filter: { 'metadata.tier': { conditions: { $is: ['gold'] } } },
  } as never);
  // `public` is Vouchsafe's mark of a code offered to anyone (migration 0031): the SDK passes it through.
  await sdk.vouchers.create({
    code: 'SDKQ-ALL',
    type: 'DISCOUNT_VOUCHER',
    discount: { type: 'AMOUNT', amount_off: 300 },
    public: true,
  } as never);
  await sdk.vouchers.create({
    code: 'SDKQ-GOLD',
    type: 'DISCOUNT_VOUCHER',
    discount: { type: 'PERCENT', percent_off: 20 },
    public: true,
  } as never);
  await sdk.vouchers.create({ code: 'SDKQ-HIDDEN', type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 100 } } as never);
  await sdk.vouchers.create({ code: 'SDKQ-MINE', type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 50 } } as never);
  await sdk.distributions.publications.create({ voucher: 'SDKQ-MINE', customer: { source_id: 'sdkq-gold' } } as never);
  const rule = await sdk.validationRules.create({
    name: 'sdkq gold',
    rules: { '1': { name: 'customer.segment', conditions: { $is: [segment.id] }, rules: {} }, logic: '1' },
  } as never);
  await sdk.validationRules.createAssignment(
    rule.id as string,
    { related_object_type: 'voucher', related_object_id: 'SDKQ-GOLD' } as never,
  );
});
afterAll(() => worker?.stop());

const codes = (answer: { redeemables: { data: { id: string }[] } }) => answer.redeemables.data.map((r) => r.id).sort();

describe('@voucherify/sdk qualifications against Vouchsafe', () => {
  it('checkEligibility lists what validate accepts for the customer and cart, priced', async () => {
    const gold = await sdk.qualifications.checkEligibility({ customer: { source_id: 'sdkq-gold' }, order: { amount: 10_000 } });
    expect(codes(gold)).toEqual(['SDKQ-ALL', 'SDKQ-GOLD', 'SDKQ-MINE']);
    expect(gold.redeemables).toMatchObject({ object: 'list', data_ref: 'data', total: 3, has_more: false });
    const goldCode = gold.redeemables.data.find((r) => r.id === 'SDKQ-GOLD');
    expect(goldCode).toMatchObject({
      object: 'voucher',
      result: { discount: { type: 'PERCENT', percent_off: 20 } },
      order: { amount: 10_000, total_discount_amount: 2000, total_amount: 8000 },
      applicable_to: { object: 'list', total: 0 },
      categories: [],
    });
    const plain = await sdk.qualifications.checkEligibility({ customer: { source_id: 'sdkq-plain' }, order: { amount: 10_000 } });
    expect(codes(plain)).toEqual(['SDKQ-ALL']);
    // The same verdicts as validate, code by code, over the plain customer's candidates (the public
    // codes: another customer's code is no offer to them, whatever validate says of it).
    for (const code of ['SDKQ-ALL', 'SDKQ-GOLD']) {
      const v = await sdk.validations.validateVoucher(code, { customer: { source_id: 'sdkq-plain' }, order: { amount: 10_000 } } as never);
      expect(v.valid, code).toBe(code === 'SDKQ-ALL');
    }
  });

  it('scenarios, options and refusals', async () => {
    const wallet = await sdk.qualifications.checkEligibility({ customer: { source_id: 'sdkq-gold' }, scenario: 'CUSTOMER_WALLET' });
    expect(codes(wallet)).toEqual(['SDKQ-MINE']);
    const best = await sdk.qualifications.checkEligibility({
      customer: { source_id: 'sdkq-gold' },
      order: { amount: 10_000 },
      options: { limit: 1, sorting_rule: 'BEST_DEAL' },
    });
    expect(best.redeemables).toMatchObject({ total: 1, has_more: true, data: [{ id: 'SDKQ-GOLD' }] });
    await expect(sdk.qualifications.checkEligibility({ scenario: 'PRODUCTS' })).rejects.toMatchObject({ code: 400 });
  });

  it('client.qualifications: public offers to anyone, the wallet to the verified customer only', async () => {
    const body = { customer: { source_id: 'sdkq-gold' }, order: { amount: 10_000 } };
    // Unsigned: the claim is nobody's, so only what anyone qualifies for.
    expect(codes(await client().qualifications(body))).toEqual(['SDKQ-ALL']);
    const signature = await signClaim(TEST_ENV.IDENTITY_SECRET, 'source_id', 'sdkq-gold');
    const verified = await client(signature).qualifications(body);
    expect(codes(verified)).toEqual(['SDKQ-ALL', 'SDKQ-GOLD', 'SDKQ-MINE']);
    expect(verified.order).toMatchObject({ amount: 10_000, customer_id: null });
  });
});
