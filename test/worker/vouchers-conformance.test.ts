import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../worker/src/app';
import type { Env } from '../../worker/src/env';
import { SERVER_HEADERS, api, json } from './helpers';

// Wire conformance of vouchers and validation rules.
// OA = readOnly-openAPI.json, OA24 = OpenAPI24.json (Voucherify's published OpenAPI), SDK = node_modules/@voucherify/sdk/dist/types.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const create = async (code: string, body: Record<string, unknown> = {}) => {
  const res = await api('POST', `/v1/vouchers/${encodeURIComponent(code)}`, { discount: { type: 'AMOUNT', amount_off: 100 }, ...body });
  expect(res.status, await res.clone().text()).toBe(200);
  return json(res);
};
const validate = async (code: string) =>
  json(await api('POST', `/v1/vouchers/${encodeURIComponent(code)}/validate`, { order: { amount: 1000 } }));
const redeem = (code: string) =>
  api('POST', `/v1/vouchers/${encodeURIComponent(code)}/redemption`, { customer: { source_id: `buyer-${code}` }, order: { amount: 1000 } });
const rule = async (minAmount: number) =>
  json(
    await api('POST', '/v1/validation-rules', {
      name: `over ${minAmount}`,
      rules: { '1': { name: 'order.amount', conditions: { $more_than: [minAmount] } }, logic: '1' },
    }),
  );
const expectInvalid = async (res: Response, field: string) => {
  expect(res.status).toBe(400);
  const body = await json(res);
  expect(body.key).toBe('invalid_payload');
  expect(body.details).toContain(field);
  return body;
};

/** Days of the week (0 = Sunday, UTC) other than today and tomorrow: a test that runs across midnight still sees them excluded. */
function daysExcludingNow(): number[] {
  const today = new Date().getUTCDay();
  return [0, 1, 2, 3, 4, 5, 6].filter((d) => d !== today && d !== (today + 1) % 7);
}
const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);

