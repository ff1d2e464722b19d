import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { WRITABLE_FIELDS } from '../../shared/customer-fields';
import { WEBHOOK_EVENT_TYPES } from '../../shared/webhook-events';
import { api, call, CLIENT_HEADERS, json, SERVER_HEADERS, settled, ok } from './helpers';

// Migration 0022: the triggers that fill the webhook outbox (migration 0020). What is checked here is
// the contract with the delivery engine: each event appears exactly once per committed write, about
// the right object, whatever path wrote it, and never for a write that did not commit.

type Json = Record<string, any>;
interface Event {
  seq: number;
  type: string;
  object_id: string;
}

const db = env.DB;

/** Events written after `since` (a seq), in order. */
async function eventsSince(since: number): Promise<Event[]> {
  const { results } = await db
    .prepare('SELECT seq, type, object_id FROM webhook_outbox WHERE seq > ? ORDER BY seq')
    .bind(since)
    .all<Event>();
  return results;
}

const lastSeq = async () =>
  (await db.prepare('SELECT coalesce(max(seq), 0) AS seq FROM webhook_outbox').first<{ seq: number }>())?.seq ?? 0;

/** Runs `write` and returns the events it caused, as [type, object_id] pairs. */
async function eventsOf(write: () => Promise<unknown>): Promise<[string, string][]> {
  const since = await lastSeq();
  await write();
  return (await eventsSince(since)).map((e) => [e.type, e.object_id]);
}

/**
 * An endpoint row as the endpoints API stores it, subscribed to every type but async_action.done
 * (webhooks.test.ts covers that one): each trigger records its type only while an enabled endpoint
 * subscribes to it (what is recorded without a subscription: webhook-erasure.test.ts).
 */
async function endpoint(id: string, enabled: boolean): Promise<void> {
  await db
    .prepare(
      `INSERT INTO webhook_endpoints (id, url, events, secret, enabled, created_at) VALUES (?, 'https://hooks.example/in', ?, 'whsec_dGVzdA==', ?, ?)
              ON CONFLICT (id) DO UPDATE SET enabled = excluded.enabled`,
    )
    .bind(id, JSON.stringify(WEBHOOK_EVENT_TYPES.filter((t) => t !== 'async_action.done')), enabled ? 1 : 0, Date.now())
    .run();
}

const customerId = async (sourceId: string) => (await ok(api('GET', `/v1/customers/${sourceId}`))).id as string;

describe('without an enabled endpoint', () => {
  it('writes no outbox row for any write: a project without webhooks pays nothing', async () => {
    await endpoint('wh_off', false);
    const events = await eventsOf(async () => {
      await ok(api('POST', '/v1/customers', { source_id: 'quiet-1', name: 'Q' }));
      await ok(api('PUT', '/v1/customers/quiet-1', { name: 'Quiet' }));
      await ok(api('POST', '/v1/vouchers/QUIET', { discount: { type: 'AMOUNT', amount_off: 100 } }));
      await ok(api('POST', '/v1/vouchers/QUIET/redemption', { customer: { source_id: 'quiet-1' }, order: { amount: 1000 } }));
      expect((await api('DELETE', '/v1/customers/quiet-1')).status).toBe(204);
    });
    expect(events).toEqual([]);
    expect(await db.prepare('SELECT count(*) AS n FROM webhook_outbox').first()).toEqual({ n: 0 });
  });
});

