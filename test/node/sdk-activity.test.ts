import { VoucherifyServerSide } from '@voucherify/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalWorker, startLocalWorker } from './support/local-worker';
import { serverSdk } from './support/server-sdk';

// The official SDK, unchanged, on the customer-side calls: async actions (get, list),
// bulk updates with a bad record, the activity feed (listActivity, listActivities) and the segments
// of a customer not stored. Each assertion is the shape the OA gives, cited by line.
let worker: LocalWorker;
let sdk: ReturnType<typeof VoucherifyServerSide>;

beforeAll(async () => {
  worker = await startLocalWorker();
  sdk = serverSdk(worker);
});
afterAll(() => worker?.stop());

describe('@voucherify/sdk async actions and activity against Vouchsafe', () => {
  it('updateInBulk with a bad record: the valid ones are written, the bad one reported in errors', async () => {
    const { async_action_id } = await sdk.customers.updateInBulk([
      { source_id: 'sdka-1', name: 'One' },
      { source_id: 'sdka-2', email: 'not-an-email' },
      { source_id: 'sdka-3', metadata: { plan: 'pro' } },
    ]);
    // SDK asyncActions.get (esm.js: GET /async-actions/{id}).
    const action = await sdk.asyncActions.get(async_action_id);
    // OA AsyncActionBase (OA:L1381; operation_status enum FAILED|SUCCESS|UNKNOWN at OA:L1432) and
    // AsyncActionResultCustomersBulkUpdateResponseBody (OA:L1495): errors [{message, details, key, source_id}].
    expect(action).toMatchObject({
      id: async_action_id,
      type: 'CUSTOMERS.BULK_UPDATE',
      status: 'DONE',
      operation_status: 'SUCCESS',
      progress: 100,
      object: 'async_action',
      result: {
        done_count: 2,
        failed_count: 1,
        errors: [
          { message: 'Invalid payload', details: '[1].email: must be an email address', key: 'invalid_payload', source_id: 'sdka-2' },
        ],
      },
    });
    expect(['FAILED', 'SUCCESS', 'UNKNOWN']).toContain((action as { operation_status?: string }).operation_status);
    expect(((await sdk.customers.get('sdka-3')) as { metadata?: unknown }).metadata).toEqual({ plan: 'pro' });
    await expect(sdk.customers.get('sdka-2')).rejects.toMatchObject({ code: 404 });
  });

  it('asyncActions.list: the OA list envelope, newest first, with limit and end_date', async () => {
    const first = await sdk.customers.updateInBulk([{ source_id: 'sdka-list-1' }]);
    await new Promise((r) => setTimeout(r, 5));
    const second = await sdk.customers.updateMetadataInBulk({ source_ids: ['sdka-list-1'], metadata: { seen: true } });
    const list = await sdk.asyncActions.list({ limit: 2 });
    // OA AsyncActionsListResponseBody (OA:L1806) / example "List Async Actions" (OA:L62704); SDK
    // AsyncActionsListResponse (AsyncActions.d.ts:13): entries without `result`.
    expect(list).toMatchObject({ object: 'list', data_ref: 'async_actions' });
    expect(list.async_actions.map((a) => a.id)).toEqual([second.async_action_id, first.async_action_id]);
    expect(list.async_actions[0]).toMatchObject({ type: 'CUSTOMERS.METADATA_UPDATE', status: 'DONE', object: 'async_action' });
    expect(list.async_actions[0]).not.toHaveProperty('result');
    const created = (await sdk.asyncActions.get(second.async_action_id)).created_at;
    const older = await sdk.asyncActions.list({ limit: 100, end_date: created });
    expect(older.async_actions.map((a) => a.id)).not.toContain(second.async_action_id);
    expect(older.async_actions.map((a) => a.id)).toContain(first.async_action_id);
  });

  it('customers.listActivity and listActivities answer OA CustomerActivity entries', async () => {
    const customer = await sdk.customers.create({ source_id: 'sdka-act', name: 'Act' });
    await sdk.events.create('signed_up', { event: 'signed_up', customer: { source_id: 'sdka-act' }, metadata: { via: 'sdk' } });
    // The event is written by the queue consumer, off the request's path: readable about a batch wait later.
    await expect
      .poll(async () => (await sdk.customers.listActivity('sdka-act', { type: 'customer.custom_event' })).data.length, { timeout: 10_000 })
      .toBe(1);
    // SDK listActivity → GET /customers/{id}/activity (esm.js:950), params per CustomerActivityListQueryParams.
    const feed = await sdk.customers.listActivity('sdka-act', { order: '-created_at', type: 'customer.custom_event' });
    // OA CustomersActivityListResponseBody (OA:L5348); CustomerActivity (OA:L4638) with
    // EventCustomerCustomEvent (OA:L7429) under data.data.
    expect(feed).toMatchObject({ object: 'list', data_ref: 'data', has_more: false });
    expect(feed.data).toHaveLength(1);
    expect(feed.data[0]).toMatchObject({
      type: 'customer.custom_event',
      data: {
        data: {
          event: { object: 'event', type: 'signed_up', metadata: { via: 'sdk' } },
          event_schema: { name: 'signed_up' },
          customer: { id: (customer as { id: string }).id, source_id: 'sdka-act', object: 'customer' },
        },
      },
    });
    // SDK listActivities (deprecated) → GET /customers/{id}/activities (esm.js:966); OA24
    // CustomersActivitiesListResponseBody: {object, data_ref, data, total}.
    const old = await sdk.customers.listActivities('sdka-act', { limit: 10 });
    expect(old).toMatchObject({ object: 'list', data_ref: 'data', total: 2 });
    expect(old.data.map((e) => e.type).sort()).toEqual(['customer.created', 'customer.custom_event']);
  });

  it('segments.list of a customer not stored: 200 with the segments they would qualify for (OA:L57610)', async () => {
    const open = await sdk.segments.create({
      name: 'sdka no orders',
      type: 'auto-update',
      filter: { 'summary.orders.total_count': { conditions: { $less_than: [1] } } },
    } as never);
    await sdk.segments.create({
      name: 'sdka gold',
      type: 'auto-update',
      filter: { 'metadata.tier': { conditions: { $is: ['gold'] } } },
    } as never);
    const segments = await sdk.segments.list('sdka-not-stored');
    // OA CustomersSegmentsListResponseBody example (OA:L57649).
    expect(segments).toMatchObject({ object: 'list', data_ref: 'data' });
    const ids = (segments.data as { id: string }[]).map((s) => s.id);
    expect(ids).toContain((open as { id: string }).id);
    expect((segments.data as { name: string }[]).map((s) => s.name)).not.toContain('sdka gold');
    expect(segments.total).toBe(segments.data.length);
  });
});
