#!/usr/bin/env node
// `npm run bench`: runs every bench/*.bench.ts (or those named: `npm run bench -- edge`) and prints
// one table of what they measured. Each file is bundled with esbuild (packages stay external) and
// its exported run() returns rows. Every load loop is bounded in count and time and talks only to
// 127.0.0.1.
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const outdir = fileURLToPath(new URL('../node_modules/.cache/vouchsafe-bench/', import.meta.url));
// Flags (`--quick`) are for the benches themselves, which read process.argv.
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const ORDER = [
  'sdk-size',
  'filter-evaluate',
  'qualification-judge',
  'segment-members',
  'import-heap',
  'edge',
  'topology',
  'heavy-segment',
  'bulk-import',
  'segment-preview',
  'campaign-codes',
  'segment-distribution',
  'webhooks',
  'tracking',
];
const names = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .filter((n) => wanted.length === 0 || wanted.includes(n))
  .sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b));

const rows = [];
for (const name of names) {
  const outfile = `${outdir}${name}.mjs`;
  await build({
    entryPoints: [`${here}${name}.bench.ts`],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile,
    logLevel: 'warning',
  });
  console.log(`\n## ${name}`);
  const { run } = await import(pathToFileURL(outfile).href);
  rows.push(...(await run()));
}

const widths = ['area', 'measure', 'value'].map((k) => Math.max(k.length, ...rows.map((r) => String(r[k]).length)));
const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
console.log(`\n${line(['area', 'measure', 'value'])}`);
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of rows) console.log(line([r.area, r.measure, r.value]));
process.exit(0);
