import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileSql, parseFilter } from '../../shared/filter';
import { updateCustomer } from '../../worker/src/db/customers';
import { MAX_RANGE } from '../../worker/src/lib/range-sizer';
import { customerWriteBatch } from '../../worker/src/services/membership';
import { listCustomers } from '../../worker/src/services/customers';
import { BEFORE_ALL, runInitialSync, runSegmentJob } from '../../worker/src/services/segment-sync';
import { createSegment } from '../../worker/src/services/segments';
import { api, call, CLIENT_HEADERS, json } from './helpers';

// One filter over ~100k customers once held D1 for 37 s and a validate waited 36.5 s,
// because segment creation, the cron's recompute and member lists each ran the filter over every
// customer in ONE statement. Now each D1 call judges one keyset range of at most 5,000 customers.
// Counted, not timed: every statement that evaluates the filter is recorded, and each must be
// bounded by a range of at most MAX_RANGE customers (or by the few pending customers of a write).

const CUSTOMERS = 12_000;
const DAY = 86_400_000;
const BASE = Date.UTC(2025, 0, 1);

const FILTER = {
  junction: 'and',
  'metadata.tier': { conditions: { $in: ['gold', 'platinum'] } },
  'address.city': { conditions: { $in: ['Berlin', 'Warsaw', 'Paris'] } },
  email: { conditions: { $ends_with: ['@example.com'] } },
};
const ast = parseFilter(FILTER);
const FILTER_SQL = compileSql(ast, Date.now()).sql;
// The fragment of db/customers.ts rangePredicate (ascending) and of db/segments.ts pendingFor.
const RANGE = 'c.created_at > ? AND c.created_at <= (SELECT max(k) FROM (';
const PENDING = 'c.id IN (SELECT customer_id FROM segment_pending WHERE segment_id = ?)';

interface Recorded {
  sql: string;
  params: unknown[];
}

/**
 * env.DB with every D1 call recorded: the statements of each call (a batch is one call), in
 * order, into `log` shared with whatever else the test notes there.
 */
