// A CSV import end to end against `wrangler dev` (its own port and fresh storage): the upload
// streamed to POST /v1/customers/importCSV, the chunk messages through the local WRITES queue, the
// consumer writing them into local D1, until the async action is DONE. Meanwhile the resident
// memory (VmRSS) of the workerd processes under wrangler, and of wrangler itself, is sampled every
// 250 ms from /proc: workerd runs the worker (request and consumer) and the local D1 and queue.
// The row count is BENCH_IMPORT_ROWS (default IMPORT_QUEUE_ROWS); the file has 3 columns, so that
// 1,000,000 rows fit the 25 MiB body limit.
//
// Local limit (scripts/local-config.js): miniflare's queue broker stopped delivering after two deliveries of 100 import
// chunks (~12 MB each; the consumer had finished the second, the broker never logged its result),
// with 400,000 rows and more. So wrangler dev runs here with a copy of wrangler.toml whose consumer
// takes batches of BENCH_QUEUE_BATCH (default 10) messages; set it to 100 to see the stall.
import { LOCAL_QUEUE_BATCH, writeLocalConfig } from '../../scripts/local-config.js';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAndMigrate, devVars, freePort, waitForHealth } from '../edge.bench';

export const IMPORT_QUEUE_ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 1_000_000);
const QUEUE_BATCH = Number(process.env.BENCH_QUEUE_BATCH ?? LOCAL_QUEUE_BATCH);
/** Next to wrangler.toml, as its paths are relative to it; removed when the run ends. */
const BENCH_CONFIG = '.wrangler-import-bench.toml';
const wrangler = 'node_modules/wrangler/bin/wrangler.js';

export interface ImportQueueRun {
  rows: number;
  file_bytes: number;
  chunks: number;
  answered_ms: number;
  done_ms: number;
  /** The action's processing_time: from the request's start to the last chunk written. */
  processing_ms: number;
  result: Record<string, unknown>;
  peak_workerd_rss_mb: number;
  peak_wrangler_rss_mb: number;
  queue_batch: number;
}

async function writeCsv(path: string, rows: number): Promise<number> {
  const out = createWriteStream(path);
  let written = 0;
  const write = async (text: string) => {
    written += Buffer.byteLength(text);
    if (!out.write(text)) await once(out, 'drain');
  };
  await write('Source_id,Name,tier\n');
  let block = '';
  for (let i = 0; i < rows; i++) {
    block += `q${i},N${i},${i % 3 === 0 ? 'gold' : 'basic'}\n`;
    if (block.length > 64 * 1024) {
      await write(block);
      block = '';
    }
  }
  await write(block);
  out.end();
  await once(out, 'finish');
  return written;
}

/** Every process under `root` (wrangler's children: workerd, esbuild), from /proc. */
function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const [child, p] of parent) if (p === pid) (out.push(child), walk(child));
  };
  walk(root);
  return out;
}

function rssMb(pid: number): { name: string; mb: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const name = /^Name:\s*(\S+)/m.exec(status)?.[1] ?? '';
    const kb = Number(/^VmRSS:\s*(\d+)/m.exec(status)?.[1] ?? 0);
    return { name, mb: kb / 1024 };
  } catch {
    return null;
  }
}

/** POST /v1/customers/importCSV with the file as multipart/form-data, streamed from disk (node:http, a connection of its own). */
export function postCsvFile(
  port: number,
  headers: Record<string, string>,
  path: string,
): Promise<{ status: number; body: { async_action_id?: string } }> {
  const boundary = '----vouchsafe-bench-import';
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="customers.csv"\r\nContent-Type: text/csv\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/v1/customers/importCSV',
        method: 'POST',
        agent: false,
        headers: {
          ...headers,
          'Content-Type': `multipart/form-data; boundary=${boundary}`,
          'Content-Length': head.length + statSync(path).size + tail.length,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text || '{}') }));
      },
    );
    req.on('error', reject);
    req.write(head);
    const file = createReadStream(path, { highWaterMark: 64 * 1024 });
    file.on('error', reject);
    file.on('end', () => req.end(tail));
    file.pipe(req, { end: false });
  });
}

