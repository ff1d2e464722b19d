import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { api, json } from './helpers';

const createCustomer = async (body: unknown) => json(await api('POST', '/v1/customers', body));
const createSegment = async (body: unknown) => {
  const res = await api('POST', '/v1/segments', body);
  expect(res.status).toBe(200);
  return json(res);
};
const memberIds = async (segmentId: string) =>
  (await json(await api('GET', `/v1/customers?segment_id=${segmentId}&limit=100`))).customers.map((c: any) => c.id).sort();
const segmentIdsOf = async (customer: string) =>
  (await json(await api('GET', `/v1/customers/${encodeURIComponent(customer)}/segments`))).data.map((s: any) => s.id).sort();
const activity = async (customer: string) =>
  (await json(await api('GET', `/v1/customers/${encodeURIComponent(customer)}/activity?limit=100`))).data;

const goldFilter = { junction: 'and', 'metadata.tier': { conditions: { $is: ['gold'] } } };
const levelFilter = { junction: 'AND', 'metadata.level': { conditions: { $is: 'gold' } } };

describe('static segments', () => {
  it('holds exactly the customers given, by id or source id', async () => {
    const a = await createCustomer({ source_id: 'st-a' });
    const b = await createCustomer({ source_id: 'st-b' });
    await createCustomer({ source_id: 'st-c' });
    const seg = await createSegment({ name: 'picked', type: 'static', customers: [a.id, 'st-b'] });
    expect(seg).toMatchObject({ name: 'picked', type: 'static', filter: null, initial_sync_status: 'DONE', object: 'segment' });
    expect(seg.id).toMatch(/^seg_[0-9A-Za-z]{24}$/);
    expect(await memberIds(seg.id)).toEqual([a.id, b.id].sort());
    // A later change to the customer does not move a static segment.
    await api('PUT', `/v1/customers/${a.id}`, { metadata: { tier: 'gold' } });
    expect(await memberIds(seg.id)).toEqual([a.id, b.id].sort());
    expect(await segmentIdsOf('st-b')).toEqual([seg.id]);
  });

  it('refuses unknown customers with 400 naming them, and stores nothing', async () => {
    await createCustomer({ source_id: 'st-known' });
    const res = await api('POST', '/v1/segments', { name: 'bad', type: 'static', customers: ['st-known', 'ghost-1'] });
    expect(res.status).toBe(400);
    expect((await json(res)).details).toMatch(/^customers: 1 unknown customer\(s\): ghost-1/);
    expect((await json(await api('GET', '/v1/segments?limit=100'))).data.some((s: any) => s.name === 'bad')).toBe(false);
  });

  it('caps a static segment at 20,000 customers', async () => {
    const refs = Array.from({ length: 20_001 }, (_, i) => `cust_${i}`);
    const res = await api('POST', '/v1/segments', { name: 'huge', type: 'static', customers: refs });
    expect(res.status).toBe(400);
    expect((await json(res)).details).toMatch(/^customers: a static segment holds at most 20000 customers/);
  });

  it('accepts 20,000 customers', async () => {
    const records = Array.from({ length: 100 }, (_, i) => ({ source_id: `bulk-st-${i}` }));
    await api('POST', '/v1/customers/bulk/async', records);
    // 100 real customers plus 19,900 repeats of them: the cap counts the list, members are unique.
    const refs = Array.from({ length: 20_000 }, (_, i) => `bulk-st-${i % 100}`);
    const seg = await createSegment({ name: 'max', type: 'static', customers: refs });
    expect((await json(await api('GET', `/v1/customers?segment_id=${seg.id}&limit=1`))).total).toBe(100);
  });
});

