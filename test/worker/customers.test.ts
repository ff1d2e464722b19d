import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { api, json, settled } from './helpers';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

async function create(body: unknown) {
  const res = await api('POST', '/v1/customers', body);
  expect(res.status).toBe(200);
  return json(res);
}

describe('POST /v1/customers', () => {
  it('creates a customer in the Voucherify shape', async () => {
    const c = await create({
      source_id: 'alice@example.com',
      name: 'Alice',
      email: 'alice@example.com',
      phone: '+48 600 000 000',
      birthdate: '1990-02-28',
      description: 'VIP',
      address: { city: 'Warsaw', country: 'Poland' },
      metadata: { tier: 'gold', size: 5 },
    });
    expect(c.id).toMatch(/^cust_[0-9A-Za-z]{24}$/);
    expect(c).toMatchObject({
      object: 'customer',
      source_id: 'alice@example.com',
      name: 'Alice',
      email: 'alice@example.com',
      birthdate: '1990-02-28',
      address: { city: 'Warsaw', country: 'Poland', state: null, line_1: null, line_2: null, postal_code: null },
      metadata: { tier: 'gold', size: 5 },
      system_metadata: {},
      summary: {
        redemptions: { total_redeemed: 0, gift: { redeemed_amount: 0, amount_to_go: 0 } },
        orders: { total_amount: 0, total_count: 0, average_amount: 0, last_order_amount: 0 },
      },
      loyalty: { points: 0, referred_customers: 0 },
    });
    expect(c.created_at).toMatch(ISO_MS);
    expect(c.updated_at).toBeUndefined();
    expect(c.summary.orders.last_order_date).toBeUndefined();
  });

  it('creates a customer without source_id, with address null', async () => {
    const c = await create({ name: 'Anonymous' });
    expect(c.source_id).toBeNull();
    expect(c.address).toBeNull();
    expect(c.metadata).toEqual({});
  });

  it('upserts by source_id: the same customer, fields replaced, updated_at set', async () => {
    const first = await create({ source_id: 'upsert-1', name: 'Bob', metadata: { a: 1 } });
    const second = await create({ source_id: 'upsert-1', email: 'bob@example.com', metadata: { b: 2 } });
    expect(second.id).toBe(first.id);
    expect(second.name).toBe('Bob');
    expect(second.email).toBe('bob@example.com');
    expect(second.metadata).toEqual({ b: 2 });
    expect(second.created_at).toBe(first.created_at);
    expect(second.updated_at).toMatch(ISO_MS);
  });

  it('upserts by id, and answers 404 for an unknown id', async () => {
    const c = await create({ name: 'Carol' });
    const updated = await create({ id: c.id, name: 'Carol B' });
    expect(updated).toMatchObject({ id: c.id, name: 'Carol B' });
    const res = await api('POST', '/v1/customers', { id: 'cust_unknown', name: 'x' });
    expect(res.status).toBe(404);
    expect(await json(res)).toMatchObject({ code: 404, key: 'not_found', resource_type: 'customer', resource_id: 'cust_unknown' });
  });

  it('accepts the deprecated birthday alias', async () => {
    expect((await create({ birthday: '2001-12-31' })).birthdate).toBe('2001-12-31');
  });

  it('gives every customer its own created_at, even inside one millisecond', async () => {
    const made = await Promise.all(Array.from({ length: 5 }, (_, i) => create({ name: `same-ms-${i}` })));
    expect(new Set(made.map((c) => c.created_at)).size).toBe(5);
  });

  it('refuses a source_id taken by another customer with 409 and writes nothing', async () => {
    await create({ source_id: 'taken' });
    const other = await create({ source_id: 'free', name: 'Dan' });
    const res = await api('POST', '/v1/customers', { id: other.id, source_id: 'taken', name: 'changed' });
    expect(res.status).toBe(409);
    expect(await json(res)).toMatchObject({ key: 'duplicate_source_id' });
    expect((await json(await api('GET', `/v1/customers/${other.id}`))).name).toBe('Dan');
  });

  it.each([
    ['email of the wrong type', { email: 5 }, 'email'],
    ['an invalid email', { email: 'not-an-email' }, 'email'],
    ['a birthdate that is no calendar date', { birthdate: '2021-02-30' }, 'birthdate'],
    ['an address field of the wrong type', { address: { city: 12 } }, 'address.city'],
    ['metadata that is an array', { metadata: [1, 2] }, 'metadata'],
    ['an empty source_id', { source_id: '' }, 'source_id'],
    ['a too long name', { name: 'x'.repeat(256) }, 'name'],
    ['oversized metadata', { metadata: { blob: 'x'.repeat(40_000) } }, 'metadata'],
    ['a body that is not an object', [1, 2], ''],
  ])('refuses %s with 400 naming the field', async (_, body, field) => {
    const res = await api('POST', '/v1/customers', body);
    expect(res.status).toBe(400);
    const err = await json(res);
    expect(err).toMatchObject({ code: 400, key: 'invalid_payload', message: 'Invalid payload' });
    expect(err.request_id).toBe(res.headers.get('X-Request-Id'));
    if (field) expect(err.details.startsWith(`${field}:`)).toBe(true);
    const { total } = (await env.DB.prepare("SELECT count(*) AS total FROM customers WHERE name = 'x'").first<{ total: number }>()) ?? {
      total: -1,
    };
    expect(total).toBe(0);
  });

  it('refuses malformed JSON with 400 invalid_payload', async () => {
    const res = await api('POST', '/v1/customers', '{"name": ');
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ key: 'invalid_payload', details: 'The request body is not valid JSON.' });
  });

  it('refuses an empty body with 400', async () => {
    const res = await api('POST', '/v1/customers');
    expect(res.status).toBe(400);
    expect((await json(res)).key).toBe('invalid_payload');
  });

  it('refuses a body over 1 MiB with 413 in the error shape', async () => {
    const res = await api('POST', '/v1/customers', JSON.stringify({ name: 'x'.repeat(1024 * 1024) }));
    expect(res.status).toBe(413);
    expect(await json(res)).toMatchObject({ code: 413, key: 'request_too_large' });
  });
});

