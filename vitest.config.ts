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
            miniflare: { bindings: { ...TEST_ENV, TEST_MIGRATIONS: migrations } },
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
