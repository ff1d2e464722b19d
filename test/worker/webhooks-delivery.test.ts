// The webhook delivery engine's bookkeeping, against real D1: the dispatcher's claim
// (two at once deliver each event once per endpoint), attempts recorded once per queue message,
// the retry schedule and its jitter, dead-lettering, an endpoint disabled after 24 h of failures
// (explicit clock, no waiting), the retry route, the delivery log and the cron's sweep.
// Attempts go to a loopback port nothing listens on: a real network failure. Successful
// deliveries, signatures and timing against real receivers: test/node/webhooks.test.ts.
import { createExecutionContext, createScheduledController } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import worker from '../../worker/src/index';
import { emptyCustomerRow } from '../../worker/src/db/customers';
import { type DeliveryRow, insertOutboxEvent } from '../../worker/src/db/webhooks';
import type { Env } from '../../worker/src/env';
import type { WebhookMessage, WebhookQueue } from '../../worker/src/queue/webhook-messages';
import {
  DEFAULT_RETRY_DELAYS,
  dispatch,
  MAX_UNATTEMPTED_DELIVERIES,
  WEBHOOK_SWEEP_CRON,
  FAILING_DISABLES_AFTER_MS,
  nextDelaySeconds,
  runAttempts,
  SWEEP_OVERDUE_MS,
} from '../../worker/src/services/webhook-delivery';
import { api, call, deliver, json, SERVER_HEADERS } from './helpers';

const REFUSED = 'http://127.0.0.1:1/hook';

/** A WEBHOOKS binding that keeps what is sent (with its delay) instead of queueing it. */
function webhookQueue(): WebhookQueue & { sent: { body: WebhookMessage; delaySeconds?: number }[] } {
  const sent: { body: WebhookMessage; delaySeconds?: number }[] = [];
  return {
    sent,
    send: async (body: WebhookMessage, options?: QueueSendOptions) => {
      sent.push({ body, delaySeconds: options?.delaySeconds });
    },
    sendBatch: async (messages: Iterable<MessageSendRequest<WebhookMessage>>) => {
      for (const m of messages) sent.push({ body: m.body, delaySeconds: m.delaySeconds });
    },
  } as unknown as WebhookQueue & { sent: { body: WebhookMessage; delaySeconds?: number }[] };
}

const bindings = (queue: WebhookQueue, extra: Partial<Env> = {}) => ({
  ...(env as unknown as Env),
  WEBHOOKS: queue as unknown as Env['WEBHOOKS'],
  ...extra,
});

async function endpoint(events: string[] = ['customer.created'], url = REFUSED): Promise<{ id: string; secret: string }> {
  const res = await api('POST', '/v1/webhooks', { url, events });
  expect(res.status).toBe(200);
  return json(res);
}

async function disableAll(): Promise<void> {
  for (const w of (await json(await api('GET', '/v1/webhooks'))).webhooks) await api('PUT', `/v1/webhooks/${w.id}`, { enabled: false });
}

async function events(count: number, type = 'customer.created'): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 50) {
    // The snapshot the customer triggers take (migration 0022): `{customer: <the row>}`, so that
    // the payload builds as a real event's would.
    const statements = Array.from({ length: Math.min(50, count - i) }, (_, j) =>
      insertOutboxEvent(env.DB, {
        type,
        object_id: `cust_${i + j}`,
        snapshot: { customer: emptyCustomerRow(`cust_${i + j}`, Date.now()) },
        created_at: Date.now(),
      }),
    );
    for (const r of await env.DB.batch<{ id: string }>(statements)) ids.push((r.results[0] as { id: string }).id);
  }
  return ids;
}

const delivery = (id: string) => env.DB.prepare('SELECT * FROM webhook_deliveries WHERE id = ?').bind(id).first<DeliveryRow>();
const deliveriesOf = async (endpointId: string) =>
  (
    await env.DB.prepare('SELECT * FROM webhook_deliveries WHERE endpoint_id = ? ORDER BY created_at, id')
      .bind(endpointId)
      .all<DeliveryRow>()
  ).results;
const attemptIds = (queue: ReturnType<typeof webhookQueue>) =>
  queue.sent.flatMap((m) => (m.body.kind === 'attempt' ? [m.body.delivery_id] : []));

