/**
 * The membership refresh of a customer write (services/membership.ts refreshMemberships): a constant
 * number of statements whatever the number of auto-update segments, and exactly what the per-segment
 * diff guaranteed: stored membership equals the filter's SQL (compileSql) over every customer, one
 * customer.segment.entered per entry and one left per exit, no event for a segment whose initial
 * sync has not judged the customer, the pending record for a segment the writer did not know, and
 * nothing left in the scratch table (migration 0027) outside a batch.
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileSql, parseFilter, packParams } from '../../shared/filter';
import { updateCustomer } from '../../worker/src/db/customers';
import { clearSegmentMatches, insertSegment, membershipRefresh } from '../../worker/src/db/segments';
import { selectorSql } from '../../worker/src/db/customers';
import { customerEventStatements } from '../../worker/src/services/events';
import { customerWriteBatch, loadActiveSegments, refreshMemberships } from '../../worker/src/services/membership';
import { runInitialSync } from '../../worker/src/services/segment-sync';
import { api, json, settled } from './helpers';

const DAY = 86_400_000;
const NOW = Date.now();
const CUSTOMERS = 36;
const cid = (i: number) => `cust_refresh${String(i).padStart(3, '0')}`;
const sid = (i: number) => `refresh-${i}`;

const TIERS = ['gold', 'silver', 'Gold', 'bronze', null];
const CITIES = ['Berlin', 'berlin', 'München', 'Paris', null];

/** A varied customer, inserted as a row (summary columns and created_at included, which no write route sets). */
function customerRow(i: number): Record<string, unknown> {
  return {
    id: cid(i),
    source_id: sid(i),
    name: i % 7 === 0 ? null : `Person ${i} ${i % 2 ? 'Smith' : 'Jones'}`,
    email: i % 5 === 0 ? null : `p${i}@${i % 3 ? 'example.com' : 'Example.ORG'}`,
    phone: i % 4 === 0 ? `+48 600 ${i}` : null,
    description: i % 6 === 0 ? '50%_off' : 'regular',
    address_city: CITIES[i % CITIES.length],
    address_country: i % 2 ? 'Germany' : 'France',
    address_postal_code: i % 3 ? `10${i}` : null,
    birthdate: i % 4 ? `19${70 + (i % 30)}-0${1 + (i % 9)}-15` : null,
    created_at: NOW - (CUSTOMERS - i) * DAY,
    orders_total_amount: (i % 8) * 10_000,
    orders_total_count: i % 6,
    orders_last_order_date: i % 3 ? NOW - i * 7 * DAY : null,
    loyalty_points: i * 10,
    metadata: JSON.stringify({
      tier: TIERS[i % TIERS.length],
      age: i % 4 === 0 ? String(20 + i) : 20 + i,
      tags: i % 3 === 0 ? ['vip', 'early'] : i % 3 === 1 ? ['early'] : [],
      newsletter: i % 2 === 0,
      lucky: [i % 10, 13],
      signup: `2025-0${1 + (i % 9)}-1${i % 10}`,
      profile: { level: { n: i % 4 } },
    }),
  };
}

