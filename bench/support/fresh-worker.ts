// One way for a benchmark to run the worker on its own: fresh local storage, the migrations
// applied, optional seed SQL, `wrangler dev` on a free loopback port with .dev.vars.example's
// settings (plus `extraVars`), a server-key API caller, SQL on the local D1 (while it runs or once
// it is stopped), the lines wrangler prints (the worker's console.log), and cleanup. Used by the
// benches that need nothing more of wrangler dev.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAndMigrate, devVars, freePort, waitForHealth } from '../edge.bench';

const wrangler = 'node_modules/wrangler/bin/wrangler.js';

export interface FreshWorker {
  baseUrl: string;
  vars: Record<string, string>;
  /** The local state (`--persist-to`): the D1 SQLite file is under v3/d1/. */
  persist: string;
  /** A server-key call; a non-2xx answer throws with its body. */
  api(method: string, path: string, body?: unknown): Promise<Record<string, any>>;
  /**
   * Runs `sql` on the local D1 while wrangler dev runs (a second workerd opens the same SQLite file,
   * in WAL mode, so it sees every committed write); the result rows. Costs about 1.5 s of CPU.
   */
  query<Row>(sql: string): Promise<Row[]>;
  /** Stops wrangler dev (so the local D1 is flushed) and runs `sql` on it; the result rows. */
  queryAfterStop<Row>(sql: string): Promise<Row[]>;
  /** Reads an object of a local R2 bucket (wrangler r2 object get --local); its bytes. */
  r2Object(bucket: string, key: string): Buffer;
  /** Stops the server if running and removes the storage. */
  dispose(): void;
}

export async function startFreshWorker(
  prefix: string,
  options: {
    seedSql?: string;
    extraVars?: Record<string, string>;
    onLine?: (line: string) => void;
    /** Serve `/__scheduled?cron=…` (wrangler dev --test-scheduled), so the bench runs the cron when it chooses. */
    testScheduled?: boolean;
  } = {},
): Promise<FreshWorker> {
  const vars = devVars();
  const persist = mkdtempSync(join(tmpdir(), `vouchsafe-${prefix}-`));
  const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' };
  let child: ChildProcess | undefined;
  const d1 = (sql: string, json: boolean) =>
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
        ...(json ? ['--json'] : []),
        '--command',
        sql.replace(/\s+/g, ' '),
      ],
      { env, encoding: 'utf8' },
    );
  const dispose = () => {
    child?.kill('SIGTERM');
    child = undefined;
    rmSync(persist, { recursive: true, force: true });
  };
  try {
    buildAndMigrate(persist, env);
    if (options.seedSql) {
      const seeded = d1(options.seedSql, false);
      if (seeded.status !== 0) throw new Error(`seeding failed: ${seeded.stderr}`);
    }
    const port = await freePort();
    const varArgs = Object.entries({ ...vars, ...options.extraVars }).flatMap(([k, v]) => ['--var', `${k}:${v}`]);
    child = spawn(
      process.execPath,
      [
        wrangler,
        'dev',
        '--ip',
        '127.0.0.1',
        '--port',
        String(port),
        '--persist-to',
        persist,
        ...(options.testScheduled ? ['--test-scheduled'] : []),
        ...varArgs,
      ],
      {
        env,
        stdio: ['ignore', options.onLine ? 'pipe' : 'ignore', 'ignore'],
      },
    );
    if (options.onLine && child.stdout) createInterface({ input: child.stdout }).on('line', options.onLine);
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitForHealth(baseUrl);
    const headers = { 'X-App-Id': vars.APP_ID ?? '', 'X-App-Token': vars.APP_TOKEN ?? '', 'Content-Type': 'application/json' };
    const rowsOf = <Row>(result: { status: number | null; stdout: string; stderr: string }) => {
      if (result.status !== 0) throw new Error(`query failed: ${result.stderr}`);
      return (JSON.parse(result.stdout) as [{ results: Row[] }])[0].results;
    };
    // While the server runs, without blocking the event loop: a bench's load loops keep going.
    const d1Async = (sql: string) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const args = [wrangler, 'd1', 'execute', 'DB', '--local', '--persist-to', persist, '--json', '--command', sql.replace(/\s+/g, ' ')];
        const proc = spawn(process.execPath, args, { env });
        let stdout = '';
        let stderr = '';
        proc.stdout.on('data', (d: Buffer) => (stdout += d));
        proc.stderr.on('data', (d: Buffer) => (stderr += d));
        proc.on('close', (status) => resolve({ status, stdout, stderr }));
      });
    return {
      baseUrl,
      vars,
      persist,
      async api(method, path, body) {
        const res = await fetch(`${baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
        const json = (await res.json()) as Record<string, any>;
        if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json).slice(0, 500)}`);
        return json;
      },
      async query<Row>(sql: string) {
        return rowsOf<Row>(await d1Async(sql));
      },
      r2Object(bucket, key) {
        const got = spawnSync(
          process.execPath,
          [wrangler, 'r2', 'object', 'get', `${bucket}/${key}`, '--local', '--persist-to', persist, '--pipe'],
          {
            env,
            maxBuffer: 256 * 1024 * 1024,
          },
        );
        if (got.status !== 0) throw new Error(`r2 object get ${key} failed: ${got.stderr}`);
        return got.stdout;
      },
      async queryAfterStop<Row>(sql: string) {
        child?.kill('SIGTERM');
        child = undefined;
        await new Promise((r) => setTimeout(r, 1000));
        return rowsOf<Row>(d1(sql, true));
      },
      dispose,
    };
  } catch (error) {
    dispose();
    throw error;
  }
}
