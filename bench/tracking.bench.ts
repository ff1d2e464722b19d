// Customer tracking at a store's volume, against `wrangler dev` (fresh storage, its own port, the
// queue settings of wrangler.toml: batches of 100, 5 retries, then the dead-letter queue). A store
// of BENCH_CUSTOMERS customers (5,000) is created through POST /v1/customers/bulk/async; then, with
// 0, 20 and 40 auto-update segments (five filter shapes mixing metadata, address,
// summary.orders.* and events.<type>.count, so that an event moves some memberships), a burst of
// BENCH_EVENTS events (20,000; `--quick`: 2,000) through POST /v1/events (server key, customers by
// source_id), then as many through POST /client/v1/events (anonymous tracking ids). Each burst is
// timed from its first send until the local D1 holds every event (a count polled from the SQLite
// file, see support/local-d1-file.ts), or an event reached the dead letters, or the time limit.
// Measured: events per second applied; D1 time per event from the consumer's COUNT_OPS lines
// (`{"consumer":{…,"applied","d1_ms"}}` on wrangler's stdout; n/a when the consumer prints none);
// dead letters after the 20-segment burst (goal 0); client validate p50/p99 alone and during that
// burst (goal: p99 during ≤ 2× alone); whether every event was counted and every segment's stored
// members equal its filter's SQL (POST /v1/segments/preview against the segment: nobody would enter
// or leave); bytes stored per event, raw row against counter row (dbstat); orders per second
// through POST /v1/orders/import (Voucherify's shape, at most 2,000 orders a request: OpenAPI
// documentation/openapi/orders.json line 1214, "There is a `2000` limit of orders per one
// request"), polled to DONE on GET /v1/async-actions/{id}; n/a while the route answers 404.
//
// Settings: BENCH_EVENTS, BENCH_CUSTOMERS, BENCH_ORDERS (10,000; `--quick` 2,000), BENCH_SENDERS
// (8 connections sending events), BENCH_CONCURRENCY (4 validate connections), BENCH_SECONDS (10,
// validate alone; `--quick` 5), BENCH_DRAIN_SECONDS (900: the most a burst may take to apply).
import { loadavg } from 'node:os';
import { gunzipSync } from 'node:zlib';
import type { DeliveryStats } from '../worker/src/consumers/writes';
import { archiveKey } from '../worker/src/services/event-retention';
import { startFreshWorker, type FreshWorker } from './support/fresh-worker';
import { formatLatencies, latencyUntil, type Latencies } from './support/latency';
import { localD1File, readLocalD1, sqliteReader, tableSizes } from './support/local-d1-file';
import { type BenchRow, formatCount } from './table';

const QUICK = process.argv.includes('--quick');
const EVENTS = Number(process.env.BENCH_EVENTS ?? (QUICK ? 2_000 : 20_000));
const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 5_000);
const ORDERS = Number(process.env.BENCH_ORDERS ?? (QUICK ? 2_000 : 10_000));
const SENDERS = Number(process.env.BENCH_SENDERS ?? 8);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const ALONE_MS = Number(process.env.BENCH_SECONDS ?? (QUICK ? 5 : 10)) * 1000;
const DRAIN_MS = Number(process.env.BENCH_DRAIN_SECONDS ?? 900) * 1000;
const STEPS = [0, 20, 40];
const BURST_SEGMENTS = 20;
const TRACKING_IDS = 1_000;
const ORDERS_PER_IMPORT = 2_000;
const BULK_RECORDS = 500;
const ORIGIN = 'https://bench.example';
const SERVER_TYPES = ['viewed_product', 'added_to_cart', 'order_paid', 'page_view'];
const CLIENT_TYPES = ['page_view', 'viewed_product'];
const TYPES = [...new Set([...SERVER_TYPES, ...CLIENT_TYPES])];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () => (loadavg()[0] as number).toFixed(1);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Segment i: one of five shapes, its thresholds moved by i so that no two segments are the same. */
function filterOf(i: number): Record<string, unknown> {
  const k = Math.floor(i / 5);
  const shapes = [
    {
      junction: 'and',
      'metadata.tier': { conditions: { $in: ['gold'] } },
      'events.viewed_product.count': { conditions: { $more_than: [k % 4] } },
    },
    {
      junction: 'or',
      'address.city': { conditions: { $in: [`City${k % 10}`, `City${(k + 1) % 10}`] } },
      'summary.orders.total_amount': { conditions: { $more_than: [200_000 + k * 1_000] } },
    },
    {
      junction: 'and',
      'events.added_to_cart.count': { conditions: { $more_than: [k % 3] } },
      'events.order_paid.count': { conditions: { $less_than: [1 + (k % 2)] } },
    },
    {
      junction: 'and',
      email: { conditions: { $ends_with: ['@example-mail.com'] } },
      'summary.orders.total_count': { conditions: { $more_than_equal: [1 + (k % 3)] } },
    },
    {
      junction: 'and',
      'metadata.ltv_bucket': { conditions: { $more_than: [k % 9] } },
      'events.page_view.count': { conditions: { $more_than: [k % 4] } },
    },
  ];
  return shapes[i % shapes.length] as Record<string, unknown>;
}

