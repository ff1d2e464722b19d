// GET /health, client validate and server redeem against `wrangler dev`, in one run: requests per
// second and p50/p99 latency of each, the ratios validate/health and redeem/health (goal: validate
// keeps at least half of the health route's throughput), and the storage operations of one validate
// and one redeem, counted by the worker (COUNT_OPS=on). The voucher has a segment rule over a
// 10-condition passive filter and an order rule, and the customer matches, so every validate runs
// the whole judgement.
//
// By default this starts its own `wrangler dev` (fresh local storage, RATE_LIMITS=off,
// COUNT_OPS=on) on a free port. To measure `npm start`'s server instead, put RATE_LIMITS=off (and
// COUNT_OPS=on for the operation counts) in .dev.vars, restart it, and run:
// BENCH_URL=http://127.0.0.1:8787 npm run bench -- edge
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signClaim } from '../shared/identity';
import { type BenchRow, formatCount } from './table';

const DURATION_MS = Number(process.env.BENCH_SECONDS ?? 10) * 1000;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const ORIGIN = 'https://bench.example';
const wrangler = 'node_modules/wrangler/bin/wrangler.js';

export function devVars(): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of readFileSync('.dev.vars.example', 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined) vars[m[1]] = m[2];
  }
  return vars;
}

export const freePort = () =>
  new Promise<number>((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });

