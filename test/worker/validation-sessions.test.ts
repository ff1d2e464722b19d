import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { d1Refusal } from '../../worker/src/db/errors';
import { takeVoucherUnit } from '../../worker/src/db/redemptions';
import { checkVoucherQuantity, consumeHolds } from '../../worker/src/db/validation-sessions';
import { forgetExpiredSessions } from '../../worker/src/services/validation-sessions';
import { CLIENT_HEADERS, api, call, counted, json, SERVER_HEADERS, signAs } from './helpers';

/**
 * Validation sessions (LOCK). The spec:
 * - OA = voucherify-openapi production/readOnly-openAPI.json @65c33a7: Session (L26995-L27032: key,
 *   type LOCK, ttl, ttl_unit of DAYS … NANOSECONDS), ValidationsValidateResponseBody.session (L30402),
 *   StackableValidateRedeemBase.session (L28579), DELETE /v1/vouchers/{code}/sessions/{sessionKey}
 *   (L37986, answering 204 at L38025).
 * - OA24 = reference/OpenAPI.json blob ae6b585: VouchersValidateValidResponseBody.session (L3759),
 *   the "Unit - Add order items" example's session {key: ssn_…, type, ttl, ttl_unit} (L58592-L58597).
 * - The guide documentation/guides/locking-validation-session.mdx: "Next sessions will result in the
 *   quantity_exceeded error"; 7 days when no ttl is given; a redemption with the key releases it.
 * - SDK = @voucherify/sdk dist: ValidateSession.d.ts:9-14 (the response), ClientSide.d.ts:27-30 (the
 *   client's session_* parameters, sent as query parameters by voucherifysdk.esm.js:2084-2087).
 */

const db = env.DB as D1Database;

async function voucher(code: string, quantity: number | null, rules?: Record<string, unknown>) {
  const created = await api('POST', `/v1/vouchers/${code}`, {
    discount: { type: 'AMOUNT', amount_off: 100 },
    ...(quantity === null ? {} : { redemption: { quantity } }),
  });
  expect(created.status).toBe(200);
  if (rules) {
    const rule = await json(await api('POST', '/v1/validation-rules', { name: `sessions ${code}`, rules }));
    const assigned = await api('POST', `/v1/validation-rules/${rule.id}/assignments`, {
      related_object_type: 'voucher',
      related_object_id: code,
    });
    expect(assigned.status).toBe(200);
  }
}

const validate = (code: string, body: Record<string, unknown> = {}) =>
  api('POST', `/v1/vouchers/${code}/validate`, { order: { amount: 1000 }, ...body }).then(json);
const redeem = (code: string, body: Record<string, unknown> = {}) =>
  api('POST', `/v1/vouchers/${code}/redemption`, { order: { amount: 1000 }, ...body });
const lock = (extra: Record<string, unknown> = {}) => ({ session: { type: 'LOCK', ttl: 1, ttl_unit: 'HOURS', ...extra } });
const holds = async (key: string) =>
  Number((await db.prepare('SELECT count(*) AS n FROM validation_sessions WHERE session_key = ?').bind(key).first<{ n: number }>())?.n);

