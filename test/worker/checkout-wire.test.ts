import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { app } from '../../worker/src/app';
import type { Env } from '../../worker/src/env';
import { CLIENT_HEADERS, SERVER_HEADERS, api, call, json } from './helpers';
import { signClaim } from '../../shared/identity';
import { TEST_ENV } from '../test-env';

// The checkout wire (redeem, stacked redeem, rollbacks, redemption lists) over raw HTTP, against the
// spec: OA = readOnly-openAPI.json, OA24 = OpenAPI24.json, ERR = errors.mdx (Voucherify's docs), SDK =
// node_modules/@voucherify/sdk/dist/types/Redemptions.d.ts. test/node/sdk-redemptions.test.ts drives
// the same routes through the official SDK.

const voucher = async (code: string, body: Record<string, unknown> = {}) => {
  const res = await api('POST', `/v1/vouchers/${encodeURIComponent(code)}`, { discount: { type: 'AMOUNT', amount_off: 100 }, ...body });
  expect(res.status).toBe(200);
  return json(res);
};
const redeemOne = (code: string, body: unknown, headers: Record<string, string> = {}) =>
  api('POST', `/v1/vouchers/${encodeURIComponent(code)}/redemption`, body, headers);
const redeemStack = (codes: string[], body: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  api('POST', '/v1/redemptions', { redeemables: codes.map((id) => ({ object: 'voucher', id })), ...body }, headers);
const count = async (sql: string, ...params: unknown[]) =>
  Number(
    (
      await env.DB.prepare(sql)
        .bind(...params)
        .first<{ n: number }>()
    )?.n,
  );

/** A request with some bindings changed (COUNT_OPS, CLIENT_REDEMPTIONS); X-Vouchsafe-Ops parsed when present. */
async function withBindings(bindings: Partial<Env>, path: string, init: RequestInit = {}) {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`https://vouchsafe.test${path}`, init), { ...env, ...bindings } as unknown as Env, ctx);
  await waitOnExecutionContext(ctx);
  const ops = Object.fromEntries(
    (res.headers.get('X-Vouchsafe-Ops') ?? '')
      .split(', ')
      .filter(Boolean)
      .map((pair) => pair.split('='))
      .map(([k, v]) => [k, Number(v)]),
  );
  return { res, ops };
}

describe('POST /v1/redemptions answers the stacked shape', () => {
  it('with one redeemable: {redemptions, parent_redemption, order, inapplicable_redeemables, skipped_redeemables}', async () => {
    await voucher('ONE-1');
    const res = await redeemStack(['ONE-1'], { customer: { source_id: 'one-1' }, order: { amount: 1000 } });
    expect(res.status).toBe(200);
    const body = await json(res);
    // OA RedemptionsRedeemResponseBody (OA:L25493); SDK RedemptionsRedeemStackableResponse (Redemptions.d.ts:172).
    expect(Object.keys(body).sort()).toEqual([
      'inapplicable_redeemables',
      'order',
      'parent_redemption',
      'redemptions',
      'skipped_redeemables',
    ]);
    expect(body.redemptions).toHaveLength(1);
    const [child] = body.redemptions;
    const parent = body.parent_redemption;
    // Children name their parent (OA:L24562; SDK Redemptions.d.ts:158).
    expect(child).toMatchObject({
      object: 'redemption',
      result: 'SUCCESS',
      redemption: parent.id,
      related_object_type: 'voucher',
      voucher: { code: 'ONE-1' },
    });
    // The parent is related to itself and has no voucher (OA "Stacked Redemption" OA:L44395; SDK Redemptions.d.ts:184).
    expect(parent).toMatchObject({
      object: 'redemption',
      result: 'SUCCESS',
      related_object_type: 'redemption',
      related_object_id: parent.id,
      voucher: null,
      redemption: null,
    });
    expect(parent.order.redemptions).toEqual({
      [parent.id]: { date: expect.any(String), related_object_type: 'redemption', related_object_id: parent.id, stacked: [child.id] },
    });
    expect(body.order).toEqual(parent.order);
    expect(body.order).toMatchObject({ amount: 1000, discount_amount: 100, total_amount: 900, customer_id: parent.customer_id });
  });

  it('replays an Idempotency-Key in the same shape as the first answer', async () => {
    await voucher('ONE-2');
    const body = { customer: { source_id: 'one-2' }, order: { amount: 1000 } };
    const first = await json(await redeemStack(['ONE-2'], body, { 'Idempotency-Key': 'stack-replay' }));
    const again = await json(await redeemStack(['ONE-2'], body, { 'Idempotency-Key': 'stack-replay' }));
    expect(again).toEqual(first);
    expect((await json(await api('GET', '/v1/vouchers/ONE-2'))).redemption.redeemed_quantity).toBe(1);
  });

  it('refuses the same code twice in one request with 400 naming it, and writes nothing', async () => {
    await voucher('DUP-1');
    const res = await redeemStack(['DUP-1', 'DUP-1'], { customer: { source_id: 'dup-1' }, order: { amount: 1000 } });
    expect(res.status).toBe(400);
    // "Each unique redeemable can be sent in one request only once" (OA StackableValidateRedeemBase.redeemables).
    expect(await json(res)).toMatchObject({
      key: 'invalid_payload',
      details: expect.stringContaining('redeemables[1].id: DUP-1 is given more than once'),
    });
    expect((await json(await api('GET', '/v1/vouchers/DUP-1'))).redemption.redeemed_quantity).toBe(0);
    expect((await api('GET', '/v1/customers/dup-1')).status).toBe(404);
  });
});

