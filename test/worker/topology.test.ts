import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Env } from '../../worker/src/env';
import { observedBindings, STORAGE_OPS, type StorageOp } from '../../worker/src/lib/storage-ops';
import { delaying, FAR_DELAYS, topologyDelays } from '../../worker/src/lib/topology';
import { api, call, CLIENT_HEADERS, json, SERVER_HEADERS } from './helpers';

// A far location, the worst case the hot path is designed for: a D1 primary round trip 120 ms, a read a replica may serve
// 8 ms, a KV read 2 ms, a KV write 60 ms, a queue send 3 ms.
const ISSUE_DELAYS = { d1_primary: 120, d1_replica: 8, kv_reads: 2, kv_writes: 60, queue_sends: 3 };

describe('topologyDelays (SIMULATE_TOPOLOGY, TOPOLOGY_DELAYS)', () => {
  it('simulates nothing unless SIMULATE_TOPOLOGY is exactly "far"', () => {
    expect(topologyDelays({})).toBeNull();
    for (const value of ['', 'off', 'near', 'FAR', ' far', 'far ']) expect(topologyDelays({ SIMULATE_TOPOLOGY: value })).toBeNull();
    // Overrides alone turn nothing on.
    expect(topologyDelays({ TOPOLOGY_DELAYS: 'd1_primary=150' })).toBeNull();
  });

  it('far: the delays of the issue, one per class', () => {
    expect(topologyDelays({ SIMULATE_TOPOLOGY: 'far' })).toEqual(ISSUE_DELAYS);
    expect(topologyDelays({ SIMULATE_TOPOLOGY: 'far', TOPOLOGY_DELAYS: '' })).toEqual(ISSUE_DELAYS);
    expect(Object.keys(ISSUE_DELAYS).sort()).toEqual([...STORAGE_OPS].sort());
  });

  it('applies each override, spaces around the pairs allowed, 0 included, the last of a repeated class winning', () => {
    expect(
      topologyDelays({
        SIMULATE_TOPOLOGY: 'far',
        TOPOLOGY_DELAYS: 'd1_primary=150, queue_sends = 5 ,kv_reads=0,d1_replica=1.5,d1_replica=9',
      }),
    ).toEqual({
      ...ISSUE_DELAYS,
      d1_primary: 150,
      queue_sends: 5,
      kv_reads: 0,
      d1_replica: 9,
    });
  });

  it('ignores junk: unknown classes, prototype keys, negative, non-numeric, infinite and empty values', () => {
    const junk = [
      'nope=5',
      'D1_PRIMARY=7',
      '__proto__=1',
      'constructor=1',
      'toString=1',
      'kv_reads=-1',
      'kv_writes=abc',
      'd1_replica=',
      '=7',
      'queue_sends',
      'd1_primary=Infinity',
      'd1_primary=NaN',
      ',,,',
      'kv_writes=1=2',
    ].join(',');
    const delays = topologyDelays({ SIMULATE_TOPOLOGY: 'far', TOPOLOGY_DELAYS: junk });
    expect(delays).toEqual(ISSUE_DELAYS);
    expect(Object.getPrototypeOf(delays)).toBe(Object.prototype);
    // A good pair among junk still counts.
    expect(topologyDelays({ SIMULATE_TOPOLOGY: 'far', TOPOLOGY_DELAYS: `${junk},kv_writes=11` })).toEqual({
      ...ISSUE_DELAYS,
      kv_writes: 11,
    });
  });

  it('never changes the defaults it starts from', () => {
    topologyDelays({ SIMULATE_TOPOLOGY: 'far', TOPOLOGY_DELAYS: 'd1_primary=1' });
    expect(FAR_DELAYS).toEqual(ISSUE_DELAYS);
  });
});

/** The waits an observer asked for, in order, without any timer: nothing here depends on the clock. */
function recordingWaits() {
  const waits: number[] = [];
  return { waits, wait: (ms: number) => (waits.push(ms), Promise.resolve()) };
}