describe('a LOCK session on validate', () => {
  it('holds the unit against other shoppers, renews under its key, and is released by DELETE (204, then 404)', async () => {
    await voucher('SS-LAST', 1);
    const held = await validate('SS-LAST', lock());
    // OA24 L58592-L58597: session {key: "ssn_…", type: "LOCK", ttl, ttl_unit} beside tracking_id.
    expect(held).toMatchObject({ valid: true, session: { type: 'LOCK', ttl: 1, ttl_unit: 'HOURS' } });
    expect(held.session.key).toMatch(/^ssn_[0-9A-Za-z]{32}$/);
    const { key } = held.session;

    // Another shopper: the unit is taken ("Next sessions will result in the quantity_exceeded error").
    const other = await validate('SS-LAST');
    expect(other).toMatchObject({ valid: false, error: { key: 'quantity_exceeded' } });
    expect(await validate('SS-LAST', lock())).toMatchObject({ valid: false, error: { key: 'quantity_exceeded' } });
    expect(other.session).toBeUndefined();
    const refused = await redeem('SS-LAST');
    expect(refused.status).toBe(400);
    expect((await json(refused)).key).toBe('quantity_exceeded');

    // The holder's own validate does not count its hold against itself, and renews it.
    const renewed = await validate('SS-LAST', lock({ key, ttl: 2 }));
    expect(renewed).toMatchObject({ valid: true, session: { key, type: 'LOCK', ttl: 2, ttl_unit: 'HOURS' } });
    expect(await holds(key)).toBe(1);

    const released = await api('DELETE', `/v1/vouchers/SS-LAST/sessions/${key}`);
    expect(released.status).toBe(204);
    expect(await validate('SS-LAST')).toMatchObject({ valid: true });
    // Nothing held any more: the Voucherify error object, 404.
    const again = await api('DELETE', `/v1/vouchers/SS-LAST/sessions/${key}`);
    expect(again.status).toBe(404);
    expect(await json(again)).toMatchObject({ code: 404, key: 'not_found', resource_id: key, resource_type: 'session' });
  });

  it('keeps a key the caller chose, and 7 days when no ttl is given (the guide)', async () => {
    await voucher('SS-OWN', 5);
    const before = Date.now();
    const held = await validate('SS-OWN', { session: { type: 'LOCK', key: 'ssn_my-own-key-1' } });
    expect(held.session).toEqual({ key: 'ssn_my-own-key-1', type: 'LOCK', ttl: 7, ttl_unit: 'DAYS' });
    const row = await db
      .prepare("SELECT expires_at FROM validation_sessions WHERE session_key = 'ssn_my-own-key-1'")
      .first<{ expires_at: number }>();
    expect(row?.expires_at).toBeGreaterThanOrEqual(before + 7 * 86_400_000);
  });

  it('expires without anyone releasing it', async () => {
    await voucher('SS-TTL', 1);
    const held = await validate('SS-TTL', { session: { type: 'LOCK', ttl: 300, ttl_unit: 'MILLISECONDS' } });
    expect(held.valid).toBe(true);
    expect(await validate('SS-TTL')).toMatchObject({ valid: false, error: { key: 'quantity_exceeded' } });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await validate('SS-TTL')).toMatchObject({ valid: true });
    // The expired hold's key holds nothing to release.
    expect((await api('DELETE', `/v1/vouchers/SS-TTL/sessions/${held.session.key}`)).status).toBe(404);
  });

  it('has its expired rows deleted by the cron, and only those', async () => {
    await voucher('SS-CRON', 5);
    const live = (await validate('SS-CRON', lock())).session.key as string;
    const old = (await validate('SS-CRON', lock())).session.key as string;
    await db
      .prepare('UPDATE validation_sessions SET expires_at = ? WHERE session_key = ?')
      .bind(Date.now() - 1, old)
      .run();
    expect(await forgetExpiredSessions({ DB: db }, Date.now())).toBeGreaterThanOrEqual(1);
    expect(await holds(old)).toBe(0);
    expect(await holds(live)).toBe(1);
  });

  it('lets exactly one of 50 racing shoppers hold the last unit, and the holder redeems it', async () => {
    await voucher('SS-RACE', 1);
    const answers = await Promise.all(Array.from({ length: 50 }, () => validate('SS-RACE', lock())));
    const winners = answers.filter((a) => a.valid);
    expect(winners).toHaveLength(1);
    for (const loser of answers.filter((a) => !a.valid)) {
      expect(loser).toMatchObject({ valid: false, error: { key: 'quantity_exceeded' } });
      expect(loser.session).toBeUndefined();
    }
    const key = winners[0].session.key as string;
    expect(
      Number(
        (
          await db
            .prepare("SELECT count(*) AS n FROM validation_sessions s JOIN vouchers v ON v.id = s.voucher_id WHERE v.code = 'SS-RACE'")
            .first<{ n: number }>()
        )?.n,
      ),
    ).toBe(1);

    // Everyone else's redeem is refused while the hold lives, even racing the holder's.
    const [mine, ...theirs] = await Promise.all([
      redeem('SS-RACE', { session: { key } }),
      ...Array.from({ length: 10 }, () => redeem('SS-RACE')),
    ]);
    expect(mine?.status).toBe(200);
    for (const r of theirs) expect(r.status).toBe(400);
    expect((await json(await api('GET', '/v1/vouchers/SS-RACE'))).redemption.redeemed_quantity).toBe(1);
    // The redemption consumed the hold.
    expect(await holds(key)).toBe(0);
  });

  it('is consumed by the redemption carrying its key, in the redemption batch', async () => {
    await voucher('SS-TWO', 2);
    const a = (await validate('SS-TWO', lock())).session.key as string;
    const b = (await validate('SS-TWO', lock())).session.key as string;
    expect(await validate('SS-TWO')).toMatchObject({ valid: false, error: { key: 'quantity_exceeded' } });
    expect((await redeem('SS-TWO', { session: { key: a } })).status).toBe(200);
    expect(await holds(a)).toBe(0);
    expect(await holds(b)).toBe(1);
    // One unit redeemed, one held: still nothing for a third shopper; b's holder redeems the last.
    expect(await validate('SS-TWO')).toMatchObject({ valid: false });
    expect((await redeem('SS-TWO', { session: { type: 'LOCK', key: b } })).status).toBe(200);
    expect((await json(await api('GET', '/v1/vouchers/SS-TWO'))).redemption.redeemed_quantity).toBe(2);
  });

  it('counts a hold as a redemption of its customer for the per-customer limits, not for anyone else', async () => {
    await voucher('SS-ONCE', null, {
      '1': { name: 'redemption.count.per_customer', conditions: { $less_than_or_equal: [1] } },
      logic: '1',
    });
    const alice = { customer: { source_id: 'ss-alice' } };
    const first = await validate('SS-ONCE', { ...alice, ...lock() });
    expect(first.valid).toBe(true);
    // Alice's other checkout (another session, or none) sees her hold as her one redemption.
    expect(await validate('SS-ONCE', { ...alice, ...lock() })).toMatchObject({ valid: false, error: { key: 'redemption_rules_violated' } });
    expect(await validate('SS-ONCE', alice)).toMatchObject({ valid: false, error: { key: 'redemption_rules_violated' } });
    expect((await redeem('SS-ONCE', alice)).status).toBe(400);
    // Bob is not limited by Alice's hold (the code has no quantity).
    expect(await validate('SS-ONCE', { customer: { source_id: 'ss-bob' } })).toMatchObject({ valid: true });
    // Alice's own session redeems.
    expect((await redeem('SS-ONCE', { ...alice, session: { key: first.session.key } })).status).toBe(200);
    expect(await validate('SS-ONCE', alice)).toMatchObject({ valid: false, error: { key: 'redemption_rules_violated' } });
  });

  it('lets one of 20 racing sessions of one customer hold a once-per-customer code', async () => {
    await voucher('SS-ONCE-RACE', null, {
      '1': { name: 'redemption.count.per_customer', conditions: { $less_than_or_equal: [1] } },
      logic: '1',
    });
    await api('POST', '/v1/customers', { source_id: 'ss-dave' });
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => validate('SS-ONCE-RACE', { customer: { source_id: 'ss-dave' }, ...lock() })),
    );
    expect(answers.filter((a) => a.valid)).toHaveLength(1);
    for (const loser of answers.filter((a) => !a.valid)) expect(loser.error.key).toBe('redemption_rules_violated');
  });

  it('holds every redeemable of a stackable validate, or none when one cannot be held', async () => {
    await voucher('SS-A', 3);
    await voucher('SS-B', 1);
    const both = await json(
      await api('POST', '/v1/validations', {
        redeemables: [
          { object: 'voucher', id: 'SS-A' },
          { object: 'voucher', id: 'SS-B' },
        ],
        order: { amount: 1000 },
        ...lock(),
      }),
    );
    // OA ValidationsValidateResponseBody.session (L30402).
    expect(both).toMatchObject({ valid: true, session: { type: 'LOCK', ttl: 1, ttl_unit: 'HOURS' } });
    expect(await holds(both.session.key)).toBe(2);

    const second = await json(
      await api('POST', '/v1/validations', {
        redeemables: [
          { object: 'voucher', id: 'SS-A' },
          { object: 'voucher', id: 'SS-B' },
        ],
        order: { amount: 1000 },
        ...lock({ key: 'ssn_stack-second' }),
      }),
    );
    expect(second.valid).toBe(false);
    expect(second.session).toBeUndefined();
    expect(second.redeemables.map((r: { status: string }) => r.status)).toEqual(['SKIPPED', 'INAPPLICABLE']);
    expect(await holds('ssn_stack-second')).toBe(0);

    // The stack's redemption with the key consumes both holds.
    const redeemed = await api('POST', '/v1/redemptions', {
      redeemables: [
        { object: 'voucher', id: 'SS-A' },
        { object: 'voucher', id: 'SS-B' },
      ],
      order: { amount: 1000 },
      session: { type: 'LOCK', key: both.session.key },
    });
    expect(redeemed.status).toBe(200);
    expect(await holds(both.session.key)).toBe(0);
  });

  it('holds a promotion tier as it holds a code: its customer limit sees the hold', async () => {
    const rule = await json(
      await api('POST', '/v1/validation-rules', {
        name: 'sessions tier once',
        rules: { '1': { name: 'redemption.count.per_customer', conditions: { $less_than_or_equal: [1] } }, logic: '1' },
      }),
    );
    const campaign = await json(
      await api('POST', '/v1/campaigns', {
        name: 'sessions-promo',
        campaign_type: 'PROMOTION',
        promotion: { tiers: [{ name: 'Once', action: { discount: { type: 'AMOUNT', amount_off: 100 } }, validation_rules: [rule.id] }] },
      }),
    );
    const [tier] = (await json(await api('GET', `/v1/promotions/${campaign.id}/tiers`))).tiers as { id: string }[];
    const body = (extra: Record<string, unknown> = {}) => ({
      redeemables: [{ object: 'promotion_tier', id: tier?.id }],
      order: { amount: 1000 },
      customer: { source_id: 'ss-tier-carol' },
      ...extra,
    });
    const held = await json(await api('POST', '/v1/validations', body(lock())));
    expect(held).toMatchObject({ valid: true, session: { type: 'LOCK' } });
    const again = await json(await api('POST', '/v1/validations', body()));
    expect(again.redeemables[0]).toMatchObject({ status: 'INAPPLICABLE', result: { error: { key: 'redemption_rules_violated' } } });
    expect((await api('POST', '/v1/redemptions', body({ session: { key: held.session.key } }))).status).toBe(200);
    expect(await holds(held.session.key)).toBe(0);
  });

  it('refuses what is not a LOCK session, or a ttl past a year, with a 400 naming the field', async () => {
    await voucher('SS-BAD', 1);
    const wrongType = await api('POST', '/v1/vouchers/SS-BAD/validate', { session: { type: 'SHARED' } });
    expect(wrongType.status).toBe(400);
    expect((await json(wrongType)).details).toMatch(/^session\.type/);
    const tooLong = await api('POST', '/v1/vouchers/SS-BAD/validate', { session: { type: 'LOCK', ttl: 400, ttl_unit: 'DAYS' } });
    expect(tooLong.status).toBe(400);
    expect((await json(tooLong)).details).toMatch(/^session\.ttl/);
    const badUnit = await call('/client/v1/validate?code=SS-BAD&session_type=LOCK&session_ttl_unit=WEEKS', { headers: CLIENT_HEADERS });
    expect(badUnit.status).toBe(400);
    expect(await holds('x')).toBe(0);
  });
});

