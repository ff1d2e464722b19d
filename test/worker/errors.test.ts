import { describe, expect, it } from 'vitest';
import { SERVER_HEADERS, api, call, json } from './helpers';

describe('the error model', () => {
  it('answers an unknown route with 404 in the Voucherify shape', async () => {
    const res = await call('/nowhere');
    expect(res.status).toBe(404);
    const body = await json(res);
    expect(body).toMatchObject({ code: 404, key: 'not_found', message: 'Resource not found' });
    expect(body.request_id).toMatch(/^v-[0-9a-f]{18}$/);
    expect(body.request_id).toBe(res.headers.get('X-Request-Id'));
  });

  // documentation/api-reference/errors.mdx (voucherify-openapi) L12-L14 the error's words, L39: 405
  // "Method Not Allowed … Error details include a hint on which methods are allowed".
  it('answers a wrong method on a known path with 405, the methods allowed in details and Allow', async () => {
    const res = await api('PATCH', '/v1/customers/alice@example.com', {});
    expect(res.status).toBe(405);
    expect(res.headers.get('Allow')).toBe('GET, PUT, DELETE');
    const body = await json(res);
    expect(body).toMatchObject({
      code: 405,
      key: 'method_not_allowed',
      message: 'HTTP Method Not Allowed',
      details: 'PATCH is not supported by this endpoint. Did you mean GET, PUT or DELETE?',
    });
    expect(body.request_id).toBe(res.headers.get('X-Request-Id'));
    const list = await api('DELETE', '/v1/customers');
    expect(list.status).toBe(405);
    expect(list.headers.get('Allow')).toBe('GET, POST');
    const one = await api('GET', '/v1/campaigns/camp_x/enable');
    expect(one.status).toBe(405);
    expect(one.headers.get('Allow')).toBe('POST');
    expect((await json(one)).details).toBe('GET is not supported by this endpoint. Did you mean POST?');
    // A path no route serves stays a 404, whatever the method.
    const nowhere = await api('PATCH', '/v1/nowhere', {});
    expect(nowhere.status).toBe(404);
    expect(nowhere.headers.get('Allow')).toBeNull();
    // Keys are checked before routes: no key, no hint about the methods.
    expect((await call('/v1/customers', { method: 'DELETE' })).status).toBe(401);
  });

  it('derives every 405 from the route catalogue: each catalogued path refuses the methods it lacks', async () => {
    const { CATALOGUE } = await import('../../worker/src/catalogue');
    const byPath = new Map<string, Set<string>>();
    for (const route of CATALOGUE.filter((r) => r.auth === 'server')) {
      const path = route.path.replace(/:[A-Za-z0-9_]+/g, 'x1');
      byPath.set(path, (byPath.get(path) ?? new Set()).add(route.method.toUpperCase()));
    }
    expect(byPath.size).toBeGreaterThan(50);
    for (const [path, methods] of byPath) {
      if (methods.size === 4) continue;
      const res = await api('PATCH', path, {});
      expect(res.status, path).toBe(405);
      for (const m of methods) expect(res.headers.get('Allow'), path).toContain(m);
    }
  });

  it('gives every response its own request id', async () => {
    const a = await call('/health');
    const b = await call('/health');
    expect(a.headers.get('X-Request-Id')).not.toBe(b.headers.get('X-Request-Id'));
  });

  it('tolerates the double slash an apiUrl with a trailing slash produces', async () => {
    const res = await call('//v1/customers', { headers: SERVER_HEADERS });
    expect(res.status).toBe(200);
  });

  it('never leaks internals: error bodies carry only the documented fields', async () => {
    const bodies = await Promise.all([
      call('/nowhere').then(json),
      api('POST', '/v1/customers', '{bad').then(json),
      api('GET', '/v1/customers/none').then(json),
      call('/v1/customers').then(json),
    ]);
    const allowed = new Set(['code', 'key', 'message', 'details', 'request_id', 'resource_id', 'resource_type']);
    for (const body of bodies) {
      for (const key of Object.keys(body)) expect(allowed.has(key)).toBe(true);
      expect(JSON.stringify(body)).not.toMatch(/at \w+ \(|\.ts:\d+|SQLITE|D1_ERROR/);
    }
  });
});
