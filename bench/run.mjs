#!/usr/bin/env node
// Runs the TypeScript benchmarks of this folder: `npm run bench` (all) or `npm run bench -- NAME`.
// Each is bundled with esbuild (packages stay external) and run in this Node process.
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const outdir = fileURLToPath(new URL('../node_modules/.cache/vouchsafe-bench/', import.meta.url));
const wanted = process.argv.slice(2);
const names = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .filter((n) => wanted.length === 0 || wanted.includes(n));

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
  await import(pathToFileURL(outfile).href);
}
