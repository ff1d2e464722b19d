import { env } from 'cloudflare:workers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CLIENT_HEADERS, SERVER_HEADERS, call, bytes } from './helpers';

// Malformed requests across every route: none may answer 5xx, every error must be the Voucherify
// error object, and a rejected request must leave the database as it was.

const ROUTES: [method: string, path: string, client?: boolean][] = [
  ['POST', '/v1/customers'],
  ['PUT', '/v1/customers/fz-1'],
  ['POST', '/v1/customers/bulk/async'],
  ['POST', '/v1/customers/metadata/async'],
  ['POST', '/v1/customers/fz-1/permanent-deletion'],
  ['POST', '/v1/segments'],
  ['POST', '/v1/events'],
  ['POST', '/v1/vouchers'],
  ['POST', '/v1/vouchers/FZ'],
  ['PUT', '/v1/vouchers/FZ'],
  ['POST', '/v1/vouchers/FZ/validate'],
  ['POST', '/v1/vouchers/FZ/redemption'],
  ['POST', '/v1/validation-rules'],
  ['POST', '/v1/validation-rules/val_x/assignments'],
  ['POST', '/v1/validations'],
  ['POST', '/v1/redemptions'],
  ['POST', '/v1/redemptions/r_x/rollback'],
  ['POST', '/v1/redemptions/r_x/rollbacks'],
  ['POST', '/client/v1/events', true],
  ['POST', '/client/v1/validations', true],
  ['POST', '/client/v1/redemptions', true],
];

const QUERY_ROUTES = ['/v1/customers', '/v1/segments', '/v1/redemptions', '/v1/customers/fz-1/activity', '/client/v1/validate'];

const deep = (depth: number): unknown => (depth === 0 ? 'x' : { a: deep(depth - 1) });

/** Bodies that are wrong in the ways clients get them wrong. */
const badBodies: string[] = [
  '',
  '{',
  'null',
  '[]',
  '"text"',
  '42',
  '{"name": }',
  JSON.stringify(deep(200)),
  JSON.stringify({ source_id: 'x'.repeat(10_000) }),
  JSON.stringify({ email: 12, name: ['a'], metadata: 'm' }),
  JSON.stringify({ discount: { type: 'AMOUNT', amount_off: -1 } }),
  JSON.stringify({ discount: { type: 'AMOUNT', amount_off: 1.5 } }),
  JSON.stringify({ order: { amount: -100 } }),
  JSON.stringify({ order: { amount: 1e308 } }),
  JSON.stringify({ order: { amount: 'NaN', items: 'none' } }),
  JSON.stringify({ customer: { id: {} }, tracking_id: ['a'] }),
  JSON.stringify({ redeemables: [{ object: 'voucher' }] }),
  JSON.stringify({ redeemables: 'FZ' }),
  JSON.stringify({ event: '\u0000\ud800', customer: { source_id: '' } }),
  JSON.stringify({ name: 'x', type: 'auto-update', filter: { 'metadata.a': { conditions: { $in: Array(500).fill(1) } } } }),
  JSON.stringify({ name: 'x', filter: { "metadata.a'b": { conditions: { $is: ["x' OR 1=1 --"] } } } }),
  JSON.stringify({ __proto__: { polluted: true }, constructor: { prototype: {} } }),
  JSON.stringify({ rules: { '1': { name: 'order.amount', conditions: { $more_than: [{}] } }, logic: '1 and and' } }),
  JSON.stringify({ source_ids: Array(200).fill('a'), metadata: {} }),
  // Prototype keys at the top, in metadata and deeper (written as text: an object literal's
  // __proto__ would set the prototype instead of making a key).
  '{"__proto__": {"polluted": true}, "source_id": "fz-proto"}',
  '{"source_id": "fz-proto", "metadata": {"__proto__": {"polluted": true}}}',
  '{"source_id": "fz-proto", "metadata": {"list": [{"constructor": 1}]}}',
  '{"customer": {"source_id": "fz-proto", "metadata": {"prototype": 1}}, "order": {"amount": 100, "metadata": {"__proto__": 1}}}',
  '{"name": "fz", "type": "auto-update", "filter": {"junction": "and", "metadata.constructor": {"conditions": {"$is": ["x"]}}}}',
  // Nesting past SQLite's json_valid limit (F18), and one level past ours.
  `{"event": "deep", "source_id": "fz-deep", "customer": {"source_id": "fz-deep"}, "metadata": {"d": ${'['.repeat(1500)}${']'.repeat(1500)}}}`,
  JSON.stringify({ source_id: 'fz-deep', event: 'deep', customer: { source_id: 'fz-deep' }, metadata: { d: deep(31) } }),
  // Lone surrogates, as JSON escapes (F22).
  '{"source_id": "sur-\\ud800-1", "event": "x", "customer": {"source_id": "sur-\\udc00"}}',
  '{"code": "\\ud800", "name": "\\udfff\\ud800"}',
];


