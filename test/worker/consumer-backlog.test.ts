/**
 * The WRITES consumer under a backlog (worker/src/consumers/writes.ts): a delivery whose record
 * messages outgrow its statement budget sends the rest again as new messages and acknowledges
 * them; it retries only faults, so nothing reaches the dead-letter queue but poison messages, and
 * every event is applied once with exact memberships. Driven as write-queue.test.ts does: the
 * pool's createMessageBatch / getQueueResult, and the real local queue.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { compileSql, parseFilter } from '../../shared/filter';
import type { Env } from '../../worker/src/env';
import worker from '../../worker/src/index';
import { sendBatchGroups, WRITES_QUEUE, type WriteMessage } from '../../worker/src/queue/messages';
import { api, capturingQueue, settled } from './helpers';

const SEGMENTS = 40;
const CUSTOMERS = 100;
const cid = (i: number) => `cust_backlog${String(i).padStart(3, '0')}`;
const TYPES = ['viewed', 'carted', 'bought', 'shared', 'reviewed'];

/** 40 auto-update segments over the events the test sends, the metadata and the customer's own fields. */
function filterOf(k: number): Record<string, unknown> {
  const type = TYPES[k % TYPES.length] as string;
  switch (k % 4) {
    case 0:
      return { [`events.${type}.count`]: { conditions: { $more_than_equal: [1 + (k % 3)] } } };
    case 1:
      return {
        junction: 'or',
        [`events.${type}.count`]: { conditions: { $more_than: [k % 5] } },
        'metadata.tier': { conditions: { $in: ['gold'] } },
      };
    case 2:
      return { [`events.${type}.count`]: { conditions: { $less_than: [2] } }, email: { conditions: { $ends_with: ['.com'] } } };
    default:
      return { 'metadata.n': { conditions: { $more_than: [k] } }, [`events.${type}.count`]: { conditions: { $more_than_equal: [1] } } };
  }
}

let delivery = 0;
/** Each segment's members right after its initial sync. */
const initialMembers = new Map<string, Set<string>>();