describe('Idempotency-Key', () => {
  it('answers 409 to a different request with a used key, never the other request redemption', async () => {
    await voucher('IK-A');
    await voucher('IK-B');
    const first = await redeemOne('IK-A', { customer: { source_id: 'ik-1' }, order: { amount: 1000 } }, { 'Idempotency-Key': 'ik-key' });
    expect(first.status).toBe(200);
    const other = await redeemOne('IK-B', { customer: { source_id: 'ik-2' }, order: { amount: 50_000 } }, { 'Idempotency-Key': 'ik-key' });
    expect(other.status).toBe(409);
    expect(await json(other)).toMatchObject({ code: 409, key: 'idempotency_key_conflict' });
    // Same code, other body; and the same body on another route.
    expect(
      (await redeemOne('IK-A', { customer: { source_id: 'ik-1' }, order: { amount: 2000 } }, { 'Idempotency-Key': 'ik-key' })).status,
    ).toBe(409);
    expect(
      (await redeemStack(['IK-A'], { customer: { source_id: 'ik-1' }, order: { amount: 1000 } }, { 'Idempotency-Key': 'ik-key' })).status,
    ).toBe(409);
    expect((await api('GET', '/v1/customers/ik-2')).status).toBe(404);
    expect((await json(await api('GET', '/v1/vouchers/IK-B'))).redemption.redeemed_quantity).toBe(0);
    // The same request, keys in another order, replays.
    const replay = await redeemOne('IK-A', { order: { amount: 1000 }, customer: { source_id: 'ik-1' } }, { 'Idempotency-Key': 'ik-key' });
    expect(replay.status).toBe(200);
    expect((await json(replay)).id).toBe((await json(first)).id);
  });
});

describe('request bodies: null means null', () => {
  it('accepts null on every nullable field of validate and redeem bodies (OA RedemptionsRedeemRequestBody OA:L25457, Customer OA:L4614)', async () => {
    await voucher('NUL-1', { redemption: { quantity: 10 } });
    await api('POST', '/v1/customers', { source_id: 'nul-1', name: 'Before', phone: '+1 555', metadata: { keep: false } });
    const body = {
      customer: {
        id: null,
        source_id: 'nul-1',
        name: null,
        email: null,
        phone: null,
        description: null,
        birthdate: null,
        address: null,
        metadata: null,
      },
      order: { id: null, source_id: null, status: null, amount: 1000, metadata: null, items: null },
      metadata: null,
      tracking_id: null,
    };
    const validate = await api('POST', '/v1/vouchers/NUL-1/validate', body);
    expect(validate.status).toBe(200);
    expect((await json(validate)).valid).toBe(true);
    const res = await redeemOne('NUL-1', body);
    expect(res.status).toBe(200);
    // null clears, as PUT /v1/customers does.
    expect(await json(await api('GET', '/v1/customers/nul-1'))).toMatchObject({ name: null, phone: null, metadata: {} });
    expect((await redeemOne('NUL-1', { customer: null, order: null, metadata: null })).status).toBe(200);
    expect((await redeemStack(['NUL-1'], { customer: null, order: null, metadata: null, tracking_id: null })).status).toBe(200);
  });

  it('reads order.amount:null and items[].price:null as "no amount", so the items total is used', async () => {
    await voucher('NUL-2', { discount: { type: 'PERCENT', percent_off: 10 } });
    const items = [
      { product_id: 'p1', quantity: 2, price: 1500 },
      { product_id: 'p2', quantity: 1, price: null },
      { product_id: 'p3', amount: 1000 },
    ];
    const r = await json(await redeemOne('NUL-2', { customer: { source_id: 'nul-2' }, order: { amount: null, items } }));
    expect(r.order).toMatchObject({ amount: 4000, discount_amount: 400, total_amount: 3600 });
    // The item without a price has no amount (OA OrderCalculatedItem: amount = price * quantity).
    // Each item carries its own discount (OA OrderCalculatedItem.discount_amount, applied_discount_amount): none
    // for an order-level discount.
    expect(r.order.items[1]).toEqual({
      object: 'order_item',
      product_id: 'p2',
      quantity: 1,
      amount: null,
      discount_amount: 0,
      applied_discount_amount: 0,
      subtotal_amount: null,
    });
  });

  it('takes no strings for numbers in JSON bodies (only the client query parses them)', async () => {
    await voucher('NUL-3');
    const res = await redeemOne('NUL-3', { customer: { source_id: 'nul-3' }, order: { amount: '1000' } });
    expect(res.status).toBe(400);
    expect((await json(res)).details).toMatch(/^order\.amount:/);
    const client = await json(
      await call('/client/v1/validate?code=NUL-3&amount=1000&item%5B0%5D%5Bprice%5D=200&item%5B0%5D%5Bquantity%5D=2', {
        headers: CLIENT_HEADERS,
      }),
    );
    expect(client).toMatchObject({
      valid: true,
      order: { amount: 1000, items: [{ object: 'order_item', price: 200, quantity: 2, amount: 400 }] },
    });
  });
});

