import { readdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

/**
 * The operator console's size budget, part 1: every static file a console page loads (htmx and the
 * stylesheet, as `npm run build` puts them in dist/public/console/assets), gzipped at level 9, at
 * most 24 KiB together. htmx alone is ~16.5 KiB of it. Part 2, the HTML of each page, is checked by
 * test/worker/console-size.test.ts on the rendered pages.
 */
const CONSOLE_ASSETS_BUDGET = 24 * 1024;

const assets = resolve(dirname(fileURLToPath(import.meta.url)), '../../dist/public/console/assets');

describe('console size budget', () => {
  it(`the console's JS and CSS are at most ${CONSOLE_ASSETS_BUDGET} bytes gzipped (level 9), htmx included`, () => {
    const files = readdirSync(assets);
    expect(files.some((f) => /^htmx-[0-9.]+\.min\.js$/.test(f))).toBe(true);
    expect(files).toContain('console.css');
    let total = 0;
    for (const file of files) {
      const source = readFileSync(resolve(assets, file));
      const gzipped = gzipSync(source, { level: 9 }).length;
      console.log(`dist/public/console/assets/${file}: ${source.length} B raw, ${gzipped} B gzip`);
      total += gzipped;
    }
    console.log(`console assets: ${total} B gzip (budget ${CONSOLE_ASSETS_BUDGET} B)`);
    expect(total).toBeLessThanOrEqual(CONSOLE_ASSETS_BUDGET);
  });
});