describe('auto-update segments', () => {
  it('syncs existing customers at creation, then follows every write', async () => {
    const gold = await createCustomer({ source_id: 'au-gold', metadata: { level: 'gold' } });
    const silver = await createCustomer({ source_id: 'au-silver', metadata: { level: 'silver' } });
    const seg = await createSegment({ name: 'gold', type: 'auto-update', filter: levelFilter });
    expect(seg).toMatchObject({ type: 'auto-update', filter: levelFilter, initial_sync_status: 'DONE' });
    expect(await memberIds(seg.id)).toEqual([gold.id]);

    // update
    await api('PUT', '/v1/customers/au-silver', { metadata: { level: 'gold' } });
    expect(await memberIds(seg.id)).toEqual([gold.id, silver.id].sort());
    // upsert by source_id
    await api('POST', '/v1/customers', { source_id: 'au-gold', metadata: { level: 'bronze' } });
    expect(await memberIds(seg.id)).toEqual([silver.id]);
    // create
    const fresh = await createCustomer({ source_id: 'au-new', metadata: { level: 'gold' } });
    expect(await memberIds(seg.id)).toEqual([silver.id, fresh.id].sort());
    // bulk
    await api('POST', '/v1/customers/bulk/async', [
      { source_id: 'au-new', metadata: { level: 'none' } },
      { source_id: 'au-bulk', metadata: { level: 'gold' } },
    ]);
    const bulk = await json(await api('GET', '/v1/customers/au-bulk'));
    expect(await memberIds(seg.id)).toEqual([silver.id, bulk.id].sort());
    // metadata bulk
    await api('POST', '/v1/customers/metadata/async', { source_ids: ['au-gold'], metadata: { level: 'gold' } });
    expect(await memberIds(seg.id)).toEqual([gold.id, silver.id, bulk.id].sort());
    expect(await segmentIdsOf('au-gold')).toEqual([seg.id]);
  });

  it('records each entered/left transition exactly once across a sequence of updates', async () => {
    const seg = await createSegment({ name: 'vip', filter: { 'metadata.vip': { conditions: { $is: [true] } } } });
    expect(seg.type).toBe('auto-update');
    const c = await createCustomer({ source_id: 'tr-1', metadata: { vip: false } });
    const steps = [true, true, false, false, true, false];
    for (const vip of steps) await api('PUT', '/v1/customers/tr-1', { metadata: { vip } });
    // Writes that change nothing about membership record nothing.
    await api('PUT', '/v1/customers/tr-1', { name: 'Same' });

    const transitions = (await activity(c.id))
      .filter((e: any) => e.data.data.segment?.id === seg.id)
      .reverse()
      .map((e: any) => e.type);
    expect(transitions).toEqual(['customer.segment.entered', 'customer.segment.left', 'customer.segment.entered', 'customer.segment.left']);
    const entered = (await activity(c.id)).find((e: any) => e.type === 'customer.segment.entered');
    // OA CustomerActivity (OA:L4638): the event data object under data.data; EventCustomerSegmentEntered
    // is {customer, segment: SimpleSegment}.
    expect(entered).toMatchObject({
      data: { data: { segment: { id: seg.id, name: 'vip', object: 'segment' }, customer: { id: c.id, object: 'customer' } } },
    });
    expect(entered.id).toMatch(/^evcus_/);
  });

  it('leaves a deleted customer out of the members', async () => {
    const seg = await createSegment({ name: 'berlin', filter: { 'address.city': { conditions: { $is: ['Berlin'] } } } });
    const c = await createCustomer({ address: { city: 'Berlin' } });
    expect(await memberIds(seg.id)).toEqual([c.id]);
    await api('DELETE', `/v1/customers/${c.id}`);
    expect(await memberIds(seg.id)).toEqual([]);
  });
});

describe('passive segments', () => {
  it('are evaluated live, store no members and emit no events', async () => {
    const seg = await createSegment({
      name: 'big spenders',
      type: 'passive',
      filter: { 'metadata.spent': { conditions: { $more_than: [100] } } },
    });
    const c = await createCustomer({ source_id: 'pv-1', metadata: { spent: 50 } });
    expect(await memberIds(seg.id)).toEqual([]);
    await api('PUT', '/v1/customers/pv-1', { metadata: { spent: 500 } });
    expect(await memberIds(seg.id)).toEqual([c.id]);
    expect(await segmentIdsOf('pv-1')).toEqual([seg.id]);
    const stored = await env.DB.prepare('SELECT count(*) AS n FROM segment_members WHERE segment_id = ?')
      .bind(seg.id)
      .first<{ n: number }>();
    expect(stored?.n).toBe(0);
    expect((await activity(c.id)).filter((e: any) => e.type.startsWith('customer.segment'))).toEqual([]);
  });
});

