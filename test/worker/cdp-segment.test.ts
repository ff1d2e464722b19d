import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TEST_ENV } from '../test-env';
import { api, call, json, settled } from './helpers';

// The routes of Segment's "Voucherify (Actions)" destination, driven with the bodies it sends.
// Source: segmentio/action-destinations @970a17e, packages/destination-actions/src/destinations/voucherify/
// (cited below as DEST/<file>:Lnn). Its tests build events with createTestEvent (packages/core/src/
// create-test-event.ts: userId 'user1234' at L40, type 'track' at L39) and map them with each
// action's fields; perform() then POSTs the mapped payload as JSON to `${customURL}/segmentio/
// ${type}-processing` (DEST/url-provider.ts:L8). The bodies below are those payloads.

const b64 = (text: string) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));

/** DEST/index.ts:L60-64 extendRequest: `authorization: Basic base64(apiKey)`, `secret-key: base64(secretKey)`. */
const destinationHeaders = (appId: string, token: string) => ({ authorization: `Basic ${b64(appId)}`, 'secret-key': b64(token) });
const SEGMENT_HEADERS = destinationHeaders(TEST_ENV.APP_ID, TEST_ENV.APP_TOKEN);

const post = (route: string, body: unknown, headers: Record<string, string> = SEGMENT_HEADERS) =>
  call(`/segmentio/${route}`, { method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

const customer = async (sourceId: string) => {
  const res = await api('GET', `/v1/customers/${encodeURIComponent(sourceId)}`);
  return res.status === 200 ? json(res) : null;
};

const segmentMembers = async (filter: unknown): Promise<string[]> => {
  const seg = await json(await api('POST', '/v1/segments', { name: `seg-${crypto.randomUUID()}`, type: 'auto-update', filter }));
  const members = await json(await api('GET', `/v1/customers?segment_id=${seg.id}&limit=100`));
  return members.customers.map((c: { source_id: string }) => c.source_id);
};

async function expectRefused(res: Response, status: number, key: string, field?: string) {
  expect(res.status).toBe(status);
  const body = await json(res);
  // The Voucherify error object (errors.mdx).
  expect(body).toMatchObject({ code: status, key, message: expect.any(String), request_id: expect.any(String) });
  if (field !== undefined) expect(body.details).toMatch(new RegExp(`^${field.replace(/[.[\]]/g, '\\$&')}:`));
}

describe('GET /segmentio/test-authentication', () => {
  // DEST/index.ts:L40-51: a GET with the two headers; only a 401 fails the check.
  it('answers 200 to the server key pair in the destination encoding', async () => {
    const res = await call('/segmentio/test-authentication', { headers: SEGMENT_HEADERS });
    expect(res.status).toBe(200);
  });

  it.each([
    ['no headers', {}],
    ['the secret key wrong', destinationHeaders(TEST_ENV.APP_ID, 'wrong')],
    ['the application id wrong', destinationHeaders('wrong', TEST_ENV.APP_TOKEN)],
    ['no secret-key header', { authorization: `Basic ${b64(TEST_ENV.APP_ID)}` }],
    ['the keys not base64-encoded', { authorization: `Basic ${TEST_ENV.APP_ID}`, 'secret-key': TEST_ENV.APP_TOKEN }],
    [
      'RFC 7617 id:password instead of the destination scheme',
      { authorization: `Basic ${b64(`${TEST_ENV.APP_ID}:${TEST_ENV.APP_TOKEN}`)}` },
    ],
    ['a Bearer scheme', { authorization: `Bearer ${b64(TEST_ENV.APP_ID)}`, 'secret-key': b64(TEST_ENV.APP_TOKEN) }],
    ['the client key pair', destinationHeaders(TEST_ENV.CLIENT_APP_ID, TEST_ENV.CLIENT_TOKEN)],
    ['the /v1 headers (X-App-Id / X-App-Token)', { 'X-App-Id': TEST_ENV.APP_ID, 'X-App-Token': TEST_ENV.APP_TOKEN }],
  ])('answers 401 in the error shape with %s', async (_, headers) => {
    await expectRefused(await call('/segmentio/test-authentication', { headers }), 401, 'unauthorized');
  });

  it('fails closed when the server key pair is not configured', async () => {
    const res = await call('/segmentio/test-authentication', { headers: destinationHeaders('', '') }, { APP_ID: '', APP_TOKEN: '' });
    await expectRefused(res, 401, 'unauthorized');
  });

  it('refuses every processing route without the key, writing nothing', async () => {
    const sourceId = 'sg-noauth';
    const bodies = {
      'customer-processing': { source_id: sourceId, type: 'identify' },
      'event-processing': { customer: { source_id: sourceId }, event: 'x', type: 'track' },
      'group-processing': { customer: { source_id: sourceId }, group_id: 'g', type: 'group' },
    };
    for (const [route, body] of Object.entries(bodies)) {
      await expectRefused(await post(route, body, destinationHeaders(TEST_ENV.CLIENT_APP_ID, TEST_ENV.CLIENT_TOKEN)), 401, 'unauthorized');
      await expectRefused(await post(route, body, {}), 401, 'unauthorized');
    }
    await settled();
    expect(await customer(sourceId)).toBeNull();
  });
});

describe('POST /segmentio/customer-processing (identify)', () => {
  it('upserts the customer by source_id with the fields the default mapping sends', async () => {
    // DEST/index.ts:L104-110 preset "Create Or Update Customer" = upsertCustomer's defaults
    // (DEST/upsertCustomer/index.ts:L12-146): source_id ← userId, the rest ← traits.*, type ← type.
    const body = {
      source_id: 'sg-identify-1',
      name: 'Jane Doe',
      description: 'VIP from Segment',
      email: 'jane@example.com',
      phone: '+48 600 000 000',
      // "date or datetime format (ISO 8601)" (DEST/upsertCustomer/index.ts:L82).
      birthdate: '1990-05-14T00:00:00.000Z',
      address: { city: 'Warsaw', state: 'Mazovia', postal_code: '00-001', street: 'Nowy Świat 1', country: 'PL' },
      metadata: { tier: 'gold', visits: 3 },
      type: 'identify',
    };
    const res = await post('customer-processing', body);
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ object: 'customer', source_id: 'sg-identify-1', name: 'Jane Doe' });

    const stored = await customer('sg-identify-1');
    expect(stored).toMatchObject({
      source_id: 'sg-identify-1',
      name: 'Jane Doe',
      description: 'VIP from Segment',
      email: 'jane@example.com',
      phone: '+48 600 000 000',
      birthdate: '1990-05-14',
      // Segment's street is the customer's first address line.
      address: { city: 'Warsaw', state: 'Mazovia', postal_code: '00-001', line_1: 'Nowy Świat 1', country: 'PL' },
      metadata: { tier: 'gold', visits: 3 },
    });
  });

  it('merges first_name and last_name into name, merges metadata, and leaves null and "" fields as they are', async () => {
    await post('customer-processing', {
      source_id: 'sg-identify-2',
      name: 'Old Name',
      email: 'old@example.com',
      phone: '1',
      metadata: { a: 1, keep: true },
      type: 'identify',
    });
    // DEST/upsertCustomer/index.ts:L33,L43: first_name and last_name "will be merged ... to create the name field".
    // PostHog renders a property the person lacks as "" (PostHog nodejs/src/cdp/segment/coerce-inputs.ts).
    const res = await post('customer-processing', {
      source_id: 'sg-identify-2',
      first_name: 'Ada',
      last_name: 'Lovelace',
      email: '',
      phone: null,
      birthdate: '',
      address: { city: '', state: null },
      metadata: { b: 2, keep: null },
      type: 'identify',
    });
    expect(res.status).toBe(200);
    const stored = await customer('sg-identify-2');
    expect(stored.name).toBe('Ada Lovelace');
    expect(stored.email).toBe('old@example.com');
    expect(stored.phone).toBe('1');
    // RFC 7396: b added, a kept, keep removed by its null.
    expect(stored.metadata).toEqual({ a: 1, b: 2 });
  });

  it.each([
    // DEST/__tests__/customer.test.ts:L16-29: an identify without userId maps to no source_id.
    ['no source_id', { type: 'identify' }, 'source_id'],
    ['an empty source_id', { source_id: '', type: 'identify' }, 'source_id'],
    ['an email that is not one', { source_id: 'sg-bad', email: 'not-an-email', type: 'identify' }, 'email'],
    ['a birthdate that is not a date', { source_id: 'sg-bad', birthdate: '14/05/1990', type: 'identify' }, 'birthdate'],
    ['a date-time whose date does not exist', { source_id: 'sg-bad', birthdate: '1990-02-30T00:00:00Z', type: 'identify' }, 'birthdate'],
    ['metadata that is not an object', { source_id: 'sg-bad', metadata: 5, type: 'identify' }, 'metadata'],
    ['an address that is not an object', { source_id: 'sg-bad', address: 'Main St', type: 'identify' }, 'address'],
    [
      'a name over 255 characters from its parts',
      { source_id: 'sg-bad', first_name: 'a'.repeat(200), last_name: 'b'.repeat(200), type: 'identify' },
      'first_name',
    ],
  ])('refuses %s with a 400 naming the field, writing nothing', async (_, body, field) => {
    await expectRefused(await post('customer-processing', body), 400, 'invalid_payload', field);
    expect(await customer('sg-bad')).toBeNull();
  });

  it('refuses a body that is not JSON with a 400, and one over 1 MiB with a 413', async () => {
    const notJson = await call('/segmentio/customer-processing', { method: 'POST', headers: SEGMENT_HEADERS, body: '{' });
    await expectRefused(notJson, 400, 'invalid_payload');
    const big = { source_id: 'sg-big', description: 'x'.repeat(1024 * 1024), type: 'identify' };
    await expectRefused(await post('customer-processing', big), 413, 'request_too_large');
  });
});