/** Bodies that are not UTF-8 text: Latin-1, stray bytes, a cut sequence, an encoded surrogate, UTF-16. */
const badlyEncodedBodies: Uint8Array[] = [
  bytes('{"source_id": "fz-enc", "name": "Jos', [0xe9], '"}'),
  bytes('{"source_id": "fz-enc', [0xff, 0xfe], '"}'),
  bytes('{"source_id": "fz-enc', [0xe2, 0x82], '"}'),
  bytes('{"source_id": "fz-enc', [0xed, 0xa0, 0x80], '"}'),
  bytes('{"source_id": "fz-enc', [0xc0, 0xaf], '"}'),
  Uint8Array.from([0xff, 0xfe, ...[...'{"source_id": "fz-enc"}'].flatMap((ch) => [ch.charCodeAt(0), 0])]),
];

/** Query strings that must be refused by name on every route (prototype keys, percent-encoded non-UTF-8). */
const hostileQueries = ['__proto__[x]=1', 'constructor=1', 'customer[prototype]=1', 'item[0][__proto__]=1', 'code=%FF', 'limit=%ED%A0%80', '%C0%AF=1', 'metadata[a]=%E2%82'];

async function fingerprint(): Promise<string> {
  const { results: tables } = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name != 'd1_migrations' ORDER BY name",
  ).all<{ name: string }>();
  const parts: string[] = [];
  for (const { name } of tables) {
    // Redeeming an unknown code records a failed redemption of nobody (OA24 "Failed Redemption"): that is the answer, not a leftover.
    const where = name === 'redemptions' ? " WHERE failure_code IS NOT 'not_found'" : '';
    const { results } = await env.DB.prepare(`SELECT * FROM "${name}"${where}`).all();
    parts.push(`${name}:${JSON.stringify(results)}`);
  }
  return parts.join('\n');
}

const headersFor = (client?: boolean) =>
  client ? { ...CLIENT_HEADERS, 'Content-Type': 'application/json' } : { ...SERVER_HEADERS, 'Content-Type': 'application/json' };

