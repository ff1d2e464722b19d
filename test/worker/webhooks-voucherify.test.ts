// Webhooks in Voucherify's format, received the way Voucherify's docs tell a receiver to verify
// them (voucherifyio/voucherify-openapi documentation/api-reference/introduction-to-webhooks.mdx,
// "Authentication", L36-40 and its Java / Node examples: the hex HMAC-SHA256 of the payload keyed
// with the secret, compared with the `x-voucherify-signature` header), over every event type of the
// catalogue, from real writes through the API. Beside it, an endpoint of the standard format gets
// the same events as before, verified with the Standard Webhooks library. The receivers sit behind
// the global fetch (the attempts' only way out), so what they get is exactly what was sent.
import { env } from 'cloudflare:workers';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WEBHOOK_EVENT_TYPES } from '../../shared/webhook-events';
import type { Env } from '../../worker/src/env';
import type { WebhookMessage, WebhookQueue } from '../../worker/src/queue/webhook-messages';
import { dispatch, runAttempts } from '../../worker/src/services/webhook-delivery';
import { call, eventually, json, SERVER_HEADERS, settled } from './helpers';

type Json = Record<string, any>;
const db = env.DB;

const VOUCHERIFY_URL = 'https://receiver.example/voucherify';
const STANDARD_URL = 'https://receiver.example/standard';

interface Received {
  url: string;
  headers: Headers;
  body: string;
}
const received: Received[] = [];

beforeAll(() => {
  const original = globalThis.fetch;
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input instanceof Request ? input.url : input);
    if (!url.startsWith('https://receiver.example/')) return original(input, init);
    received.push({ url, headers: new Headers(init?.headers), body: String(init?.body) });
    return new Response(null, { status: 204 });
  });
});
afterAll(() => {
  vi.restoreAllMocks();
});

/**
 * The receiver of Voucherify's docs, in Web Crypto (the docs' Node example is
 * `crypto.createHmac('sha256', secretKey).update(message).digest('hex') === signature`): the secret
 * as the receiver holds it, the raw body as it arrived.
 */
async function voucherifyReceiverAccepts(secret: string, rawBody: string, signature: string | null): Promise<boolean> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(rawBody)));
  const hex = [...mac].map((b) => b.toString(16).padStart(2, '0')).join('');
  return signature !== null && hex === signature;
}

/** A WEBHOOKS binding that keeps what is sent instead of queueing it. */
function webhookQueue(): WebhookQueue & { sent: WebhookMessage[] } {
  const sent: WebhookMessage[] = [];
  return {
    sent,
    send: async (body: WebhookMessage) => {
      sent.push(body);
    },
    sendBatch: async (messages: Iterable<MessageSendRequest<WebhookMessage>>) => {
      for (const m of messages) sent.push(m.body);
    },
  } as unknown as WebhookQueue & { sent: WebhookMessage[] };
}

const bindings = (queue: WebhookQueue, extra: Partial<Env> = {}) => ({
  ...(env as unknown as Env),
  WEBHOOKS: queue as unknown as Env['WEBHOOKS'],
  ...extra,
});

/**
 * Fans out and attempts everything owed, until every delivery of `endpointIds` is delivered (a
 * mutating request also wakes the real dispatcher: whichever attempts a delivery, it reaches the
 * same receivers, once, by the delivery's compare-and-set).
 */
async function deliverAll(endpointIds: string[], extra: Partial<Env> = {}): Promise<void> {
  await eventually(async () => {
    const q = webhookQueue();
    await dispatch(bindings(q, extra), q);
    const owed = await db
      .prepare(
        `SELECT id, attempts FROM webhook_deliveries WHERE endpoint_id IN (SELECT value FROM json_each(?)) AND status IN ('pending', 'failed')`,
      )
      .bind(JSON.stringify(endpointIds))
      .all<{ id: string; attempts: number }>();
    if (owed.results.length === 0) return true;
    await runAttempts(
      bindings(q, extra),
      owed.results.map((r) => [r.id, r.attempts]),
      q,
    );
    return undefined;
  });
}

/**
 * A server-key call whose dispatcher wake-up (middleware/wake-webhook-dispatcher.ts) goes to a queue
 * that keeps it: this file dispatches and attempts itself (deliverAll), through the fetch above.
 */