describe('dispatch', () => {
  it('two dispatchers at once deliver each event once per subscribed, enabled endpoint', async () => {
    await disableAll();
    const a = await endpoint(['customer.created', 'customer.updated']);
    const b = await endpoint(['customer.created']);
    const disabled = await endpoint(['customer.created']);
    await api('PUT', `/v1/webhooks/${disabled.id}`, { enabled: false });
    const other = await endpoint(['voucher.created']);
    const created = await events(250);
    const updated = await events(10, 'customer.updated');

    const [q1, q2] = [webhookQueue(), webhookQueue()];
    const [r1, r2] = await Promise.all([dispatch(bindings(q1), q1), dispatch(bindings(q2), q2)]);
    // Together they claimed every event once, and made one delivery per (endpoint, event).
    expect(r1.events + r2.events).toBe(260);
    expect(r1.deliveries + r2.deliveries).toBe(250 * 2 + 10);
    const sent = [...attemptIds(q1), ...attemptIds(q2)];
    expect(new Set(sent).size).toBe(sent.length);
    expect(sent.length).toBe(510);
    for (const m of [...q1.sent, ...q2.sent])
      expect(m).toEqual({ body: { kind: 'attempt', delivery_id: expect.stringMatching(/^whd_/), attempts: 0 } });

    const ofA = await deliveriesOf(a.id);
    expect(ofA.map((d) => d.event_id).sort()).toEqual([...created, ...updated].sort());
    expect((await deliveriesOf(b.id)).map((d) => d.event_id).sort()).toEqual([...created].sort());
    expect(await deliveriesOf(disabled.id)).toEqual([]);
    expect(await deliveriesOf(other.id)).toEqual([]);
    expect(ofA[0]).toMatchObject({
      status: 'pending',
      attempts: 0,
      event_type: 'customer.created',
      last_status_code: null,
      delivered_at: null,
    });
    const pending = await env.DB.prepare('SELECT count(*) AS n FROM webhook_outbox WHERE dispatched_at IS NULL').first<number>('n');
    expect(pending).toBe(0);

    // Nothing left: a third dispatcher finds nothing.
    const q3 = webhookQueue();
    expect(await dispatch(bindings(q3), q3)).toEqual({ events: 0, deliveries: 0 });
    expect(q3.sent).toEqual([]);
  });
});

