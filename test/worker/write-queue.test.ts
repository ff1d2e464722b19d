/**
 * The WRITES queue's consumer (the hot path records off the request's path): what validate and track record is written at least once
 * by worker/src/consumers/writes.ts; these drive its queue() handler with the pool's queue helpers
 * (createMessageBatch, getQueueResult) and through the real local queue.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../worker/src/env';
import worker from '../../worker/src/index';
import { DEAD_LETTER_QUEUE, WRITES_QUEUE, type WriteMessage } from '../../worker/src/queue/messages';
import { CLIENT_HEADERS, SERVER_HEADERS, api, call, json, settled } from './helpers';

let delivery = 0;

/** Delivers `bodies` to the consumer as one batch; resolves to which were acked and which retried. */
async function deliver(bodies: unknown[], queue = WRITES_QUEUE) {
  const batch = createMessageBatch(
    queue,
    bodies.map((body, i) => ({ id: `delivery-${++delivery}-${i}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  // The handler takes (batch, env); getQueueResult reads the acks and retries off the batch.
  await worker.queue(batch, env as unknown as Env);
  const result = await getQueueResult(batch, ctx);
  const ids = batch.messages.map((m) => m.id);
  return {
    acked: ids.filter((id) => result.explicitAcks.includes(id) || result.ackAll),
    retried: ids.filter((id) => result.retryMessages.some((r: { msgId: string }) => r.msgId === id)),
    ids,
  };
}

const first = async <T>(sql: string, ...params: unknown[]) =>
  (await env.DB.prepare(sql)
    .bind(...params)
    .first<T>()) as T;

const profileEvent = (id: string, trackingId: string, type = 'viewed'): WriteMessage => ({
  kind: 'profile_event',
  id,
  at: Date.now(),
  tracking_id: trackingId,
  identity_hmac: null,
  event: { id: `evcus_${id}`, type, metadata: {} },
  cap: null,
});

const attempt = (id: string, trackingId: string, code: unknown = 'ANY'): WriteMessage =>
  ({
    kind: 'validation',
    id,
    at: Date.now(),
    tracking_id: trackingId,
    customer_ref: null,
    identity_hmac: null,
    amount: 100,
    attempts: [{ id: `valid_${id}`, code, result: 'INVALID', reason: 'not_found' }],
  }) as WriteMessage;

describe('the write queue consumer', () => {
  it('applies a message delivered twice once, in one batch or in two', async () => {
    const tid = 'track_TwiceTwiceTwiceTwice00';
    const m = attempt('valmsg_twice', tid);
    const once = await deliver([m, m]);
    expect(once.acked).toEqual(once.ids);
    const again = await deliver([m]);
    expect(again.acked).toEqual(again.ids);
    expect(await first('SELECT validations_count AS n FROM tracking_profiles WHERE id = ?', tid)).toEqual({ n: 1 });
    expect(await first('SELECT count(*) AS n FROM validations WHERE tracking_id = ?', tid)).toEqual({ n: 1 });

    const e = profileEvent('evmsg_twice', tid);
    await Promise.all([deliver([e]), deliver([e])]);
    expect(await first('SELECT count(*) AS n FROM events WHERE profile_id = ?', tid)).toEqual({ n: 1 });
  });

  it('retries a poison message alone, with nothing of it written, and writes the rest of its batch', async () => {
    const tid = 'track_PoisonPoisonPoison000';
    // A code that is no string breaks the validations row (code NOT NULL): the whole message rolls
    // back, the profile touch before it included.
    const poison = attempt('valmsg_poison', tid, null);
    const good = profileEvent('evmsg_beside_poison', 'track_BesidePoisonBeside00');
    const unknown = { kind: 'no_such_kind', id: 'x', at: 1 };
    const result = await deliver([poison, good, unknown]);
    expect(result.acked).toEqual([result.ids[1]]);
    expect(result.retried).toEqual([result.ids[0], result.ids[2]]);
    expect(await first('SELECT count(*) AS n FROM tracking_profiles WHERE id = ?', tid)).toEqual({ n: 0 });
    expect(await first('SELECT count(*) AS n FROM applied_messages WHERE id = ?', 'valmsg_poison')).toEqual({ n: 0 });
    expect(await first('SELECT count(*) AS n FROM events WHERE profile_id = ?', 'track_BesidePoisonBeside00')).toEqual({ n: 1 });
  });

  it('keeps what reached the dead-letter queue for an operator', async () => {
    const result = await deliver([{ kind: 'no_such_kind', id: 'gone', at: 1 }], DEAD_LETTER_QUEUE);
    expect(result.acked).toEqual(result.ids);
    const row = await first<{ kind: string | null; body: string }>('SELECT kind, body FROM dead_letters WHERE id = ?', result.ids[0]);
    expect(row).toEqual({ kind: null, body: '{"kind":"no_such_kind","id":"gone","at":1}' });
  });

  it('a dead-lettered job says so on the work it belonged to: an import and a code generation fail, a segment walk is only kept', async () => {
    const form = new FormData();
    form.append('file', new Blob(['Source_id,Name\ndlq-import-1,Ada\n'], { type: 'text/csv' }), 'customers.csv');
    const imported = await json(await call('/v1/customers/importCSV', { method: 'POST', headers: SERVER_HEADERS, body: form }));
    const campaign = await json(
      await api('POST', '/v1/campaigns', {
        name: 'dlq generation',
        campaign_type: 'DISCOUNT_COUPONS',
        vouchers_count: 3,
        voucher: { type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 100 } },
      }),
    );
    await settled();
    // Both finished; put them back in progress, as when their message gave up past its retries.
    await env.DB.prepare(`UPDATE async_actions SET status = 'IN_PROGRESS' WHERE id = ?`).bind(imported.async_action_id).run();
    await env.DB.prepare(`UPDATE campaigns SET generation_status = 'IN_PROGRESS' WHERE id = ?`).bind(campaign.id).run();
    const result = await deliver(
      [
        { kind: 'import_chunk', id: 'dlq-chunk', at: 1, action_id: imported.async_action_id, rows: [] },
        { kind: 'campaign_codes', id: 'dlq-codes', at: 1, campaign_id: campaign.id },
        { kind: 'segment_sync', id: 'dlq-walk', at: 1, segment_id: 'seg_none' },
      ],
      DEAD_LETTER_QUEUE,
    );
    expect(result.acked).toEqual(result.ids);
    expect(await json(await api('GET', `/v1/async-actions/${imported.async_action_id}`))).toMatchObject({ status: 'FAILED' });
    expect(await json(await api('GET', `/v1/campaigns/${campaign.id}`))).toMatchObject({ vouchers_generation_status: 'FAILED' });
    expect(
      await first('SELECT count(*) AS n FROM dead_letters WHERE kind IN (?, ?, ?)', 'import_chunk', 'campaign_codes', 'segment_sync'),
    ).toEqual({ n: 3 });
  });

  it('moves a poison message sent through the real queue to the dead-letter queue after its retries', async () => {
    await env.WRITES.send({ kind: 'poisoned_on_purpose', id: 'dlq-1', at: 1 } as unknown as WriteMessage, { contentType: 'json' });
    // wrangler.toml: max_retries = 5, one delivery about every second: bounded wait.
    const deadline = Date.now() + 60_000;
    let row: { body: string; attempts: number } | null = null;
    while (!row && Date.now() < deadline) {
      row = await env.DB.prepare("SELECT body, attempts FROM dead_letters WHERE body LIKE '%dlq-1%'").first();
      if (!row) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(row?.body).toBe('{"kind":"poisoned_on_purpose","id":"dlq-1","at":1}');
  }, 70_000);

  it('records segment entered/left exactly once when a customer event is delivered again, even concurrently', async () => {
    const seg = await json(
      await api('POST', '/v1/segments', {
        name: 'once buyers',
        type: 'auto-update',
        filter: { 'events.bought.count': { conditions: { $more_than_equal: [1] } } },
      }),
    );
    const customer = await json(await api('POST', '/v1/customers', { source_id: 'once-1' }));
    const message: WriteMessage = {
      kind: 'customer_event',
      id: 'evmsg_once',
      at: Date.now(),
      customer: { id: customer.id },
      event: { id: 'evcus_once', type: 'bought', metadata: {} },
    };
    await Promise.all([deliver([message]), deliver([message]), deliver([message, message])]);
    await deliver([message]);
    const entered = await first<{ n: number }>(
      "SELECT count(*) AS n FROM events WHERE profile_id = ? AND type = 'customer.segment.entered'",
      customer.id,
    );
    expect(entered.n).toBe(1);
    expect(await first('SELECT count(*) AS n FROM events WHERE profile_id = ? AND type = ?', customer.id, 'bought')).toEqual({ n: 1 });
    const members = await json(await api('GET', `/v1/customers?segment_id=${seg.id}`));
    expect(members.customers.map((c: { source_id: string }) => c.source_id)).toEqual(['once-1']);
  });

  it('merges an anonymous event that reaches the consumer after the redemption that followed it; a later one stays on the profile', async () => {
    await api('POST', '/v1/vouchers/LATE', { discount: { type: 'AMOUNT', amount_off: 100 } });
    const seg = await json(
      await api('POST', '/v1/segments', {
        name: 'late viewers',
        type: 'auto-update',
        filter: { 'events.viewed_late.count': { conditions: { $more_than_equal: [1] } } },
      }),
    );
    const tid = 'track_LateLateLateLateLate00';
    const sentBeforeCheckout = Date.now();
    const redemption = await json(
      await api('POST', '/v1/vouchers/LATE/redemption', { customer: { source_id: 'late-1' }, tracking_id: tid }),
    );
    // The browser's event, sent before the checkout, is written after it.
    await deliver([{ ...profileEvent('evmsg_late_before', tid, 'viewed_late'), at: sentBeforeCheckout }]);
    const customerId = redemption.customer_id as string;
    expect(await first('SELECT profile_id FROM events WHERE id = ?', 'evcus_evmsg_late_before')).toEqual({ profile_id: customerId });
    const members = await json(await api('GET', `/v1/customers?segment_id=${seg.id}`));
    expect(members.customers.map((c: { source_id: string }) => c.source_id)).toEqual(['late-1']);
    // After the link, the browser is not evidence about the customer.
    await deliver([{ ...profileEvent('evmsg_late_after', tid, 'viewed_after'), at: Date.now() + 1 }]);
    expect(await first('SELECT profile_id FROM events WHERE id = ?', 'evcus_evmsg_late_after')).toEqual({ profile_id: tid });
  });

  it("caps a visitor's events exactly when requests race past the read of the cap", async () => {
    const tid = 'track_CapRaceCapRaceCapRac00';
    const bindings = { CLIENT_EVENTS_PER_DAY: '3' };
    const track = () =>
      call(
        '/client/v1/events',
        {
          method: 'POST',
          headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json' },
          body: JSON.stringify({ event: 'viewed', customer: { source_id: tid } }),
        },
        bindings,
      );
    // All five pass the read (nothing is written yet); the consumer keeps three.
    const answers = await Promise.all(Array.from({ length: 5 }, track));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    await settled();
    expect(await first('SELECT count(*) AS n FROM events WHERE profile_id = ?', tid)).toEqual({ n: 3 });
    const refused = await track();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('Retry-After')).toMatch(/^\d+$/);
  });
});
