/**
 * POST /v1/segments/preview (our addition): who a filter matches
 * now, and against a saved segment who would enter and leave, with no write. The bar: the enter /
 * leave diff equals what the real save writes, and the preview is bounded as every walk over all
 * customers is (no one D1 call over all of them).
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileSql, parseFilter } from '../../shared/filter';
import type { SegmentPreview } from '../../shared/types';
import { READ_MAX_RANGE } from '../../worker/src/lib/range-sizer';
import { previewSegment } from '../../worker/src/services/segment-preview';
import { api, json } from './helpers';

const tier = (...tiers: string[]) => ({ 'metadata.ptier': { conditions: { $in: tiers } } });

const members = async (segmentId: string): Promise<string[]> => {
  const list = await json(await api('GET', `/v1/customers?segment_id=${segmentId}&limit=100`));
  expect(list.total).toBeLessThan(100);
  return list.customers.map((c: { id: string }) => c.id).sort();
};

const preview = async (body: unknown): Promise<SegmentPreview> => {
  const res = await api('POST', '/v1/segments/preview', body);
  expect(res.status).toBe(200);
  return json(res);
};

/** The content of every table of the schema (miniflare's bookmark moves on every query, so it cannot tell). */
async function everyRow(): Promise<Record<string, unknown[]>> {
  const tables = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY name",
  ).all<{ name: string }>();
  const dump: Record<string, unknown[]> = {};
  for (const { name } of tables.results) dump[name] = (await env.DB.prepare(`SELECT * FROM "${name}" ORDER BY 1`).all()).results;
  expect(Object.keys(dump)).toContain('customers');
  return dump;
}

const ids = (sample: { id: string }[]) => sample.map((c) => c.id).sort();
const minus = (a: string[], b: string[]) => a.filter((x) => !b.includes(x)).sort();

/** Customers p0…p11 with tiers gold, silver, platinum, bronze in turn, created in that order. */
const created: { id: string; source_id: string }[] = [];
beforeAll(async () => {
  const tiers = ['gold', 'silver', 'platinum', 'bronze'];
  for (let i = 0; i < 12; i++) {
    const body = {
      source_id: `preview-${i}`,
      name: `Preview ${i}`,
      email: `p${i}@preview.test`,
      metadata: { ptier: tiers[i % 4], pscore: i },
    };
    created.push(await json(await api('POST', '/v1/customers', body)));
  }
});