describe('attempts', () => {
  it('are jittered ±10% around the schedule, lengthened by Retry-After, and end with the schedule', () => {
    expect(DEFAULT_RETRY_DELAYS).toEqual([5, 300, 1800, 7200, 18000, 36000, 36000]);
    expect(nextDelaySeconds([300, 1800], 1, 0)).toBe(270);
    expect(nextDelaySeconds([300, 1800], 1, 0.5)).toBe(300);
    expect(nextDelaySeconds([300, 1800], 1, 0.999999)).toBe(330);
    expect(nextDelaySeconds([300, 1800], 2, 0.5)).toBe(1800);
    expect(nextDelaySeconds([300, 1800], 3, 0.5)).toBeNull();
    expect(nextDelaySeconds([1], 1, 0)).toBe(1);
    expect(nextDelaySeconds([5], 1, 0.5, 120)).toBe(120);
    expect(nextDelaySeconds([300], 1, 0.5, 10)).toBe(300);
    // Queues delay a message by at most 12 hours.
    expect(nextDelaySeconds([50_000], 1, 0.5)).toBe(43_200);
  });

  it('record each failure, schedule the next attempt, and attempt once per message however often it is delivered', async () => {
    await disableAll();
    const hook = await endpoint();
    const [eventId] = await events(1);
    const q = webhookQueue();
    await dispatch(bindings(q), q);
    const [id] = attemptIds(q);
    if (!id) throw new Error('no delivery');

    const before = Date.now();
    const retries = webhookQueue();
    const outcomes = await runAttempts(bindings(retries, { WEBHOOK_RETRY_DELAYS: '60,120' }), [[id, 0]], retries);
    expect(outcomes).toHaveLength(1);
    const row = await delivery(id);
    expect(row).toMatchObject({ event_id: eventId, status: 'failed', attempts: 1, last_status_code: null, delivered_at: null });
    expect(row?.last_error).toMatch(/^Network error: /);
    expect(row?.last_attempt_at).toBeGreaterThanOrEqual(before);
    // The next attempt: 60 s ± 10%, as the delivery says and as the message is delayed.
    expect(retries.sent).toHaveLength(1);
    const [retry] = retries.sent;
    expect(retry?.body).toEqual({ kind: 'attempt', delivery_id: id, attempts: 1 });
    expect(retry?.delaySeconds).toBeGreaterThanOrEqual(54);
    expect(retry?.delaySeconds).toBeLessThanOrEqual(66);
    const due = (row?.next_attempt_at ?? 0) - (row?.last_attempt_at ?? 0);
    expect(due).toBeGreaterThanOrEqual(54_000);
    expect(due).toBeLessThanOrEqual(66_000 + 2_000);
    // The endpoint is failing since this attempt.
    expect((await json(await api('GET', `/v1/webhooks/${hook.id}`))).failing_since).toEqual(expect.any(String));

    // The same message again (a queue redelivery): no second attempt, no second retry.
    const again = webhookQueue();
    expect(await runAttempts(bindings(again), [[id, 0]], again)).toEqual([]);
    expect(again.sent).toEqual([]);
    expect((await delivery(id))?.attempts).toBe(1);
  });

  it('dead-letter a delivery once the schedule is spent', async () => {
    await disableAll();
    await endpoint();
    await events(1);
    const q = webhookQueue();
    await dispatch(bindings(q), q);
    const [id] = attemptIds(q);
    if (!id) throw new Error('no delivery');
    const delays = { WEBHOOK_RETRY_DELAYS: '1,2' };
    let message: [string, number] = [id, 0];
    const statuses: string[] = [];
    for (let i = 0; i < 3; i++) {
      const next = webhookQueue();
      await runAttempts(bindings(next, delays), [message], next);
      const row = await delivery(id);
      statuses.push(`${row?.status}/${row?.attempts}`);
      const [sent, ...rest] = next.sent;
      expect(rest).toEqual([]);
      if (sent?.body.kind === 'attempt') message = [sent.body.delivery_id, sent.body.attempts];
      if (i < 2) expect(sent?.delaySeconds).toBe([1, 2][i]);
      else expect(sent).toBeUndefined();
    }
    expect(statuses).toEqual(['failed/1', 'failed/2', 'dead/3']);
    expect(await delivery(id)).toMatchObject({
      status: 'dead',
      next_attempt_at: null,
      last_error: expect.stringMatching(/^Network error/),
    });
  });

  it('disable an endpoint whose attempts have all failed for 24 hours, and say why', async () => {
    await disableAll();
    const hook = await endpoint();
    await events(3);
    const q = webhookQueue();
    await dispatch(bindings(q), q);
    const [first, second, third] = attemptIds(q);
    if (!first || !second || !third) throw new Error('no deliveries');
    const t0 = Date.parse('2030-01-01T00:00:00Z');
    const at = (ms: number) => () => ms;

    await runAttempts(bindings(q), [[first, 0]], q, at(t0));
    expect((await json(await api('GET', `/v1/webhooks/${hook.id}`))).failing_since).toBe('2030-01-01T00:00:00.000Z');
    // 23 hours later, still failing: not yet.
    await runAttempts(bindings(q), [[second, 0]], q, at(t0 + 23 * 3600_000));
    expect((await json(await api('GET', `/v1/webhooks/${hook.id}`))).enabled).toBe(true);
    // 24 hours after the first failure: disabled, with the reason.
    await runAttempts(bindings(q), [[third, 0]], q, at(t0 + FAILING_DISABLES_AFTER_MS));
    const disabled = await json(await api('GET', `/v1/webhooks/${hook.id}`));
    expect(disabled).toMatchObject({ enabled: false, failing_since: '2030-01-01T00:00:00.000Z' });
    expect(disabled.disabled_reason).toBe(
      'Disabled by Vouchsafe: every delivery attempt failed for 24 hours (since 2030-01-01T00:00:00Z). Fix the receiver, then enable the webhook again.',
    );

    // What it was still owed is not attempted: dead, and says why.
    const owed = webhookQueue();
    expect(await runAttempts(bindings(owed), [[first, 1]], owed)).toEqual([]);
    expect(await delivery(first)).toMatchObject({ status: 'dead', attempts: 1, last_error: 'Not attempted: the webhook was disabled.' });
    expect(owed.sent).toEqual([]);

    // Enabled again: the reason and the failing streak are history.
    const enabled = await json(await api('PUT', `/v1/webhooks/${hook.id}`, { enabled: true }));
    expect(enabled).toMatchObject({ enabled: true, disabled_reason: null, failing_since: null });
  });
});