const wakeUps = webhookQueue();
const api = (method: string, path: string, body?: unknown): Promise<Response> =>
  call(
    path,
    {
      method,
      headers: { ...SERVER_HEADERS, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    },
    { WEBHOOKS: wakeUps as unknown as Env['WEBHOOKS'] },
  );

const ok = async (res: Response | Promise<Response>, status = 200): Promise<Json> => {
  const r = await res;
  const body = await json(r);
  expect(r.status, JSON.stringify(body)).toBe(status);
  return body;
};

/** Writes through the API that cause every type of the catalogue at least once. */
async function everyKindOfWrite(prefix: string): Promise<void> {
  await ok(
    api('POST', '/v1/segments', {
      name: `${prefix} scorers`,
      type: 'auto-update',
      filter: { 'metadata.score': { conditions: { $more_than: [10] } } },
    }),
  );
  const customer = await ok(api('POST', '/v1/customers', { source_id: `${prefix}-c`, name: 'Ada', metadata: { score: 1 } }));
  await ok(api('PUT', `/v1/customers/${customer.id}`, { metadata: { score: 50 } })); // updated, entered
  await ok(api('PUT', `/v1/customers/${customer.id}`, { metadata: { score: 2 } })); // updated, left

  const code = `${prefix.toUpperCase()}-V`;
  await ok(api('POST', `/v1/vouchers/${code}`, { discount: { type: 'AMOUNT', amount_off: 100 } }));
  await ok(api('PUT', `/v1/vouchers/${code}`, { metadata: { a: 1 } }));
  await ok(api('POST', `/v1/vouchers/${code}/disable`));
  await ok(api('POST', `/v1/vouchers/${code}/redemption`, { customer: { source_id: `${prefix}-c` }, order: { amount: 1000 } }), 400);
  await ok(api('POST', `/v1/vouchers/${code}/enable`));
  await ok(api('POST', '/v1/publications', { voucher: code, customer: { source_id: `${prefix}-c` } }));
  const redemption = await ok(
    api('POST', `/v1/vouchers/${code}/redemption`, { customer: { source_id: `${prefix}-c` }, order: { amount: 1000 } }),
  );
  await ok(api('POST', `/v1/redemptions/${redemption.id}/rollback`, {}));
  // Again: refused, stored as a failed rollback (redemption.rollback.failed).
  expect((await ok(api('POST', `/v1/redemptions/${redemption.id}/rollback`, {}), 400)).key).toBe('already_rolled_back');
  expect((await api('DELETE', `/v1/vouchers/${code}`)).status).toBe(204);

  const campaign = await ok(
    api('POST', '/v1/campaigns', {
      name: `${prefix} campaign`,
      campaign_type: 'DISCOUNT_COUPONS',
      voucher: { type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 100 } },
    }),
  );
  await ok(api('PUT', `/v1/campaigns/${campaign.id}`, { description: 'updated' }));
  // The campaign switch is another branch's route; the trigger on campaigns.active fires whichever write flips it.
  await db.prepare('UPDATE campaigns SET active = 0 WHERE id = ?').bind(campaign.id).run();
  await db.prepare('UPDATE campaigns SET active = 1 WHERE id = ?').bind(campaign.id).run();
  await ok(api('DELETE', `/v1/campaigns/${campaign.id}`), 202);

  const rule = await ok(
    api('POST', '/v1/validation-rules', {
      name: `${prefix} rule`,
      rules: { '1': { name: 'order.amount', conditions: { $more_than: [1000] } }, logic: '1' },
    }),
  );
  await ok(api('PUT', `/v1/validation-rules/${rule.id}`, { name: `${prefix} rule 2` }));
  expect((await api('DELETE', `/v1/validation-rules/${rule.id}`)).status).toBe(204);

  await ok(api('POST', '/v1/customers/metadata/async', { source_ids: [`${prefix}-c`], metadata: { x: 1 } }), 202);
  expect((await api('DELETE', `/v1/customers/${customer.id}`)).status).toBe(204);
  // The campaign's deletion and the metadata update run as jobs on the write queue.
  await settled();
  await eventually(
    async () => {
      const { results } = await db.prepare('SELECT DISTINCT type FROM webhook_outbox').all<{ type: string }>();
      return results.length === WEBHOOK_EVENT_TYPES.length ? true : undefined;
    },
    30_000,
    'every type in the outbox',
  );
}

