/**
 * Before the e2e tests: a Chromium to drive and a seeded server on 127.0.0.1:$E2E_PORT (default
 * 8787). A server already answering /health there is reused;
 * otherwise `npm start` runs with a fresh database (PERSIST_TO) and is stopped afterwards.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARTIFACTS, BASE_URL, CHROMIUM_PATH, PORT, ROOT } from './config.ts';

const START_TIMEOUT_MS = 240_000;
const STOP_TIMEOUT_MS = 15_000;

type Health = 'vouchsafe' | 'other' | 'none';

async function probeHealth(): Promise<Health> {
  try {
    const res = await fetch(`${BASE_URL}/health`, { signal: AbortSignal.timeout(3_000) });
    const body = (await res.json().catch(() => null)) as { ok?: unknown } | null;
    return res.ok && body?.ok === true ? 'vouchsafe' : 'other';
  } catch {
    return 'none';
  }
}

/** Resolves once `npm start` prints its ready line (it seeds the demo data first). */
function startServer(persistTo: string): { child: ChildProcess; ready: Promise<void> } {
  mkdirSync(ARTIFACTS, { recursive: true });
  const log = createWriteStream(join(ARTIFACTS, 'server.log'));
  const child = spawn(process.execPath, ['scripts/start.js'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(PORT), PERSIST_TO: persistTo, WRANGLER_SEND_METRICS: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so that stopping it also stops wrangler and workerd.
    detached: true,
  });
  const ready = new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => reject(new Error(`the server was not ready within ${START_TIMEOUT_MS / 1000} s; see ${join(ARTIFACTS, 'server.log')}`)),
      START_TIMEOUT_MS,
    );
    const onData = (chunk: Buffer) => {
      log.write(chunk);
      output += chunk.toString();
      if (output.includes('[vouchsafe] could not seed demo data')) {
        clearTimeout(timer);
        reject(new Error(`npm start could not seed the demo data; see ${join(ARTIFACTS, 'server.log')}`));
      } else if (output.includes('[vouchsafe] ready:')) {
        clearTimeout(timer);
        resolve();
      }
      // Only the tail can still hold a line split across chunks.
      if (output.length > 10_000) output = output.slice(-1_000);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited (${signal ?? code}) before it was ready; see ${join(ARTIFACTS, 'server.log')}`));
    });
  });
  return { child, ready };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  killGroup(child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

export default async function setup(): Promise<() => Promise<void>> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}. Install it with \`apt-get update && apt-get install -y chromium\` ` +
        '(Debian/Ubuntu), or set CHROMIUM_PATH to a Chromium or Chrome binary.',
    );
  }
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });

  const health = await probeHealth();
  if (health === 'other') {
    throw new Error(
      `${BASE_URL} answers, but not as Vouchsafe (GET /health is not {"ok":true}); free port ${PORT} first (or set E2E_PORT).`,
    );
  }

  let stop = async (): Promise<void> => {};
  if (health === 'none') {
    const persistTo = mkdtempSync(join(tmpdir(), 'vouchsafe-e2e-'));
    console.log(`[e2e] starting npm start on ${BASE_URL} with a fresh database in ${persistTo}`);
    const { child, ready } = startServer(persistTo);
    const onExit = () => killGroup(child, 'SIGKILL');
    process.once('exit', onExit);
    stop = async () => {
      await stopServer(child);
      process.off('exit', onExit);
      rmSync(persistTo, { recursive: true, force: true });
    };
    try {
      await ready;
    } catch (error) {
      await stop();
      throw error;
    }
  } else {
    console.log(`[e2e] reusing the server already running on ${BASE_URL} (its database and its build of the demo)`);
  }

  // The demo needs DEMO=on; a reused server may run without it.
  const config = await fetch(`${BASE_URL}/demo/api/config`).catch(() => null);
  if (!config?.ok) {
    await stop();
    throw new Error(
      `${BASE_URL}/demo/api/config answers ${config?.status ?? 'nothing'}: the demo is off (DEMO=on in .dev.vars enables it).`,
    );
  }
  return stop;
}