describe('POST /v1/segments/preview', () => {
  it('counts what a saved segment with the filter lists, and samples the first matches by created_at', async () => {
    const filter = { junction: 'or', ...tier('gold'), 'metadata.pscore': { conditions: { $more_than: [9] } } };
    const saved = await json(await api('POST', '/v1/segments', { name: 'twin', type: 'passive', filter }));
    const listed = await members(saved.id);

    const result = await preview({ filter, limit: 3 });
    expect(result.object).toBe('segment_preview');
    expect(result.count).toBe(listed.length);
    expect(result.count).toBe(5); // gold: p0, p4, p8; score > 9: p10, p11
    expect(result.sample).toEqual(
      [0, 4, 8].map((i) => ({ id: created[i]?.id, source_id: `preview-${i}`, name: `Preview ${i}`, email: `p${i}@preview.test` })),
    );
    expect(typeof result.took_ms).toBe('number');
    expect(result.against).toBeUndefined();

    expect((await preview({ filter })).sample).toHaveLength(5); // default limit 10
    const none = await preview({ filter, limit: 0 });
    expect(none).toMatchObject({ count: 5, sample: [] });
    await api('DELETE', `/v1/segments/${saved.id}`);
  });

  it('refuses a bad filter naming its path, a limit out of 0..100, and an unknown segment to compare with', async () => {
    const bad = await api('POST', '/v1/segments/preview', { filter: { 'metadata.ptier': { conditions: { $bogus: ['x'] } } } });
    expect(bad.status).toBe(400);
    const error = await json(bad);
    expect(error).toMatchObject({ code: 400, key: 'invalid_payload' });
    expect(error.details).toContain('filter.metadata.ptier');

    for (const limit of [-1, 101, 2.5, '5']) {
      const res = await api('POST', '/v1/segments/preview', { filter: tier('gold'), limit });
      expect(res.status).toBe(400);
      expect((await json(res)).details).toContain('limit');
    }
    expect((await api('POST', '/v1/segments/preview', {})).status).toBe(400);

    const unknown = await api('POST', '/v1/segments/preview', { filter: tier('gold'), against: 'seg_doesnotexist' });
    expect(unknown.status).toBe(404);
    expect(await json(unknown)).toMatchObject({ code: 404, key: 'not_found' });
  });

  it('against a passive segment: entering and leaving are exactly what its PUT changes in GET /v1/customers?segment_id=', async () => {
    const seg = await json(await api('POST', '/v1/segments', { name: 'gold or silver', type: 'passive', filter: tier('gold', 'silver') }));
    const before = await members(seg.id);
    const next = tier('silver', 'platinum');

    const result = await preview({ filter: next, against: seg.id, limit: 100 });
    const put = await api('PUT', `/v1/segments/${seg.id}`, { filter: next });
    expect(put.status).toBe(200);
    const after = await members(seg.id);

    expect(result.count).toBe(after.length);
    expect(result.against?.segment_id).toBe(seg.id);
    expect(ids(result.against?.entering.sample ?? [])).toEqual(minus(after, before));
    expect(ids(result.against?.leaving.sample ?? [])).toEqual(minus(before, after));
    expect(result.against?.entering.count).toBe(3); // platinum
    expect(result.against?.leaving.count).toBe(3); // gold
    // The same filter against itself: nobody moves.
    const same = await preview({ filter: next, against: seg.id });
    expect(same.against).toMatchObject({ entering: { count: 0, sample: [] }, leaving: { count: 0, sample: [] } });
    await api('DELETE', `/v1/segments/${seg.id}`);
  });

  it('against an auto-update segment: entering and leaving are what a new segment with the filter stores against the old one', async () => {
    const old = await json(await api('POST', '/v1/segments', { name: 'old', type: 'auto-update', filter: tier('gold', 'bronze') }));
    const oldMembers = await members(old.id);
    expect(oldMembers).toHaveLength(6);
    const next = { junction: 'and', ...tier('gold', 'platinum'), 'metadata.pscore': { conditions: { $less_than: [9] } } };

    const result = await preview({ filter: next, against: old.id, limit: 2 });
    const fresh = await json(await api('POST', '/v1/segments', { name: 'new', type: 'auto-update', filter: next }));
    expect(fresh.initial_sync_status).toBe('DONE');
    const newMembers = await members(fresh.id);

    expect(result.count).toBe(newMembers.length);
    const entering = minus(newMembers, oldMembers);
    const leaving = minus(oldMembers, newMembers);
    expect(result.against?.entering.count).toBe(entering.length);
    expect(result.against?.leaving.count).toBe(leaving.length);
    // limit 2: the first two of each by created_at (customer ids are random, created_at is the order).
    const order = (list: string[]) =>
      created
        .map((c) => c.id)
        .filter((id) => list.includes(id))
        .slice(0, 2);
    expect(result.against?.entering.sample.map((c) => c.id)).toEqual(order(entering));
    expect(result.against?.leaving.sample.map((c) => c.id)).toEqual(order(leaving));
    expect(entering.length).toBeGreaterThan(0);
    expect(leaving.length).toBeGreaterThan(2);
    await api('DELETE', `/v1/segments/${old.id}`);
    await api('DELETE', `/v1/segments/${fresh.id}`);
  });

  it('against a static segment: its stored members are who is in it now', async () => {
    const seg = await json(
      await api('POST', '/v1/segments', { name: 'hand-picked', type: 'static', customers: [created[0]?.id, created[1]?.id] }),
    );
    const result = await preview({ filter: tier('silver'), against: seg.id, limit: 100 });
    // silver: p1, p5, p9; members p0 (gold, leaves) and p1 (silver, stays).
    expect(ids(result.against?.entering.sample ?? [])).toEqual([5, 9].map((i) => created[i]?.id).sort());
    expect(ids(result.against?.leaving.sample ?? [])).toEqual([created[0]?.id]);
    await api('DELETE', `/v1/segments/${seg.id}`);
  });

  it('refuses, naming `against`, a pair of filters that together need more than the 100 parameters D1 binds', async () => {
    // 30 metadata conditions bind 60 parameters (a JSON path and a value each): one fits, two do not.
    const wide = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`metadata.k${i}`, { conditions: { $more_than: [i] } }]));
    expect(compileSql(parseFilter(wide), Date.now()).params).toHaveLength(60);
    const seg = await json(await api('POST', '/v1/segments', { name: 'wide', type: 'passive', filter: wide }));
    expect((await api('POST', '/v1/segments/preview', { filter: wide })).status).toBe(200);
    const res = await api('POST', '/v1/segments/preview', { filter: wide, against: seg.id });
    expect(res.status).toBe(400);
    expect((await json(res)).details).toMatch(/^against: /);
    await api('DELETE', `/v1/segments/${seg.id}`);
  });

  it('writes nothing: every statement it sends only reads, and every table is unchanged after it', async () => {
    const seg = await json(await api('POST', '/v1/segments', { name: 'read only', type: 'auto-update', filter: tier('gold') }));
    const statements: string[] = [];
    const db = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === 'prepare') {
          return (query: string) => {
            statements.push(query);
            return target.prepare(query);
          };
        }
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const result = await previewSegment(db, { filter: tier('silver'), against: seg.id, limit: 10 });
    expect(result.against?.entering.count).toBe(3);
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      expect(statement.trim()).toMatch(/^(SELECT|WITH)\b/);
      expect(statement).not.toMatch(/\b(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b/i);
    }

    // Through the route: every row of every table is as it was.
    const before = await everyRow();
    expect((await api('POST', '/v1/segments/preview', { filter: tier('silver'), against: seg.id, limit: 100 })).status).toBe(200);
    expect(await everyRow()).toEqual(before);
    await api('DELETE', `/v1/segments/${seg.id}`);
  });
});