describe('the endpoint format', () => {
  it('is standard unless asked; create and update set it; it is shown on the endpoint; anything else is a 400 naming it', async () => {
    const plain = await ok(api('POST', '/v1/webhooks', { url: 'https://hooks.example/a', events: ['customer.created'] }));
    expect(plain.format).toBe('standard');
    const vf = await ok(
      api('POST', '/v1/webhooks', { url: 'https://hooks.example/b', events: ['voucher.published'], format: 'voucherify' }),
    );
    expect(vf).toMatchObject({ format: 'voucherify', events: ['voucher.published'] });
    expect((await ok(api('GET', `/v1/webhooks/${vf.id}`))).format).toBe('voucherify');
    expect((await ok(api('PUT', `/v1/webhooks/${plain.id}`, { format: 'voucherify' }))).format).toBe('voucherify');
    // Absent from an update: unchanged.
    expect((await ok(api('PUT', `/v1/webhooks/${plain.id}`, { description: 'x' }))).format).toBe('voucherify');
    const bad = await ok(api('PUT', `/v1/webhooks/${plain.id}`, { format: 'svix' }), 400);
    expect(bad.details).toMatch(/^format: must be one of standard, voucherify/);
    expect((await ok(api('GET', '/v1/webhooks'))).webhooks.map((w: Json) => w.format).sort()).toEqual(['voucherify', 'voucherify']);
    for (const id of [plain.id, vf.id]) expect((await api('DELETE', `/v1/webhooks/${id}`)).status).toBe(204);
  });

  it('the new types can be subscribed to; a name Voucherify does not use for them is refused', async () => {
    const all = await ok(api('POST', '/v1/webhooks', { url: 'https://hooks.example/all', events: [...WEBHOOK_EVENT_TYPES] }));
    expect(all.events).toEqual([...WEBHOOK_EVENT_TYPES]);
    expect((await api('DELETE', `/v1/webhooks/${all.id}`)).status).toBe(204);
    const refused = await ok(api('POST', '/v1/webhooks', { url: 'https://hooks.example/x', events: ['validation_rule.created'] }), 400);
    expect(refused.details).toMatch(/^events\[0\]: must be one of/);
  });
});

describe('every event type, to one endpoint of each format', () => {
  let voucherify: Json;
  let standard: Json;
  const PROJECT = 'proj_T3stPr0j3ct';

  beforeAll(async () => {
    voucherify = await ok(api('POST', '/v1/webhooks', { url: VOUCHERIFY_URL, events: [...WEBHOOK_EVENT_TYPES], format: 'voucherify' }));
    standard = await ok(api('POST', '/v1/webhooks', { url: STANDARD_URL, events: [...WEBHOOK_EVENT_TYPES] }));
    await everyKindOfWrite('vf');
    await deliverAll([voucherify.id, standard.id], { WEBHOOK_PROJECT_ID: PROJECT });
  });

  const at = (url: string) => received.filter((r) => r.url === url);

  it("the receiver of Voucherify's docs accepts every delivery of the voucherify endpoint, over every type", async () => {
    const deliveries = at(VOUCHERIFY_URL);
    for (const d of deliveries) {
      expect(await voucherifyReceiverAccepts(voucherify.secret, d.body, d.headers.get('x-voucherify-signature'))).toBe(true);
      // Nothing of the other scheme.
      expect(d.headers.get('webhook-signature')).toBeNull();
    }
    const types = new Set(deliveries.map((d) => JSON.parse(d.body).type));
    expect([...types].sort()).toEqual([...WEBHOOK_EVENT_TYPES].sort());
  });

  it('and refuses a body changed on the way, or a signature made with another secret', async () => {
    const [first] = at(VOUCHERIFY_URL);
    if (!first) throw new Error('no delivery');
    const signature = first.headers.get('x-voucherify-signature');
    expect(await voucherifyReceiverAccepts(voucherify.secret, first.body.replace('"type":"', '"type":"x'), signature)).toBe(false);
    expect(await voucherifyReceiverAccepts(standard.secret, first.body, signature)).toBe(false);
    // The docs' Java example strips whitespace outside strings before hashing: our body has none, so it verifies the same.
    expect(JSON.stringify(JSON.parse(first.body))).toBe(first.body);
  });

  it('each body is Voucherify\'s envelope (project-settings-webhooks.mdx, "Project setting webhook payload")', async () => {
    for (const d of at(VOUCHERIFY_URL)) {
      const body = JSON.parse(d.body);
      expect(Object.keys(body).sort()).toEqual(['created_at', 'data', 'event', 'id', 'project_id', 'source', 'type']);
      expect(body).toMatchObject({
        id: expect.stringMatching(/^whd_/),
        project_id: PROJECT,
        source: { id: voucherify.id, object: 'webhook', target_url: VOUCHERIFY_URL },
        event: {
          id: expect.stringMatching(/^evt_[0-9a-f]{24}$/),
          type: body.type,
          created_at: body.created_at,
          entity_id: expect.any(String),
          group_id: null,
          event_source: { channel: 'API' },
        },
      });
      expect(body.data).toEqual(expect.any(Object));
    }
  });

  it('each event reaches each endpoint once, with the same data in both formats', async () => {
    const vf = at(VOUCHERIFY_URL).map((d) => JSON.parse(d.body));
    const std = at(STANDARD_URL).map((d) => JSON.parse(d.body));
    const vfIds = vf.map((b) => b.event.id);
    expect(new Set(vfIds).size).toBe(vfIds.length);
    expect(new Set(std.map((b) => b.id)).size).toBe(std.length);
    expect([...vfIds].sort()).toEqual(std.map((b) => b.id).sort());
    const byId = new Map(std.map((b) => [b.id, b]));
    for (const b of vf) {
      const twin = byId.get(b.event.id);
      expect(twin).toMatchObject({ type: b.type, created_at: b.created_at });
      // Context read at delivery (a deleted campaign's codes, an async action) is read per attempt;
      // the object the event is about is the snapshot, the same for both.
      expect(Object.keys(twin.data).sort()).toEqual(Object.keys(b.data).sort());
    }
  });

  it('the standard endpoint is unchanged: Standard Webhooks headers, verified by its library, and the {id, type, created_at, object, data} body', async () => {
    const wh = new Webhook(standard.secret);
    const deliveries = at(STANDARD_URL);
    expect(deliveries.length).toBeGreaterThan(0);
    for (const d of deliveries) {
      const headers = Object.fromEntries(d.headers);
      const event = wh.verify(d.body, headers) as Json;
      expect(Object.keys(event).sort()).toEqual(['created_at', 'data', 'id', 'object', 'type']);
      expect(event.object).toBe('event');
      expect(headers['webhook-id']).toBe(event.id);
      expect(headers['x-voucherify-signature']).toBeUndefined();
    }
  });

  it('after a rotation the voucherify format signs with the new secret at once', async () => {
    const rotated = await ok(api('POST', `/v1/webhooks/${voucherify.id}/secret/rotate`));
    const before = at(VOUCHERIFY_URL).length;
    await ok(api('POST', '/v1/customers', { source_id: 'vf-after-rotation' }));
    await deliverAll([voucherify.id, standard.id]);
    const after = at(VOUCHERIFY_URL).slice(before);
    expect(after.length).toBeGreaterThan(0);
    for (const d of after) {
      expect(await voucherifyReceiverAccepts(rotated.secret, d.body, d.headers.get('x-voucherify-signature'))).toBe(true);
      expect(JSON.parse(d.body).project_id).toBe('proj_vouchsafe');
    }
  });
});

