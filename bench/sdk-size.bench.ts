// Bytes of the browser SDK builds, raw and gzip (level 9), as the size budget test measures them.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { type BenchRow, formatCount } from './table';

const FILES = [
  ['IIFE (script tag, js-cookie inside)', 'dist/public/sdk/v1.js', 3072],
  ['ESM (npm)', 'dist/client/index.js', null],
  ['loader snippet', 'dist/public/sdk/snippet.min.js', 600],
] as const;

export async function run(): Promise<BenchRow[]> {
  const built = spawnSync(process.execPath, ['node_modules/rollup/dist/bin/rollup', '-c', 'client/rollup.config.js', '--silent'], {
    stdio: 'inherit',
  });
  if (built.status !== 0) throw new Error('npm run build failed');
  return FILES.map(([label, path, budget]) => {
    const bytes = readFileSync(path);
    const gzip = gzipSync(bytes, { level: 9 }).length;
    console.log(`${label}: ${bytes.length} bytes, ${gzip} gzip${budget ? ` (budget ${budget})` : ''}`);
    return { area: 'SDK', measure: `${label}, gzip`, value: `${formatCount(gzip)} B${budget ? ` (budget ${formatCount(budget)})` : ''}` };
  });
}