describe('the voucher object', () => {
  it('has every field of the spec example, in the spec shape', async () => {
    const created = await create('SHAPE', { metadata: { a: 1 } });
    const v = await json(await api('GET', '/v1/vouchers/SHAPE'));
    // OA GET /v1/vouchers/{code} "Amount Discount" example (readOnly-openAPI.json:L35147 onwards).
    expect(Object.keys(v).sort()).toEqual(
      [
        'id',
        'code',
        'campaign',
        'campaign_id',
        'category',
        'category_id',
        'categories',
        'type',
        'discount',
        'gift',
        'loyalty_card',
        'start_date',
        'expiration_date',
        'validity_timeframe',
        'validity_day_of_week',
        'validity_hours',
        'active',
        'additional_info',
        'metadata',
        'assets',
        'is_referral_code',
        'created_at',
        'updated_at',
        'holder_id',
        'referrer_id',
        'validation_rules_assignments',
        'redemption',
        'publish',
        'object',
        // Vouchsafe's one addition (migration 0031, docs/qualifications.md): offered to anyone by qualifications.
        'public',
      ].sort(),
    );
    expect(v).toMatchObject({
      code: 'SHAPE',
      campaign: null,
      campaign_id: null,
      category: null,
      category_id: null,
      categories: [],
      type: 'DISCOUNT_VOUCHER',
      // OA DiscountAmountVouchersEffectTypes (L6064); the examples show APPLY_TO_ORDER for order discounts.
      discount: { type: 'AMOUNT', amount_off: 100, effect: 'APPLY_TO_ORDER' },
      gift: null,
      loyalty_card: null,
      validity_timeframe: null,
      validity_day_of_week: null,
      validity_hours: null,
      additional_info: null,
      // SDK Vouchers.d.ts:76: is_referral_code is not optional.
      is_referral_code: false,
      updated_at: null,
      holder_id: null,
      // OA example: "redemption": {…, "object": "list", "url": "/v1/vouchers/<code>/redemptions?page=1&limit=10"}.
      redemption: { quantity: null, redeemed_quantity: 0, object: 'list', url: '/v1/vouchers/SHAPE/redemptions?page=1&limit=10' },
      publish: { object: 'list', count: 0, url: '/v1/vouchers/SHAPE/publications?page=1&limit=10' },
      validation_rules_assignments: { object: 'list', data_ref: 'data', data: [], total: 0 },
      object: 'voucher',
    });
    // SDK Vouchers.d.ts:66-75: assets.qr / assets.barcode with id and url. No images are rendered here: url is null.
    expect(v.assets).toEqual({ qr: { id: expect.any(String), url: null }, barcode: { id: expect.any(String), url: null } });
    expect(created).toEqual(v);
  });

  it('lists assignments with created_at, as in the spec example', async () => {
    await create('ASSIGNED');
    const r = await rule(1);
    await api('POST', `/v1/validation-rules/${r.id}/assignments`, { voucher: 'ASSIGNED' });
    const v = await json(await api('GET', '/v1/vouchers/ASSIGNED'));
    // OA example "validation_rules_assignments.data[0]": {id, rule_id, related_object_id, related_object_type, created_at, object}.
    expect(v.validation_rules_assignments).toMatchObject({
      total: 1,
      data: [{ rule_id: r.id, related_object_id: v.id, related_object_type: 'voucher', object: 'validation_rules_assignment' }],
    });
    expect(v.validation_rules_assignments.data[0].created_at).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
  });

  it('answers a duplicate code with the spec 409', async () => {
    await create('TWICE');
    const res = await api('POST', '/v1/vouchers/TWICE', { discount: { type: 'AMOUNT', amount_off: 1 } });
    expect(res.status).toBe(409);
    // OA24 POST /v1/vouchers/{code} 409 "Duplicate" example (OpenAPI24.json:L53936).
    expect(await json(res)).toMatchObject({
      code: 409,
      key: 'duplicate_found',
      message: 'Duplicated resource found',
      details: 'Duplicated voucher exists with id TWICE',
      resource_id: 'TWICE',
      resource_type: 'voucher',
    });
  });
});

