import type { WritableColumn } from '../../../shared/customer-fields';
import type { CustomerWrite } from '../schemas/customers';

/** The queues of wrangler.toml: the writes, and where the platform moves what failed max_retries times. */
export const WRITES_QUEUE = 'vouchsafe-writes';
export const DEAD_LETTER_QUEUE = 'vouchsafe-writes-dlq';

/**
 * What goes through the WRITES queue: the one catalogue of message kinds. Every message has an id,
 * made when it is sent, that the consumer records with its effects (migration 0013), so a message
 * delivered twice is applied once; and `at`, the time of the request it comes from, so its rows
 * carry when things happened, not when they were written.
 */
interface Envelope<Kind extends string> {
  kind: Kind;
  id: string;
  at: number;
}

/** A validate call (client or server): the attempt of each code with its outcome, and the visit on the tracking profile. */
export interface ValidationAttemptMessage extends Envelope<'validation'> {
  tracking_id: string | null;
  /** customer.id or customer.source_id as the request named it (server key, or a believed claim). */
  customer_ref: string | null;
  /** Which of the two customer_ref is; absent in messages queued before it was recorded. */
  customer_ref_kind?: 'id' | 'source_id';
  identity_hmac: string | null;
  amount: number | null;
  attempts: { id: string; code: string; result: 'VALID' | 'INVALID'; reason: string | null }[];
}

export interface QueuedEvent {
  id: string;
  type: string;
  metadata: Record<string, unknown>;
}

/** An event of a visitor known only by a tracking id: on its profile, at most `cap.max` since `cap.since`. */
export interface ProfileEventMessage extends Envelope<'profile_event'> {
  tracking_id: string;
  identity_hmac: string | null;
  event: QueuedEvent;
  cap: { since: number; max: number } | null;
}

/**
 * An event of a customer, through the customer-write pipeline (memberships refreshed, entered/left
 * recorded once). `customer`: by id (a missing one records nothing), or by source id, created with
 * `new_id` when missing; `fields`, when given, are written as the customers API would.
 */
export interface CustomerEventMessage extends Envelope<'customer_event'> {
  customer: { id: string; fields?: CustomerWrite } | { source_id: string; new_id: string; fields?: CustomerWrite };
  event: QueuedEvent;
  /** The tracking profile the event came with (a linked visitor, server key): its visit is noted. */
  touch_tracking_id?: string;
  /** A client event (public key, signed customer): recorded only while the customer has fewer than `max` events since `since`. */
  cap?: { since: number; max: number };
}

/** One import row, keyed by customers column; metadata is an object. Only present cells are set (db/customer-import.ts writes it). */
export type ImportRecord = { [C in WritableColumn | 'id']?: string } & { metadata?: Record<string, unknown> };

/** How an import row is written: update by `Id`, upsert by source_id, or insert (its id chosen when sent). */
export type ImportRowKind = 'id' | 'source_id' | 'new';
/** One valid row of a CSV import: its data row number (from 1, as failures report it), kind and record. */
export type ImportChunkRow = [row: number, kind: ImportRowKind, record: ImportRecord];

/**
 * Rows of a CSV import, sent while the request reads the file (services/customer-import.ts). The
 * consumer writes them once the import is accepted; `id` keys what the chunk wrote (migration 0014).
 */
export interface ImportChunkMessage extends Envelope<'import_chunk'> {
  action_id: string;
  rows: ImportChunkRow[];
}

/** How an imported order names its customer: by id (must exist), by source id (upserted), or a new one (its id chosen when sent). */
export type OrderImportCustomer =
  | { kind: 'id'; id: string; fields?: CustomerWrite }
  | { kind: 'source_id'; source_id: string; new_id: string; fields?: CustomerWrite }
  | { kind: 'new'; id: string; fields: CustomerWrite };

/** One valid order of an import, keyed for an idempotent upsert: by its id or source_id, or the new id chosen when sent. */
export interface OrderImportRecord {
  key: { id: string } | { sourceId: string };
  new_id: string;
  /** The columns to set (db/orders.ts OrderWrite, JSON columns as text). */
  write: Record<string, string | number | null>;
  customer: OrderImportCustomer | null;
}

/**
 * Orders of POST /v1/orders/import (services/order-import.ts). The consumer writes them in slices of
 * ORDER_IMPORT_SLICE, each slice with its marker (`<id>:<slice>` in applied_messages), so a message
 * delivered twice writes each slice once; a run that outgrows its budget sends the orders left as
 * a new message with the same id, starting at slice `from`.
 */
export interface OrderImportMessage extends Envelope<'order_import'> {
  action_id: string;
  /** Valid orders of the whole import: the action is DONE when that many are written. */
  total: number;
  /** The absolute slice number of `orders[0]`. */
  from: number;
  orders: OrderImportRecord[];
}

