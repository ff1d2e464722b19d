import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { d1Refusal } from '../../worker/src/db/errors';
import { checkCustomerRedemptions } from '../../worker/src/db/redemptions';
import { checkVoucherHolder } from '../../worker/src/db/vouchers';
import { sql } from '../../worker/src/db/sql';
import { CLIENT_HEADERS, api, call, json, setHolder } from './helpers';

/**
 * Per-customer and holder-only limits. Rule names: OA24 ValidationRuleRules `name` table
 * (OpenAPI24.json:L29769: redemption.count.per_customer, .daily, .monthly;
 * publication.redeemable_by_linked_customer). Conditions as Voucherify writes the "once per
 * customer" rule: `{"$less_than_or_equal": [1]}` (ValidationRuleConditions, OpenAPI24.json:L29925).
 * Refusals: a per-customer limit is a redemption rule, `redemption_rules_violated` / "redemption
 * does not match validation rules" (errors.mdx:L101; OA24 example "Validation Rule Not Satisfied",
 * OpenAPI24.json:L93983-L93987); the holder rule is a customer rule, `customer_rules_violated` /
 * "customer does not match validation rules" (errors.mdx:L63; OA24 example "Wrong customer",
 * OpenAPI24.json:L93968-L93973, whose message is the rule's own "Only the gift card owner …").
 */

const db = env.DB as D1Database;

async function limitedVoucher(code: string, rules: Record<string, unknown>, error?: { message: string }) {
  expect((await api('POST', `/v1/vouchers/${code}`, { discount: { type: 'AMOUNT', amount_off: 100 } })).status).toBe(200);
  const rule = await api('POST', '/v1/validation-rules', { name: `limits ${code}`, rules, ...(error ? { error } : {}) });
  expect(rule.status).toBe(200);
  const { id } = await json(rule);
  expect(
    (await api('POST', `/v1/validation-rules/${id}/assignments`, { related_object_type: 'voucher', related_object_id: code })).status,
  ).toBe(200);
}

const oncePerCustomer = (name = 'redemption.count.per_customer', max = 1, message = 'Customer can redeem this voucher only once') => ({
  '1': { name, conditions: { $less_than_or_equal: [max] }, error: { message } },
  logic: '1',
});

const validate = (code: string, customer?: string) =>
  api('POST', `/v1/vouchers/${code}/validate`, {
    order: { amount: 1000 },
    ...(customer ? { customer: { source_id: customer } } : {}),
  }).then(json);
const redeem = (code: string, customer?: string, extra: Record<string, unknown> = {}) =>
  api('POST', `/v1/vouchers/${code}/redemption`, {
    order: { amount: 1000 },
    ...(customer ? { customer: { source_id: customer } } : {}),
    ...extra,
  });

/** Moves a redemption back in time, as if it had been made then (the windows count by created_at). */
const backdate = (redemptionId: string, at: number) =>
  db.prepare('UPDATE redemptions SET created_at = ? WHERE id = ?').bind(at, redemptionId).run();

