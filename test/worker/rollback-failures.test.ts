import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { deleteExpiredClientRedemptions } from '../../worker/src/db/redemptions';
import type { OutboxRow } from '../../worker/src/db/webhook-outbox';
import { voucherifyEnvelope, webhookPayload } from '../../worker/src/services/webhook-payloads';
import { api, json, ok } from './helpers';

// A refused rollback stored as Voucherify stores it (migration 0035). The spec, in
// voucherifyio/voucherify-openapi: OA24 = reference/OpenAPI.json blob ae6b585 (the last with
// `required` lists and the rollback examples), WH = reference/OpenAPIWebhooks.json.
// - The 400 of POST /v1/redemptions/{id}/rollback, example "Already rolledback" (OA24:L65064-L65073),
//   and of /rollbacks, "Already rolled back" (OA24:L65688-L65697): key already_rolled_back,
//   `resource_id: rrf_…`, `resource_type: redemption_rollback`.
// - The stored failure: OA24 7_obj_redemption_rollback_object_voucher_fail (OA24:L20674): id rrf_…,
//   object redemption_rollback, `redemption` the initial redemption, result FAILURE, failure_code
//   (example already_rolled_back, OA24:L20728), failure_message, order nullable.
// - The webhook: WH EVENTS.REDEMPTION.ROLLBACK.FAILED (WH:L12916), its example's
//   failure_message "Already rolled back" (WH:L13105) and order null (WH:L12942).

type Json = Record<string, any>;
const db = env.DB;

const voucher = (code: string, body: Json = {}) =>
  ok(api('POST', `/v1/vouchers/${code}`, { discount: { type: 'AMOUNT', amount_off: 500 }, ...body }));
const redeem = (code: string, sourceId: string) =>
  ok(api('POST', `/v1/vouchers/${code}/redemption`, { customer: { source_id: sourceId }, order: { amount: 2000 } }));
const rollback = (id: string, query = '', body: Json = {}) => api('POST', `/v1/redemptions/${id}/rollback${query}`, body);

const outbox = async (type: string, objectId: string) =>
  (await db.prepare('SELECT * FROM webhook_outbox WHERE type = ? AND object_id = ? ORDER BY seq').bind(type, objectId).all<OutboxRow>())
    .results;
const count = async (table: string) => (await db.prepare(`SELECT count(*) AS n FROM ${table}`).first<{ n: number }>())?.n ?? 0;
const summary = async (sourceId: string) => (await ok(api('GET', `/v1/customers/${sourceId}`))).summary.redemptions;

// Subscribed to every redemption type: the triggers record a type only while an enabled endpoint wants it.
beforeAll(async () => {
  await db
    .prepare(
      `INSERT INTO webhook_endpoints (id, url, events, secret, enabled, created_at) VALUES ('wh_rbf', 'https://hooks.example/in', ?, 'whsec_dGVzdA==', 1, ?)`,
    )
    .bind(
      JSON.stringify(['redemption.succeeded', 'redemption.failed', 'redemption.rollback.succeeded', 'redemption.rollback.failed']),
      Date.now(),
    )
    .run();
});

