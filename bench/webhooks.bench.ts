// Webhook delivery against `wrangler dev` (its local queues and D1) and real receivers
// on 127.0.0.1 that verify every delivery with the standardwebhooks library:
//
// (a) latency from a write to the receiver's 2xx, p50/p99 over BENCH_WEBHOOK_WRITES writes (goal:
//     p99 ≤ 5 s). The write is POST /v1/customers/bulk/async, whose async action ends in the
//     request: the 0021 trigger writes async_action.done in the same transaction, and the request
//     wakes the dispatcher after answering. (Once the triggers of 0022 are merged, any write works
//     the same way: POST /v1/customers and customer.created.)
// (b) BENCH_WEBHOOK_EVENTS events (10,000) fanned out to 3 endpoints, one answering 500 half the
//     time: every event delivered to each, none twice as seen by a receiver deduping on
//     webhook-id (duplicates, which at least once allows, are counted apart), time to drain.
//     The events are seeded straight into webhook_outbox before the worker starts (no route writes
//     test events); one write then wakes the dispatcher.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { type FreshWorker, startFreshWorker } from './support/fresh-worker';
import { type BenchRow, formatCount } from './table';

const WRITES = Number(process.env.BENCH_WEBHOOK_WRITES ?? 100);
const EVENTS = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 10_000);
/** One write every this many ms in (a): a steady trickle, not a burst. */
const WRITE_EVERY_MS = 100;
/** (b)'s flaky receiver fails half the time: 24 retries make a dead delivery a 1-in-33-million event. */
const FLAKY_DELAYS = ['1', '1', ...Array.from({ length: 22 }, () => '2')].join(',');
const DRAIN_TIMEOUT_MS = 30 * 60_000;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

interface Receiver {
  url: string;
  server: Server;
  /** webhook-ids answered 2xx, with when. */
  acknowledged: Map<string, number>;
  /** Requests for an id already answered 2xx (at least once allows them; they must be rare). */
  duplicates: number;
  requests: number;
  badSignatures: number;
  /** data.id of each payload answered 2xx, with when (for (a)). */
  objects: Map<string, number>;
}