describe('client validate with the SDK session parameters', () => {
  /** The client key holds units for a customer the request identifies: here a signed claim (services/identity.ts). */
  const shopper = async (sourceId: string) => {
    expect((await api('POST', '/v1/customers', { source_id: sourceId })).status).toBe(200);
    return { ...CLIENT_HEADERS, 'X-Vouchsafe-Identity-Signature': await signAs('source_id', sourceId) };
  };

  it('holds with session_type, session_key, session_ttl and session_ttl_unit in the query (ClientSide.d.ts:27-30)', async () => {
    await voucher('SS-CLIENT', 1);
    const headers = await shopper('ss-client@example.com');
    const res = await call(
      '/client/v1/validate?code=SS-CLIENT&amount=1000&customer[source_id]=ss-client@example.com&session_type=LOCK&session_ttl=10&session_ttl_unit=MINUTES',
      { headers },
    );
    const body = await json(res);
    expect(body).toMatchObject({ valid: true, session: { type: 'LOCK', ttl: 10, ttl_unit: 'MINUTES' } });
    expect(await validate('SS-CLIENT')).toMatchObject({ valid: false, error: { key: 'quantity_exceeded' } });
    // The shop's backend redeems with the key the browser got.
    expect((await redeem('SS-CLIENT', { session: { key: body.session.key } })).status).toBe(200);
  });

  it('holds nothing for an anonymous visitor of the public key: the answer is valid, without a session', async () => {
    await voucher('SS-ANON', 1);
    const res = await call('/client/v1/validate?code=SS-ANON&amount=1000&session_type=LOCK&session_ttl=10&session_ttl_unit=MINUTES', {
      headers: CLIENT_HEADERS,
    });
    const body = await json(res);
    expect(body.valid).toBe(true);
    expect(body).not.toHaveProperty('session');
    // Nothing was held: the last unit is still there for anyone.
    expect(await validate('SS-ANON')).toMatchObject({ valid: true });
    // An unsigned claim is no customer either (IDENTITY_VERIFICATION=required).
    const unsigned = await call('/client/v1/validate?code=SS-ANON&amount=1000&customer[source_id]=ss-anon@example.com&session_type=LOCK', {
      headers: CLIENT_HEADERS,
    });
    expect(await json(unsigned)).not.toHaveProperty('session');
    expect(await validate('SS-ANON')).toMatchObject({ valid: true });
  });

  it('holds for at most CLIENT_SESSION_MAX_MINUTES (default 60) with the public key, and says so', async () => {
    await voucher('SS-CAP', 5);
    const headers = await shopper('ss-cap@example.com');
    const path = '/client/v1/validate?code=SS-CAP&customer[source_id]=ss-cap@example.com&session_type=LOCK';
    // No ttl: the spec's 7 days, bounded for the client key.
    const res = await call(path, { headers });
    const body = await json(res);
    expect(body.session).toMatchObject({ type: 'LOCK', ttl: 3600, ttl_unit: 'SECONDS' });
    const row = await db
      .prepare('SELECT expires_at - created_at AS ms FROM validation_sessions WHERE session_key = ?')
      .bind(body.session.key)
      .first<{ ms: number }>();
    expect(row?.ms).toBe(3_600_000);
    const short = await call(path, { headers }, { CLIENT_SESSION_MAX_MINUTES: '5' });
    expect((await json(short)).session).toMatchObject({ ttl: 300, ttl_unit: 'SECONDS' });
    // The server key's session is as long as asked.
    expect((await validate('SS-CAP', { session: { type: 'LOCK' } })).session).toMatchObject({ ttl: 7, ttl_unit: 'DAYS' });
  });

  it('holds through POST /client/v1/validations with session in the body', async () => {
    await voucher('SS-CSTACK', 1);
    const headers = await shopper('ss-cstack@example.com');
    const res = await call('/client/v1/validations', {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        redeemables: [{ object: 'voucher', id: 'SS-CSTACK' }],
        customer: { source_id: 'ss-cstack@example.com' },
        order: { amount: 1000 },
        ...lock(),
      }),
    });
    const body = await json(res);
    expect(body).toMatchObject({ valid: true, session: { type: 'LOCK' } });
    expect(await holds(body.session.key)).toBe(1);
  });
});

