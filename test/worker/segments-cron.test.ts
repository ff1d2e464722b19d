import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../worker/src/env';
import worker from '../../worker/src/index';
import type { SegmentRecomputeMessage, WriteMessage } from '../../worker/src/queue/messages';
import { BEFORE_ALL, continueInitialSync, runSegmentJob } from '../../worker/src/services/segment-sync';
import { api, capturingQueue, deliver, eventually, json } from './helpers';

const DAY = 86_400_000;

/** The cron at `at`, with what it sends kept; the messages are then delivered to the consumer. */
async function runCron(at: number): Promise<WriteMessage[]> {
  const queue = capturingQueue();
  const ctx = createExecutionContext();
  await worker.scheduled(
    createScheduledController({ scheduledTime: at, cron: '*/15 * * * *' }),
    { ...env, WRITES: queue } as unknown as Env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  if (queue.sent.length > 0) {
    const result = await deliver(queue.sent);
    expect(result.explicitAcks.length).toBe(queue.sent.length);
  }
  return queue.sent;
}

const members = async (segmentId: string): Promise<string[]> =>
  (await json(await api('GET', `/v1/customers?segment_id=${segmentId}&limit=100`))).customers.map((x: any) => x.id).sort();

const recentBuyers = { 'summary.orders.last_order_date': { conditions: { $less_than: [30] } } };

describe('the cron trigger', () => {
  it('moves customers across a clock-relative filter with no write, each transition once', async () => {
    const seg = await json(await api('POST', '/v1/segments', { name: 'recent buyers', filter: recentBuyers }));
    const c = await json(await api('POST', '/v1/customers', { source_id: 'cron-1' }));
    // Orders arrive with redemptions (a later issue); here the summary is set as a redemption would.
    const now = Date.now();
    await env.DB.prepare('UPDATE customers SET orders_last_order_date = ?, orders_total_count = 1 WHERE id = ?')
      .bind(now - 10 * DAY, c.id)
      .run();
    await runCron(now);
    expect(await members(seg.id)).toEqual([c.id]);

    // 25 days later the last order is 35 days old: the customer leaves without any write.
    await runCron(now + 25 * DAY);
    expect(await members(seg.id)).toEqual([]);
    await runCron(now + 26 * DAY);

    // The feed also holds customer.created (OA CustomerActivity types): only the transitions count here.
    const transitions = (await json(await api('GET', `/v1/customers/${c.id}/activity?limit=100`))).data
      .map((e: any) => e.type)
      .filter((type: string) => type.startsWith('customer.segment.'));
    expect(transitions).toEqual(['customer.segment.left', 'customer.segment.entered']);
    await api('DELETE', `/v1/segments/${seg.id}`);
  });

  it('sends one job message per clock-relative segment and none for the others; the consumer walks each', async () => {
    const a = await json(await api('POST', '/v1/segments', { name: 'recent a', filter: recentBuyers }));
    const b = await json(
      await api('POST', '/v1/segments', {
        name: 'recent b',
        type: 'auto-update',
        filter: { 'summary.orders.last_order_date': { conditions: { $less_than: [60] } } },
      }),
    );
    const named = await json(await api('POST', '/v1/segments', { name: 'named', filter: { name: { conditions: { $has_value: true } } } }));
    const stored = await env.DB.prepare('SELECT time_relative FROM segments WHERE id = ?')
      .bind(named.id)
      .first<{ time_relative: number }>();
    expect(stored?.time_relative).toBe(0);
    const c = await json(await api('POST', '/v1/customers', { source_id: 'cron-jobs', name: 'Named' }));
    const now = Date.now();
    await env.DB.prepare('UPDATE customers SET orders_last_order_date = ?, orders_total_count = 1 WHERE id = ?')
      .bind(now - 40 * DAY, c.id)
      .run();

    // The raw write above refreshed no membership: only the walk can put c in b.
    expect(await members(b.id)).not.toContain(c.id);
    const sent = await runCron(now);
    const recomputes = sent.filter((m): m is SegmentRecomputeMessage => m.kind === 'segment_recompute');
    expect(recomputes.map((m) => m.segment_id).sort()).toEqual([a.id, b.id].sort());
    for (const m of recomputes) expect(m).toMatchObject({ now, after: BEFORE_ALL });
    // Delivered: the 40-day-old order is within b's 60 days only.
    expect(await members(a.id)).not.toContain(c.id);
    expect(await members(b.id)).toContain(c.id);
    expect(await members(named.id)).toContain(c.id);
    for (const s of [a, b, named]) await api('DELETE', `/v1/segments/${s.id}`);
  });

  it('through the real queue: the messages the cron sends reach the consumer, which recomputes', async () => {
    const seg = await json(await api('POST', '/v1/segments', { name: 'recent, queued', filter: recentBuyers }));
    const c = await json(await api('POST', '/v1/customers', { source_id: 'cron-queued' }));
    const now = Date.now();
    await env.DB.prepare('UPDATE customers SET orders_last_order_date = ? WHERE id = ?')
      .bind(now - 10 * DAY, c.id)
      .run();
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: now, cron: '*/15 * * * *' }), env, ctx);
    await waitOnExecutionContext(ctx);
    await eventually(async () => ((await members(seg.id)).includes(c.id) ? true : undefined), 30_000, 'the recompute');
    await api('DELETE', `/v1/segments/${seg.id}`);
  }, 40_000);

  it('a walk out of budget sends a message for the rest, from its cursor (recompute and initial sync)', async () => {
    const CUSTOMERS = 2_500;
    const base = Date.now() - 1_000 * DAY;
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
       INSERT INTO customers (id, source_id, orders_last_order_date, created_at) SELECT 'cust_walk' || i, 'walk-' || i, ?3, ?2 + i FROM n`,
    )
      .bind(CUSTOMERS, base, Date.now() - 5 * DAY)
      .run();
    const seg = await json(await api('POST', '/v1/segments', { name: 'recent, walked', filter: recentBuyers }));
    expect((await members(seg.id)).length).toBeGreaterThan(0);
    const count = async () =>
      (
        await env.DB.prepare("SELECT count(*) AS n FROM segment_members WHERE segment_id = ? AND customer_id LIKE 'cust_walk%'")
          .bind(seg.id)
          .first<{ n: number }>()
      )?.n;
    expect(await count()).toBe(CUSTOMERS);

    // 40 days on, every one of them leaves: one step per job, each sending the rest.
    const later = Date.now() + 40 * DAY;
    const queue = capturingQueue();
    let message: WriteMessage = { kind: 'segment_recompute', id: 'job_walk', at: later, segment_id: seg.id, now: later, after: BEFORE_ALL };
    let jobs = 0;
    for (;;) {
      const report = await runSegmentJob(env.DB, queue, message as SegmentRecomputeMessage, { calls: 1, deadline: Date.now() + 60_000 });
      jobs++;
      if (report.status === 'DONE') break;
      const next = queue.sent.at(-1) as SegmentRecomputeMessage;
      expect(next).toMatchObject({ kind: 'segment_recompute', segment_id: seg.id, now: later, after: report.cursor });
      expect(next.after).toBeGreaterThan(message.kind === 'segment_recompute' ? message.after : BEFORE_ALL);
      message = next;
      expect(jobs).toBeLessThan(20);
    }
    expect(jobs).toBeGreaterThan(1);
    expect(queue.sent.length).toBe(jobs - 1);
    expect(await count()).toBe(0);

    // An initial sync that outlasts its budget goes on as a segment_sync job, delivered to the consumer.
    await env.DB.prepare("UPDATE segments SET initial_sync_status = 'IN_PROGRESS', sync_cursor = ? WHERE id = ?")
      .bind(BEFORE_ALL, seg.id)
      .run();
    await env.DB.prepare('DELETE FROM segment_members WHERE segment_id = ?').bind(seg.id).run();
    const syncQueue = capturingQueue();
    expect((await continueInitialSync(env.DB, syncQueue, seg.id, { calls: 1, deadline: Date.now() + 60_000 })).status).toBe('IN_PROGRESS');
    expect(syncQueue.sent).toEqual([expect.objectContaining({ kind: 'segment_sync', segment_id: seg.id })]);
    await deliver(syncQueue.sent);
    expect((await json(await api('GET', `/v1/segments/${seg.id}`))).initial_sync_status).toBe('DONE');
    expect(await count()).toBe(CUSTOMERS);
    await api('DELETE', `/v1/segments/${seg.id}`);
  }, 60_000);
});