describe('the customer and the order of a redemption', () => {
  it('upserts every customer field the customers API accepts', async () => {
    await voucher('CF-1');
    const customer = {
      source_id: 'cf-1',
      name: 'C F',
      email: 'cf@example.com',
      phone: '+48 600 000 000',
      description: 'vip',
      birthdate: '1990-05-17',
      address: { city: 'Berlin', country: 'DE', postal_code: '10115', line_1: 'Str 1' },
      metadata: { tier: 'gold' },
    };
    expect((await redeemOne('CF-1', { customer, order: { amount: 1000 } })).status).toBe(200);
    expect(await json(await api('GET', '/v1/customers/cf-1'))).toMatchObject({
      ...customer,
      address: { ...customer.address, state: null, line_2: null },
    });
  });

  it('keeps and answers the order: id (ord_ when none), source_id, status, metadata, created_at, customer_id, enriched items', async () => {
    await voucher('ORD-1');
    const r = await json(
      await redeemOne('ORD-1', {
        customer: { source_id: 'ord-1' },
        order: {
          source_id: 'ORDER-123',
          amount: 10_000,
          metadata: { shop: 'eu' },
          items: [{ product_id: 'prod_1', quantity: 2, price: 5000, product: { name: 'Shoe' } }],
        },
      }),
    );
    // OA24 "Discount Coupon" example (OA24:L63945): id ord_, status PAID, created_at, customer_id, items as order_item.
    expect(r.order).toMatchObject({
      source_id: 'ORDER-123',
      status: 'PAID',
      metadata: { shop: 'eu' },
      customer_id: r.customer_id,
      customer: { id: r.customer_id, object: 'customer' },
      object: 'order',
      items: [
        {
          object: 'order_item',
          product_id: 'prod_1',
          quantity: 2,
          price: 5000,
          amount: 10_000,
          subtotal_amount: 10_000,
          product: { name: 'Shoe' },
        },
      ],
      redemptions: { [r.id]: { related_object_type: 'voucher', related_object_id: r.voucher.id } },
    });
    expect(r.order.id).toMatch(/^ord_/);
    expect(r.order.created_at).toBe(r.date);
    expect(r.customer_id).toMatch(/^cust_/);
    const given = await json(await redeemOne('ORD-1', { order: { id: 'ord_mine', status: 'CREATED', amount: 100 } }));
    expect(given.order).toMatchObject({ id: 'ord_mine', status: 'CREATED', source_id: null, customer_id: null, customer: null });
    expect((await json(await api('GET', `/v1/redemptions/${r.id}`))).order).toEqual(r.order);
  });

  it('redeems for a guest: no customer, no tracking id, nothing written to customers', async () => {
    await voucher('GUEST-1', { redemption: { quantity: 5 } });
    const before = await count('SELECT count(*) AS n FROM customers');
    for (const body of [undefined, {}]) {
      const res = await redeemOne('GUEST-1', body);
      expect(res.status).toBe(200);
      expect(await json(res)).toMatchObject({ result: 'SUCCESS', customer_id: null, customer: null, order: { customer_id: null } });
    }
    expect(await count('SELECT count(*) AS n FROM customers')).toBe(before);
  });

  it('refuses a guest a voucher whose rules need a customer with missing_customer (ERR), recorded as rf_', async () => {
    await voucher('GUEST-2');
    const segment = await json(
      await api('POST', '/v1/segments', {
        name: 'guest gold',
        type: 'passive',
        filter: { 'metadata.tier': { conditions: { $is: ['gold'] } } },
      }),
    );
    const rule = await json(
      await api('POST', '/v1/validation-rules', {
        name: 'members',
        rules: { '1': { name: 'customer.segment', conditions: { $is: [segment.id] } } },
      }),
    );
    expect(
      (await api('POST', `/v1/validation-rules/${rule.id}/assignments`, { related_object_type: 'voucher', related_object_id: 'GUEST-2' }))
        .status,
    ).toBe(200);
    const res = await redeemOne('GUEST-2', { order: { amount: 1000 } });
    expect(res.status).toBe(400);
    const error = await json(res);
    expect(error).toMatchObject({
      key: 'missing_customer',
      message: 'customer was not specified',
      details: 'GUEST-2',
      resource_type: 'redemption',
    });
    expect((await json(await api('GET', `/v1/redemptions/${error.resource_id}`))).failure_code).toBe('missing_customer');
  });
});

