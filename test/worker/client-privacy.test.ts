/**
 * The client key is public (it ships in every storefront page): over every /client/v1/* route and
 * method the app mounts, and every way a caller can name a customer, no answer carries a stored
 * field of a customer that the caller did not send itself.
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { hashIdentity, signClaim } from '../../shared/identity';
import { app } from '../../worker/src/app';
import type { Env } from '../../worker/src/env';
import { resolveTrackingId } from '../../worker/src/services/tracking';
import { TEST_ENV } from '../test-env';
import { CLIENT_HEADERS, api, call, json, setHolder, settled, signAs, signHash } from './helpers';

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
  /** An object, or Voucherify's `customer=<source id>` shortcut. */
  customer?: Record<string, unknown> | string;
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
  const segment = await json(
    await api('POST', '/v1/segments', {
      name: 'gold',
      type: 'auto-update',
      filter: { 'metadata.tier': { conditions: { $is: ['gold'] } } },
    }),
  );
  // Marked public (migration 0031) so that qualifications list it to whoever its rules accept.
  await api('POST', '/v1/vouchers/GATED', { discount: { type: 'AMOUNT', amount_off: 100 }, public: true });
  await api('POST', '/v1/vouchers/OPEN-Q', { discount: { type: 'AMOUNT', amount_off: 100 } });
  const rule = await json(
    await api('POST', '/v1/validation-rules', {
      name: 'gold only',
      rules: { '1': { name: 'customer.segment', conditions: { $is: [segment.id] } } },
    }),
  );
  await api('POST', `/v1/validation-rules/${rule.id}/assignments`, { related_object_type: 'voucher', related_object_id: 'GATED' });
  // A promotion tier behind the same rule, so that the promotions validation has a verdict about the victim to give away.
  await api('POST', '/v1/campaigns', {
    name: 'gold promotion',
    campaign_type: 'PROMOTION',
    promotion: { tiers: [{ name: 'Gold tier', action: { discount: { type: 'AMOUNT', amount_off: 100 } }, validation_rules: [rule.id] }] },
  });
  // The victim's own device: redeemed once with this tracking id and a signed identity hash.
  await call(`/client/v1/validate?code=GATED&tracking_id=${LINKED_TID}&identity_hash=${emailHash}`, {
    headers: { ...CLIENT_HEADERS, 'X-Vouchsafe-Identity-Signature': await signHash(emailHash) },
  });
  expect(
    (
      await api('POST', '/v1/vouchers/GATED/redemption', {
        customer: { source_id: VICTIM.source_id },
        tracking_id: LINKED_TID,
        order: { amount: 1000 },
      })
    ).status,
  ).toBe(200);
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
    expect(routes.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining([
        'GET /client/v1/validate',
        'POST /client/v1/validations',
        'POST /client/v1/events',
        'POST /client/v1/qualifications',
        'GET /client/v1/promotions/validation',
      ]),
    );
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
  const stable = (body: string) =>
    body
      .replace(/"(request_id|tracking_id)":"[^"]*"/g, '"$1":"*"')
      .replace(/"id":"valid_[^"]*"/g, '"id":"valid_*"')
      // A refused client redemption is recorded as its own rf_ (the record, not anyone's data).
      .replace(/"resource_id":"rf_[^"]*"/g, '"resource_id":"rf_*"');

  it.each([
    ['source id', (s: string) => ({ customer: { source_id: s } }), (): [string, string] => [VICTIM.source_id, 'nobody-at-all']],
    ['customer id', (s: string) => ({ customer: { id: s } }), (): [string, string] => [victimId, 'cust_NobodyNobodyNobody0000']],
  ] as const)('by %s, unsigned', async (_, claim, values) => {
    const [known, unknown] = values();
    for (const { method, path } of clientRoutes()) {
      const answer = async (value: string) =>
        stable((await (await send(method, path, claim(value), {}).res).text()).replaceAll(value, '<sent>'));
      expect(await answer(known), `${method} ${path}`).toBe(await answer(unknown));
    }
  });
});

/**
 * An identity claim counts only with the shop backend's signature, whatever client route it is
 * sent to and wherever in the request it is put. The victim's own backend once redeemed with the
 * raw e-mail as tracking id (the official SDK's setIdentity convention), which links the profile
 * derived from that e-mail to them: naming the e-mail anywhere must not make a stranger the victim.
 */
