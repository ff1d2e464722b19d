// The memory of a CSV import at the documented limits (100,000 rows, a 25 MiB file), measured in a
// node child with a 64 MB old space running the worker's own import code (the body streamed as
// multipart, both readings of the file, every chunk's statements built; D1 stubbed): see
// support/import-heap-child.ts for exactly what is sampled. The goal: peak heap ≤ 64 MB.
import { formatCount, type BenchRow } from './table';
import { HEAP_LIMIT_MB, measureImportHeap } from './support/import-heap';

export async function run(): Promise<BenchRow[]> {
  const m = await measureImportHeap();
  const size = `${formatCount(m.rows)} rows, ${(m.file_bytes / 1024 / 1024).toFixed(1)} MiB`;
  console.log(JSON.stringify(m));
  return [
    { area: 'Import', measure: `import peak heap (${size}; goal ≤ ${HEAP_LIMIT_MB} MB)`, value: `${m.peak_heap_mb.toFixed(1)} MB` },
    { area: 'Import', measure: 'import peak heap + file bytes kept (ArrayBuffers)', value: `${m.peak_heap_plus_buffers_mb.toFixed(1)} MB` },
    { area: 'Import', measure: 'import: 202 after / all chunks built after (node, D1 stubbed)', value: `${(m.answered_ms / 1000).toFixed(1)} s / ${(m.total_ms / 1000).toFixed(1)} s` },
  ];
}
