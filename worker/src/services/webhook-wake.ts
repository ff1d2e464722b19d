import { anyEnabledEndpoint } from '../db/webhooks';
import { isReadOnlyPost } from '../catalogue';
import type { Env } from '../env';

// What wakes the webhook dispatcher (services/webhook-delivery.ts dispatch()).
//
// Events are written by triggers into webhook_outbox in the same transaction as their write, by
// whichever route, bulk job, import or queue consumer made the write. Something must then claim
// them. Polling D1 would cost a query per second per location even when nothing happens; so the
// writers ring a bell instead, and only while an enabled endpoint exists:
//
// 1. A mutating request (POST/PUT/DELETE on /v1/* or /client/v1/*, answered 2xx/3xx) sends one
//    `dispatch` message after it has answered (waitUntil), except on routes that write no event
//    synchronously (catalogue.ts isReadOnlyPost: validations and events record through the WRITES
//    queue, which rings below; previews and explanations record nothing; the webhook routes
//    themselves write no event).
// 2. The WRITES consumer sends one `dispatch` message after each delivery that applied anything
//    but validation records (customer events, import chunks, segment walks, code generation and
//    distribution all write through triggers).
// 3. The cron (every minute) dispatches and sweeps: the safety net for any wake-up lost.
//
// Many wake-ups coalesce: the WEBHOOKS consumer runs the dispatcher once per batch of messages,
// and a run drains the outbox however many messages asked for it. Latency: a write reaches the
// receiver after two queue hops (dispatch, then the attempt), each at most the consumer's
// max_batch_timeout.
//
// Staleness: whether an enabled endpoint exists is cached per isolate for ENDPOINTS_FLAG_TTL_MS.
// An isolate that read "none" just before another created or enabled an endpoint sends no
// wake-ups for at most that long. Nothing is lost: the triggers read the live table, so the
// events are in the outbox, and the next wake-up from any isolate, or at worst the next minute's
// cron, dispatches them. The isolate that creates or enables an endpoint sets its own flag at
// once. A stale "some" (after the last endpoint was disabled or deleted) only costs a few
// needless wake-ups, each a dispatch that finds nothing.

export const ENDPOINTS_FLAG_TTL_MS = 10_000;

let flag: { on: boolean; until: number } | null = null;

/** Whether an enabled endpoint exists, as this isolate last read it (at most ENDPOINTS_FLAG_TTL_MS ago). */
export async function webhooksOn(db: D1Database, now = Date.now()): Promise<boolean> {
  if (flag && now < flag.until) return flag.on;
  const on = await anyEnabledEndpoint(db);
  flag = { on, until: now + ENDPOINTS_FLAG_TTL_MS };
  return on;
}

/** Whether this isolate read "no enabled endpoint" less than ENDPOINTS_FLAG_TTL_MS ago: then a request schedules nothing at all. */
export const webhooksKnownOff = (now = Date.now()): boolean => flag !== null && !flag.on && now < flag.until;

/** An endpoint was created, enabled, disabled or deleted here: `true` sets the flag now, anything else re-reads it next time. */
export function noteEndpointsChanged(on?: true): void {
  flag = on ? { on, until: Date.now() + ENDPOINTS_FLAG_TTL_MS } : null;
}

/** Sends one dispatch wake-up when webhooks are on. Never throws: a lost wake-up is the cron's to make up. */
export async function wakeDispatcher(env: Pick<Env, 'DB' | 'WEBHOOKS'>): Promise<void> {
  try {
    if (!(await webhooksOn(env.DB))) return;
    await env.WEBHOOKS.send({ kind: 'dispatch', at: Date.now() }, { contentType: 'json' });
  } catch (error) {
    console.error(JSON.stringify({ webhooks: 'wake-up not sent', error: String(error) }));
  }
}

/** The webhook endpoints API writes endpoints and deliveries, never an event. */
const WEBHOOK_ROUTES = /^\/v1\/webhooks(\/|$)/;

/** Whether a request should wake the dispatcher once it has answered. */
export function requestMayHaveWrittenEvents(method: string, path: string, status: number): boolean {
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return false;
  if (status >= 400) return false;
  return !WEBHOOK_ROUTES.test(path) && !isReadOnlyPost(path);
}

/** Whether a WRITES delivery may have written events: anything but validation records (see 2. above). */
export function writesMayHaveWrittenEvents(bodies: unknown[]): boolean {
  return bodies.some((b) => typeof b === 'object' && b !== null && (b as { kind?: unknown }).kind !== 'validation');
}
