// Heavy segment work must not stall checkout (D1 runs one statement at a time per database). Against `wrangler dev` with
// 100,000 generated customers, client validate latency (p50/p99) alone, then while a 10-condition
// auto-update segment (clock-relative, so the cron recomputes it) is created, synced and recomputed
// by the cron. D1 runs one statement at a time: before the fix the creation was one statement over
// every customer and a validate waited for all of it; now each D1 call judges one keyset range of at
// most 5,000 customers, and validates run between them. Goal: p99 during <= 2x p99 alone. Also
// checks the stored membership against the passive twin of the same filter (counted in ranges).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAndMigrate, devVars, freePort, waitForHealth } from './edge.bench';
import { type BenchRow, formatCount } from './table';
import { tenConditionFilter } from './support/ten-condition-filter';
import { customerSpreadSql } from './support/customer-spread';

const CUSTOMERS = 100_000;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const ALONE_MS = Number(process.env.BENCH_SECONDS ?? 10) * 1000;
const ORIGIN = 'https://bench.example';
const wrangler = 'node_modules/wrangler/bin/wrangler.js';
const DAY = 86_400_000;

const FILTER = tenConditionFilter('2100-01-01T00:00:00.000Z');

const slow: [number, number][] = [];
const phases: [string, number][] = [];
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