describe('redeem errors', () => {
  it('keeps the generic message in message, the custom rule message in error.message, details = the code', async () => {
    await voucher('ERR-1');
    const rule = await json(
      await api('POST', '/v1/validation-rules', {
        name: 'min',
        rules: { '1': { name: 'order.amount', conditions: { $more_than: [5000] }, error: { message: 'Spend more than 50' } }, logic: '1' },
      }),
    );
    await api('POST', `/v1/validation-rules/${rule.id}/assignments`, { related_object_type: 'voucher', related_object_id: 'ERR-1' });
    const res = await redeemOne('ERR-1', { customer: { source_id: 'err-1' }, order: { amount: 1000 } });
    expect(res.status).toBe(400);
    // ERR line ~113; OA24 "Voucher disabled" OA24:L64323: {message, details: <code>, resource rf_, error: {message}}.
    const error = await json(res);
    expect(error).toMatchObject({
      key: 'order_rules_violated',
      message: 'order does not match validation rules',
      details: 'ERR-1',
      resource_type: 'redemption',
      error: { message: 'Spend more than 50' },
    });
    expect(error.resource_id).toMatch(/^rf_/);
    // Replayed the same with an Idempotency-Key.
    const keyed = await json(
      await redeemOne('ERR-1', { customer: { source_id: 'err-1' }, order: { amount: 1000 } }, { 'Idempotency-Key': 'err-key' }),
    );
    const replay = await json(
      await redeemOne('ERR-1', { customer: { source_id: 'err-1' }, order: { amount: 1000 } }, { 'Idempotency-Key': 'err-key' }),
    );
    expect({ ...replay, request_id: '' }).toEqual({ ...keyed, request_id: '' });

    await voucher('ERR-OFF', { active: false });
    const disabled = await json(await redeemOne('ERR-OFF', { customer: { source_id: 'err-1' } }));
    expect(disabled).toMatchObject({ key: 'voucher_disabled', message: 'voucher is disabled', details: 'ERR-OFF' });
    expect(disabled).not.toHaveProperty('error');
  });

  it('records an unknown code as a failed redemption rf_ of nobody (OA24 "Failed Redemption" OA24:L63225)', async () => {
    const res = await redeemOne('NO-SUCH-CODE', { customer: { source_id: 'unk-1' } });
    expect(res.status).toBe(404);
    expect(await json(res)).toMatchObject({ key: 'not_found', resource_type: 'voucher', resource_id: 'NO-SUCH-CODE' });
    const list = await json(await api('GET', '/v1/redemptions?filters[voucher_code][conditions][$is]=NO-SUCH-CODE'));
    expect(list.redemptions).toHaveLength(1);
    expect(list.redemptions[0]).toMatchObject({
      result: 'FAILURE',
      failure_code: 'not_found',
      customer_id: null,
      customer: null,
      voucher: null,
      related_object_type: 'redemption',
      order: null,
    });
    expect(list.redemptions[0].id).toMatch(/^rf_/);
    expect(list.redemptions[0].related_object_id).toBe(list.redemptions[0].id);
    expect((await api('GET', '/v1/customers/unk-1')).status).toBe(404);
  });
});

