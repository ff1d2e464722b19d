// Runs one CSV import through the worker's own code, in node, and reports its peak memory. Started
// by bench/import-heap.bench.ts and test/node/import-heap.test.ts as
//   node --expose-gc --max-old-space-size=64 <this file, bundled> <csv path>
// What runs is what the route runs: the request body as a stream (64 KiB chunks from the file,
// wrapped in a multipart/form-data envelope, no Content-Length) read by streamMultipartFile, then
// startCustomerImport (decode, parse and validate every row as the bytes arrive, sending the valid
// rows as chunk messages). D1 and the queue are replaced by stubs that drop what they are given:
// the database's and the queue's memory are not the Worker's. (The consumer holds one delivery,
// at most 100 messages under 128 KB each.)
//
// Sampling: every 16 body chunks (1 MiB) while the body streams, and at every sendBatch, a full GC
// (--expose-gc) and then process.memoryUsage(). heapUsed is the live V8 heap; arrayBuffers the
// bytes outside it. --max-old-space-size=64 makes the run itself the proof: had the live heap ever
// needed more than 64 MB, V8 would have aborted with an out-of-memory error.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { streamMultipartFile } from '../../worker/src/lib/multipart';
import type { WriteQueue } from '../../worker/src/queue/messages';
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
  const head = encoder.encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="customers.csv"\r\nContent-Type: text/csv\r\n\r\n`,
  );
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

/** A queue that counts what it is sent and keeps nothing, sampling memory at each sendBatch. */
function droppingQueue(): WriteQueue & { messages: number } {
  const queue = {
    messages: 0,
    send: async () => {
      queue.messages += 1;
    },
    sendBatch: async (batch: Iterable<unknown>) => {
      sample();
      for (const _ of batch) queue.messages += 1;
    },
  };
  return queue as unknown as WriteQueue & { messages: number };
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
  let fileBytes = 0;
  const upload = streamMultipartFile(request, 'file', MAX_IMPORT_BYTES, () => new Error('no file in the body'));
  if (!upload) throw new Error('not a multipart body');
  const counted = (async function* () {
    for await (const bytes of upload) {
      fileBytes += bytes.length;
      yield bytes;
    }
  })();
  const db = droppingD1();
  const queue = droppingQueue();
  const action = await startCustomerImport(db, queue, counted, 'v-bench');
  const answeredMs = performance.now() - started;
  sample();
  const result = action.result as { total_count: number; failed_count: number };
  process.stdout.write(
    `${JSON.stringify({
      file_bytes: fileBytes,
      messages: queue.messages,
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
