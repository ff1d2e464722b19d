import { env } from 'cloudflare:workers';
import fc from 'fast-check';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { app } from '../../worker/src/app';
import type { Env } from '../../worker/src/env';
import { TEST_ENV } from '../test-env';
import { signIn } from './console-helpers';
import { bodyRoutes, fillPath, type FuzzRoute, fuzzRoutes, NOT_FUZZED, queryRoutes, routeKey } from './fuzz-routes';
import { CLIENT_HEADERS, SERVER_HEADERS, call, bytes, settled } from './helpers';

// Malformed requests across every mounted route (fuzz-routes.ts derives the list from the app, so
// a new route is fuzzed without being listed): none may answer 5xx, every error must be the
// Voucherify error object, and a rejected request must leave the database as it was.

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
  // Form bodies, as the console's pages post them, with what a hand-made form can carry.
  'name=%FF&filter=%ED%A0%80',
  `name=${'x'.repeat(5000)}&type=auto-update&filter[a][b][c][d][e][f][g][h][i][j]=1`,
  'code=&amount=-1&amount=1e400&items[0][quantity]=NaN&__proto__[x]=1',
  JSON.stringify({ rules: { '1': { name: 'order.amount', conditions: { $more_than: [{}] } }, logic: '1 and and' } }),
  JSON.stringify({ source_ids: Array(200).fill('a'), metadata: {} }),
  // Prototype keys at the top, in metadata and deeper (written as text: an object literal's
  // __proto__ would set the prototype instead of making a key).
  '{"__proto__": {"polluted": true}, "source_id": "fz-proto"}',
  '{"source_id": "fz-proto", "metadata": {"__proto__": {"polluted": true}}}',
  '{"source_id": "fz-proto", "metadata": {"list": [{"constructor": 1}]}}',
  '{"customer": {"source_id": "fz-proto", "metadata": {"prototype": 1}}, "order": {"amount": 100, "metadata": {"__proto__": 1}}}',
  '{"name": "fz", "type": "auto-update", "filter": {"junction": "and", "metadata.constructor": {"conditions": {"$is": ["x"]}}}}',
  // Nesting past SQLite's json_valid limit (once a 500), and one level past ours.
  `{"event": "deep", "source_id": "fz-deep", "customer": {"source_id": "fz-deep"}, "metadata": {"d": ${'['.repeat(1500)}${']'.repeat(1500)}}}`,
  JSON.stringify({ source_id: 'fz-deep', event: 'deep', customer: { source_id: 'fz-deep' }, metadata: { d: deep(31) } }),
  // Lone surrogates, as JSON escapes (refused, never silently mangled).
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

/** Query strings that must be refused by name on every route (prototype keys, percent-encoded non-UTF-8, nesting past 8 brackets, more than 1000 parameters). */
const hostileQueries = [
  '__proto__[x]=1',
  'constructor=1',
  'customer[prototype]=1',
  'item[0][__proto__]=1',
  'code=%FF',
  'limit=%ED%A0%80',
  '%C0%AF=1',
  'metadata[a]=%E2%82',
  `metadata${'[a]'.repeat(9)}=1`,
  `item${'[0]'.repeat(40)}=1`,
  Array.from({ length: 1001 }, (_, i) => `p${i}=${i}`).join('&'),
];

/** Every table's rows, read in one batch (one round trip): equal before and after means nothing was written. */
async function fingerprint(): Promise<string> {
  const { results: tables } = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name != 'd1_migrations' ORDER BY name",
  ).all<{ name: string }>();
  const reads = await env.DB.batch(
    tables.map(({ name }) => {
      // A refused redemption (an unknown code, a disabled voucher …) is recorded as a failed one
      // (OA24 "Failed Redemption", services/redeem.ts recordFailure): that is the answer, not a leftover.
      const where = name === 'redemptions' ? " WHERE result IS NOT 'FAILURE'" : '';
      return env.DB.prepare(`SELECT * FROM "${name}"${where}`);
    }),
  );
  return tables.map(({ name }, i) => `${name}:${JSON.stringify(reads[i]?.results)}`).join('\n');
}

const SEGMENT_HEADERS = { authorization: `Basic ${btoa(TEST_ENV.APP_ID)}`, 'secret-key': btoa(TEST_ENV.APP_TOKEN) };
const OWN_ORIGIN = 'https://vouchsafe.test';
let consoleCookie = '';

