import { describe, expect, it } from 'vitest';
import { api, json, settled } from './helpers';

// GET /v1/customers/{id}/activity against the OA: CustomersActivityListResponseBody (OA:L5348),
// CustomerActivity (OA:L4638: {id, type, data: {data: CustomerActivityData, event_source}, created_at}),
// EventCustomerCustomEvent (OA:L7429), EventCustomerSegmentEntered/Left, EventCustomerCreated,
// EventCustomerRedemption(+RollbackSucceeded). Parameters: order, starting_after_id, start_date,
// end_date, type, campaign_id, campaign_type, category (OA:L57498).

const activity = async (customer: string, qs = '') => {
  const res = await api('GET', `/v1/customers/${encodeURIComponent(customer)}/activity${qs}`);
  expect(res.status).toBe(200);
  return json(res);
};
/** An event, written by the queue consumer before the test reads the feed. */
const track = async (event: string, sourceId: string, metadata: Record<string, unknown> = {}) => {
  const res = await api('POST', '/v1/events', { event, customer: { source_id: sourceId }, metadata });
  await settled();
  return res;
};
const pause = () => new Promise((r) => setTimeout(r, 3));

describe('the customer activity feed', () => {
  it('answers custom events, segment transitions and customer.created in the OA shapes', async () => {
    const seg = await json(
      await api('POST', '/v1/segments', { name: 'likers', filter: { 'events.liked.count': { conditions: { $more_than: [0] } } } }),
    );
    const c = await json(
      await api('POST', '/v1/customers', { source_id: 'act-1', name: 'Ann', email: 'ann@example.com', metadata: { a: 1 } }),
    );
    await pause();
    expect((await track('liked', 'act-1', { item: 'book' })).status).toBe(200);

    const list = await activity('act-1', '?order=created_at');
    expect(list).toMatchObject({ object: 'list', data_ref: 'data', has_more: false });
    expect(list).not.toHaveProperty('more_starting_after');
    // The event and the transition it caused share one timestamp (one batch); ties go by id.
    expect(list.data.map((e: any) => e.type).sort()).toEqual(['customer.created', 'customer.custom_event', 'customer.segment.entered']);
    const byType = (type: string) => list.data.find((e: any) => e.type === type);
    const [created, custom, entered] = [byType('customer.created'), byType('customer.custom_event'), byType('customer.segment.entered')];
    expect(list.data[0]).toBe(created);

    // customer.created: EventCustomerCreated {customer: CustomerWithSummaryLoyaltyReferrals}.
    expect(created).toMatchObject({
      id: c.id,
      created_at: c.created_at,
      data: { data: { customer: { id: c.id, summary: expect.any(Object), object: 'customer' } } },
    });

    // customer.custom_event: EventCustomerCustomEvent {event: CustomEvent, event_schema: SimpleCustomEvent, customer: SimpleCustomer}.
    expect(custom.id).toMatch(/^evcus_/);
    expect(custom.created_at).toMatch(/Z$/);
    expect(custom.data.data).toEqual({
      event: {
        id: custom.id,
        object: 'event',
        type: 'liked',
        customer: { id: c.id, object: 'customer' },
        referral: null,
        loyalty: null,
        metadata: { item: 'book' },
        created_at: custom.created_at,
      },
      event_schema: { name: 'liked' },
      customer: { id: c.id, name: 'Ann', email: 'ann@example.com', source_id: 'act-1', metadata: { a: 1 }, object: 'customer' },
      referral: null,
      loyalty: null,
    });

    // customer.segment.entered: EventCustomerSegmentEntered {customer, segment: SimpleSegment}.
    expect(entered.data.data).toMatchObject({
      segment: { id: seg.id, name: 'likers', object: 'segment' },
      customer: { id: c.id, object: 'customer' },
    });
    for (const entry of list.data) expect(Object.keys(entry).sort()).toEqual(['created_at', 'data', 'id', 'type']);
  });

  it('lists the redemptions of the customer: succeeded, failed and rolled back (stacked parents left out)', async () => {
    await api('POST', '/v1/vouchers/ACT-OK', { discount: { type: 'AMOUNT', amount_off: 500 } });
    await api('POST', '/v1/vouchers/ACT-OFF', { discount: { type: 'AMOUNT', amount_off: 500 }, active: false });
    await api('POST', '/v1/vouchers/ACT-S1', { discount: { type: 'AMOUNT', amount_off: 100 } });
    await api('POST', '/v1/vouchers/ACT-S2', { discount: { type: 'AMOUNT', amount_off: 100 } });
    const ok = await json(
      await api('POST', '/v1/vouchers/ACT-OK/redemption', {
        customer: { source_id: 'act-r' },
        order: { amount: 2000 },
        metadata: { m: 1 },
      }),
    );
    await pause();
    const refused = await json(
      await api('POST', '/v1/vouchers/ACT-OFF/redemption', { customer: { source_id: 'act-r' }, order: { amount: 2000 } }),
    );
    await pause();
    const rollback = await json(await api('POST', `/v1/redemptions/${ok.id}/rollback?reason=changed%20mind`));
    await pause();
    const stacked = await json(
      await api('POST', '/v1/redemptions', {
        redeemables: [
          { object: 'voucher', id: 'ACT-S1' },
          { object: 'voucher', id: 'ACT-S2' },
        ],
        customer: { source_id: 'act-r' },
        order: { amount: 3000 },
      }),
    );

    const list = await activity('act-r', '?limit=100');
    const redemptions = list.data.filter((e: any) => e.type.startsWith('customer.redemption'));
    // Newest first; the stacked parent groups its children and is not an activity of its own.
    expect(redemptions.map((e: any) => [e.type, e.id])).toEqual([
      ['customer.redemption.succeeded', expect.stringMatching(/^r_/)],
      ['customer.redemption.succeeded', expect.stringMatching(/^r_/)],
      ['customer.redemption.rollback.succeeded', rollback.id],
      ['customer.redemption.failed', refused.resource_id],
      ['customer.redemption.succeeded', ok.id],
    ]);
    expect(redemptions.map((e: any) => e.id)).not.toContain(stacked.parent_redemption.id);

    const succeeded = redemptions.at(-1);
    // EventCustomerRedemption {customer: SimpleCustomer, order: SimpleOrder, voucher: SimpleVoucher, redemption: SimpleRedemption}.
    expect(succeeded.data.data).toMatchObject({
      customer: { id: ok.customer_id, source_id: 'act-r', object: 'customer' },
      order: { amount: 2000, object: 'order' },
      voucher: { code: 'ACT-OK', object: 'voucher' },
      redemption: {
        id: ok.id,
        customer_id: ok.customer_id,
        date: ok.date,
        result: 'SUCCESS',
        status: 'SUCCEEDED',
        metadata: { m: 1 },
        object: 'redemption',
      },
    });
    const failed = redemptions[3];
    expect(failed.data.data.redemption).toMatchObject({
      id: refused.resource_id,
      result: 'FAILURE',
      status: 'FAILED',
      failure_code: 'voucher_disabled',
      object: 'redemption',
    });
    // EventCustomerRedemptionRollbackSucceeded adds redemption_rollback: SimpleRedemption.
    const rolled = redemptions[2];
    expect(rolled.data.data.redemption).toMatchObject({ id: ok.id, object: 'redemption' });
    expect(rolled.data.data.redemption_rollback).toMatchObject({
      id: rollback.id,
      result: 'SUCCESS',
      status: 'SUCCEEDED',
      reason: 'changed mind',
      redemption: ok.id,
      object: 'redemption_rollback',
    });
  });

  it('orders both ways and pages with starting_after_id without skipping or repeating (ties included)', async () => {
    await api('POST', '/v1/customers', { source_id: 'act-p' });
    for (let i = 0; i < 7; i++) await track(`e${i}`, 'act-p');
    const all = (await activity('act-p', '?limit=100')).data.map((e: any) => e.id);
    expect(all).toHaveLength(8); // customer.created + 7 events

    const walk = async (order: string) => {
      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await activity('act-p', `?limit=3&order=${order}${after ? `&starting_after_id=${after}` : ''}`);
        seen.push(...page.data.map((e: any) => e.id));
        if (!page.has_more) break;
        expect(page.more_starting_after).toBe(page.data.at(-1).id);
        after = page.more_starting_after;
      }
      return seen;
    };
    expect(await walk('-created_at')).toEqual(all);
    expect(await walk('created_at')).toEqual([...all].reverse());
  });

  it('filters by type and by start_date / end_date (inclusive)', async () => {
    await api('POST', '/v1/customers', { source_id: 'act-f' });
    await track('one', 'act-f');
    await pause();
    await track('two', 'act-f');
    const all = (await activity('act-f', '?order=created_at')).data;
    const [, one, two] = all;
    const custom = await activity('act-f', '?type=customer.custom_event&order=created_at');
    expect(custom.data.map((e: any) => e.data.data.event.type)).toEqual(['one', 'two']);
    expect((await activity('act-f', '?type=customer.created')).data).toHaveLength(1);
    expect((await activity('act-f', '?type=customer.loyalty.updated')).data).toEqual([]);
    const from = await activity('act-f', `?start_date=${encodeURIComponent(two.created_at)}`);
    expect(from.data.map((e: any) => e.id)).toEqual([two.id]);
    const until = await activity('act-f', `?order=created_at&end_date=${encodeURIComponent(one.created_at)}`);
    expect(until.data.map((e: any) => e.id)).toEqual([all[0].id, one.id]);
  });

  it('answers an empty page for a campaign filter (no campaigns here) and refuses what it cannot honour', async () => {
    await api('POST', '/v1/customers', { source_id: 'act-q' });
    expect((await activity('act-q', '?campaign_id=camp_x')).data).toEqual([]);
    expect((await activity('act-q', '?campaign_type=PROMOTION')).data).toEqual([]);
    for (const qs of ['category=ACTION', 'order=id', 'type=liked', 'limit=0', 'start_date=soon']) {
      const res = await api('GET', `/v1/customers/act-q/activity?${qs}`);
      expect(res.status, qs).toBe(400);
      expect((await json(res)).key).toBe('invalid_query_params');
    }
    const unknown = await api('GET', '/v1/customers/nobody-here/activity');
    expect(unknown.status).toBe(404);
    expect(await json(unknown)).toMatchObject({ key: 'not_found', resource_type: 'customer' });
  });

  it('answers the deprecated /activities in its envelope with total (OA24 CustomersActivitiesListResponseBody)', async () => {
    await api('POST', '/v1/customers', { source_id: 'act-d' });
    for (let i = 0; i < 4; i++) await track('d', 'act-d');
    const res = await api('GET', '/v1/customers/act-d/activities?limit=2');
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({ object: 'list', data_ref: 'data', total: 5 });
    expect(body.data).toHaveLength(2);
    expect(body.data[0]).toMatchObject({ type: 'customer.custom_event', data: { data: { event: { type: 'd' } } } });
    // starting_after: a created_at cursor (OA24 list-customer-activities).
    const next = await json(
      await api('GET', `/v1/customers/act-d/activities?limit=10&starting_after=${encodeURIComponent(body.data[1].created_at)}`),
    );
    expect(next.data.every((e: any) => e.created_at < body.data[1].created_at)).toBe(true);
  });
});
