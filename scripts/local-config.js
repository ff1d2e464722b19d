// The wrangler config `wrangler dev` runs with locally: wrangler.toml, except that the write queue's
// consumer takes batches of LOCAL_QUEUE_BATCH messages instead of production's 100. Miniflare's
// local queue broker stops delivering after a few 100-message deliveries of import chunks (a
// 400,000-row CSV stalled at 47%; `BENCH_QUEUE_BATCH=100 npm run bench -- import-heap` shows it),
// while batches of 10 import 1,000,000 rows. Production keeps 100: fewer, larger D1 batches.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const LOCAL_QUEUE_BATCH = 10;

/**
 * Writes the local config next to wrangler.toml (its paths are relative to it) and returns its
 * path. `batch` overrides the consumer batch size (the import benchmark's BENCH_QUEUE_BATCH).
 */
export function writeLocalConfig(root, name = '.wrangler-local.toml', batch = LOCAL_QUEUE_BATCH) {
  const source = readFileSync(join(root, 'wrangler.toml'), 'utf8');
  const local = source.replace(/^max_batch_size = 100$/m, `max_batch_size = ${batch}`);
  if (local === source && batch !== 100) throw new Error('wrangler.toml: no "max_batch_size = 100" line for the write queue');
  const path = join(root, name);
  writeFileSync(path, `# Written by scripts/local-config.js for wrangler dev; do not edit.\n${local}`);
  return path;
}
