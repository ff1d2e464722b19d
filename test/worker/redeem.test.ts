import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { CLIENT_HEADERS, api, call, json, settled } from './helpers';

const voucher = async (code: string, body: Record<string, unknown> = {}) => {
  const res = await api('POST', `/v1/vouchers/${encodeURIComponent(code)}`, { discount: { type: 'AMOUNT', amount_off: 1000 }, ...body });
  expect(res.status).toBe(200);
  return json(res);
};
const redeem = (code: string, body: unknown, headers: Record<string, string> = {}, query = '') =>
  api('POST', `/v1/vouchers/${encodeURIComponent(code)}/redemption${query}`, body, headers);
// What validate and track record is written by the queue consumer: these wait for it, as the
// anonymous history must be there before a redemption merges it.
const clientValidate = async (query: string) => {
  const body = await json(await call(`/client/v1/validate?${query}`, { headers: CLIENT_HEADERS }));
  await settled();
  return body;
};
const clientTrack = async (event: string, trackingId: string) => {
  const res = await call('/client/v1/events', {
    method: 'POST',
    headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json' },
    body: JSON.stringify({ event, customer: { source_id: trackingId } }),
  });
  await settled();
  return res;
};

describe('redeem', () => {
  it('redeems, counts the unit and answers in the Voucherify shape', async () => {
    await voucher('R1', { redemption: { quantity: 3 } });
    const res = await redeem('R1', {
      customer: { source_id: 'buyer-1', email: 'buyer@example.com' },
      order: { amount: 5000 },
      metadata: { channel: 'web' },
    });
    expect(res.status).toBe(200);
    const r = await json(res);
    expect(r.id).toMatch(/^r_/);
    expect(r).toMatchObject({
      object: 'redemption',
      result: 'SUCCESS',
      status: 'SUCCEEDED',
      metadata: { channel: 'web' },
      // OA24 RedemptionBase (OA24:L18044) requires channel and redemption (null: no parent).
      channel: { channel_id: 'test-app-id', channel_type: 'API' },
      redemption: null,
      customer: { source_id: 'buyer-1', email: 'buyer@example.com', object: 'customer' },
      order: { amount: 5000, discount_amount: 1000, total_amount: 4000 },
      related_object_type: 'voucher',
      voucher: { code: 'R1', redemption: { quantity: 3, redeemed_quantity: 1 } },
    });
    const customer = await json(await api('GET', '/v1/customers/buyer-1'));
    expect(customer.summary).toMatchObject({
      orders: { total_amount: 5000, total_count: 1, average_amount: 5000, last_order_amount: 5000 },
      redemptions: { total_redeemed: 1, total_succeeded: 1, total_failed: 0 },
    });
    expect(customer.summary.orders.last_order_date).toMatch(/Z$/);
    // `amount` is for gift credits and loyalty points (OA RedemptionBase.amount); a discount coupon has none (OA24:L63945).
    expect(r).not.toHaveProperty('amount');
    expect((await json(await api('GET', `/v1/redemptions/${r.id}`))).id).toBe(r.id);
  });

  it('records a refused redemption as rf_ and counts it as failed', async () => {
    await voucher('R-OFF', { active: false });
    const res = await redeem('R-OFF', { customer: { source_id: 'buyer-2' }, order: { amount: 1000 } });
    expect(res.status).toBe(400);
    const err = await json(res);
    expect(err).toMatchObject({ code: 400, key: 'voucher_disabled', resource_type: 'redemption' });
    expect(err.resource_id).toMatch(/^rf_/);
    const customer = await json(await api('GET', '/v1/customers/buyer-2'));
    expect(customer.summary.redemptions).toMatchObject({ total_redeemed: 1, total_failed: 1, total_succeeded: 0 });
    expect((await json(await api('GET', `/v1/redemptions/${err.resource_id}`))).result).toBe('FAILURE');
  });

  it('answers 404 for an unknown voucher', async () => {
    const res = await redeem('NOPE', { customer: { source_id: 'x' } });
    expect(res.status).toBe(404);
    expect((await json(res)).resource_type).toBe('voucher');
  });

  it('merges the anonymous history of the tracking id into the customer, and enters segments', async () => {
    await voucher('MERGE');
    const loyal = await json(
      await api('POST', '/v1/segments', {
        name: 'engaged buyers',
        filter: {
          junction: 'and',
          'events.viewed_product.count': { conditions: { $more_than_equal: [2] } },
          'summary.orders.total_count': { conditions: { $more_than_equal: [1] } },
        },
      }),
    );
    // The browser SDK sends the tracking id of its cookie with every call (without one nothing is recorded).
    const first = await clientValidate('code=MERGE&amount=3000&tracking_id=track_MergeMergeMergeMerge00');
    const tid = first.tracking_id;
    await clientTrack('viewed_product', tid);
    await clientTrack('viewed_product', tid);
    await clientValidate(`code=OTHER&tracking_id=${tid}`);

    const res = await redeem(
      'MERGE',
      { customer: { source_id: 'merged@example.com', name: 'Merged' }, order: { amount: 3000 } },
      {},
      `?tracking_id=${tid}`,
    );
    expect(res.status).toBe(200);
    const r = await json(res);
    expect(r.tracking_id).toBe(tid);
    const customer = await json(await api('GET', '/v1/customers/merged@example.com'));
    const activity = (await json(await api('GET', `/v1/customers/${customer.id}/activity?limit=100`))).data;
    // A custom event is type customer.custom_event, its name in data.data.event.type (OA:L4638, OA:L7429).
    const viewed = (list: any[]) =>
      list.filter((e: any) => e.type === 'customer.custom_event' && e.data.data.event.type === 'viewed_product');
    expect(viewed(activity)).toHaveLength(2);
    expect(activity.filter((e: any) => e.type === 'customer.segment.entered' && e.data.data.segment.id === loyal.id)).toHaveLength(1);
    const validations = await env.DB.prepare('SELECT code FROM validations WHERE customer_id = ? ORDER BY created_at')
      .bind(customer.id)
      .all<{ code: string }>();
    expect(validations.results.map((v) => v.code)).toEqual(['MERGE', 'OTHER']);
    const profile = await env.DB.prepare('SELECT customer_id FROM tracking_profiles WHERE id = ?')
      .bind(tid)
      .first<{ customer_id: string }>();
    expect(profile?.customer_id).toBe(customer.id);
    expect((await json(await api('GET', `/v1/customers?segment_id=${loyal.id}`))).customers.map((c: any) => c.id)).toEqual([customer.id]);
    // Later client events of the same visitor stay on its tracking profile (the public key writes
    // into no customer), and move onto the customer at its next redemption.
    await clientTrack('viewed_product', tid);
    const after = (await json(await api('GET', `/v1/customers/${customer.id}/activity?limit=100`))).data;
    expect(viewed(after)).toHaveLength(2);
    expect(
      (await redeem('MERGE', { customer: { source_id: 'merged@example.com' }, order: { amount: 3000 } }, {}, `?tracking_id=${tid}`)).status,
    ).toBe(200);
    const merged = (await json(await api('GET', `/v1/customers/${customer.id}/activity?limit=100`))).data;
    expect(viewed(merged)).toHaveLength(3);
  });

  it('takes the tracking id from the body, and from a customer source_id that is a known tracking id', async () => {
    await voucher('TID-BODY');
    const a = await clientValidate('code=TID-BODY&tracking_id=track_BodyBodyBodyBodyBody00');
    expect((await redeem('TID-BODY', { customer: { source_id: 'body-tid' }, tracking_id: a.tracking_id })).status).toBe(200);
    const linkedA = await env.DB.prepare('SELECT customer_id FROM tracking_profiles WHERE id = ?')
      .bind(a.tracking_id)
      .first<{ customer_id: string }>();
    expect(linkedA?.customer_id).toBe((await json(await api('GET', '/v1/customers/body-tid'))).id);

    const b = await clientValidate('code=TID-BODY&tracking_id=track_SourceSourceSource0000');
    // The official client SDK's redeem puts its tracking id into customer.source_id.
    const r = await json(await redeem('TID-BODY', { customer: { source_id: b.tracking_id } }));
    expect(r.tracking_id).toBe(b.tracking_id);
    expect(r.customer.source_id).toBe(b.tracking_id);
  });

  it('refuses a tracking id already linked to another customer with 400 ambiguous_tracking_id, writing nothing', async () => {
    await voucher('AMB', { redemption: { quantity: 10 } });
    const { tracking_id: tid } = await clientValidate('code=AMB');
    expect((await redeem('AMB', { customer: { source_id: 'amb-1' }, tracking_id: tid })).status).toBe(200);
    const res = await redeem('AMB', { customer: { source_id: 'amb-2' }, tracking_id: tid });
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ key: 'ambiguous_tracking_id' });
    expect((await api('GET', '/v1/customers/amb-2')).status).toBe(404);
    expect((await json(await api('GET', '/v1/vouchers/AMB'))).redemption.redeemed_quantity).toBe(1);
    // The same customer again is fine.
    expect((await redeem('AMB', { customer: { source_id: 'amb-1' }, tracking_id: tid })).status).toBe(200);
    // Validate refuses the same mix-up before judging anything.
    const validate = await api('POST', `/v1/vouchers/AMB/validate`, { customer: { source_id: 'amb-2' }, tracking_id: tid });
    expect(validate.status).toBe(400);
    expect(await json(validate)).toMatchObject({ key: 'ambiguous_tracking_id', resource_id: tid });
    expect((await api('POST', `/v1/vouchers/AMB/validate`, { customer: { source_id: 'amb-1' }, tracking_id: tid })).status).toBe(200);
  });

  it('returns the first answer to a retry with the same Idempotency-Key and changes nothing', async () => {
    await voucher('IDEM', { redemption: { quantity: 5 } });
    const body = { customer: { source_id: 'idem-1' }, order: { amount: 2000 } };
    const first = await json(await redeem('IDEM', body, { 'Idempotency-Key': 'order-42' }));
    const retries = await Promise.all([1, 2, 3].map(() => redeem('IDEM', body, { 'Idempotency-Key': 'order-42' }).then(json)));
    for (const retry of retries) expect(retry.id).toBe(first.id);
    expect((await json(await api('GET', '/v1/vouchers/IDEM'))).redemption.redeemed_quantity).toBe(1);
    const customer = await json(await api('GET', '/v1/customers/idem-1'));
    expect(customer.summary.orders).toMatchObject({ total_count: 1, total_amount: 2000 });
    const other = await json(await redeem('IDEM', body, { 'Idempotency-Key': 'order-43' }));
    expect(other.id).not.toBe(first.id);
  });

  it('gives exactly 10 successes to 50 concurrent redemptions of a voucher with quantity 10', async () => {
    await voucher('RUSH', { redemption: { quantity: 10 } });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => redeem('RUSH', { customer: { source_id: `rush-${i}` }, order: { amount: 1000 } })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 400)).toHaveLength(40);
    const keys = new Set(await Promise.all(results.filter((r) => r.status === 400).map(async (r) => (await json(r)).key)));
    expect([...keys]).toEqual(['quantity_exceeded']);
    expect((await json(await api('GET', '/v1/vouchers/RUSH'))).redemption.redeemed_quantity).toBe(10);
  });

  it('rolls back: the unit returns, the summary reverses, a second rollback is refused', async () => {
    await voucher('ROLL', { redemption: { quantity: 1 } });
    const r = await json(await redeem('ROLL', { customer: { source_id: 'roll-1' }, order: { amount: 4000 } }));
    const res = await api('POST', `/v1/redemptions/${r.id}/rollback?reason=changed%20mind`);
    expect(res.status).toBe(200);
    const rollback = await json(res);
    expect(rollback.id).toMatch(/^rr_/);
    expect(rollback).toMatchObject({ object: 'redemption_rollback', result: 'SUCCESS', redemption: r.id });
    expect((await json(await api('GET', `/v1/redemptions/${r.id}`))).status).toBe('ROLLED_BACK');
    expect((await json(await api('GET', '/v1/vouchers/ROLL'))).redemption.redeemed_quantity).toBe(0);
    const customer = await json(await api('GET', '/v1/customers/roll-1'));
    expect(customer.summary.orders).toMatchObject({ total_amount: 0, total_count: 0 });
    expect(customer.summary.redemptions).toMatchObject({ total_rolled_back: 1, total_rollback_succeeded: 1 });
    const again = await api('POST', `/v1/redemptions/${r.id}/rollback`);
    expect(again.status).toBe(400);
    expect((await json(again)).key).toBe('already_rolled_back');
    // The unit is free again.
    expect((await redeem('ROLL', { customer: { source_id: 'roll-2' } })).status).toBe(200);
  });

  it('redeems several vouchers at once (stackable), all or nothing', async () => {
    await voucher('ST-A', { redemption: { quantity: 1 } });
    await voucher('ST-B');
    const ok = await api('POST', '/v1/redemptions', {
      redeemables: [
        { object: 'voucher', id: 'ST-A' },
        { object: 'voucher', id: 'ST-B' },
      ],
      customer: { source_id: 'stack-1' },
      order: { amount: 5000 },
    });
    expect(ok.status).toBe(200);
    const body = await json(ok);
    expect(body.redemptions).toHaveLength(2);
    expect(body.parent_redemption.id).toMatch(/^r_/);
    expect(body.redemptions.every((r: any) => r.result === 'SUCCESS')).toBe(true);
    const refused = await api('POST', '/v1/redemptions', {
      redeemables: [
        { object: 'voucher', id: 'ST-B' },
        { object: 'voucher', id: 'ST-A' },
      ],
      customer: { source_id: 'stack-2' },
      order: { amount: 5000 },
    });
    expect(refused.status).toBe(400);
    expect((await json(refused)).key).toBe('quantity_exceeded');
    expect((await json(await api('GET', '/v1/vouchers/ST-B'))).redemption.redeemed_quantity).toBe(1);
  });

  it('lists redemptions, newest first, by customer', async () => {
    await voucher('LIST');
    await redeem('LIST', { customer: { source_id: 'lister' } });
    await redeem('LIST', { customer: { source_id: 'lister' } });
    const list = await json(await api('GET', '/v1/redemptions?customer=lister'));
    expect(list).toMatchObject({ object: 'list', data_ref: 'redemptions', total: 2 });
    expect(list.redemptions[0].date >= list.redemptions[1].date).toBe(true);
  });

  it('refuses a redemption body with the wrong types with 400 and writes nothing', async () => {
    await voucher('BADBODY');
    const res = await redeem('BADBODY', { customer: { source_id: 'bad-1' }, order: { amount: 'lots' } });
    expect(res.status).toBe(400);
    expect((await json(res)).details).toMatch(/^order\.amount:/);
    expect((await api('GET', '/v1/customers/bad-1')).status).toBe(404);
  });
});