describe('redemption.count.per_customer', () => {
  it('allows each customer the number of redemptions the rule gives, judged at validate and at redeem', async () => {
    await limitedVoucher('ONCE', oncePerCustomer());
    expect(await validate('ONCE', 'once-a')).toMatchObject({ valid: true });
    expect((await redeem('ONCE', 'once-a')).status).toBe(200);

    // Validate: valid false in the spec's words, the rule's own message as error.message (errors.mdx "Custom error messages").
    const again = await validate('ONCE', 'once-a');
    expect(again).toMatchObject({
      valid: false,
      reason: 'redemption does not match validation rules',
      error: { code: 400, key: 'redemption_rules_violated', message: 'Customer can redeem this voucher only once' },
    });
    // Redeem: refused and recorded as a failed redemption (rf_), the generic message kept apart.
    const refused = await redeem('ONCE', 'once-a');
    expect(refused.status).toBe(400);
    const error = await json(refused);
    expect(error).toMatchObject({
      key: 'redemption_rules_violated',
      message: 'redemption does not match validation rules',
      details: 'ONCE',
      resource_type: 'redemption',
      error: { message: 'Customer can redeem this voucher only once' },
    });
    expect(error.resource_id).toMatch(/^rf_/);
    expect(await json(await api('GET', `/v1/redemptions/${error.resource_id}`))).toMatchObject({
      result: 'FAILURE',
      failure_code: 'redemption_rules_violated',
    });

    // Another customer has their own allowance.
    expect(await validate('ONCE', 'once-b')).toMatchObject({ valid: true });
    expect((await redeem('ONCE', 'once-b')).status).toBe(200);
  });

  it('gives exactly 1 success to 20 concurrent redemptions by one customer with a limit of 1; 19 refusals recorded', async () => {
    await limitedVoucher('RACE-1', oncePerCustomer());
    await api('POST', '/v1/customers', { source_id: 'racer' });
    const results = await Promise.all(Array.from({ length: 20 }, () => redeem('RACE-1', 'racer')));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 400)).toHaveLength(19);
    const refusals = await Promise.all(results.filter((r) => r.status === 400).map(json));
    expect(new Set(refusals.map((e) => e.key))).toEqual(new Set(['redemption_rules_violated']));
    expect(refusals.every((e) => e.error?.message === 'Customer can redeem this voucher only once')).toBe(true);

    const list = await json(await api('GET', '/v1/redemptions?customer=racer&limit=100'));
    expect(list.redemptions.filter((r: { result: string }) => r.result === 'SUCCESS')).toHaveLength(1);
    expect(
      list.redemptions.filter(
        (r: { result: string; failure_code?: string }) => r.result === 'FAILURE' && r.failure_code === 'redemption_rules_violated',
      ),
    ).toHaveLength(19);
    const voucher = await json(await api('GET', '/v1/vouchers/RACE-1'));
    expect(voucher.redemption.redeemed_quantity).toBe(1);
    const customer = await json(await api('GET', '/v1/customers/racer'));
    expect(customer.summary.redemptions).toMatchObject({ total_redeemed: 20, total_succeeded: 1, total_failed: 19 });
  });

  it('gives exactly 3 successes to 20 concurrent redemptions with a limit of 3, and none past it', async () => {
    await limitedVoucher('RACE-3', oncePerCustomer('redemption.count.per_customer', 3, 'Three per customer'));
    const results = await Promise.all(Array.from({ length: 20 }, () => redeem('RACE-3', 'racer-3')));
    expect(results.filter((r) => r.status === 200)).toHaveLength(3);
    const refusals = await Promise.all(results.filter((r) => r.status !== 200).map(json));
    expect(refusals).toHaveLength(17);
    expect(refusals.every((e) => e.key === 'redemption_rules_violated')).toBe(true);
  });

  it('gives a use back when a redemption is rolled back ("gives 1 redemption back to the pool", OpenAPI24.json:L64390)', async () => {
    await limitedVoucher('ROLL', oncePerCustomer());
    const first = await json(await redeem('ROLL', 'roller'));
    expect((await redeem('ROLL', 'roller')).status).toBe(400);
    expect((await api('POST', `/v1/redemptions/${first.id}/rollback`)).status).toBe(200);
    expect(await validate('ROLL', 'roller')).toMatchObject({ valid: true });
    expect((await redeem('ROLL', 'roller')).status).toBe(200);
    expect(await validate('ROLL', 'roller')).toMatchObject({ valid: false, error: { key: 'redemption_rules_violated' } });
  });

  it('counts .daily in the UTC day and .monthly in the UTC month', async () => {
    const now = new Date();
    const startOfDay = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
    const startOfMonth = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);

    await limitedVoucher('DAILY', oncePerCustomer('redemption.count.per_customer.daily', 1, 'Once a day'));
    const today = await json(await redeem('DAILY', 'daily-a'));
    expect(await validate('DAILY', 'daily-a')).toMatchObject({
      valid: false,
      error: { key: 'redemption_rules_violated', message: 'Once a day' },
    });
    expect(await json(await redeem('DAILY', 'daily-a'))).toMatchObject({ key: 'redemption_rules_violated' });
    // Made yesterday: today is free again.
    await backdate(today.id, startOfDay - 3_600_000);
    expect(await validate('DAILY', 'daily-a')).toMatchObject({ valid: true });
    expect((await redeem('DAILY', 'daily-a')).status).toBe(200);

    await limitedVoucher('MONTHLY', oncePerCustomer('redemption.count.per_customer.monthly', 2, 'Twice a month'));
    const first = await json(await redeem('MONTHLY', 'monthly-a'));
    expect((await redeem('MONTHLY', 'monthly-a')).status).toBe(200);
    expect(await validate('MONTHLY', 'monthly-a')).toMatchObject({ valid: false, error: { message: 'Twice a month' } });
    // Earlier this month still counts; last month does not.
    await backdate(first.id, startOfMonth);
    expect(await validate('MONTHLY', 'monthly-a')).toMatchObject({ valid: false });
    await backdate(first.id, startOfMonth - 1);
    expect(await validate('MONTHLY', 'monthly-a')).toMatchObject({ valid: true });
    expect((await redeem('MONTHLY', 'monthly-a')).status).toBe(200);
    expect((await redeem('MONTHLY', 'monthly-a')).status).toBe(400);
  });

  it('lets a visitor with no customer validate, but refuses a guest redemption it could not count (missing_customer)', async () => {
    await limitedVoucher('GUESTLIMIT', oncePerCustomer());
    const anonymous = await json(
      await call('/client/v1/validate?code=GUESTLIMIT&tracking_id=track_LimitsLimitsLimitsLim0', { headers: CLIENT_HEADERS }),
    );
    expect(anonymous).toMatchObject({ valid: true });
    const guest = await redeem('GUESTLIMIT');
    expect(guest.status).toBe(400);
    expect(await json(guest)).toMatchObject({ key: 'missing_customer', details: 'GUESTLIMIT' });
  });

  it('limits each code of a stacked redemption by its own rule', async () => {
    await limitedVoucher('STACK-LIM', oncePerCustomer());
    await api('POST', '/v1/vouchers/STACK-FREE', { discount: { type: 'AMOUNT', amount_off: 50 } });
    const body = (n: number) => ({
      redeemables: [
        { object: 'voucher', id: 'STACK-FREE' },
        { object: 'voucher', id: 'STACK-LIM' },
      ],
      order: { id: `stack-order-${n}`, amount: 1000 },
      customer: { source_id: 'stacker' },
    });
    expect((await api('POST', '/v1/redemptions', body(1))).status).toBe(200);
    const second = await api('POST', '/v1/redemptions', body(2));
    expect(second.status).toBe(400);
    expect(await json(second)).toMatchObject({ key: 'redemption_rules_violated', details: 'STACK-LIM' });
  });

  it('refuses conditions a count cannot meet (400 naming the rule)', async () => {
    for (const conditions of [{ $less_than_or_equal: [1.5] }, { $less_than_or_equal: [-1] }, { $starts_with: ['1'] }]) {
      const res = await api('POST', '/v1/validation-rules', {
        name: 'bad',
        rules: { '1': { name: 'redemption.count.per_customer', conditions } },
      });
      expect(res.status).toBe(400);
      expect((await json(res)).details).toContain('1.conditions');
    }
  });
});