describe('segment filters are validated on create', () => {
  it.each([
    ['an unknown field', { 'shoe.size': { conditions: { $is: ['5'] } } }, 'filter.shoe.size'],
    ['an unknown operator', { name: { conditions: { $sounds_like: ['x'] } } }, 'filter.name.conditions.$sounds_like'],
    [
      'a wrong value type',
      { 'summary.orders.total_amount': { conditions: { $more_than: ['lots'] } } },
      'filter.summary.orders.total_amount.conditions.$more_than',
    ],
    ['a bad junction', { junction: 'xor', name: { conditions: { $is: ['x'] } } }, 'filter.junction'],
    ['a quote in a metadata key', { "metadata.a'b": { conditions: { $is: ['x'] } } }, "filter.metadata.a'b"],
  ])('refuses %s with 400 naming the path', async (_, filter, path) => {
    const res = await api('POST', '/v1/segments', { name: 'bad', type: 'auto-update', filter });
    expect(res.status).toBe(400);
    const err = await json(res);
    expect(err.key).toBe('invalid_payload');
    expect(err.details.startsWith(path)).toBe(true);
  });

  it('treats an injection attempt in a value as data', async () => {
    const c = await createCustomer({ name: "x' OR 1=1 --" });
    await createCustomer({ name: 'someone else' });
    const seg = await createSegment({ name: 'inj', type: 'passive', filter: { name: { conditions: { $is: ["x' OR 1=1 --"] } } } });
    expect(await memberIds(seg.id)).toEqual([c.id]);
  });

  it.each([
    ['static without customers', { name: 's', type: 'static' }, 'customers'],
    ['static with a filter', { name: 's', type: 'static', customers: ['a'], filter: goldFilter }, 'filter'],
    ['auto-update without filter', { name: 'a', type: 'auto-update' }, 'filter'],
    ['passive with customers', { name: 'p', type: 'passive', filter: goldFilter, customers: ['a'] }, 'customers'],
    ['no name', { type: 'passive', filter: goldFilter }, 'name'],
    ['an unknown type', { name: 'x', type: 'dynamic', filter: goldFilter }, 'type'],
  ])('refuses %s with 400', async (_, body, field) => {
    const res = await api('POST', '/v1/segments', body);
    expect(res.status).toBe(400);
    expect((await json(res)).details.startsWith(`${field}:`)).toBe(true);
  });
});

describe('segment endpoints', () => {
  it('gets, lists and deletes segments', async () => {
    const seg = await createSegment({ name: 'listed', type: 'passive', filter: goldFilter });
    expect(await json(await api('GET', `/v1/segments/${seg.id}`))).toEqual(seg);
    const list = await json(await api('GET', '/v1/segments?limit=100'));
    expect(list).toMatchObject({ object: 'list', data_ref: 'data' });
    expect(list.data.map((s: any) => s.id)).toContain(seg.id);
    expect((await api('DELETE', `/v1/segments/${seg.id}`)).status).toBe(204);
    const gone = await api('GET', `/v1/segments/${seg.id}`);
    expect(gone.status).toBe(404);
    expect(await json(gone)).toMatchObject({
      key: 'not_found',
      resource_type: 'segment',
      details: `Cannot find segment with id ${seg.id}`,
    });
    expect((await api('DELETE', `/v1/segments/${seg.id}`)).status).toBe(404);
  });

  it('answers 404 for members of an unknown segment', async () => {
    expect((await api('GET', '/v1/customers?segment_id=seg_nope')).status).toBe(404);
  });

  it('pages the members of a segment', async () => {
    const seg = await createSegment({ name: 'paged', filter: { 'metadata.group': { conditions: { $is: ['p'] } } } });
    for (let i = 0; i < 12; i++) await createCustomer({ metadata: { group: 'p' } });
    const first = await json(await api('GET', `/v1/customers?segment_id=${seg.id}&limit=5`));
    expect(first).toMatchObject({ total: 12, has_more: true });
    expect(first.customers).toHaveLength(5);
    const last = await json(await api('GET', `/v1/customers?segment_id=${seg.id}&limit=5&page=3`));
    expect(last.customers).toHaveLength(2);
    expect(last.has_more).toBe(false);
  });
});

describe('segments of a customer not stored (OA:L57610)', () => {
  it('answers 200 with the auto-update and passive segments an empty profile would qualify for; never a static one', async () => {
    const anyone = await createCustomer({ source_id: 'wq-anyone' });
    const noOrders = await createSegment({
      name: 'no orders yet',
      filter: { 'summary.orders.total_count': { conditions: { $less_than: [1] } } },
    });
    const noEmail = await createSegment({ name: 'no email', type: 'passive', filter: { email: { conditions: { $is_unknown: true } } } });
    await createSegment({ name: 'gold only', filter: { 'metadata.tier': { conditions: { $is: ['gold'] } } } });
    await createSegment({ name: 'picked', type: 'static', customers: [anyone.id] });
    const res = await api('GET', '/v1/customers/not-yet-tracked/segments');
    expect(res.status).toBe(200);
    // OA CustomersSegmentsListResponseBody example (OA:L57649): {object:'list', data_ref:'data', data:[{id, name, object}], total}.
    const body = await json(res);
    expect(body).toMatchObject({ object: 'list', data_ref: 'data' });
    expect(body.data.map((s: any) => s.id).sort()).toEqual([noOrders.id, noEmail.id].sort());
    expect(body.data[0]).toEqual({ id: expect.any(String), name: expect.any(String), object: 'segment' });
    expect(body.total).toBe(2);
    // Nothing is created by asking.
    expect((await api('GET', '/v1/customers/not-yet-tracked')).status).toBe(404);
  });
});
