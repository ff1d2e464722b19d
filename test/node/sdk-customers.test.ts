import { type CustomerObject, VoucherifyServerSide } from '@voucherify/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ENV } from '../test-env';
import { type LocalWorker, startLocalWorker } from './support/local-worker';
import { serverSdk } from './support/server-sdk';

// The official client, unchanged, pointed at Vouchsafe: the wire-compatibility promise.
let worker: LocalWorker;
let sdk: ReturnType<typeof VoucherifyServerSide>;

// The SDK types a create/get response as "customer | unconfirmed customer" (double opt-in), and
// scroll() as a generator expecting values back; Vouchsafe answers plain customers.
const asCustomer = (value: unknown) => value as CustomerObject;
const scroll = (params: Parameters<typeof sdk.customers.scroll>[0]) => sdk.customers.scroll(params) as AsyncIterable<CustomerObject>;

beforeAll(async () => {
  worker = await startLocalWorker();
  sdk = serverSdk(worker);
});
afterAll(() => worker?.stop());

describe('@voucherify/sdk customers against Vouchsafe', () => {
  it('creates, reads (by id and source id), updates, lists and deletes', async () => {
    const created = asCustomer(
      await sdk.customers.create({
        source_id: 'sdk-alice@example.com',
        name: 'Alice',
        email: 'sdk-alice@example.com',
        metadata: { tier: 'gold' },
      }),
    );
    expect(created.id).toMatch(/^cust_/);
    expect(created.object).toBe('customer');

    expect((await sdk.customers.get(created.id)).email).toBe('sdk-alice@example.com');
    expect(asCustomer(await sdk.customers.get('sdk-alice@example.com')).id).toBe(created.id);

    const updated = asCustomer(await sdk.customers.update({ source_id: 'sdk-alice@example.com', name: 'Alice M' }));
    expect(updated).toMatchObject({ id: created.id, name: 'Alice M', email: 'sdk-alice@example.com' });

    const listed = await sdk.customers.list({ limit: 5, email: 'sdk-alice@example.com' });
    expect(listed.customers.map((c) => c.id)).toEqual([created.id]);
    expect(listed.total).toBe(1);

    await sdk.customers.delete(created.id);
    await expect(sdk.customers.get(created.id)).rejects.toMatchObject({ code: 404, key: 'not_found' });
  });

  it('scroll() walks every customer exactly once, across customers made in one batch', async () => {
    const before: string[] = [];
    for await (const c of scroll({ limit: 100 })) before.push(c.id);
    const { async_action_id } = await sdk.customers.updateInBulk(Array.from({ length: 45 }, (_, i) => ({ source_id: `scroll-${i}` })));
    const action = await sdk.asyncActions.get(async_action_id);
    expect(action).toMatchObject({ status: 'DONE', result: { done_count: 45 } });

    const seen: string[] = [];
    for await (const c of scroll({ limit: 10 })) seen.push(c.id);
    expect(seen).toHaveLength(before.length + 45);
    expect(new Set(seen).size).toBe(seen.length);

    const ascending: string[] = [];
    for await (const c of scroll({ limit: 7, order: 'created_at' })) ascending.push(c.id);
    expect(ascending).toEqual([...seen].reverse());
  });

  it('surfaces errors as VoucherifyError with the Voucherify fields', async () => {
    const error = await sdk.customers.get('nobody-here').catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 404,
      key: 'not_found',
      details: 'Cannot find customer with id nobody-here',
      resource_type: 'customer',
    });
    expect((error as { request_id: string }).request_id).toMatch(/^v-/);
  });

  it('bulk metadata update and permanent deletion work through the SDK', async () => {
    await sdk.customers.create({ source_id: 'sdk-meta', metadata: { a: 1 } });
    const { async_action_id } = await sdk.customers.updateMetadataInBulk({ source_ids: ['sdk-meta'], metadata: { b: 2 } });
    expect((await sdk.asyncActions.get(async_action_id)).result).toMatchObject({ done_count: 1 });
    expect(asCustomer(await sdk.customers.get('sdk-meta')).metadata).toEqual({ a: 1, b: 2 });
    const deletion = await sdk.customers.deletePermanently('sdk-meta');
    expect(deletion).toMatchObject({ status: 'DONE', object: 'pernament_deletion' });
  });

  it('refuses a wrong secret with 401', async () => {
    const wrong = serverSdk(worker, 'nope');
    await expect(wrong.customers.list({})).rejects.toMatchObject({ code: 401, key: 'unauthorized' });
  });

  it('tolerates an apiUrl with a trailing slash', async () => {
    const slashed = serverSdk(worker, TEST_ENV.APP_TOKEN, `${worker.url}/`);
    expect((await slashed.customers.list({ limit: 1 })).object).toBe('list');
  });
});