/** Every kind of filter field and test: text, numbers, timestamps, calendar dates, metadata JSON, event counts, junctions. */
const on = (field: string, conditions: Record<string, unknown>) => ({ [field]: { conditions } });
const FILTERS: Record<string, unknown>[] = [
  on('name', { $starts_with: ['person 1'] }),
  on('name', { $is_unknown: true }),
  on('email', { $ends_with: ['.com'] }),
  on('email', { $in: ['p1@example.com', 'P2@EXAMPLE.COM', "o'brien@example.com"] }),
  on('phone', { $contains: ['600'] }),
  on('description', { $contains: ['0%_'] }),
  on('address.city', { $is: ['Berlin'] }),
  on('address.city', { $contains: ['ü'] }),
  on('address.country', { $is_not: ['Germany'] }),
  on('address.postal_code', { $starts_with: [10] }),
  on('birthdate', { $before: ['1985-01-01'] }),
  on('birthdate', { $has_value: true }),
  on('created_at', { $after: ['2020-01-01'] }),
  on('summary.orders.total_amount', { $more_than: [25_000] }),
  on('summary.orders.total_count', { $more_than_equal: [3] }),
  on('summary.orders.total_count', { $in: [1, 2] }),
  on('summary.orders.last_order_date', { $more_than_ago: [60] }),
  on('loyalty.points', { $less_than_equal: [150] }),
  on('metadata.tier', { $in: ['gold', 'silver'] }),
  on('metadata.tier', { $is_unknown: true }),
  on('metadata.age', { $more_than: [40] }),
  on('metadata.age', { $is: ['44.0'] }),
  on('metadata.tags', { $is: ['vip'] }),
  on('metadata.tags', { $count: [1] }),
  on('metadata.lucky', { $is: [7] }),
  on('metadata.newsletter', { $is: [true] }),
  on('metadata.signup', { $before: ['2025-05-01'] }),
  on('metadata.profile.level.n', { $more_than_equal: [2] }),
  on('events.viewed.count', { $more_than_equal: [1] }),
  on('events.viewed.count', { $more_than: [2] }),
  on('events.bought.count', { $less_than: [1] }),
  { junction: 'or', ...on('metadata.tier', { $is: ['bronze'] }), ...on('events.bought.count', { $more_than: [0] }) },
  { junction: 'and', ...on('address.city', { $is: ['Paris'] }), ...on('summary.orders.total_amount', { $more_than: [0] }) },
  {
    ...on('email', { $ends_with: ['example.com'] }),
    ...on('metadata.age', { $less_than: [45] }),
    ...on('loyalty.points', { $more_than: [50] }),
  },
  // Many conditions, each with its own bound values: 40 filters then bind well over D1's 100.
  Object.fromEntries([
    ['junction', 'or'],
    ...Array.from({ length: 15 }, (_, k) => [`metadata.m${k}`, { conditions: { $more_than: [k] } }]),
  ]),
  on('metadata.tier', { $not_in: ['gold'] }),
  on('name', { $contains: ['smith', 'jones'] }),
  {
    ...on('metadata.age', { $more_than: [25] }),
    ...Object.fromEntries(Array.from({ length: 14 }, (_, k) => [`metadata.x${k}`, { conditions: { $is_not: [k] } }])),
  },
  on('metadata.signup', { $after: ['2025-03-01'] }),
  {},
];

type Key = string;
/** What the test expects the events table to say: entered/left per segment and customer. */
const transitions = new Map<Key, { entered: number; left: number }>();
const key = (segment: string, customer: string): Key => `${segment}|${customer}`;

async function allIds(where: { sql: string; params: unknown[] }): Promise<string[]> {
  const { results } = await env.DB.prepare(`SELECT id FROM customers c WHERE ${where.sql} ORDER BY id`)
    .bind(...where.params)
    .all<{ id: string }>();
  return results.map((r) => r.id);
}

async function members(segmentId: string): Promise<string[]> {
  const { results } = await env.DB.prepare('SELECT customer_id FROM segment_members WHERE segment_id = ? ORDER BY customer_id')
    .bind(segmentId)
    .all<{ customer_id: string }>();
  return results.map((r) => r.customer_id);
}

async function autoUpdate(): Promise<{ id: string; filter: string; sync_cursor: number | null }[]> {
  return (
    await env.DB.prepare("SELECT id, filter, sync_cursor FROM segments WHERE type = 'auto-update' ORDER BY created_at").all<{
      id: string;
      filter: string;
      sync_cursor: number | null;
    }>()
  ).results;
}

/** The filter's truth now, per auto-update segment. */
async function truth(): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const s of await autoUpdate()) out.set(s.id, await allIds(compileSql(parseFilter(JSON.parse(s.filter)), Date.now())));
  return out;
}

/** The stored membership of every auto-update segment. */
async function stored(): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const s of await autoUpdate()) out.set(s.id, await members(s.id));
  return out;
}

