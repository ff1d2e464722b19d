import * as webhooksDb from '../db/webhooks';
import type { AttemptClaim, AttemptOutcome, AttemptRow, OutboxRow } from '../db/webhooks';
import type { Env } from '../env';
import { signatureHeader } from '../lib/standard-webhooks';
import { VOUCHERIFY_SIGNATURE_HEADER, voucherifySignature } from '../lib/voucherify-webhooks';
import { bulkWriteTarget, type PaceLimits, WritePacer } from '../lib/write-pacer';
import { sendWebhookMessages, type WebhookMessage, type WebhookQueue } from '../queue/webhook-messages';
import { DEFAULT_PROJECT_ID, voucherifyEnvelope, webhookPayload } from './webhook-payloads';
import { noteEndpointsChanged } from './webhook-wake';
import { webhookUrlProblem } from './webhooks';

// The webhook delivery engine: at least once, signed as Standard Webhooks says, or as Voucherify
// does for an endpoint of the `voucherify` format (migration 0034).
//
//   outbox row (trigger, same transaction as the write)
//     -> dispatch(): one D1 batch inserts a delivery per subscribed endpoint and claims the rows
//     -> one `attempt` message per delivery on the WEBHOOKS queue
//     -> runAttempts(): claim (compare-and-set on attempts), POST, record the outcome, and on
//        failure send the next attempt with the schedule's delay; past the schedule, dead.
//
// Every step is recorded before the next is sent, so a worker that dies between two steps leaves
// a delivery pending with a due time in the past: the cron's sweep sends it again (at least once;
// receivers dedupe on `webhook-id`, the event's id, the same on every attempt and endpoint).

/** wrangler.toml's every-minute cron: the webhook sweep (the 15-minute one runs the segment work). Only handlers may be exported by index.ts. */
export const WEBHOOK_SWEEP_CRON = '* * * * *';

/** A 2xx within this is delivered; anything else is a failed attempt (spec: 15-30 s; Voucherify: 10 s). */
export const WEBHOOK_TIMEOUT_MS = 10_000;
export const DEFAULT_RETRY_DELAYS = [5, 300, 1800, 7200, 18000, 36000, 36000];
/** Each delay is drawn from ±10% of the schedule's value (spec: "random jitter"), rounded to whole seconds. */
export const RETRY_JITTER = 0.1;
/** Queues delay a message by at most 12 hours. */
const MAX_QUEUE_DELAY_SECONDS = 43_200;
/** An endpoint whose every attempt failed for this long is disabled. */
export const FAILING_DISABLES_AFTER_MS = 24 * 3600_000;
/** A claimed attempt with no outcome after this (the worker died mid-attempt) is the sweeper's again. */
const ATTEMPT_LEASE_MS = 60_000;
/** A delivery still not attempted this long after it was due lost its message: the sweeper sends another. */
export const SWEEP_OVERDUE_MS = 10 * 60_000;
const SWEEP_LIMIT = 1000;
/**
 * Outbox events claimed per dispatch batch (each becomes up to one delivery per endpoint): sized by
 * the bulk writers' D1 time target (lib/write-pacer.ts), 100 at most, with a pause between batches.
 */
export const DISPATCH_PACE: PaceLimits = { initial: 100, min: 10, max: 100 };
/**
 * One dispatch run's bounds: wall-clock time, and batches (each 1 D1 batch and up to 3 sendBatch
 * calls). Short on purpose: an invocation stopped between a batch and its sends (the runtime's
 * limits, a deploy) leaves those deliveries to the sweeper, 10 minutes later, so the window is
 * kept small. The rest is left to a new dispatch message, and, sooner, to this isolate's next
 * delivery (dispatchLeftWork).
 */
const DISPATCH_BUDGET_MS = 5_000;
const DISPATCH_BATCHES_PER_RUN = 150;
/**
 * Set when this isolate's last dispatch run stopped with events left: its next queue delivery
 * dispatches again first, rather than waiting for the continuation message behind the attempts.
 */
let dispatchLeftWork = false;
/** Whether this isolate's last dispatch run stopped with events left (its queue consumer then dispatches first). */
export const dispatchHasLeftWork = (): boolean => dispatchLeftWork;
/**
 * Backpressure: the dispatcher claims no more events while this many deliveries wait for their
 * first attempt. Fanning out faster than receivers take it only grows the queue's backlog (the
 * local broker refuses sends past about 10,000 waiting messages, and a delivery waiting longer
 * than the sweep's grace would be sent twice); the outbox holds the rest meanwhile. The cost: in a
 * burst, everyone's next events wait behind a slow endpoint's backlog of first attempts.
 */
export const MAX_UNATTEMPTED_DELIVERIES = 3_000;