describe('POST /segmentio/event-processing (track, page, screen)', () => {
  it('records the fixture track event for the customer, counted by events.<name>.count', async () => {
    // DEST/__tests__/customEvent.test.ts:L55-85: createTestEvent({ event: 'Test Track Event', type:
    // 'track', properties: { customer: { source_id: 'test_customer_1' } } }) mapped with event ← $.event,
    // type ← $.type, customer ← $.properties.customer.
    const res = await post('event-processing', { event: 'Test Track Event', type: 'track', customer: { source_id: 'test_customer_1' } });
    expect(res.status).toBe(200);
    // The events API's answer (OA EventsCreateResponseBody), with the name as recorded.
    expect(await json(res)).toMatchObject({
      object: 'event',
      type: 'Test_Track_Event',
      customer: { source_id: 'test_customer_1', object: 'customer' },
    });

    await settled();
    // The customer is created by source_id, as POST /v1/events does.
    expect(await customer('test_customer_1')).toMatchObject({ source_id: 'test_customer_1' });
    const activity = await json(await api('GET', '/v1/customers/test_customer_1/activity?type=customer.custom_event'));
    expect(activity.data).toMatchObject([{ type: 'customer.custom_event', data: { data: { event: { type: 'Test_Track_Event' } } } }]);
    expect(await segmentMembers({ 'events.Test_Track_Event.count': { conditions: { $more_than: [0] } } })).toEqual(['test_customer_1']);
  });

  it('records page and screen calls under the preset names, and PostHog $-events', async () => {
    // DEST/index.ts:L80-103 presets: page → event "Viewed {{name}} Page", screen → "Viewed {{name}} Screen";
    // customer ← { source_id: $.userId, email: $.properties.email ?? $.context.traits.email } (DEST/addCustomEvent/index.ts:L33-41),
    // referral and loyalty ← $.properties.referral / .loyalty (empty when the event has none).
    const page = await post('event-processing', {
      customer: { source_id: 'user1234', email: 'user1234@example.com' },
      referral: {},
      loyalty: {},
      event: 'Viewed Home Page',
      type: 'page',
    });
    expect(page.status).toBe(200);
    expect((await json(page)).type).toBe('Viewed_Home_Page');
    const screen = await post('event-processing', {
      customer: { source_id: 'user1234' },
      event: 'Viewed Checkout Screen',
      type: 'screen',
      metadata: { step: 2 },
    });
    expect((await json(screen)).type).toBe('Viewed_Checkout_Screen');
    // PostHog maps the event name to event.event (its segment-templates.ts), e.g. "$pageview", and an
    // absent email to "" (coerce-inputs.ts).
    const posthog = await post('event-processing', {
      customer: { source_id: 'user1234', email: '' },
      event: '$pageview',
      type: 'page',
      metadata: '',
    });
    expect((await json(posthog)).type).toBe('_pageview');
    // A name the events API accepts is kept as it is.
    const plain = await post('event-processing', { customer: { source_id: 'user1234' }, event: 'order_completed-v2', type: 'track' });
    expect((await json(plain)).type).toBe('order_completed-v2');

    await settled();
    // The event's customer email is written, as POST /v1/events writes the customer's fields.
    expect((await customer('user1234')).email).toBe('user1234@example.com');
    const activity = await json(await api('GET', '/v1/customers/user1234/activity?type=customer.custom_event&limit=10'));
    const types = activity.data.map((a: any) => a.data.data.event.type).sort();
    expect(types).toEqual(['Viewed_Checkout_Screen', 'Viewed_Home_Page', '_pageview', 'order_completed-v2']);
    expect(await segmentMembers({ 'events.Viewed_Home_Page.count': { conditions: { $is: [1] } } })).toEqual(['user1234']);
  });

  it.each([
    // DEST/__tests__/customEvent.test.ts:L87-117: a customer without source_id.
    [
      'a customer without source_id',
      { event: 'Test Track Event', type: 'track', customer: { email: 'test_customer_1@test.com' } },
      'customer.source_id',
    ],
    // DEST/__tests__/customEvent.test.ts:L119-144: no customer object.
    ['no customer', { event: 'Test Track Event', type: 'track' }, 'customer'],
    ['no event name', { customer: { source_id: 'sg-ev-bad' }, type: 'page' }, 'event'],
    ['an empty event name', { customer: { source_id: 'sg-ev-bad' }, event: '', type: 'track' }, 'event'],
    ['an event name over 64 characters', { customer: { source_id: 'sg-ev-bad' }, event: 'Viewed '.repeat(10), type: 'track' }, 'event'],
    ['a prototype key as event name', { customer: { source_id: 'sg-ev-bad' }, event: 'constructor', type: 'track' }, 'event'],
    [
      'a customer email that is not one',
      { customer: { source_id: 'sg-ev-bad', email: 'nope' }, event: 'x', type: 'track' },
      'customer.email',
    ],
    ['metadata that is not an object', { customer: { source_id: 'sg-ev-bad' }, event: 'x', type: 'track', metadata: [1] }, 'metadata'],
  ])('refuses %s with a 400 naming the field, recording nothing', async (_, body, field) => {
    await expectRefused(await post('event-processing', body), 400, 'invalid_payload', field);
    await settled();
    expect(await customer('sg-ev-bad')).toBeNull();
  });
});

