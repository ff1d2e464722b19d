// The memory of a CSV import at the documented limits (100,000 rows, a 25 MiB file), measured in a
// node child with a 64 MB old space running the worker's own request code (the body streamed as
// multipart, every row read and validated, the chunk messages built and sent; D1 and the queue
// stubbed): see support/import-heap-child.ts for exactly what is sampled. The goal: peak heap ≤ 64 MB.
// Then an import end to end against `wrangler dev` through the WRITES queue (support/import-queue.ts):
// BENCH_IMPORT_ROWS rows (default 1,000,000: about 2.5 minutes here), its time and the peak RSS of workerd.
import { formatCount, type BenchRow } from './table';
import { HEAP_LIMIT_MB, measureImportHeap } from './support/import-heap';
import { runImportThroughQueue } from './support/import-queue';

export async function run(): Promise<BenchRow[]> {
  const m = await measureImportHeap();
  const size = `${formatCount(m.rows)} rows, ${(m.file_bytes / 1024 / 1024).toFixed(1)} MiB`;
  console.log(JSON.stringify(m));
  const q = await runImportThroughQueue();
  console.log(JSON.stringify(q));
  const queued = `${formatCount(q.rows)} rows, ${(q.file_bytes / 1024 / 1024).toFixed(1)} MiB, ${formatCount(q.chunks)} chunks, batches of ${q.queue_batch}`;
  return [
    { area: 'Import', measure: `import peak heap (${size}; goal ≤ ${HEAP_LIMIT_MB} MB)`, value: `${m.peak_heap_mb.toFixed(1)} MB` },
    {
      area: 'Import',
      measure: 'import peak heap + ArrayBuffers (body pieces, messages in flight)',
      value: `${m.peak_heap_plus_buffers_mb.toFixed(1)} MB`,
    },
    {
      area: 'Import',
      measure: 'import: rows read, validated and sent as chunk messages (node, D1 and queue stubbed)',
      value: `${(m.answered_ms / 1000).toFixed(1)} s`,
    },
    {
      area: 'Import',
      measure: `import through the queue, wrangler dev (${queued}): 202 / DONE (processing_time)`,
      value: `${(q.answered_ms / 1000).toFixed(1)} s / ${(q.processing_ms / 1000).toFixed(1)} s (${formatCount(q.rows / (q.processing_ms / 1000))} rows/s)`,
    },
    {
      area: 'Import',
      measure: 'import through the queue: peak RSS of workerd (worker, local D1, queue) / wrangler',
      value: `${q.peak_workerd_rss_mb} MB / ${q.peak_wrangler_rss_mb} MB`,
    },
  ];
}
