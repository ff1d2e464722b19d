import { VoucherifyServerSide } from '@voucherify/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalWorker, startLocalWorker } from './support/local-worker';
import { serverSdk } from './support/server-sdk';

/**
 * The customer's wallet through the official SDK, unchanged: customers.listRedeemables(id, params)
 * (node_modules/@voucherify/sdk/dist/Customers.d.ts:70, GET /v1/customers/{id}/redeemables) answers
 * CustomerRedeemablesListResponse (dist/types/Customers.d.ts:138) in the spec's shape
 * (voucherify-openapi documentation/openapi/customers.json:L1551, example L1620; CustomerRedeemable L3636).
 */
let worker: LocalWorker;
let sdk: ReturnType<typeof VoucherifyServerSide>;

beforeAll(async () => {
  worker = await startLocalWorker();
  sdk = serverSdk(worker);
});
afterAll(() => worker?.stop());

const discount = { type: 'AMOUNT', amount_off: 700 } as const;

describe('@voucherify/sdk customers.listRedeemables against Vouchsafe', () => {
  it('lists the codes published to the customer with their status, page by page', async () => {
    const codes = ['SDKW-1', 'SDKW-2', 'SDKW-3'];
    for (const code of codes) await sdk.vouchers.create({ code, type: 'DISCOUNT_VOUCHER', discount } as never);
    await sdk.vouchers.create({ code: 'SDKW-OFF', type: 'DISCOUNT_VOUCHER', discount, active: false } as never);
    const published = [];
    for (const code of [...codes, 'SDKW-OFF']) {
      published.push(await sdk.distributions.publications.create({ voucher: code, customer: { source_id: 'sdk-wallet' } } as never));
    }
    await sdk.vouchers.create({ code: 'SDKW-ELSE', type: 'DISCOUNT_VOUCHER', discount } as never);
    await sdk.distributions.publications.create({ voucher: 'SDKW-ELSE', customer: { source_id: 'sdk-wallet-else' } } as never);
    const customerId = (published[0] as { customer_id: string }).customer_id;

    const first = await sdk.customers.listRedeemables('sdk-wallet', { limit: 3, order: 'id' });
    expect(first).toMatchObject({ object: 'list', data_ref: 'data', total: 4, has_more: true });
    expect(first.data).toHaveLength(3);
    expect(first.more_starting_after).toBe(first.data[2]!.id);
    const rest = await sdk.customers.listRedeemables(customerId, { limit: 3, order: 'id', starting_after_id: first.more_starting_after });
    expect(rest).toMatchObject({ total: 4, has_more: false });
    const all = [...first.data, ...rest.data];
    expect(all.map((e) => e.redeemable.voucher?.code).sort()).toEqual([...codes, 'SDKW-OFF'].sort());
    for (const entry of all) {
      expect(entry).toMatchObject({
        redeemable_object: 'voucher',
        customer_id: customerId,
        holder_role: 'OWNER',
        voucher_type: 'DISCOUNT_VOUCHER',
        redeemable: {
          type: 'voucher',
          status: entry.redeemable.voucher?.code === 'SDKW-OFF' ? 'DISABLED' : 'ACTIVE',
          voucher: { discount, holder_id: customerId, object: 'voucher' },
        },
      });
      expect(entry.id).toBe(`rh_${entry.redeemable_id}`);
      expect(entry.redeemable.voucher?.id).toBe(entry.redeemable_id);
    }
    await expect(sdk.customers.listRedeemables('sdk-wallet-nobody')).rejects.toMatchObject({ code: 404, key: 'not_found' });
  });
});