describe('POST /segmentio/group-processing (group)', () => {
  it("merges the group's traits into the customer's metadata under groups.<group_id>", async () => {
    // DEST/index.ts:L111-116 preset "Assign Customer To Group" = assignCustomerToGroup's defaults
    // (DEST/assignCustomerToGroup/index.ts:L11-66): customer ← { source_id: $.userId, email: $.email },
    // group_id ← $.groupId, traits ← $.traits ("Traits of the group that will be created in customer metadata", L51).
    // The event of DEST/__tests__/customer.test.ts:L35-45 (traits { name: 'Test' }, userId 'user1234'), with a groupId.
    await post('customer-processing', { source_id: 'sg-group-1', metadata: { own: 'kept' }, type: 'identify' });
    const res = await post('group-processing', {
      customer: { source_id: 'sg-group-1' },
      group_id: 'acme',
      traits: { name: 'Test', plan: 'enterprise' },
      type: 'group',
    });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({
      object: 'customer',
      source_id: 'sg-group-1',
      metadata: { own: 'kept', groups: { acme: { name: 'Test', plan: 'enterprise' } } },
    });

    // A second group is added beside the first; the same group again updates the traits it names.
    await post('group-processing', { customer: { source_id: 'sg-group-1' }, group_id: 'initech', traits: { plan: 'free' }, type: 'group' });
    await post('group-processing', { customer: { source_id: 'sg-group-1' }, group_id: 'acme', traits: { employees: 50 }, type: 'group' });
    // An identify's metadata never drops the groups (merged, not replaced).
    await post('customer-processing', { source_id: 'sg-group-1', metadata: { own: 'changed' }, type: 'identify' });

    expect((await customer('sg-group-1')).metadata).toEqual({
      own: 'changed',
      groups: { acme: { name: 'Test', plan: 'enterprise', employees: 50 }, initech: { plan: 'free' } },
    });
    expect(await segmentMembers({ 'metadata.groups.acme.plan': { conditions: { $is: ['enterprise'] } } })).toEqual(['sg-group-1']);
  });

  it('creates the customer it names, with its email, and a group without traits', async () => {
    const res = await post('group-processing', {
      customer: { source_id: 'sg-group-2', email: 'g2@example.com' },
      group_id: 'solo',
      type: 'group',
    });
    expect(res.status).toBe(200);
    expect(await customer('sg-group-2')).toMatchObject({ email: 'g2@example.com', metadata: { groups: { solo: {} } } });
  });

  it.each([
    // DEST/__tests__/customer.test.ts:L32-53: the group event without groupId (customer ← userId 'user1234').
    ['no group_id', { customer: { source_id: 'sg-group-bad' }, traits: { name: 'Test' }, type: 'group' }, 'group_id'],
    ['a prototype key as group_id', { customer: { source_id: 'sg-group-bad' }, group_id: '__proto__', type: 'group' }, 'group_id'],
    ['no customer', { group_id: 'acme', type: 'group' }, 'customer'],
    [
      'traits that are not an object',
      { customer: { source_id: 'sg-group-bad' }, group_id: 'acme', traits: 'big', type: 'group' },
      'traits',
    ],
  ])('refuses %s with a 400 naming the field', async (_, body, field) => {
    await expectRefused(await post('group-processing', body), 400, 'invalid_payload', field);
    expect(await customer('sg-group-bad')).toBeNull();
  });
});

