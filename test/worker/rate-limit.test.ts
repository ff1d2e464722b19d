import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../worker/src/app';
import type { Env } from '../../worker/src/env';
import { CLIENT_HEADERS, json, settled } from './helpers';

/** The worker with its production default: RATE_LIMITS unset, limits on. */
const limitsOn = (): Env => ({ ...env, RATE_LIMITS: undefined }) as unknown as Env;

async function validate(query: string, headers: Record<string, string> = {}, bindings: Env = limitsOn()) {
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request(`https://vouchsafe.test/client/v1/validate?${query}`, { headers: { ...CLIENT_HEADERS, ...headers } }),
    bindings,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

describe('client validate rate limits', () => {
  it('answers 429 in the error shape with Retry-After once a tracking id guesses too often', async () => {
    const tid = 'track_AAAAAAAAAAAAAAAAAAAAAA';
    const statuses: number[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 40 && !refused; i++) {
      const res = await validate(`code=GUESS${i}&tracking_id=${tid}`, { 'CF-Connecting-IP': `10.0.0.${i}` });
      statuses.push(res.status);
      if (res.status === 429) refused = res;
      else await res.arrayBuffer();
    }
    expect(refused).toBeDefined();
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(30);
    expect(refused?.headers.get('Retry-After')).toBe('60');
    expect(refused?.headers.get('Access-Control-Allow-Origin')).toBe(CLIENT_HEADERS.Origin);
    expect(await json(refused as Response)).toMatchObject({ code: 429, key: 'too_many_requests' });
  });

  it('limits per IP as well, whatever tracking id is sent', async () => {
    let refused = false;
    for (let i = 0; i < 130 && !refused; i++) {
      const res = await validate(`code=IP${i}`, { 'CF-Connecting-IP': '192.0.2.7' });
      refused = res.status === 429;
      await res.arrayBuffer();
    }
    expect(refused).toBe(true);
  });

  it('can be switched off for local benchmarks with RATE_LIMITS=off', async () => {
    const off = { ...env, RATE_LIMITS: 'off' } as unknown as Env;
    for (let i = 0; i < 40; i++) {
      const res = await validate('code=X&tracking_id=track_BBBBBBBBBBBBBBBBBBBBBB', { 'CF-Connecting-IP': '198.51.100.1' }, off);
      expect(res.status).toBe(200);
    }
  });
});

/** wrangler.toml [[ratelimits]] CLIENT_BY_IP and CLIENT_BY_TRACKING_ID, per 60 s. */
const IP_LIMIT = 120;
const TRACKING_ID_LIMIT = 30;

async function post(path: string, body: unknown, headers: Record<string, string>, bindings: Env = limitsOn()) {
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request(`https://vouchsafe.test${path}`, {
      method: 'POST',
      headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify(body),
    }),
    bindings,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

const rowCount = async () => {
  const { results } = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name != 'd1_migrations'",
  ).all<{ name: string }>();
  let n = 0;
  for (const { name } of results) n += (await env.DB.prepare(`SELECT count(*) AS n FROM "${name}"`).first<{ n: number }>())?.n ?? 0;
  return n;
};

/**
 * The limiters count in windows aligned to the minute (miniflare's as Cloudflare's "simple"
 * limiter): a sequence that must fit in one window waits for the next one when too little is left.
 */
async function inOneWindow(ms: number): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < ms + 1_000) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

const tid = (i: number) => `track_${String(i).padStart(22, 'F')}`;

