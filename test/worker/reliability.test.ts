import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../worker/src/app';
import type { Env } from '../../worker/src/env';
import { CLIENT_HEADERS, SERVER_HEADERS, api, call, json, settled } from './helpers';

const count = async (sql: string, ...params: unknown[]) =>
  (
    await env.DB.prepare(sql)
      .bind(...params)
      .first<{ n: number }>()
  )?.n ?? -1;

describe('under concurrency', () => {
  it('100 concurrent redemptions of a 10-unit voucher: exactly 10 succeed', async () => {
    await api('POST', '/v1/vouchers/HUNDRED', { discount: { type: 'AMOUNT', amount_off: 100 }, redemption: { quantity: 10 } });
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        api('POST', '/v1/vouchers/HUNDRED/redemption', { customer: { source_id: `h-${i % 7}` }, order: { amount: 1000 } }),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(10);
    expect(results.filter((r) => r.status === 400)).toHaveLength(90);
    expect((await json(await api('GET', '/v1/vouchers/HUNDRED'))).redemption.redeemed_quantity).toBe(10);
    expect(await count("SELECT count(*) AS n FROM redemptions WHERE code = 'HUNDRED' AND result = 'SUCCESS'")).toBe(10);
  });

  it('50 concurrent upserts of one source_id make one customer', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => api('POST', '/v1/customers', { source_id: 'same-person', metadata: { n: i } })),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    const ids = new Set(await Promise.all(results.map(async (r) => (await json(r)).id)));
    expect(ids.size).toBe(1);
    expect(await count("SELECT count(*) AS n FROM customers WHERE source_id = 'same-person'")).toBe(1);
  });

  it('concurrent retries with one Idempotency-Key make one redemption', async () => {
    await api('POST', '/v1/vouchers/RETRY', { discount: { type: 'AMOUNT', amount_off: 100 } });
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        api(
          'POST',
          '/v1/vouchers/RETRY/redemption',
          { customer: { source_id: 'retrier' }, order: { amount: 1000 } },
          { 'Idempotency-Key': 'checkout-7' },
        ),
      ),
    );
    const ids = new Set(await Promise.all(results.map(async (r) => (await json(r)).id)));
    expect(ids.size).toBe(1);
    expect(await count("SELECT count(*) AS n FROM redemptions WHERE code = 'RETRY'")).toBe(1);
    expect((await json(await api('GET', '/v1/customers/retrier'))).summary.orders.total_count).toBe(1);
  });

  it('concurrent validations and a redemption of one tracking id end in one merged profile', async () => {
    await api('POST', '/v1/vouchers/RACE', { discount: { type: 'AMOUNT', amount_off: 100 } });
    const tid = 'track_RACERACERACERACERACE00';
    const validations = Array.from({ length: 10 }, () =>
      call(`/client/v1/validate?code=RACE&tracking_id=${tid}`, { headers: CLIENT_HEADERS }),
    );
    const redemption = api('POST', '/v1/vouchers/RACE/redemption', { customer: { source_id: 'racer' }, tracking_id: tid });
    const [r, ...v] = await Promise.all([redemption, ...validations]);
    expect(r?.status).toBe(200);
    expect(v.every((res) => res.status === 200)).toBe(true);
    // The attempts are written by the queue consumer, before or after the redemption's link.
    await settled();
    const customer = await json(await api('GET', '/v1/customers/racer'));
    expect(await count('SELECT count(*) AS n FROM tracking_profiles WHERE id = ? AND customer_id = ?', tid, customer.id)).toBe(1);
    // Every validation of the tracking id ends on the customer, whenever it landed.
    expect(await count('SELECT count(*) AS n FROM validations WHERE tracking_id = ?', tid)).toBe(10);
    expect(await count('SELECT count(*) AS n FROM validations WHERE tracking_id = ? AND customer_id IS NULL', tid)).toBe(0);
  });
});