describe('with an enabled endpoint', () => {
  beforeAll(async () => {
    await endpoint('wh_on', true);
  });

  it('customer.created, .updated and .deleted through the customers API, once each, about the customer', async () => {
    let id = '';
    expect(await eventsOf(async () => (id = (await ok(api('POST', '/v1/customers', { source_id: 'wh-c1', name: 'Ada' }))).id))).toEqual([
      ['customer.created', id],
    ]);
    expect(await eventsOf(() => ok(api('PUT', `/v1/customers/${id}`, { email: 'ada@example.com', address: { city: 'London' } })))).toEqual([
      ['customer.updated', id],
    ]);
    // The same values again: written, but nothing changed, so no event.
    expect(await eventsOf(() => ok(api('PUT', `/v1/customers/${id}`, { email: 'ada@example.com', name: 'Ada' })))).toEqual([]);
    // An upsert by source_id that changes a field is an update, not a creation.
    expect(await eventsOf(() => ok(api('POST', '/v1/customers', { source_id: 'wh-c1', phone: '+44 1' })))).toEqual([
      ['customer.updated', id],
    ]);
    expect(await eventsOf(() => ok(api('PUT', `/v1/customers/${id}`, { metadata: { tier: 'gold' } })))).toEqual([['customer.updated', id]]);
    expect(await eventsOf(async () => expect((await api('DELETE', `/v1/customers/${id}`)).status).toBe(204))).toEqual([
      ['customer.deleted', id],
    ]);
  });

  it('a refused write (400) leaves no event', async () => {
    expect(
      await eventsOf(async () => {
        expect((await api('POST', '/v1/customers', { source_id: 'wh-bad', email: 'not an address' })).status).toBe(400);
        expect((await api('POST', '/v1/vouchers/WH-BAD', { discount: { type: 'PERCENT', percent_off: 500 } })).status).toBe(400);
      }),
    ).toEqual([]);
  });

  it('a batch that rolls back takes its events with it', async () => {
    const events = await eventsOf(async () => {
      await expect(
        db.batch([
          db.prepare("INSERT INTO customers (id, source_id, created_at) VALUES ('cust_rolledback', 'wh-rb', 1)"),
          db.prepare("INSERT INTO vouchers (id, code, discount, created_at) VALUES ('v_rolledback', 'WH-RB', '{}', 1)"),
          // Fails (CHECK json_valid): the whole batch, and the two events its triggers wrote, roll back.
          db.prepare("INSERT INTO customers (id, metadata, created_at) VALUES ('cust_rolledback2', 'not json', 2)"),
        ]),
      ).rejects.toThrow();
    });
    expect(events).toEqual([]);
    expect(await db.prepare("SELECT count(*) AS n FROM customers WHERE id = 'cust_rolledback'").first()).toEqual({ n: 0 });
  });

  it('permanent deletion fires customer.deleted', async () => {
    const { id } = await ok(api('POST', '/v1/customers', { source_id: 'wh-forget' }));
    expect(await eventsOf(() => ok(api('POST', `/v1/customers/${id}/permanent-deletion`)))).toEqual([['customer.deleted', id]]);
  });

  it('customers bulk/async: created for the new, updated for the changed, nothing for the unchanged', async () => {
    await ok(api('POST', '/v1/customers', { source_id: 'wh-b1', name: 'B1' }));
    await ok(api('POST', '/v1/customers', { source_id: 'wh-b2', name: 'B2' }));
    const events = await eventsOf(() =>
      ok(
        api('POST', '/v1/customers/bulk/async', [
          { source_id: 'wh-b1', name: 'B1 renamed' },
          { source_id: 'wh-b2', name: 'B2' },
          { source_id: 'wh-b3', name: 'B3' },
        ]),
        202,
      ),
    );
    expect(events).toEqual([
      ['customer.updated', await customerId('wh-b1')],
      ['customer.created', await customerId('wh-b3')],
    ]);
  });

  it('metadata bulk: updated for each customer whose metadata changed, created for an upserted unknown source id', async () => {
    await ok(api('POST', '/v1/customers', { source_id: 'wh-m1', metadata: { vip: false } }));
    await ok(api('POST', '/v1/customers', { source_id: 'wh-m2', metadata: { vip: true } }));
    const events = await eventsOf(() =>
      ok(api('POST', '/v1/customers/metadata/async', { source_ids: ['wh-m1', 'wh-m2', 'wh-m3'], metadata: { vip: true } }), 202),
    );
    expect(events.sort()).toEqual(
      [
        ['customer.updated', await customerId('wh-m1')],
        ['customer.created', await customerId('wh-m3')],
      ].sort(),
    );
  });

  it('a CSV import through the WRITES queue: created per new row, updated per changed row, nothing for a row that repeats the stored values', async () => {
    const importCsv = async (csv: string) => {
      const form = new FormData();
      form.append('file', new Blob([csv], { type: 'text/csv' }), 'customers.csv');
      const { async_action_id } = await ok(call('/v1/customers/importCSV', { method: 'POST', headers: SERVER_HEADERS, body: form }), 202);
      for (let i = 0; ; i++) {
        const action = await ok(api('GET', `/v1/async-actions/${async_action_id}`));
        if (action.status !== 'IN_PROGRESS') return action;
        if (i > 600) throw new Error('import did not finish');
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const first = await eventsOf(() => importCsv('source_id,name\nwh-csv-1,One\nwh-csv-2,Two\nwh-csv-3,Three\n'));
    const ids = await Promise.all(['wh-csv-1', 'wh-csv-2', 'wh-csv-3'].map(customerId));
    expect(first.sort()).toEqual(ids.map((id) => ['customer.created', id]).sort());
    const second = await eventsOf(() => importCsv('source_id,name\nwh-csv-1,One\nwh-csv-2,Two again\n'));
    expect(second).toEqual([['customer.updated', ids[1]]]);
  });

  it('customer.segment.entered and .left when an event moves a customer into an auto-update segment and out, through the WRITES consumer', async () => {
    const seg = await ok(
      api('POST', '/v1/segments', { name: 'wh gold', type: 'auto-update', filter: { 'metadata.tier': { conditions: { $is: ['gold'] } } } }),
    );
    const { id } = await ok(api('POST', '/v1/customers', { source_id: 'wh-seg' }));
    const track = (tier: string) =>
      ok(api('POST', '/v1/events', { event: 'tiered', customer: { source_id: 'wh-seg', metadata: { tier } } })).then(() => settled());
    expect(await eventsOf(() => track('gold'))).toEqual([
      ['customer.updated', id],
      ['customer.segment.entered', id],
    ]);
    // Still gold: the event is recorded, nothing about the customer changed.
    expect(await eventsOf(() => track('gold'))).toEqual([]);
    expect(await eventsOf(() => track('silver'))).toEqual([
      ['customer.updated', id],
      ['customer.segment.left', id],
    ]);
    const { segment } = JSON.parse(
      (
        await db
          .prepare("SELECT snapshot FROM webhook_outbox WHERE type = 'customer.segment.left' AND object_id = ?")
          .bind(id)
          .first<{ snapshot: string }>()
      )?.snapshot ?? '{}',
    );
    expect(segment).toEqual({ id: seg.id, name: 'wh gold' });
  });

  it('a redemption: redemption.succeeded, customer.created for a new customer, and no customer.updated or voucher.updated for its counters', async () => {
    const voucher = await ok(
      api('POST', '/v1/vouchers/WH-R1', { discount: { type: 'AMOUNT', amount_off: 100 }, redemption: { quantity: 10 } }),
    );
    let redemption: Json = {};
    const events = await eventsOf(
      async () =>
        (redemption = await ok(
          api('POST', '/v1/vouchers/WH-R1/redemption', { customer: { source_id: 'wh-r1' }, order: { amount: 1000 } }),
        )),
    );
    expect(events).toEqual([
      ['customer.created', redemption.customer_id],
      ['redemption.succeeded', redemption.id],
    ]);
    // A second redemption by the same customer: summary.* and redeemed_quantity move, the customer
    // and the voucher a user sees (its terms) do not.
    let second: Json = {};
    expect(
      await eventsOf(
        async () =>
          (second = await ok(api('POST', '/v1/vouchers/WH-R1/redemption', { customer: { source_id: 'wh-r1' }, order: { amount: 500 } }))),
      ),
    ).toEqual([['redemption.succeeded', second.id]]);
    expect((await ok(api('GET', '/v1/vouchers/WH-R1'))).redemption.redeemed_quantity).toBe(2);
    // The rollback: redemption.rollback.succeeded about the rollback (rr_), no counter event.
    let rollback: Json = {};
    expect(await eventsOf(async () => (rollback = await ok(api('POST', `/v1/redemptions/${second.id}/rollback`, {}))))).toEqual([
      ['redemption.rollback.succeeded', rollback.id],
    ]);
    expect(rollback.id).toMatch(/^rr_/);
    expect(voucher.code).toBe('WH-R1');
  });

  it('concurrent rollbacks of one redemption: one rollback and its event, each refusal stored as a failed rollback with its own event, the unit given back once', async () => {
    await ok(api('POST', '/v1/vouchers/WH-RR', { discount: { type: 'AMOUNT', amount_off: 100 }, redemption: { quantity: 1 } }));
    const redemption = await ok(
      api('POST', '/v1/vouchers/WH-RR/redemption', { customer: { source_id: 'wh-rr' }, order: { amount: 1000 } }),
    );
    const since = await lastSeq();
    const answers = await Promise.all([1, 2, 3].map(() => api('POST', `/v1/redemptions/${redemption.id}/rollback`, {})));
    expect(answers.map((r) => r.status).sort()).toEqual([200, 400, 400]);
    const failures: string[] = [];
    for (const refused of answers.filter((r) => r.status === 400)) {
      const body = await json(refused);
      expect(body.key).toBe('already_rolled_back');
      failures.push(body.resource_id);
    }
    const rollback = (await db.prepare('SELECT id FROM redemptions WHERE rollback_of = ?').bind(redemption.id).first<{ id: string }>())?.id;
    const events = (await eventsSince(since)).map((e) => [e.type, e.object_id]);
    expect(events.filter(([type]) => type === 'redemption.rollback.succeeded')).toEqual([['redemption.rollback.succeeded', rollback]]);
    expect(
      events
        .filter(([type]) => type === 'redemption.rollback.failed')
        .map(([, id]) => id)
        .sort(),
    ).toEqual(failures.sort());
    expect(events).toHaveLength(3);
    expect((await ok(api('GET', '/v1/vouchers/WH-RR'))).redemption.redeemed_quantity).toBe(0);
  });

  it('redemption.failed for a refused redemption and for an unknown code', async () => {
    await ok(api('POST', '/v1/vouchers/WH-FAIL', { discount: { type: 'AMOUNT', amount_off: 100 }, active: false }));
    await ok(api('POST', '/v1/customers', { source_id: 'wh-fail' }));
    const refused = await eventsOf(async () =>
      expect((await api('POST', '/v1/vouchers/WH-FAIL/redemption', { customer: { source_id: 'wh-fail' } })).status).toBe(400),
    );
    const unknown = await eventsOf(async () => expect((await api('POST', '/v1/vouchers/WH-NOPE/redemption', {})).status).toBe(404));
    const failed = (
      await db
        .prepare("SELECT id, code FROM redemptions WHERE result = 'FAILURE' AND code IN ('WH-FAIL', 'WH-NOPE') ORDER BY code")
        .all<{ id: string; code: string }>()
    ).results;
    expect(failed).toHaveLength(2);
    expect(refused).toEqual([['redemption.failed', failed.find((r) => r.code === 'WH-FAIL')?.id]]);
    expect(unknown).toEqual([['redemption.failed', failed.find((r) => r.code === 'WH-NOPE')?.id]]);
  });

  it('a stacked redemption and its rollback: one event per redeemed voucher, none for the parent that groups them', async () => {
    await ok(api('POST', '/v1/vouchers/WH-S1', { discount: { type: 'AMOUNT', amount_off: 100 } }));
    await ok(api('POST', '/v1/vouchers/WH-S2', { discount: { type: 'AMOUNT', amount_off: 200 } }));
    await ok(api('POST', '/v1/customers', { source_id: 'wh-s' }));
    let stack: Json = {};
    const events = await eventsOf(async () => {
      stack = await ok(
        api('POST', '/v1/redemptions', {
          redeemables: [
            { object: 'voucher', id: 'WH-S1' },
            { object: 'voucher', id: 'WH-S2' },
          ],
          customer: { source_id: 'wh-s' },
          order: { amount: 3000 },
        }),
      );
    });
    expect(events).toEqual(stack.redemptions.map((r: Json) => ['redemption.succeeded', r.id]));
    let rolled: Json = {};
    const rollbackEvents = await eventsOf(
      async () => (rolled = await ok(api('POST', `/v1/redemptions/${stack.parent_redemption.id}/rollbacks`, {}))),
    );
    expect(rollbackEvents).toEqual(rolled.rollbacks.map((r: Json) => ['redemption.rollback.succeeded', r.id]));
  });

  it('concurrent redemptions refused by the redeem guard: an event for each committed row, none for the batches that rolled back', async () => {
    await ok(api('POST', '/v1/vouchers/WH-ONCE', { discount: { type: 'AMOUNT', amount_off: 100 } }));
    const rule = await ok(
      api('POST', '/v1/validation-rules', {
        name: 'wh once',
        rules: { '1': { name: 'redemption.count.per_customer', conditions: { $less_than_or_equal: [1] } }, logic: '1' },
      }),
    );
    await ok(api('POST', `/v1/validation-rules/${rule.id}/assignments`, { related_object_type: 'voucher', related_object_id: 'WH-ONCE' }));
    await ok(api('POST', '/v1/customers', { source_id: 'wh-once' }));
    const since = await lastSeq();
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        api('POST', '/v1/vouchers/WH-ONCE/redemption', { customer: { source_id: 'wh-once' }, order: { amount: 1000 } }),
      ),
    );
    expect(answers.filter((r) => r.status === 200)).toHaveLength(1);
    const rows = (await db.prepare("SELECT id, result FROM redemptions WHERE code = 'WH-ONCE'").all<{ id: string; result: string }>())
      .results;
    const events = await eventsSince(since);
    expect(events.map((e) => [e.type, e.object_id]).sort()).toEqual(
      rows.map((r) => [r.result === 'SUCCESS' ? 'redemption.succeeded' : 'redemption.failed', r.id]).sort(),
    );
    expect(events.filter((e) => e.type === 'redemption.succeeded')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'redemption.failed')).toHaveLength(5);
  });

  it('voucher.created, .updated (terms), .disabled, .enabled and .deleted; none for an update that changes nothing', async () => {
    let voucher: Json = {};
    expect(
      await eventsOf(
        async () =>
          (voucher = await ok(api('POST', '/v1/vouchers/WH-V1', { discount: { type: 'AMOUNT', amount_off: 100 }, metadata: { a: 1 } }))),
      ),
    ).toEqual([['voucher.created', voucher.id]]);
    expect(await eventsOf(() => ok(api('PUT', '/v1/vouchers/WH-V1', { metadata: { a: 2 } })))).toEqual([['voucher.updated', voucher.id]]);
    expect(await eventsOf(() => ok(api('PUT', '/v1/vouchers/WH-V1', { metadata: { a: 2 } })))).toEqual([]);
    // The flip of `active` is voucher.disabled / .enabled (OpenAPIWebhooks.json EVENTS.VOUCHER.DISABLED
    // L18121, ENABLED L18236), once per flip, and no longer voucher.updated.
    expect(await eventsOf(() => ok(api('POST', '/v1/vouchers/WH-V1/disable')))).toEqual([['voucher.disabled', voucher.id]]);
    expect(await eventsOf(() => ok(api('POST', '/v1/vouchers/WH-V1/disable')))).toEqual([]);
    expect(await eventsOf(() => ok(api('POST', '/v1/vouchers/WH-V1/enable')))).toEqual([['voucher.enabled', voucher.id]]);
    // One write that changes a term and the flag: each event once.
    expect((await eventsOf(() => ok(api('PUT', '/v1/vouchers/WH-V1', { metadata: { a: 3 }, active: false })))).sort()).toEqual([
      ['voucher.disabled', voucher.id],
      ['voucher.updated', voucher.id],
    ]);
    expect(await eventsOf(async () => expect((await api('DELETE', '/v1/vouchers/WH-V1')).status).toBe(204))).toEqual([
      ['voucher.deleted', voucher.id],
    ]);
  });

  it('a campaign: campaign.created and voucher.created per generated code (through the queue), a publication, campaign.updated and voucher.updated per code a campaign update writes through, campaign.deleted and voucher.deleted per code of a deleted campaign', async () => {
    await ok(api('POST', '/v1/customers', { source_id: 'wh-holder' }));
    const since = await lastSeq();
    const campaign = await ok(
      api('POST', '/v1/campaigns', {
        name: 'wh codes',
        campaign_type: 'DISCOUNT_COUPONS',
        vouchers_count: 25,
        voucher: { type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 100 }, code_config: { length: 8 } },
      }),
    );
    for (let i = 0; (await ok(api('GET', `/v1/campaigns/${campaign.id}`))).vouchers_generation_status === 'IN_PROGRESS'; i++) {
      if (i > 600) throw new Error('generation did not finish');
      await new Promise((r) => setTimeout(r, 50));
    }
    const codes = (await db.prepare('SELECT id FROM vouchers WHERE campaign_id = ?').bind(campaign.id).all<{ id: string }>()).results.map(
      (r) => r.id,
    );
    expect(codes).toHaveLength(25);
    const created = await eventsSince(since);
    expect(created.map((e) => [e.type, e.object_id]).sort()).toEqual(
      [['campaign.created', campaign.id], ...codes.map((id) => ['voucher.created', id])].sort(),
    );

    // A publication hands a code to a customer: voucher.published and publication.succeeded, no voucher.updated.
    let publication: Json = {};
    const published = await eventsOf(
      async () => (publication = await ok(api('POST', '/v1/publications', { campaign: 'wh codes', customer: { source_id: 'wh-holder' } }))),
    );
    expect(published.sort()).toEqual([
      ['publication.succeeded', publication.id],
      ['voucher.published', publication.voucher.id],
    ]);
    // join_once: the same publication answered again writes nothing, so sends nothing.
    expect(
      await eventsOf(() =>
        ok(api('POST', '/v1/publications?join_once=true', { campaign: 'wh codes', customer: { source_id: 'wh-holder' } })),
      ),
    ).toEqual([]);

    const updated = await eventsOf(() => ok(api('PUT', `/v1/campaigns/${campaign.id}`, { expiration_date: '2099-01-01T00:00:00.000Z' })));
    expect(updated.sort()).toEqual([['campaign.updated', campaign.id], ...codes.map((id) => ['voucher.updated', id])].sort());
    const deleted = await eventsOf(() => ok(api('DELETE', `/v1/campaigns/${campaign.id}`), 202));
    expect(deleted.sort()).toEqual([['campaign.deleted', campaign.id], ...codes.map((id) => ['voucher.deleted', id])].sort());
  });

  it('campaign.enabled and .disabled: once per flip of the campaign, none for a write that flips nothing nor for its codes', async () => {
    const campaign = await ok(
      api('POST', '/v1/campaigns', {
        name: 'wh switch',
        campaign_type: 'DISCOUNT_COUPONS',
        voucher: { type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 100 } },
      }),
    );
    await ok(api('POST', `/v1/campaigns/${campaign.id}/vouchers/WH-SW1`, {}));
    // Whatever route flips it (the campaign's enable / disable, a PUT), the trigger on campaigns.active fires.
    const flip = (active: number) =>
      eventsOf(() => db.prepare('UPDATE campaigns SET active = ? WHERE id = ?').bind(active, campaign.id).run());
    expect(await flip(0)).toEqual([['campaign.disabled', campaign.id]]);
    expect(await flip(0)).toEqual([]);
    expect(await flip(1)).toEqual([['campaign.enabled', campaign.id]]);
    expect(await eventsOf(() => ok(api('PUT', `/v1/campaigns/${campaign.id}`, { description: 'same flag' })))).toEqual([
      ['campaign.updated', campaign.id],
    ]);
  });

  it('business_validation_rule.created, .updated and .deleted, once each; none for an update that changes nothing', async () => {
    let rule: Json = {};
    expect(
      await eventsOf(
        async () =>
          (rule = await ok(
            api('POST', '/v1/validation-rules', {
              name: 'wh rule',
              rules: { '1': { name: 'order.amount', conditions: { $more_than: [1000] } }, logic: '1' },
            }),
          )),
      ),
    ).toEqual([['business_validation_rule.created', rule.id]]);
    expect(await eventsOf(() => ok(api('PUT', `/v1/validation-rules/${rule.id}`, { name: 'wh rule 2' })))).toEqual([
      ['business_validation_rule.updated', rule.id],
    ]);
    expect(await eventsOf(() => ok(api('PUT', `/v1/validation-rules/${rule.id}`, { name: 'wh rule 2' })))).toEqual([]);
    expect(await eventsOf(async () => expect((await api('DELETE', `/v1/validation-rules/${rule.id}`)).status).toBe(204))).toEqual([
      ['business_validation_rule.deleted', rule.id],
    ]);
  });

  it('a refused write of a campaign, a rule or a publication leaves no event', async () => {
    await ok(api('POST', '/v1/vouchers/WH-TAKEN', { discount: { type: 'AMOUNT', amount_off: 100 } }));
    await ok(api('POST', '/v1/publications', { voucher: 'WH-TAKEN', customer: { source_id: 'wh-first' } }));
    await ok(api('POST', '/v1/customers', { source_id: 'wh-second' }));
    expect(
      await eventsOf(async () => {
        // Held by another customer: 400 voucher_already_published, nothing written.
        expect((await api('POST', '/v1/publications', { voucher: 'WH-TAKEN', customer: { source_id: 'wh-second' } })).status).toBe(400);
        expect((await api('POST', '/v1/campaigns', { name: '', campaign_type: 'DISCOUNT_COUPONS' })).status).toBe(400);
        expect((await api('POST', '/v1/validation-rules', { name: 'wh bad', rules: { logic: '1' } })).status).toBe(400);
      }),
    ).toEqual([]);
  });

  it('validate and track record nothing here: a tracking touch and a custom event are no customer change', async () => {
    await ok(api('POST', '/v1/vouchers/WH-HOT', { discount: { type: 'AMOUNT', amount_off: 100 } }));
    await ok(api('POST', '/v1/customers', { source_id: 'wh-hot' }));
    const events = await eventsOf(async () => {
      await ok(call('/client/v1/validate?code=WH-HOT&amount=5000&tracking_id=track_WebhookWebhookWebho00', { headers: CLIENT_HEADERS }));
      await ok(api('POST', '/v1/events', { event: 'viewed', customer: { source_id: 'wh-hot' } }));
      await settled();
    });
    expect(events).toEqual([]);
  });
});

