import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { hashIdentity } from '../../shared/identity';
import { app } from '../../worker/src/app';
import { ALLOWED_ORIGIN, CLIENT_HEADERS, SERVER_HEADERS, api, call, json, settled, signAs, signHash } from './helpers';

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
        const res = await call(path, {
          method,
          headers: { ...headers, 'Content-Type': 'application/json' },
          body: method === 'GET' ? undefined : '{}',
        });
        expect(`${method} ${path} ${res.status}`).toBe(`${method} ${path} 401`);
        expect((await json(res)).key).toBe('unauthorized');
      }
    }
  });

  it('refuses client routes without the client key or from a disallowed origin', async () => {
    for (const { method, path } of keyedRoutes().filter((r) => r.path.startsWith('/client/v1/'))) {
      const init = (headers: Record<string, string>) => ({
        method,
        headers: { ...headers, 'Content-Type': 'application/json' },
        body: method === 'GET' ? undefined : '{}',
      });
      const noKey = await call(path, init({ Origin: ALLOWED_ORIGIN }));
      expect(`${path} ${noKey.status}`).toBe(`${path} 401`);
      const serverKey = await call(
        path,
        init({
          'X-Client-Application-Id': SERVER_HEADERS['X-App-Id'],
          'X-Client-Token': SERVER_HEADERS['X-App-Token'],
          Origin: ALLOWED_ORIGIN,
        }),
      );
      expect(`${path} ${serverKey.status}`).toBe(`${path} 401`);
      const badOrigin = await call(path, init({ ...CLIENT_HEADERS, Origin: 'https://evil.example' }));
      expect(`${path} ${badOrigin.status}`).toBe(`${path} 403`);
      expect(badOrigin.headers.get('Access-Control-Allow-Origin')).toBeNull();
    }
  });

  it("a forged tracking id opens no one else's profile", async () => {
    await api('POST', '/v1/vouchers/SEC', { discount: { type: 'AMOUNT', amount_off: 100 } });
    const owner = await json(await call('/client/v1/validate?code=SEC', { headers: CLIENT_HEADERS }));
    await api('POST', '/v1/vouchers/SEC/redemption', {
      customer: { source_id: 'sec-owner', email: 'owner@example.com' },
      tracking_id: owner.tracking_id,
    });
    // Someone replays the owner's tracking id with another identity: refused, not merged.
    const res = await api('POST', '/v1/vouchers/SEC/redemption', { customer: { source_id: 'sec-thief' }, tracking_id: owner.tracking_id });
    expect(res.status).toBe(400);
    expect((await json(res)).key).toBe('ambiguous_tracking_id');
    // A made-up tracking id is just a new, empty profile.
    const forged = await json(
      await call('/client/v1/validate?code=SEC&amount=1000&tracking_id=track_ForgedForgedForged0000', { headers: CLIENT_HEADERS }),
    );
    expect(forged.order.customer_id).toBeNull();
  });
});

