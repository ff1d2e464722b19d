import { signClaim } from '../../shared/identity';
import { VoucherifyClientSide, VoucherifyServerSide } from '@voucherify/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ENV } from '../test-env';
import { type LocalWorker, startLocalWorker } from './support/local-worker';
import { serverSdk, loose } from './support/server-sdk';

// Checkout through the official @voucherify/sdk, unchanged, against the worker on a loopback port.
// Shapes are the spec's (Voucherify's published OpenAPI): OA = readOnly-openAPI.json, OA24 = OpenAPI24.json,
// SDK = node_modules/@voucherify/sdk/dist/types/Redemptions.d.ts and dist/voucherifysdk.esm.js.

const ORIGIN = 'https://shop.example';
let worker: LocalWorker;
let server: ReturnType<typeof VoucherifyServerSide>;

beforeAll(async () => {
  worker = await startLocalWorker();
  server = serverSdk(worker);
});
afterAll(() => worker?.stop());

const createVoucher = (code: string, extra: object = {}) =>
  server.vouchers.create(loose({ code, type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 100 }, ...extra }));
const redeemables = (...codes: string[]) => loose(codes.map((id) => ({ object: 'voucher', id })));

describe('@voucherify/sdk redemptions', () => {
  it('redeemStackable with one code resolves to {redemptions, parent_redemption, order} (SDK Redemptions.d.ts:172; OA:L25493)', async () => {
    await createVoucher('SR-1');
    const res = await server.redemptions.redeemStackable({
      redeemables: redeemables('SR-1'),
      customer: { source_id: 'sr-1' },
      order: { amount: 1000 },
    } as never);
    expect(res.redemptions).toHaveLength(1);
    expect(res.redemptions[0]).toMatchObject({ object: 'redemption', result: 'SUCCESS', redemption: res.parent_redemption.id });
    expect(res.parent_redemption).toMatchObject({
      object: 'redemption',
      related_object_type: 'redemption',
      related_object_id: res.parent_redemption.id,
    });
    expect(res.order).toMatchObject({ amount: 1000, total_amount: 900 });
    expect(res.inapplicable_redeemables).toEqual([]);
    expect(res.skipped_redeemables).toEqual([]);
  });

  it('redeemStackable with two codes; get(parentId) is a Redemption; rollbackStackable undoes the stack', async () => {
    await createVoucher('SR-2A');
    await createVoucher('SR-2B', { redemption: { quantity: 1 } });
    const res = await server.redemptions.redeemStackable({
      redeemables: redeemables('SR-2A', 'SR-2B'),
      customer: { source_id: 'sr-2' },
      order: { amount: 1000 },
    } as never);
    const parentId = res.parent_redemption.id;
    const childIds = res.redemptions.map((r) => r.id);
    // Children: redemption = parent id (SDK Redemptions.d.ts:158); the parent: related to itself,
    // voucher null, order.redemptions[parent].stacked = the children (OA "Stacked Redemption" OA:L44395; SDK :166).
    expect(res.redemptions.map((r) => r.redemption)).toEqual([parentId, parentId]);
    expect(res.parent_redemption.order?.redemptions?.[parentId]).toMatchObject({
      related_object_type: 'redemption',
      related_object_id: parentId,
      stacked: childIds,
    });

    const parent = await server.redemptions.get(parentId);
    expect(parent).toMatchObject({
      id: parentId,
      object: 'redemption',
      result: 'SUCCESS',
      related_object_type: 'redemption',
      related_object_id: parentId,
      voucher: null,
    });
    expect(parent).not.toHaveProperty('parent_redemption');

    // A child alone cannot be rolled back (OA24 "Invalid Redemption Parent" OA24:L65078).
    await expect(server.redemptions.rollback(childIds[0] as string, loose('no'))).rejects.toMatchObject({
      code: 400,
      key: 'invalid_redemption_parent',
    });

    // SDK rollbackStackable posts /redemptions/{parentId}/rollbacks (esm.js:735); OA RedemptionsRollbacksCreateResponseBody.
    const rolled = await server.redemptions.rollbackStackable(parentId, undefined as never, loose({ reason: 'refund' }));
    expect(rolled.parent_rollback).toMatchObject({ redemption: parentId, result: 'SUCCESS' });
    expect(rolled.parent_rollback.id).toMatch(/^rr_/);
    expect(rolled.rollbacks.map((r) => r.redemption)).toEqual(childIds);
    expect(rolled.order).toMatchObject({ status: 'CANCELED' });
    expect((await server.vouchers.get('SR-2B')).redemption?.redeemed_quantity).toBe(0);
    expect(await server.redemptions.get(childIds[1] as string)).toMatchObject({ status: 'ROLLED_BACK' });
  });

  it('redeem(code) without params redeems for a guest (SDK README.md:525, esm.js:666)', async () => {
    await createVoucher('SR-GUEST');
    const r = await server.redemptions.redeem('SR-GUEST');
    expect(r).toMatchObject({
      object: 'redemption',
      result: 'SUCCESS',
      customer_id: null,
      customer: null,
      related_object_type: 'voucher',
      voucher: { code: 'SR-GUEST' },
    });
    // OA24 RedemptionBase requires channel (OA24:L18044).
    expect(r).toMatchObject({ channel: { channel_id: TEST_ENV.APP_ID, channel_type: 'API' } });
  });

  it('rollback(id, {reason, customer}) echoes the reason (SDK rollback esm.js:706; OA RedemptionRollback OA:L25204)', async () => {
    await createVoucher('SR-RB');
    const r = await server.redemptions.redeem('SR-RB', loose({ customer: { source_id: 'sr-rb' }, order: { amount: 500 } }));
    const rollback = await server.redemptions.rollback(r.id, { reason: 'wrong size', customer: loose({ source_id: 'sr-rb' }) });
    expect(rollback).toMatchObject({ object: 'redemption_rollback', redemption: r.id, reason: 'wrong size', result: 'SUCCESS' });
  });

  it('list honours result, created_at and filters (SDK RedemptionsListParams Redemptions.d.ts:44; OA:L33796)', async () => {
    await createVoucher('SR-L');
    await createVoucher('SR-LOFF', { active: false });
    const ok = await server.redemptions.redeem('SR-L', loose({ customer: { source_id: 'sr-l' } }));
    const failure = (await server.redemptions.redeem('SR-LOFF', loose({ customer: { source_id: 'sr-l' } })).catch((e: unknown) => e)) as {
      resource_id: string;
    };
    const ids = (list: { redemptions: { id: string }[] }) => list.redemptions.map((r) => r.id);

    const failed = await server.redemptions.list({ customer: 'sr-l', result: 'FAILURE' });
    expect(ids(failed)).toEqual([failure.resource_id]);
    expect(failed.redemptions.every((r) => r.result === 'FAILURE')).toBe(true);
    expect(ids(await server.redemptions.list({ customer: 'sr-l', created_at: { after: ok.date as string } }))).toEqual([
      failure.resource_id,
    ]);
    expect((await server.redemptions.list({ customer: 'sr-l', created_at: { before: '2000-01-01T00:00:00Z' } })).total).toBe(0);
    const filtered = await server.redemptions.list(
      loose({ customer: 'sr-l', filters: { junction: 'and', voucher_code: { conditions: { $in: ['SR-L'] } } } }),
    );
    expect(ids(filtered)).toEqual([ok.id]);
    await expect(server.redemptions.list(loose({ filters: { user_name: { conditions: { $is: 'x' } } } }))).rejects.toMatchObject({
      code: 400,
      key: 'invalid_query_params',
    });
  });

  it("getForVoucher lists a voucher's redemption entries (OA24 VouchersRedemptionGetResponseBody, OA24:L63286)", async () => {
    await createVoucher('SR-GV', { redemption: { quantity: 3 } });
    const r = await server.redemptions.redeem('SR-GV', loose({ customer: { source_id: 'sr-gv' } }));
    const entries = await server.redemptions.getForVoucher('SR-GV');
    expect(entries).toMatchObject({ quantity: 3, redeemed_quantity: 1, object: 'list', data_ref: 'redemption_entries', total: 1 });
    expect(entries.redemption_entries?.map((e) => e.id)).toEqual([r.id]);
  });

  it('client redeemStackable (POST /client/v1/redemptions) answers the same shape with the client key', async () => {
    await createVoucher('SR-CL');
    await server.customers.create({ source_id: 'sr-cl', email: 'sr-cl@example.com' });
    // The shop's backend signs the identity; the official client passes it as a custom header.
    const signature = await signClaim(TEST_ENV.IDENTITY_SECRET, 'source_id', 'sr-cl');
    const client = VoucherifyClientSide({
      clientApplicationId: TEST_ENV.CLIENT_APP_ID,
      clientSecretKey: TEST_ENV.CLIENT_TOKEN,
      apiUrl: worker.url,
      origin: ORIGIN,
      customHeaders: { 'X-Vouchsafe-Identity-Signature': signature },
    });
    const res = await client.redeemStackable({
      redeemables: redeemables('SR-CL'),
      customer: { source_id: 'sr-cl' },
      order: { amount: 1000 },
    } as never);
    expect(res.redemptions).toHaveLength(1);
    expect(res.parent_redemption).toMatchObject({ related_object_type: 'redemption', customer_id: null, customer: null });
    // Credited to the signed customer, though the public key's answer names none.
    expect((await server.customers.get('sr-cl')).summary?.redemptions?.total_succeeded).toBe(1);
  });
});