describe('the new types fire only for committed writes', () => {
  it('a batch that rolls back leaves no campaign, rule or publication event', async () => {
    await ok(api('POST', '/v1/webhooks', { url: 'https://hooks.example/rb', events: [...WEBHOOK_EVENT_TYPES] }));
    await ok(api('POST', '/v1/vouchers/VF-RB', { discount: { type: 'AMOUNT', amount_off: 100 } }));
    const since = (await db.prepare('SELECT coalesce(max(seq), 0) AS s FROM webhook_outbox').first<{ s: number }>())?.s ?? 0;
    await expect(
      db.batch([
        db.prepare(`INSERT INTO campaigns (id, name, voucher, created_at) VALUES ('camp_rb', 'vf rb', '{"type":"DISCOUNT_VOUCHER"}', 1)`),
        db.prepare(`INSERT INTO validation_rules (id, name, rules, created_at) VALUES ('val_rb', 'vf rb', '{}', 1)`),
        db.prepare("UPDATE vouchers SET active = 0, publish_count = publish_count + 1 WHERE code = 'VF-RB'"),
        // Fails (CHECK json_valid): the whole batch, and the events its triggers wrote, roll back.
        db.prepare("INSERT INTO customers (id, metadata, created_at) VALUES ('cust_vf_rb', 'not json', 2)"),
      ]),
    ).rejects.toThrow();
    const { results } = await db.prepare('SELECT type FROM webhook_outbox WHERE seq > ?').bind(since).all();
    expect(results).toEqual([]);
    // The same statements committed: each event once.
    await db.batch([
      db.prepare(`INSERT INTO campaigns (id, name, voucher, created_at) VALUES ('camp_rb', 'vf rb', '{"type":"DISCOUNT_VOUCHER"}', 1)`),
      db.prepare(`INSERT INTO validation_rules (id, name, rules, created_at) VALUES ('val_rb', 'vf rb', '{}', 1)`),
      db.prepare("UPDATE vouchers SET active = 0 WHERE code = 'VF-RB'"),
    ]);
    const committed = await db.prepare('SELECT type FROM webhook_outbox WHERE seq > ? ORDER BY type').bind(since).all<{ type: string }>();
    expect(committed.results.map((r) => r.type)).toEqual(['business_validation_rule.created', 'campaign.created', 'voucher.disabled']);
  });
});
