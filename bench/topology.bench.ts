// The checkout routes as a shopper far from the D1 primary meets them: `wrangler dev` with
// SIMULATE_TOPOLOGY=far (worker/src/lib/topology.ts) waits, for each storage operation, what that
// location waits in production (D1 primary 120 ms, a replica-servable session read 8 ms, KV read
// 2 ms, KV write 60 ms, queue send 3 ms). Measured twice: the edge path (reads through a D1 session,
// validate and track record through the queue), then READ_REPLICAS=off, every query forced to the
// primary. Prints p50/p99 of GET /health, client validate, client track and server redeem under
// both, the ratio primary-only / edge, the goals (validate ≤ health + 30 ms, track ≤ health +
// 15 ms, redeem ≤ health + 260 ms, at p50), the X-Vouchsafe-Ops of one warm request of each route,
// how soon a client event counts in a segment rule (the queue consumer writes it; its batches wait
// up to max_batch_timeout = 1 s), and the edge path once more with every delay 0: the local cost
// that wrangler dev adds on top of the simulated waits. Also client qualifications over 200 active
// offers (codes seeded through the API, a mix of discounts, rules and windows), goal p50 ≤ health
// p50 + 30 ms; a worker without POST /client/v1/qualifications gives the row "route missing (404)".
//
// Requests are sequential (one at a time): latency, not throughput. BENCH_REQUESTS (default 150) and
// BENCH_SECONDS (default 30) bound each route; BENCH_VISIBILITY_TRIES (default 20) the event tries.
// TOPOLOGY_DELAYS="d1_primary=150,..." is handed to the worker (all zero: the local cost alone).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devVars, freePort, waitForHealth } from './edge.bench';
import { STORAGE_OPS } from '../worker/src/lib/storage-ops';
import type { BenchRow } from './table';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 150);
const ROUTE_MS = Number(process.env.BENCH_SECONDS ?? 30) * 1000;
const VISIBILITY_TRIES = Number(process.env.BENCH_VISIBILITY_TRIES ?? 20);
/** Longest wait for one event to count before the try is reported as never seen. */
const VISIBILITY_TIMEOUT_MS = 15_000;
const POLL_MS = 20;
const WARM_UP = 10;
const ORIGIN = 'https://bench.example';
const wrangler = 'node_modules/wrangler/bin/wrangler.js';
const GOALS = { validate: 30, track: 15, redeem: 260, qualifications: 30 } as const;
/** Active offers a client qualifications request judges. */
const OFFERS = 200;
/** Voucher creations in flight at once while seeding the offers (each is a primary write). */
const SEED_CONCURRENCY = 10;
const delayOverrides: Record<string, string> = process.env.TOPOLOGY_DELAYS ? { TOPOLOGY_DELAYS: process.env.TOPOLOGY_DELAYS } : {};

interface Latency {
  p50: number;
  p99: number;
  count: number;
}

interface Measured {
  health: Latency;
  validate: Latency;
  track: Latency;
  redeem: Latency;
  /** null: the worker has no POST /client/v1/qualifications (it answered 404). */
  qualifications: Latency | null;
  /** How many offers one warm qualifications answer listed (its redeemables.total). */
  qualified: number | null;
  ops: { validate: string; track: string; redeem: string; qualifications: string };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

function summary(latencies: number[]): Latency {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), count: sorted.length };
}

/** A tracking id of the shape the worker accepts (track_ + 22 characters), distinct per `n`. */
const trackingId = (label: string, n: number) => {
  const id = `${label}_${String(n).padStart(8, '0')}`;
  if (id.length > 22) throw new Error(`tracking id label too long: ${label}`);
  return `track_${id.padEnd(22, 'x')}`;
};