describe('publication.redeemable_by_linked_customer', () => {
  const holderRule = {
    '1': {
      name: 'publication.redeemable_by_linked_customer',
      conditions: { $is: [true] },
      error: { message: 'Only the holder can use this code' },
    },
    logic: '1',
  };

  it('accepts the holder only: refused for another customer, for an anonymous visitor and for a guest', async () => {
    await api('POST', '/v1/customers', { source_id: 'holder-a' });
    await api('POST', '/v1/customers', { source_id: 'holder-b' });
    await limitedVoucher('HELD', holderRule);
    // Not yet published: nobody holds it, so nobody may use it.
    expect(await validate('HELD', 'holder-a')).toMatchObject({ valid: false, error: { key: 'customer_rules_violated' } });

    await setHolder('HELD', 'holder-a');
    const a = await json(await api('GET', '/v1/customers/holder-a'));
    // OA24 Voucher.holder_id (OpenAPI24.json:L4511): the holder's customer id.
    expect((await json(await api('GET', '/v1/vouchers/HELD'))).holder_id).toBe(a.id);
    // GET /v1/vouchers?customer= lists the vouchers the customer holds, by id or source_id.
    for (const ref of ['holder-a', a.id]) {
      expect((await json(await api('GET', `/v1/vouchers?customer=${ref}`))).vouchers.map((v: { code: string }) => v.code)).toEqual([
        'HELD',
      ]);
    }

    expect(await validate('HELD', 'holder-a')).toMatchObject({ valid: true });
    expect(await validate('HELD', 'holder-b')).toMatchObject({
      valid: false,
      reason: 'customer does not match validation rules',
      error: { key: 'customer_rules_violated', message: 'Only the holder can use this code' },
    });
    const anonymous = await json(
      await call('/client/v1/validate?code=HELD&tracking_id=track_HolderHolderHolderHol0', { headers: CLIENT_HEADERS }),
    );
    expect(anonymous).toMatchObject({ valid: false, error: { key: 'customer_rules_violated' } });

    const other = await redeem('HELD', 'holder-b');
    expect(other.status).toBe(400);
    const error = await json(other);
    expect(error).toMatchObject({
      key: 'customer_rules_violated',
      message: 'customer does not match validation rules',
      details: 'HELD',
      error: { message: 'Only the holder can use this code' },
    });
    expect(await json(await api('GET', `/v1/redemptions/${error.resource_id}`))).toMatchObject({
      result: 'FAILURE',
      failure_code: 'customer_rules_violated',
    });
    // A guest cannot be the holder: the customer is missing (as for any customer rule).
    expect(await json(await redeem('HELD'))).toMatchObject({ key: 'missing_customer' });

    expect((await redeem('HELD', 'holder-a')).status).toBe(200);
    // Handed to someone else: the first holder no longer may.
    await setHolder('HELD', 'holder-b');
    expect(await validate('HELD', 'holder-a')).toMatchObject({ valid: false, error: { key: 'customer_rules_violated' } });
    expect((await redeem('HELD', 'holder-b')).status).toBe(200);
  });

  it('combines with the per-customer limit: the holder, once', async () => {
    await api('POST', '/v1/customers', { source_id: 'combo' });
    await limitedVoucher('HELD-ONCE', {
      '1': { name: 'publication.redeemable_by_linked_customer' },
      '2': { name: 'redemption.count.per_customer', conditions: { $less_than_or_equal: [1] } },
      logic: '1 and 2',
    });
    await setHolder('HELD-ONCE', 'combo');
    const results = await Promise.all(Array.from({ length: 5 }, () => redeem('HELD-ONCE', 'combo')));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect((await Promise.all(results.filter((r) => r.status !== 200).map(json))).map((e) => e.key)).toEqual(
      Array(4).fill('redemption_rules_violated'),
    );
  });

  it('refuses holder conditions it cannot read', async () => {
    const res = await api('POST', '/v1/validation-rules', {
      name: 'bad',
      rules: { '1': { name: 'publication.redeemable_by_linked_customer', conditions: { $in: ['x'] } } },
    });
    expect(res.status).toBe(400);
    expect((await json(res)).details).toContain('1.conditions');
  });
});

