// Webhook deliveries to real receivers (node:http on 127.0.0.1) from the real worker
// (Miniflare, its real queues and D1), each verified with the Standard Webhooks library
// (`new Webhook(secret).verify(body, headers)`, node_modules/standardwebhooks/dist/index.js:L41),
// not with our code. Events come from real writes: POST /v1/customers/bulk/async ends an async
// action, which the 0021 trigger writes as async_action.done. WEBHOOK_RETRY_DELAYS=1,2,4.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ENV } from '../test-env';
import { type LocalWorker, startLocalWorker } from './support/local-worker';

let worker: LocalWorker;

beforeAll(async () => {
  worker = await startLocalWorker({ WEBHOOK_RETRY_DELAYS: '1,2,4' });
});
afterAll(async () => {
  await worker?.stop();
});

async function api(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${worker.url}${path}`, {
    method,
    headers: { 'X-App-Id': TEST_ENV.APP_ID, 'X-App-Token': TEST_ENV.APP_TOKEN, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
  status: number;
}

/** A receiver on a free loopback port; `answer(n)` is the status of its n-th request (from 1). */
async function receiver(answer: (n: number) => number = () => 200): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = answer(received.length + 1);
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: performance.now(), status });
      res.writeHead(status, { 'Content-Type': 'text/plain' }).end(status < 300 ? 'ok' : 'receiver says no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, received, server };
}

const servers: Server[] = [];
const hooks: string[] = [];
afterEach(async () => {
  // Each test's endpoints go, so the next test's events reach only its own receivers.
  for (const id of hooks.splice(0)) await api('DELETE', `/v1/webhooks/${id}`);
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function subscribe(answer?: (n: number) => number): Promise<{ hook: any; received: Received[] }> {
  const r = await receiver(answer);
  servers.push(r.server);
  const hook = await api('POST', '/v1/webhooks', { url: r.url, events: ['async_action.done'] });
  hooks.push(hook.id);
  return { hook, received: r.received };
}

/** A real write that ends an async action: one async_action.done event. */
async function write(): Promise<{ actionId: string; at: number }> {
  const at = performance.now();
  const { async_action_id } = await api('POST', '/v1/customers/bulk/async', [{ source_id: `wh-${Math.random().toString(36).slice(2)}` }]);
  return { actionId: async_action_id, at };
}

async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const verify = (secret: string, r: Received) => new Webhook(secret).verify(r.body, r.headers as Record<string, string>) as any;

describe('webhook deliveries', () => {
  it('are signed as Standard Webhooks says: the library verifies them', async () => {
    const { hook, received } = await subscribe();
    const { actionId, at } = await write();
    const [delivery] = await until('the delivery', () => (received.length > 0 ? received : undefined));
    if (!delivery) throw new Error('unreachable');
    console.log(`write -> receiver: ${(delivery.at - at).toFixed(0)} ms`);

    const payload = verify(hook.secret, delivery);
    expect(payload).toMatchObject({
      type: 'async_action.done',
      object: 'event',
      data: { async_action: { id: actionId, status: 'DONE', type: 'CUSTOMERS.BULK_UPDATE' } },
    });
    expect(payload.id).toMatch(/^evt_/);
    expect(delivery.headers['webhook-id']).toBe(payload.id);
    expect(delivery.headers['content-type']).toBe('application/json');
    expect(delivery.headers['user-agent']).toMatch(/^Vouchsafe-Webhooks\//);
    expect(Math.abs(Number(delivery.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(30);
    // One signature (no rotation): `v1,<base64>`.
    expect(delivery.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    // A receiver holding another secret refuses it: the verification can fail.
    expect(() => verify(`whsec_${Buffer.from('another secret, 24 bytes long').toString('base64')}`, delivery)).toThrow(
      /No matching signature/,
    );
    // So does one given a body changed by a byte.
    expect(() => verify(hook.secret, { ...delivery, body: delivery.body.replace('DONE', 'D0NE') })).toThrow(/No matching signature/);

    const log = await until('the delivered status', async () => {
      const { deliveries } = await api('GET', `/v1/webhooks/${hook.id}/deliveries`);
      return deliveries[0]?.status === 'delivered' ? deliveries : undefined;
    });
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({
      event: { id: payload.id, type: 'async_action.done' },
      attempts: 1,
      last_status_code: 200,
      last_error: null,
      next_attempt_at: null,
    });
    expect(log[0].delivered_at).toEqual(expect.any(String));
  });

  it("in the voucherify format, a node:http receiver verifies them as Voucherify's docs show (crypto.createHmac, hex, x-voucherify-signature)", async () => {
    const r = await receiver();
    servers.push(r.server);
    const hook = await api('POST', '/v1/webhooks', { url: r.url, events: ['async_action.done'], format: 'voucherify' });
    hooks.push(hook.id);
    const { actionId } = await write();
    const [delivery] = await until('the delivery', () => (r.received.length > 0 ? r.received : undefined));
    if (!delivery) throw new Error('unreachable');
    // voucherify-openapi documentation/api-reference/introduction-to-webhooks.mdx, the NodeJS example:
    // crypto.createHmac('sha256', secretKey).update(message).digest('hex') === signature.
    const signature = createHmac('sha256', hook.secret).update(delivery.body).digest('hex');
    expect(delivery.headers['x-voucherify-signature']).toBe(signature);
    expect(createHmac('sha256', 'another secret').update(delivery.body).digest('hex')).not.toBe(signature);
    expect(delivery.headers['webhook-signature']).toBeUndefined();
    const body = JSON.parse(delivery.body);
    expect(body).toMatchObject({
      project_id: 'proj_vouchsafe',
      type: 'async_action.done',
      data: { async_action: { id: actionId, status: 'DONE' } },
      source: { id: hook.id, object: 'webhook', target_url: r.url },
      event: { id: expect.stringMatching(/^evt_/), type: 'async_action.done', entity_id: actionId },
    });
  });

  it('a receiver answering 500 twice then 200 gets exactly three attempts of one event, 1 s then 2 s apart', async () => {
    const { hook, received } = await subscribe((n) => (n <= 2 ? 500 : 200));
    await write();
    await until('three attempts', () => (received.length >= 3 ? received : undefined));
    const [log] = await until('delivered', async () => {
      const { deliveries } = await api('GET', `/v1/webhooks/${hook.id}/deliveries`);
      return deliveries[0]?.status === 'delivered' ? deliveries : undefined;
    });
    // Nothing after the success.
    await new Promise((r) => setTimeout(r, 1500));
    expect(received.map((r) => r.status)).toEqual([500, 500, 200]);
    // One event: the same webhook-id on every attempt, each attempt signed afresh.
    expect(new Set(received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    for (const r of received) expect(verify(hook.secret, r).id).toBe(r.headers['webhook-id']);
    // WEBHOOK_RETRY_DELAYS=1,2,4: the gaps grow by the schedule (jitter ±10% rounds to whole seconds).
    const gaps = [(received[1] as Received).at - (received[0] as Received).at, (received[2] as Received).at - (received[1] as Received).at];
    console.log(`gaps between attempts: ${gaps.map((g) => g.toFixed(0)).join(' ms, ')} ms`);
    expect(gaps[0]).toBeGreaterThanOrEqual(900);
    expect(gaps[0]).toBeLessThan(3000);
    expect(gaps[1]).toBeGreaterThanOrEqual(1900);
    expect(gaps[1]).toBeLessThan(4000);
    expect(log).toMatchObject({ status: 'delivered', attempts: 3, last_status_code: 200, last_error: null });
    // The success ended the endpoint's failing streak.
    expect((await api('GET', `/v1/webhooks/${hook.id}`)).failing_since).toBeNull();
  });

  it('a receiver always failing gets the whole schedule, then the delivery is dead; a manual retry sends the same event again', async () => {
    let failing = true;
    const { hook, received } = await subscribe(() => (failing ? 503 : 200));
    await write();
    const [dead] = await until(
      'dead',
      async () => {
        const { deliveries } = await api('GET', `/v1/webhooks/${hook.id}/deliveries?status=dead`);
        return deliveries.length > 0 ? deliveries : undefined;
      },
      25_000,
    );
    // The first attempt and one per delay of 1,2,4.
    expect(received.map((r) => r.status)).toEqual([503, 503, 503, 503]);
    // The log keeps the status and its standard reason, not the receiver's body ("receiver says no").
    expect(dead).toMatchObject({
      status: 'dead',
      attempts: 4,
      last_status_code: 503,
      last_error: 'HTTP 503: Service Unavailable',
      next_attempt_at: null,
      delivered_at: null,
    });
    expect((await api('GET', `/v1/webhooks/${hook.id}`)).failing_since).toEqual(expect.any(String));

    failing = false;
    const retried = await api('POST', `/v1/webhooks/${hook.id}/deliveries/${dead.id}/retry`);
    expect(retried).toMatchObject({ id: dead.id, status: 'pending' });
    await until('the retry', () => (received.length === 5 ? true : undefined));
    expect(new Set(received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    const log = await until('delivered', async () => {
      const { deliveries } = await api('GET', `/v1/webhooks/${hook.id}/deliveries`);
      return deliveries[0]?.status === 'delivered' ? deliveries[0] : undefined;
    });
    expect(log).toMatchObject({ attempts: 5, last_status_code: 200 });
  }, 40_000);

  it('during a rotation, receivers holding the old secret and the new one both verify', async () => {
    const { hook, received } = await subscribe();
    const rotated = await api('POST', `/v1/webhooks/${hook.id}/secret/rotate`);
    await write();
    const [delivery] = await until('the delivery', () => (received.length > 0 ? received : undefined));
    if (!delivery) throw new Error('unreachable');
    // Two signatures, space-separated (spec/standard-webhooks.md "Webhook headers").
    expect(String(delivery.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verify(hook.secret, delivery).type).toBe('async_action.done');
    expect(verify(rotated.secret, delivery).type).toBe('async_action.done');
  });

  it('a receiver answering 410 Gone disables its endpoint, and says why', async () => {
    const { hook, received } = await subscribe(() => 410);
    await write();
    const disabled = await until('disabled', async () => {
      const got = await api('GET', `/v1/webhooks/${hook.id}`);
      return got.enabled ? undefined : got;
    });
    expect(disabled.disabled_reason).toBe('Disabled by Vouchsafe: the receiver answered 410 Gone, which asks for no more deliveries.');
    const { deliveries } = await api('GET', `/v1/webhooks/${hook.id}/deliveries`);
    expect(deliveries[0]).toMatchObject({ status: 'dead', attempts: 1, last_status_code: 410 });
    await new Promise((r) => setTimeout(r, 1500));
    expect(received).toHaveLength(1);
  });
});