describe('GET /v1/customers/{id or source_id}', () => {
  it('finds a customer by id and by source_id, including odd characters', async () => {
    const c = await create({ source_id: 's 1/x?é', name: 'Odd' });
    expect((await json(await api('GET', `/v1/customers/${c.id}`))).id).toBe(c.id);
    const bySource = await api('GET', `/v1/customers/${encodeURIComponent('s 1/x?é')}`);
    expect(bySource.status).toBe(200);
    expect((await json(bySource)).id).toBe(c.id);
  });

  it('answers 404 in the Voucherify shape for an unknown customer', async () => {
    const res = await api('GET', '/v1/customers/nobody');
    expect(res.status).toBe(404);
    const err = await json(res);
    expect(err).toEqual({
      code: 404,
      key: 'not_found',
      message: 'Resource not found',
      details: 'Cannot find customer with id nobody',
      request_id: res.headers.get('X-Request-Id'),
      resource_id: 'nobody',
      resource_type: 'customer',
    });
  });
});

describe('PUT /v1/customers/{id}', () => {
  it('updates only the fields given', async () => {
    const c = await create({ source_id: 'put-1', name: 'Eve', email: 'eve@example.com', address: { city: 'Oslo', country: 'Norway' } });
    const res = await api('PUT', '/v1/customers/put-1', { source_id: 'put-1', phone: '123', address: { city: 'Bergen' } });
    expect(res.status).toBe(200);
    const u = await json(res);
    expect(u).toMatchObject({ id: c.id, name: 'Eve', email: 'eve@example.com', phone: '123' });
    expect(u.address).toMatchObject({ city: 'Bergen', country: 'Norway' });
    expect(u.updated_at).toMatch(ISO_MS);
  });

  it('clears a field set to null, and the address with address: null', async () => {
    const c = await create({ name: 'Finn', email: 'finn@example.com', address: { city: 'Rome' } });
    const u = await json(await api('PUT', `/v1/customers/${c.id}`, { email: null, address: null }));
    expect(u.email).toBeNull();
    expect(u.address).toBeNull();
    expect(u.name).toBe('Finn');
  });

  it('answers 404 for an unknown customer (no upsert on PUT)', async () => {
    const res = await api('PUT', '/v1/customers/alice2@morgan.com', { name: 'x' });
    expect(res.status).toBe(404);
    expect((await json(res)).details).toBe('Cannot find customer with id alice2@morgan.com');
  });

  it('refuses bad input with 400 and leaves the customer unchanged', async () => {
    const c = await create({ name: 'Gus' });
    const res = await api('PUT', `/v1/customers/${c.id}`, { name: 'Gustav', phone: { n: 1 } });
    expect(res.status).toBe(400);
    expect((await json(res)).details).toMatch(/^phone:/);
    expect((await json(await api('GET', `/v1/customers/${c.id}`))).name).toBe('Gus');
  });
});