export async function runImportThroughQueue(rows = IMPORT_QUEUE_ROWS): Promise<ImportQueueRun> {
  const vars = devVars();
  const dir = mkdtempSync(join(tmpdir(), 'vouchsafe-import-queue-'));
  const persist = join(dir, 'state');
  const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' };
  let child: ChildProcess | undefined;
  let sampler: NodeJS.Timeout | undefined;
  try {
    const csv = join(dir, 'customers.csv');
    const fileBytes = await writeCsv(csv, rows);
    buildAndMigrate(persist, env);
    const port = await freePort();
    const varArgs = Object.entries({ ...vars, RATE_LIMITS: 'off' }).flatMap(([k, v]) => ['--var', `${k}:${v}`]);
    writeLocalConfig('.', BENCH_CONFIG, QUEUE_BATCH);
    child = spawn(
      process.execPath,
      [wrangler, 'dev', '-c', BENCH_CONFIG, '--ip', '127.0.0.1', '--port', String(port), '--persist-to', persist, ...varArgs],
      { env, stdio: 'ignore' },
    );
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitForHealth(baseUrl);

    const peak = { workerd: 0, wrangler: 0 };
    const wranglerPid = child.pid as number;
    const sample = () => {
      let workerd = 0;
      for (const pid of descendants(wranglerPid)) {
        const p = rssMb(pid);
        if (p?.name.startsWith('workerd')) workerd += p.mb;
      }
      peak.workerd = Math.max(peak.workerd, workerd);
      peak.wrangler = Math.max(peak.wrangler, rssMb(wranglerPid)?.mb ?? 0);
    };
    sample();
    const idle = { ...peak };
    sampler = setInterval(sample, 250);

    const headers = { 'X-App-Id': vars.APP_ID ?? '', 'X-App-Token': vars.APP_TOKEN ?? '' };
    const started = performance.now();
    const { status, body } = await postCsvFile(port, headers, csv);
    const answered = performance.now() - started;
    if (status !== 202 || !body.async_action_id) throw new Error(`import answered ${status}: ${JSON.stringify(body)}`);
    console.log(
      `${rows.toLocaleString('en')} rows (${(statSync(csv).size / 1024 / 1024).toFixed(1)} MiB): 202 after ${(answered / 1000).toFixed(1)} s`,
    );
    let action: { status: string; progress: number; result: Record<string, unknown> } | undefined;
    let lastLog = 0;
    let stalledPolls = 0;
    // Bounded: 40 minutes at most.
    while (performance.now() - started < 40 * 60_000) {
      try {
        // A request sent while the local queue runs a delivery was seen to hang in wrangler dev: each poll is bounded.
        action = (await (
          await fetch(`${baseUrl}/v1/async-actions/${body.async_action_id}`, { headers, signal: AbortSignal.timeout(5_000) })
        ).json()) as typeof action;
      } catch (error) {
        if ((error as Error).name !== 'TimeoutError') throw error;
        stalledPolls++;
        continue;
      }
      if (action?.status !== 'IN_PROGRESS') break;
      if (performance.now() - lastLog > 15_000) {
        lastLog = performance.now();
        console.log(
          `  ${((performance.now() - started) / 1000).toFixed(0)} s: progress ${action.progress}%, workerd RSS peak ${peak.workerd.toFixed(0)} MB`,
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    const done = performance.now() - started;
    sample();
    if (action?.status !== 'DONE') throw new Error(`import not DONE: ${JSON.stringify(action)?.slice(0, 500)}`);
    console.log(
      `DONE after ${(done / 1000).toFixed(1)} s (seen within 5 s; ${stalledPolls} polls timed out); idle RSS before: workerd ${idle.workerd.toFixed(0)} MB, wrangler ${idle.wrangler.toFixed(0)} MB`,
    );
    const chunks = Number(
      /"n":(\d+)/.exec(
        spawnSync(
          process.execPath,
          [
            wrangler,
            'd1',
            'execute',
            'DB',
            '--local',
            '--persist-to',
            persist,
            '--json',
            '--command',
            'SELECT chunks AS n FROM customer_imports',
          ],
          { env, encoding: 'utf8' },
        ).stdout.replace(/\s/g, ''),
      )?.[1] ?? 0,
    );
    return {
      rows,
      file_bytes: fileBytes,
      chunks,
      answered_ms: Math.round(answered),
      done_ms: Math.round(done),
      processing_ms: Number((action as { processing_time?: number }).processing_time ?? 0),
      result: action.result,
      peak_workerd_rss_mb: +peak.workerd.toFixed(0),
      peak_wrangler_rss_mb: +peak.wrangler.toFixed(0),
      queue_batch: QUEUE_BATCH,
    };
  } finally {
    if (sampler) clearInterval(sampler);
    child?.kill('SIGTERM');
    if (child) await Promise.race([once(child, 'exit'), new Promise((r) => setTimeout(r, 5_000))]);
    rmSync(dir, { recursive: true, force: true });
    rmSync(BENCH_CONFIG, { force: true });
  }
}