export async function run(): Promise<BenchRow[]> {
  const vars = devVars();
  const persist = mkdtempSync(join(tmpdir(), 'vouchsafe-heavy-'));
  const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' };
  let child: ChildProcess | undefined;
  try {
    buildAndMigrate(persist, env);
    const now = Date.now();
    const t0 = performance.now();
    // The same spread as segment-members.bench.ts, in one SQL statement before the server starts.
    const generate = customerSpreadSql(CUSTOMERS, now);
    const gen = spawnSync(
      process.execPath,
      [wrangler, 'd1', 'execute', 'DB', '--local', '--persist-to', persist, '--command', generate.replace(/\s+/g, ' ')],
      { env, encoding: 'utf8' },
    );
    if (gen.status !== 0) throw new Error(`generating customers failed: ${gen.stderr}`);
    console.log(`generated ${formatCount(CUSTOMERS)} customers in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const port = await freePort();
    const varArgs = Object.entries({ ...vars, ALLOWED_ORIGINS: ORIGIN, RATE_LIMITS: 'off' }).flatMap(([k, v]) => ['--var', `${k}:${v}`]);
    child = spawn(
      process.execPath,
      [wrangler, 'dev', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', persist, '--test-scheduled', ...varArgs],
      { env, stdio: 'ignore' },
    );
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitForHealth(baseUrl);

    const server = { 'X-App-Id': vars.APP_ID ?? '', 'X-App-Token': vars.APP_TOKEN ?? '', 'Content-Type': 'application/json' };
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: server,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return (res.status === 204 ? {} : await res.json()) as Record<string, any>;
    };
    const code = `HEAVY-${Date.now()}`;
    await api('POST', `/v1/vouchers/${code}`, { discount: { type: 'PERCENT', percent_off: 10 } });
    const client = { 'X-Client-Application-Id': vars.CLIENT_APP_ID ?? '', 'X-Client-Token': vars.CLIENT_TOKEN ?? '', Origin: ORIGIN };
    const validateUrl = `${baseUrl}/client/v1/validate?code=${code}&amount=5000&tracking_id=track_HEAVYHEAVYHEAVYHEAVY00`;
    const probe = (await (await fetch(validateUrl, { headers: client })).json()) as { valid: boolean };
    if (!probe.valid) throw new Error(`the benchmark voucher should validate: ${JSON.stringify(probe)}`);

    /** Client validates on CONCURRENCY connections until `until` resolves (or for ms). */
    async function validates(until: Promise<unknown> | number) {
      const latencies: number[] = [];
      let errors = 0;
      let done = false;
      const stop = typeof until === 'number' ? new Promise((r) => setTimeout(r, until)) : until;
      void stop.then(() => (done = true));
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (!done) {
            const start = performance.now();
            const res = await fetch(validateUrl, { headers: client });
            await res.arrayBuffer();
            if (res.status !== 200) errors++;
            latencies.push(performance.now() - start);
            if (performance.now() - start > 300) slow.push([start, performance.now()]);
          }
        }),
      );
      latencies.sort((a, b) => a - b);
      return { n: latencies.length, errors, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? 0 };
    }

    await validates(2_000); // warm-up
    const alone = await validates(ALONE_MS);
    console.log(
      `validate alone:  p50 ${alone.p50.toFixed(1)} ms  p99 ${alone.p99.toFixed(1)} ms  max ${alone.max.toFixed(1)} ms  (${alone.n} requests, ${alone.errors} non-200)`,
    );

    const timings: Record<string, number> = {};
    let segmentId = '';
    // Creation, sync and cron recompute, repeated (a new segment each time) for as long as the
    // validates alone ran, so that both samples are of a size.
    const cycles: { answer: number; sync: number; recompute: number }[] = [];
    const heavy = (async () => {
      // A moment of validates alone first, so the window starts under load.
      await new Promise((r) => setTimeout(r, 500));
      const started = performance.now();
      while (cycles.length === 0 || performance.now() - started < ALONE_MS) {
        let t = performance.now();
        const segment = await api('POST', '/v1/segments', { name: `heavy ${code} ${cycles.length}`, type: 'auto-update', filter: FILTER });
        phases.push(['post', t]);
        const answer = performance.now() - t;
        phases.push(['answered', performance.now()]);
        if (cycles.length === 0) console.log(`segment created: ${segment.initial_sync_status} after ${answer.toFixed(0)} ms`);
        for (;;) {
          const state = await api('GET', `/v1/segments/${segment.id}`);
          if (state.initial_sync_status === 'DONE') break;
          await new Promise((r) => setTimeout(r, 50));
        }
        const sync = performance.now() - t;
        t = performance.now();
        phases.push(['cron', t]);
        await (await fetch(`${baseUrl}/__scheduled?cron=*/15+*+*+*+*`)).arrayBuffer();
        cycles.push({ answer, sync, recompute: performance.now() - t });
        phases.push(['cron done', performance.now()]);
        if (segmentId) await api('DELETE', `/v1/segments/${segmentId}`);
        segmentId = segment.id;
      }
      const median = (k: 'answer' | 'sync' | 'recompute') =>
        cycles.map((c) => c[k]).sort((a, b) => a - b)[Math.floor(cycles.length / 2)] ?? 0;
      timings.answer = median('answer');
      timings.sync = median('sync');
      timings.recompute = median('recompute');
    })();
    const during = await validates(heavy);
    await heavy;
    console.log(
      `${cycles.length} cycles; medians: answer ${timings.answer?.toFixed(0)} ms, initial sync DONE after ${timings.sync?.toFixed(0)} ms, cron recompute ${timings.recompute?.toFixed(0)} ms`,
    );
    console.log(
      `validate during: p50 ${during.p50.toFixed(1)} ms  p99 ${during.p99.toFixed(1)} ms  max ${during.max.toFixed(1)} ms  (${during.n} requests, ${during.errors} non-200)`,
    );
    if (process.env.BENCH_DEBUG)
      console.log(
        JSON.stringify({ slow: slow.map(([a, b]) => [Math.round(a), Math.round(b)]), phases: phases.map(([k, v]) => [k, Math.round(v)]) }),
      );
    const ratio = during.p99 / alone.p99;
    console.log(`ratio p99 during / alone: ${ratio.toFixed(2)} (goal: at most 2)`);

    // The stored membership against the passive twin (its total is counted range by range).
    const twin = await api('POST', '/v1/segments', { name: `twin ${code}`, type: 'passive', filter: FILTER });
    const stored = (await api('GET', `/v1/customers?segment_id=${segmentId}&limit=1`)).total as number;
    const t = performance.now();
    const live = (await api('GET', `/v1/customers?segment_id=${twin.id}&limit=1`)).total as number;
    const liveMs = performance.now() - t;
    if (stored !== live) throw new Error(`membership disagrees: stored ${stored}, live filter ${live}`);
    console.log(
      `members: ${formatCount(stored)} stored = ${formatCount(live)} by the live filter (listed in ${liveMs.toFixed(0)} ms, bounded ranges)`,
    );

    const fmt = (r: typeof alone) => `p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms (${formatCount(r.n)} requests)`;
    return [
      {
        area: 'Heavy work',
        measure: `client validate alone (${CONCURRENCY} connections, ${formatCount(CUSTOMERS)} customers)`,
        value: fmt(alone),
      },
      {
        area: 'Heavy work',
        measure: 'client validate during creation + sync + cron recompute of a 10-condition auto-update segment',
        value: `${fmt(during)}, max ${during.max.toFixed(0)} ms`,
      },
      { area: 'Heavy work', measure: 'ratio p99 during / alone (goal ≤ 2)', value: ratio.toFixed(2) },
      {
        area: 'Heavy work',
        measure: `segment (median of ${cycles.length} cycles): answer / initial sync DONE / cron recompute`,
        value: `${timings.answer?.toFixed(0)} ms / ${((timings.sync ?? 0) / 1000).toFixed(1)} s / ${((timings.recompute ?? 0) / 1000).toFixed(1)} s`,
      },
      {
        area: 'Heavy work',
        measure: 'members stored = passive twin total (counted in ranges)',
        value: `${formatCount(stored)} = ${formatCount(live)} (list ${liveMs.toFixed(0)} ms)`,
      },
    ];
  } finally {
    child?.kill('SIGTERM');
    rmSync(persist, { recursive: true, force: true });
  }
}