/** Workers keep at most six connections open per invocation: more in flight would only wait (and time out waiting). */
const PARALLEL_ATTEMPTS = 6;
/** Delivered and dead deliveries, and dispatched events, are kept this long. */
export const WEBHOOK_LOG_RETENTION_MS = 30 * 86_400_000;
const RETENTION_WINDOW = 1000;

const USER_AGENT = 'Vouchsafe-Webhooks/1.0';
const DISABLED_ERROR = 'Not attempted: the webhook was disabled.';
const GONE_REASON = 'Disabled by Vouchsafe: the receiver answered 410 Gone, which asks for no more deliveries.';

/** WEBHOOK_RETRY_DELAYS as seconds; a value that is not a list of positive numbers falls back to the default (and says so). */
export function retryDelays(env: Pick<Env, 'WEBHOOK_RETRY_DELAYS'>): number[] {
  const setting = env.WEBHOOK_RETRY_DELAYS?.trim();
  if (!setting) return DEFAULT_RETRY_DELAYS;
  const delays = setting.split(',').map((s) => Number(s.trim()));
  if (delays.length > 0 && delays.every((d) => Number.isFinite(d) && d > 0)) return delays;
  console.error(JSON.stringify({ webhooks: 'WEBHOOK_RETRY_DELAYS is not a list of positive seconds; using the default', value: setting }));
  return DEFAULT_RETRY_DELAYS;
}

/**
 * The delay after the `attemptsMade`-th failed attempt (1 = the first), with jitter; null when the
 * schedule is spent. `retryAfter` (a 429 or 503's Retry-After, seconds) lengthens it, never shortens.
 */
export function nextDelaySeconds(
  delays: number[],
  attemptsMade: number,
  random = Math.random(),
  retryAfter: number | null = null,
): number | null {
  const base = delays[attemptsMade - 1];
  if (base === undefined) return null;
  const jittered = Math.max(1, Math.round(base * (1 - RETRY_JITTER + 2 * RETRY_JITTER * random)));
  return Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(jittered, retryAfter ?? 0));
}

type Bindings = Pick<Env, 'DB' | 'WEBHOOKS'> &
  Partial<Pick<Env, 'WEBHOOK_RETRY_DELAYS' | 'WEBHOOK_ALLOW_HTTP_LOOPBACK' | 'DEMO' | 'BULK_WRITE_TARGET_MS' | 'WEBHOOK_PROJECT_ID'>>;

/**
 * Fans the outbox's unclaimed events out to their endpoints and sends one attempt message per new
 * delivery. Several dispatchers may run at once (wake-ups, the cron): each batch claims its events
 * in one transaction (db/webhooks.ts dispatchStatements), so none is claimed twice.
 */
export async function dispatch(
  env: Bindings,
  queue: WebhookQueue = env.WEBHOOKS,
  clock: () => number = Date.now,
): Promise<{ events: number; deliveries: number }> {
  const until = clock() + DISPATCH_BUDGET_MS;
  const pacer = new WritePacer(bulkWriteTarget(env), DISPATCH_PACE);
  let events = 0;
  let deliveries = 0;
  for (let batches = 1; ; batches++) {
    if ((await webhooksDb.countUnattempted(env.DB, MAX_UNATTEMPTED_DELIVERIES)) >= MAX_UNATTEMPTED_DELIVERIES) {
      // No message: the backlog's own deliveries bring this isolate back (dispatchLeftWork), and
      // any write's wake-up or the minute's cron bring any other.
      dispatchLeftWork = true;
      return { events, deliveries };
    }
    const size = pacer.size;
    const [inserted, claimed] = await pacer.write(size, () =>
      env.DB.batch<{ id?: string; seq?: number }>(webhooksDb.dispatchStatements(env.DB, size, clock())),
    );
    const ids = (inserted?.results ?? []).map((r) => r.id as string);
    // If this send is lost, the deliveries are pending and due: the sweeper sends them.
    await sendWebhookMessages(
      queue,
      ids.map((id) => ({ body: { kind: 'attempt', delivery_id: id, attempts: 0 } })),
    );
    const count = claimed?.results.length ?? 0;
    events += count;
    deliveries += ids.length;
    if (count < size) {
      dispatchLeftWork = false;
      return { events, deliveries };
    }
    if (clock() > until || batches >= DISPATCH_BATCHES_PER_RUN) {
      dispatchLeftWork = true;
      await queue.send({ kind: 'dispatch', at: clock() }, { contentType: 'json' });
      return { events, deliveries };
    }
  }
}

interface AttemptResult {
  row: AttemptRow;
  ok: boolean;
  code: number | null;
  error: string | null;
  retryAfter: number | null;
  /** A failure no retry can fix (the event is gone): dead at once. */
  final: boolean;
  at: number;
}