describe('a rollback of a redemption rolled back already', () => {
  it('is answered 400 already_rolled_back naming the failed rollback stored for it (OA24:L65064), which GET answers in the OA24 shape', async () => {
    const v = await voucher('RBF-A');
    const redemption = await redeem('RBF-A', 'rbf-a');
    const rolledBack = await ok(rollback(redemption.id));
    const res = await rollback(redemption.id, '?reason=second%20try', { metadata: { via: 'support' } });
    expect(res.status).toBe(400);
    const refused = await json(res);
    expect(refused).toEqual({
      code: 400,
      key: 'already_rolled_back',
      message: 'Already rolled back',
      details: `Redemption ${redemption.id} has already been rolled back`,
      request_id: res.headers.get('X-Request-Id'),
      resource_id: expect.stringMatching(/^rrf_/),
      resource_type: 'redemption_rollback',
    });

    const failure = await ok(api('GET', `/v1/redemptions/${refused.resource_id}`));
    const customer = await ok(api('GET', '/v1/customers/rbf-a'));
    expect(failure).toEqual({
      id: refused.resource_id,
      object: 'redemption_rollback',
      date: expect.any(String),
      customer_id: customer.id,
      tracking_id: redemption.tracking_id,
      metadata: { via: 'support' },
      redemption: redemption.id,
      reason: 'second try',
      result: 'FAILURE',
      status: 'FAILED',
      failure_code: 'already_rolled_back',
      failure_message: 'Already rolled back',
      order: null,
      channel: rolledBack.channel,
      customer: { id: customer.id, name: null, email: null, source_id: 'rbf-a', metadata: {}, object: 'customer' },
      related_object_type: 'voucher',
      related_object_id: v.id,
      voucher: expect.objectContaining({ id: v.id, code: 'RBF-A', object: 'voucher' }),
    });
    expect(new Date(failure.date).getTime()).toBeGreaterThanOrEqual(new Date(rolledBack.date).getTime());
  });

  it('leaves the redemption, its rollback and the voucher as they were', async () => {
    await voucher('RBF-B', { redemption: { quantity: 3 } });
    const redemption = await redeem('RBF-B', 'rbf-b');
    const rolledBack = await ok(rollback(redemption.id));
    const before = {
      redemption: await ok(api('GET', `/v1/redemptions/${redemption.id}`)),
      rollback: await ok(api('GET', `/v1/redemptions/${rolledBack.id}`)),
      voucher: await ok(api('GET', '/v1/vouchers/RBF-B')),
      orders: (await ok(api('GET', '/v1/customers/rbf-b'))).summary.orders,
    };
    expect((await rollback(redemption.id)).status).toBe(400);
    expect((await api('POST', `/v1/redemptions/${redemption.id}/rollbacks`)).status).toBe(400);
    expect(await ok(api('GET', `/v1/redemptions/${redemption.id}`))).toEqual(before.redemption);
    expect(before.redemption).toMatchObject({ status: 'ROLLED_BACK', order: { status: 'CANCELED' } });
    expect(await ok(api('GET', `/v1/redemptions/${rolledBack.id}`))).toEqual(before.rollback);
    expect(await ok(api('GET', '/v1/vouchers/RBF-B'))).toEqual(before.voucher);
    expect(before.voucher.redemption.redeemed_quantity).toBe(0);
    expect((await ok(api('GET', '/v1/customers/rbf-b'))).summary.orders).toEqual(before.orders);
    // rollback_of, the UNIQUE guard, still names the one successful rollback.
    const { results } = await db
      .prepare('SELECT id, result FROM redemptions WHERE rollback_of = ?1 OR failed_rollback_of = ?1 ORDER BY rowid')
      .bind(redemption.id)
      .all<{ id: string; result: string }>();
    expect(results.map((r) => r.result)).toEqual(['SUCCESS', 'FAILURE', 'FAILURE']);
    expect(results[0]?.id).toBe(rolledBack.id);
  });

  it("counts each failure in the customer's summary.redemptions.total_rollback_failed, nothing else", async () => {
    await voucher('RBF-C');
    const redemption = await redeem('RBF-C', 'rbf-c');
    await ok(rollback(redemption.id));
    const after = await summary('rbf-c');
    expect(after).toMatchObject({ total_rolled_back: 1, total_rollback_succeeded: 1, total_rollback_failed: 0 });
    await rollback(redemption.id);
    await rollback(redemption.id);
    expect(await summary('rbf-c')).toEqual({ ...after, total_rollback_failed: 2 });
  });

  it('fires redemption.rollback.failed once per stored failure, about the failure, with the customer as the failure left it', async () => {
    await voucher('RBF-D');
    const redemption = await redeem('RBF-D', 'rbf-d');
    await ok(rollback(redemption.id));
    const first = await ok(rollback(redemption.id), 400);
    const second = await ok(rollback(redemption.id), 400);
    expect(first.resource_id).not.toBe(second.resource_id);
    for (const refused of [first, second]) {
      const events = await outbox('redemption.rollback.failed', refused.resource_id);
      expect(events).toHaveLength(1);
      expect(await outbox('redemption.rollback.succeeded', refused.resource_id)).toEqual([]);
    }
    const { results } = await db
      .prepare("SELECT object_id FROM webhook_outbox WHERE type = 'redemption.rollback.failed' AND customer_id = ?")
      .bind(redemption.customer_id)
      .all<{ object_id: string }>();
    expect(results.map((r) => r.object_id)).toEqual([first.resource_id, second.resource_id]);

    const [event] = await outbox('redemption.rollback.failed', second.resource_id);
    const payload = await webhookPayload(db, event as OutboxRow);
    // The customer of the event counts the failure it reports (the counter is written before the row).
    expect(payload.data.customer).toMatchObject({ id: redemption.customer_id });
    expect(JSON.parse((event as OutboxRow).snapshot ?? '{}').customer.redemptions_total_rollback_failed).toBe(2);
    expect(payload.data.redemption_rollback).toEqual(await ok(api('GET', `/v1/redemptions/${second.resource_id}`)));
    expect(payload.data.redemption).toMatchObject({ id: redemption.id, status: 'ROLLED_BACK' });
    expect(payload.data.order).toBeNull();
  });

  it("both formats carry it: the standard body and Voucherify's envelope, the same type and data (WH:L12916)", async () => {
    await voucher('RBF-E');
    const redemption = await redeem('RBF-E', 'rbf-e');
    await ok(rollback(redemption.id));
    const refused = await ok(rollback(redemption.id), 400);
    const [event] = await outbox('redemption.rollback.failed', refused.resource_id);
    const payload = await webhookPayload(db, event as OutboxRow);
    expect(payload).toMatchObject({ id: (event as OutboxRow).id, type: 'redemption.rollback.failed', object: 'event' });
    // WH EventRedemptionRollbackFailedData (WH:L5576): EventCustomerRedemption + redemption_rollback.
    expect(Object.keys(payload.data).sort()).toEqual(
      ['campaign', 'customer', 'holder', 'order', 'promotion_tier', 'redemption', 'redemption_rollback', 'voucher'].sort(),
    );
    const envelope = voucherifyEnvelope(payload, {
      sendId: 'whd_test',
      projectId: 'proj_test',
      endpointId: 'wh_rbf',
      url: 'https://hooks.example/in',
      entityId: (event as OutboxRow).object_id,
    });
    expect(envelope).toMatchObject({
      type: 'redemption.rollback.failed',
      data: payload.data,
      event: { id: payload.id, type: 'redemption.rollback.failed', entity_id: refused.resource_id },
    });
  });

  it('is listed by GET /v1/redemptions and found by its filters', async () => {
    await voucher('RBF-F');
    const redemption = await redeem('RBF-F', 'rbf-f');
    const rolledBack = await ok(rollback(redemption.id));
    const refused = await ok(rollback(redemption.id), 400);
    const ids = async (query: string) =>
      (await ok(api('GET', `/v1/redemptions?customer=rbf-f&order=created_at&${query}`))).redemptions.map((r: Json) => r.id);
    expect(await ids('')).toEqual([redemption.id, rolledBack.id, refused.resource_id]);
    expect(await ids('result=FAILURE')).toEqual([refused.resource_id]);
    expect(await ids('filters[failure_code][conditions][$is]=already_rolled_back')).toEqual([refused.resource_id]);
    expect(await ids('filters[object][conditions][$is]=redemption_rollback')).toEqual([rolledBack.id, refused.resource_id]);
    expect(await ids('filters[object][conditions][$is]=redemption_rollback&filters[result][conditions][$is]=SUCCESS')).toEqual([
      rolledBack.id,
    ]);
    const entries = (await ok(api('GET', '/v1/vouchers/RBF-F/redemption'))).redemption_entries.map((r: Json) => r.id);
    expect(entries).toContain(refused.resource_id);
  });

  it('shows in the customer activity as customer.redemption.rollback.failed', async () => {
    await voucher('RBF-G');
    const redemption = await redeem('RBF-G', 'rbf-g');
    await ok(rollback(redemption.id));
    const refused = await ok(rollback(redemption.id), 400);
    const customer = await ok(api('GET', '/v1/customers/rbf-g'));
    const feed = await ok(api('GET', `/v1/customers/${customer.id}/activity?type=customer.redemption.rollback.failed`));
    expect(feed.data).toHaveLength(1);
    expect(feed.data[0]).toMatchObject({ id: refused.resource_id, type: 'customer.redemption.rollback.failed' });
    expect(feed.data[0].data.data).toMatchObject({
      order: null,
      redemption: { id: redemption.id },
      redemption_rollback: {
        id: refused.resource_id,
        result: 'FAILURE',
        status: 'FAILED',
        failure_code: 'already_rolled_back',
        redemption: redemption.id,
        object: 'redemption_rollback',
      },
    });
  });
});

