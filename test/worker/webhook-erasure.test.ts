// What the webhook outbox keeps about a person: only the event types an enabled endpoint subscribes
// to, and, after the person's permanent deletion, nothing but the id in the customer.deleted that
// tells receivers to erase their copy. Deliveries not yet made are cancelled in the erasure's own
// batch, so no retry sends the erased data later. Requests here get a WEBHOOKS binding that keeps
// its messages: the test runs the dispatcher and the attempts itself, so nothing races it.
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { WEBHOOK_EVENT_TYPES } from '../../shared/webhook-events';
import { ERASED_DELIVERY_ERROR } from '../../worker/src/db/customers';
import type { Env } from '../../worker/src/env';
import type { WebhookMessage, WebhookQueue } from '../../worker/src/queue/webhook-messages';
import { dispatch, runAttempts } from '../../worker/src/services/webhook-delivery';
import { webhookPayload } from '../../worker/src/services/webhook-payloads';
import type { OutboxRow } from '../../worker/src/db/webhook-outbox';
import { call, SERVER_HEADERS } from './helpers';

type Json = Record<string, any>;
const db = env.DB;
const REFUSED = 'http://127.0.0.1:1/hook';

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

const quiet = webhookQueue();
const bindings = (queue: WebhookQueue = quiet) => ({ ...(env as unknown as Env), WEBHOOKS: queue as unknown as Env['WEBHOOKS'] });