async function segmentEvents(): Promise<Map<Key, { entered: number; left: number }>> {
  const { results } = await env.DB.prepare(
    `SELECT metadata ->> '$.segment.id' AS segment, profile_id, type, count(*) AS n FROM events
     WHERE type IN ('customer.segment.entered', 'customer.segment.left') GROUP BY 1, 2, 3`,
  ).all<{ segment: string; profile_id: string; type: string; n: number }>();
  const out = new Map<Key, { entered: number; left: number }>();
  for (const r of results) {
    const k = key(r.segment, r.profile_id);
    const entry = out.get(k) ?? { entered: 0, left: 0 };
    if (r.type === 'customer.segment.entered') entry.entered = r.n;
    else entry.left = r.n;
    out.set(k, entry);
  }
  return out;
}

/**
 * Runs `write`, then checks: every segment's stored membership is its filter's SQL over all
 * customers; the events record exactly the transitions between the membership before and after,
 * for the customers each segment's initial sync had judged (created_at <= cursor, or DONE); the
 * scratch table is empty.
 */
async function expectExactAfter(write: () => Promise<unknown>): Promise<void> {
  const before = await stored();
  const segments = await autoUpdate();
  const created = new Map(
    (await env.DB.prepare('SELECT id, created_at FROM customers').all<{ id: string; created_at: number }>()).results.map((r) => [
      r.id,
      r.created_at,
    ]),
  );
  await write();
  const after = await truth();
  for (const s of segments) {
    expect([s.id, await members(s.id)]).toEqual([s.id, after.get(s.id)]);
    const was = new Set(before.get(s.id));
    const now = new Set(after.get(s.id));
    const synced = (c: string) => s.sync_cursor === null || (created.get(c) ?? Infinity) <= s.sync_cursor;
    for (const c of now)
      if (!was.has(c) && synced(c)) {
        const t = transitions.get(key(s.id, c)) ?? { entered: 0, left: 0 };
        transitions.set(key(s.id, c), { ...t, entered: t.entered + 1 });
      }
    for (const c of was)
      if (!now.has(c) && synced(c)) {
        const t = transitions.get(key(s.id, c)) ?? { entered: 0, left: 0 };
        transitions.set(key(s.id, c), { ...t, left: t.left + 1 });
      }
  }
  const recorded = await segmentEvents();
  expect(Object.fromEntries([...recorded].sort())).toEqual(
    Object.fromEntries([...transitions].filter(([, t]) => t.entered + t.left > 0).sort()),
  );
  expect(await env.DB.prepare('SELECT count(*) AS n FROM segment_matches').first()).toEqual({ n: 0 });
}

beforeAll(async () => {
  const rows = Array.from({ length: CUSTOMERS }, (_, i) => customerRow(i));
  await env.DB.batch(
    rows.map((row) => {
      const columns = Object.keys(row);
      return env.DB.prepare(`INSERT INTO customers (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`).bind(
        ...columns.map((c) => row[c]),
      );
    }),
  );
  // Events before the segments exist: event counts are part of the starting state.
  await env.DB.batch(
    Array.from({ length: CUSTOMERS }, (_, i) =>
      env.DB.prepare('INSERT INTO events (id, profile_id, type, metadata, created_at) VALUES (?, ?, ?, ?, ?)').bind(
        `evcus_seed${i}`,
        cid(i),
        i % 3 ? 'viewed' : 'bought',
        '{}',
        NOW - DAY,
      ),
    ),
  );
  for (const [i, filter] of FILTERS.entries()) {
    const res = await api('POST', '/v1/segments', { name: `shape ${i}`, type: 'auto-update', filter });
    expect([i, res.status]).toEqual([i, 200]);
  }
}, 60_000);