function recordingDb(log: (Recorded[] | string)[]): D1Database {
  const wrap = (statement: D1PreparedStatement, sql: string, params: unknown[]): D1PreparedStatement =>
    new Proxy(statement, {
      get(target, prop) {
        if (prop === 'bind') return (...args: unknown[]) => wrap(target.bind(...args), sql, args);
        if (prop === '__recorded') return { sql, params };
        const value = Reflect.get(target, prop, target) as unknown;
        if (typeof value !== 'function') return value;
        if (prop === 'first' || prop === 'all' || prop === 'run' || prop === 'raw') {
          return (...args: unknown[]) => {
            log.push([{ sql, params }]);
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return (value as (...a: unknown[]) => unknown).bind(target);
      },
    });
  const db = env.DB;
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'prepare') return (sql: string) => wrap(target.prepare(sql), sql, []);
      if (prop === 'batch') {
        return (statements: D1PreparedStatement[]) => {
          log.push(statements.map((s) => (s as unknown as { __recorded: Recorded }).__recorded));
          return target.batch(statements);
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** The statements that evaluated FILTER, each checked to cover a bounded set of customers. */
function filterStatements(log: (Recorded[] | string)[]): Recorded[] {
  const statements = log.flatMap((entry) => (typeof entry === 'string' ? [] : entry)).filter((s) => s.sql.includes(FILTER_SQL));
  for (const s of statements) {
    const at = s.sql.indexOf(RANGE);
    if (at === -1) {
      // Not a range: only the pending customers of a write may be judged outside one.
      expect(s.sql).toContain(PENDING);
      continue;
    }
    // rangePredicate binds [after, after, size]: the size is the third placeholder of the fragment.
    const before = s.sql.slice(0, at).split('?').length - 1;
    const size = s.params[before + 2] as number;
    expect(size).toBeGreaterThan(0);
    expect(size).toBeLessThanOrEqual(MAX_RANGE);
  }
  return statements;
}

const ranged = (statements: Recorded[]) => statements.filter((s) => s.sql.includes(RANGE));

async function truth(at = Date.now()): Promise<string[]> {
  const { sql, params } = compileSql(ast, at);
  return (
    await env.DB.prepare(`SELECT id FROM customers c WHERE ${sql} ORDER BY id`)
      .bind(...params)
      .all<{ id: string }>()
  ).results.map((r) => r.id);
}

async function members(segmentId: string): Promise<string[]> {
  return (
    await env.DB.prepare('SELECT customer_id AS id FROM segment_members WHERE segment_id = ? ORDER BY customer_id')
      .bind(segmentId)
      .all<{ id: string }>()
  ).results.map((r) => r.id);
}

async function segmentEvents(segmentId: string): Promise<{ profile_id: string; type: string }[]> {
  return (
    await env.DB.prepare(
      "SELECT profile_id, type FROM events WHERE type LIKE 'customer.segment.%' AND metadata ->> '$.segment.id' = ? ORDER BY profile_id, type",
    )
      .bind(segmentId)
      .all<{ profile_id: string; type: string }>()
  ).results;
}

beforeAll(async () => {
  // 12,000 customers in SQL (seconds, not minutes): a third gold/platinum in Berlin/Warsaw/Paris at example.com.
  await env.DB.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
     INSERT INTO customers (id, source_id, email, address_city, metadata, created_at)
     SELECT printf('cust_heavy%05d', i), 'heavy-' || i,
            'h' || i || CASE i % 3 WHEN 0 THEN '@example.com' ELSE '@example.org' END,
            CASE i % 4 WHEN 0 THEN 'Berlin' WHEN 1 THEN 'Warsaw' WHEN 2 THEN 'Paris' ELSE 'Rome' END,
            json_object('tier', CASE i % 5 WHEN 0 THEN 'gold' WHEN 1 THEN 'platinum' ELSE 'bronze' END),
            ? + i * 1000
     FROM n`,
  )
    .bind(CUSTOMERS, BASE)
    .run();
  expect((await api('POST', '/v1/vouchers/HEAVY-1', { discount: { type: 'AMOUNT', amount_off: 100 } })).status).toBe(200);
});

describe('heavy segment work runs as bounded statements', () => {
  it('creates an auto-update segment over 12,000 customers in ranges of at most 5,000, validates answering between them', async () => {
    const log: (Recorded[] | string)[] = [];
    const db = recordingDb(log);
    const background: Promise<unknown>[] = [];
    let creating = true;
    // Client validates, two at a time, for as long as the creation and its background sync run.
    const validates = Promise.all(
      [0, 1].map(async () => {
        let answered = 0;
        while (creating || answered === 0) {
          const res = await call('/client/v1/validate?code=HEAVY-1&amount=1000', { headers: CLIENT_HEADERS });
          expect((await json(res)).valid).toBe(true);
          log.push('validate');
          answered++;
          // A shop's traffic has gaps; a loop with none would keep this test's event loop busy, and
          // the walk's pause between steps (a timer) would never come due.
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
      }),
    );
    const segment = await createSegment(db, { name: 'heavy', type: 'auto-update', filter: FILTER }, (work) => background.push(work()));
    await Promise.all(background);
    creating = false;
    await validates;

    const steps = ranged(filterStatements(log));
    // 12,000 customers in ranges of at most 5,000: at least three calls (the old code: one statement, no range).
    expect(steps.length).toBeGreaterThanOrEqual(Math.ceil(CUSTOMERS / MAX_RANGE));
    // Validates were answered between the first and the last step of the walk.
    const callsWithFilter = log.flatMap((entry, i) =>
      typeof entry !== 'string' && entry.some((s) => s.sql.includes(FILTER_SQL)) ? [i] : [],
    );
    const between = log.slice(callsWithFilter[0], callsWithFilter.at(-1)).filter((e) => e === 'validate').length;
    expect(between).toBeGreaterThan(0);

    expect(segment.initial_sync_status).toBe('IN_PROGRESS');
    expect((await json(await api('GET', `/v1/segments/${segment.id}`))).initial_sync_status).toBe('DONE');
    const expected = await truth();
    expect(expected.length).toBeGreaterThan(MAX_RANGE / 5);
    expect(await members(segment.id)).toEqual(expected);
    // The initial sync records no transitions: existing customers did not just do anything.
    expect(await segmentEvents(segment.id)).toEqual([]);
    await api('DELETE', `/v1/segments/${segment.id}`);
  });

  it('stays exact when customers are written during the walk, by writers that know the segment and by one that read the segments before it existed', async () => {
    const sync: (() => Promise<unknown>)[] = [];
    const segment = await createSegment(env.DB, { name: 'walked', type: 'auto-update', filter: FILTER }, (work) => sync.push(work));
    expect(segment.initial_sync_status).toBe('IN_PROGRESS');
    const cursor = (await env.DB.prepare('SELECT sync_cursor FROM segments WHERE id = ?').bind(segment.id).first<{ sync_cursor: number }>())
      ?.sync_cursor as number;
    expect(cursor).toBeLessThan(BASE + CUSTOMERS * 1000);
    const id = (i: number) => `cust_heavy${String(i).padStart(5, '0')}`;
    const matching = { email: 'm@example.com', address: { city: 'Berlin' }, metadata: { tier: 'gold' } };
    const walked = (i: number) => BASE + i * 1000 <= cursor;
    // i = 2: bronze, example.org, Paris → no match; i = 36: platinum, example.com, Berlin → match.
    expect(walked(2) && walked(36)).toBe(true);
    expect(walked(11_998)).toBe(false);

    // Through the API (writers that know the segment): a judged customer enters (a transition, with
    // its event), one the walk has not reached is set silently, a new customer is created.
    expect((await api('PUT', `/v1/customers/${id(2)}`, matching)).status).toBe(200);
    expect((await api('PUT', `/v1/customers/${id(11_998)}`, matching)).status).toBe(200);
    const created = await json(await api('POST', '/v1/customers', { source_id: 'heavy-new', ...matching }));
    // A writer that read the segments before this one existed: it refreshes none, so its batch
    // records the customer as pending. Customer 36 leaves the filter.
    expect(await members(segment.id)).toContain(id(36));
    const stale = customerWriteBatch(
      env.DB,
      [],
      [updateCustomer(env.DB, id(36), { email: 'left@example.org' }, Date.now())],
      { ids: [id(36)] },
      Date.now(),
    );
    await env.DB.batch(stale.statements);
    const pending = await env.DB.prepare('SELECT customer_id FROM segment_pending WHERE segment_id = ?').bind(segment.id).all();
    expect(pending.results).toEqual([{ customer_id: id(36) }]);

    for (const work of sync) await work();
    expect((await json(await api('GET', `/v1/segments/${segment.id}`))).initial_sync_status).toBe('DONE');
    const expected = await truth();
    expect(expected).toContain(id(2));
    expect(expected).toContain(id(11_998));
    expect(expected).toContain(created.id);
    expect(expected).not.toContain(id(36));
    expect(await members(segment.id)).toEqual(expected);
    expect((await env.DB.prepare('SELECT count(*) AS n FROM segment_pending').first<{ n: number }>())?.n).toBe(0);
    // Transitions only for customers the walk had judged, each once: 2 entered, 36 left (found
    // through its pending record). 11,998 and the new customer were set silently, as the walk would.
    expect(await segmentEvents(segment.id)).toEqual([
      { profile_id: id(2), type: 'customer.segment.entered' },
      { profile_id: id(36), type: 'customer.segment.left' },
    ]);
    await api('DELETE', `/v1/segments/${segment.id}`);
  });

  it('recomputes a clock-relative segment in the job the cron sends, in bounded ranges, each transition once', async () => {
    const recent = { ...FILTER, 'summary.orders.last_order_date': { conditions: { $less_than: [30] } } };
    const now = Date.now();
    await env.DB.prepare('UPDATE customers SET orders_last_order_date = ? WHERE id IN (?, ?)')
      .bind(now - 10 * DAY, 'cust_heavy00015', 'cust_heavy00030')
      .run();
    const segment = await json(await api('POST', '/v1/segments', { name: 'recent', type: 'auto-update', filter: recent }));
    expect((await members(segment.id)).sort()).toEqual(['cust_heavy00030']);
    const log: (Recorded[] | string)[] = [];
    // The job message the cron sends for the segment (segments-cron.test.ts checks the sending).
    const recompute = (at: number) => ({
      kind: 'segment_recompute' as const,
      id: `job_${at}`,
      at,
      segment_id: segment.id,
      now: at,
      after: BEFORE_ALL,
    });
    const budget = () => ({ calls: 800, deadline: Date.now() + 60_000 });
    // 25 days on, the order is 35 days old: customer 30 leaves without a write.
    await runSegmentJob(recordingDb(log), env.WRITES, recompute(now + 25 * DAY), budget());
    const recentSql = compileSql(parseFilter(recent), now).sql;
    const walk = log.flatMap((e) => (typeof e === 'string' ? [] : e)).filter((s) => s.sql.includes(recentSql));
    expect(walk.length).toBeGreaterThan(0);
    for (const s of walk) expect(s.sql.includes(RANGE) || s.sql.includes(PENDING)).toBe(true);
    expect(walk.filter((s) => s.sql.includes(RANGE)).length).toBeGreaterThanOrEqual(Math.ceil(CUSTOMERS / MAX_RANGE));
    expect(await members(segment.id)).toEqual([]);
    await runSegmentJob(env.DB, env.WRITES, recompute(now + 26 * DAY), budget());
    expect(await segmentEvents(segment.id)).toEqual([{ profile_id: 'cust_heavy00030', type: 'customer.segment.left' }]);
    await api('DELETE', `/v1/segments/${segment.id}`);
  });

  it("lists a passive segment's members and counts them in bounded ranges, in the list's order", async () => {
    const segment = await json(await api('POST', '/v1/segments', { name: 'live', type: 'passive', filter: FILTER }));
    const log: (Recorded[] | string)[] = [];
    const query = { limit: 5, page: 3, order: '-created_at' as const, segmentId: segment.id };
    const list = await listCustomers(recordingDb(log), query as Parameters<typeof listCustomers>[1]);
    expect(ranged(filterStatements(log)).length).toBeGreaterThanOrEqual(Math.ceil(CUSTOMERS / MAX_RANGE));
    const expected = await truth();
    expect(list.total).toBe(expected.length);
    const byNewest = (
      await env.DB.prepare(`SELECT id FROM customers c WHERE ${FILTER_SQL} ORDER BY created_at DESC LIMIT 5 OFFSET 10`)
        .bind(...compileSql(ast, Date.now()).params)
        .all<{ id: string }>()
    ).results.map((r) => r.id);
    expect(list.customers.map((c) => c.id)).toEqual(byNewest);
    expect(list.has_more).toBe(true);
    // Other orders merge the same way: source_id compares as SQLite does (UTF-8 bytes).
    const bySource = await json(await api('GET', `/v1/customers?segment_id=${segment.id}&order=-source_id&limit=4`));
    const sourceTruth = (
      await env.DB.prepare(`SELECT id FROM customers c WHERE ${FILTER_SQL} ORDER BY source_id DESC NULLS LAST, created_at DESC LIMIT 4`)
        .bind(...compileSql(ast, Date.now()).params)
        .all<{ id: string }>()
    ).results.map((r) => r.id);
    expect(bySource.customers.map((c: { id: string }) => c.id)).toEqual(sourceTruth);
    expect(bySource.total).toBe(expected.length);
  });

  it('resumes an initial sync from its stored cursor (the cron, or a queue consumer later)', async () => {
    const sync: (() => Promise<unknown>)[] = [];
    const segment = await createSegment(env.DB, { name: 'resumed', type: 'auto-update', filter: FILTER }, (work) => sync.push(work));
    // One step at a time, as separate invocations would run them.
    let report = await runInitialSync(env.DB, segment.id, { calls: 1, deadline: Date.now() + 60_000 });
    expect(report.steps).toHaveLength(1);
    while (report.status === 'IN_PROGRESS') report = await runInitialSync(env.DB, segment.id, { calls: 1, deadline: Date.now() + 60_000 });
    expect(report.status).toBe('DONE');
    expect(await members(segment.id)).toEqual(await truth());
    await api('DELETE', `/v1/segments/${segment.id}`);
  });
});
