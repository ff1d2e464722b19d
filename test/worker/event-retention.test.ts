/**
 * Raw events are kept EVENT_RETENTION_DAYS for the activity feed; the 15-minute cron writes older
 * ones to the R2 archive (EVENT_ARCHIVE, gzip-compressed NDJSON per UTC hour) and then deletes them,
 * in bounded steps. Counts and memberships read the counters (migration 0026), so nothing a segment
 * or a rule decides moves when raw events go. The archive holds every expired event exactly once,
 * also when a run stops between writing an object and deleting its rows.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../worker/src/env';
import worker from '../../worker/src/index';
import {
  archiveKey,
  EVENT_ARCHIVE_RUN_MS,
  EVENT_ARCHIVE_STEPS_PER_RUN,
  eventExpiry,
  eventRetentionDays,
  expireRawEvents,
} from '../../worker/src/services/event-retention';
import { api, json, settled } from './helpers';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const archive = (env as unknown as Env).EVENT_ARCHIVE as R2Bucket;

interface ArchivedLine {
  id: string;
  profile_id: string;
  type: string;
  metadata: Record<string, unknown>;
  created_at: string;
}

/** Every archive object, by key, with its lines decompressed and parsed. */
async function archived(): Promise<Map<string, ArchivedLine[]>> {
  const objects = new Map<string, ArchivedLine[]>();
  let cursor: string | undefined;
  do {
    const page = await archive.list({ prefix: 'events/', cursor });
    for (const { key } of page.objects) {
      const object = await archive.get(key);
      if (!object) throw new Error(`listed ${key} but cannot read it`);
      const text = await new Response(object.body.pipeThrough(new DecompressionStream('gzip'))).text();
      expect(text.endsWith('\n')).toBe(true);
      objects.set(
        key,
        text
          .trimEnd()
          .split('\n')
          .map((line) => JSON.parse(line) as ArchivedLine),
      );
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return objects;
}
const archivedIds = async () => [...(await archived()).values()].flat().map((l) => l.id);

const all = async <T>(query: string, ...params: unknown[]) =>
  (
    await env.DB.prepare(query)
      .bind(...params)
      .all<T>()
  ).results;
const rawIds = async () => (await all<{ id: string }>('SELECT id FROM events ORDER BY id')).map((r) => r.id);
const counterRows = () => all('SELECT * FROM event_counters ORDER BY profile_id, type');
const memberRows = () => all('SELECT segment_id, customer_id FROM segment_members ORDER BY segment_id, customer_id');

const runCron = async (bindings: Partial<Env>, scheduledTime = Date.now()) => {
  const ctx = createExecutionContext();
  await worker.scheduled(
    createScheduledController({ scheduledTime, cron: '*/15 * * * *' }),
    { ...env, ...bindings } as unknown as Env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
};

/** Raw events of a profile inserted as a writer does (the counters' trigger counts them), written at `times`. */
async function insertEvents(prefix: string, profileId: string, times: number[]): Promise<string[]> {
  const ids = times.map((_, i) => `evcus_${prefix}_${String(i).padStart(3, '0')}`);
  await env.DB.batch(
    times.map((at, i) =>
      env.DB.prepare('INSERT INTO events (id, profile_id, type, metadata, created_at) VALUES (?, ?, ?, ?, ?)').bind(
        ids[i],
        profileId,
        'bulk',
        JSON.stringify({ i }),
        at,
      ),
    ),
  );
  return ids;
}

describe('the retention setting', () => {
  it('reads EVENT_RETENTION_DAYS (90 unless a whole number ≥ 0) and cuts at an hour, or at the run itself for 0', () => {
    expect(eventRetentionDays({})).toBe(90);
    expect(eventRetentionDays({ EVENT_RETENTION_DAYS: '0' })).toBe(0);
    expect(eventRetentionDays({ EVENT_RETENTION_DAYS: '30' })).toBe(30);
    expect(eventRetentionDays({ EVENT_RETENTION_DAYS: '-1' })).toBe(90);
    expect(eventRetentionDays({ EVENT_RETENTION_DAYS: 'soon' })).toBe(90);
    const now = Date.UTC(2026, 11, 7, 21, 37, 12, 345);
    expect(eventExpiry(0, now)).toBe(now);
    expect(eventExpiry(90, now)).toBe(Date.UTC(2026, 8, 8, 21, 0, 0, 0));
    expect(archiveKey(Date.UTC(2026, 11, 7, 21), 0)).toBe('events/2026/12/07/21.ndjson.gz');
    expect(archiveKey(Date.UTC(2026, 11, 7, 21), 1)).toBe('events/2026/12/07/21-0001.ndjson.gz');
  });
});

describe('raw event retention and the R2 archive', () => {
  it('EVENT_RETENTION_DAYS=0: the cron archives every raw event written before it, once, and deletes it; counts and memberships stay', async () => {
    const auto = await json(
      await api('POST', '/v1/segments', {
        name: 'ret regulars',
        type: 'auto-update',
        filter: { 'events.ret_seen.count': { conditions: { $more_than_equal: [3] } } },
      }),
    );
    const passive = await json(
      await api('POST', '/v1/segments', {
        name: 'ret regulars live',
        type: 'passive',
        filter: { 'events.ret_seen.count': { conditions: { $more_than_equal: [3] } } },
      }),
    );
    await api('POST', '/v1/vouchers/RET-REG', { discount: { type: 'AMOUNT', amount_off: 100 } });
    const rule = await json(
      await api('POST', '/v1/validation-rules', {
        name: 'regulars',
        rules: { '1': { name: 'customer.segment', conditions: { $is: [passive.id] } } },
      }),
    );
    await api('POST', `/v1/validation-rules/${rule.id}/assignments`, { related_object_type: 'voucher', related_object_id: 'RET-REG' });
    for (let i = 0; i < 3; i++)
      await api('POST', '/v1/events', { event: 'ret_seen', customer: { source_id: 'ret-regular' }, metadata: { page: i } });
    await api('POST', '/v1/events', { event: 'ret_seen', customer: { source_id: 'ret-once' } });
    await api('POST', '/v1/events', { event: 'ret_seen', customer: { source_id: 'track_RetAnonRetAnonRetAnon0' } });
    await settled();
    const regular = await json(await api('GET', '/v1/customers/ret-regular'));
    const isRegular = async () => (await json(await api('GET', `/v1/customers?segment_id=${auto.id}`))).customers.map((c: any) => c.id);
    expect(await isRegular()).toEqual([regular.id]);

    const before = { raw: await rawIds(), counters: await counterRows(), members: await memberRows() };
    // 3 + 1 custom events, the anonymous one, and the regular's segment entered event.
    expect(before.raw).toHaveLength(6);
    const activityBefore = (await json(await api('GET', `/v1/customers/${regular.id}/activity?limit=100`))).data.map((a: any) => a.type);
    expect(activityBefore.filter((t: string) => t === 'customer.custom_event')).toHaveLength(3);

    await runCron({ EVENT_RETENTION_DAYS: '0' });

    expect(await rawIds()).toEqual([]);
    const objects = await archived();
    const ids = [...objects.values()].flat().map((l) => l.id);
    expect([...ids].sort()).toEqual(before.raw);
    expect(new Set(ids).size).toBe(ids.length);
    for (const [key, lines] of objects) {
      expect(key).toMatch(/^events\/\d{4}\/\d{2}\/\d{2}\/\d{2}(-\d{4})?\.ndjson\.gz$/);
      // Every line of an object is of the hour its key names.
      for (const line of lines) {
        const at = Date.parse(line.created_at);
        expect(key.replace(/-\d{4}\./, '.')).toBe(archiveKey(at - (at % HOUR), 0));
      }
    }
    const line = [...objects.values()].flat().find((l) => l.type === 'ret_seen' && l.profile_id === regular.id && l.metadata.page === 1);
    expect(line).toMatchObject({ id: expect.stringMatching(/^evcus_/), profile_id: regular.id, type: 'ret_seen', metadata: { page: 1 } });
    expect(line?.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(line?.created_at).toBe(new Date(Date.parse(line?.created_at ?? '')).toISOString());
    expect(await all('SELECT sum(events) AS n FROM event_archive_hours')).toEqual([{ n: 6 }]);

    // Nothing a count decides moved: the counters, the stored members, a passive segment, validate.
    expect(await counterRows()).toEqual(before.counters);
    expect(await memberRows()).toEqual(before.members);
    expect(await isRegular()).toEqual([regular.id]);
    expect((await json(await api('GET', `/v1/customers?segment_id=${passive.id}`))).customers.map((c: any) => c.id)).toEqual([regular.id]);
    expect((await json(await api('POST', '/v1/vouchers/RET-REG/validate', { customer: { id: regular.id } }))).valid).toBe(true);
    expect((await json(await api('POST', '/v1/vouchers/RET-REG/validate', { customer: { source_id: 'ret-once' } }))).valid).toBe(false);
    // A write re-judges the regular's memberships by SQL: the counters keep it a member.
    await api('PUT', `/v1/customers/${regular.id}`, { metadata: { touched: true } });
    await api('POST', '/v1/events', { event: 'ret_other', customer: { id: regular.id } });
    await settled();
    expect(await isRegular()).toEqual([regular.id]);
    expect(await memberRows()).toEqual(before.members);

    // The activity feed shows the window only: the expired custom events are gone from it.
    const activity = (await json(await api('GET', `/v1/customers/${regular.id}/activity?limit=100`))).data;
    expect(activity.filter((a: any) => a.type === 'customer.custom_event').map((a: any) => a.data.data.event.type)).toEqual(['ret_other']);

    // The next run archives only what was written since the last one: the new event, once.
    const again = await expireRawEvents({ ...env, EVENT_RETENTION_DAYS: '0' } as unknown as Env, Date.now());
    expect(again.archived).toBe(1);
    const ids2 = await archivedIds();
    expect(new Set(ids2).size).toBe(ids2.length);
    expect(ids2).toHaveLength(7);
  });

  it('order activities (each with a snapshot of its order) expire with the raw events; the order, its summary and product counts stay', async () => {
    const segment = await json(
      await api('POST', '/v1/segments', {
        name: 'ret buyers',
        type: 'auto-update',
        filter: { 'orders.products.RetLamp.count': { conditions: { $more_than_equal: [1] } } },
      }),
    );
    const order = await json(
      await api('POST', '/v1/orders', {
        source_id: 'ret-order-1',
        status: 'PAID',
        amount: 4_200,
        items: [{ product_id: 'RetLamp', quantity: 1, price: 4_200 }],
        customer: { source_id: 'ret-buyer' },
      }),
    );
    await settled();
    const buyer = await json(await api('GET', '/v1/customers/ret-buyer'));
    const activityIds = async () =>
      (await all<{ id: string }>('SELECT id FROM order_activities WHERE customer_id = ? ORDER BY id', buyer.id)).map((r) => r.id);
    const orderActivities = await activityIds();
    // customer.order.created and customer.order.paid.
    expect(orderActivities).toHaveLength(2);
    const before = {
      order: await json(await api('GET', `/v1/orders/${order.id}`)),
      summary: buyer.summary.orders,
      products: await all('SELECT * FROM customer_products WHERE customer_id = ?', buyer.id),
      members: await memberRows(),
    };
    expect(before.summary).toMatchObject({ total_count: 1, total_amount: 4_200 });
    expect(before.members).toContainEqual({ segment_id: segment.id, customer_id: buyer.id });

    await runCron({ EVENT_RETENTION_DAYS: '0' });

    expect(await activityIds()).toEqual([]);
    const lines = [...(await archived()).values()].flat().filter((l) => l.profile_id === buyer.id && l.type.startsWith('customer.order.'));
    expect(lines.map((l) => l.id).sort()).toEqual(orderActivities);
    expect(lines.map((l) => l.type).sort()).toEqual(['customer.order.created', 'customer.order.paid']);
    // An archived order activity carries the order as it was, as the feed showed it.
    expect(lines[0]?.metadata).toMatchObject({ id: order.id, source_id: 'ret-order-1', amount: 4_200 });
    // The order and everything derived from it stay.
    expect(await json(await api('GET', `/v1/orders/${order.id}`))).toEqual(before.order);
    expect((await json(await api('GET', `/v1/customers/${buyer.id}`))).summary.orders).toEqual(before.summary);
    expect(await all('SELECT * FROM customer_products WHERE customer_id = ?', buyer.id)).toEqual(before.products);
    expect(await memberRows()).toEqual(before.members);
    const feed = (await json(await api('GET', `/v1/customers/${buyer.id}/activity?limit=100`))).data.map((a: any) => a.type);
    expect(feed.filter((t: string) => t.startsWith('customer.order.'))).toEqual([]);
  });

  it('keeps what is inside the window: with the default 90 days nothing recent goes', async () => {
    const recent = await insertEvents('recent', 'cust_RetentionRecent', [Date.now() - 89 * DAY, Date.now() - DAY]);
    const old = await insertEvents('old', 'cust_RetentionOld', [Date.now() - 91 * DAY]);
    const result = await expireRawEvents(env as unknown as Env, Date.now());
    expect(result).toMatchObject({ archived: 1, more: false });
    const left = await rawIds();
    for (const id of recent) expect(left).toContain(id);
    expect(left).not.toContain(old[0]);
    expect(await archivedIds()).toContain(old[0]);
    // Out of the way of the tests below, which expire with a window of one day.
    await env.DB.prepare('DELETE FROM events WHERE id IN (SELECT value FROM json_each(?))').bind(JSON.stringify(recent)).run();
  });

  it('a run that stops after writing an object and before deleting its rows: the next run rewrites that same object, nothing lost or doubled', async () => {
    const start = Date.now() - 10 * DAY;
    const hour = start - (start % HOUR);
    const first = await insertEvents('crash', 'cust_RetentionCrash', [hour + 1, hour + 2, hour + 3]);
    const keysBefore = new Set((await archived()).keys());
    const crashing = {
      ...archive,
      put: async (...args: Parameters<R2Bucket['put']>) => {
        await archive.put(...args);
        throw new Error('the run stopped after the put');
      },
    } as unknown as R2Bucket;
    const bindings = { ...env, EVENT_RETENTION_DAYS: '1' } as unknown as Env;
    await expect(expireRawEvents({ ...bindings, EVENT_ARCHIVE: crashing }, Date.now())).rejects.toThrow('stopped after the put');
    const written = [...(await archived()).entries()].filter(([key]) => !keysBefore.has(key));
    expect(written.map(([, lines]) => lines.map((l) => l.id))).toEqual([first]);
    // Nothing was deleted nor counted as archived.
    for (const id of first) expect(await rawIds()).toContain(id);
    expect(await all('SELECT parts FROM event_archive_hours WHERE hour = ?', hour)).toEqual([]);

    // Meanwhile a late event of the same hour is written (the queue delivered it late).
    const late = await insertEvents('crash_late', 'cust_RetentionCrash', [hour + 4]);
    const result = await expireRawEvents(bindings, Date.now());
    expect(result.objects).toEqual([written[0]?.[0]]);
    const after = [...(await archived()).entries()].filter(([key]) => !keysBefore.has(key));
    expect(after.map(([, lines]) => lines.map((l) => l.id))).toEqual([[...first, ...late]]);
    for (const id of [...first, ...late]) expect(await rawIds()).not.toContain(id);
    expect(await all('SELECT parts, events FROM event_archive_hours WHERE hour = ?', hour)).toEqual([{ parts: 1, events: 4 }]);

    // Run again: nothing to do, the archive is as it was.
    expect(await expireRawEvents(bindings, Date.now())).toEqual({ archived: 0, objects: [], more: false });
    const ids = await archivedIds();
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('archives in bounded steps: with a tiny batch several runs are needed, an hour takes numbered parts, nothing is lost', async () => {
    const base = Date.now() - 20 * DAY;
    const hour = base - (base % HOUR);
    // 29 events in one hour and 16 in the next, the first hour's out of insertion order.
    const times = [
      ...Array.from({ length: 29 }, (_, i) => hour + 100 * (29 - i)),
      ...Array.from({ length: 16 }, (_, i) => hour + HOUR + i),
    ];
    const ids = await insertEvents('bounded', 'cust_RetentionBounded', times);
    const countersBefore = await all("SELECT count FROM event_counters WHERE profile_id = 'cust_RetentionBounded'");
    expect(countersBefore).toEqual([{ count: 45 }]);
    const keysBefore = new Set((await archived()).keys());
    const bindings = { ...env, EVENT_RETENTION_DAYS: '1', EVENT_ARCHIVE_BATCH: '2' } as unknown as Env;
    // A run past its time bound stops before its next step, with the work left for the next run.
    let ticks = 0;
    expect(await expireRawEvents(bindings, Date.now(), () => (ticks++ === 0 ? 0 : EVENT_ARCHIVE_RUN_MS))).toEqual({
      archived: 0,
      objects: [],
      more: true,
    });
    // At most EVENT_ARCHIVE_STEPS_PER_RUN objects of at most 2 events a run: 45 events in two hours
    // take 15 + 8 objects, so two runs.
    const runs = [];
    for (let run = 0; run < 5; run++) {
      const result = await expireRawEvents(bindings, Date.now());
      runs.push(result);
      if (!result.more) break;
    }
    expect(runs.map((r) => r.objects.length)).toEqual([EVENT_ARCHIVE_STEPS_PER_RUN, 23 - EVENT_ARCHIVE_STEPS_PER_RUN]);
    expect(runs.map((r) => r.more)).toEqual([true, false]);
    expect(runs.reduce((n, r) => n + r.archived, 0)).toBe(45);
    const objects = [...(await archived()).entries()].filter(([key]) => !keysBefore.has(key));
    for (const [, lines] of objects) expect(lines.length).toBeLessThanOrEqual(2);
    // Each hour's objects numbered in order, oldest events first.
    expect(objects.map(([key]) => key)).toEqual(
      [
        ...Array.from({ length: 15 }, (_, p) => archiveKey(hour, p)),
        ...Array.from({ length: 8 }, (_, p) => archiveKey(hour + HOUR, p)),
      ].sort(),
    );
    const lines = objects.flatMap(([, l]) => l);
    expect(lines.map((l) => l.id).sort()).toEqual([...ids].sort());
    expect((await rawIds()).filter((id) => ids.includes(id))).toEqual([]);
    expect(await all("SELECT count FROM event_counters WHERE profile_id = 'cust_RetentionBounded'")).toEqual(countersBefore);
    expect(await all('SELECT hour, parts, events FROM event_archive_hours WHERE hour IN (?, ?) ORDER BY hour', hour, hour + HOUR)).toEqual([
      { hour, parts: 15, events: 29 },
      { hour: hour + HOUR, parts: 8, events: 16 },
    ]);
  });
});
