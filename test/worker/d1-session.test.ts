/**
 * Every request reads through one D1 session (middleware/d1-session.ts): where it
 * starts, the bookmark a server response hands on, and that a client response never reveals one.
 * Locally D1 has no replicas, so what is asserted is what reaches the Sessions API: the constraint
 * or bookmark each request opens its session with, and the classes of its round trips.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../worker/src/env';
import worker from '../../worker/src/index';
import { BOOKMARK_HEADER } from '../../shared/consistency';
import { CLIENT_HEADERS, SERVER_HEADERS, api, json } from './helpers';

/** A request whose D1 binding records how each session was opened. */
async function opened(path: string, init: RequestInit = {}, bindings: Partial<Env> = {}) {
  const starts: (string | undefined)[] = [];
  const db = new Proxy(env.DB, {
    get(target, prop) {
      if (prop === 'withSession') {
        return (start?: string) => {
          starts.push(start);
          return target.withSession(start);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`https://vouchsafe.test${path}`, init),
    { ...env, ...bindings, DB: db } as unknown as Env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return { res, starts };
}

const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32,64}$/;

describe('D1 sessions', () => {
  it('reads anywhere on read routes, at the primary on writing ones', async () => {
    await api('POST', '/v1/vouchers/SESS', { discount: { type: 'AMOUNT', amount_off: 100 }, redemption: { quantity: 1 } });
    expect(
      (await opened('/client/v1/validate?code=SESS&tracking_id=track_SessionSessionSession0', { headers: CLIENT_HEADERS })).starts,
    ).toEqual(['first-unconstrained']);
    expect((await opened('/v1/vouchers/SESS', { headers: SERVER_HEADERS })).starts).toEqual(['first-unconstrained']);
    const track = await opened('/client/v1/events', {
      method: 'POST',
      headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json' },
      body: JSON.stringify({ event: 'viewed', customer: { source_id: 'track_SessionSessionSession0' } }),
    });
    expect(track.starts).toEqual(['first-unconstrained']);
    const redeem = await opened('/v1/vouchers/SESS/redemption', {
      method: 'POST',
      headers: { ...SERVER_HEADERS, 'Content-Type': 'application/json' },
      body: JSON.stringify({ customer: { source_id: 'sess-1' } }),
    });
    expect(redeem.res.status).toBe(200);
    expect(redeem.starts).toEqual(['first-primary']);
  });

  it('lets a replica answer a segment preview and an explanation (POSTs that only read), and not a segment update', async () => {
    const post = (path: string, body: unknown, method = 'POST') =>
      opened(path, { method, headers: { ...SERVER_HEADERS, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const filter = { 'metadata.tier': { conditions: { $is: ['gold'] } } };
    const preview = await post('/v1/segments/preview', { filter });
    expect(preview.res.status).toBe(200);
    expect(preview.starts).toEqual(['first-unconstrained']);
    const created = await post('/v1/segments', { name: 'session', type: 'passive', filter });
    expect(created.starts).toEqual(['first-primary']);
    const id = ((await json(created.res)) as { id: string }).id;
    const explained = await post(`/v1/segments/${id}/explain`, { customer: 'nobody-yet' });
    expect(explained.res.status).toBe(200);
    expect(explained.starts).toEqual(['first-unconstrained']);
    const update = await post(`/v1/segments/${id}`, { name: 'session 2' }, 'PUT');
    expect(update.res.status).toBe(200);
    expect(update.starts).toEqual(['first-primary']);
  });

  it('hands a server its bookmark, and a request that sends it back starts its session there: it sees the redemption', async () => {
    await api('POST', '/v1/vouchers/SESS-RYW', { discount: { type: 'AMOUNT', amount_off: 100 }, redemption: { quantity: 1 } });
    const redeem = await api('POST', '/v1/vouchers/SESS-RYW/redemption', { customer: { source_id: 'sess-ryw' } });
    expect(redeem.status).toBe(200);
    const bookmark = redeem.headers.get(BOOKMARK_HEADER) as string;
    expect(bookmark).toMatch(BOOKMARK);
    // The shopper's next validate, with the bookmark the shop's backend handed the browser (vs_bm).
    const next = await opened('/client/v1/validate?code=SESS-RYW&tracking_id=track_SessionRywSessionRyw0', {
      headers: { ...CLIENT_HEADERS, [BOOKMARK_HEADER]: bookmark },
    });
    expect(next.starts).toEqual([bookmark]);
    expect(await json(next.res)).toMatchObject({ valid: false, error: { key: 'quantity_exceeded' } });
    // A later write's bookmark is later.
    const later = await api('POST', '/v1/customers', { source_id: 'sess-later' });
    expect((later.headers.get(BOOKMARK_HEADER) as string) > bookmark).toBe(true);
  });

  it("never reveals a bookmark to the client key (it would count the shop's writes), and ignores a malformed one", async () => {
    const client = await opened('/client/v1/validate?code=NOPE', { headers: { ...CLIENT_HEADERS, [BOOKMARK_HEADER]: 'not-a-bookmark' } });
    expect(client.res.status).toBe(200);
    expect(client.res.headers.get(BOOKMARK_HEADER)).toBeNull();
    expect(client.starts).toEqual(['first-unconstrained']);
    // The browser may send it: CORS allows the header on a preflight.
    const preflight = await opened('/client/v1/validate', {
      method: 'OPTIONS',
      headers: {
        Origin: CLIENT_HEADERS.Origin,
        'Access-Control-Request-Method': 'GET',
        'Access-Control-Request-Headers': BOOKMARK_HEADER.toLowerCase(),
      },
    });
    expect(preflight.res.headers.get('Access-Control-Allow-Headers')?.toLowerCase()).toContain(BOOKMARK_HEADER.toLowerCase());
  });

  it("READ_REPLICAS=off opens no session: every query on the primary (the benchmark's comparison)", async () => {
    const off = await opened('/client/v1/validate?code=NOPE', { headers: CLIENT_HEADERS }, { READ_REPLICAS: 'off', COUNT_OPS: 'on' });
    expect(off.starts).toEqual([]);
    expect(off.res.headers.get('X-Vouchsafe-Ops')).toBe('d1_primary=1, d1_replica=0, kv_reads=0, kv_writes=0, queue_sends=0');
  });
});