/** Delivers `bodies` as one batch (attempt 1, as every new message starts) with `bindings` changed; which were acked, which retried. */
async function deliver(bodies: WriteMessage[], bindings: Partial<Env> = {}) {
  const batch = createMessageBatch(
    WRITES_QUEUE,
    bodies.map((body, i) => ({ id: `backlog-${++delivery}-${i}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, { ...env, ...bindings } as unknown as Env);
  const result = await getQueueResult(batch, ctx);
  const ids = batch.messages.map((m) => m.id);
  return {
    acked: ids.filter((id) => result.explicitAcks.includes(id) || result.ackAll),
    retried: ids.filter((id) => result.retryMessages.some((r: { msgId: string }) => r.msgId === id)),
  };
}

const events = (round: string, at: number): WriteMessage[] =>
  Array.from({ length: CUSTOMERS }, (_, i) => ({
    kind: 'customer_event',
    id: `evmsg_${round}_${i}`,
    at: at + i,
    // A server event that also updates the customer (10 statements with the refresh): 100 of them
    // pass one delivery's 900.
    customer: { id: cid(i), fields: { metadata: { tier: (i + round.length) % 5 === 0 ? 'gold' : 'silver', n: (i * round.length) % 50 } } },
    event: { id: `evcus_${round}_${i}`, type: TYPES[(i + round.length) % TYPES.length] as string, metadata: { i } },
  }));

const count = async (sql: string, ...params: unknown[]) =>
  (
    await env.DB.prepare(sql)
      .bind(...params)
      .first<{ n: number }>()
  )?.n ?? -1;

/** Every auto-update segment's stored members equal its filter's SQL over all customers; entered minus left equals membership. */
async function expectMembershipExact(): Promise<void> {
  const { results: segments } = await env.DB.prepare("SELECT id, filter FROM segments WHERE type = 'auto-update'").all<{
    id: string;
    filter: string;
  }>();
  expect(segments.length).toBe(SEGMENTS);
  for (const s of segments) {
    const where = compileSql(parseFilter(JSON.parse(s.filter)), Date.now());
    const truth = await env.DB.prepare(`SELECT id FROM customers c WHERE ${where.sql} ORDER BY id`)
      .bind(...where.params)
      .all<{ id: string }>();
    const stored = await env.DB.prepare('SELECT customer_id AS id FROM segment_members WHERE segment_id = ? ORDER BY customer_id')
      .bind(s.id)
      .all<{ id: string }>();
    expect([s.id, stored.results]).toEqual([s.id, truth.results]);
    // Each transition recorded once: for each customer, the entered events minus the left ones are
    // 1 for a member that was not one after the initial sync (which records no event), -1 for one
    // that was and left, 0 otherwise.
    const { results: net } = await env.DB.prepare(
      `SELECT profile_id AS id, sum(CASE type WHEN 'customer.segment.entered' THEN 1 ELSE -1 END) AS net FROM events
       WHERE type IN ('customer.segment.entered', 'customer.segment.left') AND metadata ->> '$.segment.id' = ?
       GROUP BY profile_id`,
    )
      .bind(s.id)
      .all<{ id: string; net: number }>();
    const nets = new Map(net.map((r) => [r.id, r.net]));
    const members = new Set(stored.results.map((r) => r.id));
    const initial = initialMembers.get(s.id) ?? new Set<string>();
    for (let i = 0; i < CUSTOMERS; i++) {
      const c = cid(i);
      const expected = members.has(c) === initial.has(c) ? 0 : members.has(c) ? 1 : -1;
      expect([s.id, c, nets.get(c) ?? 0]).toEqual([s.id, c, expected]);
    }
  }
  expect(await count('SELECT count(*) AS n FROM segment_matches')).toBe(0);
}

beforeAll(async () => {
  const now = Date.now() - 60_000;
  await env.DB.batch(
    Array.from({ length: CUSTOMERS }, (_, i) =>
      env.DB.prepare('INSERT INTO customers (id, source_id, email, metadata, created_at) VALUES (?, ?, ?, ?, ?)').bind(
        cid(i),
        `backlog-${i}`,
        `b${i}@example.${i % 2 ? 'com' : 'org'}`,
        JSON.stringify({ tier: i % 7 === 0 ? 'gold' : 'silver', n: i % 50 }),
        now - (CUSTOMERS - i) * 1000,
      ),
    ),
  );
  for (let k = 0; k < SEGMENTS; k++) {
    const res = await api('POST', '/v1/segments', { name: `backlog ${k}`, type: 'auto-update', filter: filterOf(k) });
    expect(res.status).toBe(200);
    const { id } = (await res.json()) as { id: string };
    const { results } = await env.DB.prepare('SELECT customer_id FROM segment_members WHERE segment_id = ?')
      .bind(id)
      .all<{ customer_id: string }>();
    initialMembers.set(id, new Set(results.map((r) => r.customer_id)));
  }
}, 60_000);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a delivery that outgrows its statement budget', () => {
  it('sends the rest again as new messages, retries none, and every event is applied once with exact memberships', async () => {
    const queue = capturingQueue();
    let pending = events('a', Date.now());
    const rounds: { delivered: number; acked: number; retried: number; resent: number }[] = [];
    while (pending.length > 0 && rounds.length < 10) {
      queue.sent.length = 0;
      const result = await deliver(pending, { WRITES: queue as never });
      rounds.push({ delivered: pending.length, acked: result.acked.length, retried: result.retried.length, resent: queue.sent.length });
      // What was sent again is the same bodies (the same ids), as new messages: each starts at attempt 1.
      for (const m of queue.sent) expect(pending.map((p) => p.id)).toContain(m.id);
      pending = [...queue.sent];
    }
    // 100 events at 40 segments do not fit one delivery's budget: some were sent again, none retried.
    expect(rounds.length).toBeGreaterThan(1);
    expect(rounds.at(-1)?.resent).toBe(0);
    expect(rounds.every((r) => r.retried === 0 && r.acked === r.delivered)).toBe(true);
    expect(rounds[0]?.resent).toBeGreaterThan(0);
    // Within Queues' sendBatch limits.
    expect(queue.batches.every((b) => b.messages <= 100 && b.bytes <= 256_000)).toBe(true);
    expect(await count("SELECT count(*) AS n FROM applied_messages WHERE id GLOB 'evmsg_a_*'")).toBe(CUSTOMERS);
    expect(await count("SELECT count(*) AS n FROM events WHERE id GLOB 'evcus_a_*'")).toBe(CUSTOMERS);
    await expectMembershipExact();
  });

  it('through the real queue: the re-sent messages are consumed, nothing reaches the dead-letter queue', async () => {
    const log = vi.spyOn(console, 'log');
    const first = await deliver(events('bb', Date.now()), { COUNT_OPS: 'on' });
    expect(first.retried).toEqual([]);
    expect(first.acked.length).toBe(CUSTOMERS);
    // One JSON line for the delivery (docs/benchmarks.md): what it applied and sent again.
    const lines = log.mock.calls.map((c) => String(c[0])).filter((l) => l.startsWith('{"consumer"'));
    expect(lines.length).toBe(1);
    const stats = JSON.parse(lines[0] as string).consumer;
    expect(stats).toMatchObject({ queue: WRITES_QUEUE, messages: CUSTOMERS, retried: 0 });
    expect(stats.applied + stats.resent).toBe(CUSTOMERS);
    expect(stats.resent).toBeGreaterThan(0);
    expect(stats.statements).toBeGreaterThan(stats.applied);
    expect(stats.statements).toBeLessThanOrEqual(900);
    expect(typeof stats.d1_ms).toBe('number');
    expect(stats.batch_ms).toBeGreaterThanOrEqual(0);
    // The re-sent ones went through the real queue (the helpers' recording binding waits for their markers).
    await settled(60_000);
    expect(await count("SELECT count(*) AS n FROM applied_messages WHERE id GLOB 'evmsg_bb_*'")).toBe(CUSTOMERS);
    expect(await count("SELECT count(*) AS n FROM events WHERE id GLOB 'evcus_bb_*'")).toBe(CUSTOMERS);
    expect(await count('SELECT count(*) AS n FROM dead_letters')).toBe(0);
    await expectMembershipExact();
  }, 90_000);

  it('sends large messages again in several sendBatch calls, each within 100 messages and 256 KB', async () => {
    const queue = capturingQueue();
    // 100 events of about 40 KB each: the 10 past the budget are 400 KB, more than one call carries.
    const big = events('dd', Date.now()).map((m) => ({
      ...m,
      event: { ...(m as { event: object }).event, metadata: { pad: 'x'.repeat(40_000) } },
    }));
    const result = await deliver(big as WriteMessage[], { WRITES: queue as never });
    expect(result.retried).toEqual([]);
    expect(result.acked.length).toBe(CUSTOMERS);
    expect(queue.sent.length).toBeGreaterThan(0);
    expect(queue.batches.length).toBeGreaterThan(1);
    expect(queue.batches.every((b) => b.messages <= 100 && b.bytes <= 256_000)).toBe(true);
    expect(queue.batches.reduce((n, b) => n + b.messages, 0)).toBe(queue.sent.length);
    // Delivered again as new messages, they are applied; nothing was lost or written twice.
    let pending = [...queue.sent];
    for (let round = 0; pending.length > 0 && round < 5; round++) {
      queue.sent.length = 0;
      expect((await deliver(pending, { WRITES: queue as never })).retried).toEqual([]);
      pending = [...queue.sent];
    }
    expect(await count("SELECT count(*) AS n FROM events WHERE id GLOB 'evcus_dd_*'")).toBe(CUSTOMERS);
    await expectMembershipExact();
  });

  it('retries the messages whose sending failed (a fault), and only those', async () => {
    const failing = { send: async () => {}, sendBatch: async () => Promise.reject(new Error('Queue send failed')) };
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const result = await deliver(events('eee', Date.now()), { WRITES: failing as never });
    expect(result.retried.length).toBeGreaterThan(0);
    expect(result.acked.length + result.retried.length).toBe(CUSTOMERS);
    // The retried ones were not written: a redelivery applies them.
    expect(await count("SELECT count(*) AS n FROM applied_messages WHERE id GLOB 'evmsg_eee_*'")).toBe(result.acked.length);
  });

  it('groups messages for sendBatch by count and by bytes', () => {
    const sizes = (groups: number[][]) => groups.map((g) => [g.length, g.reduce((a, b) => a + b, 0)]);
    expect(sizes(sendBatchGroups(Array(250).fill(1_000), (b) => b))).toEqual([
      [100, 100_000],
      [100, 100_000],
      [50, 50_000],
    ]);
    expect(sizes(sendBatchGroups([100_000, 100_000, 100_000, 56_000, 1], (b) => b))).toEqual([
      [2, 200_000],
      [3, 156_001],
    ]);
    // One message alone over the limit still gets a call (which refuses it: a fault, retried).
    expect(sizes(sendBatchGroups([300_000, 1], (b) => b))).toEqual([
      [1, 300_000],
      [1, 1],
    ]);
    expect(sendBatchGroups([], () => 1)).toEqual([]);
  });

  it('logs nothing unless COUNT_OPS=on', async () => {
    const log = vi.spyOn(console, 'log');
    await deliver(events('ccc', Date.now()).slice(0, 3), { WRITES: capturingQueue() as never });
    expect(log.mock.calls.filter((c) => String(c[0]).startsWith('{"consumer"'))).toEqual([]);
  });
});
