// Bundles import-heap-child.ts and runs it in a fresh node with a 64 MB old space on a generated
// file at the documented limits (see that file for exactly what is measured). Paths are relative
// to the project root, where `npm run bench` and vitest run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { IMPORT_FILE_BYTES, IMPORT_ROWS, writeImportCsv } from './import-file';

export const IMPORT_LIMITS = { rows: IMPORT_ROWS, bytes: IMPORT_FILE_BYTES };

/** The V8 old space the child may use: the goal is a peak heap of at most this. */
export const HEAP_LIMIT_MB = 64;

export interface ImportHeap {
  file_bytes: number;
  rows: number;
  failed: number;
  answered_ms: number;
  total_ms: number;
  samples: number;
  baseline_heap_mb: number;
  peak_heap_mb: number;
  peak_array_buffers_mb: number;
  peak_heap_plus_buffers_mb: number;
}

export async function measureImportHeap(): Promise<ImportHeap> {
  const dir = mkdtempSync(join(tmpdir(), 'vouchsafe-import-heap-'));
  try {
    const csv = join(dir, 'customers.csv');
    await writeImportCsv(csv);
    const child = join(dir, 'child.mjs');
    await build({
      entryPoints: [resolve('bench/support/import-heap-child.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      // Self-contained (zod included), so that it runs from the temporary directory.
      outfile: child,
      logLevel: 'warning',
    });
    const run = spawnSync(process.execPath, ['--expose-gc', `--max-old-space-size=${HEAP_LIMIT_MB}`, child, csv], {
      encoding: 'utf8',
      cwd: process.cwd(),
      timeout: 300_000,
    });
    if (run.status !== 0) {
      throw new Error(
        `the import ran out of its ${HEAP_LIMIT_MB} MB heap or failed (exit ${run.status}, ${run.signal ?? 'no signal'}):\n${run.stderr.slice(-2000)}`,
      );
    }
    return JSON.parse(run.stdout.trim().split('\n').at(-1) as string) as ImportHeap;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