describe('hostile bodies', () => {
  it("random bodies in the destination's shape and random JSON: never a 5xx, every error the Voucherify object, every accepted event written", async () => {
    const value = fc.oneof(
      fc.constant(null),
      fc.constant(''),
      fc.string({ maxLength: 80 }),
      fc.constantFrom('Order Completed', '$pageview', 'x@example.com', '1990-05-14T00:00:00Z', 'a'.repeat(300)),
      fc.integer(),
      fc.boolean(),
      fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
    );
    const ref = fc.oneof(value, fc.record({ source_id: value, email: value }, { requiredKeys: [] }));
    const shaped = fc.record(
      {
        source_id: value,
        name: value,
        first_name: value,
        last_name: value,
        email: value,
        phone: value,
        birthdate: value,
        address: value,
        metadata: value,
        customer: ref,
        event: value,
        group_id: value,
        traits: value,
        referral: value,
        type: value,
      },
      { requiredKeys: [] },
    );
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('customer-processing', 'event-processing', 'group-processing'),
        fc.oneof(shaped, fc.jsonValue({ maxDepth: 3 })),
        async (route, body) => {
          const res = await post(route, body);
          sent++;
          expect(res.status).toBeLessThan(500);
          if (res.status >= 400) {
            const error = await json(res);
            expect(error).toMatchObject({ code: res.status, key: expect.any(String), request_id: expect.any(String) });
          } else {
            await res.arrayBuffer();
          }
        },
      ),
      { numRuns: 300 },
    );
    expect(sent).toBe(300);
    // The events the route accepted were written by the consumer, none left failing on the queue.
    await settled();
  }, 180_000);
});

