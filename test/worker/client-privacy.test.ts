/**
 * The client key is public (it ships in every storefront page): over every /client/v1/* route and
 * method the app mounts, and every way a caller can name a customer, no answer carries a stored
 * field of a customer that the caller did not send itself (security review F1, F11).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { hashIdentity } from '../../shared/identity';
import { app } from '../../worker/src/app';
import type { Env } from '../../worker/src/env';
import { CLIENT_HEADERS, api, call, json, setHolder, signHash } from './helpers';

const VICTIM = {
  source_id: 'zq-source-1',
  name: 'Zebulon Quixote',
  email: 'zebulon.q@needle.example',
  phone: '+48 555 777 313',
  address: { city: 'Needleton', country: 'Needlestan' },
  metadata: { tier: 'gold', secret_note: 'meta-needle-7f3' },
};
const LINKED_TID = 'track_LinkedLinkedLinked0000';
const FRESH_TID = 'track_FreshFreshFreshFresh00';

/** Every client route and method the app mounts (so a route added later is covered too). */
const clientRoutes = () => {
  const seen = new Set<string>();
  return app.routes
    .filter((r) => r.method !== 'ALL' && r.path.startsWith('/client/v1/'))
    .map((r) => ({ method: r.method, path: r.path.replace(/:[a-z_]+/gi, 'x') }))
    .filter((r) => !seen.has(`${r.method} ${r.path}`) && seen.add(`${r.method} ${r.path}`));
};

interface Claims {
  customer?: Record<string, unknown>;
  tracking_id?: string;
  identity_hash?: string;
  identity_signature?: string;
}

const toQuery = (value: unknown, prefix = ''): string[] =>
  value !== null && typeof value === 'object'
    ? Object.entries(value).flatMap(([k, v]) => toQuery(v, prefix ? `${prefix}[${k}]` : k))
    : value === undefined
      ? []
      : [`${encodeURIComponent(prefix)}=${encodeURIComponent(String(value))}`];