/** A tracking id of the SDK's format (track_ + 22 base64url characters). */
const trackingId = (j: number) => `track_${`bench${j}`.padEnd(22, 'x')}`;

/** The consumer's COUNT_OPS line: what one delivery did. */
type ConsumerLine = DeliveryStats;

interface Progress {
  server: number;
  client: number;
  dead: number;
}

export async function run(): Promise<BenchRow[]> {
  const deliveries: (ConsumerLine & { at: number })[] = [];
  const onLine = (line: string) => {
    const start = line.indexOf('{"consumer":');
    if (start < 0) return;
    try {
      deliveries.push({ ...(JSON.parse(line.slice(start)) as { consumer: ConsumerLine }).consumer, at: performance.now() });
    } catch {
      // a line cut short: not a delivery
    }
  };
  // EVENT_RETENTION_DAYS=0: the cron run the bench triggers at the end expires every raw event
  // written before it (wrangler dev runs no cron by itself, so nothing expires earlier).
  const extraVars = {
    ALLOWED_ORIGINS: ORIGIN,
    RATE_LIMITS: 'off',
    COUNT_OPS: 'on',
    CLIENT_EVENTS_PER_DAY: '1000000000',
    EVENT_RETENTION_DAYS: '0',
  };
  const t0 = performance.now();
  const worker = await startFreshWorker('tracking', { extraVars, onLine, testScheduled: true });
  try {
    console.log(
      `wrangler dev up in ${seconds(performance.now() - t0)}; polling the local D1 with ${sqliteReader() ?? 'wrangler d1 execute (slow)'}`,
    );
    return await measure(worker, deliveries);
  } finally {
    worker.dispose();
  }
}