describe('Order Completed (Segment e-commerce spec) becomes an order', () => {
  // Segment's e-commerce spec, "Order Completed": order_id, total / revenue (currency units),
  // products[] with product_id, sku, price, quantity. The destination sends the properties as
  // `metadata` (DEST/addCustomEvent/index.ts).
  const completed = (sourceId: string, orderId: string, extra: Record<string, unknown> = {}) => ({
    customer: { source_id: sourceId },
    event: 'Order Completed',
    metadata: {
      order_id: orderId,
      total: 27.5,
      revenue: 25,
      currency: 'USD',
      products: [
        { product_id: 'MacBookAir', sku: 'MBA-13', price: 20, quantity: 1 },
        { product_id: 'case-1', price: 7.5, quantity: 1 },
      ],
      ...extra,
    },
    type: 'track',
  });

  it('a PAID order of the identified customer, in cents, with its products; a retry counts once; the event is recorded too', async () => {
    const res = await post('event-processing', completed('sg-buyer-1', 'seg-order-1'));
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ type: 'Order_Completed' });
    await post('event-processing', completed('sg-buyer-1', 'seg-order-1'));
    const order = await json(await api('GET', '/v1/orders/seg-order-1'));
    expect(order).toMatchObject({ source_id: 'seg-order-1', status: 'PAID', amount: 2750 });
    expect(order.items).toMatchObject([
      { source_id: 'MacBookAir', related_object: 'product', sku: { source_id: 'MBA-13' }, price: 2000, quantity: 1, amount: 2000 },
      { source_id: 'case-1', price: 750, quantity: 1 },
    ]);
    const buyer = await customer('sg-buyer-1');
    expect(order.customer_id).toBe(buyer.id);
    expect(buyer.summary.orders).toMatchObject({ total_count: 1, total_amount: 2750 });
    expect(await segmentMembers({ junction: 'and', 'orders.products.MBA-13.count': { conditions: { $more_than: [0] } } })).toEqual([
      'sg-buyer-1',
    ]);
    await settled();
    const events = await json(await api('GET', '/v1/customers/sg-buyer-1/activity?type=customer.custom_event'));
    expect(events.data).toHaveLength(2);
  });

  it('without total, revenue is the amount; without either, the sum of the products', async () => {
    await post('event-processing', completed('sg-buyer-2', 'seg-order-2', { total: null }));
    expect((await json(await api('GET', '/v1/orders/seg-order-2'))).amount).toBe(2500);
    await post('event-processing', completed('sg-buyer-2', 'seg-order-3', { total: null, revenue: null }));
    expect((await json(await api('GET', '/v1/orders/seg-order-3'))).amount).toBe(2750);
  });

  it('bad order properties are a 400 naming the field, and nothing is written', async () => {
    await expectRefused(
      await post('event-processing', completed('sg-buyer-3', 'seg-order-4', { total: -1 })),
      400,
      'invalid_payload',
      'metadata.total',
    );
    await expectRefused(
      await post('event-processing', completed('sg-buyer-3', 'seg-order-5', { products: [{ quantity: 1.5 }] })),
      400,
      'invalid_payload',
      'metadata.products[0].quantity',
    );
    expect((await api('GET', '/v1/orders/seg-order-4')).status).toBe(404);
    expect(await customer('sg-buyer-3')).toBeNull();
  });
});