describe('delaying: each storage operation waits its class delay', () => {
  it('on real D1 and KV: binding reads and writes at the primary, session reads at a replica except a first-primary start', async () => {
    const { waits, wait } = recordingWaits();
    const delays = topologyDelays({ SIMULATE_TOPOLOGY: 'far', TOPOLOGY_DELAYS: 'kv_writes=7' });
    if (!delays) throw new Error('far must simulate');
    const b = observedBindings(env as unknown as Env, delaying(delays, wait));

    const step = async (label: string, run: () => Promise<unknown>) => {
      const before = waits.length;
      await run();
      return [label, waits.slice(before)];
    };
    const steps = [
      await step('read on the binding', () => b.DB.prepare('SELECT 1 AS one').first()),
      await step('write on the binding', () => b.DB.prepare('UPDATE customers SET name = name WHERE id = ?').bind('cust_nobody').run()),
      await step('read batch on the binding', () => b.DB.batch([b.DB.prepare('SELECT 1'), b.DB.prepare('SELECT 2')])),
      await step('unconstrained session read', () => b.DB.withSession('first-unconstrained').prepare('SELECT 1').all()),
      await step('first-primary session: first read, then a read', async () => {
        const session = b.DB.withSession('first-primary');
        await session.prepare('SELECT 1').first();
        await session.prepare('SELECT 2').first();
      }),
      await step('session batch: reads, then with a write', async () => {
        const session = b.DB.withSession('first-unconstrained');
        await session.batch([session.prepare('SELECT 1'), session.prepare('SELECT 2')]);
        await session.batch([session.prepare('SELECT 1'), session.prepare('DELETE FROM customers WHERE id = ?').bind('cust_nobody')]);
      }),
      await step('KV get, put, delete, list', async () => {
        await b.CACHE.get('topology-test');
        await b.CACHE.put('topology-test', 'x');
        await b.CACHE.delete('topology-test');
        await b.CACHE.list({ prefix: 'topology-test' });
      }),
    ];
    expect(Object.fromEntries(steps)).toEqual({
      'read on the binding': [120],
      'write on the binding': [120],
      'read batch on the binding': [120],
      'unconstrained session read': [8],
      'first-primary session: first read, then a read': [120, 8],
      'session batch: reads, then with a write': [8, 120],
      // kv_writes overridden to 7.
      'KV get, put, delete, list': [2, 7, 7, 2],
    });
  });

  it('a class set to 0 does not wait at all', async () => {
    const { waits, wait } = recordingWaits();
    const delays = topologyDelays({ SIMULATE_TOPOLOGY: 'far', TOPOLOGY_DELAYS: 'kv_reads=0,d1_replica=0' });
    if (!delays) throw new Error('far must simulate');
    const b = observedBindings(env as unknown as Env, delaying(delays, wait));
    await b.CACHE.get('topology-zero');
    await b.DB.withSession('first-unconstrained').prepare('SELECT 1').first();
    expect(waits).toEqual([]);
    await b.DB.prepare('SELECT 1').first();
    expect(waits).toEqual([120]);
  });
});

