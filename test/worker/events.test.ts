import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { CLIENT_HEADERS, api, call, json, settled, signAs } from './helpers';

const track = (body: unknown) => api('POST', '/v1/events', body);
const clientTrack = (body: unknown) =>
  call('/client/v1/events', {
    method: 'POST',
    headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('POST /v1/events', () => {
  it('stores the event, upserts the customer and answers in the Voucherify shape', async () => {
    const res = await track({ event: 'cart_abandoned', customer: { source_id: 'ev-1', name: 'Eva' }, metadata: { cart: 3 } });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({
      object: 'event',
      type: 'cart_abandoned',
      customer: { source_id: 'ev-1', name: 'Eva', object: 'customer' },
      referral: null,
      loyalty: null,
    });
    // Written by the queue consumer, off the request's path: readable once it has run.
    await settled();
    const activity = await json(await api('GET', '/v1/customers/ev-1/activity?type=customer.custom_event'));
    // OA CustomerActivity (OA:L4638) with EventCustomerCustomEvent (OA:L7429) under data.data.
    expect(activity.data).toMatchObject([
      { type: 'customer.custom_event', data: { data: { event: { type: 'cart_abandoned', metadata: { cart: 3 } } } } },
    ]);
  });

  it('moves customers into event-count segments as events arrive', async () => {
    const seg = await json(
      await api('POST', '/v1/segments', {
        name: 'abandoners',
        filter: { 'events.cart_abandoned.count': { conditions: { $more_than: [1] } } },
      }),
    );
    await track({ event: 'cart_abandoned', customer: { source_id: 'ev-2' } });
    await settled();
    let members = await json(await api('GET', `/v1/customers?segment_id=${seg.id}`));
    expect(members.total).toBe(0);
    await track({ event: 'cart_abandoned', customer: { source_id: 'ev-2' } });
    await settled();
    members = await json(await api('GET', `/v1/customers?segment_id=${seg.id}`));
    expect(members.customers.map((c: any) => c.source_id)).toEqual(['ev-2']);
  });

  it('names an existing customer by id, and 404s for an unknown id', async () => {
    const c = await json(await api('POST', '/v1/customers', { name: 'Id' }));
    expect((await track({ event: 'login', customer: { id: c.id } })).status).toBe(200);
    const res = await track({ event: 'login', customer: { id: 'cust_nope' } });
    expect(res.status).toBe(404);
  });

  it.each([
    ['no event', { customer: { source_id: 'x' } }, 'invalid_payload', 'event'],
    ['a reserved event name', { event: 'customer.segment.entered', customer: { source_id: 'x' } }, 'invalid_payload', 'event'],
    ['an event name no filter could count', { event: 'Order Completed', customer: { source_id: 'x' } }, 'invalid_payload', 'event'],
    ['no customer', { event: 'x' }, 'invalid_payload', 'customer'],
    ['a customer without id or source_id', { event: 'x', customer: { name: 'n' } }, 'missing_customer', ''],
    ['metadata that is not an object', { event: 'x', customer: { source_id: 'x' }, metadata: 'm' }, 'invalid_payload', 'metadata'],
  ])('refuses %s with 400', async (_, body, key, field) => {
    const res = await track(body);
    expect(res.status).toBe(400);
    const err = await json(res);
    expect(err.key).toBe(key);
    if (field) expect(err.details.startsWith(`${field}:`)).toBe(true);
  });
});

describe('POST /client/v1/events', () => {
  it('tracks with the client key: an unsigned source id creates no customer', async () => {
    const res = await clientTrack({ event: 'viewed', customer: { source_id: 'client-ev-1' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe(CLIENT_HEADERS.Origin);
    expect((await json(res)).customer.source_id).toBe('client-ev-1');
    await settled();
    expect((await api('GET', '/v1/customers/client-ev-1')).status).toBe(404);
  });

  it('creates a missing customer by a signed source id, as Voucherify does', async () => {
    const signature = await signAs('source_id', 'client-ev-3');
    const res = await call('/client/v1/events', {
      method: 'POST',
      headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json', 'X-Vouchsafe-Identity-Signature': signature },
      body: JSON.stringify({ event: 'viewed', customer: { source_id: 'client-ev-3' } }),
    });
    expect(res.status).toBe(200);
    await settled();
    expect((await api('GET', '/v1/customers/client-ev-3/activity')).status).toBe(200);
    const activity = (await json(await api('GET', '/v1/customers/client-ev-3/activity'))).data;
    // OA CustomerActivity: a custom event is customer.custom_event with data.data.event.type.
    expect(activity.filter((e: any) => e.type === 'customer.custom_event').map((e: any) => e.data.data.event.type)).toEqual(['viewed']);
  });

  it('never rewrites an existing customer from the browser', async () => {
    await api('POST', '/v1/customers', { source_id: 'client-ev-2', email: 'real@example.com', name: 'Real' });
    const res = await clientTrack({ event: 'viewed', customer: { source_id: 'client-ev-2', email: 'attacker@example.com' } });
    expect(res.status).toBe(200);
    await settled();
    const c = await json(await api('GET', '/v1/customers/client-ev-2'));
    expect(c).toMatchObject({ email: 'real@example.com', name: 'Real' });
  });

  it("a signed customer's client events stop at the daily cap, exactly, however fast they are sent", async () => {
    // A shopper's own signature is handed to every signed-in page: it must not open an unbounded
    // write into their record (the anonymous visitor's CLIENT_EVENTS_PER_DAY holds for them too).
    const signature = await signAs('source_id', 'capped-shopper');
    const bindings = { CLIENT_EVENTS_PER_DAY: '3' };
    const signedTrack = () =>
      call(
        '/client/v1/events',
        {
          method: 'POST',
          headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json', 'X-Vouchsafe-Identity-Signature': signature },
          body: JSON.stringify({ event: 'flood', customer: { source_id: 'capped-shopper' }, metadata: { pad: 'm'.repeat(1900) } }),
        },
        bindings,
      );
    // Five at once all pass the request's read (nothing is written yet): the consumer keeps three.
    const answers = await Promise.all(Array.from({ length: 5 }, signedTrack));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    await settled();
    const customer = await json(await api('GET', '/v1/customers/capped-shopper'));
    const stored = async () =>
      (await env.DB.prepare('SELECT count(*) AS n FROM events WHERE profile_id = ?').bind(customer.id).first<{ n: number }>())?.n;
    expect(await stored()).toBe(3);
    // Past the cap the answer says so, with when to retry, by id as by source id.
    const refused = await signedTrack();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThan(0);
    expect(await json(refused)).toMatchObject({ code: 429, key: 'too_many_requests' });
    const byId = await call(
      '/client/v1/events',
      {
        method: 'POST',
        headers: {
          ...CLIENT_HEADERS,
          'Content-Type': 'application/json',
          'X-Vouchsafe-Identity-Signature': await signAs('id', customer.id),
        },
        body: JSON.stringify({ event: 'flood', customer: { id: customer.id } }),
      },
      bindings,
    );
    expect(byId.status).toBe(429);
    await settled();
    expect(await stored()).toBe(3);
    // The shop's own backend is not capped.
    expect((await track({ event: 'flood', customer: { source_id: 'capped-shopper' } })).status).toBe(200);
    await settled();
    expect(await stored()).toBe(4);
  });

  it('needs the client key', async () => {
    const res = await call('/client/v1/events', { method: 'POST', headers: { Origin: CLIENT_HEADERS.Origin }, body: '{}' });
    expect(res.status).toBe(401);
  });
});