describe('voucher restrictions are kept or refused, never dropped', () => {
  it('stores validity_timeframe, validity_day_of_week, validity_hours and additional_info and returns them', async () => {
    const body = {
      start_date: '2030-01-01T00:00:00.000Z',
      validity_timeframe: { interval: 'P2D', duration: 'PT1H' },
      validity_day_of_week: [5, 1, 1],
      validity_hours: { daily: [{ start_time: '12:00', expiration_time: '14:00', days_of_week: [1, 5] }] },
      additional_info: 'lunch deal',
    };
    const v = await create('KEPT', body);
    const expected = { ...body, validity_day_of_week: [1, 5] };
    expect(v).toMatchObject(expected);
    expect(await json(await api('GET', '/v1/vouchers/KEPT'))).toMatchObject(expected);
    const cleared = await json(
      await api('PUT', '/v1/vouchers/KEPT', {
        validity_timeframe: null,
        validity_day_of_week: null,
        validity_hours: null,
        additional_info: null,
      }),
    );
    expect(cleared).toMatchObject({ validity_timeframe: null, validity_day_of_week: null, validity_hours: null, additional_info: null });
  });

  it('refuses at validate and at redeem a voucher whose validity_day_of_week excludes today', async () => {
    await create('NOT-TODAY', { validity_day_of_week: daysExcludingNow() });
    const v = await validate('NOT-TODAY');
    // errors.mdx: voucher_not_active_now "voucher is not active in the given time frame";
    // OA24 POST /v1/vouchers/{code}/redemption 400 "Voucher Inactive" (OpenAPI24.json:L64354).
    expect(v).toMatchObject({ valid: false, error: { code: 400, key: 'voucher_not_active_now', message: 'voucher not active now' } });
    const res = await redeem('NOT-TODAY');
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ code: 400, key: 'voucher_not_active_now', resource_type: 'redemption' });
    expect((await json(await api('GET', '/v1/vouchers/NOT-TODAY'))).redemption.redeemed_quantity).toBe(0);

    await create('EVERY-DAY', { validity_day_of_week: [0, 1, 2, 3, 4, 5, 6] });
    expect((await validate('EVERY-DAY')).valid).toBe(true);
    expect((await redeem('EVERY-DAY')).status).toBe(200);
  });

  it('judges validity_hours and validity_timeframe at validate and redeem', async () => {
    const now = Date.now();
    const allDays = [0, 1, 2, 3, 4, 5, 6];
    await create('LATER-HOURS', {
      validity_hours: { daily: [{ start_time: hhmm(now + 3 * HOUR), expiration_time: hhmm(now + 4 * HOUR), days_of_week: allDays }] },
    });
    expect(await validate('LATER-HOURS')).toMatchObject({ valid: false, error: { key: 'voucher_not_active_now' } });
    expect((await redeem('LATER-HOURS')).status).toBe(400);
    await create('NOW-HOURS', {
      validity_hours: { daily: [{ start_time: hhmm(now - HOUR), expiration_time: hhmm(now + 2 * HOUR), days_of_week: allDays }] },
    });
    expect((await validate('NOW-HOURS')).valid).toBe(true);

    // Windows of one hour every day from start_date: two hours after the start is between windows.
    await create('PAST-WINDOW', {
      start_date: new Date(now - 2 * HOUR).toISOString(),
      validity_timeframe: { interval: 'P1D', duration: 'PT1H' },
    });
    expect(await validate('PAST-WINDOW')).toMatchObject({ valid: false, error: { key: 'voucher_not_active_now' } });
    expect((await redeem('PAST-WINDOW')).status).toBe(400);
    await create('IN-WINDOW', {
      start_date: new Date(now - DAY - 10 * 60_000).toISOString(),
      validity_timeframe: { interval: 'P1D', duration: 'PT1H' },
    });
    expect((await validate('IN-WINDOW')).valid).toBe(true);
    expect((await redeem('IN-WINDOW')).status).toBe(200);
  });

  it('sees a restriction added by an update at once, past the cached definition', async () => {
    await create('CACHED');
    expect((await validate('CACHED')).valid).toBe(true); // the definition is now cached in KV
    await api('PUT', '/v1/vouchers/CACHED', { validity_day_of_week: daysExcludingNow() });
    expect(await validate('CACHED')).toMatchObject({ valid: false, error: { key: 'voucher_not_active_now' } });
  });

  it.each([
    ['code_config', { code_config: { prefix: 'X-' } }, 'code_config: not supported'],
    ['category', { category: 'summer' }, 'category: not supported'],
    ['category_id', { category_id: 'cat_1' }, 'category_id: not supported'],
    ['campaign', { campaign: 'Summer' }, 'campaign: not supported'],
    ['gift', { gift: { amount: 100 } }, 'gift: not supported'],
    ['is_referral_code: true', { is_referral_code: true }, 'is_referral_code: not supported'],
    [
      'a discount formula',
      { discount: { type: 'AMOUNT', amount_off: 1, amount_off_formula: 'IF(1;2;3)' } },
      'discount.amount_off_formula: not supported',
    ],
    // OA DiscountPercentVouchersEffectTypes (readOnly-openAPI.json:L6206): APPLY_TO_ORDER | APPLY_TO_ITEMS.
    [
      'an effect PERCENT does not have',
      { discount: { type: 'PERCENT', percent_off: 10, effect: 'APPLY_TO_ITEMS_BY_QUANTITY' } },
      'discount.effect: must be one of APPLY_TO_ORDER, APPLY_TO_ITEMS',
    ],
    // OA24 DiscountUnit requires unit_type (OpenAPI24.json:L3951-L3954).
    ['a UNIT discount without unit_type', { discount: { type: 'UNIT', unit_off: 1 } }, 'discount.unit_type: required'],
    ['a GIFT_VOUCHER', { type: 'GIFT_VOUCHER' }, 'type: only DISCOUNT_VOUCHER'],
    ['an unknown field', { validity_days: [1] }, 'unknown field "validity_days"'],
    ['an unknown discount field', { discount: { type: 'AMOUNT', amount_off: 1, max: 5 } }, 'discount: unknown field "max"'],
    ['a day 7', { validity_day_of_week: [7] }, 'validity_day_of_week[0]'],
    ['no day', { validity_day_of_week: [] }, 'validity_day_of_week: must name at least one day'],
    [
      'a timeframe without start_date',
      { validity_timeframe: { interval: 'P1D', duration: 'PT1H' } },
      'start_date: required with validity_timeframe',
    ],
    [
      'a bad duration',
      { start_date: '2030-01-01', validity_timeframe: { interval: '2 days', duration: 'PT1H' } },
      'validity_timeframe.interval',
    ],
    [
      'a bad hour',
      { validity_hours: { daily: [{ start_time: '25:00', expiration_time: '14:00', days_of_week: [1] }] } },
      'validity_hours.daily[0].start_time',
    ],
    [
      'a period without days',
      { validity_hours: { daily: [{ start_time: '12:00', expiration_time: '14:00' }] } },
      'validity_hours.daily[0].days_of_week',
    ],
  ])('refuses %s with 400 naming the field', async (_, extra, details) => {
    const res = await api('POST', '/v1/vouchers', { discount: { type: 'AMOUNT', amount_off: 100 }, ...extra });
    await expectInvalid(res, details);
  });

  it('refuses an unsupported field on update too, and writes nothing', async () => {
    await create('UPD');
    await expectInvalid(await api('PUT', '/v1/vouchers/UPD', { category: 'x', metadata: { changed: true } }), 'category: not supported');
    await expectInvalid(
      await api('PUT', '/v1/vouchers/UPD', { validity_timeframe: { interval: 'P1D', duration: 'PT1H' } }),
      'start_date: required',
    );
    expect((await json(await api('GET', '/v1/vouchers/UPD'))).metadata).toEqual({});
  });

  it('takes back a voucher it returned (read-only fields are ignored)', async () => {
    const v = await create('ECHO', { redemption: { quantity: 5 } });
    const res = await api('PUT', '/v1/vouchers/ECHO', { ...v, active: false, metadata: { echoed: true } });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await json(res)).toMatchObject({ id: v.id, active: false, metadata: { echoed: true }, redemption: { quantity: 5 } });
    const copy = { ...v };
    delete copy.id;
    expect((await api('POST', '/v1/vouchers/ECHO-2', copy)).status).toBe(200);
  });

  it('assigns validation_rules given on create, in the same write', async () => {
    const r = await rule(5000);
    const v = await json(await api('POST', '/v1/vouchers', { discount: { type: 'AMOUNT', amount_off: 1 }, validation_rules: [r.id] }));
    expect(v.validation_rules_assignments).toMatchObject({ total: 1, data: [{ rule_id: r.id, related_object_id: v.id }] });
    expect((await validate(v.code)).valid).toBe(false);
    const missing = await api('POST', '/v1/vouchers/NO-RULE', {
      discount: { type: 'AMOUNT', amount_off: 1 },
      validation_rules: ['val_missing'],
    });
    expect(missing.status).toBe(404);
    expect((await api('GET', '/v1/vouchers/NO-RULE')).status).toBe(404);
  });
});