/**
 * Each family's credentials, so that a request reaches the route's own handler rather than stopping at auth.
 * Sign-out ends its session on the server, so each sign-out gets a session of its own and the
 * other console routes keep theirs.
 */
async function headersFor(route: FuzzRoute, withBody: boolean): Promise<Record<string, string>> {
  const json: Record<string, string> = withBody ? { 'Content-Type': 'application/json' } : {};
  switch (route.family) {
    case 'server':
      return { ...SERVER_HEADERS, ...json };
    case 'client':
      return { ...CLIENT_HEADERS, ...json };
    case 'segmentio':
      return { ...SEGMENT_HEADERS, ...json };
    // Console pages post forms, signed in, from their own origin.
    case 'console':
      return {
        Cookie: route.pattern === '/console/sign-out' ? await signIn() : consoleCookie,
        Origin: OWN_ORIGIN,
        ...(withBody ? { 'Content-Type': 'application/x-www-form-urlencoded' } : ({} as Record<string, string>)),
      };
    // The demo's backend answers its own page only, and only with DEMO=on (below).
    case 'demo':
      return { Origin: OWN_ORIGIN, ...json };
    case 'public':
      return json;
  }
}

const bindingsFor = (route: FuzzRoute): Partial<Env> => (route.family === 'demo' ? { DEMO: 'on' } : {});

async function send(route: FuzzRoute, init: { query?: string; body?: BodyInit; path?: string } = {}): Promise<Response> {
  const withBody = init.body !== undefined;
  const path = `${init.path ?? route.path}${init.query ? `?${init.query}` : ''}`;
  return call(
    path,
    { method: route.method, headers: await headersFor(route, withBody), body: init.body, redirect: 'manual' },
    bindingsFor(route),
  );
}

const label = (route: FuzzRoute, extra = '') => `${route.method} ${route.path}${extra}`;

/**
 * What is wrong with an answer to a malformed request, or null: no 5xx; an error is the Voucherify
 * error object with its status as `code`, and names no SQL or stack frame. Console pages are the
 * one exception to the JSON shape: a person reads their errors as a page (an HTML 4xx), in the
 * same layout as every other console answer.
 */
async function problemWith(res: Response, what: string, route?: FuzzRoute): Promise<string | null> {
  const text = await res.text();
  const says = `${what} answered ${res.status}: ${text.slice(0, 200)}`;
  if (res.status >= 500) return says;
  if (res.status < 400) return null;
  if (/SQLITE|D1_ERROR|\.tsx?:\d+|at \w+ \(/.test(text)) return `${says} (internals in the answer)`;
  if (route?.family === 'console' && (res.headers.get('Content-Type') ?? '').startsWith('text/html')) return null;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return `${says} (not JSON)`;
  }
  const shaped =
    body.code === res.status && typeof body.key === 'string' && typeof body.message === 'string' && typeof body.request_id === 'string';
  return shaped ? null : `${says} (not the error object)`;
}

async function expectRejectedCleanly(res: Response, what: string, route?: FuzzRoute): Promise<void> {
  expect(await problemWith(res, what, route)).toBeNull();
}

/** The tables whose rows differ between two fingerprints, each with the start of what differs: the failure says what was written. */
function changedTables(before: string, after: string): string {
  const rows = (f: string) => new Map(f.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line]));
  const [a, b] = [rows(before), rows(after)];
  return [...b]
    .filter(([table, line]) => a.get(table) !== line)
    .map(
      ([table, line]) =>
        `${table} ${line
          .slice(table.length + 1)
          .replace(a.get(table)?.slice(table.length + 1, -1) ?? '', '')
          .slice(0, 300)}`,
    )
    .join('; ');
}

/** `count` items of `list`, a different window for each `index`, so that together the routes get all of them. */
const sample = <T>(list: readonly T[], index: number, count: number): T[] =>
  Array.from({ length: Math.min(count, list.length) }, (_, i) => list[(index * count + i) % list.length] as T);

/** Bodies every body route gets; the rest are spread over the routes, BODIES_PER_ROUTE each. */
const CORE_BODIES = 4;
/** Content types each body route gets a body under (spread like the bodies). */
const CONTENT_TYPES_PER_ROUTE = 2;
const BODIES_PER_ROUTE = 4;