describe('stacked and concurrent', () => {
  it('a stacked parent rolled back again through /rollbacks: one failure about the parent (OA24:L65688)', async () => {
    await voucher('RBF-S1');
    await voucher('RBF-S2');
    const stack = await ok(
      api('POST', '/v1/redemptions', {
        redeemables: [
          { object: 'voucher', id: 'RBF-S1' },
          { object: 'voucher', id: 'RBF-S2' },
        ],
        customer: { source_id: 'rbf-s' },
        order: { amount: 3000 },
      }),
    );
    const parent = stack.parent_redemption.id;
    await ok(api('POST', `/v1/redemptions/${parent}/rollbacks`));
    const before = await count('redemptions');
    const refused = await ok(api('POST', `/v1/redemptions/${parent}/rollbacks`), 400);
    expect(refused).toMatchObject({ key: 'already_rolled_back', resource_type: 'redemption_rollback' });
    expect(await count('redemptions')).toBe(before + 1);
    const failure = await ok(api('GET', `/v1/redemptions/${refused.resource_id}`));
    expect(failure).toMatchObject({
      object: 'redemption_rollback',
      result: 'FAILURE',
      redemption: parent,
      related_object_type: 'redemption',
      related_object_id: parent,
      voucher: null,
    });
    expect(await outbox('redemption.rollback.failed', refused.resource_id)).toHaveLength(1);
    expect((await summary('rbf-s')).total_rollback_failed).toBe(1);
  });

  it('three concurrent rollbacks: one rollback, two stored failures, one event each, the unit given back once', async () => {
    await voucher('RBF-RACE', { redemption: { quantity: 1 } });
    const redemption = await redeem('RBF-RACE', 'rbf-race');
    const answers = await Promise.all([1, 2, 3].map(() => rollback(redemption.id)));
    expect(answers.map((r) => r.status).sort()).toEqual([200, 400, 400]);
    const refused = await Promise.all(answers.filter((r) => r.status === 400).map((r) => json(r)));
    for (const r of refused) {
      expect(r).toMatchObject({ key: 'already_rolled_back', resource_type: 'redemption_rollback' });
      expect(await outbox('redemption.rollback.failed', r.resource_id)).toHaveLength(1);
    }
    expect(await summary('rbf-race')).toMatchObject({ total_rolled_back: 1, total_rollback_succeeded: 1, total_rollback_failed: 2 });
    expect((await ok(api('GET', '/v1/vouchers/RBF-RACE'))).redemption.redeemed_quantity).toBe(0);
  });
});