describe('a preview over many customers walks them in bounded ranges', () => {
  // More than one READ_MAX_RANGE (the preview reads only: its bound is 20,000, range-sizer.ts).
  const MANY = 21_000;
  const FILTER = {
    junction: 'and',
    'metadata.bulk': { conditions: { $is: ['yes'] } },
    email: { conditions: { $ends_with: ['@bulk.test'] } },
  };
  // The fragment of db/customers.ts rangePredicate (ascending).
  const RANGE = 'c.created_at > ? AND c.created_at <= (SELECT max(k) FROM (';

  it('walks the customers in ranges of at most READ_MAX_RANGE, one D1 call each, and counts exactly what the filter matches', async () => {
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO customers (id, source_id, email, metadata, created_at)
       SELECT printf('cust_bulk%05d', i), 'bulk-' || i, 'b' || i || CASE i % 3 WHEN 0 THEN '@bulk.test' ELSE '@other.test' END,
              json_object('bulk', CASE i % 2 WHEN 0 THEN 'yes' ELSE 'no' END), ? + i
       FROM n`,
    )
      .bind(MANY, Date.now() + 1_000_000)
      .run();
    const { sql, params } = compileSql(parseFilter(FILTER), Date.now());
    const truth = (
      await env.DB.prepare(`SELECT count(*) AS n FROM customers c WHERE ${sql}`)
        .bind(...params)
        .first<{ n: number }>()
    )?.n;
    expect(truth).toBe(Math.floor(MANY / 6));

    const calls: { sql: string; params: unknown[] }[][] = [];
    const db = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === 'prepare') {
          return (query: string) => {
            const statement = target.prepare(query);
            return new Proxy(statement, {
              get(s, p) {
                if (p === 'bind') return (...args: unknown[]) => Object.assign(s.bind(...args), { recorded: { sql: query, params: args } });
                const value = Reflect.get(s, p, s) as unknown;
                return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(s) : value;
              },
            });
          };
        }
        if (prop === 'batch') {
          return (statements: D1PreparedStatement[]) => {
            calls.push(statements.map((s) => (s as unknown as { recorded: { sql: string; params: unknown[] } }).recorded));
            return target.batch(statements);
          };
        }
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const result = await previewSegment(db, { filter: FILTER, limit: 5 });
    expect(result.count).toBe(truth);
    expect(result.sample.map((c) => c.source_id)).toEqual(['bulk-6', 'bulk-12', 'bulk-18', 'bulk-24', 'bulk-30']);

    const judging = calls.flat().filter((s) => s.sql.includes(sql));
    expect(judging.length).toBeGreaterThanOrEqual(Math.ceil(MANY / READ_MAX_RANGE));
    for (const s of judging) {
      const at = s.sql.indexOf(RANGE);
      expect(at).toBeGreaterThan(-1);
      // rangePredicate binds [after, after, size]: the size is the third placeholder of the fragment.
      const size = s.params[s.sql.slice(0, at).split('?').length - 1 + 2] as number;
      expect(size).toBeGreaterThan(0);
      expect(size).toBeLessThanOrEqual(READ_MAX_RANGE);
    }
    // Each call judges one range: never two filter statements in one batch.
    for (const call of calls) expect(call.filter((s) => s.sql.includes(sql)).length).toBeLessThanOrEqual(1);
  });
});