/** Path parameter values that are wrong in ways a URL can be, spread over the routes with parameters (PARAMS_PER_ROUTE each). */
const PARAMS_PER_ROUTE = 2;
const hostileParams = ['', ' ', '..', '%', '\u0000', 'x'.repeat(2000), "' OR 1=1 --", '__proto__', '\ud83d\ude00', 'a/b', '-1', '1e309'];

/**
 * Runs `request` and notes in `problems` what is wrong with its answer; a rejected request must
 * also leave the database as it was. `state` carries the fingerprint from one request to the next,
 * so that it is taken once per request, not twice.
 */
async function checked(
  state: { fingerprint: string; problems: string[] },
  what: string,
  route: FuzzRoute,
  request: () => Promise<Response>,
): Promise<number> {
  const res = await request();
  const status = res.status;
  const problem = await problemWith(res, what, route);
  if (problem) state.problems.push(problem);
  const after = await fingerprint();
  if (status >= 400 && after !== state.fingerprint)
    state.problems.push(`${what} (${status}) changed the database: ${changedTables(state.fingerprint, after)}`);
  state.fingerprint = after;
  return status;
}

const newState = async () => ({ fingerprint: await fingerprint(), problems: [] as string[] });

describe('the fuzzed routes', () => {
  it('are every route the app mounts, but the few excluded with a reason', () => {
    const fuzzed = new Set([...fuzzRoutes().map((r) => routeKey(r.method, r.pattern))]);
    const body = new Set(bodyRoutes().map((r) => r.pattern));
    const query = new Set(queryRoutes().map((r) => r.pattern));
    // Read from the app itself, not through the helper: a helper that misses a route fails here.
    const mounted = app.routes.map((r) => routeKey(r.method, r.path));
    const missing = mounted.filter((key) => !fuzzed.has(key) && !(key in NOT_FUZZED));
    expect(missing, 'mounted routes neither fuzzed nor in NOT_FUZZED').toEqual([]);
    for (const r of app.routes) {
      if (routeKey(r.method, r.path) in NOT_FUZZED) continue;
      // Every method that takes a body gets the bad bodies; every GET the bad query strings.
      if (r.method !== 'GET') expect(body.has(r.path), `${r.method} ${r.path} gets no bad bodies`).toBe(true);
      if (r.method === 'GET' || r.method === 'ALL') expect(query.has(r.path), `${r.method} ${r.path} gets no bad query strings`).toBe(true);
    }
    for (const [key, reason] of Object.entries(NOT_FUZZED)) {
      expect(mounted, `NOT_FUZZED names ${key}, which is not mounted`).toContain(key);
      expect(reason.length, `NOT_FUZZED ${key} needs a reason`).toBeGreaterThan(20);
    }
    // The API as the wire contract lists it is a floor: far fewer routes means the derivation broke.
    expect(body.size).toBeGreaterThanOrEqual(39);
  });
});

/** The ids of real objects, by the collection a path parameter follows (fuzz-routes.ts ParamValue). */
let fixtures: Record<string, string> = {};
/** A path parameter's value: a real object of its collection, so that bad bodies reach the handler rather than stop at a 404. */
const real = (collection: string): string => fixtures[collection] ?? 'fz-1';

