import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { ALLOWED_ORIGIN, CLIENT_HEADERS, SERVER_HEADERS, call, json } from './helpers';

const UNAUTHORIZED = { code: 401, key: 'unauthorized', message: 'Unauthorized' };

describe('server key on /v1/*', () => {
  it.each([
    ['no key', {}],
    ['only the app id', { 'X-App-Id': SERVER_HEADERS['X-App-Id'] }],
    ['a wrong token', { ...SERVER_HEADERS, 'X-App-Token': 'wrong' }],
    ['a wrong app id', { ...SERVER_HEADERS, 'X-App-Id': 'wrong' }],
    ['an empty token', { ...SERVER_HEADERS, 'X-App-Token': '' }],
    [
      'the client key pair',
      {
        'X-Client-Application-Id': CLIENT_HEADERS['X-Client-Application-Id'],
        'X-Client-Token': CLIENT_HEADERS['X-Client-Token'],
        Origin: ALLOWED_ORIGIN,
      },
    ],
    [
      'the client key in the server headers',
      { 'X-App-Id': CLIENT_HEADERS['X-Client-Application-Id'], 'X-App-Token': CLIENT_HEADERS['X-Client-Token'] },
    ],
  ])('refuses %s with 401', async (_, headers) => {
    const res = await call('/v1/customers', { headers });
    expect(res.status).toBe(401);
    const body = await json(res);
    expect(body).toMatchObject(UNAUTHORIZED);
    expect(body.request_id).toBe(res.headers.get('X-Request-Id'));
  });

  it('refuses before reading the body: a wrong key with malformed JSON is still 401', async () => {
    const res = await call('/v1/customers', { method: 'POST', headers: { 'X-App-Id': 'x', 'X-App-Token': 'y' }, body: '{' });
    expect(res.status).toBe(401);
  });

  it('lets the server key in', async () => {
    expect((await call('/v1/customers', { headers: SERVER_HEADERS })).status).toBe(200);
  });

  it('answers 401, not 404, on unknown /v1 routes without a key', async () => {
    expect((await call('/v1/nothing-here')).status).toBe(401);
  });
});

