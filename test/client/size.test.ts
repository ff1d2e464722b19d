import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

// Budgets of the built files (`npm run build`, which `npm test` runs first). For scale, gzip:
// Segment's core 30 KB, PostHog's array.js 122 KB, Plausible 2.7 KB, Segment's snippet 814 B.
const BUDGETS = [
  // 3 KiB: 3,000 B until the bookmark cookie (read-your-writes after a redemption) took it to ~3,010.
  ['dist/public/sdk/v1.js', 3072],
  ['dist/public/sdk/snippet.min.js', 600],
] as const;

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

describe('size budget', () => {
  it.each(BUDGETS)('%s is at most %i bytes gzipped (level 9)', (path, budget) => {
    const source = readFileSync(resolve(root, path));
    const gzipped = gzipSync(source, { level: 9 }).length;
    console.log(`${path}: ${source.length} B raw, ${gzipped} B gzip (budget ${budget} B)`);
    expect(source.length).toBeGreaterThan(0);
    expect(gzipped).toBeLessThanOrEqual(budget);
  });
});