describe('rollbacks', () => {
  it('rolls a stack back once: units, children, summary reversed once, segments refreshed', async () => {
    await voucher('RB-A');
    await voucher('RB-B');
    const repeat = await json(
      await api('POST', '/v1/segments', {
        name: 'repeat buyers',
        filter: { junction: 'and', 'summary.orders.total_count': { conditions: { $more_than_equal: [2] } } },
      }),
    );
    for (let i = 0; i < 2; i++) await redeemOne('RB-A', { customer: { source_id: 'rb-1' }, order: { amount: 1000 } });
    const stack = await json(await redeemStack(['RB-A', 'RB-B'], { customer: { source_id: 'rb-1' }, order: { amount: 1000 } }));
    expect((await json(await api('GET', '/v1/customers/rb-1'))).summary.orders).toMatchObject({ total_count: 3, total_amount: 3000 });

    // A child alone is refused (OA24 "Invalid Redemption Parent" OA24:L65078), the parent on /rollback too (OA24:L65086).
    const child = await api('POST', `/v1/redemptions/${stack.redemptions[0].id}/rollback`);
    expect(child.status).toBe(400);
    expect(await json(child)).toMatchObject({ key: 'invalid_redemption_parent', message: 'Invalid redemption parent' });
    expect(await json(await api('POST', `/v1/redemptions/${stack.redemptions[0].id}/rollbacks`))).toMatchObject({
      key: 'invalid_redemption_parent',
    });
    expect(await json(await api('POST', `/v1/redemptions/${stack.parent_redemption.id}/rollback`))).toMatchObject({
      key: 'invalid_redemption',
    });

    const res = await api('POST', `/v1/redemptions/${stack.parent_redemption.id}/rollbacks?reason=refund`, {});
    expect(res.status).toBe(200);
    const body = await json(res);
    // OA RedemptionsRollbacksCreateResponseBody (OA:L25624): {rollbacks, parent_rollback, order}.
    expect(Object.keys(body).sort()).toEqual(['order', 'parent_rollback', 'rollbacks']);
    expect(body.parent_rollback).toMatchObject({
      object: 'redemption_rollback',
      result: 'SUCCESS',
      redemption: stack.parent_redemption.id,
      reason: 'refund',
    });
    expect(body.rollbacks.map((r: any) => r.redemption)).toEqual(stack.redemptions.map((r: any) => r.id));
    expect(body.order).toMatchObject({ status: 'CANCELED' });
    expect(body.order.redemptions[stack.parent_redemption.id]).toMatchObject({
      rollback_id: body.parent_rollback.id,
      rollback_stacked: body.rollbacks.map((r: any) => r.id),
    });

    const customer = await json(await api('GET', '/v1/customers/rb-1'));
    expect(customer.summary.orders).toMatchObject({ total_count: 2, total_amount: 2000 });
    expect(customer.summary.redemptions).toMatchObject({ total_rolled_back: 1 });
    expect((await json(await api('GET', `/v1/customers/${customer.id}/segments`))).data.map((s: any) => s.id)).toEqual([repeat.id]);
    expect((await json(await api('GET', '/v1/vouchers/RB-A'))).redemption.redeemed_quantity).toBe(2);
    expect((await json(await api('GET', '/v1/vouchers/RB-B'))).redemption.redeemed_quantity).toBe(0);
    for (const r of stack.redemptions) expect((await json(await api('GET', `/v1/redemptions/${r.id}`))).status).toBe('ROLLED_BACK');
    expect(await json(await api('POST', `/v1/redemptions/${stack.parent_redemption.id}/rollbacks`))).toMatchObject({
      key: 'already_rolled_back',
    });
  });

  it('echoes the reason of a single rollback and takes the body the SDK sends', async () => {
    await voucher('RB-C');
    const r = await json(await redeemOne('RB-C', { customer: { source_id: 'rb-2' }, order: { amount: 1000 } }));
    const res = await api('POST', `/v1/redemptions/${r.id}/rollback?reason=changed%20mind`, {
      customer: { source_id: 'rb-2', phone: '+1 222' },
    });
    expect(res.status).toBe(200);
    // OA RedemptionRollback (OA:L25204): reason, redemption = the rolled back id.
    expect(await json(res)).toMatchObject({
      object: 'redemption_rollback',
      reason: 'changed mind',
      redemption: r.id,
      order: { status: 'CANCELED' },
    });
    expect((await json(await api('GET', '/v1/customers/rb-2'))).phone).toBe('+1 222');
    const other = await json(await redeemOne('RB-C', { customer: { source_id: 'rb-2' } }));
    expect(
      await json(await api('POST', `/v1/redemptions/${other.id}/rollback`, { customer: { source_id: 'someone-else' } })),
    ).toMatchObject({ key: 'invalid_customer' });
  });
});

describe('GET /v1/redemptions', () => {
  it('applies result, created_at, order, customer, campaign and filters (OA:L33796)', async () => {
    await voucher('LF-A');
    await voucher('LF-OFF', { active: false });
    const ok = await json(await redeemOne('LF-A', { customer: { source_id: 'lf-1' } }));
    const failed = await json(await redeemOne('LF-OFF', { customer: { source_id: 'lf-1' } }));
    const ids = (list: any) => list.redemptions.map((r: any) => r.id);
    const get = async (query: string) => json(await api('GET', `/v1/redemptions?customer=lf-1&${query}`));

    expect(ids(await get('result=FAILURE'))).toEqual([failed.resource_id]);
    expect(ids(await get('result=SUCCESS&result=FAILURE'))).toEqual([failed.resource_id, ok.id]);
    expect(ids(await get('order=created_at'))).toEqual([ok.id, failed.resource_id]);
    expect(ids(await get(`created_at[after]=${encodeURIComponent(ok.date)}`))).toEqual([failed.resource_id]);
    expect((await get('created_at[before]=2000-01-01')).total).toBe(0);
    // These codes belong to no campaign: a campaign filter matches none.
    expect((await get('campaign=Summer')).total).toBe(0);
    expect(ids(await get('filters[voucher_code][conditions][$in][0]=LF-A&filters[voucher_code][conditions][$in][1]=NOPE'))).toEqual([
      ok.id,
    ]);
    expect(
      ids(
        await get(
          'filters[junction]=OR&filters[failure_code][conditions][$is]=voucher_disabled&filters[voucher_code][conditions][$starts_with]=LF-A',
        ),
      ),
    ).toEqual([failed.resource_id, ok.id]);
    expect(ids(await get('filters[result][conditions][$is_not]=SUCCESS'))).toEqual([failed.resource_id]);
    expect(ids(await get('filters[failure_code][conditions][$is_unknown]='))).toEqual([ok.id]);

    const unknown = await api('GET', '/v1/redemptions?filters[amount][conditions][$is]=1');
    expect(unknown.status).toBe(400);
    expect(await json(unknown)).toMatchObject({ key: 'invalid_query_params', details: expect.stringContaining('amount') });
    const badOp = await api('GET', '/v1/redemptions?filters[result][conditions][$more_than]=1');
    expect(badOp.status).toBe(400);
    expect((await json(badOp)).details).toContain('$more_than');
  });

  it('answers a stacked parent as a Redemption, in get and in lists (OA:L44395)', async () => {
    await voucher('LP-A');
    await voucher('LP-B');
    const stack = await json(await redeemStack(['LP-A', 'LP-B'], { customer: { source_id: 'lp-1' }, order: { amount: 1000 } }));
    const parent = await json(await api('GET', `/v1/redemptions/${stack.parent_redemption.id}`));
    expect(parent).toEqual(stack.parent_redemption);
    const list = await json(await api('GET', '/v1/redemptions?customer=lp-1'));
    expect(list.total).toBe(3);
    for (const entry of list.redemptions) expect(entry).toMatchObject({ id: expect.any(String), object: 'redemption', result: 'SUCCESS' });
    const children = await json(
      await api('GET', `/v1/redemptions?filters[parent_redemption_id][conditions][$is]=${stack.parent_redemption.id}`),
    );
    expect(children.redemptions.map((r: any) => r.id).sort()).toEqual(stack.redemptions.map((r: any) => r.id).sort());
  });

  it('costs the same number of D1 queries for 5 entries as for 50', async () => {
    await voucher('LQ-A', { redemption: { quantity: 100 } });
    for (let i = 0; i < 50; i++) await redeemOne('LQ-A', { customer: { source_id: `lq-${i % 10}` } });
    const list = (limit: number) =>
      withBindings({ COUNT_OPS: 'on' }, `/v1/redemptions?limit=${limit}&filters[voucher_code][conditions][$is]=LQ-A`, {
        headers: SERVER_HEADERS,
      });
    const small = await list(5);
    const large = await list(50);
    expect((await json(large.res)).redemptions).toHaveLength(50);
    // One batch for the page and the total, one for the customers and vouchers of the page: reads
    // a replica may serve, none on the primary (the checkout's writes own the primary).
    expect(small.ops).toMatchObject({ d1_primary: 0, d1_replica: 2 });
    expect(large.ops).toMatchObject({ d1_primary: 0, d1_replica: 2 });
  });
});