describe('the membership refresh of a customer write', () => {
  it('starts from the initial syncs, which record no events', async () => {
    expect((await autoUpdate()).length).toBe(FILTERS.length);
    expect(await stored()).toEqual(await truth());
    expect((await segmentEvents()).size).toBe(0);
    // Every shape matches some customers and misses others (so writes can move them both ways), the empty filter aside.
    const t = await truth();
    const sizes = [...t.values()].map((ids) => ids.length);
    expect(sizes.filter((n) => n > 0 && n < CUSTOMERS).length).toBeGreaterThanOrEqual(FILTERS.length - 4);
  });

  it('costs the same number of statements at 0, 5, 20 and 40 segments, with more bound values than D1 allows in one statement', async () => {
    const all = await loadActiveSegments(env.DB);
    expect(all.length).toBe(40);
    const message = {
      kind: 'customer_event' as const,
      id: 'evmsg_count',
      at: Date.now(),
      customer: { id: cid(1) },
      event: { id: 'evcus_count', type: 'viewed', metadata: {} },
    };
    const counts = [0, 5, 20, 40].map((n) => ({
      segments: n,
      refresh: refreshMemberships(env.DB, all.slice(0, n), { ids: [cid(1)] }, Date.now()).length,
      event: customerEventStatements(env.DB, message, all.slice(0, n)).length,
    }));
    expect(counts).toEqual([
      { segments: 0, refresh: 1, event: 2 },
      { segments: 5, refresh: 7, event: 8 },
      { segments: 20, refresh: 7, event: 8 },
      { segments: 40, refresh: 7, event: 8 },
    ]);
    // The 40 filters bind far more than 100 values: one statement judges them, through one JSON parameter.
    const values = all.reduce((n, s) => n + compileSql(s.ast, Date.now()).params.length, 0);
    expect(values).toBeGreaterThan(100);
  });

  it('keeps membership exact and each transition recorded once: single writes through the API', async () => {
    await expectExactAfter(async () => {
      for (let i = 0; i < 12; i++) {
        const res = await api('PUT', `/v1/customers/${cid(i)}`, {
          email: i % 2 ? `moved${i}@example.org` : `p${i}@example.com`,
          address: { city: CITIES[(i + 1) % CITIES.length] },
          metadata: { tier: TIERS[(i + 2) % TIERS.length], age: 30 + i * 2, tags: i % 2 ? ['vip'] : [] },
        });
        expect(res.status).toBe(200);
      }
    });
    // Moving back and forth: each entry and exit again recorded once more.
    await expectExactAfter(async () => {
      for (let i = 0; i < 12; i++) await api('PUT', `/v1/customers/${cid(i)}`, { metadata: { tier: TIERS[i % TIERS.length] } });
    });
  });

  it('keeps membership exact for writes that select many customers at once: bulk, metadata merges', async () => {
    await expectExactAfter(async () => {
      const records = Array.from({ length: 20 }, (_, j) => ({
        source_id: sid(j + 10),
        name: j % 2 ? `Person 1${j}` : null,
        address: { city: CITIES[j % CITIES.length], country: j % 3 ? 'France' : 'Germany' },
        metadata: { tier: TIERS[(j + 1) % TIERS.length], age: String(20 + j * 3), newsletter: j % 2 === 1 },
      }));
      expect((await api('POST', '/v1/customers/bulk/async', records)).status).toBe(202);
    });
    await expectExactAfter(async () => {
      const res = await api('POST', '/v1/customers/metadata/async', {
        source_ids: Array.from({ length: 15 }, (_, j) => sid(j * 2)),
        metadata: { tier: 'gold', profile: { level: { n: 3 } } },
      });
      expect(res.status).toBe(202);
    });
  });

  it('keeps membership exact for events written by the queue consumer', async () => {
    await expectExactAfter(async () => {
      for (let i = 0; i < CUSTOMERS; i += 2) {
        await api('POST', '/v1/events', { event: i % 4 ? 'viewed' : 'bought', customer: { source_id: sid(i) } });
      }
      await settled();
    });
  });

  it('records a segment created mid-way as pending for a writer that did not know it, with events only for customers its sync has judged', async () => {
    const stale = await loadActiveSegments(env.DB);
    // A new segment whose initial sync has judged customers 0 to 5 so far (its cursor), as a walk
    // that outgrew its first request leaves it.
    const cursor = customerRow(5).created_at as number;
    const fresh = { id: 'seg_refresh_midway', name: 'mid-way' };
    await insertSegment(env.DB, {
      ...fresh,
      type: 'auto-update',
      filter: JSON.stringify(on('metadata.tier', { $is: ['silver'] })),
      time_relative: 0,
      initial_sync_status: 'IN_PROGRESS',
      sync_cursor: cursor,
      created_at: Date.now(),
      updated_at: null,
    }).run();
    // What that walk stored: the matching customers up to its cursor, silently.
    const walked = compileSql(parseFilter(on('metadata.tier', { $is: ['silver'] })), Date.now());
    await env.DB.prepare(
      `INSERT INTO segment_members (segment_id, customer_id, created_at) SELECT ?, c.id, ? FROM customers c WHERE c.created_at <= ? AND ${walked.sql}`,
    )
      .bind(fresh.id, Date.now(), cursor, ...walked.params)
      .run();
    const silverBefore = await members(fresh.id);
    await expectExactAfter(async () => {
      // A writer that read the segments before it existed: its customer is recorded pending for it.
      const batch = customerWriteBatch(
        env.DB,
        stale,
        [updateCustomer(env.DB, cid(3), { metadata: { tier: 'silver' } }, Date.now())],
        { ids: [cid(3)] },
        Date.now(),
      );
      await env.DB.batch(batch.statements);
      expect((await env.DB.prepare('SELECT customer_id FROM segment_pending WHERE segment_id = ?').bind(fresh.id).all()).results).toEqual([
        { customer_id: cid(3) },
      ]);
      // Writers that know it: customers 4 and 5 (judged by the sync) enter with an event; 6 and 20
      // (not reached yet) are set silently, as the walk would set them.
      for (const i of [4, 5, 6, 20])
        expect((await api('PUT', `/v1/customers/${cid(i)}`, { metadata: { tier: 'silver' } })).status).toBe(200);
      expect(await members(fresh.id)).toEqual([...new Set([...silverBefore, cid(4), cid(5), cid(6), cid(20)])].sort());
      expect(await runInitialSync(env.DB, fresh.id, { calls: 100, deadline: Date.now() + 30_000 })).toMatchObject({ status: 'DONE' });
    });
    expect(await env.DB.prepare('SELECT count(*) AS n FROM segment_pending').first()).toEqual({ n: 0 });
    const entered = await env.DB.prepare(
      "SELECT profile_id FROM events WHERE type = 'customer.segment.entered' AND metadata ->> '$.segment.id' = ? ORDER BY profile_id",
    )
      .bind(fresh.id)
      .all<{ profile_id: string }>();
    // 3 (through its pending record), 4 and 5 entered; 6 and 20 were set silently.
    expect(entered.results.map((r) => r.profile_id)).toEqual([cid(3), cid(4), cid(5)].filter((c) => !silverBefore.includes(c)));
    expect(entered.results.length).toBeGreaterThan(0);
    // Synced now: a customer leaving it is a transition, recorded.
    await expectExactAfter(async () => {
      expect((await api('PUT', `/v1/customers/${cid(6)}`, { metadata: { tier: 'bronze' } })).status).toBe(200);
    });
    const left = await env.DB.prepare(
      "SELECT metadata FROM events WHERE profile_id = ? AND type = 'customer.segment.left' AND metadata ->> '$.segment.id' = ?",
    )
      .bind(cid(6), fresh.id)
      .all<{ metadata: string }>();
    // The event's shape, as the webhook outbox triggers and the activity API read it.
    expect(left.results.map((r) => JSON.parse(r.metadata))).toEqual([{ segment: fresh }]);
  });

  it('judges filters whose text together passes one statement in several judge statements, with the same result', async () => {
    const all = await loadActiveSegments(env.DB);
    const now = Date.now();
    const judged = all.map((s) => ({ id: s.id, predicate: compileSql(s.ast, now) }));
    const selected = selectorSql({ ids: Array.from({ length: CUSTOMERS }, (_, i) => cid(i)) });
    // A limit of 1,500 characters puts most filters in a statement of their own.
    const statements = membershipRefresh(env.DB, judged, selected, now, 1_500);
    expect(statements.length).toBeGreaterThan(4 + 10);
    const before = await stored();
    await env.DB.batch([...statements, clearSegmentMatches(env.DB)]);
    // Nothing changed since the last exact write: the same membership, and no event.
    expect(await stored()).toEqual(before);
    expect(await env.DB.prepare('SELECT count(*) AS n FROM segment_matches').first()).toEqual({ n: 0 });
    // Then a real change through it: customer 7 matched by some, moved.
    await expectExactAfter(async () => {
      await env.DB.batch([
        updateCustomer(env.DB, cid(7), { email: 'p7@example.com', metadata: { tier: 'gold', age: 41, tags: ['vip'] } }, now),
        ...membershipRefresh(env.DB, judged, selectorSql({ ids: [cid(7)] }), now, 1_500),
        clearSegmentMatches(env.DB),
      ]);
    });
  });

  it('holds at the filter limits: the deepest nesting, the most values and conditions, the longest operands, all judged together', async () => {
    const deepest: Record<string, unknown> = { junction: 'or' };
    for (let k = 0; k < 10; k++)
      deepest[`metadata.k${k}.a.b.c`] = { conditions: { $is_days_ago: [1], $this_week: true, $in: ['x', 1, true] } };
    const widest = Object.fromEntries(Array.from({ length: 30 }, (_, k) => [`metadata.w${k}`, { conditions: { $is_not: [`v${k}`] } }]));
    const heavy = [
      deepest,
      { ...deepest, junction: 'and' },
      widest,
      { ...widest, junction: 'or' },
      on('name', { $in: [...Array.from({ length: 99 }, (_, k) => `nobody ${k}`), 'Person 8 Jones'] }),
      on('description', { $contains: [`${'%_'.repeat(126)}ab%`] }),
      on('metadata.tags', { $contains: Array.from({ length: 100 }, (_, k) => (k % 2 ? `t${k}` : k)) }),
    ];
    for (const [k, filter] of heavy.entries()) {
      const res = await api('POST', '/v1/segments', { name: `heavy ${k}`, type: 'auto-update', filter });
      expect([k, res.status]).toEqual([k, 200]);
    }
    const all = await loadActiveSegments(env.DB);
    const refresh = refreshMemberships(env.DB, all, { ids: [cid(8)] }, Date.now());
    // The heavy filters' text together passes 90 KB: a few judge statements, not one per segment.
    expect(refresh.length).toBeGreaterThan(7);
    expect(refresh.length).toBeLessThan(6 + all.length / 4);
    await expectExactAfter(async () => {
      for (const i of [8, 9]) {
        const res = await api('PUT', `/v1/customers/${cid(i)}`, { name: 'Person 8 Jones', metadata: { w3: 'v3', tags: ['t1', 4] } });
        expect(res.status).toBe(200);
      }
    });
    expect(await members(all.find((s) => s.name === 'heavy 4')?.id as string)).toEqual(
      (await allIds({ sql: "c.name = 'Person 8 Jones'", params: [] })).sort(),
    );
  });

  it('leaves static segments alone', async () => {
    const stat = await json(await api('POST', '/v1/segments', { name: 'fixed', type: 'static', customers: [cid(1), cid(2)] }));
    await expectExactAfter(async () => {
      await api('PUT', `/v1/customers/${cid(1)}`, { metadata: { tier: 'silver' } });
    });
    expect(await members(stat.id)).toEqual([cid(1), cid(2)]);
  });
});