async function api(method: string, path: string, body?: unknown, status = 200): Promise<Json> {
  const res = await call(
    path,
    {
      method,
      headers: { ...SERVER_HEADERS, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    },
    { WEBHOOKS: quiet as unknown as Env['WEBHOOKS'] },
  );
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return text ? JSON.parse(text) : {};
}

async function removeEndpoints(): Promise<void> {
  for (const w of (await api('GET', '/v1/webhooks')).webhooks) await api('DELETE', `/v1/webhooks/${w.id}`, undefined, 204);
}

const outboxTypes = async (): Promise<string[]> =>
  (await db.prepare('SELECT type FROM webhook_outbox ORDER BY seq').all<{ type: string }>()).results.map((r) => r.type);

const PERSON = {
  name: 'Eve Erased',
  email: 'eve.erased@example.com',
  phone: '+44 7700 900456',
  address: { line_1: '2 Private Road', city: 'Leeds' },
  metadata: { favourite: 'secret-colour' },
};
const TRACES = ['Eve Erased', 'eve.erased@example.com', '+44 7700 900456', '2 Private Road', 'secret-colour'];

/** The outbox rows whose stored text carries anything of the person. */
async function rowsNaming(customerId: string, sourceId: string): Promise<{ type: string; object_id: string; snapshot: string }[]> {
  const { results } = await db
    .prepare('SELECT type, object_id, snapshot FROM webhook_outbox')
    .all<{ type: string; object_id: string; snapshot: string }>();
  return results.filter((r) => [customerId, sourceId, ...TRACES].some((t) => r.object_id === customerId || (r.snapshot ?? '').includes(t)));
}

describe('erasure and the webhook outbox', () => {
  beforeEach(removeEndpoints);

  it('a publication names its holder: voucher.published and publication.succeeded go with the person', async () => {
    await api('POST', '/v1/webhooks', { url: REFUSED, events: [...WEBHOOK_EVENT_TYPES] });
    const source = 'erase-pub';
    const eve = await api('POST', '/v1/customers', { source_id: source, ...PERSON, email: 'eve.pub@example.com' });
    await api('POST', '/v1/vouchers/ERASE-PUB', { discount: { type: 'AMOUNT', amount_off: 100 } });
    await api('POST', '/v1/publications', { voucher: 'ERASE-PUB', customer: { source_id: source } });
    const carrying = async () =>
      (
        await db
          .prepare(
            `SELECT type FROM webhook_outbox WHERE type IN ('voucher.published', 'publication.succeeded') AND snapshot LIKE '%' || ? || '%'`,
          )
          .bind(eve.id)
          .all<{ type: string }>()
      ).results
        .map((r) => r.type)
        .sort();
    expect(await carrying()).toEqual(['publication.succeeded', 'voucher.published']);
    await api('POST', `/v1/customers/${eve.id}/permanent-deletion`);
    expect(await carrying()).toEqual([]);
    expect((await rowsNaming(eve.id, source)).map((r) => r.type)).toEqual(['customer.deleted']);
  });

  it('a permanent deletion leaves no outbox event naming the person and no delivery still owed; customer.deleted keeps only the id', async () => {
    const hook = await api('POST', '/v1/webhooks', { url: REFUSED, events: [...WEBHOOK_EVENT_TYPES] });
    const source = 'erase-eve';
    // She enters an auto-update segment as she is created: customer.segment.entered carries her too.
    await api('POST', '/v1/segments', {
      name: 'secret colour',
      type: 'auto-update',
      filter: { 'metadata.favourite': { conditions: { $is: ['secret-colour'] } } },
    });
    const eve = await api('POST', '/v1/customers', { source_id: source, ...PERSON });
    await api('PUT', `/v1/customers/${eve.id}`, { description: 'likes gardening' });
    await api('POST', '/v1/vouchers/ERASE-10', { discount: { type: 'AMOUNT', amount_off: 100 } });
    await api('POST', '/v1/vouchers/ERASE-10/redemption', { customer: { source_id: source }, order: { amount: 1000 } });
    // Someone else's events stay.
    const other = await api('POST', '/v1/customers', { source_id: 'erase-keep', name: 'Kept Person' });

    // Dispatched: a delivery per event; one attempted and failed (a retry is owed), the rest pending.
    const q = webhookQueue();
    await dispatch(bindings(q), q);
    const deliveries = q.sent.flatMap((m) => (m.kind === 'attempt' ? [m.delivery_id] : []));
    expect(deliveries.length).toBeGreaterThanOrEqual(5);
    await runAttempts(bindings(webhookQueue()), [[deliveries[0] as string, 0]], webhookQueue());
    // One more event not dispatched yet.
    await api('PUT', `/v1/customers/${eve.id}`, { description: 'likes gardening and tennis' });
    expect((await rowsNaming(eve.id, source)).map((r) => r.type).sort()).toEqual(
      ['customer.created', 'customer.segment.entered', 'customer.updated', 'customer.updated', 'redemption.succeeded'].sort(),
    );
    const owed = await db
      .prepare(
        `SELECT count(*) AS n FROM webhook_deliveries WHERE status IN ('pending', 'failed') AND event_id IN (SELECT id FROM webhook_outbox WHERE object_id = ?1 OR snapshot LIKE '%' || ?1 || '%')`,
      )
      .bind(eve.id)
      .first<number>('n');
    expect(owed).toBe(4);

    const report = await api('POST', `/v1/customers/${eve.id}/permanent-deletion`);
    expect(report.data_json.customer).toBe(1);

    // What is left about the person: the customer.deleted event, with the id and nothing else.
    const left = await rowsNaming(eve.id, source);
    expect(left.map((r) => r.type)).toEqual(['customer.deleted']);
    const deleted = left[0] as { snapshot: string };
    for (const trace of [source, ...TRACES]) expect(deleted.snapshot).not.toContain(trace);
    const event = await db
      .prepare("SELECT * FROM webhook_outbox WHERE type = 'customer.deleted' AND object_id = ?")
      .bind(eve.id)
      .first<OutboxRow>();
    const payload = await webhookPayload(db, event as OutboxRow);
    expect(payload.data.customer).toMatchObject({
      id: eve.id,
      object: 'customer',
      source_id: null,
      name: null,
      email: null,
      metadata: {},
      address: null,
    });
    expect((payload.data.customer as Json).created_at).toBe(eve.created_at);

    // No delivery of the erased events is owed any more: cancelled, with the reason in the log.
    const { results } = await db
      .prepare(
        `SELECT status, last_error, next_attempt_at FROM webhook_deliveries WHERE endpoint_id = ? AND event_id NOT IN (SELECT id FROM webhook_outbox)`,
      )
      .bind(hook.id)
      .all<{ status: string; last_error: string; next_attempt_at: number | null }>();
    expect(results.length).toBe(4); // customer.created, customer.segment.entered, customer.updated, redemption.succeeded
    for (const d of results) expect(d).toEqual({ status: 'dead', last_error: ERASED_DELIVERY_ERROR, next_attempt_at: null });

    // The other customer's event is untouched, and still owed.
    expect((await db.prepare('SELECT type FROM webhook_outbox WHERE object_id = ?').bind(other.id).all()).results).toEqual([
      { type: 'customer.created' },
    ]);
    const kept = await db
      .prepare(`SELECT d.status FROM webhook_deliveries d JOIN webhook_outbox o ON o.id = d.event_id WHERE o.object_id = ?`)
      .bind(other.id)
      .first<string>('status');
    expect(kept).toBe('pending');
  });

  it('an event type no enabled endpoint subscribes to writes no outbox row', async () => {
    await db.prepare('DELETE FROM webhook_outbox').run();
    const hook = await api('POST', '/v1/webhooks', { url: REFUSED, events: ['voucher.created'] });
    const c = await api('POST', '/v1/customers', { source_id: 'unsubscribed-1', ...PERSON });
    await api('PUT', `/v1/customers/${c.id}`, { name: 'Eve Renamed' });
    await api('POST', '/v1/vouchers/UNSUB-1', { discount: { type: 'AMOUNT', amount_off: 100 } });
    await api('POST', '/v1/vouchers/UNSUB-1/redemption', { customer: { source_id: 'unsubscribed-1' }, order: { amount: 1000 } });
    await api('POST', '/v1/customers/bulk/async', [{ source_id: 'unsubscribed-2', name: 'B' }], 202);
    expect(await outboxTypes()).toEqual(['voucher.created']);

    // The subscription follows the endpoint: re-subscribed, then disabled, then deleted.
    await api('PUT', `/v1/webhooks/${hook.id}`, { events: ['customer.updated'] });
    await api('PUT', `/v1/customers/${c.id}`, { name: 'Eve Again' });
    await api('POST', '/v1/vouchers/UNSUB-2', { discount: { type: 'AMOUNT', amount_off: 100 } });
    expect(await outboxTypes()).toEqual(['voucher.created', 'customer.updated']);
    await api('PUT', `/v1/webhooks/${hook.id}`, { enabled: false });
    await api('PUT', `/v1/customers/${c.id}`, { name: 'Eve Disabled' });
    await api('PUT', `/v1/webhooks/${hook.id}`, { enabled: true });
    await api('PUT', `/v1/customers/${c.id}`, { name: 'Eve Enabled' });
    await api('DELETE', `/v1/webhooks/${hook.id}`, undefined, 204);
    await api('PUT', `/v1/customers/${c.id}`, { name: 'Eve Deleted' });
    expect(await outboxTypes()).toEqual(['voucher.created', 'customer.updated', 'customer.updated']);
    expect(await db.prepare('SELECT count(*) AS n FROM webhook_subscriptions').first<number>('n')).toBe(0);
  });

  it('the permanent-deletion report counts the same with webhooks on and off', async () => {
    const erase = async (sourceId: string) => {
      const c = await api('POST', '/v1/customers', { source_id: sourceId, ...PERSON });
      await api('POST', '/v1/vouchers/' + sourceId.toUpperCase(), { discount: { type: 'AMOUNT', amount_off: 100 } });
      await api('POST', `/v1/vouchers/${sourceId.toUpperCase()}/redemption`, {
        customer: { source_id: sourceId },
        order: { amount: 1000 },
      });
      await api('PUT', `/v1/customers/${c.id}`, { name: 'Changed' });
      return (await api('POST', `/v1/customers/${c.id}/permanent-deletion`)).data_json as Record<string, number>;
    };
    const off = await erase('count-off');
    await api('POST', '/v1/webhooks', { url: REFUSED, events: [...WEBHOOK_EVENT_TYPES] });
    const on = await erase('count-on');
    expect(await db.prepare("SELECT count(*) AS n FROM webhook_outbox WHERE type = 'customer.deleted'").first<number>('n')).toBeGreaterThan(
      0,
    );
    expect(on).toEqual(off);
    expect(on).toMatchObject({ customer: 1, redemptions: 1 });
  });

  it('stays cheap: the triggers ask one primary-key probe, and the erasure finds the events and their deliveries through indexes', async () => {
    const plan = async (sql: string, ...params: unknown[]) =>
      (
        await db
          .prepare(`EXPLAIN QUERY PLAN ${sql}`)
          .bind(...params)
          .all<{ detail: string }>()
      ).results
        .map((r) => r.detail)
        .join(' | ');
    expect(await plan("SELECT 1 FROM webhook_subscriptions WHERE type = 'customer.updated'")).toMatch(
      /SEARCH webhook_subscriptions USING PRIMARY KEY \(type=\?\)/,
    );
    expect(await plan('SELECT id FROM webhook_outbox WHERE customer_id = ?', 'cust_x')).toMatch(
      /SEARCH webhook_outbox USING (COVERING )?INDEX webhook_outbox_customer/,
    );
    expect(
      await plan(
        `SELECT 1 FROM webhook_deliveries WHERE event_id IN (SELECT id FROM webhook_outbox WHERE customer_id = ?) AND status IN ('pending', 'failed')`,
        'cust_x',
      ),
    ).toMatch(/SEARCH webhook_deliveries USING INDEX webhook_deliveries_event/);
  });
});
