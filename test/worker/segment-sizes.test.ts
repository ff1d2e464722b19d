/**
 * A segment's size history (our addition; migration 0019): the cron records each
 * segment's size once per UTC day, GET /v1/segments/{id}/sizes reads it back oldest first.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../worker/src/env';
import worker from '../../worker/src/index';
import { recordSegmentSizes } from '../../worker/src/services/segment-sizes';
import { api, capturingQueue, json } from './helpers';

const DAY = 86_400_000;
const NOON = Date.UTC(2031, 4, 10, 12);

async function runCron(at: number): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(
    createScheduledController({ scheduledTime: at, cron: '*/15 * * * *' }),
    { ...env, WRITES: capturingQueue() } as unknown as Env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
}

const rows = async (segmentId: string) =>
  (
    await env.DB.prepare('SELECT day, size FROM segment_sizes WHERE segment_id = ? ORDER BY day')
      .bind(segmentId)
      .all<{ day: string; size: number }>()
  ).results;

const tier = (t: string) => ({ 'metadata.stier': { conditions: { $is: [t] } } });

describe('segment size history', () => {
  it('records one row per segment per UTC day: a second run the same day overwrites it, the next day adds one', async () => {
    const a = await json(await api('POST', '/v1/customers', { source_id: 'size-a', metadata: { stier: 'gold' } }));
    await api('POST', '/v1/customers', { source_id: 'size-b', metadata: { stier: 'silver' } });
    const auto = await json(await api('POST', '/v1/segments', { name: 'gold', type: 'auto-update', filter: tier('gold') }));
    const passive = await json(await api('POST', '/v1/segments', { name: 'silver', type: 'passive', filter: tier('silver') }));
    const fixed = await json(await api('POST', '/v1/segments', { name: 'picked', type: 'static', customers: ['size-a', 'size-b'] }));

    await runCron(NOON);
    expect(await rows(auto.id)).toEqual([{ day: '2031-05-10', size: 1 }]);
    expect(await rows(passive.id)).toEqual([{ day: '2031-05-10', size: 1 }]);
    expect(await rows(fixed.id)).toEqual([{ day: '2031-05-10', size: 2 }]);

    // Later the same UTC day, with more members: still one row, now with the later count.
    await api('POST', '/v1/customers', { source_id: 'size-c', metadata: { stier: 'gold' } });
    await api('POST', '/v1/customers', { source_id: 'size-d', metadata: { stier: 'silver' } });
    await runCron(NOON + 11 * 3_600_000 + 59 * 60_000); // 23:59 UTC
    expect(await rows(auto.id)).toEqual([{ day: '2031-05-10', size: 2 }]);
    expect(await rows(passive.id)).toEqual([{ day: '2031-05-10', size: 2 }]);

    // The next day: a second row.
    await api('PUT', `/v1/customers/${a.id}`, { metadata: { stier: 'bronze' } });
    await runCron(NOON + DAY);
    expect(await rows(auto.id)).toEqual([
      { day: '2031-05-10', size: 2 },
      { day: '2031-05-11', size: 1 },
    ]);
    expect(await rows(fixed.id)).toEqual([
      { day: '2031-05-10', size: 2 },
      { day: '2031-05-11', size: 2 },
    ]);

    // Deleting a segment deletes its history.
    expect((await api('DELETE', `/v1/segments/${auto.id}`)).status).toBe(204);
    expect(await rows(auto.id)).toEqual([]);
    expect(await env.DB.prepare('SELECT count(*) AS n FROM segment_sizes WHERE segment_id = ?').bind(auto.id).first('n')).toBe(0);
    await api('DELETE', `/v1/segments/${passive.id}`);
    await api('DELETE', `/v1/segments/${fixed.id}`);
  });

  it('counts a passive filter over customers walked in several ranges, exactly', async () => {
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 7000)
       INSERT INTO customers (id, source_id, metadata, created_at)
       SELECT printf('cust_size%05d', i), 'size-many-' || i, json_object('stier', CASE i % 7 WHEN 0 THEN 'many' ELSE 'few' END), ? + i FROM n`,
    )
      .bind(NOON + 10 * DAY)
      .run();
    const many = await json(await api('POST', '/v1/segments', { name: 'many', type: 'passive', filter: tier('many') }));
    const few = await json(await api('POST', '/v1/segments', { name: 'few', type: 'passive', filter: tier('few') }));
    const report = await recordSegmentSizes(env.DB, NOON + 2 * DAY);
    expect(report.passive).toBe(2);
    expect(await rows(many.id)).toEqual([{ day: '2031-05-12', size: 1000 }]);
    expect(await rows(few.id)).toEqual([{ day: '2031-05-12', size: 6000 }]);
    // The same count as the member list.
    expect((await json(await api('GET', `/v1/customers?segment_id=${many.id}&limit=1`))).total).toBe(1000);

    // A walk the budget cannot finish records no passive size (a partial count would be wrong).
    const short = await recordSegmentSizes(env.DB, NOON + 3 * DAY, { calls: 1, deadline: Date.now() + 60_000 });
    expect(short.passive).toBe(0);
    expect(await rows(many.id)).toEqual([{ day: '2031-05-12', size: 1000 }]);
    await api('DELETE', `/v1/segments/${many.id}`);
    await api('DELETE', `/v1/segments/${few.id}`);
  });

  it('GET /v1/segments/{id}/sizes: the last `days` days, oldest first, in a list', async () => {
    const seg = await json(await api('POST', '/v1/segments', { name: 'history', type: 'passive', filter: tier('none') }));
    const today = new Date().toISOString().slice(0, 10);
    const dayBefore = (n: number) => new Date(Date.now() - n * DAY).toISOString().slice(0, 10);
    for (const [day, size] of [
      [dayBefore(40), 4],
      [dayBefore(29), 29],
      [dayBefore(1), 1],
      [today, 0],
    ] as const) {
      await env.DB.prepare('INSERT INTO segment_sizes (segment_id, day, size) VALUES (?, ?, ?)').bind(seg.id, day, size).run();
    }
    const list = await json(await api('GET', `/v1/segments/${seg.id}/sizes`));
    expect(list).toEqual({
      object: 'list',
      data_ref: 'data',
      data: [
        { day: dayBefore(29), size: 29 },
        { day: dayBefore(1), size: 1 },
        { day: today, size: 0 },
      ],
      total: 3,
    });
    expect((await json(await api('GET', `/v1/segments/${seg.id}/sizes?days=1`))).data).toEqual([{ day: today, size: 0 }]);
    expect((await json(await api('GET', `/v1/segments/${seg.id}/sizes?days=365`))).total).toBe(4);
    for (const days of ['0', '366', 'x', '1.5']) {
      const res = await api('GET', `/v1/segments/${seg.id}/sizes?days=${days}`);
      expect(res.status).toBe(400);
      expect((await json(res)).details).toContain('days');
    }
    expect((await api('GET', '/v1/segments/seg_missing/sizes')).status).toBe(404);
  });
});