/**
 * Runs the attempts a queue delivery carries, for whichever of them are still owed (see
 * claimAttemptStatements), at most six at a time, and records their outcomes in one batch.
 * Returns what happened to each delivery attempted, for the tests and logs.
 */
export async function runAttempts(
  env: Bindings,
  claims: AttemptClaim[],
  queue: WebhookQueue = env.WEBHOOKS,
  clock: () => number = Date.now,
): Promise<AttemptOutcome[]> {
  if (claims.length === 0) return [];
  const db = env.DB;
  const start = clock();
  const unique = [...new Map(claims.map((c) => [c[0], c])).values()];
  const [claimed, , rows] = await db.batch<{ id: string }>(
    webhooksDb.claimAttemptStatements(db, unique, start, start + ATTEMPT_LEASE_MS, DISABLED_ERROR),
  );
  const mine = new Set((claimed?.results ?? []).map((r) => r.id));
  const owed = ((rows?.results ?? []) as unknown as AttemptRow[]).filter((r) => mine.has(r.id));
  if (owed.length === 0) return [];

  const results: AttemptResult[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(PARALLEL_ATTEMPTS, owed.length) }, async () => {
      while (next < owed.length) {
        const row = owed[next++] as AttemptRow;
        results.push(await attempt(env, row, clock));
      }
    }),
  );

  const delays = retryDelays(env);
  const outcomes: AttemptOutcome[] = [];
  const retries: { body: WebhookMessage; delaySeconds: number }[] = [];
  const succeeded = new Set<string>();
  const failingSince = new Map<string, number>();
  const gone = new Set<string>();
  for (const r of results) {
    if (r.ok) {
      succeeded.add(r.row.endpoint_id);
      outcomes.push({
        id: r.row.id,
        attempts: r.row.attempts,
        status: 'delivered',
        code: r.code,
        error: null,
        next_attempt_at: null,
        delivered_at: r.at,
      });
      continue;
    }
    failingSince.set(r.row.endpoint_id, Math.min(failingSince.get(r.row.endpoint_id) ?? r.at, r.at));
    if (r.code === 410) gone.add(r.row.endpoint_id);
    // 410 Gone: the receiver wants no more (the endpoint is disabled below), so no retry either.
    const delay = r.final || r.code === 410 ? null : nextDelaySeconds(delays, r.row.attempts, Math.random(), r.retryAfter);
    outcomes.push({
      id: r.row.id,
      attempts: r.row.attempts,
      status: delay === null ? 'dead' : 'failed',
      code: r.code,
      error: r.error,
      next_attempt_at: delay === null ? null : r.at + delay * 1000,
      delivered_at: null,
    });
    if (delay !== null) retries.push({ body: { kind: 'attempt', delivery_id: r.row.id, attempts: r.row.attempts }, delaySeconds: delay });
  }
  // An endpoint with a success in this delivery is not failing, whatever else failed beside it.
  const failing = [...failingSince].filter(([id]) => !succeeded.has(id));
  const now = clock();
  const [recorded, , , disabledFailing, disabledGone] = await db.batch<{ id: string }>(
    webhooksDb.recordOutcomeStatements(
      db,
      outcomes,
      { succeeded: [...succeeded], failing, gone: [...gone] },
      now,
      now - FAILING_DISABLES_AFTER_MS,
      GONE_REASON,
    ),
  );
  if ((disabledFailing?.results.length ?? 0) + (disabledGone?.results.length ?? 0) > 0) noteEndpointsChanged();
  // Only the outcomes recorded here schedule a retry: one a later attempt overtook schedules nothing.
  const recordedIds = new Set((recorded?.results ?? []).map((r) => r.id));
  await sendWebhookMessages(
    queue,
    retries.filter((m) => m.body.kind === 'attempt' && recordedIds.has(m.body.delivery_id)),
  );
  return outcomes.filter((o) => recordedIds.has(o.id));
}

