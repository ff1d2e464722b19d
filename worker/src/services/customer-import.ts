import type { AsyncAction } from '../../../shared/types';
import * as asyncActions from '../db/async-actions';
import * as importDb from '../db/customer-import';
import { ApiError } from '../errors';
import { randomId } from '../lib/ids';
import {
  BatchSender,
  type ImportChunkMessage,
  type ImportChunkRow,
  MAX_MESSAGE_BYTES,
  utf8Bytes,
  type WriteQueue,
} from '../queue/messages';
import { newAsyncAction } from './async-actions';
import { emptyScan, count, ImportRowReader, type ImportRow, type RowOutcome } from './customer-import-rows';
import { finishedResult, initialResult } from './customer-import-report';

// POST /v1/customers/importCSV, as queue work. The file arrives as byte chunks
// (routes/imports.ts hands them on as the multipart body streams) and is never held whole, as
// text, rows or records:
// 1. inside the request (this file), every row is decoded, parsed and validated as its bytes
//    arrive (customer-import-rows.ts); the valid rows go out at once as chunk messages on the WRITES queue (each under Queues' 128 KB), and
//    only counts and the reported failures stay. The chunks wait in the queue until the file is
//    accepted: a bad header, a byte that is not text or too many rows is a 400 that drops them,
//    so nothing is written. Accepted, the async action is stored with the number of chunks;
// 2. the queue consumer writes each chunk (customer-import-chunks.ts) in parts of whole slices
//    (IMPORT_SLICE_ROWS rows), as many slices per part as fit the bulk writers' D1 time target (lib/write-pacer.ts), pausing
//    between parts so checkouts get the database. A part is one D1 batch: its upserts, the refresh
//    of its customers' auto-update segments, its counts and failures added to the action, and a
//    marker per slice (migration 0014), so a chunk delivered twice, or two runners at once,
//    write and count each slice once. The chunk that completes the count makes the action DONE.
// The action's result, from the first answer to DONE or FAILED, is built in customer-import-report.ts.
// Peak memory of the request is one chunk and a sendBatch in flight (`npm run bench -- import-heap`).

// ---- The request: read, validate and send

/**
 * Bytes of one chunk message: Queues take messages under 128 KB (MAX_MESSAGE_BYTES), this leaves
 * room for the envelope. A valid row is far smaller (metadata at most 32 KB as JSON, text columns
 * 255 characters), so every row fits a chunk.
 */
export const MAX_CHUNK_BYTES = 120_000;
/** Rows per chunk, however small: one upsert of json_each over this many rows stays short. */
export const MAX_CHUNK_ROWS = 5_000;
const ENVELOPE_BYTES = 200;

/** Gathers valid rows into chunk messages of at most MAX_CHUNK_BYTES and MAX_CHUNK_ROWS. */
class ChunkBuilder {
  private rows: ImportChunkRow[] = [];
  private bytes = ENVELOPE_BYTES;
  count = 0;

  constructor(
    private readonly actionId: string,
    private readonly at: number,
  ) {}

  /**
   * Adds a row; returns the chunk it completed, if any. A row that may create a customer gets the
   * new id here, once, so a chunk written twice names the same customers.
   */
  add(row: ImportRow): { message: ImportChunkMessage; bytes: number } | null {
    if (row.kind !== 'id') row.record.id = randomId('cust_');
    const entry: ImportChunkRow = [row.row, row.kind, row.record];
    const size = utf8Bytes(JSON.stringify(entry)) + 1;
    const full = this.rows.length >= MAX_CHUNK_ROWS || this.bytes + size > MAX_CHUNK_BYTES ? this.take() : null;
    this.rows.push(entry);
    this.bytes += size;
    return full;
  }

  take(): { message: ImportChunkMessage; bytes: number } | null {
    if (this.rows.length === 0) return null;
    const message: ImportChunkMessage = {
      kind: 'import_chunk',
      id: randomId('ich_'),
      at: this.at,
      action_id: this.actionId,
      rows: this.rows,
    };
    const bytes = this.bytes;
    this.rows = [];
    this.bytes = ENVELOPE_BYTES;
    this.count += 1;
    return { message, bytes };
  }
}

/**
 * Rows read between two turns given to the isolate's other requests. Reading and validating a
 * row is CPU only, and a network read or a queue send (the only awaits that wait) may come
 * thousands of rows apart: measured locally, a 50,000-row file held every validate and redeem
 * of the same isolate for a second. A turn every 500 rows (a few ms of work) lets them in.
 */
const ROWS_PER_TURN = 500;
const nextTurn = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Reads and validates the file as it arrives, sends its valid rows as chunk messages, then stores
 * the action (IN_PROGRESS with the number of chunks; DONE when there is nothing to write) and
 * returns it, for the 202. A refused file (ApiError) leaves no action, and its chunks are dropped.
 */
export async function startCustomerImport(
  db: D1Database,
  queue: WriteQueue,
  file: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  requestId: string,
): Promise<AsyncAction> {
  const startedAt = Date.now();
  const actionId = randomId('aa_');
  await importDb.receiveImport(db, actionId, startedAt).run();
  const scan = emptyScan();
  const chunks = new ChunkBuilder(actionId, startedAt);
  const sender = new BatchSender(queue);
  try {
    const reader = new ImportRowReader();
    const take = async (outcomes: Iterable<RowOutcome>) => {
      for (const outcome of outcomes) {
        if (scan.total % ROWS_PER_TURN === ROWS_PER_TURN - 1) await nextTurn();
        count(scan, outcome);
        const full = outcome.write ? chunks.add(outcome.write) : null;
        if (full) await sender.add(full.message, full.bytes);
      }
    };
    for await (const bytes of file) await take(reader.push(bytes));
    await take(reader.end());
    const last = chunks.take();
    if (last) await sender.add(last.message, last.bytes);
    await sender.flush();
  } catch (error) {
    // Should this delete fail too, the chunks wait RECEIVING_LIMIT_MS and are dropped then.
    await importDb
      .refuseImport(db, actionId)
      .run()
      .catch((e: unknown) => console.error(JSON.stringify({ async_action_id: actionId, error: String(e) })));
    throw error;
  }

  const result = initialResult(scan);
  const done = chunks.count === 0;
  const action = newAsyncAction({
    id: actionId,
    type: 'CUSTOMERS.IMPORT_CSV',
    result: done ? finishedResult(result) : result,
    requestId,
    startedAt,
    done,
  });
  await db.batch([asyncActions.insertAsyncAction(db, action), importDb.acceptImport(db, actionId, chunks.count)]);
  return action;
}