describe('every client route is rate-limited (the public key can neither flood storage nor guess codes fast)', () => {
  it('a flood of 2,000 client events from one IP in 10 s: at most the limit accepted, the rest 429, the database bounded', async () => {
    await inOneWindow(10_000);
    await settled();
    const before = await rowCount();
    const eventsBefore = (await env.DB.prepare('SELECT count(*) AS n FROM events').first<{ n: number }>())?.n ?? 0;
    const started = Date.now();
    const statuses = new Map<number, number>();
    for (let i = 0; i < 2000; i++) {
      // A fresh tracking id each time: the per-tracking-id limit does not help, the per-IP one must.
      const res = await post(
        '/client/v1/events',
        { event: 'flood', customer: { source_id: tid(i) }, metadata: { pad: 'x'.repeat(1500) } },
        { 'CF-Connecting-IP': '203.0.113.50' },
      );
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status === 429) expect(res.headers.get('Retry-After')).toBe('60');
      await res.arrayBuffer();
    }
    expect(Date.now() - started).toBeLessThan(10_000);
    const accepted = statuses.get(200) ?? 0;
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThanOrEqual(IP_LIMIT);
    expect(statuses.get(429)).toBe(2000 - accepted);
    await settled();
    const eventsAfter = (await env.DB.prepare('SELECT count(*) AS n FROM events').first<{ n: number }>())?.n ?? 0;
    expect(eventsAfter - eventsBefore).toBe(accepted);
    // Each accepted event is its row, at most one new counter (event_counters: one per profile and
    // type), at most one new tracking profile and the queue message's applied marker (kept 14
    // days); no customer is created.
    expect((await rowCount()) - before).toBeLessThanOrEqual(4 * accepted);
    expect((await env.DB.prepare('SELECT count(*) AS n FROM customers').first<{ n: number }>())?.n).toBe(0);
  }, 90_000);

  it('a stacked request costs one token per code', async () => {
    const body = { redeemables: Array.from({ length: 30 }, (_, i) => ({ object: 'voucher', id: `GUESS-${i}` })), order: { amount: 100 } };
    const statuses: number[] = [];
    await inOneWindow(3_000);
    for (let i = 0; i < IP_LIMIT / 30 + 1; i++) {
      const res = await post('/client/v1/validations', body, { 'CF-Connecting-IP': '203.0.113.60' });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
  }, 90_000);

  it("the body's tracking id is limited too", async () => {
    let refusedAt = 0;
    await inOneWindow(3_000);
    for (let i = 1; i <= TRACKING_ID_LIMIT + 10 && !refusedAt; i++) {
      const res = await post(
        '/client/v1/validations',
        { redeemables: [{ object: 'voucher', id: 'X' }], tracking_id: 'track_CCCCCCCCCCCCCCCCCCCCCC' },
        { 'CF-Connecting-IP': `198.18.0.${i}` },
      );
      if (res.status === 429) refusedAt = i;
      await res.arrayBuffer();
    }
    expect(refusedAt).toBe(TRACKING_ID_LIMIT + 1);
  }, 90_000);

  it('caps the events a tracking profile records per day (CLIENT_EVENTS_PER_DAY), with Retry-After', async () => {
    const bindings = { ...env, RATE_LIMITS: 'off', CLIENT_EVENTS_PER_DAY: '5' } as unknown as Env;
    const id = 'track_CapCapCapCapCapCapCapC';
    const statuses: number[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 7; i++) {
      const res = await post('/client/v1/events', { event: 'capped', customer: { source_id: id } }, {}, bindings);
      statuses.push(res.status);
      if (res.status === 429) refused = res;
      else await res.arrayBuffer();
      // The request reads the count the queue consumer wrote; events sent faster than it writes
      // are capped when written (write-queue.test.ts races them).
      await settled();
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const retryAfter = Number(refused?.headers.get('Retry-After'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    expect(await json(refused as Response)).toMatchObject({ code: 429, key: 'too_many_requests' });
    expect((await env.DB.prepare('SELECT count(*) AS n FROM events WHERE profile_id = ?').bind(id).first<{ n: number }>())?.n).toBe(5);
  });

  it('refuses client event metadata over 2 KB with a 400 naming the field', async () => {
    const res = await post(
      '/client/v1/events',
      { event: 'big', customer: { source_id: tid(99_999) }, metadata: { pad: 'x'.repeat(3000) } },
      { 'CF-Connecting-IP': '198.18.1.1' },
    );
    expect(res.status).toBe(400);
    expect((await json(res)).details).toMatch(/^metadata:/);
  });
});