describe('the redeem batch guards (migration 0016)', () => {
  /** The guard, then a write it must stop: all or nothing. */
  async function guarded(guard: D1PreparedStatement, marker: string) {
    try {
      await db.batch([guard, db.prepare("INSERT INTO validations (id, code, created_at) VALUES (?, 'GUARD', 0)").bind(marker)]);
      return 'committed';
    } catch (error) {
      const written = await db.prepare('SELECT count(*) AS n FROM validations WHERE id = ?').bind(marker).first<{ n: number }>();
      expect(written?.n).toBe(0);
      return d1Refusal(error);
    }
  }

  it('aborts when the customer is not the holder at commit time, and when they redeemed past the count', async () => {
    await api('POST', '/v1/customers', { source_id: 'guard-a' });
    await api('POST', '/v1/customers', { source_id: 'guard-b' });
    await limitedVoucher('GUARD', oncePerCustomer('redemption.count.per_customer', 2));
    const voucher = await json(await api('GET', '/v1/vouchers/GUARD'));
    const a = sql`c.source_id = ${'guard-a'}`;
    await setHolder('GUARD', 'guard-a');
    expect(await guarded(checkVoucherHolder(db, voucher.id, a, true), 'cust_guard_1')).toBe('committed');
    await setHolder('GUARD', 'guard-b');
    expect(await guarded(checkVoucherHolder(db, voucher.id, a, true), 'cust_guard_2')).toBe('voucher_holder_mismatch');
    expect(await guarded(checkVoucherHolder(db, voucher.id, a, false), 'cust_guard_3')).toBe('committed');

    expect((await redeem('GUARD', 'guard-a')).status).toBe(200);
    expect(await guarded(checkCustomerRedemptions(db, voucher.id, a, 0, 1, Date.now()), 'cust_guard_4')).toBe('committed');
    expect(await guarded(checkCustomerRedemptions(db, voucher.id, a, 0, 0, Date.now()), 'cust_guard_5')).toBe(
      'customer_redemption_limit_reached',
    );
    // Only redemptions since the window's start count.
    expect(await guarded(checkCustomerRedemptions(db, voucher.id, a, Date.now() + 60_000, 0, Date.now()), 'cust_guard_6')).toBe(
      'committed',
    );
  });
});