/** Builds the browser SDK and the demo (dist/public) and applies the migrations to the local D1 under `persist`. */
export function buildAndMigrate(persist: string, env: NodeJS.ProcessEnv): void {
  spawnSync(process.execPath, ['node_modules/rollup/dist/bin/rollup', '-c', 'client/rollup.config.js', '--silent'], {
    env,
    stdio: 'inherit',
  });
  spawnSync(process.execPath, [wrangler, 'd1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist], { env, stdio: 'ignore' });
}

export async function waitForHealth(url: string) {
  for (let i = 0; i < 240; i++) {
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${url} did not come up`);
}

export async function run(): Promise<BenchRow[]> {
  let child: ChildProcess | undefined;
  let persist: string | undefined;
  const vars = devVars();
  let baseUrl = process.env.BENCH_URL;
  if (!baseUrl) {
    persist = mkdtempSync(join(tmpdir(), 'vouchsafe-bench-'));
    const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' };
    buildAndMigrate(persist, env);
    const port = await freePort();
    const varArgs = Object.entries({ ...vars, ALLOWED_ORIGINS: ORIGIN, RATE_LIMITS: 'off', COUNT_OPS: 'on' }).flatMap(([k, v]) => [
      '--var',
      `${k}:${v}`,
    ]);
    child = spawn(process.execPath, [wrangler, 'dev', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', persist, ...varArgs], {
      env,
      stdio: 'ignore',
    });
    baseUrl = `http://127.0.0.1:${port}`;
  }
  await waitForHealth(baseUrl);

  const server = { 'X-App-Id': vars.APP_ID ?? '', 'X-App-Token': vars.APP_TOKEN ?? '', 'Content-Type': 'application/json' };
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${baseUrl}${path}`, { method, headers: server, body: body === undefined ? undefined : JSON.stringify(body) });
    return (await res.json()) as Record<string, unknown>;
  };
  const code = `BENCH-${Date.now()}`;
  const filter = {
    junction: 'and',
    email: { conditions: { $ends_with: ['@example.com'] } },
    name: { conditions: { $has_value: true } },
    'address.city': { conditions: { $in: ['Berlin', 'Warsaw'] } },
    'address.country': { conditions: { $is_not: ['Narnia'] } },
    created_at: { conditions: { $before: ['2100-01-01T00:00:00.000Z'] } },
    'metadata.tier': { conditions: { $in: ['gold', 'platinum'] } },
    'metadata.age': { conditions: { $more_than: [18] } },
    'metadata.tags': { conditions: { $contains: ['vip'] } },
    'summary.orders.total_count': { conditions: { $more_than_equal: [0] } },
    source_id: { conditions: { $starts_with: ['bench-'] } },
  };
  const segment = await api('POST', '/v1/segments', { name: `bench ${code}`, type: 'passive', filter });
  await api('POST', '/v1/customers', {
    source_id: 'bench-1',
    name: 'Bench',
    email: 'bench@example.com',
    address: { city: 'Berlin', country: 'Germany' },
    metadata: { tier: 'gold', age: 40, tags: ['vip'] },
  });
  await api('POST', `/v1/vouchers/${code}`, { discount: { type: 'PERCENT', percent_off: 10 } });
  const rule = await api('POST', '/v1/validation-rules', {
    name: 'bench rule',
    rules: {
      '1': { name: 'customer.segment', conditions: { $is: [segment.id] } },
      '2': { name: 'order.amount', conditions: { $more_than: [1000] } },
      logic: '1 and 2',
    },
  });
  await api('POST', `/v1/validation-rules/${rule.id}/assignments`, { related_object_type: 'voucher', related_object_id: code });

  // The shopper is signed in: the shop's backend signs the source id the page claims (identity
  // verification), so the segment rule may read the stored customer.
  const signature = await signClaim(vars.IDENTITY_SECRET ?? '', 'source_id', 'bench-1');
  const client = {
    'X-Client-Application-Id': vars.CLIENT_APP_ID ?? '',
    'X-Client-Token': vars.CLIENT_TOKEN ?? '',
    'X-Vouchsafe-Identity-Signature': signature,
    Origin: process.env.BENCH_URL ? 'http://127.0.0.1:8787' : ORIGIN,
  };
  const validateUrl = `${baseUrl}/client/v1/validate?code=${code}&amount=5000&item%5B0%5D%5Bsku_id%5D=sku_1&item%5B0%5D%5Bquantity%5D=1&customer%5Bsource_id%5D=bench-1&tracking_id=track_BENCHBENCHBENCHBENCH00`;
  const probe = (await (await fetch(validateUrl, { headers: client })).json()) as { valid: boolean; reason?: string };
  if (!probe.valid) throw new Error(`the benchmark voucher should validate: ${JSON.stringify(probe)}`);

  async function load(label: string, url: string, headers: Record<string, string>, init: RequestInit = {}) {
    const latencies: number[] = [];
    let errors = 0;
    const end = performance.now() + DURATION_MS;
    const worker = async () => {
      while (performance.now() < end) {
        const start = performance.now();
        const res = await fetch(url, { ...init, headers });
        await res.arrayBuffer();
        if (res.status !== 200) errors++;
        latencies.push(performance.now() - start);
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
    const rps = latencies.length / seconds;
    console.log(
      `${label.padEnd(16)} ${Math.round(rps).toString().padStart(6)} req/s   p50 ${pct(50).toFixed(1)} ms   p99 ${pct(99).toFixed(1)} ms   (${latencies.length} requests, ${errors} non-200)`,
    );
    return { label, rps, p50: pct(50), p99: pct(99), errors };
  }

  const opsOf = async (url: string, init: RequestInit) =>
    (await fetch(url, init)).headers.get('X-Vouchsafe-Ops') ?? 'n/a (COUNT_OPS is off)';

  const redeemUrl = `${baseUrl}/v1/vouchers/${code}/redemption`;
  const redeemInit: RequestInit = {
    method: 'POST',
    body: JSON.stringify({
      customer: { source_id: 'bench-1' },
      order: { amount: 5000, items: [{ sku_id: 'sku_1', quantity: 1, price: 5000 }] },
    }),
  };
  console.log(`${CONCURRENCY} concurrent connections, ${DURATION_MS / 1000} s per route, against ${baseUrl}`);
  await load('warm-up', `${baseUrl}/health`, {});
  const health = await load('GET /health', `${baseUrl}/health`, {});
  const validate = await load('client validate', validateUrl, client);
  const redeem = await load('server redeem', redeemUrl, server, redeemInit);
  if (redeem.errors > 0) throw new Error(`${redeem.errors} redemptions were refused: the benchmark voucher should always redeem`);
  console.log(
    `ratio validate / health: ${(validate.rps / health.rps).toFixed(2)} (goal: at least 0.50); redeem / health: ${(redeem.rps / health.rps).toFixed(2)}`,
  );
  const validateOps = await opsOf(validateUrl, { headers: client });
  const redeemOps = await opsOf(redeemUrl, { ...redeemInit, headers: server });
  console.log(`storage operations: validate ${validateOps}; redeem ${redeemOps}`);

  child?.kill('SIGTERM');
  if (persist) rmSync(persist, { recursive: true, force: true });
  const row = (r: { label: string; rps: number; p50: number; p99: number }): BenchRow => ({
    area: 'Edge',
    measure: r.label,
    value: `${formatCount(r.rps)} req/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`,
  });
  return [
    row(health),
    row(validate),
    row(redeem),
    { area: 'Edge', measure: 'ratio validate / health (goal ≥ 0.50)', value: (validate.rps / health.rps).toFixed(2) },
    { area: 'Edge', measure: 'ratio redeem / health', value: (redeem.rps / health.rps).toFixed(2) },
    { area: 'Edge', measure: 'storage operations per client validate (warm)', value: validateOps },
    { area: 'Edge', measure: 'storage operations per redeem (warm)', value: redeemOps },
    { area: 'Edge', measure: 'load', value: `${CONCURRENCY} connections, ${DURATION_MS / 1000} s per route, loopback` },
  ];
}
