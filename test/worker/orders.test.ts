import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { api, call, capturingQueue, deliver, json, SERVER_HEADERS } from './helpers';

// The orders API against Voucherify's spec. OA = voucherify-openapi production/readOnly-openAPI.json
// @65c33a7: OrderCalculated (L18433), the create-order example answer (L58768), OrdersListResponseBody
// (L19147), CustomerSummaryOrders (L5664: "Lists only data for orders with the PAID or FULFILLED
// status. Data from orders with a CREATED or CANCELED status are not included. The data is updated
// also when an order changes status."), /v1/orders/{orderId} ("Unique Voucherify order ID or order
// source ID", L58871), import-orders (L59046: 2,000 orders per request, answers {async_action_id}).

let n = 0;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++n}`;

async function postOrder(body: unknown, status = 200) {
  const res = await api('POST', '/v1/orders', body);
  const out = await json(res);
  expect(res.status, JSON.stringify(out)).toBe(status);
  return out;
}

async function customer(ref: string) {
  const res = await api('GET', `/v1/customers/${encodeURIComponent(ref)}`);
  expect(res.status).toBe(200);
  return json(res);
}

const summary = async (ref: string) => (await customer(ref)).summary.orders;

describe('POST /v1/orders', () => {
  it('creates an order in the OA OrderCalculated shape, with its customer created by source_id', async () => {
    const source = unique('cust');
    const order = await postOrder({
      source_id: unique('ord'),
      status: 'PAID',
      amount: 20000,
      customer: { source_id: source, name: 'Ann' },
      items: [
        { source_id: 'prod_1', related_object: 'product', quantity: 2, price: 6000, product: { name: 'Phone' } },
        { sku_id: 'sku_2', quantity: 1, price: 8000 },
      ],
      metadata: { channel: 'web' },
    });
    expect(order.id).toMatch(/^ord_/);
    expect(order).toMatchObject({
      object: 'order',
      status: 'PAID',
      amount: 20000,
      discount_amount: null,
      total_amount: 20000,
      metadata: { channel: 'web' },
      customer: { object: 'customer' },
      updated_at: null,
    });
    expect(order.customer_id).toBe(order.customer.id);
    expect(order.items).toEqual([
      {
        object: 'order_item',
        source_id: 'prod_1',
        related_object: 'product',
        quantity: 2,
        price: 6000,
        amount: 12000,
        subtotal_amount: 12000,
        product: { name: 'Phone' },
      },
      { object: 'order_item', sku_id: 'sku_2', quantity: 1, price: 8000, amount: 8000, subtotal_amount: 8000 },
    ]);
    const c = await customer(source);
    expect(c.id).toBe(order.customer_id);
    expect(c.name).toBe('Ann');
    expect(c.summary.orders).toEqual({
      total_amount: 20000,
      total_count: 1,
      average_amount: 20000,
      last_order_amount: 20000,
      last_order_date: order.created_at,
    });
  });

  it('without an amount, the amount is the sum of the items (price × quantity)', async () => {
    const order = await postOrder({
      items: [
        { product_id: 'p', quantity: 3, price: 100 },
        { product_id: 'q', amount: 50 },
      ],
    });
    expect(order.amount).toBe(350);
    expect(order.customer).toBeNull();
  });

  it('resending an order changes nothing: the same order, the summary counted once, no new activity', async () => {
    const source = unique('cust');
    const body = { source_id: unique('ord'), status: 'PAID', amount: 1500, customer: { source_id: source } };
    const first = await postOrder(body);
    const second = await postOrder(body);
    const third = await postOrder(body);
    expect(second.id).toBe(first.id);
    expect(third).toEqual(first);
    expect(await summary(source)).toMatchObject({ total_amount: 1500, total_count: 1 });
    const { results } = await env.DB.prepare('SELECT type FROM order_activities WHERE order_id = ?').bind(first.id).all();
    expect(results.map((r) => r.type)).toEqual(['customer.order.created', 'customer.order.paid']);
  });

  it('upserts by id: the fields given change, the others stay', async () => {
    const source = unique('cust');
    const first = await postOrder({ status: 'CREATED', amount: 700, customer: { source_id: source }, metadata: { a: 1 } });
    const second = await postOrder({ id: first.id, status: 'PAID' });
    expect(second).toMatchObject({ id: first.id, status: 'PAID', amount: 700, metadata: { a: 1 }, customer_id: first.customer_id });
    expect(second.updated_at).not.toBeNull();
    expect(await summary(source)).toMatchObject({ total_amount: 700, total_count: 1 });
  });

  it('only PAID and FULFILLED orders count (OA CustomerSummaryOrders); a status change or a new amount adjusts exactly', async () => {
    const source = unique('cust');
    const sid = unique('ord');
    await postOrder({ source_id: sid, status: 'CREATED', amount: 1000, customer: { source_id: source } });
    expect(await summary(source)).toMatchObject({ total_amount: 0, total_count: 0, last_order_amount: 0 });
    expect((await summary(source)).last_order_date).toBeUndefined();
    await postOrder({ source_id: sid, status: 'PAID' });
    expect(await summary(source)).toMatchObject({ total_amount: 1000, total_count: 1, last_order_amount: 1000 });
    await postOrder({ source_id: sid, amount: 1200 });
    expect(await summary(source)).toMatchObject({ total_amount: 1200, total_count: 1, last_order_amount: 1200 });
    await postOrder({ source_id: unique('ord'), status: 'FULFILLED', amount: 800, customer: { source_id: source } });
    expect(await summary(source)).toMatchObject({ total_amount: 2000, total_count: 2, average_amount: 1000, last_order_amount: 800 });
    await postOrder({ source_id: sid, status: 'CANCELED' });
    expect(await summary(source)).toMatchObject({ total_amount: 800, total_count: 1, average_amount: 800 });
  });

  it("an order moved to another customer leaves the first one's summary", async () => {
    const a = unique('cust');
    const b = unique('cust');
    const sid = unique('ord');
    await postOrder({ source_id: sid, status: 'PAID', amount: 500, customer: { source_id: a } });
    await postOrder({ source_id: sid, customer: { source_id: b } });
    expect(await summary(a)).toMatchObject({ total_amount: 0, total_count: 0 });
    expect(await summary(b)).toMatchObject({ total_amount: 500, total_count: 1 });
  });

  it('an unknown customer id is a 404 in the error shape, and nothing is written', async () => {
    const sid = unique('ord');
    const err = await postOrder({ source_id: sid, status: 'PAID', amount: 1, customer: { id: 'cust_nobody' } }, 404);
    expect(err).toMatchObject({ code: 404, key: 'not_found', resource_type: 'customer' });
    expect((await api('GET', `/v1/orders/${sid}`)).status).toBe(404);
  });

  it('bad input is a 400 naming the field, never a 500', async () => {
    for (const [body, field] of [
      [{ status: 'SHIPPED' }, 'status'],
      [{ amount: -1 }, 'amount'],
      [{ amount: 1.5 }, 'amount'],
      [{ items: Array.from({ length: 501 }, () => ({ product_id: 'p' })) }, 'items'],
      [{ items: [{ product_id: 'p', product: { blob: 'x'.repeat(300_000) } }] }, 'items'],
      [{ metadata: { big: 'x'.repeat(40_000) } }, 'metadata'],
      [{ created_at: 'yesterday' }, 'created_at'],
      [[1, 2], ''],
    ] as const) {
      const res = await api('POST', '/v1/orders', body);
      const err = await json(res);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(err).toMatchObject({ code: 400, key: 'invalid_payload' });
      expect(String(err.details)).toContain(field);
    }
  });

  it('an id naming a source_id another order holds is a 409, nothing written', async () => {
    const taken = unique('ord');
    await postOrder({ source_id: taken, status: 'PAID', amount: 1 });
    const other = await postOrder({ amount: 2 });
    const err = await postOrder({ id: other.id, source_id: taken, amount: 3 }, 409);
    expect(err).toMatchObject({ code: 409, key: 'duplicate_source_id' });
    expect((await json(await api('GET', `/v1/orders/${other.id}`))).amount).toBe(2);
  });
});

describe('GET and PUT /v1/orders/{orderId}', () => {
  it('finds an order by id or by source_id (OA L58871)', async () => {
    const sid = unique('ord');
    const order = await postOrder({ source_id: sid, amount: 10 });
    expect(await json(await api('GET', `/v1/orders/${order.id}`))).toEqual(order);
    expect(await json(await api('GET', `/v1/orders/${sid}`))).toEqual(order);
    const missing = await api('GET', '/v1/orders/ord_missing');
    expect(missing.status).toBe(404);
    expect(await json(missing)).toMatchObject({ code: 404, key: 'not_found', resource_type: 'order' });
  });

  it('PUT changes the fields given and moves the summary', async () => {
    const source = unique('cust');
    const sid = unique('ord');
    await postOrder({ source_id: sid, status: 'CREATED', amount: 300, customer: { source_id: source } });
    const res = await api('PUT', `/v1/orders/${sid}`, { status: 'PAID' });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ source_id: sid, status: 'PAID', amount: 300 });
    expect(await summary(source)).toMatchObject({ total_amount: 300, total_count: 1 });
    expect((await api('PUT', '/v1/orders/ord_missing', { status: 'PAID' })).status).toBe(404);
  });
});

describe('GET /v1/orders', () => {
  it('lists orders oldest first by default (OA list-orders: "the most recent orders appearing last"), with the total', async () => {
    const list = await json(await api('GET', '/v1/orders?limit=100'));
    expect(list).toMatchObject({ object: 'list', data_ref: 'orders' });
    expect(list.total).toBeGreaterThanOrEqual(list.orders.length);
    const times = list.orders.map((o: { created_at: string }) => o.created_at);
    expect([...times].sort()).toEqual(times);
    const desc = await json(await api('GET', '/v1/orders?limit=2&order=-created_at'));
    expect(desc.orders).toHaveLength(2);
    expect(desc.orders[0].created_at >= desc.orders[1].created_at).toBe(true);
    const bad = await api('GET', '/v1/orders?limit=0');
    expect(bad.status).toBe(400);
    expect(await json(bad)).toMatchObject({ key: 'invalid_query_params' });
  });
});

const voucher = async (code: string) => {
  const res = await api('POST', `/v1/vouchers/${encodeURIComponent(code)}`, { discount: { type: 'AMOUNT', amount_off: 100 } });
  expect(res.status).toBe(200);
};
const redeem = async (code: string, body: unknown, status = 200) => {
  const res = await api('POST', `/v1/vouchers/${encodeURIComponent(code)}/redemption`, body);
  const out = await json(res);
  expect(res.status, JSON.stringify(out)).toBe(status);
  return out;
};

describe('redemptions and orders', () => {
  it('a redeem naming an existing order by source_id attaches to it: one order, counted once', async () => {
    const code = unique('ATTACH').toUpperCase();
    await voucher(code);
    const source = unique('cust');
    const sid = unique('ord');
    const order = await postOrder({ source_id: sid, status: 'PAID', amount: 5000, customer: { source_id: source } });
    const r = await redeem(code, { customer: { source_id: source }, order: { source_id: sid, amount: 5000 } });
    expect(r.order.id).toBe(order.id);
    expect((await json(await api('GET', `/v1/redemptions/${r.id}`))).order.id).toBe(order.id);
    expect(await summary(source)).toMatchObject({ total_amount: 5000, total_count: 1 });
    const stored = await json(await api('GET', `/v1/orders/${sid}`));
    expect(stored).toMatchObject({ id: order.id, amount: 5000, status: 'PAID', discount_amount: 100 });
  });

  it('a redeem with an order amount writes a PAID order (OA: PAID unless given); a rollback makes it CANCELED and the summary drops it', async () => {
    const code = unique('RB').toUpperCase();
    await voucher(code);
    const source = unique('cust');
    await postOrder({ source_id: unique('ord'), status: 'PAID', amount: 1000, customer: { source_id: source } });
    const r = await redeem(code, { customer: { source_id: source }, order: { amount: 3000 } });
    const stored = await json(await api('GET', `/v1/orders/${r.order.id}`));
    expect(stored).toMatchObject({ status: 'PAID', amount: 3000, customer_id: r.customer.id });
    expect(await summary(source)).toMatchObject({ total_amount: 4000, total_count: 2, last_order_amount: 3000 });
    const rb = await api('POST', `/v1/redemptions/${r.id}/rollback`, {});
    expect(rb.status).toBe(200);
    expect((await json(await api('GET', `/v1/orders/${r.order.id}`))).status).toBe('CANCELED');
    expect(await summary(source)).toMatchObject({ total_amount: 1000, total_count: 1, last_order_amount: 1000 });
  });

  it('a redeem without an order amount writes no order and counts none, as before', async () => {
    const code = unique('NOAMT').toUpperCase();
    await voucher(code);
    const source = unique('cust');
    const r = await redeem(code, { customer: { source_id: source } });
    expect((await api('GET', `/v1/orders/${r.order.id}`)).status).toBe(404);
    expect(await summary(source)).toMatchObject({ total_count: 0 });
  });

  it('the migration backfill keeps every summary: one order per successful redemption not rolled back with an order amount', async () => {
    const code = unique('BF').toUpperCase();
    await voucher(code);
    const a = unique('cust');
    const b = unique('cust');
    await redeem(code, { customer: { source_id: a }, order: { amount: 1000 } });
    await redeem(code, {
      customer: { source_id: a },
      order: { amount: 2500, items: [{ product_id: 'bf-prod', quantity: 1, price: 2500 }] },
    });
    const gone = await redeem(code, { customer: { source_id: a }, order: { amount: 400 } });
    await api('POST', `/v1/redemptions/${gone.id}/rollback`, {});
    await redeem(code, { customer: { source_id: b }, order: { amount: 700 } });
    await redeem(code, { customer: { source_id: b } });
    const before = { a: await summary(a), b: await summary(b) };
    const ids = [(await customer(a)).id, (await customer(b)).id];
    const theirs = (table: string, columns: string) =>
      env.DB.prepare(`SELECT ${columns} FROM ${table} WHERE customer_id IN (?, ?) ORDER BY 1, 2, 3`)
        .bind(...ids)
        .all();
    const orders = await theirs('orders', 'customer_id, amount, status, products');
    const products = await theirs('customer_products', 'customer_id, product, orders');
    expect(orders.results).toHaveLength(4); // the rolled back one is CANCELED
    // As the database stood before migration 0028: no orders; then the migration's backfill.
    await env.DB.batch([env.DB.prepare('DELETE FROM orders'), env.DB.prepare('DELETE FROM customer_products')]);
    const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith('0028'));
    const backfill = (migration?.queries ?? []).filter((q) => /INSERT (OR IGNORE )?INTO (orders|customer_products) /.test(q));
    expect(backfill).toHaveLength(2);
    await env.DB.batch(backfill.map((q) => env.DB.prepare(q)));
    // The same orders but the rolled back one, with the same product keys; the same product counts.
    expect((await theirs('orders', 'customer_id, amount, status, products')).results).toEqual(
      orders.results.filter((o) => o.status !== 'CANCELED'),
    );
    expect((await theirs('customer_products', 'customer_id, product, orders')).results).toEqual(products.results);
    // Recomputed from the backfilled orders (a PUT of one order recomputes its customer): unchanged.
    for (const [ref, was] of Object.entries(before)) {
      const id = (await customer(ref === 'a' ? a : b)).id;
      const { results } = await env.DB.prepare('SELECT id FROM orders WHERE customer_id = ?').bind(id).all<{ id: string }>();
      await api('PUT', `/v1/orders/${results[0]?.id}`, {});
      expect(await summary(ref === 'a' ? a : b)).toEqual(was);
    }
    expect(before.a).toMatchObject({ total_amount: 3500, total_count: 2 });
    expect(before.b).toMatchObject({ total_amount: 700, total_count: 1 });
  });
});

describe('customers of orders', () => {
  it('a tracking_id links the anonymous profile and merges its history into the customer, as redeem does', async () => {
    const tid = `track_${`${++n}`.padStart(22, 'o')}`;
    const eventId = `evcus_order_${n}`;
    await env.DB.prepare('INSERT INTO tracking_profiles (id, first_seen, last_seen) VALUES (?, ?, ?)').bind(tid, 1, 1).run();
    await env.DB.prepare("INSERT INTO events (id, profile_id, type, metadata, created_at) VALUES (?, ?, 'viewed', '{}', ?)")
      .bind(eventId, tid, 1)
      .run();
    const source = unique('cust');
    const order = await postOrder({
      source_id: unique('ord'),
      status: 'PAID',
      amount: 10,
      customer: { source_id: source },
      tracking_id: tid,
    });
    const profile = await env.DB.prepare('SELECT customer_id FROM tracking_profiles WHERE id = ?').bind(tid).first();
    expect(profile?.customer_id).toBe(order.customer_id);
    const moved = await env.DB.prepare('SELECT profile_id FROM events WHERE id = ?').bind(eventId).first();
    expect(moved?.profile_id).toBe(order.customer_id);
    // A tracking id alone: the customer it is linked to.
    const again = await postOrder({ amount: 20, status: 'PAID', tracking_id: tid });
    expect(again.customer_id).toBe(order.customer_id);
    // Linked to someone else: 400 ambiguous_tracking_id, nothing written.
    const other = unique('ord');
    const err = await postOrder({ source_id: other, amount: 1, customer: { source_id: unique('cust') }, tracking_id: tid }, 400);
    expect(err).toMatchObject({ code: 400, key: 'ambiguous_tracking_id' });
    expect((await api('GET', `/v1/orders/${other}`)).status).toBe(404);
  });

  it("orders appear in the customer's activity as customer.order.created / paid / updated / canceled (OA EventCustomerOrder)", async () => {
    const source = unique('cust');
    const sid = unique('ord');
    await postOrder({ source_id: sid, status: 'CREATED', amount: 100, customer: { source_id: source } });
    await api('PUT', `/v1/orders/${sid}`, { status: 'PAID' });
    await api('PUT', `/v1/orders/${sid}`, { metadata: { note: 'gift' } });
    await api('PUT', `/v1/orders/${sid}`, { status: 'CANCELED' });
    const feed = await json(await api('GET', `/v1/customers/${source}/activity?order=created_at`));
    const orders = feed.data.filter((a: { type: string }) => a.type.startsWith('customer.order.'));
    expect(orders.map((a: { type: string }) => a.type)).toEqual([
      'customer.order.created',
      'customer.order.updated',
      'customer.order.paid',
      'customer.order.updated',
      'customer.order.updated',
      'customer.order.canceled',
    ]);
    expect(orders[0].data.data).toMatchObject({
      customer: { source_id: source, object: 'customer' },
      order: { source_id: sid, status: 'CREATED' },
    });
    expect(orders[2].data.data.order.status).toBe('PAID');
    expect(orders[3].data.data.order.metadata).toEqual({ note: 'gift' });
    const paid = await json(await api('GET', `/v1/customers/${source}/activity?type=customer.order.paid`));
    expect(paid.data).toHaveLength(1);
  });

  it('an order that puts its customer in an auto-update segment records the entry and its webhook event in the same batch', async () => {
    await env.DB.prepare(
      `INSERT INTO webhook_endpoints (id, url, events, secret, enabled, created_at) VALUES ('wh_orders', 'https://hooks.example/in', ?, 'whsec_dGVzdA==', 1, ?)
       ON CONFLICT (id) DO NOTHING`,
    )
      .bind(JSON.stringify(['customer.segment.entered', 'customer.created']), Date.now())
      .run();
    const seg = await json(
      await api('POST', '/v1/segments', {
        name: unique('big spenders'),
        type: 'auto-update',
        filter: { junction: 'and', 'summary.orders.total_amount': { conditions: { $more_than: [99_000] } } },
      }),
    );
    const source = unique('cust');
    const order = await postOrder({ source_id: unique('ord'), status: 'PAID', amount: 100_000, customer: { source_id: source } });
    const members = await json(await api('GET', `/v1/customers?segment_id=${seg.id}`));
    expect(members.customers.map((c: { id: string }) => c.id)).toContain(order.customer_id);
    const { results } = await env.DB.prepare('SELECT type FROM webhook_outbox WHERE customer_id = ? ORDER BY seq')
      .bind(order.customer_id)
      .all();
    expect(results.map((r) => r.type)).toEqual(['customer.created', 'customer.segment.entered']);
  });
});

describe('POST /v1/orders/import', () => {
  it('sends the valid orders as queue messages, reports the bad ones by index, and answers {async_action_id} (OA L19137)', async () => {
    const queue = capturingQueue();
    const body = [
      { source_id: unique('imp'), status: 'PAID', amount: 10, customer: { source_id: unique('cust') } },
      { source_id: unique('imp'), status: 'NOPE' },
      { amount: 5 },
      { source_id: unique('imp'), amount: 7, customer: { id: 'cust_nobody' } },
    ];
    const res = await call(
      '/v1/orders/import',
      { method: 'POST', headers: { ...SERVER_HEADERS, 'Content-Type': 'application/json' }, body: JSON.stringify(body) },
      { WRITES: queue } as never,
    );
    expect(res.status).toBe(200);
    const { async_action_id } = await json(res);
    const action = await json(await api('GET', `/v1/async-actions/${async_action_id}`));
    expect(action).toMatchObject({ type: 'ORDERS.IMPORT', status: 'IN_PROGRESS', result: { done_count: 0, failed_count: 2 } });
    expect(action.result.errors[0]).toMatchObject({ key: 'invalid_payload', source_id: body[1]?.source_id });
    // A customer id that names nobody fails its order, as POST /v1/orders answers 404.
    expect(action.result.errors[1]).toMatchObject({ key: 'not_found', source_id: body[3]?.source_id });
    expect(action.result.errors[1].details).toMatch(/^\[3\]: customer: /);
    expect(queue.sent).toHaveLength(1);
    expect(queue.sent[0]).toMatchObject({ kind: 'order_import', action_id: async_action_id, total: 2, from: 0 });
    // An order without id or source_id got its id when sent: delivered twice, it is written once.
    await deliver(queue.sent);
    await deliver(queue.sent);
    const done = await json(await api('GET', `/v1/async-actions/${async_action_id}`));
    expect(done).toMatchObject({ status: 'DONE', progress: 100, result: { done_count: 2, failed_count: 2 } });
    const message = queue.sent[0] as { orders: { key: { id?: string } }[] };
    const newId = message.orders[1]?.key.id;
    expect((await json(await api('GET', `/v1/orders/${newId}`))).amount).toBe(5);
  });

  it('a message larger than its run sends the orders left as a new message, from the first slice not written; every slice once', async () => {
    const queue = capturingQueue();
    const buyer = unique('cust');
    const body = Array.from({ length: 1200 }, (_, i) => ({
      source_id: `${buyer}-o${i}`,
      status: 'PAID',
      amount: 1,
      customer: { source_id: buyer },
    }));
    const res = await call(
      '/v1/orders/import',
      { method: 'POST', headers: { ...SERVER_HEADERS, 'Content-Type': 'application/json' }, body: JSON.stringify(body) },
      { WRITES: queue } as never,
    );
    const { async_action_id } = await json(res);
    const sent = [...queue.sent];
    expect(sent.length).toBeGreaterThan(1);
    // One message holding them all: its run ends on the delivery's statement budget.
    const whole = { ...(sent[0] as object), orders: sent.flatMap((m) => (m as { orders: unknown[] }).orders) } as never;
    const before = queue.sent.length;
    await deliver([whole], { WRITES: queue } as never);
    const rest = queue.sent.slice(before) as { from: number; orders: unknown[]; id: string }[];
    expect(rest).toHaveLength(1);
    expect(rest[0]?.from).toBeGreaterThan(0);
    expect(rest[0]?.orders.length).toBe(1200 - (rest[0]?.from ?? 0) * 25);
    // The original delivered again (as after a crash) writes nothing twice; then the rest, until done.
    await deliver([whole], { WRITES: queue } as never);
    let next = queue.sent.slice(before + 1) as never[];
    for (let i = 0; i < 20 && next.length > 0; i++) {
      const at = queue.sent.length;
      await deliver(next, { WRITES: queue } as never);
      next = queue.sent.slice(at) as never[];
    }
    const action = await json(await api('GET', `/v1/async-actions/${async_action_id}`));
    expect(action).toMatchObject({ status: 'DONE', result: { done_count: 1200 } });
    expect(await summary(buyer)).toMatchObject({ total_count: 1200, total_amount: 1200 });
  });
});

describe('the segment filter on products bought (our extension: orders.products.<id>.count)', () => {
  it('an auto-update segment holds the customers with a counting order of the product; a cancellation takes them out', async () => {
    const seg = await json(
      await api('POST', '/v1/segments', {
        name: unique('bought MacBookAir'),
        type: 'auto-update',
        filter: { junction: 'and', 'orders.products.MacBookAir.count': { conditions: { $more_than: [0] } } },
      }),
    );
    const members = async () =>
      (await json(await api('GET', `/v1/customers?segment_id=${seg.id}&limit=100`))).customers.map(
        (c: { source_id: string }) => c.source_id,
      );
    const buyer = unique('cust');
    const sid = unique('ord');
    // By the item's source_id (related_object product), as the OA example names products.
    await postOrder({
      source_id: sid,
      status: 'CREATED',
      customer: { source_id: buyer },
      items: [{ source_id: 'MacBookAir', related_object: 'product', quantity: 1, price: 99_900 }],
    });
    expect(await members()).not.toContain(buyer);
    await api('PUT', `/v1/orders/${sid}`, { status: 'PAID' });
    expect(await members()).toEqual([buyer]);
    // Another buyer, by the product's own record in the item.
    const other = unique('cust');
    await postOrder({
      status: 'FULFILLED',
      customer: { source_id: other },
      items: [{ product_id: 'prod_x', product: { source_id: 'MacBookAir' }, quantity: 1, price: 1 }],
    });
    expect((await members()).sort()).toEqual([buyer, other].sort());
    // A passive segment of the same filter, judged now for one customer (GET /v1/customers/{id}/segments).
    const passive = await json(
      await api('POST', '/v1/segments', {
        name: unique('bought MacBookAir, passive'),
        type: 'passive',
        filter: { junction: 'and', 'orders.products.MacBookAir.count': { conditions: { $more_than: [0] } } },
      }),
    );
    const segmentsOf = async (ref: string) =>
      (await json(await api('GET', `/v1/customers/${ref}/segments`))).data.map((s: { id: string }) => s.id);
    expect(await segmentsOf(buyer)).toContain(passive.id);
    await api('PUT', `/v1/orders/${sid}`, { status: 'CANCELED' });
    expect(await members()).toEqual([other]);
    expect(await segmentsOf(buyer)).not.toContain(passive.id);
    expect(await segmentsOf(other)).toContain(passive.id);
    // A filter path that names no product is a 400.
    const bad = await api('POST', '/v1/segments', {
      name: 'x',
      type: 'passive',
      filter: { 'orders.products.count': { conditions: { $more_than: [0] } } },
    });
    expect(bad.status).toBe(400);
  });
});

describe('POST /v1/orders/importCSV (our addition)', () => {
  const importCsv = (csv: string, queue: ReturnType<typeof capturingQueue>) => {
    const form = new FormData();
    form.append('file', new Blob([csv], { type: 'text/csv' }), 'orders.csv');
    return call('/v1/orders/importCSV', { method: 'POST', headers: SERVER_HEADERS, body: form }, { WRITES: queue } as never);
  };

  it('one row per order line: rows of one Order_Source_Id make one order; other columns are metadata; a bad order is reported by its row', async () => {
    const buyer = unique('cust');
    const a = unique('csv');
    const b = unique('csv');
    const csv = [
      'Order_Source_Id,Status,Amount,Customer_Source_Id,Customer_Email,Product_Id,Quantity,Price,Store',
      `${a},paid,3000,${buyer},csv@example.com,MacBookAir,1,2000,Berlin`,
      `${a},,,,,case-1,2,500,`,
      `${b},SHIPPED,100,${buyer},,,,,`,
      `,PAID,,,,p,1,1,`,
    ].join('\r\n');
    const queue = capturingQueue();
    const res = await importCsv(csv, queue);
    expect(res.status).toBe(200);
    const { async_action_id } = await json(res);
    await deliver(queue.sent);
    const action = await json(await api('GET', `/v1/async-actions/${async_action_id}`));
    expect(action).toMatchObject({ type: 'ORDERS.IMPORT', status: 'DONE', result: { done_count: 2, failed_count: 1 } });
    expect(action.result.errors[0]).toMatchObject({ key: 'invalid_payload', source_id: b });
    expect(action.result.errors[0].details).toMatch(/^row 3: status/);
    const order = await json(await api('GET', `/v1/orders/${a}`));
    expect(order).toMatchObject({ status: 'PAID', amount: 3000, metadata: { store: 'Berlin' } });
    expect(order.items).toMatchObject([
      { product_id: 'MacBookAir', quantity: 1, price: 2000 },
      { product_id: 'case-1', quantity: 2, price: 500 },
    ]);
    expect(await customer(buyer)).toMatchObject({ email: 'csv@example.com', summary: { orders: { total_count: 1, total_amount: 3000 } } });
  });

  it('a file without an order key column, or not a file, is a 400 and starts nothing', async () => {
    const queue = capturingQueue();
    const res = await importCsv('Status,Amount\r\nPAID,1', queue);
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ key: 'invalid_payload' });
    const proto = await importCsv('Order_Id,__proto__\r\nx,1', queue);
    expect(proto.status).toBe(400);
    const none = await call('/v1/orders/importCSV', {
      method: 'POST',
      headers: { ...SERVER_HEADERS, 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(none.status).toBe(400);
    expect(queue.sent).toEqual([]);
  });
});

describe('deleting a customer', () => {
  it('drops what it bought as a filter input; its orders stay, naming its id (as Voucherify keeps them)', async () => {
    const buyer = unique('cust');
    const order = await postOrder({
      status: 'PAID',
      amount: 10,
      customer: { source_id: buyer },
      items: [{ product_id: 'del-prod', quantity: 1 }],
    });
    const count = () =>
      env.DB.prepare('SELECT count(*) AS n FROM customer_products WHERE customer_id = ?').bind(order.customer_id).first('n');
    expect(await count()).toBe(1);
    expect((await api('DELETE', `/v1/customers/${buyer}`)).status).toBe(204);
    expect(await count()).toBe(0);
    expect((await json(await api('GET', `/v1/orders/${order.id}`))).customer_id).toBe(order.customer_id);
  });
});
