import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../worker/src/app';
import { ALLOWED_ORIGIN, CLIENT_HEADERS, SERVER_HEADERS, api, call, json, signHash } from './helpers';

/** Every route the app serves under a key, with its parameters filled in. */
const keyedRoutes = () => {
  const seen = new Set<string>();
  return app.routes
    .filter((r) => r.method !== 'ALL' && (r.path.startsWith('/v1/') || r.path.startsWith('/client/v1/')))
    .map((r) => ({ method: r.method, path: r.path.replace(/:[a-z_]+/gi, 'x') }))
    .filter((r) => {
      const key = `${r.method} ${r.path}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
};

describe('the auth matrix over every route', () => {
  it('covers the routes the app mounts', () => {
    const routes = keyedRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(30);
    expect(routes.some((r) => r.path === '/v1/vouchers/x/redemption')).toBe(true);
    expect(routes.some((r) => r.path === '/client/v1/validate')).toBe(true);
  });

  it('refuses server routes without the server key: none, wrong, or the client key', async () => {
    const wrong: Record<string, string>[] = [
      {},
      { 'X-App-Id': SERVER_HEADERS['X-App-Id'], 'X-App-Token': 'wrong' },
      { 'X-App-Id': CLIENT_HEADERS['X-Client-Application-Id'], 'X-App-Token': CLIENT_HEADERS['X-Client-Token'] },
      CLIENT_HEADERS,
    ];
    for (const { method, path } of keyedRoutes().filter((r) => r.path.startsWith('/v1/'))) {
      for (const headers of wrong) {
        const res = await call(path, { method, headers: { ...headers, 'Content-Type': 'application/json' }, body: method === 'GET' ? undefined : '{}' });
        expect(`${method} ${path} ${res.status}`).toBe(`${method} ${path} 401`);
        expect((await json(res)).key).toBe('unauthorized');
      }
    }
  });

  it('refuses client routes without the client key or from a disallowed origin', async () => {
    for (const { method, path } of keyedRoutes().filter((r) => r.path.startsWith('/client/v1/'))) {
      const init = (headers: Record<string, string>) => ({ method, headers: { ...headers, 'Content-Type': 'application/json' }, body: method === 'GET' ? undefined : '{}' });
      const noKey = await call(path, init({ Origin: ALLOWED_ORIGIN }));
      expect(`${path} ${noKey.status}`).toBe(`${path} 401`);
      const serverKey = await call(path, init({ 'X-Client-Application-Id': SERVER_HEADERS['X-App-Id'], 'X-Client-Token': SERVER_HEADERS['X-App-Token'], Origin: ALLOWED_ORIGIN }));
      expect(`${path} ${serverKey.status}`).toBe(`${path} 401`);
      const badOrigin = await call(path, init({ ...CLIENT_HEADERS, Origin: 'https://evil.example' }));
      expect(`${path} ${badOrigin.status}`).toBe(`${path} 403`);
      expect(badOrigin.headers.get('Access-Control-Allow-Origin')).toBeNull();
    }
  });

  it("a forged tracking id opens no one else's profile", async () => {
    await api('POST', '/v1/vouchers/SEC', { discount: { type: 'AMOUNT', amount_off: 100 } });
    const owner = await json(await call('/client/v1/validate?code=SEC', { headers: CLIENT_HEADERS }));
    await api('POST', '/v1/vouchers/SEC/redemption', { customer: { source_id: 'sec-owner', email: 'owner@example.com' }, tracking_id: owner.tracking_id });
    // Someone replays the owner's tracking id with another identity: refused, not merged.
    const res = await api('POST', '/v1/vouchers/SEC/redemption', { customer: { source_id: 'sec-thief' }, tracking_id: owner.tracking_id });
    expect(res.status).toBe(400);
    expect((await json(res)).key).toBe('ambiguous_tracking_id');
    // A made-up tracking id is just a new, empty profile.
    const forged = await json(await call('/client/v1/validate?code=SEC&tracking_id=track_ForgedForgedForged0000', { headers: CLIENT_HEADERS }));
    expect(forged.order.customer_id).toBeNull();
  });
});

describe('permanent deletion', () => {
  it('leaves no trace of the person in any table: email, name, phone, source id, identity hash', async () => {
    const email = 'erase.me@example.com';
    const name = 'Erasable Person';
    const phone = '+48 555 010 999';
    const hash = 'b'.repeat(64);
    await api('POST', '/v1/vouchers/ERASE', { discount: { type: 'AMOUNT', amount_off: 100 } });
    await api('POST', '/v1/segments', { name: 'erasable', filter: { email: { conditions: { $ends_with: ['@example.com'] } } } });
    // Device 1: anonymous history, then a redemption links it.
    const signed = `identity_hash=${hash}&identity_signature=${await signHash(hash)}`;
    const d1 = await json(await call(`/client/v1/validate?code=ERASE&${signed}`, { headers: CLIENT_HEADERS }));
    await call('/client/v1/events', { method: 'POST', headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json' }, body: JSON.stringify({ event: 'viewed', customer: { source_id: d1.tracking_id } }) });
    await api('POST', '/v1/vouchers/ERASE/redemption', { customer: { source_id: email, email, name }, order: { amount: 1000 }, tracking_id: d1.tracking_id });
    await api('PUT', `/v1/customers/${encodeURIComponent(email)}`, { phone });
    // Device 2: never redeemed, same identity.
    const d2 = await json(await call(`/client/v1/validate?code=ERASE&${signed}`, { headers: CLIENT_HEADERS }));
    await api('POST', '/v1/events', { event: 'logged_in', customer: { source_id: email } });

    const customer = await json(await api('GET', `/v1/customers/${encodeURIComponent(email)}`));
    const hmac = (await env.DB.prepare('SELECT identity_hmac FROM tracking_profiles WHERE id = ?').bind(d2.tracking_id).first<{ identity_hmac: string }>())?.identity_hmac;
    expect(hmac).toMatch(/^[0-9a-f]{64}$/);
    expect((await api('POST', `/v1/customers/${customer.id}/permanent-deletion`, {})).status).toBe(200);

    const needles = [email, name, phone, customer.id, d1.tracking_id, d2.tracking_id, hmac as string];
    const { results: tables } = await env.DB.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name != 'd1_migrations'",
    ).all<{ name: string }>();
    expect(tables.length).toBeGreaterThanOrEqual(10);
    for (const { name: table } of tables) {
      const { results } = await env.DB.prepare(`SELECT * FROM "${table}"`).all();
      const text = JSON.stringify(results);
      for (const needle of needles) expect(`${table}: ${text.includes(needle)}`).toBe(`${table}: false`);
    }
  });
});
