// Runs one CSV import through the worker's own code, in node, and reports its peak memory. Started
// by bench/import-heap.bench.ts and test/node/import-heap.test.ts as
//   node --expose-gc --max-old-space-size=64 <this file, bundled> <csv path>
// What runs is what the route runs: the request body as a stream (64 KiB chunks from the file,
// wrapped in a multipart/form-data envelope, no Content-Length) read by readMultipartFile, then
// startCustomerImport (decode, parse and validate every row, keeping counts and failures) and the
// background writes (the same rows read again, chunked, each chunk's statements built with its
// JSON parameter and handed to D1). Only D1 is replaced, by a stub that drops every statement:
// the database's memory is not the Worker's.
//
// Sampling: every 16 body chunks (1 MiB) while the body streams, every 16 file chunks while each
// reading of the file runs, and at every D1 batch, a full GC (--expose-gc) and then
// process.memoryUsage(). heapUsed is the live V8 heap; arrayBuffers the bytes outside it (the file
// kept for the second reading). --max-old-space-size=64 makes the run itself the proof: had the
// live heap ever needed more than 64 MB, V8 would have aborted with an out-of-memory error.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { readMultipartFile } from '../../worker/src/lib/multipart';
import { MAX_IMPORT_BYTES } from '../../worker/src/schemas/imports';
import { startCustomerImport } from '../../worker/src/services/customer-import';

const MB = 1024 * 1024;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const peak = { heapUsed: 0, arrayBuffers: 0, total: 0, samples: 0 };
const baseline = (() => {
  gc();
  return process.memoryUsage();
})();
function sample(): void {
  gc?.();
  const m = process.memoryUsage();
  peak.samples += 1;
  peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
  peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers);
  peak.total = Math.max(peak.total, m.heapUsed + m.arrayBuffers);
}

/** D1 that accepts every statement and stores nothing. */
function droppingD1(): D1Database {
  const statement = (): D1PreparedStatement => {
    const s = {
      bind: () => s,
      run: async () => ({ success: true, results: [], meta: {} }),
      all: async () => ({ success: true, results: [], meta: {} }),
      first: async () => null,
      raw: async () => [],
    };
    return s as unknown as D1PreparedStatement;
  };
  return {
    prepare: statement,
    batch: async (list: D1PreparedStatement[]) => {
      sample();
      return list.map(() => ({ success: true, results: [], meta: {} }));
    },
  } as unknown as D1Database;
}

/** The file as a multipart body stream, sampling memory every 16 chunks as the route reads it. */
function multipartBody(path: string, boundary: string): ReadableStream<Uint8Array> {
  const file = Readable.toWeb(createReadStream(path, { highWaterMark: 64 * 1024 })) as ReadableStream<Uint8Array>;
  const encoder = new TextEncoder();
  const head = encoder.encode(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="customers.csv"\r\nContent-Type: text/csv\r\n\r\n`);
  const tail = encoder.encode(`\r\n--${boundary}--\r\n`);
  const reader = file.getReader();
  let started = false;
  let count = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(head);
        return;
      }
      const { done, value } = await reader.read();
      if (done) {
        controller.enqueue(tail);
        controller.close();
        return;
      }
      if (++count % 16 === 0) sample();
      controller.enqueue(value);
    },
  });
}

/** The kept chunks, read as an iterable that samples every 16 chunks (the code reads them twice). */
function sampled(chunks: Uint8Array[]): Uint8Array[] {
  const view = [...chunks];
  Object.defineProperty(view, Symbol.iterator, {
    value: function* () {
      for (let i = 0; i < chunks.length; i++) {
        if (i % 16 === 0) sample();
        yield chunks[i] as Uint8Array;
      }
    },
  });
  return view;
}

async function main(path: string) {
  const started = performance.now();
  const boundary = '----vouchsafe-bench-boundary';
  const request = new Request('http://bench.invalid/v1/customers/importCSV', {
    method: 'POST',
    headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` },
    body: multipartBody(path, boundary),
    duplex: 'half',
  } as RequestInit);
  const upload = await readMultipartFile(request, 'file', MAX_IMPORT_BYTES);
  if (!upload) throw new Error('no file in the body');
  sample();
  const db = droppingD1();
  let work: (() => Promise<void>) | undefined;
  const action = await startCustomerImport(db, sampled(upload.chunks), 'v-bench', (w) => (work = w));
  const answeredMs = performance.now() - started;
  sample();
  await work?.();
  sample();
  const result = action.result as { total_count: number; failed_count: number };
  process.stdout.write(
    `${JSON.stringify({
      file_bytes: upload.size,
      rows: result.total_count,
      failed: result.failed_count,
      answered_ms: Math.round(answeredMs),
      total_ms: Math.round(performance.now() - started),
      samples: peak.samples,
      baseline_heap_mb: +(baseline.heapUsed / MB).toFixed(1),
      peak_heap_mb: +(peak.heapUsed / MB).toFixed(1),
      peak_array_buffers_mb: +(peak.arrayBuffers / MB).toFixed(1),
      peak_heap_plus_buffers_mb: +(peak.total / MB).toFixed(1),
    })}\n`,
  );
}

const path = process.argv[2];
if (!path) throw new Error('usage: import-heap-child <csv path>');
await main(path);