describe('what an attempt may reach, and what the log keeps of the answer', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** One delivery of a new event to a new endpoint at `url` (created at a public URL, then set as a row saved earlier would hold it). */
  async function oneDelivery(url: string): Promise<{ hookId: string; id: string }> {
    await disableAll();
    const hook = await endpoint(['customer.created'], 'https://receiver.example/hook');
    await env.DB.prepare('UPDATE webhook_endpoints SET url = ? WHERE id = ?').bind(url, hook.id).run();
    await events(1);
    const q = webhookQueue();
    await dispatch(bindings(q), q);
    const [id] = attemptIds(q);
    if (!id) throw new Error('no delivery');
    return { hookId: hook.id, id };
  }

  /** Global fetch answering `url` with what `answer` makes, every other URL as before; the calls to `url` are counted. */
  function receiverAt(url: string, answer: () => Response | Promise<Response>): { calls: number } {
    const original = globalThis.fetch;
    const seen = { calls: 0 };
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      if (String(input instanceof Request ? input.url : input) !== url) return original(input, init);
      seen.calls++;
      return answer();
    });
    return seen;
  }

  it('an endpoint saved before its host was refused is not called: the attempt is recorded as not sent', async () => {
    for (const [url, problem, extra] of [
      ['https://169.254.169.254/latest/meta-data/', 'must name a public host: 169.254.169.254 is a link-local address', {}],
      [
        'https://metadata.google.internal/computeMetadata/v1/',
        'must name a public host: metadata.google.internal is a local or metadata name',
        {},
      ],
      // Saved while the local switch was on, attempted with it off.
      ['http://127.0.0.1:8932/internal', 'must be https', { WEBHOOK_ALLOW_HTTP_LOOPBACK: 'off', DEMO: 'off' }],
    ] as const) {
      const { id } = await oneDelivery(url);
      const reached = receiverAt(url, () => new Response('reached'));
      const q = webhookQueue();
      await runAttempts(bindings(q, extra), [[id, 0]], q);
      expect(reached.calls, url).toBe(0);
      expect(await delivery(id)).toMatchObject({
        status: 'failed',
        attempts: 1,
        last_status_code: null,
        last_error: `Not sent: ${problem}`,
      });
      vi.restoreAllMocks();
    }
  });

  it("keeps the status and its standard reason phrase, never the receiver's body or status text", async () => {
    const url = 'https://receiver.example/hook';
    for (const [status, headers, expected] of [
      [500, {}, 'HTTP 500: Internal Server Error'],
      [503, { 'Retry-After': '1' }, 'HTTP 503: Service Unavailable'],
      [404, {}, 'HTTP 404: Not Found'],
      [418, {}, 'HTTP 418: Client Error'],
      [599, {}, 'HTTP 599: Server Error'],
      [302, { Location: 'http://10.0.0.1/' }, 'HTTP 302: Found (redirects are not followed)'],
    ] as const) {
      const { id } = await oneDelivery(url);
      const reached = receiverAt(
        url,
        () =>
          new Response(status === 302 ? null : 'internal: db password=hunter2\u0007\n stack at /srv/app/secret.js:42', {
            status,
            statusText: 'secret status text',
            headers,
          }),
      );
      const q = webhookQueue();
      await runAttempts(bindings(q), [[id, 0]], q);
      expect(reached.calls).toBe(1);
      const row = await delivery(id);
      expect(row).toMatchObject({ status: 'failed', last_status_code: status, last_error: expected });
      const [logged] = (await json(await api('GET', `/v1/webhooks/${row?.endpoint_id}/deliveries?limit=1`))).deliveries;
      expect(logged).toMatchObject({ last_status_code: status, last_error: expected });
      vi.restoreAllMocks();
    }
  });

  it('a network failure reads the same whatever the runtime said, so ports cannot be told apart', async () => {
    const texts = new Set<string | null>();
    for (const [url, failure] of [
      ['https://receiver.example/a', new Error('Network connection lost.')],
      ['https://receiver.example/b', new TypeError('internal error; reference = 4uikh8hbdeflg5pcfuq3i7jl')],
      ['https://receiver.example/c', new TypeError('fetch failed: connect ECONNREFUSED 127.0.0.1:22')],
    ] as const) {
      const { id } = await oneDelivery(url);
      receiverAt(url, () => Promise.reject(failure));
      const q = webhookQueue();
      await runAttempts(bindings(q), [[id, 0]], q);
      texts.add((await delivery(id))?.last_error ?? null);
      vi.restoreAllMocks();
    }
    // And a real refused connection on loopback (the test switch allows it).
    const { id } = await oneDelivery(REFUSED);
    const q = webhookQueue();
    await runAttempts(bindings(q), [[id, 0]], q);
    texts.add((await delivery(id))?.last_error ?? null);
    expect([...texts]).toEqual(['Network error: the receiver could not be reached.']);
  });
});