/** One request carrying the claims, in the shape of the route (query for GET, JSON body otherwise). */
function send(method: string, path: string, claims: Claims, bindings: Partial<Env>) {
  const common = { code: 'GATED', amount: 1000 };
  if (method === 'GET') {
    const url = `${path}?${toQuery({ ...common, ...claims }).join('&')}`;
    return { sent: decodeURIComponent(url), res: call(url, { headers: CLIENT_HEADERS }, bindings) };
  }
  const body = JSON.stringify({
    event: 'probe',
    customer: { source_id: FRESH_TID },
    redeemables: [{ object: 'voucher', id: 'GATED' }],
    order: { amount: 1000 },
    ...claims,
  });
  return { sent: body, res: call(path, { method, headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json' }, body }, bindings) };
}

let victimId: string;
let emailHash: string;

beforeAll(async () => {
  const customer = await json(await api('POST', '/v1/customers', VICTIM));
  victimId = customer.id;
  emailHash = await hashIdentity(VICTIM.email);
  const segment = await json(await api('POST', '/v1/segments', { name: 'gold', type: 'auto-update', filter: { 'metadata.tier': { conditions: { $is: ['gold'] } } } }));
  await api('POST', '/v1/vouchers/GATED', { discount: { type: 'AMOUNT', amount_off: 100 } });
  const rule = await json(await api('POST', '/v1/validation-rules', { name: 'gold only', rules: { '1': { name: 'customer.segment', conditions: { $is: [segment.id] } } } }));
  await api('POST', `/v1/validation-rules/${rule.id}/assignments`, { related_object_type: 'voucher', related_object_id: 'GATED' });
  // The victim's own device: redeemed once with this tracking id and a signed identity hash.
  await call(`/client/v1/validate?code=GATED&tracking_id=${LINKED_TID}&identity_hash=${emailHash}&identity_signature=${await signHash(emailHash)}`, { headers: CLIENT_HEADERS });
  expect((await api('POST', '/v1/vouchers/GATED/redemption', { customer: { source_id: VICTIM.source_id }, tracking_id: LINKED_TID, order: { amount: 1000 } })).status).toBe(200);
});

/** The ways a caller can point at the victim. */
const probes = (): [string, Claims][] => [
  ['source id', { customer: { source_id: VICTIM.source_id } }],
  ['source id with forged metadata', { customer: { source_id: VICTIM.source_id, metadata: { tier: 'gold' } } }],
  ['customer id', { customer: { id: victimId } }],
  ['the identity hash of the email, unsigned', { identity_hash: emailHash }],
  ['the linked tracking id', { tracking_id: LINKED_TID }],
  ['the linked tracking id as the event source id', { customer: { source_id: LINKED_TID } }],
  ['the linked tracking id with another customer', { tracking_id: LINKED_TID, customer: { source_id: 'someone-else' } }],
  ['the email as the raw tracking id', { tracking_id: VICTIM.email }],
];

describe.each([['required'], ['off']])('IDENTITY_VERIFICATION=%s', (mode) => {
  const bindings = { IDENTITY_VERIFICATION: mode };

  it('covers every client route', () => {
    const routes = clientRoutes();
    expect(routes.map((r) => `${r.method} ${r.path}`)).toEqual(expect.arrayContaining(['GET /client/v1/validate', 'POST /client/v1/validations', 'POST /client/v1/events']));
  });

  it('no answer carries a stored field of the customer beyond what the caller sent', async () => {
    const stored = [victimId, VICTIM.name, VICTIM.email, VICTIM.phone, VICTIM.address.city, VICTIM.metadata.secret_note, VICTIM.source_id];
    let checked = 0;
    for (const { method, path } of clientRoutes()) {
      for (const [probe, claims] of probes()) {
        const { sent, res } = send(method, path, claims, bindings);
        const response = await res;
        expect(response.status, `${method} ${path} ${probe}`).toBeLessThan(500);
        const answer = JSON.stringify([await response.text(), [...response.headers]]);
        for (const needle of stored.filter((s) => !sent.includes(s))) {
          expect(answer.includes(needle), `${method} ${path} / ${probe} / ${mode}: answer contains ${needle}`).toBe(false);
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(24);
  });
});

describe('known and unknown customers are told apart only by the verdict', () => {
  // Fields that differ per request whoever the customer is.
  // Ids minted per request (a stackable validation's valid_ id) differ between any two answers.
  const stable = (body: string) => body.replace(/"(request_id|tracking_id)":"[^"]*"/g, '"$1":"*"').replace(/"id":"valid_[^"]*"/g, '"id":"valid_*"')
      // A refused client redemption is recorded as its own rf_ (the record, not anyone's data).
      .replace(/"resource_id":"rf_[^"]*"/g, '"resource_id":"rf_*"');

  it.each([
    ['source id', (s: string) => ({ customer: { source_id: s } }), (): [string, string] => [VICTIM.source_id, 'nobody-at-all']],
    ['customer id', (s: string) => ({ customer: { id: s } }), (): [string, string] => [victimId, 'cust_NobodyNobodyNobody0000']],
  ] as const)('by %s, unsigned', async (_, claim, values) => {
    const [known, unknown] = values();
    for (const { method, path } of clientRoutes()) {
      const answer = async (value: string) => stable((await (await send(method, path, claim(value), {}).res).text()).replaceAll(value, '<sent>'));
      expect(await answer(known), `${method} ${path}`).toBe(await answer(unknown));
    }
  });
});

describe('a voucher as the public key sees it', () => {
  const NOTE = 'merchant-note-needle-41x';
  const bodyOf = (path: string) => ({
    // validations and redemptions take redeemables; a guest redeems the public code.
    redeemables: [{ object: 'voucher', id: 'HELD-NOTE' }],
    order: { amount: 1000 },
    ...(path.endsWith('/events') ? { event: 'probe', customer: { source_id: FRESH_TID } } : {}),
  });
  const ask = (method: string, path: string, bindings: Partial<Env> = {}) =>
    method === 'GET'
      ? call(`${path}?code=HELD-NOTE&amount=1000`, { headers: CLIENT_HEADERS }, bindings)
      : call(path, { method, headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json' }, body: JSON.stringify(bodyOf(path)) }, bindings);

  beforeAll(async () => {
    // A code published to the victim (its holder), with the shop's own note in its metadata.
    await api('POST', '/v1/vouchers/HELD-NOTE', { discount: { type: 'AMOUNT', amount_off: 100 }, metadata: { internal_note: NOTE } });
    await setHolder('HELD-NOTE', VICTIM.source_id);
  });

  it("no client answer names the voucher's holder nor carries the merchant's voucher metadata", async () => {
    const answered: string[] = [];
    for (const { method, path } of clientRoutes()) {
      const res = await ask(method, path);
      expect(res.status, `${method} ${path}`).toBeLessThan(500);
      const text = await res.text();
      for (const needle of [victimId, NOTE, '"holder_id"', '"validation_rules_assignments"']) {
        expect(text.includes(needle), `${method} ${path}: answer contains ${needle}`).toBe(false);
      }
      if (res.status === 200) answered.push(`${method} ${path}`);
    }
    // The voucher was in the answers checked: validate, validations, and a guest redemption of it.
    expect(answered).toEqual(expect.arrayContaining(['GET /client/v1/validate', 'POST /client/v1/validations', 'POST /client/v1/redemptions']));
  });

  it('the redemption answer still shows the offer, and the metadata when the operator opts in', async () => {
    const hidden = await json(await ask('POST', '/client/v1/redemptions'));
    expect(hidden.redemptions[0].voucher).toMatchObject({ code: 'HELD-NOTE', discount: { type: 'AMOUNT', amount_off: 100 }, metadata: {} });
    const on = { CLIENT_VOUCHER_METADATA: 'on' };
    const shown = await json(await ask('POST', '/client/v1/redemptions', on));
    expect(shown.redemptions[0].voucher.metadata).toEqual({ internal_note: NOTE });
    expect(shown.redemptions[0].voucher).not.toHaveProperty('holder_id');
    expect((await json(await ask('GET', '/client/v1/validate', on))).metadata).toEqual({ internal_note: NOTE });
    expect((await json(await ask('POST', '/client/v1/validations', on))).redeemables[0].metadata).toEqual({ internal_note: NOTE });
    // The server key sees the voucher whole, as before.
    const server = await json(await api('POST', '/v1/redemptions', bodyOf('/v1/redemptions')));
    expect(server.redemptions[0].voucher).toMatchObject({ holder_id: victimId, metadata: { internal_note: NOTE } });
  });
});