async function expectRejectedCleanly(res: Response) {
  expect(res.status).toBeLessThan(500);
  if (res.status >= 400) {
    const body = (await res.json()) as Record<string, unknown>;
    expect(typeof body.key).toBe('string');
    expect(body.code).toBe(res.status);
    expect(String(body.details ?? '')).not.toMatch(/SQLITE|D1_ERROR|\.ts:\d+|at \w+ \(/);
  } else {
    await res.arrayBuffer();
  }
}

describe('malformed requests', () => {
  it('get a 4xx in the error shape, never a 5xx, and change nothing (every route × every bad body)', async () => {
    await call('/v1/customers', { method: 'POST', headers: headersFor(), body: JSON.stringify({ source_id: 'fz-1' }) });
    let sent = 0;
    for (const body of badBodies) {
      for (const [method, path, client] of ROUTES) {
        const before = await fingerprint();
        const res = await call(path, { method, headers: headersFor(client), body });
        sent++;
        const status = res.status;
        await expectRejectedCleanly(res);
        if (status >= 400) expect(await fingerprint()).toBe(before);
      }
    }
    expect(sent).toBe(badBodies.length * ROUTES.length);
  }, 300_000);

  it('bodies that are not UTF-8 get a 400 naming the byte on every route, and change nothing', async () => {
    // Permanent deletion takes no body, so it never reads one.
    const bodyRoutes = ROUTES.filter(([, path]) => !path.endsWith('/permanent-deletion'));
    for (const body of badlyEncodedBodies) {
      for (const [method, path, client] of bodyRoutes) {
        const before = await fingerprint();
        const res = await call(path, { method, headers: headersFor(client), body });
        expect(res.status, `${method} ${path}`).toBe(400);
        const error = (await res.json()) as { key: string; details: string };
        expect(error.details).toMatch(/^The request body is not valid UTF-8: byte 0x[0-9A-F]{2} at byte offset \d+\.$/);
        expect(await fingerprint()).toBe(before);
      }
    }
  }, 300_000);

  it('hostile query strings get a 400 naming the parameter on every route (body routes and list routes)', async () => {
    const paths: [string, string, boolean][] = [
      ...ROUTES.map(([method, path, client]): [string, string, boolean] => [method, path, client === true]),
      ...QUERY_ROUTES.map((path): [string, string, boolean] => ['GET', path, path.startsWith('/client')]),
      ['POST', '/v1/customers/importCSV', false],
      ['POST', '/v1/exports', false],
    ];
    for (const query of hostileQueries) {
      for (const [method, path, client] of paths) {
        const res = await call(`${path}?${query}`, { method, headers: headersFor(client), body: method === 'GET' ? undefined : '{}' });
        expect(res.status, `${method} ${path}?${query}`).toBe(400);
        const error = (await res.json()) as { key: string; details: string };
        expect(error.key).toBe('invalid_query_params');
        expect(error.details).toMatch(/^query parameter /);
      }
    }
  }, 300_000);

  it('hostile CSV files (prototype headers, bad encodings, NULs, cut quotes) never get a 5xx and write nothing when refused', async () => {
    const files: (string | Uint8Array)[] = [
      'Source_id,constructor\nctor-1,x\n',
      'Source_id,__proto__\nproto-1,x\n',
      'Source_id,prototype,Name\nproto-2,x,y\n',
      bytes('Source_id,Name\nlat-1,Jos', [0xe9], '\n'),
      bytes('Source_id,Name\nbad-1,', [0xed, 0xa0, 0x80], '\n'),
      bytes('Source_id,Name\ncut-1,', [0xe2, 0x82]),
      Uint8Array.from([...'Source_id\nutf16-no-bom\n'].flatMap((ch) => [ch.charCodeAt(0), 0])),
      Uint8Array.from([0xff, 0xfe, ...[...'Source_id\nx'].flatMap((ch) => [ch.charCodeAt(0), 0]), 0x00, 0xd8]),
      Uint8Array.from([0xfe, 0xff, 0xdc, 0x00]),
      'Source_id,Name\n"open,x\n',
      `Source_id,Name\nwide,${'x'.repeat(70_000)}\n`,
    ];
    for (const file of files) {
      const before = await fingerprint();
      const form = new FormData();
      form.append('file', new Blob([file]), 'hostile.csv');
      const res = await call('/v1/customers/importCSV', { method: 'POST', headers: SERVER_HEADERS, body: form });
      const status = res.status;
      await expectRejectedCleanly(res);
      if (status >= 400) expect(await fingerprint()).toBe(before);
    }
  }, 300_000);

  it('random JSON bodies on every route: no 5xx (property-based, 400 cases)', async () => {
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), fc.jsonValue({ maxDepth: 4 }), async ([method, path, client], value) => {
        const res = await call(path, { method, headers: headersFor(client), body: JSON.stringify(value) });
        sent++;
        await expectRejectedCleanly(res);
      }),
      { numRuns: 400 },
    );
    expect(sent).toBe(400);
  }, 300_000);

  it('random query strings on the list and validate routes: no 5xx (property-based, 200 cases)', async () => {
    const key = fc.oneof(
      fc.constantFrom('code', 'amount', 'limit', 'page', 'order', 'starting_after', 'segment_id', 'item[0][quantity]', 'customer[source_id]', 'created_at[before]', 'metadata[a][b][c][d][e][f]', '__proto__[x]', 'tracking_id', 'identity_hash'),
      fc.string({ maxLength: 20 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...QUERY_ROUTES), fc.array(fc.tuple(key, fc.string({ maxLength: 300 })), { maxLength: 8 }), async (path, pairs) => {
        const query = new URLSearchParams(pairs).toString();
        const client = path.startsWith('/client');
        const res = await call(`${path}?${query}`, { headers: client ? CLIENT_HEADERS : SERVER_HEADERS });
        await expectRejectedCleanly(res);
      }),
      { numRuns: 200 },
    );
  }, 300_000);
});