describe('retention', () => {
  it("a client key's guest redemption deleted by the retention takes its rollback and failed rollbacks with it", async () => {
    await voucher('RBF-GUEST');
    const guest = await ok(api('POST', '/v1/vouchers/RBF-GUEST/redemption', { order: { amount: 1000 } }));
    // As if the client key had made it (migration 0024): the retention deletes only those.
    await db.prepare("UPDATE redemptions SET key_class = 'client' WHERE id = ?").bind(guest.id).run();
    const rolledBack = await ok(rollback(guest.id));
    const refused = await ok(rollback(guest.id), 400);
    const named = () =>
      db
        .prepare('SELECT count(*) AS n FROM redemptions WHERE id IN (?1, ?2, ?3)')
        .bind(guest.id, rolledBack.id, refused.resource_id)
        .first<{ n: number }>();
    expect((await named())?.n).toBe(3);
    await deleteExpiredClientRedemptions(db, Date.now() + 1_000, 100);
    expect((await named())?.n).toBe(0);
  });
});

describe('refusals that store nothing', () => {
  it('an unknown redemption id stays a 404 and writes nothing', async () => {
    const rows = await count('redemptions');
    const events = await count('webhook_outbox');
    const res = await rollback('r_no_such_redemption');
    expect(res.status).toBe(404);
    expect(await json(res)).toMatchObject({ key: 'not_found', resource_type: 'redemption' });
    expect(await count('redemptions')).toBe(rows);
    expect(await count('webhook_outbox')).toBe(events);
  });

  it("a stacked child, a stacked parent on /rollback, a failed redemption: refused as before, no failure stored (the spec's examples name no resource, OA24:L65075-L65091)", async () => {
    await voucher('RBF-N1');
    await voucher('RBF-N2');
    await voucher('RBF-OFF', { active: false });
    const stack = await ok(
      api('POST', '/v1/redemptions', {
        redeemables: [
          { object: 'voucher', id: 'RBF-N1' },
          { object: 'voucher', id: 'RBF-N2' },
        ],
        customer: { source_id: 'rbf-n' },
        order: { amount: 3000 },
      }),
    );
    const failed = await ok(
      api('POST', '/v1/vouchers/RBF-OFF/redemption', { customer: { source_id: 'rbf-n' }, order: { amount: 1000 } }),
      400,
    );
    const rows = await count('redemptions');
    const events = await count('webhook_outbox');
    const child = await ok(rollback(stack.redemptions[0].id), 400);
    const parent = await ok(rollback(stack.parent_redemption.id), 400);
    const notSucceeded = await ok(rollback(failed.resource_id), 400);
    expect([child.key, parent.key, notSucceeded.key]).toEqual([
      'invalid_redemption_parent',
      'invalid_redemption',
      'invalid_rollback_params',
    ]);
    for (const r of [child, parent]) expect(r).not.toHaveProperty('resource_id');
    expect(await count('redemptions')).toBe(rows);
    expect(await count('webhook_outbox')).toBe(events);
    expect((await summary('rbf-n')).total_rollback_failed).toBe(0);
  });
});