describe('SIMULATE_TOPOLOGY=far on the worker: what is counted is what is delayed', () => {
  afterEach(() => vi.restoreAllMocks());

  /**
   * A request with SIMULATE_TOPOLOGY=far and COUNT_OPS=on: the timers it asked for (recorded and
   * fired at once, so no test waits on the clock) and its X-Vouchsafe-Ops counts.
   */
  async function simulated(path: string, init: RequestInit, bindings: Partial<Env> = {}) {
    const timers: number[] = [];
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((callback: () => void, ms?: number) => {
      timers.push(ms ?? 0);
      callback();
      return 0;
    }) as unknown as typeof setTimeout);
    const res = await call(path, init, { SIMULATE_TOPOLOGY: 'far', COUNT_OPS: 'on', ...bindings });
    vi.restoreAllMocks();
    const body = await res.text();
    const ops = Object.fromEntries(
      (res.headers.get('X-Vouchsafe-Ops') ?? '').split(', ').map((pair) => {
        const [key, value] = pair.split('=');
        return [key, Number(value)];
      }),
    ) as Record<StorageOp, number>;
    return { status: res.status, body, timers: timers.sort((a, b) => a - b), ops };
  }

  /** The delays the counts call for, under `delays`, sorted like the recorded timers. */
  const delaysOf = (ops: Record<StorageOp, number>, delays = ISSUE_DELAYS) =>
    STORAGE_OPS.flatMap((op) => Array.from({ length: ops[op] }, () => delays[op]))
      .filter((ms) => ms > 0)
      .sort((a, b) => a - b);

  const track = (trackingId: string) => ({
    method: 'POST',
    headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json' },
    body: JSON.stringify({ event: 'viewed_product', customer: { source_id: trackingId } }),
  });

  it('client track: one read a replica may serve (8 ms) and one queue send (3 ms)', async () => {
    const r = await simulated('/client/v1/events', track('track_TopologyTopologyTopo01'));
    expect(r.status).toBe(200);
    expect(r.ops).toEqual({ d1_primary: 0, d1_replica: 1, kv_reads: 0, kv_writes: 0, queue_sends: 1 });
    expect(r.timers).toEqual([3, 8]);
  });

  it('READ_REPLICAS=off: the same read waits for the primary (120 ms)', async () => {
    const r = await simulated('/client/v1/events', track('track_TopologyTopologyTopo02'), { READ_REPLICAS: 'off' });
    expect(r.status).toBe(200);
    expect(r.ops).toEqual({ d1_primary: 1, d1_replica: 0, kv_reads: 0, kv_writes: 0, queue_sends: 1 });
    expect(r.timers).toEqual([3, 120]);
  });

  it('client validate and redeem: every counted operation waits its class delay, overrides included', async () => {
    await api('POST', '/v1/vouchers/TOPO-1', { discount: { type: 'AMOUNT', amount_off: 100 }, redemption: { quantity: 10 } });
    const validate = () =>
      simulated('/client/v1/validate?code=TOPO-1&amount=5000&tracking_id=track_TopologyTopologyTopo03', { headers: CLIENT_HEADERS });
    const cold = await validate();
    expect(JSON.parse(cold.body)).toMatchObject({ valid: true });
    // Cold, the definition is read from D1 and KV and written to KV: several classes in one request.
    expect(cold.ops.kv_reads + cold.ops.kv_writes).toBeGreaterThan(0);
    expect(cold.timers).toEqual(delaysOf(cold.ops));
    const warm = await validate();
    expect(warm.timers).toEqual(delaysOf(warm.ops));
    expect(warm.timers.length).toBeGreaterThan(0);

    const overrides = 'd1_primary=150,kv_writes=61';
    const redeem = await simulated(
      '/v1/vouchers/TOPO-1/redemption',
      {
        method: 'POST',
        headers: { ...SERVER_HEADERS, 'Content-Type': 'application/json' },
        body: JSON.stringify({ customer: { source_id: 'topo-1' }, order: { amount: 5000 } }),
      },
      { TOPOLOGY_DELAYS: overrides },
    );
    expect(redeem.status).toBe(200);
    expect(redeem.ops.d1_primary).toBeGreaterThan(0);
    expect(redeem.timers).toEqual(delaysOf(redeem.ops, { ...ISSUE_DELAYS, d1_primary: 150, kv_writes: 61 }));
    expect((await json(await api('GET', '/v1/vouchers/TOPO-1'))).redemption.redeemed_quantity).toBe(1);
  });

  it('without SIMULATE_TOPOLOGY nothing waits', async () => {
    const r = await simulated('/client/v1/events', track('track_TopologyTopologyTopo04'), { SIMULATE_TOPOLOGY: undefined });
    expect(r.status).toBe(200);
    expect(r.ops.d1_replica + r.ops.queue_sends).toBe(2);
    expect(r.timers).toEqual([]);
  });
});