describe('an identity claim counts only signed, on every client route and in every place', () => {
  type Place = 'body' | 'query' | 'header' | 'cookie';
  const PLACES: Place[] = ['body', 'query', 'header', 'cookie'];
  let derivedTid: string;

  beforeAll(async () => {
    expect(
      (
        await api('POST', '/v1/vouchers/GATED/redemption', {
          customer: { source_id: VICTIM.source_id },
          tracking_id: VICTIM.email,
          order: { amount: 1000 },
        })
      ).status,
    ).toBe(200);
    derivedTid = (await resolveTrackingId(TEST_ENV.TRACKING_SECRET, VICTIM.email)).id;
  });

  /** Every name of the victim a stranger may try, unsigned. */
  const claimsOfVictim = (): [string, Claims][] => [
    ['the e-mail as raw tracking id', { tracking_id: VICTIM.email }],
    ['the source id', { customer: { source_id: VICTIM.source_id } }],
    ['the source id as the customer=<source id> shortcut', { customer: VICTIM.source_id }],
    ['the customer id', { customer: { id: victimId } }],
    ['the identity hash of the e-mail', { identity_hash: emailHash }],
  ];

  /** The claims put in one place of a request to one route; `signature` in the header when given. */
  function claimRequest(method: string, path: string, place: Place, claims: Claims, signature?: string) {
    const query =
      method === 'GET' ? { code: 'GATED', amount: 1000, ...(place === 'query' ? claims : {}) } : place === 'query' ? claims : {};
    const qs = toQuery(query).join('&');
    const headers: Record<string, string> = { ...CLIENT_HEADERS, 'Sec-Fetch-Site': 'same-site' };
    if (signature) headers['X-Vouchsafe-Identity-Signature'] = signature;
    if (place === 'header') {
      // Headers nothing reads as an identity today; a change that starts to must sign them too.
      if (claims.tracking_id)
        Object.assign(headers, { 'X-Tracking-Id': claims.tracking_id, 'X-Vouchsafe-Tracking-Id': claims.tracking_id });
      const customer = typeof claims.customer === 'string' ? { source_id: claims.customer } : claims.customer;
      if (customer?.source_id) headers['X-Customer-Source-Id'] = String(customer.source_id);
      if (customer?.id) headers['X-Customer-Id'] = String(customer.id);
      if (claims.identity_hash) headers['X-Vouchsafe-Identity-Hash'] = claims.identity_hash;
    }
    if (place === 'cookie') {
      const customer = typeof claims.customer === 'string' ? { source_id: claims.customer } : claims.customer;
      const value = claims.tracking_id ?? customer?.source_id ?? customer?.id ?? claims.identity_hash;
      headers.Cookie = `vs_tid=${encodeURIComponent(String(value))}; vs_identity=${encodeURIComponent(String(value))}`;
    }
    let body: string | undefined;
    if (method !== 'GET') {
      headers['Content-Type'] = 'application/json';
      const base = {
        event: 'claim_probe',
        customer: { source_id: FRESH_TID },
        redeemables: [{ object: 'voucher', id: 'GATED' }],
        order: { amount: 1000 },
      };
      body = JSON.stringify(place === 'body' ? { ...base, ...claims } : base);
    }
    return call(`${path}${qs ? `?${qs}` : ''}`, { method, headers, ...(body ? { body } : {}) });
  }

  /** Whether the answer judged the caller as the victim (a gold customer): GATED granted. */
  const grantedGated = async (path: string, res: Response): Promise<boolean> => {
    const body = await json(res.clone());
    if (path === '/client/v1/redemptions') return res.status === 200;
    if (path === '/client/v1/events') return false; // judged by what was written, below
    // Qualifications: granted when the gold-only code is among the offers listed.
    if (path === '/client/v1/qualifications')
      return res.status === 200 && body.redeemables.data.some((r: { id: string }) => r.id === 'GATED');
    return body.valid === true;
  };

  const victimProbeEvents = async () =>
    (
      await env.DB.prepare("SELECT count(*) AS n FROM events WHERE profile_id = ? AND type = 'claim_probe'")
        .bind(victimId)
        .first<{ n: number }>()
    )?.n ?? 0;

  it('unsigned, in the body, the query string, a header or a cookie: judged as a stranger, nothing written to the victim', async () => {
    const before = await victimProbeEvents();
    let checked = 0;
    for (const { method, path } of clientRoutes()) {
      for (const place of PLACES) {
        if (method === 'GET' && place === 'body') continue;
        for (const [name, claims] of claimsOfVictim()) {
          const res = await claimRequest(method, path, place, claims);
          const what = `${method} ${path} / ${name} in the ${place}`;
          expect(res.status, what).toBeLessThan(500);
          expect(await grantedGated(path, res), what).toBe(false);
          // The profile the e-mail derives to is never named back: it would be a bearer of the victim.
          expect(await res.text(), what).not.toContain(derivedTid);
          expect(res.headers.get('Set-Cookie') ?? '', what).not.toContain(derivedTid);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(5 * 3 + 3 * 4 * 5);
    await settled();
    expect(await victimProbeEvents()).toBe(before);
  });

  it('signed for another kind, another value or past its expiry: still a stranger', async () => {
    const now = Math.floor(Date.now() / 1000);
    const wrong: [string, Claims, string][] = [
      // The same string signed as a source id is not a customer id, nor a raw tracking id.
      ['an id with a source-id signature', { customer: { id: victimId } }, await signAs('source_id', victimId)],
      ['a source id with an id signature', { customer: { source_id: VICTIM.source_id } }, await signAs('id', VICTIM.source_id)],
      ['the raw e-mail with an identity-hash signature', { tracking_id: VICTIM.email }, await signHash(emailHash)],
      ['the raw e-mail with a source-id signature', { tracking_id: VICTIM.email }, await signAs('source_id', VICTIM.email)],
      ['the identity hash with a source-id signature', { identity_hash: emailHash }, await signAs('source_id', emailHash)],
      ['an upper-cased e-mail signed lower-case', { tracking_id: VICTIM.email.toUpperCase() }, await signAs('tracking_id', VICTIM.email)],
      [
        'an expired signature',
        { customer: { source_id: VICTIM.source_id } },
        await signAs('source_id', VICTIM.source_id, { expiresAt: now - 1 }),
      ],
      [
        'a signature under another secret',
        { customer: { source_id: VICTIM.source_id } },
        await signClaim('not-the-secret', 'source_id', VICTIM.source_id),
      ],
    ];
    const before = await victimProbeEvents();
    for (const { method, path } of clientRoutes()) {
      for (const [name, claims, signature] of wrong) {
        const res = await claimRequest(method, path, method === 'GET' ? 'query' : 'body', claims, signature);
        expect(await grantedGated(path, res), `${method} ${path} / ${name}`).toBe(false);
      }
    }
    await settled();
    expect(await victimProbeEvents()).toBe(before);
  });

  it('signed for its kind, the same claims are the victim on every route, and the answer names only the tracking id sent', async () => {
    const signedRoutes = clientRoutes();
    const before = await victimProbeEvents();
    for (const { method, path } of signedRoutes) {
      const place: Place = method === 'GET' ? 'query' : 'body';
      const bySource = await claimRequest(
        method,
        path,
        place,
        { customer: { source_id: VICTIM.source_id } },
        await signAs('source_id', VICTIM.source_id),
      );
      if (path !== '/client/v1/events') expect(await grantedGated(path, bySource), `${method} ${path} signed source id`).toBe(true);
      if (path === '/client/v1/events') continue;
      // The raw e-mail as tracking id, signed as such (the official SDK's setIdentity): believed,
      // and answered as sent, never as the track_ id the worker derives from it.
      const raw = await claimRequest(method, path, place, { tracking_id: VICTIM.email }, await signAs('tracking_id', VICTIM.email));
      expect(await grantedGated(path, raw), `${method} ${path} signed raw tracking id`).toBe(true);
      const text = await raw.text();
      expect(text, `${method} ${path}`).not.toContain(derivedTid);
      expect(JSON.parse(text).tracking_id ?? JSON.parse(text).redemptions?.[0]?.tracking_id, `${method} ${path}`).toBe(VICTIM.email);
      expect(raw.headers.get('Set-Cookie') ?? '', `${method} ${path}: no cookie holds a derived id`).not.toContain(derivedTid);
    }
    await settled();
    expect(await victimProbeEvents()).toBe(before + 1);
  });

  it('a query-string tracking id cannot claim a customer on the public key (client redemptions)', async () => {
    const query = `?tracking_id=${encodeURIComponent(VICTIM.email)}`;
    const res = await call(`/client/v1/redemptions${query}`, {
      method: 'POST',
      headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json' },
      body: JSON.stringify({ redeemables: [{ object: 'voucher', id: 'GATED' }], order: { amount: 1000 } }),
    });
    const text = await res.text();
    expect(res.status).toBe(400);
    expect(JSON.parse(text).key).toBe('missing_customer');
    expect(text).not.toContain(derivedTid);
    // A device's own random id in the query is no claim: it is kept, and named back as sent.
    const device = 'track_QueryDeviceQueryDevic0';
    const anon = await call(`/client/v1/redemptions?tracking_id=${device}`, {
      method: 'POST',
      headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json' },
      body: JSON.stringify({ redeemables: [{ object: 'voucher', id: 'OPEN-Q' }], order: { amount: 1000 } }),
    });
    expect(anon.status).toBe(200);
    expect((await json(anon)).redemptions[0].tracking_id).toBe(device);
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
      : call(
          path,
          { method, headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json' }, body: JSON.stringify(bodyOf(path)) },
          bindings,
        );

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
    expect(answered).toEqual(
      expect.arrayContaining(['GET /client/v1/validate', 'POST /client/v1/validations', 'POST /client/v1/redemptions']),
    );
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

/**
 * Qualifications with the client key (docs/qualifications.md): a customer's own codes are listed
 * only to that customer named by a verified claim, never to a device linked to them, a forged claim
 * or another verified customer; and no answer counts anything of anyone (no quantities, no holders).
 */
describe('qualifications list a customer’s own codes to that verified customer only', () => {
  const OWN = 'Q-OWN-CODE';
  const ask = (claims: Claims, headers: Record<string, string> = {}) =>
    call('/client/v1/qualifications', {
      method: 'POST',
      headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify({ order: { amount: 1000 }, options: { limit: 50 }, ...claims }),
    });
  const listsOwn = async (res: Response) => {
    expect(res.status).toBe(200);
    const text = await res.text();
    for (const counter of ['"quantity"', '"redeemed_quantity"', '"holder_id"', '"holder_role"', '"publish"', '"validation_rule_id"'])
      expect(text.includes(counter), `answer contains ${counter}`).toBe(false);
    return (JSON.parse(text).redeemables.data as { id: string }[]).some((r) => r.id === OWN);
  };

  beforeAll(async () => {
    await api('POST', `/v1/vouchers/${OWN}`, { discount: { type: 'AMOUNT', amount_off: 100 }, redemption: { quantity: 5 } });
    await setHolder(OWN, VICTIM.source_id);
    // A rule of the shop's: its id is the shop's own, never shown to the public key.
    const rule = await json(
      await api('POST', '/v1/validation-rules', {
        name: 'q any order',
        rules: { '1': { name: 'order.amount', conditions: { $more_than: [0] } } },
      }),
    );
    await api('POST', `/v1/validation-rules/${rule.id}/assignments`, { related_object_type: 'voucher', related_object_id: OWN });
    await api('POST', '/v1/customers', { source_id: 'q-someone-else' });
  });

  it('unsigned, or by a linked device: not listed', async () => {
    for (const [name, claims] of probes()) {
      expect(await listsOwn(await ask(claims)), name).toBe(false);
    }
  });

  it('signed as the victim: listed; signed as someone else: not', async () => {
    expect(
      await listsOwn(
        await ask(
          { customer: { source_id: VICTIM.source_id } },
          { 'X-Vouchsafe-Identity-Signature': await signAs('source_id', VICTIM.source_id) },
        ),
      ),
    ).toBe(true);
    expect(await listsOwn(await ask({ identity_hash: emailHash }, { 'X-Vouchsafe-Identity-Signature': await signHash(emailHash) }))).toBe(
      true,
    );
    expect(
      await listsOwn(
        await ask(
          { customer: { source_id: 'q-someone-else' } },
          { 'X-Vouchsafe-Identity-Signature': await signAs('source_id', 'q-someone-else') },
        ),
      ),
    ).toBe(false);
  });
});
