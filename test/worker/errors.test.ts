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

  it('answers an unsupported method on a known path with 404', async () => {
    const res = await api('PATCH', '/v1/customers', {});
    expect(res.status).toBe(404);
    expect((await json(res)).key).toBe('not_found');
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
