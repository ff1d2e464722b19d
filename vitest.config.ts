import { existsSync } from 'node:fs';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';
import { SlowestFiles } from './test/slowest-files.ts';
import { TEST_ENV } from './test/test-env.ts';

const migrations = await readD1Migrations('worker/migrations');

/**
 * `npm run test:quick` (`vitest run --mode quick`): the inner loop, about a minute on two quiet cores
 * instead of the full run's many. It runs all of the client project, the node project's pure code
 * (shared/: filters, discounts, validity, parsers) and one file of the official SDK against a local
 * server, and the worker files below: one per main flow (auth, errors, customers, segments, vouchers,
 * validate, redeem, the route catalogue, the schema), chosen because each is fast past its start-up.
 * Left out: every other worker file (each costs 3-6 s of workerd start-up and fresh storage before a
 * test runs) and the node files that start their own Miniflare, the heavy ones (imports of tens of
 * thousands of rows, exports, 12,000-customer segments, real-clock waits) among them. `npm test` runs
 * everything; run it before pushing.
 */
const QUICK_WORKER_FILES = [
  'test/worker/health.test.ts',
  'test/worker/auth.test.ts',
  'test/worker/errors.test.ts',
  'test/worker/customers.test.ts',
  'test/worker/segments.test.ts',
  'test/worker/vouchers.test.ts',
  'test/worker/validate.test.ts',
  'test/worker/redeem.test.ts',
  'test/worker/openapi.test.ts',
  'test/worker/schema.test.ts',
];
const QUICK_NODE_FILES = [
  'test/node/demo-warning.test.ts',
  'test/node/discount.test.ts',
  'test/node/filter-explain.test.ts',
  'test/node/filter-parse.test.ts',
  'test/node/filter-semantics.test.ts',
  'test/node/parsers-property.test.ts',
  'test/node/rules-limits.test.ts',
  'test/node/validity.test.ts',
  'test/node/sdk-customers.test.ts',
];

export default defineConfig(({ mode }) => {
  const quick = mode === 'quick';
  if (quick) {
    // A listed file renamed or moved would drop out of the quick run unnoticed: stop here instead.
    const missing = [...QUICK_WORKER_FILES, ...QUICK_NODE_FILES].filter((file) => !existsSync(file));
    if (missing.length > 0) throw new Error(`vitest.config.ts: the quick run names missing test files: ${missing.join(', ')}`);
  }
  return {
    test: {
      // The default report, then the 10 slowest files with their durations (test/slowest-files.ts).
      reporters: ['default', new SlowestFiles(10)],
      projects: [
        {
          // Worker tests run inside workerd against local D1 and KV; storage is isolated per file.
          plugins: [
            cloudflareTest({
              wrangler: { configPath: './wrangler.toml' },
              miniflare: {
                bindings: { ...TEST_ENV, TEST_MIGRATIONS: migrations },
                // wrangler.toml's consumers, but a batch waits 50 ms instead of 1 s for more messages:
                // the tests that wait for the consumer (helpers.ts settled()) wait that much less.
                queueConsumers: {
                  'vouchsafe-writes': { maxBatchSize: 100, maxBatchTimeout: 0.05, maxRetries: 5, deadLetterQueue: 'vouchsafe-writes-dlq' },
                  'vouchsafe-writes-dlq': { maxBatchSize: 100, maxBatchTimeout: 0.05 },
                  'vouchsafe-webhooks': {
                    maxBatchSize: 10,
                    maxBatchTimeout: 0.05,
                    maxRetries: 3,
                    deadLetterQueue: 'vouchsafe-webhooks-dlq',
                  },
                  'vouchsafe-webhooks-dlq': { maxBatchSize: 10, maxBatchTimeout: 0.05 },
                },
              },
            }),
          ],
          test: {
            name: 'worker',
            include: quick ? QUICK_WORKER_FILES : ['test/worker/**/*.test.ts'],
            setupFiles: ['test/worker/apply-migrations.ts'],
          },
        },
        {
          // The browser SDK in a DOM (cookies, WebCrypto, fetch), and the size budget of its builds.
          test: {
            name: 'client',
            environment: 'happy-dom',
            include: ['test/client/**/*.test.ts'],
          },
        },
        {
          // Pure code (shared/) and the official SDK driving a real local server.
          test: {
            name: 'node',
            environment: 'node',
            include: quick ? QUICK_NODE_FILES : ['test/node/**/*.test.ts'],
            testTimeout: 30_000,
            hookTimeout: 60_000,
          },
        },
      ],
    },
  };
});