async function measure(worker: FreshWorker, deliveries: (ConsumerLine & { at: number })[]): Promise<BenchRow[]> {
  const { baseUrl, vars } = worker;
  const rows: BenchRow[] = [];
  const area = 'Tracking';
  const row = (measure: string, value: string) => {
    console.log(`${measure}: ${value}`);
    rows.push({ area, measure, value });
  };
  const file = localD1File(worker.persist);
  const sql = async <Row>(text: string): Promise<Row[]> => (await readLocalD1<Row>(file, text)) ?? (await worker.query<Row>(text));
  const pollMs = sqliteReader() ? 250 : 3_000;

  // Events are counted by the counters where they exist, else by the raw rows.
  const [counters] = await sql<{ n: number }>(`SELECT count(*) AS n FROM sqlite_master WHERE name = 'event_counters'`);
  const counted = counters?.n ? { table: 'event_counters', amount: 'sum(count)' } : { table: 'events', amount: 'count(*)' };
  const typeList = TYPES.map((t) => `'${t}'`).join(', ');
  const progress = async (): Promise<Progress> => {
    const [p] = await sql<Progress>(
      `SELECT (SELECT coalesce(${counted.amount}, 0) FROM ${counted.table} WHERE type IN (${typeList}) AND profile_id NOT LIKE 'track%') AS server,
              (SELECT coalesce(${counted.amount}, 0) FROM ${counted.table} WHERE type IN (${typeList}) AND profile_id LIKE 'track%') AS client,
              (SELECT count(*) FROM dead_letters) AS dead`,
    );
    return p as Progress;
  };

  // The store: customers through the bulk API, 500 a request, each async action polled to DONE.
  let t = performance.now();
  const actions: string[] = [];
  for (let from = 0; from < CUSTOMERS; from += BULK_RECORDS) {
    const records = Array.from({ length: Math.min(BULK_RECORDS, CUSTOMERS - from) }, (_, n) => {
      const i = from + n;
      return {
        source_id: `tc-${i}`,
        name: `Customer ${i}`,
        email: `c${i}@${i % 3 === 0 ? 'example-mail.com' : 'example.com'}`,
        address: { city: `City${i % 10}`, country: 'Poland' },
        metadata: { tier: ['gold', 'silver', 'bronze'][i % 3], ltv_bucket: i % 10 },
      };
    });
    actions.push((await worker.api('POST', '/v1/customers/bulk/async', records)).async_action_id as string);
  }
  for (const id of actions) await untilDone(worker, id, DRAIN_MS);
  console.log(`${formatCount(CUSTOMERS)} customers created through the bulk API in ${seconds(performance.now() - t)}`);

  const code = `TRACK-${Date.now()}`;
  await worker.api('POST', `/v1/vouchers/${code}`, {
    discount: { type: 'PERCENT', percent_off: 10 },
    redemption: { quantity: 10_000_000 },
  });
  const clientHeaders = {
    'X-Client-Application-Id': vars.CLIENT_APP_ID ?? '',
    'X-Client-Token': vars.CLIENT_TOKEN ?? '',
    Origin: ORIGIN,
    'Content-Type': 'application/json',
  };
  const serverHeaders = { 'X-App-Id': vars.APP_ID ?? '', 'X-App-Token': vars.APP_TOKEN ?? '', 'Content-Type': 'application/json' };
  // No tracking id: the validate records nothing, so the write queue carries the burst alone.
  const validate = () => fetch(`${baseUrl}/client/v1/validate?code=${code}&amount=5000`, { headers: clientHeaders });
  const probe = (await (await validate()).json()) as { valid: boolean };
  if (!probe.valid) throw new Error(`the benchmark voucher should validate: ${JSON.stringify(probe)}`);

  // What was accepted, by way in and type: what the counts must add up to at the end.
  const sent = { server: new Map<string, number>(), client: new Map<string, number>() };
  let serverSent = 0; // events sent so far, for the customer and type of the next one
  let clientSent = 0;

  /** Sends `count` events on SENDERS connections; the accepted ones are added to `sent`. */
  async function send(source: 'server' | 'client', count: number, deadline: number) {
    let next = 0;
    let accepted = 0;
    const refused = new Map<string, number>();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: SENDERS }, async () => {
        while (next < count && performance.now() < deadline) {
          next++;
          const i = source === 'server' ? serverSent++ : clientSent++;
          const type =
            source === 'server' ? (SERVER_TYPES[Math.floor(i / 3) % SERVER_TYPES.length] as string) : (CLIENT_TYPES[i % 2] as string);
          const body =
            source === 'server'
              ? { event: type, customer: { source_id: `tc-${i % CUSTOMERS}` }, metadata: { product_id: `sku_${i % 50}`, price: 4999 } }
              : { event: type, customer: { source_id: trackingId(i % TRACKING_IDS) }, metadata: { path: `/p/${i % 50}` } };
          const res = await fetch(`${baseUrl}${source === 'server' ? '/v1/events' : '/client/v1/events'}`, {
            method: 'POST',
            headers: source === 'server' ? serverHeaders : clientHeaders,
            body: JSON.stringify(body),
          });
          const text = await res.text();
          if (res.ok) {
            accepted++;
            sent[source].set(type, (sent[source].get(type) ?? 0) + 1);
          } else {
            const key = `${res.status} ${text.slice(0, 120)}`;
            refused.set(key, (refused.get(key) ?? 0) + 1);
          }
        }
      }),
    );
    if (refused.size > 0) console.log(`${source} events refused: ${JSON.stringify([...refused])}`);
    return { accepted, sendMs: performance.now() - started };
  }

  /** Polls until the D1 holds `target` events, an event was dead-lettered for each missing one, or the deadline. */
  async function applied(target: Progress, deadline: number): Promise<Progress> {
    for (;;) {
      const p = await progress();
      const missing = Math.max(0, target.server - p.server) + Math.max(0, target.client - p.client);
      if (missing === 0 || p.dead - target.dead >= missing || performance.now() > deadline) return p;
      await sleep(pollMs);
    }
  }

  /** One burst through one way in: events per second applied, and the consumer's D1 time per event. */
  async function burst(source: 'server' | 'client', segments: number): Promise<Progress> {
    const before = await progress();
    const started = performance.now();
    const deadline = started + DRAIN_MS;
    const { accepted, sendMs } = await send(source, EVENTS, deadline);
    // Applied by the time the last one was sent: near all of them, and the sender was the bound.
    const atLastSend = (await progress())[source] - before[source];
    const target = { ...before, [source]: before[source] + accepted };
    const after = await applied(target, deadline);
    const ms = performance.now() - started;
    const done = after[source] - before[source];
    // The write queue's deliveries (not its dead-letter queue's, nor the webhook queue's).
    const lines = deliveries.filter((d) => d.at >= started && !/dlq|webhook/.test(d.queue));
    const sum = (k: keyof ConsumerLine) => lines.reduce((s, d) => s + Number(d[k] ?? 0), 0);
    const d1 =
      lines.length === 0
        ? 'D1 time n/a (the consumer printed no COUNT_OPS line)'
        : (() => {
            const per = (k: keyof ConsumerLine) => sum(k) / Math.max(1, sum('applied'));
            // What one D1 writer could apply if it did nothing else: the consumer's own capacity,
            // which the HTTP senders of this one machine cannot reach (they are the bound above).
            const capacity = per('batch_ms') > 0 ? `, so ${formatCount(1000 / per('batch_ms'))}/s per writer` : '';
            return (
              `D1 ${per('d1_ms').toFixed(2)} ms (batch wall time ${per('batch_ms').toFixed(2)} ms${capacity}) and ` +
              `${per('statements').toFixed(1)} statements per event (${lines.length} deliveries, ${sum('resent')} resent, ${sum('retried')} retried)`
            );
          })();
    const way = source === 'server' ? 'POST /v1/events' : 'POST /client/v1/events (anonymous)';
    row(
      `events/s applied, ${segments} auto-update segments, ${way}`,
      `${formatCount(done / (ms / 1000))}/s (${formatCount(done)} of ${formatCount(accepted)} in ${seconds(ms)}; sent in ${seconds(sendMs)}, ${formatCount(atLastSend)} applied by then; ${d1}; load ${load()})` +
        (done < accepted ? `; ${formatCount(accepted - done)} NOT applied, ${after.dead - before.dead} dead letters` : ''),
    );
    return after;
  }

  const segments: { id: string; filter: Record<string, unknown> }[] = [];
  let validateAlone: Latencies | undefined;
  let validateDuring: Latencies | undefined;
  let deadAfterBurst = 0;
  for (const step of STEPS) {
    t = performance.now();
    while (segments.length < step) {
      const filter = filterOf(segments.length);
      const created = await worker.api('POST', '/v1/segments', { name: `tracking ${segments.length}`, type: 'auto-update', filter });
      segments.push({ id: created.id as string, filter });
    }
    for (const s of segments) await untilSynced(worker, s.id);
    if (step > 0) console.log(`${step} auto-update segments synced in ${seconds(performance.now() - t)}`);
    if (step !== BURST_SEGMENTS) {
      await burst('server', step);
      await burst('client', step);
      continue;
    }
    await latencyUntil(validate, CONCURRENCY, 2_000); // warm-up
    validateAlone = await latencyUntil(validate, CONCURRENCY, ALONE_MS);
    const loadAlone = load();
    const bursts = (async () => {
      await sleep(300); // the window starts under load
      await burst('server', step);
      return burst('client', step);
    })();
    validateDuring = await latencyUntil(validate, CONCURRENCY, bursts);
    deadAfterBurst = (await bursts).dead;
    const ratio = validateDuring.p99 / Math.max(0.1, validateAlone.p99);
    row(
      `client validate alone / during the ${step}-segment bursts (${CONCURRENCY} connections)`,
      `${formatLatencies(validateAlone)}, load ${loadAlone} / ${formatLatencies(validateDuring)}, load ${load()}`,
    );
    row('client validate p99 during / alone (goal ≤ 2×)', `${ratio.toFixed(2)}× (${ratio <= 2 ? 'met' : 'NOT met'})`);
    row(`dead letters after a ${formatCount(EVENTS)}-event burst per way in, ${step} segments (goal 0)`, String(deadAfterBurst));
  }

  // Orders through the import, with every segment in place; a failure is a row, not the end of the run.
  const ordersCounted = async () =>
    (await sql<{ n: number }>('SELECT coalesce(sum(orders_total_count), 0) AS n FROM customers'))[0]?.n ?? 0;
  const ordersBefore = await ordersCounted();
  const orders = await importOrders(worker, baseUrl, serverHeaders).catch((error: Error) => `n/a (${error.message.slice(0, 200)})`);
  row(
    `orders/s through POST /v1/orders/import, ${segments.length} segments`,
    orders.startsWith('n/a')
      ? orders
      : `${orders}; summary.orders.total_count moved by ${formatCount((await ordersCounted()) - ordersBefore)}`,
  );

  // Exactness, once everything is written: the counts by the authoritative reader (wrangler d1 execute).
  const perType = async (table: string, amount: string) =>
    worker.query<{ source: string; type: string; n: number }>(
      `SELECT CASE WHEN profile_id LIKE 'track%' THEN 'client' ELSE 'server' END AS source, type, ${amount} AS n
       FROM ${table} WHERE type IN (${typeList}) GROUP BY 1, 2`,
    );
  const compare = (found: { source: string; type: string; n: number }[]) => {
    const wrong: string[] = [];
    for (const source of ['server', 'client'] as const)
      for (const type of TYPES) {
        const want = sent[source].get(type) ?? 0;
        const got = found.find((f) => f.source === source && f.type === type)?.n ?? 0;
        if (want !== got) wrong.push(`${source} ${type}: ${got} of ${want}`);
      }
    return wrong;
  };
  const total = [...sent.server.values(), ...sent.client.values()].reduce((a, b) => a + b, 0);
  const countedWrong = compare(await perType(counted.table, counted.amount));
  const rawWrong = counted.table === 'events' ? [] : compare(await perType('events', 'count(*)'));
  row(
    `every event counted (${counted.table === 'events' ? 'raw rows; no event_counters table' : 'event_counters, and the raw rows'})`,
    countedWrong.length === 0 && rawWrong.length === 0
      ? `yes: ${formatCount(total)} of ${formatCount(total)}`
      : `NO: ${[...countedWrong, ...rawWrong.map((w) => `raw ${w}`)].join('; ')}`,
  );
  let exact = 0;
  let members = 0;
  const off: string[] = [];
  for (const s of segments) {
    const preview = await worker.api('POST', '/v1/segments/preview', { filter: s.filter, against: s.id, limit: 0 });
    const moves = Number(preview.against?.entering?.count ?? 0) + Number(preview.against?.leaving?.count ?? 0);
    members += Number(preview.count);
    if (moves === 0) exact++;
    else off.push(`${s.id}: ${moves}`);
  }
  row(
    'segments whose stored members equal their filter\'s SQL (preview "against": none enter or leave)',
    `${exact} of ${segments.length} (${formatCount(members)} members in all)${off.length ? `; off: ${off.join(', ')}` : ''}`,
  );
  const [dead] = await worker.query<{ n: number; kinds: string | null }>(
    'SELECT count(*) AS n, group_concat(DISTINCT kind) AS kinds FROM dead_letters',
  );
  row('dead letters at the end (goal 0)', `${dead?.n ?? '?'}${dead?.kinds ? ` (${dead.kinds})` : ''}`);

  // Bytes per event: the raw row with its indexes against the counter row (dbstat, pages as on disk).
  const sizes = await tableSizes(file, ['events', 'event_counters']);
  const raw = sizes?.get('events');
  const counter = sizes?.get('event_counters');
  const perRow = (s: { bytes: number; rows: number }) => s.bytes / Math.max(1, s.rows);
  const [all] = counter ? await sql<{ n: number }>('SELECT coalesce(sum(count), 0) AS n FROM event_counters') : [];
  const countedAll = all?.n ?? 0;
  const tenGb = 10 * 1e9;
  row(
    'bytes stored per event: raw event row / counter row (table and its indexes)',
    !sizes
      ? 'n/a (no sqlite3 CLI or Python sqlite3 here; wrangler d1 execute has no dbstat)'
      : `${raw ? `${perRow(raw).toFixed(0)} B per raw row (${formatCount(raw.rows)} rows)` : 'no events table'} / ` +
          (counter
            ? `${perRow(counter).toFixed(0)} B per counter row (${formatCount(counter.rows)} rows counting ${formatCount(countedAll)} events, ${(countedAll / Math.max(1, counter.rows)).toFixed(1)} a row; a row's size does not grow with its count)`
            : 'no event_counters table'),
  );
  if (raw && counter)
    row(
      'per 10 GB of D1: raw event rows / counter rows (profile × event type)',
      `${formatCount(tenGb / perRow(raw))} / ${formatCount(tenGb / perRow(counter))}`,
    );
  // What the rest of a customer costs, for the capacity of one database (docs/benchmarks.md).
  const others = await tableSizes(file, [
    'customers',
    'segment_members',
    'tracking_profiles',
    'orders',
    'customer_products',
    'order_activities',
  ]);
  if (others)
    row(
      'bytes per row, table with its indexes',
      [...others]
        .filter(([, size]) => size.rows > 0)
        .map(([table, size]) => `${table} ${perRow(size).toFixed(0)} B (${formatCount(size.rows)} rows)`)
        .join('; '),
    );
  for (const [measure, value] of await expireEvents(worker, sql)) row(measure, value);
  row(
    'load average at the end (2-minute runs on a shared machine: read the figures with it)',
    `${load()} (1 min), ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' / ')}`,
  );
  return rows;
}

