import { VoucherifyServerSide } from '@voucherify/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalWorker, startLocalWorker } from './support/local-worker';
import { serverSdk } from './support/server-sdk';

let worker: LocalWorker;
let sdk: ReturnType<typeof VoucherifyServerSide>;

beforeAll(async () => {
  worker = await startLocalWorker();
  sdk = serverSdk(worker);
});
afterAll(() => worker?.stop());

describe('@voucherify/sdk segments and events against Vouchsafe', () => {
  it('creates, reads, lists per customer and deletes segments; events feed event-count filters', async () => {
    await sdk.customers.create({ source_id: 'sdk-seg-1', metadata: { tier: 'gold' } });
    const gold = await sdk.segments.create({
      name: 'gold',
      type: 'auto-update',
      filter: { junction: 'AND', 'metadata.tier': { conditions: { $is: ['gold'] } } },
    });
    expect(gold).toMatchObject({ name: 'gold', type: 'auto-update', object: 'segment' });
    const active = await sdk.segments.create({
      name: 'active',
      type: 'auto-update',
      filter: { junction: 'AND', 'events.logged_in.count': { conditions: { $more_than_equal: [1] } } },
    });
    expect((await sdk.segments.get(gold.id)).id).toBe(gold.id);

    const mine = await sdk.segments.list('sdk-seg-1');
    expect(mine.data.map((s) => s.id)).toEqual([gold.id]);

    const event = await sdk.events.create('logged_in', {
      event: 'logged_in',
      customer: { source_id: 'sdk-seg-1' },
      metadata: { via: 'sdk' },
    });
    expect(event).toMatchObject({ object: 'event', type: 'logged_in' });
    // The event is written by the queue consumer, off the request's path: bounded wait for the segment.
    await expect
      .poll(async () => (await sdk.segments.list('sdk-seg-1')).data.map((s) => s.id).sort(), { timeout: 10_000 })
      .toEqual([gold.id, active.id].sort());

    await sdk.segments.delete(gold.id);
    await expect(sdk.segments.get(gold.id)).rejects.toMatchObject({ code: 404, key: 'not_found', resource_type: 'segment' });
  });

  it('refuses a bad filter with a VoucherifyError naming the path', async () => {
    const error = await sdk.segments
      .create({ name: 'bad', type: 'auto-update', filter: { junction: 'AND', 'metadata.x': { conditions: { $nope: [1] } } } })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 400, key: 'invalid_payload' });
    expect((error as { details: string }).details).toMatch(/^filter\.metadata\.x\.conditions\.\$nope/);
  });
});