describe('packed parameters read back as bound ones', () => {
  const VALUES: (string | number | null)[] = [
    'plain',
    "it's",
    'ZOË 🎉 ß',
    '["a","b\\"c",1,true,null]',
    '$[0]',
    '?',
    '',
    0,
    -1,
    42,
    2 ** 31,
    2 ** 53 - 1,
    NOW,
    0.1,
    -2.5,
    1e-7,
    123456.789,
    1.7976931348623157e308,
    5e-324,
    1e21,
    null,
  ];

  it.each(VALUES.map((v) => [JSON.stringify(v), v]))('%s', async (_, value) => {
    const packed = packParams({ sql: 'SELECT ? AS v', params: [value] });
    const row = await env.DB.prepare(`SELECT v, typeof(v) AS t, v IS ?2 AS same FROM (${packed.sql})`)
      .bind(packed.params[0], value)
      .first<{ v: unknown; t: string; same: number }>();
    const direct = await env.DB.prepare('SELECT ? AS v, typeof(?) AS t').bind(value, value).first<{ v: unknown; t: string }>();
    expect(row?.same).toBe(1);
    expect(row?.v).toEqual(direct?.v);
    // A number may come back as INTEGER where D1 bound it as REAL: the same value, compared alike.
    if (typeof value === 'number') expect(['integer', 'real']).toContain(row?.t);
    else expect(row?.t).toBe(direct?.t);
  });
});