async function receiver(secret: () => string, fails: () => boolean): Promise<Receiver> {
  const r: Receiver = {
    url: '',
    server: undefined as unknown as Server,
    acknowledged: new Map(),
    duplicates: 0,
    requests: 0,
    badSignatures: 0,
    objects: new Map(),
  };
  r.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      r.requests++;
      const body = Buffer.concat(chunks).toString('utf8');
      let payload: { id: string; data: { id?: string } };
      try {
        payload = new Webhook(secret()).verify(body, req.headers as IncomingHttpHeaders as Record<string, string>) as typeof payload;
      } catch {
        r.badSignatures++;
        res.writeHead(400).end();
        return;
      }
      if (fails()) {
        res.writeHead(500).end();
        return;
      }
      const id = String(req.headers['webhook-id']);
      if (r.acknowledged.has(id)) r.duplicates++;
      else r.acknowledged.set(id, performance.now());
      if (payload.data.id) r.objects.set(payload.data.id, performance.now());
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(r.server.address() as AddressInfo).port}/hooks`;
  return r;
}

const close = (r: Receiver) =>
  new Promise((resolve) => {
    r.server.closeAllConnections();
    r.server.close(resolve);
  });

async function latency(): Promise<BenchRow[]> {
  let secret = '';
  const rx = await receiver(
    () => secret,
    () => false,
  );
  const worker: FreshWorker = await startFreshWorker('webhooks-latency', { extraVars: { RATE_LIMITS: 'off' } });
  try {
    const hook = await worker.api('POST', '/v1/webhooks', { url: rx.url, events: ['async_action.done'] });
    secret = hook.secret;
    // Warm-up: the first write compiles and opens connections.
    await worker.api('POST', '/v1/customers/bulk/async', [{ source_id: 'warm-up' }]);
    const started = new Map<string, number>();
    const writes: Promise<void>[] = [];
    for (let i = 0; i < WRITES; i++) {
      writes.push(
        (async () => {
          const at = performance.now();
          const { async_action_id } = await worker.api('POST', '/v1/customers/bulk/async', [{ source_id: `latency-${i}` }]);
          started.set(async_action_id, at);
        })(),
      );
      await new Promise((r) => setTimeout(r, WRITE_EVERY_MS));
    }
    await Promise.all(writes);
    const deadline = performance.now() + 60_000;
    while ([...started.keys()].some((id) => !rx.objects.has(id)) && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const latencies = [...started]
      .flatMap(([id, at]) => (rx.objects.has(id) ? [(rx.objects.get(id) as number) - at] : []))
      .sort((a, b) => a - b);
    const missing = started.size - latencies.length;
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    console.log(
      `write -> receiver 2xx over ${latencies.length} writes: p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms, max ${(latencies.at(-1) ?? 0).toFixed(0)} ms; ${missing} not delivered; ${rx.badSignatures} bad signatures`,
    );
    if (missing > 0 || rx.badSignatures > 0) throw new Error('webhook latency: deliveries missing or unverifiable');
    return [
      {
        area: 'Webhooks',
        measure: `write (bulk/async, async_action.done) to receiver 2xx, ${formatCount(latencies.length)} writes 1 per ${WRITE_EVERY_MS} ms (goal p99 ≤ 5 s)`,
        value: `p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms`,
      },
    ];
  } finally {
    worker.dispose();
    await close(rx);
  }
}

async function fanOut(): Promise<BenchRow[]> {
  const secrets: string[] = ['', '', ''];
  const receivers = [
    await receiver(
      () => secrets[0] as string,
      () => false,
    ),
    await receiver(
      () => secrets[1] as string,
      () => false,
    ),
    await receiver(
      () => secrets[2] as string,
      () => Math.random() < 0.5,
    ),
  ];
  const now = Date.now();
  const seedSql = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${EVENTS})
     INSERT INTO webhook_outbox (id, type, object_id, snapshot, created_at)
     SELECT 'evt_bench_' || i, 'customer.created', 'cust_' || i, json_object('id', 'cust_' || i, 'object', 'customer'), ${now} + i FROM n`;
  const worker = await startFreshWorker('webhooks-fanout', {
    seedSql,
    extraVars: { RATE_LIMITS: 'off', WEBHOOK_RETRY_DELAYS: FLAKY_DELAYS },
  });
  try {
    const hooks = [];
    for (const [i, r] of receivers.entries()) {
      const hook = await worker.api('POST', '/v1/webhooks', { url: r.url, events: ['customer.created'] });
      secrets[i] = hook.secret;
      hooks.push(hook);
    }
    const t0 = performance.now();
    // Any write wakes the dispatcher.
    await worker.api('POST', '/v1/customers', { source_id: 'wake-up' });
    let lastLog = t0;
    while (receivers.some((r) => r.acknowledged.size < EVENTS) && performance.now() - t0 < DRAIN_TIMEOUT_MS) {
      await new Promise((r) => setTimeout(r, 200));
      if (performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        console.log(
          `  ${((lastLog - t0) / 1000).toFixed(0)} s: ${receivers.map((r) => formatCount(r.acknowledged.size)).join(' / ')} delivered`,
        );
      }
    }
    if (receivers.some((r) => r.acknowledged.size < EVENTS)) {
      // Say where the rest stand before giving up.
      const states = await worker.queryAfterStop<{ endpoint_id: string; status: string; n: number; attempts: number }>(
        `SELECT endpoint_id, status, count(*) AS n, max(attempts) AS attempts FROM webhook_deliveries GROUP BY endpoint_id, status`,
      );
      const undispatched = await worker.queryAfterStop<{ n: number }>(
        'SELECT count(*) AS n FROM webhook_outbox WHERE dispatched_at IS NULL',
      );
      console.log(`not drained: deliveries ${JSON.stringify(states)}; undispatched events ${undispatched[0]?.n}`);
      throw new Error(`webhook fan-out: not drained within ${DRAIN_TIMEOUT_MS / 1000} s`);
    }
    const drained = Math.max(...receivers.map((r) => Math.max(0, ...r.acknowledged.values()))) - t0;
    // Late duplicates would show after the drain: wait a little for them.
    await new Promise((r) => setTimeout(r, 5000));
    const dead = (await worker.api('GET', `/v1/webhooks/${(hooks[2] as { id: string }).id}/deliveries?status=dead&limit=100`)).deliveries
      .length;
    const line = receivers.map(
      (r, i) =>
        `${['steady A', 'steady B', 'flaky C'][i]}: ${formatCount(r.acknowledged.size)} distinct, ${r.duplicates} duplicates, ${formatCount(r.requests)} requests, ${r.badSignatures} bad signatures`,
    );
    console.log(
      `drained in ${(drained / 1000).toFixed(1)} s (${formatCount((EVENTS * 3) / (drained / 1000))} deliveries/s); ${line.join('; ')}; ${dead} dead`,
    );
    if (receivers.some((r) => r.acknowledged.size !== EVENTS || r.badSignatures > 0))
      throw new Error('webhook fan-out: not every event delivered to every endpoint');
    const flaky = receivers[2] as Receiver;
    return [
      {
        area: 'Webhooks',
        measure: `${formatCount(EVENTS)} events x 3 endpoints (one failing 50%), time to drain`,
        value: `${(drained / 1000).toFixed(1)} s (${formatCount((EVENTS * 3) / (drained / 1000))} deliveries/s)`,
      },
      {
        area: 'Webhooks',
        measure: 'distinct events delivered per endpoint (A / B / flaky C)',
        value: receivers.map((r) => formatCount(r.acknowledged.size)).join(' / '),
      },
      {
        area: 'Webhooks',
        measure: 'duplicates seen after a 2xx (A / B / C), at least once allows them',
        value: receivers.map((r) => r.duplicates).join(' / '),
      },
      { area: 'Webhooks', measure: 'flaky C: requests for its events (retries included)', value: formatCount(flaky.requests) },
    ];
  } finally {
    worker.dispose();
    for (const r of receivers) await close(r);
  }
}

export async function run(): Promise<BenchRow[]> {
  const only = process.env.BENCH_WEBHOOKS_PART;
  return [...(only && only !== 'latency' ? [] : await latency()), ...(only && only !== 'fanout' ? [] : await fanOut())];
}
