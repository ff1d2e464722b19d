import type { VoucherifyServerSide } from '@voucherify/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalWorker, startLocalWorker } from './support/local-worker';
import { loose, serverSdk } from './support/server-sdk';

// A rollback of a redemption rolled back already, through the official @voucherify/sdk against the
// worker on a loopback port. Spec: OA24 = reference/OpenAPI.json blob ae6b585 of
// voucherifyio/voucherify-openapi: the 400 example "Already rolledback" (OA24:L65064-L65073, resource_id
// rrf_…, resource_type redemption_rollback) and the failed rollback object
// 7_obj_redemption_rollback_object_voucher_fail (OA24:L20674). SDK =
// node_modules/@voucherify/sdk/dist (VoucherifyError keeps resource_id and resource_type, voucherifysdk.esm.js:28).

let worker: LocalWorker;
let server: ReturnType<typeof VoucherifyServerSide>;

beforeAll(async () => {
  worker = await startLocalWorker();
  server = serverSdk(worker);
});
afterAll(() => worker?.stop());

describe('@voucherify/sdk redemptions.rollback of a redemption rolled back already', () => {
  it('rejects with already_rolled_back naming the stored failure, which redemptions.get and redemptions.list return', async () => {
    await server.vouchers.create(loose({ code: 'SDK-RBF', type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 100 } }));
    const redemption = await server.redemptions.redeem('SDK-RBF', loose({ customer: { source_id: 'sdk-rbf' }, order: { amount: 1000 } }));
    const rolledBack = await server.redemptions.rollback(redemption.id, { reason: 'refund' });
    expect(rolledBack).toMatchObject({ result: 'SUCCESS', redemption: redemption.id });

    const error = await server.redemptions.rollback(redemption.id, { reason: 'again' }).then(
      () => {
        throw new Error('expected the second rollback to fail');
      },
      (e: unknown) => e as Record<string, unknown>,
    );
    expect(error).toMatchObject({
      code: 400,
      key: 'already_rolled_back',
      message: 'Already rolled back',
      resource_type: 'redemption_rollback',
      resource_id: expect.stringMatching(/^rrf_/),
    });

    const failure = (await server.redemptions.get(error.resource_id as string)) as unknown as Record<string, unknown>;
    expect(failure).toMatchObject({
      id: error.resource_id,
      object: 'redemption_rollback',
      redemption: redemption.id,
      reason: 'again',
      result: 'FAILURE',
      status: 'FAILED',
      failure_code: 'already_rolled_back',
      failure_message: 'Already rolled back',
      order: null,
      voucher: { code: 'SDK-RBF' },
    });
    // The original is untouched by the refusal.
    expect(await server.redemptions.get(redemption.id)).toMatchObject({ status: 'ROLLED_BACK', result: 'SUCCESS' });

    const failures = await server.redemptions.list(loose({ customer: 'sdk-rbf', result: 'FAILURE' }));
    expect(failures.redemptions.map((r) => r.id)).toEqual([error.resource_id]);
    const customer = await server.customers.get('sdk-rbf');
    expect(customer.summary?.redemptions).toMatchObject({ total_rolled_back: 1, total_rollback_succeeded: 1, total_rollback_failed: 1 });
  });
});
