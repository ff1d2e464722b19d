import { createExecutionContext, createMessageBatch, getQueueResult, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import worker from '../../worker/src/index';
import { setVoucherHolder } from '../../worker/src/db/vouchers';
import type { Env } from '../../worker/src/env';
import { STORAGE_OPS, type StorageOp } from '../../worker/src/lib/storage-ops';
import { isStatementMessage } from '../../worker/src/consumers/writes';
import { WRITES_QUEUE, type WriteMessage, type WriteQueue } from '../../worker/src/queue/messages';
import { type IdentityKind, signClaim, type SignOptions, signIdentityHash } from '../../shared/identity';
import { TEST_ENV } from '../test-env';

export const SERVER_HEADERS = { 'X-App-Id': TEST_ENV.APP_ID, 'X-App-Token': TEST_ENV.APP_TOKEN };
export const ALLOWED_ORIGIN = 'https://shop.example';
export const CLIENT_HEADERS = {
  'X-Client-Application-Id': TEST_ENV.CLIENT_APP_ID,
  'X-Client-Token': TEST_ENV.CLIENT_TOKEN,
  Origin: ALLOWED_ORIGIN,
};

/**
 * Sends a request to the worker's fetch handler (its default export) with the test bindings, or
 * some of them replaced (`{ IDENTITY_VERIFICATION: 'off' }`). The handler is called in this isolate rather than through the pool's `exports.default` loopback,
 * which slows down by two orders of magnitude after a few hundred calls in one file.
 */
export async function call(path: string, init: RequestInit = {}, bindings: Partial<Env> = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`https://vouchsafe.test${path}`, init), { ...env, ...bindings } as unknown as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/**
 * A request with COUNT_OPS=on, and what it cost: the X-Vouchsafe-Ops header as numbers by storage
 * class (`d1_primary`, `d1_replica`, `kv_reads`, `kv_writes`, `queue_sends`).
 */
export async function counted(path: string, init: RequestInit = {}): Promise<{ res: Response; ops: Record<StorageOp, number> }> {
  const res = await call(path, init, { COUNT_OPS: 'on' });
  const header = new Map((res.headers.get('X-Vouchsafe-Ops') ?? '').split(', ').map((pair) => pair.split('=') as [string, string]));
  const ops = Object.fromEntries(STORAGE_OPS.map((op) => [op, Number(header.get(op))])) as Record<StorageOp, number>;
  return { res, ops };
}

/** Ids of the messages the requests of this file sent that the consumer writes with a marker, not yet seen written. */
const unsettled = new Set<string>();

function recordingQueue(queue: Queue<WriteMessage>): Queue<WriteMessage> {
  const note = (m: WriteMessage) => {
    if (isStatementMessage(m)) unsettled.add(m.id);
  };
  return {
    metrics: () => queue.metrics(),
    send(message, options) {
      note(message);
      return queue.send(message, options);
    },
    sendBatch(messages, options) {
      for (const m of messages) note(m.body);
      return queue.sendBatch(messages, options);
    },
  };
}

// Every test that imports these helpers records what its requests send, whichever way it calls
// the worker (call(), app.fetch with `env`): the pool's env object takes the recording binding.
Object.defineProperty(env, 'WRITES', { value: recordingQueue((env as unknown as Env).WRITES), configurable: true, enumerable: true });

/**
 * Waits until the queue consumer has written every message the requests so far sent (their
 * applied markers, migration 0013, are in D1): what validate and track record is then readable.
 * Bounded: the consumer gets a batch within max_batch_timeout (1 s) of a send.
 */
export async function settled(timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (unsettled.size > 0) {
    const ids = [...unsettled];
    const { results } = await env.DB.prepare('SELECT id FROM applied_messages WHERE id IN (SELECT value FROM json_each(?))')
      .bind(JSON.stringify(ids))
      .all<{ id: string }>();
    for (const r of results) unsettled.delete(r.id);
    if (unsettled.size === 0) return;
    if (Date.now() > deadline) throw new Error(`queue consumer did not write ${unsettled.size} message(s) within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A server-side call with the server key and, when given, a JSON body. */
export function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return call(path, {
    method,
    headers: { ...SERVER_HEADERS, 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export async function json<T = any>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

/** The JSON body of an answer that must have `status` (200 by default; a 204 has no body: `{}`). */
export async function ok(response: Response | Promise<Response>, status = 200): Promise<Record<string, any>> {
  const res = await response;
  const body = res.status === 204 ? {} : await json(res);
  expect(res.status, JSON.stringify(body)).toBe(status);
  return body;
}

/** The signature a shop's backend would give its page for an identity hash (shared/identity.ts). */
export const signHash = (identityHash: string): Promise<string> => signIdentityHash(TEST_ENV.IDENTITY_SECRET, identityHash);
/** The shop backend's signature of `value` claimed as `kind` (customer.source_id, customer.id, a raw tracking_id). */
export const signAs = (kind: IdentityKind, value: string, options?: SignOptions): Promise<string> =>
  signClaim(TEST_ENV.IDENTITY_SECRET, kind, value, options);

/** Bytes of text (UTF-8) and raw byte values, concatenated: bodies and files in any encoding. */
export const bytes = (...parts: (string | number[])[]): Uint8Array => {
  const chunks = parts.map((p) => (typeof p === 'string' ? new TextEncoder().encode(p) : Uint8Array.from(p)));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
};

/**
 * Makes the customer `customerRef` (id or source_id) the holder of voucher `code`, as a publication
 * will (worker/src/db/vouchers.ts setVoucherHolder; no voucher route sets holder_id). null: no holder.
 */
export async function setHolder(code: string, customerRef: string | null): Promise<void> {
  const customerId =
    customerRef === null ? null : (await json<{ id: string }>(await api('GET', `/v1/customers/${encodeURIComponent(customerRef)}`))).id;
  const row = await setVoucherHolder(env.DB, code, customerId, Date.now()).first();
  if (!row) throw new Error(`no voucher ${code}`);
}

/**
 * A WRITES binding that keeps what is sent instead of queueing it (a test then delivers it with
 * deliver(), as often and in whatever order it needs), with the size of every sendBatch call.
 */
export function capturingQueue(): WriteQueue & { sent: WriteMessage[]; batches: { messages: number; bytes: number }[] } {
  const sent: WriteMessage[] = [];
  const batches: { messages: number; bytes: number }[] = [];
  return {
    sent,
    batches,
    send: async (body: WriteMessage) => {
      sent.push(structuredClone(body));
    },
    sendBatch: async (messages: Iterable<MessageSendRequest<WriteMessage>>) => {
      let count = 0;
      let bytes = 0;
      for (const m of messages) {
        sent.push(structuredClone(m.body));
        count += 1;
        bytes += new TextEncoder().encode(JSON.stringify(m.body)).length;
      }
      batches.push({ messages: count, bytes });
    },
  } as unknown as WriteQueue & { sent: WriteMessage[]; batches: { messages: number; bytes: number }[] };
}

let delivered = 0;

/** Runs the worker's queue() on these message bodies as one delivery of the WRITES queue; returns what it acked and retried. */
export async function deliver(bodies: WriteMessage[], bindings: Partial<Env> = {}) {
  const batch = createMessageBatch<WriteMessage>(
    WRITES_QUEUE,
    bodies.map((body) => ({ id: `test-delivery-${++delivered}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch as MessageBatch<unknown>, { ...env, ...bindings } as unknown as Env);
  return getQueueResult(batch, ctx);
}

/** Polls `check` until it returns something other than undefined, for at most `timeoutMs` (queue deliveries take about a second). */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 30_000, what = 'the condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
