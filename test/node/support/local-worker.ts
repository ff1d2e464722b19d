import { readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { TEST_ENV } from '../../test-env';

export interface LocalWorker {
  /** e.g. http://127.0.0.1:41234, no trailing slash (as the official SDK wants apiUrl). */
  url: string;
  /** The worker's D1, for what no API route does (e.g. setVoucherHolder until publications exist). */
  db: D1Database;
  stop(): Promise<void>;
}

/**
 * Serves the worker on a real loopback port (Miniflare = the workerd of `wrangler dev`) with fresh
 * in-memory D1 and KV and the migrations applied, so that clients running in Node, like the
 * official @voucherify/sdk, can talk to it over HTTP. `bindings` replace some of the test ones
 * (e.g. `{ IDENTITY_VERIFICATION: 'off' }`).
 */
export async function startLocalWorker(bindings: Record<string, string> = {}): Promise<LocalWorker> {
  const bundle = await build({
    entryPoints: ['worker/src/index.ts'],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    write: false,
    logLevel: 'silent',
  });
  const script = bundle.outputFiles[0]?.text;
  if (!script) throw new Error('worker bundle is empty');

  const mf = new Miniflare({
    modules: true,
    script,
    compatibilityDate: '2026-04-20',
    d1Databases: ['DB'],
    kvNamespaces: ['CACHE'],
    // wrangler.toml's archive of expired raw events (services/event-retention.ts).
    r2Buckets: ['EVENT_ARCHIVE'],
    // wrangler.toml's write and webhook queues, consumed by this same worker (a batch waits 50 ms for more, not 1 s).
    queueProducers: { WRITES: 'vouchsafe-writes', WEBHOOKS: 'vouchsafe-webhooks' },
    queueConsumers: {
      'vouchsafe-writes': { maxBatchSize: 100, maxBatchTimeout: 0.05, maxRetries: 5, deadLetterQueue: 'vouchsafe-writes-dlq' },
      'vouchsafe-writes-dlq': { maxBatchSize: 100, maxBatchTimeout: 0.05 },
      'vouchsafe-webhooks': { maxBatchSize: 10, maxBatchTimeout: 0.05, maxRetries: 3, deadLetterQueue: 'vouchsafe-webhooks-dlq' },
      'vouchsafe-webhooks-dlq': { maxBatchSize: 10, maxBatchTimeout: 0.05 },
    },
    bindings: { ...TEST_ENV, ...bindings },
    host: '127.0.0.1',
    port: 0,
  });
  const url = await mf.ready;
  const db = await mf.getD1Database('DB');
  for (const migration of await readD1Migrations('worker/migrations')) {
    await db.batch(migration.queries.map((q) => db.prepare(q)));
  }
  return { url: url.origin, db: db as unknown as D1Database, stop: () => mf.dispose() };
}
