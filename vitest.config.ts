import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';
import { TEST_ENV } from './test/test-env.ts';

const migrations = await readD1Migrations('worker/migrations');

export default defineConfig({
  test: {
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
                'vouchsafe-webhooks': { maxBatchSize: 10, maxBatchTimeout: 0.05, maxRetries: 3, deadLetterQueue: 'vouchsafe-webhooks-dlq' },
                'vouchsafe-webhooks-dlq': { maxBatchSize: 10, maxBatchTimeout: 0.05 },
              },
            },
          }),
        ],
        test: {
          name: 'worker',
          include: ['test/worker/**/*.test.ts'],
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
          include: ['test/node/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
