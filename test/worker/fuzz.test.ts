import { env } from 'cloudflare:workers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CLIENT_HEADERS, SERVER_HEADERS, call } from './helpers';

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
];

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