describe('the snapshot views and the update triggers follow the tables and the catalogue', () => {
  const columns = async (table: string) =>
    (await db.prepare('SELECT name FROM pragma_table_xinfo(?) ORDER BY cid').bind(table).all<{ name: string }>()).results.map(
      (r) => r.name,
    );
  const viewSql = async (name: string) =>
    (await db.prepare('SELECT sql FROM sqlite_master WHERE name = ?').bind(name).first<{ sql: string }>())?.sql ?? '';
  const keysIn = (sql: string) => [...sql.matchAll(/'([a-z_0-9]+)', \1\b/g)].map((m) => m[1]);

  it.each([
    ['customers', 'webhook_customer_rows'],
    ['vouchers', 'webhook_voucher_rows'],
    ['redemptions', 'webhook_redemption_rows'],
    ['campaigns', 'webhook_campaign_rows'],
    ['validation_rules', 'webhook_rule_rows'],
    ['publications', 'webhook_publication_rows'],
  ])('%s: the snapshot view holds every column (a migration that adds one must add it to %s)', async (table, view) => {
    expect(keysIn(await viewSql(view)).sort()).toEqual((await columns(table)).sort());
  });

  it('customer.updated fires on exactly the writable fields of the catalogue and metadata', async () => {
    const sql = await viewSql('webhook_customer_updated');
    const updateOf =
      /AFTER UPDATE OF ([\s\S]+?) ON customers/
        .exec(sql)?.[1]
        ?.split(',')
        .map((c) => c.trim()) ?? [];
    const expected = [...WRITABLE_FIELDS.map((f) => f.column), 'metadata'];
    expect(updateOf.sort()).toEqual([...expected].sort());
    // Each listed column is compared old to new in the WHEN clause.
    for (const column of expected)
      expect(sql).toMatch(new RegExp(`OLD\\.${column} IS NOT NEW\\.${column}|json\\(OLD\\.${column}\\) IS NOT json\\(NEW\\.${column}\\)`));
  });
});