describe('under faults', () => {
  it('a D1 error in the middle of the redeem batch leaves nothing half-written', async () => {
    await api('POST', '/v1/vouchers/FAULT', { discount: { type: 'AMOUNT', amount_off: 100 }, redemption: { quantity: 5 } });
    const tid = 'track_FAULTFAULTFAULTFAULT00';
    await call('/client/v1/events', {
      method: 'POST',
      headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json' },
      body: JSON.stringify({ event: 'viewed', customer: { source_id: tid } }),
    });
    // A D1 whose write batch (the redeem's second batch, after the read) fails halfway: a statement
    // that cannot run is put in its middle.
    await settled();
    let batches = 0;
    // The request runs its queries in a D1 session (middleware/d1-session.ts): its batches are broken.
    const faultyBatch = (db: D1Database | D1DatabaseSession) => (statements: D1PreparedStatement[]) => {
      if (++batches !== 2) return db.batch(statements);
      const broken = [...statements];
      broken.splice(Math.floor(statements.length / 2), 0, db.prepare('INSERT INTO no_such_table VALUES (1)'));
      return db.batch(broken);
    };
    const faulty = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === 'batch') return faultyBatch(target);
        if (prop === 'withSession') {
          return (constraint?: string) => {
            const session = target.withSession(constraint);
            return { prepare: (q: string) => session.prepare(q), batch: faultyBatch(session), getBookmark: () => session.getBookmark() };
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request('https://vouchsafe.test/v1/vouchers/FAULT/redemption', {
        method: 'POST',
        headers: { ...SERVER_HEADERS, 'Content-Type': 'application/json' },
        body: JSON.stringify({ customer: { source_id: 'faulty-1' }, order: { amount: 1000 }, tracking_id: tid }),
      }),
      { ...env, DB: faulty } as unknown as Env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(batches).toBe(2);
    expect(res.status).toBe(500);
    expect((await json(res)).key).toBe('internal_error');
    expect(await count("SELECT count(*) AS n FROM customers WHERE source_id = 'faulty-1'")).toBe(0);
    expect(await count("SELECT redeemed_quantity AS n FROM vouchers WHERE code = 'FAULT'")).toBe(0);
    expect(await count("SELECT count(*) AS n FROM redemptions WHERE code = 'FAULT'")).toBe(0);
    expect(await count('SELECT count(*) AS n FROM events WHERE profile_id = ?', tid)).toBe(1);
    expect(await count('SELECT count(*) AS n FROM tracking_profiles WHERE id = ? AND customer_id IS NOT NULL', tid)).toBe(0);
    // The same request on a healthy database then succeeds.
    expect(
      (
        await api('POST', '/v1/vouchers/FAULT/redemption', {
          customer: { source_id: 'faulty-1' },
          order: { amount: 1000 },
          tracking_id: tid,
        })
      ).status,
    ).toBe(200);
  });

  it('a stale cached definition never validates a deleted voucher', async () => {
    await api('POST', '/v1/vouchers/STALE', { discount: { type: 'AMOUNT', amount_off: 100 } });
    const validate = async () => json(await call('/client/v1/validate?code=STALE', { headers: CLIENT_HEADERS }));
    expect((await validate()).valid).toBe(true);
    const version = (
      await env.DB.prepare("SELECT definition_version FROM vouchers WHERE code = 'STALE'").first<{ definition_version: string }>()
    )?.definition_version;
    const key = `voucher-def:v4:STALE:${version}`;
    const cached = await env.CACHE.get(key);
    expect(cached).not.toBeNull();
    await api('DELETE', '/v1/vouchers/STALE');
    // The cached definition outlives the voucher (KV is never told): the live read finds no voucher.
    await env.CACHE.put(key, cached as string);
    expect(await validate()).toMatchObject({ valid: false, reason: 'voucher not found' });
  });

  it('a missing cached definition falls back to D1', async () => {
    await api('POST', '/v1/vouchers/NOKV', { discount: { type: 'AMOUNT', amount_off: 100 } });
    const version = (
      await env.DB.prepare("SELECT definition_version FROM vouchers WHERE code = 'NOKV'").first<{ definition_version: string }>()
    )?.definition_version;
    await env.CACHE.delete(`voucher-def:v4:NOKV:${version}`);
    expect((await json(await call('/client/v1/validate?code=NOKV', { headers: CLIENT_HEADERS }))).valid).toBe(true);
  });
});