describe('POST /v1/webhooks/{id}/deliveries/{delivery_id}/retry', () => {
  const retry = (hookId: string, deliveryId: string, queue: WebhookQueue) =>
    call(
      `/v1/webhooks/${hookId}/deliveries/${deliveryId}/retry`,
      { method: 'POST', headers: SERVER_HEADERS },
      { WEBHOOKS: queue as unknown as Env['WEBHOOKS'] },
    );

  it('attempts a dead or failed delivery again now, and refuses the others', async () => {
    await disableAll();
    const hook = await endpoint();
    await events(2);
    const q = webhookQueue();
    await dispatch(bindings(q), q);
    const [deadId, pendingId] = attemptIds(q);
    if (!deadId || !pendingId) throw new Error('no deliveries');
    const none = webhookQueue();
    await runAttempts(bindings(none, { WEBHOOK_RETRY_DELAYS: '' }), [[deadId, 0]], none);
    // An empty setting is the default schedule: one failure is not the end.
    expect((await delivery(deadId))?.status).toBe('failed');
    await env.DB.prepare("UPDATE webhook_deliveries SET status = 'dead', next_attempt_at = NULL WHERE id = ?").bind(deadId).run();

    const queue = webhookQueue();
    const res = await retry(hook.id, deadId, queue);
    expect(res.status).toBe(202);
    const view = await json(res);
    expect(view).toMatchObject({
      id: deadId,
      object: 'webhook_delivery',
      webhook_id: hook.id,
      status: 'pending',
      attempts: 1,
      event: { id: expect.stringMatching(/^evt_/), type: 'customer.created' },
    });
    expect(queue.sent).toEqual([{ body: { kind: 'attempt', delivery_id: deadId, attempts: 1 }, delaySeconds: undefined }]);

    // A pending one is on its way already.
    const refused = await retry(hook.id, pendingId, webhookQueue());
    expect(refused.status).toBe(409);
    expect(await json(refused)).toMatchObject({
      code: 409,
      key: 'delivery_not_retryable',
      details: `Delivery ${pendingId} is pending: only a dead or failed delivery is retried.`,
    });
    const missing = await retry(hook.id, 'whd_missing', webhookQueue());
    expect(missing.status).toBe(404);
    expect(await json(missing)).toMatchObject({ key: 'not_found', resource_type: 'webhook_delivery', resource_id: 'whd_missing' });
    // Another endpoint's delivery is not this endpoint's.
    const otherHook = await endpoint();
    expect((await retry(otherHook.id, deadId, webhookQueue())).status).toBe(404);

    await api('PUT', `/v1/webhooks/${hook.id}`, { enabled: false });
    const disabled = await retry(hook.id, deadId, webhookQueue());
    expect(disabled.status).toBe(409);
    expect((await json(disabled)).key).toBe('webhook_disabled');
  });
});

