// Issue 14: 100,000 unique codes of a 10-character pattern, generated locally against `wrangler dev`
// through the WRITES queue (the campaign_codes job), from POST /v1/campaigns to
// vouchers_generation_status DONE. Goal: ≤ 30 s (Voucherify publishes ~60 s for 100k) and zero
// duplicates, counted in D1 afterwards (count(*) against count(DISTINCT code), and the pattern).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devVars, freePort, waitForHealth } from './edge.bench';
import { type BenchRow, formatCount } from './table';

const CODES = Number(process.env.BENCH_CODES ?? 100_000);
const PATTERN = '##########';
const wrangler = 'node_modules/wrangler/bin/wrangler.js';
const TIMEOUT_MS = 300_000;

export async function run(): Promise<BenchRow[]> {
  const vars = devVars();
  const persist = mkdtempSync(join(tmpdir(), 'vouchsafe-codes-'));
  const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' };
  let child: ChildProcess | undefined;
  try {
    spawnSync(process.execPath, ['node_modules/rollup/dist/bin/rollup', '-c', 'client/rollup.config.js', '--silent'], { env, stdio: 'inherit' });
    spawnSync(process.execPath, [wrangler, 'd1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist], { env, stdio: 'ignore' });
    const port = await freePort();
    const varArgs = Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`]);
    child = spawn(process.execPath, [wrangler, 'dev', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', persist, ...varArgs], { env, stdio: 'ignore' });
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitForHealth(baseUrl);
    const headers = { 'X-App-Id': vars.APP_ID ?? '', 'X-App-Token': vars.APP_TOKEN ?? '', 'Content-Type': 'application/json' };
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const json = (await res.json()) as Record<string, any>;
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };

    const t0 = performance.now();
    const created = await api('POST', '/v1/campaigns', {
      name: 'Bench codes',
      vouchers_count: CODES,
      voucher: { type: 'DISCOUNT_VOUCHER', discount: { type: 'PERCENT', percent_off: 15 }, redemption: { quantity: 1 }, code_config: { pattern: PATTERN } },
    });
    const answered = performance.now() - t0;
    let state = created;
    let lastLog = 0;
    while (state.vouchers_generation_status === 'IN_PROGRESS') {
      if (performance.now() - t0 > TIMEOUT_MS) throw new Error(`generation not done after ${TIMEOUT_MS / 1000} s: ${JSON.stringify(state.vouchers_generation_progress)}`);
      await new Promise((r) => setTimeout(r, 100));
      state = await api('GET', `/v1/campaigns/${created.id}`);
      if (performance.now() - lastLog > 5000) {
        lastLog = performance.now();
        console.log(`  ${formatCount(state.vouchers_generation_progress.generated)} / ${formatCount(CODES)} after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    if (state.vouchers_generation_status !== 'DONE') throw new Error(`generation ended ${state.vouchers_generation_status}`);
    console.log(`${formatCount(state.vouchers_count)} codes in ${seconds.toFixed(1)} s (answered in ${answered.toFixed(0)} ms)`);
    child.kill('SIGTERM');
    child = undefined;
    await new Promise((r) => setTimeout(r, 1000));

    const count = spawnSync(
      process.execPath,
      [
        wrangler, 'd1', 'execute', 'DB', '--local', '--persist-to', persist, '--json', '--command',
        `SELECT count(*) AS n, count(DISTINCT code) AS distinct_codes, sum(length(code) = ${PATTERN.length}) AS pattern_length FROM vouchers WHERE campaign_id = '${created.id}'`,
      ],
      { env, encoding: 'utf8' },
    );
    if (count.status !== 0) throw new Error(`counting failed: ${count.stderr}`);
    const [{ results }] = JSON.parse(count.stdout) as [{ results: { n: number; distinct_codes: number; pattern_length: number }[] }];
    const { n, distinct_codes, pattern_length } = results[0] as { n: number; distinct_codes: number; pattern_length: number };
    const duplicates = n - distinct_codes;
    console.log(`stored ${formatCount(n)} codes, ${formatCount(distinct_codes)} distinct, ${formatCount(pattern_length)} of ${PATTERN.length} characters: ${duplicates} duplicates`);
    if (n !== CODES || duplicates !== 0 || pattern_length !== CODES) throw new Error('generation wrote the wrong codes');
    return [
      { area: 'Campaign codes', measure: `${formatCount(CODES)} unique codes of a ${PATTERN.length}-character pattern, through the queue (goal ≤ 30 s)`, value: `${seconds.toFixed(1)} s` },
      { area: 'Campaign codes', measure: 'duplicates among them (must be 0)', value: String(duplicates) },
    ];
  } finally {
    child?.kill('SIGTERM');
    rmSync(persist, { recursive: true, force: true });
  }
}