describe('DELETE /v1/customers/{id}', () => {
  it('deletes with 204 and no body; the customer is gone', async () => {
    const c = await create({ source_id: 'del-1' });
    const res = await api('DELETE', `/v1/customers/${c.id}`);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect((await api('GET', `/v1/customers/${c.id}`)).status).toBe(404);
    // The source id is free again.
    expect((await create({ source_id: 'del-1' })).id).not.toBe(c.id);
  });

  it('answers 404 for an unknown customer', async () => {
    expect((await api('DELETE', '/v1/customers/cust_nope')).status).toBe(404);
  });
});

describe('POST /v1/customers/{id}/permanent-deletion', () => {
  it('removes the customer and returns the deletion object', async () => {
    const c = await create({ source_id: 'forget-me', email: 'forget@example.com' });
    const res = await api('POST', `/v1/customers/forget-me/permanent-deletion`, {});
    expect(res.status).toBe(200);
    const deletion = await json(res);
    expect(deletion).toMatchObject({
      related_object_id: c.id,
      related_object: 'customer',
      status: 'DONE',
      object: 'pernament_deletion',
      data_json: { customer: 1, events: 0, segments: 0, orders: 0 },
    });
    expect(deletion.id).toMatch(/^del_/);
    const left = await env.DB.prepare('SELECT count(*) AS n FROM customers WHERE id = ? OR email = ?')
      .bind(c.id, 'forget@example.com')
      .first<{ n: number }>();
    expect(left?.n).toBe(0);
  });

  it('removes the person from every table: events, segment memberships, profile', async () => {
    const seg = await json(
      await api('POST', '/v1/segments', { name: 'forgettable', filter: { 'metadata.forget': { conditions: { $is: [true] } } } }),
    );
    const c = await create({ source_id: 'forget-all', metadata: { forget: true } });
    await api('POST', '/v1/events', { event: 'viewed', customer: { source_id: 'forget-all' } });
    await api('POST', '/v1/events', { event: 'viewed', customer: { source_id: 'forget-all' } });
    await settled();
    const deletion = await json(await api('POST', `/v1/customers/${c.id}/permanent-deletion`, {}));
    // Two custom events plus the segment-entered event; one membership.
    expect(deletion.data_json).toMatchObject({ customer: 1, events: 3, segments: 1 });
    for (const [table, column] of [
      ['customers', 'id'],
      ['events', 'profile_id'],
      ['segment_members', 'customer_id'],
    ]) {
      const left = await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${column} = ?`).bind(c.id).first<{ n: number }>();
      expect(left?.n).toBe(0);
    }
    expect((await json(await api('GET', `/v1/customers?segment_id=${seg.id}`))).total).toBe(0);
  });

  it('answers 404 for an unknown customer', async () => {
    expect((await api('POST', '/v1/customers/cust_nope/permanent-deletion', {})).status).toBe(404);
  });
});