describe('GET /v1/webhooks/{id}/deliveries', () => {
  it('pages the log newest first and filters by status', async () => {
    await disableAll();
    const hook = await endpoint();
    await events(15);
    const q = webhookQueue();
    await dispatch(bindings(q), q);
    const ids = attemptIds(q);
    await runAttempts(bindings(q), [[ids[0] as string, 0]], q);

    const first = await json(await api('GET', `/v1/webhooks/${hook.id}/deliveries`));
    expect(first).toMatchObject({ object: 'list', data_ref: 'deliveries', has_more: true });
    expect(first.deliveries).toHaveLength(10);
    const second = await json(await api('GET', `/v1/webhooks/${hook.id}/deliveries?starting_after=${first.deliveries[9].id}&limit=10`));
    expect(second.has_more).toBe(false);
    expect(second.deliveries).toHaveLength(5);
    const all = [...first.deliveries, ...second.deliveries];
    expect(new Set(all.map((d: { id: string }) => d.id))).toEqual(new Set(ids));
    const keys = all.map((d: { created_at: string; id: string }) => [d.created_at, d.id].join(' '));
    expect(keys).toEqual([...keys].sort().reverse());

    const failed = await json(await api('GET', `/v1/webhooks/${hook.id}/deliveries?status=failed`));
    expect(failed.deliveries).toHaveLength(1);
    expect(failed.deliveries[0]).toMatchObject({
      id: ids[0],
      status: 'failed',
      attempts: 1,
      last_status_code: null,
      last_error: expect.stringMatching(/^Network error/),
      last_attempt_at: expect.any(String),
      next_attempt_at: expect.any(String),
      delivered_at: null,
    });
    const bad = await api('GET', `/v1/webhooks/${hook.id}/deliveries?status=lost`);
    expect(bad.status).toBe(400);
    expect(await json(bad)).toMatchObject({
      key: 'invalid_query_params',
      details: expect.stringMatching(/^status: must be one of pending, failed, delivered, dead/),
    });
    expect((await json(await api('GET', `/v1/webhooks/${hook.id}/deliveries?limit=0`))).details).toMatch(/^limit: /);
    expect((await json(await api('GET', `/v1/webhooks/${hook.id}/deliveries?starting_after=whd_nope`))).details).toMatch(
      /^starting_after: /,
    );

    // Deleting the endpoint deletes its log.
    expect((await api('DELETE', `/v1/webhooks/${hook.id}`)).status).toBe(204);
    expect(await deliveriesOf(hook.id)).toEqual([]);
  });
});

describe('the cron sweep', () => {
  it('dispatches what no wake-up did and sends again the deliveries whose message was lost', async () => {
    await disableAll();
    const hook = await endpoint();
    await events(2);
    const sweep = async (at: number) => {
      const queue = webhookQueue();
      const ctx = createExecutionContext();
      await worker.scheduled(createScheduledController({ scheduledTime: at, cron: WEBHOOK_SWEEP_CRON }), bindings(queue), ctx);
      return queue;
    };
    // The first sweep dispatches (the wake-up never came); its messages are "lost" (captured, never run).
    const now = Date.now();
    const first = await sweep(now);
    const lost = attemptIds(first);
    expect(lost).toHaveLength(2);
    expect((await deliveriesOf(hook.id)).map((d) => d.status)).toEqual(['pending', 'pending']);
    // A minute later they are not overdue yet: nothing is sent twice.
    expect((await sweep(now + 60_000)).sent).toEqual([]);
    // Past the grace: sent again, with the attempt count they stand at.
    const later = await sweep(now + SWEEP_OVERDUE_MS + 5_000);
    // (The deliveries the tests above left pending are overdue too: the sweep is for all.)
    const resent = later.sent.map((m) => m.body).filter((b) => b.kind === 'attempt' && lost.includes(b.delivery_id));
    expect(resent).toEqual(expect.arrayContaining(lost.map((id) => ({ kind: 'attempt', delivery_id: id, attempts: 0 }))));
    expect(resent).toHaveLength(2);
    // Sent once per lease: the next sweep right after sends nothing.
    expect((await sweep(now + SWEEP_OVERDUE_MS + 5_001)).sent).toEqual([]);
  });
});

