/**
 * Events as exact counters (migration 0026): every event written, whichever way it came (the server
 * API, the client key within its daily cap, a queue message delivered again, a segment transition),
 * adds one to its profile's counter for the type in the same transaction; a redemption that links a
 * tracking profile moves its counters onto the customer exactly once; deleting an anonymous profile
 * or erasing a person deletes theirs. Segment filters and validate read the counters.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../worker/src/env';
import worker from '../../worker/src/index';
import type { WriteMessage } from '../../worker/src/queue/messages';
import { CLIENT_HEADERS, api, call, deliver, json, settled } from './helpers';

const DAY = 86_400_000;

/** The counters of a profile, by type. */
const counters = async (profileId: string) => {
  const { results } = await env.DB.prepare('SELECT type, count, first_at, last_at FROM event_counters WHERE profile_id = ? ORDER BY type')
    .bind(profileId)
    .all<{ type: string; count: number; first_at: number; last_at: number }>();
  return Object.fromEntries(results.map((r) => [r.type, r]));
};
const counts = async (profileId: string) =>
  Object.fromEntries(Object.entries(await counters(profileId)).map(([type, c]) => [type, c.count]));
/** The raw events of a profile counted by type (what the counters must equal while none expired). */
const rawCounts = async (profileId: string) => {
  const { results } = await env.DB.prepare('SELECT type, count(*) AS n FROM events WHERE profile_id = ? GROUP BY type ORDER BY type')
    .bind(profileId)
    .all<{ type: string; n: number }>();
  return Object.fromEntries(results.map((r) => [r.type, r.n]));
};
const clientTrack = (body: unknown, bindings: Partial<Env> = {}) =>
  call(
    '/client/v1/events',
    { method: 'POST', headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json' }, body: JSON.stringify(body) },
    bindings,
  );
const customerId = async (sourceId: string) => (await json(await api('GET', `/v1/customers/${sourceId}`))).id as string;

describe('event counters', () => {
  it('count every API event, with the first and last time, equal to the raw rows', async () => {
    const before = Date.now();
    for (const event of ['viewed', 'viewed', 'liked', 'viewed'])
      expect((await api('POST', '/v1/events', { event, customer: { source_id: 'cnt-api' } })).status).toBe(200);
    await settled();
    const id = await customerId('cnt-api');
    const stored = await counters(id);
    expect(await counts(id)).toEqual({ liked: 1, viewed: 3 });
    expect(await counts(id)).toEqual(await rawCounts(id));
    const { results } = await env.DB.prepare(
      "SELECT min(created_at) AS first, max(created_at) AS last FROM events WHERE profile_id = ? AND type = 'viewed'",
    )
      .bind(id)
      .all<{ first: number; last: number }>();
    expect(stored.viewed).toMatchObject({ first_at: results[0]?.first, last_at: results[0]?.last });
    expect(stored.viewed?.first_at).toBeGreaterThanOrEqual(before);
    expect(stored.viewed?.last_at).toBeGreaterThanOrEqual(stored.viewed?.first_at ?? Infinity);
  });

  it('count segment entered and left events, which are events too', async () => {
    await api('POST', '/v1/segments', {
      name: 'cnt vip',
      type: 'auto-update',
      filter: { 'metadata.cnt_vip': { conditions: { $is: [true] } } },
    });
    const c = await json(await api('POST', '/v1/customers', { source_id: 'cnt-vip', metadata: { cnt_vip: true } }));
    await api('PUT', `/v1/customers/${c.id}`, { metadata: { cnt_vip: false } });
    await api('PUT', `/v1/customers/${c.id}`, { metadata: { cnt_vip: true } });
    expect(await counts(c.id)).toEqual({ 'customer.segment.entered': 2, 'customer.segment.left': 1 });
    expect(await counts(c.id)).toEqual(await rawCounts(c.id));
  });

  it("count a visitor's client events only up to the daily cap: a refused event counts nothing", async () => {
    const tid = 'track_CntCapCntCapCntCap0000';
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await clientTrack({ event: 'flood', customer: { source_id: tid } }, { CLIENT_EVENTS_PER_DAY: '3' })).status);
    await settled();
    // The read beside the send may lag the consumer, so a 429 may come late; the write is exact.
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(3);
    expect(await counts(tid)).toEqual({ flood: 3 });
    expect(await rawCounts(tid)).toEqual({ flood: 3 });
  });

  it('count a queue message delivered again once: its applied marker, and the event id, keep it single', async () => {
    const c = await json(await api('POST', '/v1/customers', { source_id: 'cnt-twice' }));
    const message: WriteMessage = {
      kind: 'customer_event',
      id: 'evmsg_cnt_twice',
      at: Date.now(),
      customer: { id: c.id },
      event: { id: 'evcus_cnt_twice', type: 'bought', metadata: {} },
    };
    await Promise.all([deliver([message]), deliver([message, message])]);
    await deliver([message]);
    const profile: WriteMessage = {
      kind: 'profile_event',
      id: 'evmsg_cnt_twice_p',
      at: Date.now(),
      tracking_id: 'track_CntTwiceCntTwiceCnt000',
      identity_hmac: null,
      event: { id: 'evcus_cnt_twice_p', type: 'viewed', metadata: {} },
      cap: null,
    };
    await Promise.all([deliver([profile]), deliver([profile])]);
    expect(await counts(c.id)).toEqual({ bought: 1 });
    expect(await counts('track_CntTwiceCntTwiceCnt000')).toEqual({ viewed: 1 });
  });

  it("a redemption's link moves the tracking profile's counters onto the customer's, exactly once", async () => {
    await api('POST', '/v1/vouchers/CNT-LINK', { discount: { type: 'AMOUNT', amount_off: 100 } });
    const tid = 'track_CntLinkCntLinkCntLi000';
    await api('POST', '/v1/events', { event: 'viewed', customer: { source_id: 'cnt-link' } });
    for (const event of ['viewed', 'viewed', 'carted']) await clientTrack({ event, customer: { source_id: tid } });
    await settled();
    const id = await customerId('cnt-link');
    const [customerBefore, profileBefore] = [await counters(id), await counters(tid)];
    expect(await counts(tid)).toEqual({ carted: 1, viewed: 2 });

    const redeem = () => api('POST', '/v1/vouchers/CNT-LINK/redemption', { customer: { source_id: 'cnt-link' }, tracking_id: tid });
    expect((await redeem()).status).toBe(200);
    expect(await counts(id)).toMatchObject({ carted: 1, viewed: 3 });
    expect(await counts(tid)).toEqual({});
    const merged = await counters(id);
    expect(merged.viewed?.first_at).toBe(Math.min(customerBefore.viewed?.first_at ?? 0, profileBefore.viewed?.first_at ?? 0));
    expect(merged.viewed?.last_at).toBe(Math.max(customerBefore.viewed?.last_at ?? 0, profileBefore.viewed?.last_at ?? 0));
    // The raw events moved too, for the activity feed.
    expect(await rawCounts(tid)).toEqual({});
    expect(await counts(id)).toEqual(await rawCounts(id));

    // Another redemption with the same tracking id (the link is set once) moves nothing again.
    expect((await redeem()).status).toBe(200);
    expect(await counts(id)).toMatchObject({ carted: 1, viewed: 3 });
    expect(await counts(id)).toEqual(await rawCounts(id));
  });

  it('filters and validate read the counters', async () => {
    const seg = await json(
      await api('POST', '/v1/segments', {
        name: 'cnt fans',
        type: 'passive',
        filter: { 'events.cnt_fan.count': { conditions: { $more_than_equal: [2] } } },
      }),
    );
    await api('POST', '/v1/vouchers/CNT-FAN', { discount: { type: 'AMOUNT', amount_off: 100 } });
    const rule = await json(
      await api('POST', '/v1/validation-rules', {
        name: 'fans',
        rules: { '1': { name: 'customer.segment', conditions: { $is: [seg.id] } } },
      }),
    );
    await api('POST', `/v1/validation-rules/${rule.id}/assignments`, { related_object_type: 'voucher', related_object_id: 'CNT-FAN' });
    const c = await json(await api('POST', '/v1/customers', { source_id: 'cnt-fan' }));
    // A counter with no raw row behind it (as after retention) is what both back ends read.
    await env.DB.prepare("INSERT INTO event_counters (profile_id, type, count, first_at, last_at) VALUES (?, 'cnt_fan', 2, 1, 2)")
      .bind(c.id)
      .run();
    expect(await rawCounts(c.id)).toEqual({});
    const members = await json(await api('GET', `/v1/customers?segment_id=${seg.id}`));
    expect(members.customers.map((m: { id: string }) => m.id)).toEqual([c.id]);
    const validation = await json(await api('POST', '/v1/vouchers/CNT-FAN/validate', { customer: { id: c.id } }));
    expect(validation.valid).toBe(true);
    const segments = await json(await api('GET', `/v1/customers/${c.id}/segments`));
    expect(segments.data.map((s: { id: string }) => s.id)).toContain(seg.id);
  });

  it('the cron deletes an anonymous profile past its retention with its counters; erasure deletes the counters of the person', async () => {
    const stale = 'track_CntStaleCntStaleCnt000';
    await clientTrack({ event: 'viewed', customer: { source_id: stale } });
    await settled();
    expect(await counts(stale)).toEqual({ viewed: 1 });
    await env.DB.prepare('UPDATE tracking_profiles SET last_seen = ? WHERE id = ?')
      .bind(Date.now() - 401 * DAY, stale)
      .run();
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: '*/15 * * * *' }), env as unknown as Env, ctx);
    await waitOnExecutionContext(ctx);
    expect(await counts(stale)).toEqual({});

    // Erasure: the customer's counters and those of its tracking profiles (linked or not).
    await api('POST', '/v1/vouchers/CNT-ERASE', { discount: { type: 'AMOUNT', amount_off: 100 } });
    const device = 'track_CntEraseCntEraseCnt000';
    await clientTrack({ event: 'viewed', customer: { source_id: device } });
    await api('POST', '/v1/events', { event: 'liked', customer: { source_id: 'cnt-erase' } });
    await settled();
    await api('POST', '/v1/vouchers/CNT-ERASE/redemption', { customer: { source_id: 'cnt-erase' }, tracking_id: device });
    // An event of the linked device after the link stays on the device.
    await clientTrack({ event: 'viewed', customer: { source_id: device } });
    await settled();
    const id = await customerId('cnt-erase');
    expect(await counts(id)).toEqual({ liked: 1, viewed: 1 });
    expect(await counts(device)).toEqual({ viewed: 1 });
    const report = await json(await api('POST', `/v1/customers/${id}/permanent-deletion`));
    expect(report.data_json).toMatchObject({ customer: 1, event_counters: 3 });
    expect(await counts(id)).toEqual({});
    expect(await counts(device)).toEqual({});
  });

  it("the migration's backfill counts the events stored before it, once per profile and type", async () => {
    const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith('0026_'));
    const backfill = migration?.queries.filter((q) => /^\s*INSERT INTO event_counters/i.test(q)) ?? [];
    expect(backfill).toHaveLength(1);
    // As before the migration: events stored, no counters.
    expect((await env.DB.prepare('SELECT count(*) AS n FROM events').first<{ n: number }>())?.n).toBeGreaterThan(10);
    await env.DB.prepare('DELETE FROM event_counters').run();
    await env.DB.prepare(backfill[0] as string).run();
    const stored = await env.DB.prepare(
      'SELECT profile_id, type, count, first_at, last_at FROM event_counters ORDER BY profile_id, type',
    ).all();
    const expected = await env.DB.prepare(
      'SELECT profile_id, type, count(*) AS count, min(created_at) AS first_at, max(created_at) AS last_at FROM events GROUP BY profile_id, type ORDER BY profile_id, type',
    ).all();
    expect(stored.results).toEqual(expected.results);
  });
});