describe('GET /v1/vouchers', () => {
  it('lists in the spec envelope with limit, page, order and filters', async () => {
    const codes = ['L-A', 'L-B', 'L-C'];
    const made = [];
    for (const code of codes) made.push(await create(code));
    const r = await rule(1);
    await api('POST', `/v1/validation-rules/${r.id}/assignments`, { voucher: 'L-B' });
    const after = encodeURIComponent(new Date(Date.parse(made[0].created_at) - 1).toISOString());

    // OA GET /v1/vouchers 200: {object:'list', data_ref:'vouchers', vouchers, total} (VouchersListResponseBody).
    const all = await json(await api('GET', `/v1/vouchers?created_at[after]=${after}&order=code`));
    expect(all).toMatchObject({ object: 'list', data_ref: 'vouchers', total: 3 });
    expect(all.vouchers.map((v: { code: string }) => v.code)).toEqual(codes);
    expect(all.vouchers[1].validation_rules_assignments).toMatchObject({ total: 1, data: [{ rule_id: r.id }] });
    expect(all.vouchers[0].validation_rules_assignments.total).toBe(0);

    const page2 = await json(await api('GET', `/v1/vouchers?created_at[after]=${after}&order=-code&limit=2&page=2`));
    expect(page2).toMatchObject({ total: 3, vouchers: [{ code: 'L-A' }] });
    const byIds = await json(await api('GET', `/v1/vouchers?ids[0]=${made[0].id}&ids[1]=${made[2].id}&order=code`));
    expect(byIds.vouchers.map((v: { code: string }) => v.code)).toEqual(['L-A', 'L-C']);
    expect((await json(await api('GET', '/v1/vouchers?code=L-C'))).vouchers.map((v: { id: string }) => v.id)).toEqual([made[2].id]);
    const before = await json(await api('GET', `/v1/vouchers?created_at[before]=${after}&code=L-A`));
    expect(before).toMatchObject({ total: 0, vouchers: [] });
    // No voucher of this file has a holder (holder_id null), so a holder filter matches none (holders: limits.test.ts).
    expect(await json(await api('GET', '/v1/vouchers?customer=cust_1'))).toMatchObject({ total: 0, vouchers: [] });
  });

  it('costs one D1 round trip for a page, whatever its size and the rules of its vouchers (no N+1)', async () => {
    const r = await rule(1);
    for (let i = 0; i < 30; i++) {
      await create(`N1-${String(i).padStart(2, '0')}`);
      await api('POST', `/v1/validation-rules/${r.id}/assignments`, { voucher: `N1-${String(i).padStart(2, '0')}` });
    }
    const counted = async (path: string) => {
      const ctx = createExecutionContext();
      const res = await app.fetch(
        new Request(`https://vouchsafe.test${path}`, { headers: SERVER_HEADERS }),
        { ...env, COUNT_OPS: 'on' } as unknown as Env,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      return { body: await json(res), ops: res.headers.get('X-Vouchsafe-Ops') };
    };
    const small = await counted('/v1/vouchers?limit=1');
    const large = await counted('/v1/vouchers?limit=100');
    expect(
      large.body.vouchers.filter((v: { validation_rules_assignments: { total: number } }) => v.validation_rules_assignments.total === 1)
        .length,
    ).toBeGreaterThanOrEqual(30);
    expect(small.ops).toBe('d1_primary=0, d1_replica=1, kv_reads=0, kv_writes=0, queue_sends=0');
    expect(large.ops).toBe('d1_primary=0, d1_replica=1, kv_reads=0, kv_writes=0, queue_sends=0');
  });

  it.each([
    // A filter field this service cannot apply is named, never ignored (the spec's `filters` is open).
    ['filters[colour][conditions][$is]=red', 'not supported: filter "colour"'],
    ['filters[junction]=maybe', 'filters.junction'],
    ['colour=red', 'unknown field "colour"'],
    ['order=size', 'order'],
    ['limit=101', 'limit'],
    ['created_at[after]=yesterday', 'created_at.after'],
  ])('refuses %s with 400 naming the parameter', async (query, details) => {
    const res = await api('GET', `/v1/vouchers?${query}`);
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ key: 'invalid_query_params', details: expect.stringContaining(details) });
  });
});