/** `wrangler dev` on a free port with fresh local storage and these vars; stop() ends its process group. */
export async function startWorker(vars: Record<string, string>, fixedPort?: number) {
  const persist = mkdtempSync(join(tmpdir(), 'vouchsafe-topology-'));
  const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' };
  spawnSync(process.execPath, [wrangler, 'd1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist], { env, stdio: 'ignore' });
  const port = fixedPort ?? (await freePort());
  const varArgs = Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`]);
  // Its own process group, so stopping it also ends the workerd it starts.
  const child: ChildProcess = spawn(
    process.execPath,
    [wrangler, 'dev', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', persist, ...varArgs],
    {
      env,
      stdio: 'ignore',
      detached: true,
    },
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.pid !== undefined && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(-child.pid, 'SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid, 'SIGKILL');
    }
    rmSync(persist, { recursive: true, force: true });
  };
  try {
    await waitForHealth(url);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stop };
}

/**
 * The data every measurement needs, through the API: a passive segment "has viewed a product"
 * (events.bench_viewed.count > 0), a voucher whose rule needs that segment and an order over 10.00
 * (client validate with a tracking id judges the visitor's tracking profile), a voucher with a
 * large quantity and an order rule to redeem, and one visitor whose event already counts.
 */
async function seed(url: string, vars: Record<string, string>, label: string) {
  const server = { 'X-App-Id': vars.APP_ID ?? '', 'X-App-Token': vars.APP_TOKEN ?? '', 'Content-Type': 'application/json' };
  const client = { 'X-Client-Application-Id': vars.CLIENT_APP_ID ?? '', 'X-Client-Token': vars.CLIENT_TOKEN ?? '', Origin: ORIGIN };
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, { method, headers: server, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const viewers = await api('POST', '/v1/segments', {
    name: 'viewed a product',
    type: 'passive',
    filter: { 'events.bench_viewed.count': { conditions: { $more_than: [0] } } },
  });
  await api('POST', '/v1/vouchers/TOPO-VALIDATE', { discount: { type: 'PERCENT', percent_off: 10 } });
  const validateRule = await api('POST', '/v1/validation-rules', {
    name: 'viewers, orders over 10.00',
    rules: {
      '1': { name: 'customer.segment', conditions: { $is: [viewers.id] } },
      '2': { name: 'order.amount', conditions: { $more_than: [1000] } },
      logic: '1 and 2',
    },
  });
  await api('POST', `/v1/validation-rules/${validateRule.id}/assignments`, {
    related_object_type: 'voucher',
    related_object_id: 'TOPO-VALIDATE',
  });
  await api('POST', '/v1/vouchers/TOPO-REDEEM', { discount: { type: 'AMOUNT', amount_off: 100 }, redemption: { quantity: 1_000_000 } });
  const redeemRule = await api('POST', '/v1/validation-rules', {
    name: 'orders over 10.00',
    rules: { '1': { name: 'order.amount', conditions: { $more_than: [1000] } } },
  });
  await api('POST', `/v1/validation-rules/${redeemRule.id}/assignments`, {
    related_object_type: 'voucher',
    related_object_id: 'TOPO-REDEEM',
  });
  await seedOffers(api, [validateRule.id as string, redeemRule.id as string]);

  const validateUrl = (tid: string) => `${url}/client/v1/validate?code=TOPO-VALIDATE&amount=5000&tracking_id=${tid}`;
  const isValid = async (tid: string) => {
    const res = await fetch(validateUrl(tid), { headers: client });
    const body = (await res.json()) as { valid?: boolean };
    if (res.status !== 200) throw new Error(`client validate answered ${res.status}: ${JSON.stringify(body)}`);
    return body.valid === true;
  };
  const track = (tid: string, event: string) =>
    fetch(`${url}/client/v1/events`, {
      method: 'POST',
      headers: { ...client, 'Content-Type': 'application/json' },
      body: JSON.stringify({ event, customer: { source_id: tid } }),
    });

  /** Milliseconds from sending a visitor's first event to the first client validate it makes valid. */
  async function eventVisibleAfter(tid: string): Promise<number> {
    if (await isValid(tid)) throw new Error(`${tid} is valid before its event`);
    const start = performance.now();
    const sent = await track(tid, 'bench_viewed');
    if (sent.status !== 200) throw new Error(`client track answered ${sent.status}: ${await sent.text()}`);
    while (performance.now() - start < VISIBILITY_TIMEOUT_MS) {
      if (await isValid(tid)) return performance.now() - start;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    return Number.POSITIVE_INFINITY;
  }

  const visitor = trackingId(`${label}VISITOR`, 0);
  if (!Number.isFinite(await eventVisibleAfter(visitor)))
    throw new Error("the seeded visitor's event never counted: is the queue consumer running?");
  return { server, client, visitor, validateUrl: validateUrl(visitor), track, eventVisibleAfter };
}

/**
 * The active offers a qualification judges: OFFERS codes, each with its own definition: percent,
 * amount and fixed discounts in turn; no rule, the order rule, the segment-and-order rule or an
 * items rule in turn; some with an end date or weekday window. Each is marked `public` (migration
 * 0031): the client route offers a code nobody holds only when the shop marked it so.
 */
async function seedOffers(api: (method: string, path: string, body?: unknown) => Promise<Record<string, unknown>>, ruleIds: string[]) {
  const itemsRule = await api('POST', '/v1/validation-rules', {
    name: 'carts with sku_1',
    rules: { '1': { name: 'order.items.any', conditions: { $is: [{ object: 'sku', id: 'sku_1' }] } } },
  });
  const rules = [[], [ruleIds[1]], [ruleIds[0]], [itemsRule.id]] as string[][];
  const discounts = [
    { type: 'PERCENT', percent_off: 10 },
    { type: 'AMOUNT', amount_off: 500 },
    { type: 'FIXED', fixed_amount: 4000 },
  ];
  const offer = (i: number) =>
    api('POST', `/v1/vouchers/TOPO-OFFER-${String(i).padStart(3, '0')}`, {
      discount: discounts[i % discounts.length],
      public: true,
      validation_rules: rules[i % rules.length],
      ...(i % 5 === 0 ? { expiration_date: '2099-01-01T00:00:00.000Z' } : {}),
      ...(i % 7 === 0 ? { validity_day_of_week: [0, 1, 2, 3, 4, 5, 6] } : {}),
    });
  for (let i = 0; i < OFFERS; i += SEED_CONCURRENCY) {
    await Promise.all(Array.from({ length: Math.min(SEED_CONCURRENCY, OFFERS - i) }, (_, k) => offer(i + k)));
  }
}

/** One route, sequentially: at most REQUESTS requests and ROUTE_MS, after a warm-up; every answer must be 200. */
async function measure(label: string, request: (n: number) => Promise<Response>): Promise<Latency> {
  for (let n = 0; n < WARM_UP; n++) await (await request(-1 - n)).arrayBuffer();
  const latencies: number[] = [];
  const end = performance.now() + ROUTE_MS;
  for (let n = 0; n < REQUESTS && performance.now() < end; n++) {
    const start = performance.now();
    const res = await request(n);
    const body = await res.text();
    latencies.push(performance.now() - start);
    if (res.status !== 200) throw new Error(`${label} answered ${res.status}: ${body}`);
  }
  const result = summary(latencies);
  console.log(
    `  ${label.padEnd(16)} p50 ${result.p50.toFixed(1).padStart(6)} ms   p99 ${result.p99.toFixed(1).padStart(6)} ms   (${result.count} requests)`,
  );
  return result;
}

async function measureRoutes(
  config: string,
  extraVars: Record<string, string>,
  visibility: boolean,
): Promise<Measured & { visible?: number[] }> {
  const vars = {
    ...devVars(),
    ALLOWED_ORIGINS: ORIGIN,
    RATE_LIMITS: 'off',
    COUNT_OPS: 'on',
    SIMULATE_TOPOLOGY: 'far',
    ...delayOverrides,
    ...extraVars,
  };
  const worker = await startWorker(vars);
  try {
    console.log(
      `${config}: ${worker.url}, ${
        Object.entries(extraVars)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ') || 'READ_REPLICAS on (default)'
      }`,
    );
    const label = config.charAt(0).toUpperCase();
    const s = await seed(worker.url, vars, label);
    const redeem = (n: number) =>
      fetch(`${worker.url}/v1/vouchers/TOPO-REDEEM/redemption`, {
        method: 'POST',
        headers: s.server,
        body: JSON.stringify({ customer: { source_id: `topo-${label}-${n}` }, order: { amount: 5000 } }),
      });
    const validate = () => fetch(s.validateUrl, { headers: s.client });
    const track = (n: number) => s.track(trackingId(`${label}TRACK`, n + 100), 'bench_seen');
    // The seeded visitor (its event counts in the segment) and a cart the offers' rules read.
    const qualifications = () =>
      fetch(`${worker.url}/client/v1/qualifications`, {
        method: 'POST',
        headers: { ...s.client, 'Content-Type': 'application/json' },
        body: JSON.stringify({
          order: { amount: 5000, items: [{ sku_id: 'sku_1', quantity: 2, price: 2500 }] },
          tracking_id: s.visitor,
        }),
      });

    const health = await measure('GET /health', () => fetch(`${worker.url}/health`));
    const validateLatency = await measure('client validate', validate);
    const trackLatency = await measure('client track', track);
    const redeemLatency = await measure('server redeem', redeem);
    const probe = await qualifications();
    const probeBody = await probe.text();
    let qualificationsLatency: Latency | null = null;
    let qualified: number | null = null;
    if (probe.status === 404) {
      console.log(`  client qualifications: route missing (404)`);
    } else {
      if (probe.status !== 200) throw new Error(`client qualifications answered ${probe.status}: ${probeBody}`);
      qualificationsLatency = await measure(`client qualifications, ${OFFERS} offers`, qualifications);
      const warm = await qualifications();
      const total = ((await warm.clone().json()) as { redeemables?: { total?: number } }).redeemables?.total;
      qualified = typeof total === 'number' ? total : null;
      console.log(`  client qualifications list ${qualified ?? 'no redeemables.total'} of ${OFFERS} offers`);
    }
    const opsOf = async (res: Promise<Response>) => (await res).headers.get('X-Vouchsafe-Ops') ?? 'n/a (COUNT_OPS is off)';
    const ops = {
      validate: await opsOf(validate()),
      track: await opsOf(track(REQUESTS + 1)),
      redeem: await opsOf(redeem(REQUESTS + 1)),
      qualifications: qualificationsLatency ? await opsOf(qualifications()) : 'route missing (404)',
    };
    console.log(
      `  ops: validate ${ops.validate}\n       track    ${ops.track}\n       redeem   ${ops.redeem}\n       qualifications ${ops.qualifications}`,
    );

    let visible: number[] | undefined;
    if (visibility) {
      visible = [];
      for (let n = 0; n < VISIBILITY_TRIES; n++) visible.push(await s.eventVisibleAfter(trackingId(`${label}SEEN`, n)));
      const v = summary(visible);
      console.log(`  event → counts in a segment rule: p50 ${v.p50.toFixed(0)} ms, p99 ${v.p99.toFixed(0)} ms (${v.count} tries)`);
    }
    return {
      health,
      validate: validateLatency,
      track: trackLatency,
      redeem: redeemLatency,
      qualifications: qualificationsLatency,
      qualified,
      ops,
      ...(visible ? { visible } : {}),
    };
  } finally {
    await worker.stop();
  }
}

export async function run(): Promise<BenchRow[]> {
  if (!existsSync('dist/public')) {
    const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' };
    spawnSync(process.execPath, ['node_modules/rollup/dist/bin/rollup', '-c', 'client/rollup.config.js', '--silent'], {
      env,
      stdio: 'inherit',
    });
  }
  const overrides = delayOverrides.TOPOLOGY_DELAYS ? ` (TOPOLOGY_DELAYS=${delayOverrides.TOPOLOGY_DELAYS})` : '';
  console.log(`SIMULATE_TOPOLOGY=far${overrides}, sequential requests: at most ${REQUESTS} and ${ROUTE_MS / 1000} s per route`);
  const edge = await measureRoutes('edge', {}, true);
  const primary = await measureRoutes('primary only', { READ_REPLICAS: 'off' }, false);
  // The same edge path with every delay 0: what wrangler dev's own storage and this machine add on
  // top of the simulated waits (in production the simulated wait takes the place of that cost).
  const local = await measureRoutes('local cost', { TOPOLOGY_DELAYS: STORAGE_OPS.map((op) => `${op}=0`).join(',') }, false);

  const ms = (n: number) => `${n.toFixed(1)} ms`;
  const MISSING = 'route missing (404)';
  const rows: BenchRow[] = [];
  const routes = [
    ['GET /health', 'health'],
    [`client qualifications, ${OFFERS} active offers`, 'qualifications'],
    ['client validate', 'validate'],
    ['client track', 'track'],
    ['server redeem', 'redeem'],
  ] as const;
  for (const [name, key] of routes) {
    const e = edge[key];
    const p = primary[key];
    rows.push({
      area: 'Topology (far)',
      measure: `${name}: edge | primary only`,
      value:
        e && p
          ? `p50 ${ms(e.p50)}, p99 ${ms(e.p99)} | p50 ${ms(p.p50)}, p99 ${ms(p.p99)} (×${(p.p50 / e.p50).toFixed(1)} at p50)` +
            (key === 'qualifications' ? `, ${edge.qualified ?? '?'} listed` : '')
          : MISSING,
    });
  }
  for (const [name, key] of routes) {
    const l = local[key];
    rows.push({
      area: 'Topology (far)',
      measure: `${name}: all delays 0 (local cost), edge`,
      value: l ? `p50 ${ms(l.p50)}, p99 ${ms(l.p99)}` : MISSING,
    });
  }
  for (const key of ['qualifications', 'validate', 'track', 'redeem'] as const) {
    const e = edge[key];
    const l = local[key];
    const budget = edge.health.p50 + GOALS[key];
    const met = e !== null && e.p50 <= budget;
    rows.push({
      area: 'Topology (far)',
      measure: `goal: ${key} p50 ≤ health p50 + ${GOALS[key]} ms`,
      value: e
        ? `${met ? 'met' : 'NOT met'}: ${ms(e.p50)} ${met ? '≤' : '>'} ${ms(edge.health.p50)} + ${GOALS[key]} ms = ${ms(budget)}` +
          (l ? ` (delays 0: health + ${ms(l.p50 - local.health.p50)})` : '')
        : MISSING,
    });
  }
  for (const key of ['qualifications', 'validate', 'track', 'redeem'] as const) {
    rows.push({ area: 'Topology (far)', measure: `ops of one warm ${key} (edge)`, value: edge.ops[key] });
  }
  for (const key of ['qualifications', 'validate', 'track', 'redeem'] as const) {
    rows.push({ area: 'Topology (far)', measure: `ops of one warm ${key} (primary only)`, value: primary.ops[key] });
  }
  const visible = summary(edge.visible ?? []);
  const unseen = (edge.visible ?? []).filter((v) => !Number.isFinite(v)).length;
  rows.push({
    area: 'Topology (far)',
    measure: 'client event → counts in a segment rule (local)',
    value: `p50 ${visible.p50.toFixed(0)} ms, p99 ${visible.p99.toFixed(0)} ms (${visible.count} tries${unseen ? `, ${unseen} never within ${VISIBILITY_TIMEOUT_MS / 1000} s` : ''})`,
  });
  rows.push({
    area: 'Topology (far)',
    measure: 'load',
    value: `sequential, ≤ ${REQUESTS} requests and ≤ ${ROUTE_MS / 1000} s per route, loopback${overrides}`,
  });
  return rows;
}