describe('permanent deletion', () => {
  it('leaves no trace of the person in any table: email, name, phone, source id, identity hash', async () => {
    const email = 'erase.me@example.com';
    const name = 'Erasable Person';
    const phone = '+48 555 010 999';
    // Both devices signed in with the person's e-mail: the browser SDK sends its SHA-256.
    const hash = await hashIdentity(email);
    await api('POST', '/v1/vouchers/ERASE', { discount: { type: 'AMOUNT', amount_off: 100 } });
    await api('POST', '/v1/segments', { name: 'erasable', filter: { email: { conditions: { $ends_with: ['@example.com'] } } } });
    // Device 1: anonymous history, then a redemption links it.
    const signed = `identity_hash=${hash}`;
    const signedHeaders = { ...CLIENT_HEADERS, 'X-Vouchsafe-Identity-Signature': await signHash(hash) };
    const d1 = await json(
      await call(`/client/v1/validate?code=ERASE&tracking_id=track_EraseDeviceOneErase000&${signed}`, { headers: signedHeaders }),
    );
    await call('/client/v1/events', {
      method: 'POST',
      headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json' },
      body: JSON.stringify({ event: 'viewed', customer: { source_id: d1.tracking_id } }),
    });
    // What the browser recorded is written (queue consumer) before the redemption merges it.
    await settled();
    await api('POST', '/v1/vouchers/ERASE/redemption', {
      customer: { source_id: email, email, name },
      order: { amount: 1000 },
      tracking_id: d1.tracking_id,
    });
    await api('PUT', `/v1/customers/${encodeURIComponent(email)}`, { phone });
    // Device 2: never redeemed, same identity.
    const d2 = await json(
      await call(`/client/v1/validate?code=ERASE&tracking_id=track_EraseDeviceTwoErase000&${signed}`, { headers: signedHeaders }),
    );
    await api('POST', '/v1/events', { event: 'logged_in', customer: { source_id: email } });
    await settled();

    const customer = await json(await api('GET', `/v1/customers/${encodeURIComponent(email)}`));
    const hmac = (
      await env.DB.prepare('SELECT identity_hmac FROM tracking_profiles WHERE id = ?')
        .bind(d2.tracking_id)
        .first<{ identity_hmac: string }>()
    )?.identity_hmac;
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

  it('erasing someone follows only their own identities, never a hash they claimed on their own profile', async () => {
    await api('POST', '/v1/vouchers/CLAIMED-HASH', { discount: { type: 'AMOUNT', amount_off: 100 } });
    const victimHash = await hashIdentity('claim-victim@example.com');
    const signed = `identity_hash=${victimHash}`;
    // The victim's device: anonymous history under their own identity.
    const victimDevice = 'track_F13VictimDeviceVictim0';
    await call(`/client/v1/validate?code=CLAIMED-HASH&tracking_id=${victimDevice}&${signed}`, {
      headers: { ...CLIENT_HEADERS, 'X-Vouchsafe-Identity-Signature': await signHash(victimHash) },
    });
    await call('/client/v1/events', {
      method: 'POST',
      headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json' },
      body: JSON.stringify({ event: 'viewed', customer: { source_id: victimDevice } }),
    });
    // The attacker puts the victim's hash on their own device (IDENTITY_VERIFICATION=off believes it),
    // redeems as themselves, then erases themselves.
    const attackerDevice = 'track_F13AttackerDeviceAtt0';
    await call(
      `/client/v1/validate?code=CLAIMED-HASH&tracking_id=${attackerDevice}&identity_hash=${victimHash}`,
      { headers: CLIENT_HEADERS },
      { IDENTITY_VERIFICATION: 'off' },
    );
    await settled();
    await api('POST', '/v1/vouchers/CLAIMED-HASH/redemption', {
      customer: { source_id: 'claim-attacker@example.com', email: 'claim-attacker@example.com' },
      tracking_id: attackerDevice,
    });
    const attacker = await json(await api('GET', '/v1/customers/claim-attacker@example.com'));
    const report = await json(await api('POST', `/v1/customers/${attacker.id}/permanent-deletion`, {}));
    expect(report.data_json.tracking_profiles).toBe(1);
    // The victim's device and its history are untouched.
    expect(await env.DB.prepare('SELECT 1 FROM tracking_profiles WHERE id = ?').bind(victimDevice).first()).not.toBeNull();
    expect(
      (await env.DB.prepare('SELECT count(*) AS n FROM events WHERE profile_id = ?').bind(victimDevice).first<{ n: number }>())?.n,
    ).toBe(1);
  });
});

describe('the public client key: nothing stored leaks, nothing claimed counts', () => {
  const clientPost = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    call(path, {
      method: 'POST',
      headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const eventTypes = async (customer: string) =>
    (await json(await api('GET', `/v1/customers/${encodeURIComponent(customer)}/activity?limit=100`))).data.map(
      (e: { type: string }) => e.type,
    );

  let gold: string;
  beforeAll(async () => {
    await api('POST', '/v1/customers', {
      source_id: 'alice@sec.example',
      name: 'Alice Morgan',
      email: 'alice@sec.example',
      metadata: { tier: 'gold', vip: false },
    });
    await api('POST', '/v1/customers', {
      source_id: 'bob@sec.example',
      name: 'Bob Smith',
      email: 'bob@sec.example',
      metadata: { tier: 'silver', vip: false },
    });
    gold = (
      await json(
        await api('POST', '/v1/segments', {
          name: 'sec gold',
          type: 'auto-update',
          filter: { 'metadata.tier': { conditions: { $is: ['gold'] } } },
        }),
      )
    ).id;
    await api('POST', '/v1/vouchers/SECGOLD', { discount: { type: 'PERCENT', percent_off: 20 } });
    await api('POST', '/v1/vouchers/SECVIP', { discount: { type: 'PERCENT', percent_off: 30 } });
    const goldRule = await json(
      await api('POST', '/v1/validation-rules', {
        name: 'gold',
        rules: { '1': { name: 'customer.segment', conditions: { $is: [gold] } } },
      }),
    );
    await api('POST', `/v1/validation-rules/${goldRule.id}/assignments`, { related_object_type: 'voucher', related_object_id: 'SECGOLD' });
    const vipRule = await json(
      await api('POST', '/v1/validation-rules', {
        name: 'vip',
        rules: { '1': { name: 'customer.metadata.vip', conditions: { $is: [true] } } },
      }),
    );
    await api('POST', `/v1/validation-rules/${vipRule.id}/assignments`, { related_object_type: 'voucher', related_object_id: 'SECVIP' });
  });

  it('an event naming a customer by source id or id answers none of its data', async () => {
    const alice = await json(await api('GET', '/v1/customers/alice%40sec.example'));
    for (const customer of [{ source_id: 'alice@sec.example' }, { id: alice.id }]) {
      const res = await clientPost('/client/v1/events', { event: 'probe', customer });
      expect(res.status).toBe(200);
      const body = await json(res);
      expect(body).toEqual({
        object: 'event',
        type: 'probe',
        customer: {
          id: customer.id ?? null,
          source_id: customer.source_id ?? null,
          name: null,
          email: null,
          metadata: {},
          object: 'customer',
        },
        referral: null,
        loyalty: null,
        // The event's own metadata as the caller sent it (OA24 EventsCreateResponseBody, OpenAPI24.json:L42146).
        metadata: {},
      });
    }
    // Nor does validate say whether the e-mail is a customer (order.customer_id), signed or not.
    const v = await json(
      await call(
        '/client/v1/validate?code=SECGOLD&customer=alice%40sec.example',
        { headers: CLIENT_HEADERS },
        { IDENTITY_VERIFICATION: 'off' },
      ),
    );
    expect(v.valid).toBe(true);
    expect(JSON.stringify(v)).not.toContain(alice.id);
  });

  it('client events never write into an existing customer named by the caller', async () => {
    const before = await eventTypes('bob@sec.example');
    for (let i = 0; i < 3; i++)
      await clientPost('/client/v1/events', { event: 'viewed_product', customer: { source_id: 'bob@sec.example' } });
    const bob = await json(await api('GET', '/v1/customers/bob%40sec.example'));
    await clientPost('/client/v1/events', { event: 'viewed_product', customer: { id: bob.id } });
    await settled();
    expect(await eventTypes('bob@sec.example')).toEqual(before);
    // Nor into the customer a tracking id is linked to: the event stays on the tracking profile.
    const tid = 'track_BobsDeviceBobsDevice00';
    await api('POST', '/v1/vouchers/SECGOLD/redemption', {
      customer: { source_id: 'alice@sec.example' },
      tracking_id: tid,
      order: { amount: 100 },
    });
    const linked = await eventTypes('alice@sec.example');
    expect((await clientPost('/client/v1/events', { event: 'poison', customer: { source_id: tid } })).status).toBe(200);
    await settled();
    expect(await eventTypes('alice@sec.example')).toEqual(linked);
    const onProfile = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE profile_id = ? AND type = 'poison'")
      .bind(tid)
      .first<{ n: number }>();
    expect(onProfile?.n).toBe(1);
  });

  it('knowing an e-mail is not being its customer; a signed identity is', async () => {
    const hash = await hashIdentity('alice@sec.example');
    // Alice's own device links her identity hash to her through a redemption (the normal flow).
    const device = 'track_AliceDeviceAliceDevic0';
    const signedHeaders = { ...CLIENT_HEADERS, 'X-Vouchsafe-Identity-Signature': await signHash(hash) };
    await call(`/client/v1/validate?code=SECGOLD&tracking_id=${device}&identity_hash=${hash}`, { headers: signedHeaders });
    await api('POST', '/v1/vouchers/SECGOLD/redemption', {
      customer: { source_id: 'alice@sec.example' },
      tracking_id: device,
      order: { amount: 100 },
    });
    await settled();
    // An attacker's fresh device with sha256(e-mail) only: an anonymous visitor.
    const attacker = await json(
      await call(`/client/v1/validate?code=SECGOLD&amount=5000&identity_hash=${hash}`, { headers: CLIENT_HEADERS }),
    );
    expect(attacker).toMatchObject({ valid: false, error: { key: 'customer_rules_violated' } });
    const wrong = await json(
      await call(`/client/v1/validate?code=SECGOLD&amount=5000&identity_hash=${hash}`, {
        headers: { ...CLIENT_HEADERS, 'X-Vouchsafe-Identity-Signature': `0.${'0'.repeat(64)}` },
      }),
    );
    expect(wrong).toMatchObject({ valid: false, error: { key: 'customer_rules_violated' } });
    // Alice on a new device, with the signature her shop's backend gave her page.
    const signed = await json(await call(`/client/v1/validate?code=SECGOLD&amount=5000&identity_hash=${hash}`, { headers: signedHeaders }));
    expect(signed).toMatchObject({ valid: true, order: { customer_id: null } });
    // The customer's source id works the same way, with the signature as a header (official SDK customHeaders).
    const bySource = (signature: string) =>
      call('/client/v1/validate?code=SECGOLD&amount=5000&customer%5Bsource_id%5D=alice%40sec.example', {
        headers: { ...CLIENT_HEADERS, 'X-Vouchsafe-Identity-Signature': signature },
      });
    expect((await json(await bySource(await signAs('source_id', 'alice@sec.example')))).valid).toBe(true);
    expect((await json(await bySource(await signAs('source_id', 'bob@sec.example')))).valid).toBe(false);
    // IDENTITY_VERIFICATION=off: Voucherify's behaviour, the claim is believed.
    const off = await json(
      await call(
        `/client/v1/validate?code=SECGOLD&amount=5000&identity_hash=${hash}`,
        { headers: CLIENT_HEADERS },
        { IDENTITY_VERIFICATION: 'off' },
      ),
    );
    expect(off.valid).toBe(true);
  });

  it('customer metadata sent by the browser never changes a verdict', async () => {
    const anonymous = await json(
      await call('/client/v1/validate?code=SECGOLD&amount=5000&customer%5Bmetadata%5D%5Btier%5D=gold', { headers: CLIENT_HEADERS }),
    );
    expect(anonymous).toMatchObject({ valid: false, error: { key: 'customer_rules_violated' } });
    const forged =
      '/client/v1/validate?code=SECVIP&amount=5000&customer%5Bsource_id%5D=bob%40sec.example&customer%5Bmetadata%5D%5Bvip%5D=true';
    for (const bindings of [{}, { IDENTITY_VERIFICATION: 'off' }]) {
      const res = await call(
        forged,
        { headers: { ...CLIENT_HEADERS, 'X-Vouchsafe-Identity-Signature': await signAs('source_id', 'bob@sec.example') } },
        bindings,
      );
      expect(await json(res)).toMatchObject({ valid: false, error: { key: 'customer_rules_violated' } });
    }
    const stacked = await json(
      await clientPost('/client/v1/validations', {
        redeemables: [{ object: 'voucher', id: 'SECVIP' }],
        customer: { metadata: { vip: true } },
        order: { amount: 5000 },
      }),
    );
    // Judged on the stored customer only: the stacked answer lists the voucher as INAPPLICABLE
    // (OA ValidationsValidateResponseBody lists every redeemable), never APPLICABLE.
    expect(stacked.redeemables.map((r: { status: string }) => r.status)).toEqual(['INAPPLICABLE']);
    expect(stacked.inapplicable_redeemables[0].result.error.key).toBe('customer_rules_violated');
  });

  it('a linked tracking id reads nothing of its customer, and the error of a replay names none', async () => {
    const tid = 'track_F11F11F11F11F11F11F11F';
    await api('POST', '/v1/vouchers/SECFREE', { discount: { type: 'AMOUNT', amount_off: 100 } });
    expect(
      (
        await api('POST', '/v1/vouchers/SECFREE/redemption', {
          customer: { source_id: 'bob@sec.example' },
          tracking_id: tid,
          order: { amount: 100 },
        })
      ).status,
    ).toBe(200);
    const bob = await json(await api('GET', '/v1/customers/bob%40sec.example'));
    const whoami = await clientPost('/client/v1/events', { event: 'whoami', customer: { source_id: tid } });
    expect(JSON.stringify(await json(whoami))).not.toMatch(/Bob|bob@sec|cust_/);
    const replay = await call(
      `/client/v1/validate?code=SECGOLD&tracking_id=${tid}&customer=nobody`,
      { headers: CLIENT_HEADERS },
      { IDENTITY_VERIFICATION: 'off' },
    );
    expect(replay.status).toBe(400);
    const error = await json(replay);
    expect(error.key).toBe('ambiguous_tracking_id');
    expect(JSON.stringify(error)).not.toContain(bob.id);
  });
});