describe('validation rules', () => {
  it('assigns with the SDK body {voucher} and the spec body without related_object_type', async () => {
    await create('AS-1');
    const v2 = await create('AS-2');
    const r = await rule(1);
    // SDK ValidationRules.d.ts:38 ValidationRulesCreateAssignment {voucher?}.
    const a1 = await json(await api('POST', `/v1/validation-rules/${r.id}/assignments`, { voucher: 'AS-1' }));
    // OA ValidationRulesAssignmentsCreateRequestBody (L29673): related_object_type defaults to 'voucher'.
    const a2res = await api('POST', `/v1/validation-rules/${r.id}/assignments`, { related_object_id: v2.id });
    expect(a2res.status).toBe(200);
    const a2 = await json(a2res);
    for (const a of [a1, a2]) {
      // OA ValidationRuleAssignment; SDK ValidationRulesCreateAssignmentResponse (ValidationRules.d.ts:43) requires updated_at.
      expect(a).toMatchObject({
        id: expect.stringMatching(/^asgm_/),
        rule_id: r.id,
        related_object_type: 'voucher',
        object: 'validation_rules_assignment',
      });
      expect(a.created_at).toMatch(/Z$/);
      expect(a.updated_at).toMatch(/Z$/);
    }
    expect(a2.related_object_id).toBe(v2.id);
  });

  it.each([
    ['an unknown object type', { related_object_type: 'loyalty_card', related_object_id: 'x' }, 'related_object_type: must be voucher'],
    ['a voucher and a campaign', { voucher: 'A', campaign: 'C' }, 'campaign: give one of a voucher, a campaign or a promotion_tier'],
    ['a voucher and a tier', { voucher: 'A', promotion_tier: 'promo_1' }, 'campaign: give one of'],
    ['nothing to assign to', {}, 'related_object_id: required'],
    ['two different vouchers', { voucher: 'A', related_object_id: 'B' }, 'voucher: names another object'],
  ])('refuses %s with 400 naming the field', async (_, body, details) => {
    const r = await rule(1);
    await expectInvalid(await api('POST', `/v1/validation-rules/${r.id}/assignments`, body), details);
  });

  it('lists rules in the spec envelope, with paging', async () => {
    const made = [await rule(11), await rule(12), await rule(13)];
    // OA ValidationRulesListResponseBody: {object:'list', data_ref:'data', data, total}.
    const list = await json(await api('GET', '/v1/validation-rules?limit=2&order=-created_at'));
    expect(list).toMatchObject({ object: 'list', data_ref: 'data' });
    expect(list.total).toBeGreaterThanOrEqual(3);
    expect(list.data).toHaveLength(2);
    // Newest first; rules made in the same millisecond follow their ids (db/vouchers.ts RULE_ORDER_BY), so
    // the last one made is first only when its millisecond is later.
    const newest = [...made].sort((a, b) =>
      b.created_at === a.created_at ? (b.id > a.id ? 1 : -1) : b.created_at > a.created_at ? 1 : -1,
    )[0];
    expect(list.data[0]).toMatchObject({ id: newest.id, object: 'validation_rules', assignments_count: 0 });
    const second = await json(await api('GET', '/v1/validation-rules?limit=2&page=2&order=-created_at'));
    expect(second.data[0].id).not.toBe(list.data[0].id);
    expect((await api('GET', '/v1/validation-rules?limit=0')).status).toBe(400);
  });

  it('updates a rule, and the vouchers it is assigned to judge with the new rule at once', async () => {
    await create('RUL-UPD');
    const r = await rule(500); // order of 1000: passes
    await api('POST', `/v1/validation-rules/${r.id}/assignments`, { voucher: 'RUL-UPD' });
    expect((await validate('RUL-UPD')).valid).toBe(true); // cached with the rule
    const res = await api('PUT', `/v1/validation-rules/${r.id}`, {
      name: 'over 5000',
      rules: { '1': { name: 'order.amount', conditions: { $more_than: [5000] } }, logic: '1' },
    });
    expect(res.status).toBe(200);
    const updated = await json(res);
    expect(updated).toMatchObject({ id: r.id, name: 'over 5000', assignments_count: 1, object: 'validation_rules' });
    expect(updated.updated_at).toMatch(/Z$/);
    expect(await validate('RUL-UPD')).toMatchObject({ valid: false, error: { key: 'order_rules_violated' } });
    await expectInvalid(
      await api('PUT', `/v1/validation-rules/${r.id}`, { rules: { '1': { name: 'order.colour', conditions: { $is: ['red'] } } } }),
      'rules.1.name',
    );
    expect((await api('PUT', '/v1/validation-rules/val_missing', { name: 'x' })).status).toBe(404);
  });

  it('refuses item targeting it cannot resolve and unknown fields in a rule, and takes back a rule it returned', async () => {
    const rules = { '1': { name: 'order.amount', conditions: { $more_than: [1] } }, logic: '1' };
    // OA ApplicableTo.object (readOnly-openAPI.json:L949): product | sku | products_collection; there is no
    // product catalogue here to resolve a collection, and no per-item limits.
    const collection = { included: [{ object: 'products_collection', id: 'pc_1' }], excluded: [], included_all: false };
    await expectInvalid(
      await api('POST', '/v1/validation-rules', { name: 'items', rules, applicable_to: collection }),
      'applicable_to.included[0].object: not supported',
    );
    const limited = { included: [{ object: 'product', id: 'p1', quantity_limit: 1 }] };
    await expectInvalid(
      await api('POST', '/v1/validation-rules', { name: 'items', rules, applicable_to: limited }),
      'applicable_to.included[0].quantity_limit: not supported',
    );
    await expectInvalid(
      await api('POST', '/v1/validation-rules', { name: 'typo', rules, errors: { message: 'x' } }),
      'unknown field "errors"',
    );
    const r = await rule(1);
    const echoed = await api('PUT', `/v1/validation-rules/${r.id}`, { ...r, name: 'renamed' });
    expect(echoed.status, await echoed.clone().text()).toBe(200);
    expect(await json(echoed)).toMatchObject({ id: r.id, name: 'renamed', rules: r.rules });
  });

  it('lists and deletes assignments; a deleted assignment stops applying at once', async () => {
    const v = await create('UNASSIGN');
    const r = await rule(5000);
    const a = await json(await api('POST', `/v1/validation-rules/${r.id}/assignments`, { voucher: 'UNASSIGN' }));
    expect((await validate('UNASSIGN')).valid).toBe(false);

    // OA ValidationRuleAssignmentsList: {object:'list', data_ref:'data', data, total}.
    const list = await json(await api('GET', `/v1/validation-rules/${r.id}/assignments`));
    expect(list).toMatchObject({
      object: 'list',
      data_ref: 'data',
      total: 1,
      data: [{ id: a.id, rule_id: r.id, related_object_id: v.id }],
    });
    const byVoucher = await json(await api('GET', '/v1/validation-rules-assignments?related_object_id=UNASSIGN'));
    expect(byVoucher).toMatchObject({ total: 1, data: [{ id: a.id }] });
    expect(await json(await api('GET', `/v1/validation-rules-assignments?rule=${r.id}&related_object_id=${v.id}`))).toMatchObject({
      total: 1,
    });

    expect((await api('DELETE', `/v1/validation-rules/${r.id}/assignments/${a.id}`)).status).toBe(204);
    expect((await validate('UNASSIGN')).valid).toBe(true);
    expect(await json(await api('GET', `/v1/validation-rules/${r.id}/assignments`))).toMatchObject({ total: 0, data: [] });
    const again = await api('DELETE', `/v1/validation-rules/${r.id}/assignments/${a.id}`);
    expect(again.status).toBe(404);
    expect((await api('GET', '/v1/validation-rules/val_missing/assignments')).status).toBe(404);
  });
});