/** Continue an auto-update segment's initial sync from its stored cursor (services/segment-sync.ts). */
export interface SegmentSyncMessage extends Envelope<'segment_sync'> {
  segment_id: string;
}

/** Walk a clock-relative segment's customers at `now` (the cron's time), from the cursor `after`. */
export interface SegmentRecomputeMessage extends Envelope<'segment_recompute'> {
  segment_id: string;
  now: number;
  after: number;
}

/** Generate a campaign's codes up to its target, from where D1 says it stands (services/campaigns.ts). */
export interface CampaignCodesMessage extends Envelope<'campaign_codes'> {
  campaign_id: string;
}

/** Continue a segment-wide distribution of a campaign's codes from where D1 says it stands (services/distributions.ts). */
export interface DistributionMessage extends Envelope<'distribution'> {
  distribution_id: string;
}

/** What a validate or a track records: D1 statements, batched with the other messages of a delivery. */
export type RecordMessage = ValidationAttemptMessage | ProfileEventMessage | CustomerEventMessage;
/** Long work in pieces: each message is run by itself (success: ack; failure: retry). */
export type JobMessage =
  ImportChunkMessage | OrderImportMessage | SegmentSyncMessage | SegmentRecomputeMessage | CampaignCodesMessage | DistributionMessage;

export type WriteMessage = RecordMessage | JobMessage;
export type WriteKind = WriteMessage['kind'];
export type RecordKind = RecordMessage['kind'];
export type JobKind = JobMessage['kind'];
export type MessageOf<K extends WriteKind> = Extract<WriteMessage, { kind: K }>;

/** Where messages are sent: the WRITES binding (tests may pass anything with the same methods). */
export type WriteQueue = Pick<Queue<WriteMessage>, 'send' | 'sendBatch'>;

/** Sends a message (as JSON, readable in the dead-letter table and across deploys). */
export const enqueue = (queue: WriteQueue, message: WriteMessage, delaySeconds?: number): Promise<unknown> =>
  queue.send(message, delaySeconds ? { contentType: 'json', delaySeconds } : { contentType: 'json' });

/** A message's size as Queues counts it: its JSON in UTF-8 bytes. */
export const messageBytes = (message: WriteMessage): number => utf8Bytes(JSON.stringify(message));

export function utf8Bytes(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x800)
      bytes += c >= 0xd800 && c <= 0xdfff ? 1 : 2; // a surrogate pair is 4 bytes: 2 per half
    else if (c >= 0x80) bytes += 1;
  }
  return bytes;
}

/** Queues' limits: a message under 128 KB; a sendBatch of at most 100 messages and 256 KB. */
export const MAX_MESSAGE_BYTES = 128_000;
const MAX_BATCH_MESSAGES = 100;
const MAX_BATCH_BYTES = 256_000;

/**
 * Items in consecutive groups that each fit one sendBatch call (at most 100 messages and 256 KB),
 * for a sender that must know which messages each call carried (the writes consumer acknowledges a
 * re-sent message only once the call that carried it succeeded). A single message over the byte
 * limit still gets a group of its own: sendBatch then refuses it, and its sender treats that as a fault.
 */
export function sendBatchGroups<T>(items: T[], bytesOf: (item: T) => number): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = bytesOf(item);
    if (current.length >= MAX_BATCH_MESSAGES || (current.length > 0 && bytes + size > MAX_BATCH_BYTES)) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/**
 * Gathers messages into sendBatch calls within Queues' limits: add() sends a full batch (one call
 * in flight at a time, so reading goes on while it is sent), flush() the rest. `bytes` is the
 * message's size when the caller knows it (messageBytes otherwise).
 */
export class BatchSender {
  private pending: { body: WriteMessage; contentType: 'json' }[] = [];
  private pendingBytes = 0;
  private inFlight: Promise<unknown> = Promise.resolve();
  sent = 0;

  constructor(private readonly queue: WriteQueue) {}

  async add(message: WriteMessage, bytes = messageBytes(message)): Promise<void> {
    if (this.pending.length >= MAX_BATCH_MESSAGES || (this.pending.length > 0 && this.pendingBytes + bytes > MAX_BATCH_BYTES))
      await this.send();
    this.pending.push({ body: message, contentType: 'json' });
    this.pendingBytes += bytes;
  }

  async flush(): Promise<void> {
    if (this.pending.length > 0) await this.send();
    await this.inFlight;
  }

  private async send(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    await this.inFlight;
    this.inFlight = this.queue.sendBatch(batch);
    this.sent += batch.length;
  }
}