/** One POST of one delivery, as Standard Webhooks says: the outcome, never an exception. */
async function attempt(env: Bindings, row: AttemptRow, clock: () => number): Promise<AttemptResult> {
  const failure = (error: string, final = false, code: number | null = null, retryAfter: number | null = null): AttemptResult => ({
    row,
    ok: false,
    code,
    error,
    retryAfter,
    final,
    at: clock(),
  });
  if (row.event_seq === null || row.event_created_at === null)
    return failure('The event is no longer in the log (past its retention).', true);
  const problem = webhookUrlProblem(row.url, env);
  if (problem) return failure(`Not sent: ${problem}`);

  const event: OutboxRow = {
    seq: row.event_seq,
    id: row.event_id,
    type: row.event_type,
    object_id: row.event_object_id,
    snapshot: row.event_snapshot,
    created_at: row.event_created_at,
    dispatched_at: row.event_dispatched_at,
  };
  let body: string;
  try {
    const payload = await webhookPayload(env.DB, event);
    body = JSON.stringify(
      row.format === 'voucherify'
        ? voucherifyEnvelope(payload, {
            sendId: row.id,
            projectId: env.WEBHOOK_PROJECT_ID?.trim() || DEFAULT_PROJECT_ID,
            endpointId: row.endpoint_id,
            url: row.url,
            entityId: event.object_id,
          })
        : payload,
    );
  } catch (error) {
    return failure(`The payload could not be built: ${String(error)}`);
  }
  try {
    const response = await fetch(row.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'User-Agent': USER_AGENT, ...(await signatureHeaders(row, body, clock())) },
      body,
      // Spec: a 3xx is a failure (the URL should be updated), not followed.
      redirect: 'manual',
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    const ok = response.status >= 200 && response.status < 300;
    // The body is never read: the log says what the status says, nothing the receiver wrote.
    await response.body?.cancel();
    if (ok) return { row, ok, code: response.status, error: null, retryAfter: null, final: false, at: clock() };
    return failure(
      statusError(response.status),
      false,
      response.status,
      retryAfterSeconds(response.headers.get('Retry-After'), Date.now()),
    );
  } catch (error) {
    const name = (error as Error)?.name;
    if (name === 'TimeoutError' || name === 'AbortError') return failure(`No response within ${WEBHOOK_TIMEOUT_MS / 1000} s.`);
    // One fixed text whatever the runtime said: its wording differs by what listens on the port.
    return failure(NETWORK_ERROR);
  }
}

const NETWORK_ERROR = 'Network error: the receiver could not be reached.';

/**
 * The signature headers of one attempt. Standard Webhooks: the event's id, the attempt's time, and
 * a signature per valid secret (during a rotation, the previous one too). Voucherify: one hex
 * HMAC of the body in x-voucherify-signature, with the current secret only (the header has room
 * for one signature, so a rotation switches at once: docs/webhooks.md says how to roll it out).
 */
async function signatureHeaders(row: AttemptRow, body: string, sentAt: number): Promise<Record<string, string>> {
  if (row.format === 'voucherify') return { [VOUCHERIFY_SIGNATURE_HEADER]: await voucherifySignature(row.secret, body) };
  const timestamp = Math.floor(Date.now() / 1000);
  const secrets = [row.secret];
  if (row.previous_secret && row.previous_secret_expires_at !== null && row.previous_secret_expires_at > sentAt)
    secrets.push(row.previous_secret);
  return {
    'webhook-id': row.event_id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': await signatureHeader(secrets, row.event_id, timestamp, body),
  };
}

/** RFC 9110's reason phrases for the statuses a receiver commonly answers. */
const REASONS: Record<number, string> = {
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/**
 * The delivery log's text for a non-2xx answer: the status and its standard reason phrase, never
 * the receiver's body or status text. A URL pointing somewhere it should not must not become a way
 * to read what answers there; the receiver's own logs hold the details.
 */
export function statusError(status: number): string {
  const reason = REASONS[status] ?? (status < 400 ? 'Redirection' : status < 500 ? 'Client Error' : 'Server Error');
  return status >= 300 && status < 400 ? `HTTP ${status}: ${reason} (redirects are not followed)` : `HTTP ${status}: ${reason}`;
}

/** Retry-After in seconds (delta-seconds or an HTTP date), or null. */
function retryAfterSeconds(header: string | null, now: number): number | null {
  if (!header) return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/**
 * The cron's part (every minute): dispatch what no wake-up dispatched, send again the deliveries
 * whose message was lost, and trim the log past its retention.
 */
export async function sweepWebhooks(
  env: Bindings,
  now: number,
  queue: WebhookQueue = env.WEBHOOKS,
): Promise<{ dispatched: number; resent: number }> {
  const { deliveries } = await dispatch(env, queue);
  const overdue = await webhooksDb.claimOverdueDeliveries(env.DB, now - SWEEP_OVERDUE_MS, now + ATTEMPT_LEASE_MS, SWEEP_LIMIT);
  await sendWebhookMessages(
    queue,
    overdue.map((d) => ({ body: { kind: 'attempt', delivery_id: d.id, attempts: d.attempts } })),
  );
  await env.DB.batch(webhooksDb.retentionStatements(env.DB, now - WEBHOOK_LOG_RETENTION_MS, RETENTION_WINDOW));
  return { dispatched: deliveries, resent: overdue.length };
}