describe('GET /v1/vouchers/{code}/redemption', () => {
  it("lists the voucher's entries (OA24 VouchersRedemptionGetResponseBody, example OA24:L63286)", async () => {
    await voucher('GV-1', { redemption: { quantity: 5 } });
    const r = await json(await redeemOne('GV-1', { customer: { source_id: 'gv-1' } }));
    await api('POST', `/v1/redemptions/${r.id}/rollback`);
    const body = await json(await api('GET', '/v1/vouchers/GV-1/redemption'));
    expect(body).toMatchObject({
      quantity: 5,
      redeemed_quantity: 0,
      object: 'list',
      url: '/v1/vouchers/GV-1/redemptions?page=1&limit=10',
      data_ref: 'redemption_entries',
      total: 2,
    });
    expect(body.redemption_entries.map((e: any) => e.object)).toEqual(['redemption_rollback', 'redemption']);
    expect((await api('GET', '/v1/vouchers/GV-NONE/redemption')).status).toBe(404);
  });
});

describe('POST /client/v1/redemptions', () => {
  const clientRedeem = (body: unknown, bindings: Partial<Env> = {}) =>
    withBindings(bindings, '/client/v1/redemptions', {
      method: 'POST',
      headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('is off unless CLIENT_REDEMPTIONS=on: 403 naming the setting', async () => {
    await voucher('CL-0');
    const { res } = await clientRedeem({ redeemables: [{ object: 'voucher', id: 'CL-0' }] }, { CLIENT_REDEMPTIONS: undefined });
    expect(res.status).toBe(403);
    expect(await json(res)).toMatchObject({ key: 'forbidden', details: expect.stringContaining('CLIENT_REDEMPTIONS=on') });
    expect((await json(await api('GET', '/v1/vouchers/CL-0'))).redemption.redeemed_quantity).toBe(0);
  });

  it('redeems in the stacked shape for a signed customer only, writes no customer field and names no customer', async () => {
    await voucher('CL-1', { redemption: { quantity: 5 } });
    await api('POST', '/v1/customers', { source_id: 'cl-1', name: 'Stored Name', email: 'stored@example.com', metadata: { tier: 'gold' } });
    const signature = await signClaim(TEST_ENV.IDENTITY_SECRET, 'source_id', 'cl-1');
    const { res } = await clientRedeem({
      redeemables: [{ object: 'voucher', id: 'CL-1' }],
      customer: { source_id: 'cl-1', name: 'Forged', metadata: { tier: 'x' } },
      identity_signature: signature,
      order: { amount: 1000 },
    });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.parent_redemption).toMatchObject({
      related_object_type: 'redemption',
      channel: { channel_id: 'test-client-app-id', channel_type: 'API' },
    });
    // The client key is public: no client answer carries a stored customer's fields or internal ids.
    expect(body.redemptions[0]).toMatchObject({ customer: null, customer_id: null, order: { customer_id: null, customer: null } });
    expect(await json(await api('GET', '/v1/customers/cl-1'))).toMatchObject({
      name: 'Stored Name',
      metadata: { tier: 'gold' },
      summary: { redemptions: { total_succeeded: 1 } },
    });

    // An unsigned claim counts for nothing: a guest redemption, no customer created or credited.
    const unsigned = await clientRedeem({ redeemables: [{ object: 'voucher', id: 'CL-1' }], customer: { source_id: 'cl-nobody' } });
    expect(unsigned.res.status).toBe(200);
    expect((await api('GET', '/v1/customers/cl-nobody')).status).toBe(404);
  });
});

describe('what the public key may store and see through client redemptions', () => {
  const clientRedeem = (body: unknown, headers: Record<string, string> = {}) =>
    call('/client/v1/redemptions', {
      method: 'POST',
      headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const redemptionRows = () => count('SELECT count(*) AS n FROM redemptions');

  describe('idempotency keys are scoped by the class of key', () => {
    it("the public key cannot tell which keys the shop's backend used", async () => {
      await voucher('IKC-1');
      expect(
        (await redeemOne('IKC-1', { customer: { source_id: 'ikc-1' }, order: { amount: 1000 } }, { 'Idempotency-Key': 'order-1001' }))
          .status,
      ).toBe(200);
      // A key the backend used and one it did not get the same answer from the public key.
      for (const key of ['order-1001', 'order-1002']) {
        const unknown = await clientRedeem({ redeemables: [{ object: 'voucher', id: 'NO-SUCH-CODE' }] }, { 'Idempotency-Key': key });
        expect(unknown.status, key).toBe(404);
        const known = await clientRedeem(
          { redeemables: [{ object: 'voucher', id: 'IKC-1' }], order: { amount: 500 } },
          { 'Idempotency-Key': key },
        );
        expect(known.status, key).toBe(200);
      }
    });

    it("a key the public key used first does not block the shop's backend, and replays for the public key only", async () => {
      await voucher('IKC-2');
      const body = { redeemables: [{ object: 'voucher', id: 'IKC-2' }], order: { amount: 700 } };
      const first = await json(await clientRedeem(body, { 'Idempotency-Key': 'order-2001' }));
      const retry = await json(await clientRedeem(body, { 'Idempotency-Key': 'order-2001' }));
      expect(retry.parent_redemption.id).toBe(first.parent_redemption.id);
      expect((await clientRedeem({ ...body, order: { amount: 800 } }, { 'Idempotency-Key': 'order-2001' })).status).toBe(409);
      // The backend's redemption with that key is its own, not refused nor answered with the client's.
      const shop = await redeemOne(
        'IKC-2',
        { customer: { source_id: 'ikc-2' }, order: { amount: 700 } },
        { 'Idempotency-Key': 'order-2001' },
      );
      expect(shop.status).toBe(200);
      const shopAnswer = await json(shop);
      expect(shopAnswer.id).not.toBe(first.parent_redemption.id);
      expect(shopAnswer.customer).toMatchObject({ source_id: 'ikc-2' });
      // Each side replays its own.
      expect(
        (
          await json(
            await redeemOne('IKC-2', { customer: { source_id: 'ikc-2' }, order: { amount: 700 } }, { 'Idempotency-Key': 'order-2001' }),
          )
        ).id,
      ).toBe(shopAnswer.id);
      expect((await json(await clientRedeem(body, { 'Idempotency-Key': 'order-2001' }))).parent_redemption.id).toBe(
        first.parent_redemption.id,
      );
    });

    it('concurrent retries with one key from the public key make one redemption, answered alike', async () => {
      await voucher('IKC-4', { redemption: { quantity: 10 } });
      const body = { redeemables: [{ object: 'voucher', id: 'IKC-4' }], order: { amount: 900 } };
      const answers = await Promise.all([1, 2, 3].map(() => clientRedeem(body, { 'Idempotency-Key': 'order-4001' })));
      expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
      const ids = await Promise.all(answers.map(async (r) => (await json(r)).parent_redemption.id));
      expect(new Set(ids).size).toBe(1);
      expect((await json(await api('GET', '/v1/vouchers/IKC-4'))).redemption.redeemed_quantity).toBe(1);
    });

    it("an unknown code sent with the public key takes no key of the shop's backend", async () => {
      await voucher('IKC-3');
      expect(
        (await clientRedeem({ redeemables: [{ object: 'voucher', id: 'NO-SUCH-CODE' }] }, { 'Idempotency-Key': 'order-3001' })).status,
      ).toBe(404);
      expect(
        (await redeemOne('IKC-3', { customer: { source_id: 'ikc-3' }, order: { amount: 1000 } }, { 'Idempotency-Key': 'order-3001' }))
          .status,
      ).toBe(200);
    });
  });

  describe('bounded storage', () => {
    it('an unknown code sent with the public key stores nothing', async () => {
      const before = await redemptionRows();
      for (let i = 0; i < 5; i++) {
        const res = await clientRedeem({ redeemables: [{ object: 'voucher', id: `GUESS-${i}` }], metadata: { pad: 'x'.repeat(1500) } });
        expect(res.status).toBe(404);
        expect(await json(res)).toMatchObject({ code: 404, key: 'not_found', resource_type: 'voucher' });
      }
      expect(await redemptionRows()).toBe(before);
      // The server key's unknown codes are recorded as before (a failed redemption of nobody).
      expect((await redeemOne('GUESS-SERVER', { order: { amount: 100 } })).status).toBe(404);
      expect(await redemptionRows()).toBe(before + 1);
    });

    const item = (i: number, extra: Record<string, unknown> = {}) => ({ sku_id: `s${i}`, quantity: 1, price: 100, ...extra });
    beforeAll(() => voucher('BIG-1'));
    it.each([
      ['request metadata over 2 KiB', { metadata: { pad: 'x'.repeat(2100) } }, /^metadata: must be at most 2048 bytes/],
      [
        'order metadata over 2 KiB',
        { order: { amount: 100, metadata: { pad: 'x'.repeat(2100) } } },
        /^order\.metadata: must be at most 2048 bytes/,
      ],
      [
        'more than 100 items',
        { order: { amount: 10_100, items: Array.from({ length: 101 }, (_, i) => item(i)) } },
        /^order\.items: must hold at most 100 items/,
      ],
      [
        'a product record over 1 KiB',
        { order: { amount: 100, items: [item(0, { product: { d: 'p'.repeat(1100) } })] } },
        /^order\.items\[0\]\.product: must be at most 1024 bytes/,
      ],
      [
        'a sku record over 1 KiB',
        { order: { amount: 200, items: [item(0), item(1, { sku: { d: 's'.repeat(1100) } })] } },
        /^order\.items\[1\]\.sku: must be at most 1024 bytes/,
      ],
      [
        'item metadata over 2 KiB',
        { order: { amount: 100, items: [item(0, { metadata: { d: 'm'.repeat(2100) } })] } },
        /^order\.items\[0\]\.metadata: must be at most 2048 bytes/,
      ],
      [
        'an order over 16 KiB in all',
        { order: { amount: 2000, items: Array.from({ length: 20 }, (_, i) => item(i, { product: { d: 'p'.repeat(900) } })) } },
        /^order: must be at most 16384 bytes/,
      ],
    ])('refuses %s from the public key with a 400 naming the field, and writes nothing', async (_, extra, details) => {
      const before = await redemptionRows();
      const res = await clientRedeem({ redeemables: [{ object: 'voucher', id: 'BIG-1' }], ...extra });
      expect(res.status).toBe(400);
      expect(await json(res)).toMatchObject({ code: 400, key: 'invalid_payload', details: expect.stringMatching(details) });
      expect(await redemptionRows()).toBe(before);
      expect((await json(await api('GET', '/v1/vouchers/BIG-1'))).redemption.redeemed_quantity).toBe(0);
    });

    it('a stacked public redemption stores the order and metadata as sent once, on its parent', async () => {
      await voucher('ECHO-1');
      await voucher('ECHO-2', { discount: { type: 'PERCENT', percent_off: 10 } });
      const order = {
        amount: 2000,
        metadata: { note: 'o'.repeat(1500) },
        items: [item(0, { product: { d: 'p'.repeat(900) }, sku: { d: 's'.repeat(900) }, metadata: { m: 1 } }), item(1)],
      };
      const res = await clientRedeem({
        redeemables: [
          { object: 'voucher', id: 'ECHO-1' },
          { object: 'voucher', id: 'ECHO-2' },
        ],
        metadata: { pad: 'x'.repeat(1500) },
        order,
      });
      expect(res.status).toBe(200);
      const answer = await json(res);
      const stored = async (id: string) =>
        env.DB.prepare('SELECT order_json, metadata FROM redemptions WHERE id = ?')
          .bind(id)
          .first<{ order_json: string; metadata: string }>();
      const parent = await stored(answer.parent_redemption.id);
      expect(parent?.order_json).toContain('p'.repeat(900));
      expect(JSON.parse(parent?.metadata ?? '{}')).toEqual({ pad: 'x'.repeat(1500) });
      for (const child of answer.redemptions) {
        const row = await stored(child.id);
        // Each voucher's row keeps its own figures, not the echo of what the browser sent.
        expect(row?.order_json.length).toBeLessThan(1500);
        expect(JSON.parse(row?.metadata ?? '')).toEqual({});
        expect(JSON.parse(row?.order_json ?? '{}')).toMatchObject({
          amount: 2000,
          items: [
            { sku_id: 's0', amount: 100 },
            { sku_id: 's1', amount: 100 },
          ],
        });
      }
      expect(answer.redemptions.map((r: any) => r.order.total_discount_amount)).toEqual([100, 200]);
    });

    it("the server key's orders keep their own, larger bounds", async () => {
      await voucher('BIG-2');
      const items = Array.from({ length: 150 }, (_, i) => item(i, { product: { d: 'p'.repeat(1100) } }));
      expect(
        (
          await redeemOne('BIG-2', {
            customer: { source_id: 'big-2' },
            metadata: { pad: 'x'.repeat(3000) },
            order: { amount: 15_000, items },
          })
        ).status,
      ).toBe(200);
    });
  });
});