describe('what a session costs', () => {
  it('adds no round trip to a validate without one, and one primary batch to a validate with one', async () => {
    await voucher('SS-COST', 10);
    const post = (body: Record<string, unknown>) =>
      counted('/v1/vouchers/SS-COST/validate', {
        method: 'POST',
        headers: { ...SERVER_HEADERS, 'Content-Type': 'application/json' },
        body: JSON.stringify({ order: { amount: 1000 }, ...body }),
      });
    await post({}); // warms this isolate's copy of the definition
    const plain = await post({});
    expect((await json(plain.res)).valid).toBe(true);
    expect(plain.ops).toEqual({ d1_primary: 0, d1_replica: 1, kv_reads: 0, kv_writes: 0, queue_sends: 1 });
    const locked = await post(lock());
    expect((await json(locked.res)).session.type).toBe('LOCK');
    expect(locked.ops).toEqual({ d1_primary: 1, d1_replica: 1, kv_reads: 0, kv_writes: 0, queue_sends: 1 });
  });
});

describe('the redeem batch guard', () => {
  it('aborts a unit taken past the quantity counting live holds of others, not the session consumed first', async () => {
    await voucher('SS-GUARD', 1);
    const { session } = await validate('SS-GUARD', lock({ key: 'ssn_guard' }));
    expect(session.key).toBe('ssn_guard');
    const id = (await json(await api('GET', '/v1/vouchers/SS-GUARD'))).id as string;
    const now = Date.now();
    const refused = await db.batch([takeVoucherUnit(db, id, now), checkVoucherQuantity(db, id, now)]).then(
      () => 'committed',
      (error: unknown) => d1Refusal(error),
    );
    expect(refused).toBe('voucher_quantity_exceeded');
    const own = await db.batch([consumeHolds(db, 'ssn_guard', [id]), takeVoucherUnit(db, id, now), checkVoucherQuantity(db, id, now)]).then(
      () => 'committed',
      (error: unknown) => d1Refusal(error),
    );
    expect(own).toBe('committed');
  });
});
