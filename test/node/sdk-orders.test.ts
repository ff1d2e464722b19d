import { VoucherifyServerSide } from '@voucherify/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalWorker, startLocalWorker } from './support/local-worker';
import { serverSdk } from './support/server-sdk';

// The official client's orders.create / get / update / list / import, unchanged, against Vouchsafe.
// OA = voucherify-openapi production/readOnly-openAPI.json @65c33a7: OrderCalculated (L18433),
// OrdersListResponseBody (L19147), OrdersImportCreateResponseBody (L19137: {async_action_id}),
// CustomerSummaryOrders (L5664: only PAID and FULFILLED orders count).

type Json = Record<string, any>;
let worker: LocalWorker;
let sdk: ReturnType<typeof VoucherifyServerSide>;

beforeAll(async () => {
  worker = await startLocalWorker();
  sdk = serverSdk(worker);
});
afterAll(() => worker?.stop());

async function untilDone(id: string): Promise<Json> {
  for (let i = 0; i < 300; i++) {
    const action = (await sdk.asyncActions.get(id)) as unknown as Json;
    if (action.status !== 'IN_PROGRESS') return action;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${id}: still in progress`);
}

const orders = (customer: string, count: number, prefix: string) =>
  Array.from({ length: count }, (_, i) => ({
    source_id: `${prefix}-${i}`,
    status: 'PAID' as const,
    amount: 1000 * (i + 1),
    customer: { source_id: customer },
    items: [{ product_id: 'prod_macbook_air', quantity: 1, price: 1000 * (i + 1) }],
  }));

describe('@voucherify/sdk orders against Vouchsafe', () => {
  it('a customer with 5 orders and no voucher is in the auto-update segment "at least 5 orders"; resending an order changes nothing', async () => {
    const segment = await sdk.segments.create({
      name: 'at least 5 orders',
      type: 'auto-update',
      filter: { junction: 'and', 'summary.orders.total_count': { conditions: { $more_than_equal: [5] } } },
    } as never);
    const created: Json[] = [];
    for (const order of orders('sdk-buyer-5', 5, 'sdk-five')) created.push((await sdk.orders.create(order)) as Json);
    expect(created[0]).toMatchObject({ object: 'order', source_id: 'sdk-five-0', status: 'PAID', amount: 1000 });
    expect(created[0]?.id).toMatch(/^ord_/);

    const customer = (await sdk.customers.get('sdk-buyer-5')) as Json;
    expect(customer.summary.orders).toMatchObject({ total_count: 5, total_amount: 15000, average_amount: 3000, last_order_amount: 5000 });
    const members = (await sdk.customers.list({ segment_id: (segment as Json).id } as never)) as Json;
    expect(members.customers.map((c: Json) => c.source_id)).toEqual(['sdk-buyer-5']);

    // Resent (the same order, the same source_id): the same order answered, nothing counted again.
    const again = (await sdk.orders.create(orders('sdk-buyer-5', 1, 'sdk-five')[0] as never)) as Json;
    expect(again).toEqual(created[0]);
    expect(((await sdk.customers.get('sdk-buyer-5')) as Json).summary.orders.total_count).toBe(5);

    // A cancellation takes the customer below 5, out of the segment.
    const canceled = (await sdk.orders.update({ id: created[4]?.id, status: 'CANCELED' })) as Json;
    expect(canceled).toMatchObject({ id: created[4]?.id, status: 'CANCELED', amount: 5000 });
    expect(((await sdk.customers.get('sdk-buyer-5')) as Json).summary.orders).toMatchObject({ total_count: 4, total_amount: 10000 });
    expect(((await sdk.customers.list({ segment_id: (segment as Json).id } as never)) as Json).customers).toEqual([]);
  });

  it('a redeem on the same order source_id does not count it twice', async () => {
    await sdk.vouchers.create({ code: 'SDK-ORDER-10', type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 500 } } as never);
    const order = (await sdk.orders.create({
      source_id: 'sdk-redeemed-order',
      status: 'PAID',
      amount: 8000,
      customer: { source_id: 'sdk-buyer-r' },
    })) as Json;
    const redemption = (await sdk.redemptions.redeem('SDK-ORDER-10', {
      customer: { source_id: 'sdk-buyer-r' },
      order: { source_id: 'sdk-redeemed-order', amount: 8000 },
    } as never)) as Json;
    expect(redemption.order.id).toBe(order.id);
    const customer = (await sdk.customers.get('sdk-buyer-r')) as Json;
    expect(customer.summary.orders).toMatchObject({ total_count: 1, total_amount: 8000 });
    expect(customer.summary.redemptions).toMatchObject({ total_redeemed: 1, total_succeeded: 1 });
    expect(await sdk.orders.get('sdk-redeemed-order')).toMatchObject({ id: order.id, status: 'PAID', discount_amount: 500 });
  });

  it('gets by id and source_id, updates by source_id, lists in the OA list shape', async () => {
    const order = (await sdk.orders.create({ source_id: 'sdk-get-1', amount: 300, customer: { source_id: 'sdk-buyer-g' } })) as Json;
    expect(order.status).toBe('CREATED');
    expect(await sdk.orders.get(order.id)).toEqual(order);
    expect(await sdk.orders.get('sdk-get-1')).toEqual(order);
    const paid = (await sdk.orders.update({ source_id: 'sdk-get-1', status: 'PAID' } as never)) as Json;
    expect(paid).toMatchObject({ id: order.id, status: 'PAID', amount: 300 });
    expect(((await sdk.customers.get('sdk-buyer-g')) as Json).summary.orders.total_count).toBe(1);
    const list = (await sdk.orders.list({ limit: 100 })) as Json;
    expect(list).toMatchObject({ object: 'list', data_ref: 'orders' });
    expect(list.orders.map((o: Json) => o.id)).toContain(order.id);
    expect(list.total).toBe(list.orders.length);
    await expect(sdk.orders.get('ord_nothing')).rejects.toMatchObject({ code: 404, key: 'not_found' });
  });

  it('imports orders as an async action (OA import-orders), bad ones reported by index, the others counted once', async () => {
    const batch = [...orders('sdk-importer', 60, 'sdk-imp'), { source_id: 'sdk-imp-bad', status: 'LOST' }];
    const { async_action_id } = (await sdk.orders.import(batch as never)) as Json;
    expect(async_action_id).toMatch(/^aa_/);
    const action = await untilDone(async_action_id);
    expect(action).toMatchObject({ type: 'ORDERS.IMPORT', status: 'DONE', result: { done_count: 60, failed_count: 1 } });
    expect(action.result.errors[0]).toMatchObject({ key: 'invalid_payload', source_id: 'sdk-imp-bad' });
    expect(action.result.errors[0].details).toContain('[60].status');
    const customer = (await sdk.customers.get('sdk-importer')) as Json;
    const total = (60 * 61 * 1000) / 2;
    expect(customer.summary.orders).toMatchObject({ total_count: 60, total_amount: total });
    // The same import again: every order is known by its source_id, nothing counts twice.
    const second = (await sdk.orders.import(batch.slice(0, 60) as never)) as Json;
    expect(await untilDone(second.async_action_id)).toMatchObject({ status: 'DONE', result: { done_count: 60, failed_count: 0 } });
    expect(((await sdk.customers.get('sdk-importer')) as Json).summary.orders).toMatchObject({ total_count: 60, total_amount: total });
  });
});
