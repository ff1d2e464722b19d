import { beforeAll, describe, expect, it } from 'vitest';
import { api, json } from './helpers';

// Fixture: 25 customers created one after another; every 5th lives in Berlin.
const made: any[] = [];

beforeAll(async () => {
  for (let i = 0; i < 25; i++) {
    const res = await api('POST', '/v1/customers', {
      source_id: `list-${String(i).padStart(2, '0')}`,
      name: i === 7 ? 'Seven' : `Customer ${i}`,
      email: `c${i}@Example.com`,
      address: { city: i % 5 === 0 ? 'Berlin' : 'Paris' },
    });
    made.push(await json(res));
  }
});

const list = async (query: string) => {
  const res = await api('GET', `/v1/customers${query}`);
  expect(res.status).toBe(200);
  return json(res);
};

describe('GET /v1/customers', () => {
  it('lists newest first, 10 by default, with total and has_more', async () => {
    const page = await list('');
    expect(page).toMatchObject({ object: 'list', data_ref: 'customers', total: 25, has_more: true });
    expect(page.customers).toHaveLength(10);
    expect(page.customers[0].id).toBe(made[24].id);
    expect(page.customers[9].id).toBe(made[15].id);
  });

  it('pages with limit and page; the last page has has_more false', async () => {
    const third = await list('?limit=10&page=3');
    expect(third.customers.map((c: any) => c.id)).toEqual(
      made
        .slice(0, 5)
        .reverse()
        .map((c) => c.id),
    );
    expect(third.has_more).toBe(false);
  });

  it('orders by created_at, updated_at and source_id in both directions', async () => {
    expect((await list('?order=created_at&limit=1')).customers[0].id).toBe(made[0].id);
    expect((await list('?order=-source_id&limit=1')).customers[0].source_id).toBe('list-24');
    expect((await list('?order=source_id&limit=1')).customers[0].source_id).toBe('list-00');
    await api('PUT', `/v1/customers/${made[3].id}`, { description: 'touched' });
    expect((await list('?order=-updated_at&limit=1')).customers[0].id).toBe(made[3].id);
  });

  it('filters by email (any case), city and name', async () => {
    const byEmail = await list(`?email=${encodeURIComponent('C3@example.COM')}`);
    expect(byEmail.customers.map((c: any) => c.id)).toEqual([made[3].id]);
    const berlin = await list('?city=Berlin&limit=100');
    expect(berlin.total).toBe(5);
    expect(berlin.customers.every((c: any) => c.address.city === 'Berlin')).toBe(true);
    expect((await list('?name=Seven')).customers.map((c: any) => c.id)).toEqual([made[7].id]);
  });

  it('filters by created_at[before|after] in the qs format of the SDK', async () => {
    const after = made[19].created_at;
    const page = await list(`?${encodeURIComponent('created_at[after]')}=${encodeURIComponent(after)}&limit=100`);
    expect(page.customers.map((c: any) => c.id).sort()).toEqual(
      made
        .slice(20)
        .map((c) => c.id)
        .sort(),
    );
    const before = await list(`?created_at[before]=${encodeURIComponent(made[2].created_at)}&limit=100`);
    expect(before.total).toBe(2);
  });

  it('walks everything with the starting_after cursor, as scroll() does', async () => {
    const seen: string[] = [];
    let cursor = '2200-01-01T00:00:00Z';
    for (let guard = 0; guard < 10; guard++) {
      const page = await list(`?limit=7&starting_after=${encodeURIComponent(cursor)}`);
      seen.push(...page.customers.map((c: any) => c.id));
      if (!page.has_more) break;
      cursor = page.customers.at(-1).created_at;
    }
    expect(seen).toEqual(made.map((c) => c.id).reverse());
  });

  it('walks ascending with order=created_at', async () => {
    const page = await list(`?order=created_at&limit=100&starting_after=${encodeURIComponent(made[22].created_at)}`);
    expect(page.customers.map((c: any) => c.id)).toEqual([made[23].id, made[24].id]);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=abc', 'limit'],
    ['page=0', 'page'],
    ['page=100', 'page'],
    ['order=name', 'order'],
    ['created_at[before]=yesterday', 'created_at[before]'],
    ['starting_after=not-a-date', 'starting_after'],
    ['starting_after=2020-01-01&order=source_id', 'starting_after'],
  ])('refuses %s with 400 invalid_query_params naming it', async (query, field) => {
    const res = await api('GET', `/v1/customers?${query}`);
    expect(res.status).toBe(400);
    const err = await json(res);
    expect(err.key).toBe('invalid_query_params');
    expect(err.details.startsWith(`${field}:`)).toBe(true);
  });
});
