// One way for a benchmark to run the worker on its own: fresh local storage, the migrations
// applied, optional seed SQL, `wrangler dev` on a free loopback port with .dev.vars.example's
// settings (plus `extraVars`), a server-key API caller, SQL on the local D1 once the server is
// stopped, and cleanup. Used by the benches that need nothing more of wrangler dev.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAndMigrate, devVars, freePort, waitForHealth } from '../edge.bench';

const wrangler = 'node_modules/wrangler/bin/wrangler.js';

export interface FreshWorker {
  baseUrl: string;
  vars: Record<string, string>;
  /** A server-key call; a non-2xx answer throws with its body. */
  api(method: string, path: string, body?: unknown): Promise<Record<string, any>>;
  /** Stops wrangler dev (so the local D1 is flushed) and runs `sql` on it; the result rows. */
  queryAfterStop<Row>(sql: string): Promise<Row[]>;
  /** Stops the server if running and removes the storage. */
  dispose(): void;
}

export async function startFreshWorker(
  prefix: string,
  options: { seedSql?: string; extraVars?: Record<string, string> } = {},
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
    child = spawn(process.execPath, [wrangler, 'dev', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', persist, ...varArgs], {
      env,
      stdio: 'ignore',
    });
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitForHealth(baseUrl);
    const headers = { 'X-App-Id': vars.APP_ID ?? '', 'X-App-Token': vars.APP_TOKEN ?? '', 'Content-Type': 'application/json' };
    return {
      baseUrl,
      vars,
      async api(method, path, body) {
        const res = await fetch(`${baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
        const json = (await res.json()) as Record<string, any>;
        if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json).slice(0, 500)}`);
        return json;
      },
      async queryAfterStop<Row>(sql: string) {
        child?.kill('SIGTERM');
        child = undefined;
        await new Promise((r) => setTimeout(r, 1000));
        const result = d1(sql, true);
        if (result.status !== 0) throw new Error(`query failed: ${result.stderr}`);
        return (JSON.parse(result.stdout) as [{ results: Row[] }])[0].results;
      },
      dispose,
    };
  } catch (error) {
    dispose();
    throw error;
  }
}