/**
 * Raw events expire: the 15-minute cron, run through wrangler dev's /__scheduled until no raw event
 * is left (each run archives a bounded amount). Then the counters and the stored memberships must
 * be as before, and the R2 archive (its objects named from event_archive_hours, as
 * services/event-retention.ts names them) must hold every expired event exactly once.
 */
async function expireEvents(worker: FreshWorker, sql: <Row>(text: string) => Promise<Row[]>): Promise<[string, string][]> {
  const counters = () =>
    worker.query<{ type: string; n: number }>('SELECT type, sum(count) AS n FROM event_counters GROUP BY type ORDER BY type');
  const members = () =>
    worker.query<{ segment_id: string; n: number }>('SELECT segment_id, count(*) AS n FROM segment_members GROUP BY 1 ORDER BY 1');
  const [countersBefore, membersBefore] = [JSON.stringify(await counters()), JSON.stringify(await members())];
  const ids = new Set((await sql<{ id: string }>('SELECT id FROM events')).map((r) => r.id));
  const left = async () => (await sql<{ n: number }>('SELECT count(*) AS n FROM events'))[0]?.n ?? 0;
  const started = performance.now();
  let runs = 0;
  for (let remaining = ids.size; remaining > 0 && runs < 50 && performance.now() - started < DRAIN_MS; runs++) {
    const res = await fetch(`${worker.baseUrl}/__scheduled?cron=${encodeURIComponent('*/15 * * * *')}`);
    if (!res.ok) throw new Error(`/__scheduled: ${res.status}`);
    // The archive runs in waitUntil: wait until the count stops moving.
    for (let last = -1; remaining !== last;) {
      last = remaining;
      await sleep(2_000);
      remaining = await left();
    }
  }
  const ms = performance.now() - started;
  const hours = await worker.query<{ hour: number; parts: number; events: number }>('SELECT hour, parts, events FROM event_archive_hours');
  const keys = hours.flatMap(({ hour, parts }) => Array.from({ length: parts }, (_, part) => archiveKey(hour, part)));
  const seen = new Map<string, number>();
  let bytes = 0;
  for (const key of keys) {
    const object = worker.r2Object('vouchsafe-event-archive', key);
    bytes += object.length;
    for (const line of gunzipSync(object).toString('utf8').split('\n')) {
      if (!line) continue;
      const { id } = JSON.parse(line) as { id: string };
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
  }
  const missing = [...ids].filter((id) => !seen.has(id)).length;
  const twice = [...seen.values()].filter((n) => n > 1).length;
  const extra = [...seen.keys()].filter((id) => !ids.has(id)).length;
  const rawLeft = await left();
  return [
    [
      `raw events expired (EVENT_RETENTION_DAYS=0, ${runs} cron runs)`,
      `${formatCount(ids.size - rawLeft)} of ${formatCount(ids.size)} in ${seconds(ms)}; ${formatCount(rawLeft)} raw rows left`,
    ],
    [
      'counters and stored memberships unchanged after the raw events expired',
      JSON.stringify(await counters()) === countersBefore && JSON.stringify(await members()) === membersBefore ? 'yes' : 'NO',
    ],
    [
      'R2 archive holds every expired event exactly once',
      `${missing === 0 && twice === 0 && extra === 0 ? 'yes' : 'NO'}: ${formatCount(seen.size)} events in ${keys.length} objects ` +
        `(${(bytes / Math.max(1, seen.size)).toFixed(1)} B per event compressed); ${missing} missing, ${twice} twice, ${extra} unknown`,
    ],
  ];
}

/** Polls an async action until it leaves IN_PROGRESS (bounded); throws unless DONE. */
async function untilDone(worker: FreshWorker, id: string, limitMs: number): Promise<Record<string, any>> {
  const deadline = performance.now() + limitMs;
  while (performance.now() < deadline) {
    const action = await worker.api('GET', `/v1/async-actions/${id}`);
    if (action.status === 'DONE') return action;
    if (action.status === 'FAILED') throw new Error(`async action ${id} failed: ${JSON.stringify(action).slice(0, 300)}`);
    await sleep(250);
  }
  throw new Error(`async action ${id} not DONE after ${seconds(limitMs)}`);
}

async function untilSynced(worker: FreshWorker, id: string): Promise<void> {
  const deadline = performance.now() + DRAIN_MS;
  while (performance.now() < deadline) {
    if ((await worker.api('GET', `/v1/segments/${id}`)).initial_sync_status === 'DONE') return;
    await sleep(200);
  }
  throw new Error(`segment ${id} not synced after ${seconds(DRAIN_MS)}`);
}

/** ORDERS orders, 2,000 a request, each paid by one of the store's customers; "n/a (…)" when the import is not there. */
async function importOrders(worker: FreshWorker, baseUrl: string, headers: Record<string, string>): Promise<string> {
  const started = performance.now();
  const ids: string[] = [];
  for (let from = 0; from < ORDERS; from += ORDERS_PER_IMPORT) {
    const orders = Array.from({ length: Math.min(ORDERS_PER_IMPORT, ORDERS - from) }, (_, n) => {
      const j = from + n;
      const amount = 1_000 + ((j * 7_919) % 100_000);
      return {
        source_id: `bench-order-${j}`,
        status: 'PAID',
        amount,
        items: [{ sku_id: `sku_${j % 50}`, quantity: 1, price: amount }],
        customer: { source_id: `tc-${j % CUSTOMERS}` },
      };
    });
    const res = await fetch(`${baseUrl}/v1/orders/import`, { method: 'POST', headers, body: JSON.stringify(orders) });
    const body = (await res.json().catch(() => ({}))) as Record<string, any>;
    if (res.status === 404) return 'n/a (route missing)';
    if (!res.ok || typeof body.async_action_id !== 'string') return `n/a (answered ${res.status}: ${JSON.stringify(body).slice(0, 200)})`;
    ids.push(body.async_action_id);
  }
  const results = [];
  for (const id of ids) results.push(await untilDone(worker, id, DRAIN_MS));
  const ms = performance.now() - started;
  return `${formatCount(ORDERS / (ms / 1000))}/s (${formatCount(ORDERS)} orders in ${ids.length} imports, DONE after ${seconds(ms)}; load ${load()}; first result ${JSON.stringify(results[0]?.result ?? null).slice(0, 120)})`;
}
