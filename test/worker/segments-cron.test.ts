import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import worker from '../../worker/src/index';
import { api, json } from './helpers';

const DAY = 86_400_000;

async function runCron(at: number) {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime: at, cron: '*/15 * * * *' }), env, ctx);
  await waitOnExecutionContext(ctx);
}

describe('the cron trigger', () => {
  it('moves customers across a clock-relative filter with no write, each transition once', async () => {
    const seg = await json(
      await api('POST', '/v1/segments', {
        name: 'recent buyers',
        filter: { 'summary.orders.last_order_date': { conditions: { $less_than: [30] } } },
      }),
    );
    const c = await json(await api('POST', '/v1/customers', { source_id: 'cron-1' }));
    // Orders arrive with redemptions (a later issue); here the summary is set as a redemption would.
    const now = Date.now();
    await env.DB.prepare('UPDATE customers SET orders_last_order_date = ?, orders_total_count = 1 WHERE id = ?')
      .bind(now - 10 * DAY, c.id)
      .run();
    await runCron(now);
    const members = async () => (await json(await api('GET', `/v1/customers?segment_id=${seg.id}`))).customers.map((x: any) => x.id);
    expect(await members()).toEqual([c.id]);

    // 25 days later the last order is 35 days old: the customer leaves without any write.
    await runCron(now + 25 * DAY);
    expect(await members()).toEqual([]);
    await runCron(now + 26 * DAY);

    // The feed also holds customer.created (OA CustomerActivity types): only the transitions count here.
    const transitions = (await json(await api('GET', `/v1/customers/${c.id}/activity?limit=100`))).data
      .map((e: any) => e.type)
      .filter((type: string) => type.startsWith('customer.segment.'));
    expect(transitions).toEqual(['customer.segment.left', 'customer.segment.entered']);
  });

  it('leaves segments whose filter does not depend on the clock alone', async () => {
    const seg = await json(await api('POST', '/v1/segments', { name: 'named', filter: { name: { conditions: { $has_value: true } } } }));
    const stored = await env.DB.prepare('SELECT time_relative FROM segments WHERE id = ?').bind(seg.id).first<{ time_relative: number }>();
    expect(stored?.time_relative).toBe(0);
  });
});