async function created(path: string, body: unknown): Promise<string> {
  const res = await call(path, {
    method: 'POST',
    headers: { ...SERVER_HEADERS, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = (await res.json()) as { id?: string };
  if (!answer.id) throw new Error(`fixture ${path}: ${res.status} ${JSON.stringify(answer)}`);
  return answer.id;
}

/** One object of each kind a path names (made again before each test: the fuzz's deleting routes may have removed them). */
async function makeFixtures(): Promise<void> {
  const customer = await created('/v1/customers', { source_id: 'fz-1' });
  await call('/v1/vouchers/fz-1', {
    method: 'POST',
    headers: { ...SERVER_HEADERS, 'Content-Type': 'application/json' },
    body: JSON.stringify({ type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 100 } }),
  });
  const segment = await created('/v1/segments', {
    name: 'fz',
    type: 'auto-update',
    filter: { junction: 'and', email: { conditions: { $is_unknown: true } } },
  });
  const rule = await created('/v1/validation-rules', {
    name: 'fz',
    rules: { '1': { name: 'order.amount', conditions: { $more_than: [1] } }, logic: '1' },
  });
  const assignment = await created(`/v1/validation-rules/${rule}/assignments`, {
    related_object_type: 'voucher',
    related_object_id: 'fz-1',
  }).catch(() => 'asgm_fz');
  const campaign = await created('/v1/campaigns', {
    name: `fz-${Date.now()}`,
    campaign_type: 'DISCOUNT_COUPONS',
    voucher: { type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 100 } },
  });
  // A PROMOTION campaign and a tier of it, for the /v1/promotions routes (a tier is added to it by id).
  const promotion = await created('/v1/campaigns', { name: `fz-promo-${Date.now()}`, campaign_type: 'PROMOTION' });
  const tier = await created(`/v1/promotions/${promotion}/tiers`, {
    name: 'fz tier',
    action: { discount: { type: 'AMOUNT', amount_off: 100 } },
  });
  const redemption = await created('/v1/redemptions', {
    redeemables: [{ object: 'voucher', id: 'fz-1' }],
    customer: { source_id: 'fz-1' },
    order: { amount: 1000 },
  })
    .catch(() => created('/v1/vouchers/fz-1/redemption', { customer: { source_id: 'fz-1' }, order: { amount: 1000 } }))
    .catch(() => 'r_fz');
  const exported = await created('/v1/exports', { exported_object: 'customer' });
  const action = await created('/v1/customers/metadata/async', { source_ids: ['fz-1'], metadata: { fz: 1 } }).catch(() => 'aa_fz');
  // Disabled at once: an endpoint taking deliveries would write to the database between the fuzz's requests.
  const webhook = await created('/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['customer.created'] });
  await call(`/v1/webhooks/${webhook}`, {
    method: 'PUT',
    headers: { ...SERVER_HEADERS, 'Content-Type': 'application/json' },
    body: '{"enabled":false}',
  });
  fixtures = {
    customers: customer,
    vouchers: 'fz-1',
    segments: segment,
    why: segment,
    'validation-rules': rule,
    assignments: assignment,
    campaigns: campaign,
    promotions: promotion,
    tiers: tier,
    redemptions: redemption,
    exports: exported,
    'async-actions': action,
    actions: action,
    webhooks: webhook,
  };
  await settled();
}

describe('malformed requests', () => {
  beforeAll(async () => {
    consoleCookie = await signIn();
  });
  beforeEach(async () => {
    await makeFixtures();
  });

  it('get a 4xx in the error shape, never a 5xx, and change nothing (every body route, a share of the bad bodies each)', async () => {
    const state = await newState();
    // Deleting routes last, so that the others find the customer and voucher they are given.
    const routes = bodyRoutes(real).sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'));
    const spread = badBodies.slice(CORE_BODIES);
    let sent = 0;
    for (const [i, route] of routes.entries()) {
      for (const body of [...badBodies.slice(0, CORE_BODIES), ...sample(spread, i, BODIES_PER_ROUTE)]) {
        await checked(state, label(route, ` body ${body.slice(0, 60)}`), route, () => send(route, { body }));
        sent++;
      }
    }
    expect(state.problems).toEqual([]);
    expect(sent).toBe(routes.length * (CORE_BODIES + BODIES_PER_ROUTE));
    // Every bad body went to some route.
    expect(routes.length * BODIES_PER_ROUTE).toBeGreaterThanOrEqual(spread.length);
  }, 300_000);

  it('bodies that are not UTF-8 are refused naming the byte, or not read as text at all, and change nothing', async () => {
    const state = await newState();
    for (const [i, route] of bodyRoutes(real).entries()) {
      for (const body of sample(badlyEncodedBodies, i, 2)) {
        const what = label(route, ' (not UTF-8)');
        const before = state.fingerprint;
        const res = await send(route, { body });
        const text = await res.clone().text();
        await checked(state, what, route, async () => res);
        // A route that reads the body as text refuses it by the byte (lib/parse-input.ts); none may
        // read it with U+FFFD in place of the bytes, in its answer or in what it stores. A console
        // page also shows stored names (the promotion form lists the segments), and the random
        // bodies above may have stored a name holding U+FFFD: there, its answer is judged only
        // while nothing stored holds one.
        const shown = text.includes('\uFFFD') && !(route.family === 'console' && before.includes('\uFFFD'));
        if (shown || (state.fingerprint.includes('\uFFFD') && !before.includes('\uFFFD')))
          state.problems.push(`${what} read the body with U+FFFD: ${text.slice(0, 200)}`);
        let error: { key?: string; details?: string } | null = null;
        try {
          error = JSON.parse(text) as { key?: string; details?: string };
        } catch {
          // A console page: its own layout, checked above.
        }
        if (
          error?.details?.includes('UTF-8') &&
          !/^The request body is not valid UTF-8: byte 0x[0-9A-F]{2} at byte offset \d+\.$/.test(error.details)
        )
          state.problems.push(`${what}: ${error.details}`);
      }
    }
    expect(state.problems).toEqual([]);
  }, 300_000);

  it('bodies under a content type they are not (broken multipart, forms, text) never get a 5xx and change nothing', async () => {
    const state = await newState();
    const bodies: [contentType: string, body: string][] = [
      ['multipart/form-data', '--x\r\nContent-Disposition: form-data; name="file"\r\n\r\nSource_id\r\n'],
      ['multipart/form-data; boundary=x', 'no parts at all'],
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nSource_id\nfz-mp'],
      ['application/x-www-form-urlencoded', 'source_id=fz-form&name=%FF&__proto__=1'],
      ['text/plain', '{"source_id": "fz-text"}'],
      ['application/json; charset=latin1', '{"source_id": "fz-latin"}'],
    ];
    for (const [i, route] of bodyRoutes(real).entries()) {
      for (const [contentType, body] of sample(bodies, i, CONTENT_TYPES_PER_ROUTE)) {
        await checked(state, label(route, ` as ${contentType}`), route, async () =>
          call(
            route.path,
            {
              method: route.method,
              headers: { ...(await headersFor(route, false)), 'Content-Type': contentType },
              body,
              redirect: 'manual',
            },
            bindingsFor(route),
          ),
        );
      }
    }
    expect(state.problems).toEqual([]);
  }, 300_000);

  it('a console form post whose body cannot be read as a form is a 400 saying so (was a 500), on every console POST route that reads one', async () => {
    const state = await newState();
    const routes = bodyRoutes(real).filter(
      (r) => r.family === 'console' && r.method === 'POST' && r.pattern !== '/console/imports/customers',
    );
    expect(routes.length).toBeGreaterThan(10);
    for (const route of routes) {
      for (const [contentType, body] of [
        ['multipart/form-data', '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nfz\r\n--x--'],
        ['multipart/form-data; boundary=x', 'no parts at all'],
        ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\ncut short'],
      ] as const) {
        const what = label(route, ` as ${contentType}`);
        const res = await call(route.path, {
          method: 'POST',
          headers: { ...(await headersFor(route, false)), 'Content-Type': contentType },
          body,
          redirect: 'manual',
        });
        const status = res.status;
        const error = (await res
          .clone()
          .json()
          .catch(() => ({}))) as { key?: string; details?: string };
        // A route that reads no form (sign-out, enable, the catch-all's 404 page) answers as ever; one that reads it says why it cannot.
        const readsNoForm = status < 400 || status === 404;
        if (
          !readsNoForm &&
          (status !== 400 || error.key !== 'invalid_payload' || !/^The request body is not a readable form/.test(error.details ?? ''))
        )
          state.problems.push(`${what} answered ${status} ${error.key}: ${error.details}`);
        await checked(state, what, route, async () => res);
      }
    }
    expect(state.problems).toEqual([]);
  });

  it('hostile query strings get a 400 naming the parameter on every route', async () => {
    const wrong: string[] = [];
    for (const route of [...bodyRoutes(real), ...queryRoutes(real)]) {
      for (const query of hostileQueries) {
        const res = await send(route, { query, body: route.method === 'GET' ? undefined : '{}' });
        const error = (await res.json().catch(() => ({}))) as { key?: string; details?: string };
        if (res.status !== 400 || error.key !== 'invalid_query_params' || !/^query parameter /.test(error.details ?? '')) {
          wrong.push(`${label(route, `?${query}`)} answered ${res.status} ${error.key}: ${error.details}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  }, 300_000);

  it('hostile path parameters never get a 5xx and change nothing when refused', async () => {
    const state = await newState();
    const routes = [...bodyRoutes(), ...queryRoutes()].filter((r) => /[:*]/.test(r.pattern));
    expect(routes.length).toBeGreaterThan(30);
    for (const [i, route] of routes.entries()) {
      for (const param of sample(hostileParams, i, PARAMS_PER_ROUTE)) {
        const path = fillPath(route.pattern, param);
        await checked(state, label(route, ` as ${path.slice(0, 80)}`), route, () =>
          send(route, { path, body: route.method === 'GET' ? undefined : '{}' }),
        );
      }
    }
    expect(state.problems).toEqual([]);
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
      await expectRejectedCleanly(res, 'importCSV');
      if (status >= 400) expect(await fingerprint()).toBe(before);
    }
  }, 300_000);

  it("random bodies on every body route, shapeless and made of the API's own field names: no 5xx (property-based, 600 cases)", async () => {
    // Field names and values of the API's bodies, so that random bodies get past "not an object"
    // into the schemas and the services; the console gets the same as a form.
    const fields = [
      'source_id',
      'customer',
      'order',
      'amount',
      'items',
      'code',
      'metadata',
      'filter',
      'name',
      'type',
      'discount',
      'redeemables',
      'tracking_id',
      'email',
      'events',
      'url',
      'voucher',
      'campaign_type',
      'vouchers_count',
      'exported_object',
      'parameters',
      'related_object_type',
      'related_object_id',
      'rules',
      'logic',
      'conditions',
      'junction',
      'quantity',
      'price',
      'sku_id',
      'product_id',
      'enabled',
      'description',
      'reason',
      'segment_id',
      'source_ids',
      'start_date',
      'expiration_date',
      'active',
      'amount_off',
      'percent_off',
      'effect',
      'id',
      'object',
      'fields',
      'filters',
      'status',
      '$is',
      '$in',
      '$more_than',
      '$is_unknown',
      'created_at',
      'address',
      'identity_hash',
      'identity_signature',
      'event',
      'properties',
      'traits',
      'userId',
      'anonymousId',
      'groupId',
      'app_id',
      'secret_key',
      'next',
      'against',
    ];
    const leaf = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.constantFrom(...fields),
      fc.constantFrom(
        '2024-01-01T00:00:00Z',
        'AMOUNT',
        'PERCENT',
        'DISCOUNT_VOUCHER',
        'auto-update',
        'static',
        'customer',
        'voucher',
        'and',
        '1',
        'fz-1',
        'order.amount',
        'not-a-date',
        '-1',
        '1e309',
      ),
    );
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small', maxDepth: 4 },
        leaf,
        fc.array(tie('value'), { maxLength: 3 }),
        fc.dictionary(fc.constantFrom(...fields), tie('value'), { maxKeys: 5 }),
      ),
    }));
    const body = fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.dictionary(fc.constantFrom(...fields), value, { maxKeys: 6 }));
    const asForm = (v: unknown) =>
      new URLSearchParams(
        typeof v === 'object' && v !== null && !Array.isArray(v)
          ? Object.entries(v).map(([k, x]): [string, string] => [k, typeof x === 'string' ? x : JSON.stringify(x)])
          : [],
      ).toString();
    const problems: string[] = [];
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...bodyRoutes(real)), body, async (route, v) => {
        const text = route.family === 'console' ? asForm(v) : JSON.stringify(v);
        const problem = await problemWith(await send(route, { body: text }), `${label(route)} ${text.slice(0, 200)}`, route);
        if (problem) problems.push(problem);
        sent++;
      }),
      { numRuns: 600 },
    );
    expect(problems).toEqual([]);
    expect(sent).toBe(600);
  }, 300_000);

  it('random query strings on every GET route: no 5xx (property-based, 300 cases)', async () => {
    const key = fc.oneof(
      fc.constantFrom(
        'code',
        'amount',
        'limit',
        'page',
        'order',
        'starting_after',
        'segment_id',
        'item[0][quantity]',
        'customer[source_id]',
        'created_at[before]',
        'metadata[a][b][c][d][e][f]',
        '__proto__[x]',
        'tracking_id',
        'identity_hash',
        'token',
        'next',
        'q',
        'status',
        'filters[junction]',
      ),
      fc.string({ maxLength: 20 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...queryRoutes(real)),
        fc.array(fc.tuple(key, fc.string({ maxLength: 300 })), { maxLength: 8 }),
        async (route, pairs) => {
          const res = await send(route, { query: new URLSearchParams(pairs).toString() });
          await expectRejectedCleanly(res, label(route, `?${new URLSearchParams(pairs)}`), route);
        },
      ),
      { numRuns: 300 },
    );
  }, 300_000);
});