describe('wake-ups of the dispatcher', () => {
  const post = (path: string, body: unknown, queue: WebhookQueue) =>
    call(
      path,
      { method: 'POST', headers: { ...SERVER_HEADERS, 'Content-Type': 'application/json' }, body: JSON.stringify(body) },
      { WEBHOOKS: queue as unknown as Env['WEBHOOKS'] },
    );
  const wakeUps = (queue: ReturnType<typeof webhookQueue>) => queue.sent.filter((m) => m.body.kind === 'dispatch').length;

  it('a mutating request sends one after answering, only while an enabled endpoint exists', async () => {
    for (const w of (await json(await api('GET', '/v1/webhooks'))).webhooks) await api('DELETE', `/v1/webhooks/${w.id}`);
    const none = webhookQueue();
    expect((await post('/v1/customers', { source_id: 'wake-none' }, none)).status).toBe(200);
    expect(wakeUps(none)).toBe(0);

    await endpoint();
    const write = webhookQueue();
    expect((await post('/v1/customers', { source_id: 'wake-1' }, write)).status).toBe(200);
    expect(write.sent).toEqual([{ body: { kind: 'dispatch', at: expect.any(Number) }, delaySeconds: undefined }]);
    // Reads, refused writes, validations (recorded through the WRITES queue) and the webhook routes wake nobody.
    const quiet = webhookQueue();
    await call('/v1/customers/wake-1', { headers: SERVER_HEADERS }, { WEBHOOKS: quiet as unknown as Env['WEBHOOKS'] });
    expect((await post('/v1/customers', { source_id: 'wake-2', email: 'not an email' }, quiet)).status).toBe(400);
    await post('/v1/vouchers/NOPE/validate', {}, quiet);
    await post('/v1/validations', { redeemables: [{ object: 'voucher', id: 'NOPE' }] }, quiet);
    await post('/v1/webhooks', { url: REFUSED, events: ['customer.created'] }, quiet);
    // A segment preview records nothing (catalogue.ts isReadOnlyPost, the catalogue the D1 session reads too).
    expect((await post('/v1/segments/preview', { filter: { 'metadata.tier': { conditions: { $is: ['gold'] } } } }, quiet)).status).toBe(
      200,
    );
    expect(wakeUps(quiet)).toBe(0);
  });

  it('the WRITES consumer sends one after a batch that may have written events, none after validation records alone', async () => {
    await endpoint();
    const records = webhookQueue();
    await deliver(
      [
        {
          kind: 'validation',
          id: 'msg-wake-v',
          at: Date.now(),
          tracking_id: null,
          customer_ref: null,
          identity_hmac: null,
          amount: null,
          attempts: [],
        },
      ],
      { WEBHOOKS: records as unknown as Env['WEBHOOKS'] },
    );
    expect(wakeUps(records)).toBe(0);
    const events = webhookQueue();
    await deliver(
      [
        {
          kind: 'customer_event',
          id: 'msg-wake-e',
          at: Date.now(),
          customer: { source_id: 'wake-consumer', new_id: 'cust_wake_consumer' },
          event: { id: 'evt_custom_wake', type: 'viewed', metadata: {} },
        },
      ],
      { WEBHOOKS: events as unknown as Env['WEBHOOKS'] },
    );
    expect(wakeUps(events)).toBe(1);
  });
});

describe('dispatch backpressure', () => {
  const unattempted = async () =>
    (await env.DB.prepare("SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'pending' AND attempts = 0").first<number>('n')) ??
    0;
  const undispatched = async () =>
    (await env.DB.prepare('SELECT count(*) AS n FROM webhook_outbox WHERE dispatched_at IS NULL').first<number>('n')) ?? 0;

  it(`claims no event while ${MAX_UNATTEMPTED_DELIVERIES} deliveries wait for their first attempt, and resumes below`, async () => {
    await disableAll();
    // Events earlier tests left in the outbox (the customer triggers of their writes) go out first,
    // to no endpoint, so that the backlog below is exactly the one this test makes.
    const earlier = webhookQueue();
    await dispatch(bindings(earlier), earlier);
    expect(await undispatched()).toBe(0);
    await endpoint();
    await endpoint();
    await events(Math.ceil((MAX_UNATTEMPTED_DELIVERIES - (await unattempted())) / 2));
    const q = webhookQueue();
    await dispatch(bindings(q), q);
    expect(await unattempted()).toBeGreaterThanOrEqual(MAX_UNATTEMPTED_DELIVERIES);
    expect(await undispatched()).toBe(0);

    await events(10);
    const full = webhookQueue();
    expect(await dispatch(bindings(full), full)).toEqual({ events: 0, deliveries: 0 });
    expect(full.sent).toEqual([]);
    expect(await undispatched()).toBe(10);

    // The backlog drained (attempted): the events go out.
    await env.DB.prepare(
      "UPDATE webhook_deliveries SET status = 'dead', next_attempt_at = NULL WHERE status = 'pending' AND attempts = 0",
    ).run();
    const drained = webhookQueue();
    expect(await dispatch(bindings(drained), drained)).toEqual({ events: 10, deliveries: 20 });
  });
});