describe('client key on /client/v1/*', () => {
  // No client route exists yet beyond auth, so an authorised call reaches the 404 of the router,
  // while every refused one stops at 401/403 before it.
  it('lets the client key from an allowed origin through, with CORS headers', async () => {
    const res = await call('/client/v1/nothing-here', { headers: CLIENT_HEADERS });
    expect(res.status).toBe(404);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe(ALLOWED_ORIGIN);
    expect(res.headers.get('Access-Control-Allow-Credentials')).toBe('true');
    expect(res.headers.get('Vary')).toContain('Origin');
  });

  it.each([
    ['no key', { Origin: ALLOWED_ORIGIN }, 401],
    ['a wrong client token', { ...CLIENT_HEADERS, 'X-Client-Token': 'wrong' }, 401],
    [
      'the server key pair',
      { 'X-Client-Application-Id': SERVER_HEADERS['X-App-Id'], 'X-Client-Token': SERVER_HEADERS['X-App-Token'], Origin: ALLOWED_ORIGIN },
      401,
    ],
    ['a disallowed origin', { ...CLIENT_HEADERS, Origin: 'https://evil.example' }, 403],
    [
      'no origin',
      { 'X-Client-Application-Id': CLIENT_HEADERS['X-Client-Application-Id'], 'X-Client-Token': CLIENT_HEADERS['X-Client-Token'] },
      403,
    ],
    ['an origin that only shares a prefix', { ...CLIENT_HEADERS, Origin: 'https://shop.example.evil.com' }, 403],
  ])('refuses %s', async (_, headers, status) => {
    const res = await call('/client/v1/validate?code=X', { headers });
    expect(res.status).toBe(status);
    const body = await json(res);
    expect(body.code).toBe(status);
    expect(body.key).toBe(status === 401 ? 'unauthorized' : 'forbidden');
  });

  it('takes a same-origin browser request without Origin as coming from the worker itself', async () => {
    // Chrome sends no Origin on a same-origin GET; Sec-Fetch-Site (not settable by scripts) says so.
    const keys = {
      'X-Client-Application-Id': CLIENT_HEADERS['X-Client-Application-Id'],
      'X-Client-Token': CLIENT_HEADERS['X-Client-Token'],
    };
    const own = await exports.default.fetch(
      new Request('https://shop.example/client/v1/nothing-here', { headers: { ...keys, 'Sec-Fetch-Site': 'same-origin' } }),
    );
    expect(own.status).toBe(404); // past auth, at the router
    const other = await exports.default.fetch(
      new Request('https://elsewhere.example/client/v1/nothing-here', { headers: { ...keys, 'Sec-Fetch-Site': 'same-origin' } }),
    );
    expect(other.status).toBe(403); // its own origin is not an allowed one
  });

  it('does not hand CORS headers to a disallowed origin', async () => {
    const res = await call('/client/v1/validate', { headers: { ...CLIENT_HEADERS, Origin: 'https://evil.example' } });
    expect(res.headers.get('Access-Control-Allow-Origin')).toBeNull();
  });

  it('answers the preflight of an allowed origin with the headers the official SDK sends', async () => {
    const res = await call('/client/v1/validate', {
      method: 'OPTIONS',
      headers: {
        Origin: ALLOWED_ORIGIN,
        'Access-Control-Request-Method': 'GET',
        'Access-Control-Request-Headers': 'x-client-application-id,x-client-token,x-voucherify-channel,content-type',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe(ALLOWED_ORIGIN);
    const allowed = (res.headers.get('Access-Control-Allow-Headers') ?? '').toLowerCase();
    for (const h of ['x-client-application-id', 'x-client-token', 'x-voucherify-channel', 'content-type', 'x-voucherify-double-opt-in']) {
      expect(allowed).toContain(h);
    }
    expect(res.headers.get('Access-Control-Allow-Methods')).toContain('GET');
  });

  it('refuses the preflight of a disallowed origin', async () => {
    const res = await call('/client/v1/validate', { method: 'OPTIONS', headers: { Origin: 'https://evil.example' } });
    expect(res.status).toBe(403);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBeNull();
  });

  // A wildcard never goes with credentials, and `null` is nobody's origin.
  describe('ALLOWED_ORIGINS=*', () => {
    const anyOrigin = { ALLOWED_ORIGINS: '*' };

    it('answers Access-Control-Allow-Origin: * without credentials', async () => {
      const res = await call('/client/v1/validate?code=X', { headers: { ...CLIENT_HEADERS, Origin: 'https://any.example' } }, anyOrigin);
      expect(res.status).toBe(200);
      expect(res.headers.get('Access-Control-Allow-Origin')).toBe('*');
      expect(res.headers.get('Access-Control-Allow-Credentials')).toBeNull();
      const preflight = await call(
        '/client/v1/validate',
        { method: 'OPTIONS', headers: { Origin: 'https://any.example', 'Access-Control-Request-Method': 'GET' } },
        anyOrigin,
      );
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('Access-Control-Allow-Origin')).toBe('*');
      expect(preflight.headers.get('Access-Control-Allow-Credentials')).toBeNull();
    });

    it.each([['*'], [ALLOWED_ORIGIN], [`${ALLOWED_ORIGIN},null`]])('refuses the null origin with ALLOWED_ORIGINS=%s', async (allowed) => {
      const bindings = { ALLOWED_ORIGINS: allowed };
      const res = await call('/client/v1/validate?code=X', { headers: { ...CLIENT_HEADERS, Origin: 'null' } }, bindings);
      expect(res.status).toBe(403);
      expect(res.headers.get('Access-Control-Allow-Origin')).toBeNull();
      const preflight = await call(
        '/client/v1/validate',
        { method: 'OPTIONS', headers: { Origin: 'null', 'Access-Control-Request-Method': 'GET' } },
        bindings,
      );
      expect(preflight.status).toBe(403);
      expect(preflight.headers.get('Access-Control-Allow-Origin')).toBeNull();
    });
  });

  it('allows the identity signature header in a preflight (official SDK customHeaders)', async () => {
    const res = await call('/client/v1/validate', {
      method: 'OPTIONS',
      headers: {
        Origin: ALLOWED_ORIGIN,
        'Access-Control-Request-Method': 'GET',
        'Access-Control-Request-Headers': 'x-vouchsafe-identity-signature',
      },
    });
    expect((res.headers.get('Access-Control-Allow-Headers') ?? '').toLowerCase()).toContain('x-vouchsafe-identity-signature');
  });
});
