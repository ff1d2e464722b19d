import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../worker/src/app';
import type { Env } from '../../worker/src/env';
import { CLIENT_HEADERS, SERVER_HEADERS, api, call, json, ok } from './helpers';

/**
 * Promotion stacks (migration 0032): a named, ordered group of one PROMOTION campaign's tiers.
 * Shapes from the spec (production/readOnly-openAPI.json of voucherify-openapi): OA PromotionStack
 * (L22279) and PromotionStackBase (L22336: "up to 30 tiers", hierarchy_mode MANUAL); GET
 * /v1/promotions/stacks (L41346, its example L41406-L41550: object list, data_ref data, total),
 * GET/POST /v1/promotions/{campaignId}/stacks (L41556; the create example L41680-L41710),
 * GET/PUT/DELETE (204) /v1/promotions/{campaignId}/stacks/{stackId} (L41715-L41960); the
 * `promotion_stack` redeemable (RedeemPromotionStack L24420) sent alone ("Alternatively, send one
 * unique promotion_stack in the array", StackableValidateRedeemBase.redeemables L28540), whose
 * answer lists redeemables of the kinds the spec's validation answers have (promotion_tier).
 * Through the official SDK: test/node/sdk-promotion-stacks.test.ts.
 */

type Json = Record<string, any>;
const tenOff = { type: 'PERCENT', percent_off: 10, effect: 'APPLY_TO_ORDER' };
const fiveOff = { type: 'AMOUNT', amount_off: 500, effect: 'APPLY_TO_ORDER' };
const oneOff = { type: 'AMOUNT', amount_off: 100, effect: 'APPLY_TO_ORDER' };

let seq = 0;
/** A PROMOTION campaign with three tiers: A (10%), B (5 off, only for orders of 100 or more), C (1 off). */
async function promotion() {
  seq++;
  const rule = await ok(
    api('POST', '/v1/validation-rules', {
      name: `ps-min-order-${seq}`,
      rules: { '1': { name: 'order.amount', conditions: { $more_than_or_equal: [10_000] } } },
    }),
  );
  const campaign = await ok(
    api('POST', '/v1/campaigns', {
      name: `ps-promo-${seq}`,
      campaign_type: 'PROMOTION',
      promotion: {
        tiers: [
          { name: 'A', action: { discount: tenOff } },
          { name: 'B', action: { discount: fiveOff }, validation_rules: [rule.id] },
          { name: 'C', action: { discount: oneOff } },
        ],
      },
    }),
  );
  const tiers = (await ok(api('GET', `/v1/promotions/${campaign.id}/tiers`))).tiers as Json[];
  const id = (name: string) => tiers.find((t) => t.name === name)?.id as string;
  return { campaign, a: id('A'), b: id('B'), c: id('C') };
}

const create = (campaignId: string, body: Json) => api('POST', `/v1/promotions/${campaignId}/stacks`, body);
const stackRedeemable = (id: string) => [{ object: 'promotion_stack', id }];

describe('promotion stacks: the API', () => {
  it('creates, gets, lists, updates and deletes a stack in the shape of the spec', async () => {
    const { campaign, a, b, c } = await promotion();
    const created = await ok(create(campaign.id, { name: 'First stack', tiers: { ids: [b, a], hierarchy_mode: 'MANUAL' } }));
    expect(created).toEqual({
      id: expect.stringMatching(/^stack_[0-9A-Za-z]{24}$/),
      name: 'First stack',
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      campaign_id: campaign.id,
      object: 'promotion_stack',
      tiers: { ids: [b, a], hierarchy_mode: 'MANUAL' },
      category_id: null,
      categories: [],
    });
    // hierarchy_mode defaults to MANUAL (OA PromotionStackBase).
    const second = await ok(create(campaign.name, { name: 'Second stack', tiers: { ids: [c] } }));
    expect(second.tiers).toEqual({ ids: [c], hierarchy_mode: 'MANUAL' });

    expect(await ok(api('GET', `/v1/promotions/${campaign.id}/stacks/${created.id}`))).toEqual(created);
    const inCampaign = await ok(api('GET', `/v1/promotions/${campaign.id}/stacks`));
    expect(inCampaign).toMatchObject({ object: 'list', data_ref: 'data', total: 2 });
    expect(inCampaign.data.map((s: Json) => s.id)).toEqual([created.id, second.id]);

    const updated = await ok(
      api('PUT', `/v1/promotions/${campaign.id}/stacks/${created.id}`, { name: 'First stack modified', tiers: { ids: [a, b, c] } }),
    );
    expect(updated).toMatchObject({
      id: created.id,
      name: 'First stack modified',
      created_at: created.created_at,
      updated_at: expect.stringMatching(/^\d{4}-/),
      tiers: { ids: [a, b, c], hierarchy_mode: 'MANUAL' },
    });
    // A name alone leaves the tiers as they are.
    const renamed = await ok(api('PUT', `/v1/promotions/${campaign.id}/stacks/${created.id}`, { name: 'Renamed' }));
    expect(renamed.tiers.ids).toEqual([a, b, c]);

    await ok(api('DELETE', `/v1/promotions/${campaign.id}/stacks/${second.id}`), 204);
    expect(await ok(api('GET', `/v1/promotions/${campaign.id}/stacks/${second.id}`), 404)).toMatchObject({
      code: 404,
      key: 'not_found',
      details: `Cannot find promotion_stack with id ${second.id}`,
    });
    expect((await ok(api('GET', `/v1/promotions/${campaign.id}/stacks`))).total).toBe(1);
    // A tier deleted: the stack keeps the others, in their order.
    await ok(api('DELETE', `/v1/promotions/tiers/${b}`), 204);
    expect((await ok(api('GET', `/v1/promotions/${campaign.id}/stacks/${created.id}`))).tiers.ids).toEqual([a, c]);
  });

  it("lists every campaign's stacks with paging, order and dates", async () => {
    const one = await promotion();
    const two = await promotion();
    const s1 = await ok(create(one.campaign.id, { name: `zz-${seq}-1`, tiers: { ids: [one.a] } }));
    // Just before the first of these: the stacks of earlier tests are left out.
    const before = new Date(Date.parse(s1.created_at) - 1).toISOString();
    const s2 = await ok(create(two.campaign.id, { name: `zz-${seq}-2`, tiers: { ids: [two.a] } }));
    const s3 = await ok(create(two.campaign.id, { name: `zz-${seq}-0`, tiers: { ids: [two.c] } }));
    const all = await ok(api('GET', `/v1/promotions/stacks?created_at[after]=${before}&limit=100`));
    expect(all).toMatchObject({ object: 'list', data_ref: 'data', total: 3 });
    // Newest first by default, as the spec's example lists them.
    expect(all.data.map((s: Json) => s.id)).toEqual([s3.id, s2.id, s1.id]);
    const byName = await ok(api('GET', `/v1/promotions/stacks?created_at[after]=${before}&order=name&limit=2`));
    expect(byName.data.map((s: Json) => s.id)).toEqual([s3.id, s1.id]);
    const page2 = await ok(api('GET', `/v1/promotions/stacks?created_at[after]=${before}&order=name&limit=2&page=2`));
    expect(page2).toMatchObject({ total: 3 });
    expect(page2.data.map((s: Json) => s.id)).toEqual([s2.id]);
    await ok(api('PUT', `/v1/promotions/${one.campaign.id}/stacks/${s1.id}`, { name: `zz-${seq}-1b` }));
    const changed = await ok(api('GET', `/v1/promotions/stacks?updated_at[after]=${before}&limit=100`));
    expect(changed.data.map((s: Json) => s.id)).toContain(s1.id);
    expect(changed.data.map((s: Json) => s.id)).not.toContain(s2.id);
  });

  it('refuses bad input with a 4xx in the Voucherify error shape, writing nothing', async () => {
    const { campaign, a } = await promotion();
    const other = await promotion();
    const refused = async (res: Promise<Response>, status: number, key: string, details: RegExp) => {
      const body = await ok(res, status);
      expect(body).toMatchObject({ code: status, key, details: expect.stringMatching(details), request_id: expect.any(String) });
    };
    await refused(create(campaign.id, { name: 'x', tiers: { ids: [] } }), 400, 'invalid_payload', /at least one tier/);
    await refused(create(campaign.id, { name: 'x', tiers: { ids: [a, a] } }), 400, 'invalid_payload', /more than once/);
    await refused(
      create(campaign.id, { name: 'x', tiers: { ids: Array.from({ length: 31 }, (_, i) => `promo_${i}`) } }),
      400,
      'invalid_payload',
      /at most 30/,
    );
    await refused(create(campaign.id, { name: 'x', tiers: { ids: [a], hierarchy_mode: 'AUTO' } }), 400, 'invalid_payload', /MANUAL/);
    await refused(create(campaign.id, { tiers: { ids: [a] } }), 400, 'invalid_payload', /name/);
    await refused(create(campaign.id, { name: 'x', tiers: { ids: [a] }, extra: 1 }), 400, 'invalid_payload', /unknown field/);
    await refused(
      create(campaign.id, { name: 'x', tiers: { ids: ['promo_nope'] } }),
      404,
      'not_found',
      /promotion_tier with id promo_nope/,
    );
    await refused(create(campaign.id, { name: 'x', tiers: { ids: [a, other.a] } }), 400, 'invalid_payload', /its own campaign/);
    await refused(create('camp_nope', { name: 'x', tiers: { ids: [a] } }), 404, 'not_found', /campaign with id camp_nope/);
    const codes = await ok(
      api('POST', '/v1/campaigns', { name: `ps-codes-${seq}`, voucher: { type: 'DISCOUNT_VOUCHER', discount: oneOff } }),
    );
    await refused(create(codes.id, { name: 'x', tiers: { ids: [a] } }), 400, 'invalid_payload', /only a PROMOTION campaign/);
    await refused(api('GET', '/v1/promotions/stacks?order=bogus'), 400, 'invalid_query_params', /order/);
    expect((await ok(api('GET', `/v1/promotions/${campaign.id}/stacks`))).total).toBe(0);

    const stack = await ok(create(campaign.id, { name: 'kept', tiers: { ids: [a] } }));
    // A stack is reached through its own campaign only.
    await refused(api('GET', `/v1/promotions/${other.campaign.id}/stacks/${stack.id}`), 404, 'not_found', /promotion_stack/);
    await refused(api('DELETE', `/v1/promotions/${other.campaign.id}/stacks/${stack.id}`), 404, 'not_found', /promotion_stack/);
    await refused(
      api('PUT', `/v1/promotions/${campaign.id}/stacks/${stack.id}`, { tiers: { ids: [other.a] } }),
      400,
      'invalid_payload',
      /its own campaign/,
    );
    await refused(api('PUT', `/v1/promotions/${campaign.id}/stacks/stack_nope`, { name: 'y' }), 404, 'not_found', /promotion_stack/);
    expect(await ok(api('GET', `/v1/promotions/${campaign.id}/stacks/${stack.id}`))).toEqual(stack);
  });

  it("a campaign's delete removes its stacks", async () => {
    const { campaign, a } = await promotion();
    const stack = await ok(create(campaign.id, { name: 'goes', tiers: { ids: [a] } }));
    await ok(api('DELETE', `/v1/campaigns/${campaign.id}`), 202);
    const all = await ok(api('GET', '/v1/promotions/stacks?limit=100'));
    expect(all.data.map((s: Json) => s.id)).not.toContain(stack.id);
    const stackRead = await api('POST', '/v1/validations', { redeemables: stackRedeemable(stack.id) });
    expect(stackRead.status).toBe(404);
  });
});

describe('promotion_stack redeemables at checkout', () => {
  it('validates a stack as its tiers in the stack order, each judged as a promotion_tier redeemable', async () => {
    const { campaign, a, b, c } = await promotion();
    const stack = await ok(create(campaign.id, { name: 'checkout', tiers: { ids: [c, b, a] } }));
    const big = await ok(api('POST', '/v1/validations', { redeemables: stackRedeemable(stack.id), order: { amount: 20_000 } }));
    expect(big.valid).toBe(true);
    expect(big.redeemables.map((r: Json) => [r.object, r.id, r.status])).toEqual([
      ['promotion_tier', c, 'APPLICABLE'],
      ['promotion_tier', b, 'APPLICABLE'],
      ['promotion_tier', a, 'APPLICABLE'],
    ]);
    // 1 off, 5 off, 10% of 20,000: each discount on the order as a list of tiers would get it.
    const asTiers = await ok(
      api('POST', '/v1/validations', {
        redeemables: [c, b, a].map((id) => ({ object: 'promotion_tier', id })),
        order: { amount: 20_000 },
      }),
    );
    expect(big.order).toEqual(asTiers.order);
    expect(big.order).toMatchObject({ amount: 20_000, total_discount_amount: 100 + 500 + 2000 });

    // B's rule fails for a small order: INAPPLICABLE, the others SKIPPED (the spec's "False" example).
    const small = await ok(api('POST', '/v1/validations', { redeemables: stackRedeemable(stack.id), order: { amount: 5_000 } }));
    expect(small.valid).toBe(false);
    expect(small.redeemables.map((r: Json) => [r.id, r.status])).toEqual([
      [c, 'SKIPPED'],
      [b, 'INAPPLICABLE'],
      [a, 'SKIPPED'],
    ]);
    expect(small.redeemables[1]).toMatchObject({
      object: 'promotion_tier',
      result: { error: { key: 'order_rules_violated', details: b } },
    });

    // The client key validates the same stack.
    const client = await call('/client/v1/validations', {
      method: 'POST',
      headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json' },
      body: JSON.stringify({ redeemables: stackRedeemable(stack.id), order: { amount: 20_000 } }),
    });
    const clientBody = await ok(client);
    expect(clientBody.redeemables.map((r: Json) => r.id)).toEqual([c, b, a]);
  });

  it("a stack's change counts from the next request", async () => {
    const { campaign, a, c } = await promotion();
    const stack = await ok(create(campaign.id, { name: 'moves', tiers: { ids: [a] } }));
    const body = { redeemables: stackRedeemable(stack.id), order: { amount: 10_000 } };
    expect((await ok(api('POST', '/v1/validations', body))).order.total_discount_amount).toBe(1000);
    await ok(api('PUT', `/v1/promotions/${campaign.id}/stacks/${stack.id}`, { tiers: { ids: [c] } }));
    expect((await ok(api('POST', '/v1/validations', body))).order.total_discount_amount).toBe(100);
    // Every tier of it deleted: nothing to judge, a 400 naming the stack.
    await ok(api('DELETE', `/v1/promotions/tiers/${c}`), 204);
    expect(await ok(api('POST', '/v1/validations', body), 400)).toMatchObject({
      key: 'invalid_payload',
      details: expect.stringContaining(stack.id),
    });
  });

  it('redeems a stack: one redemption per tier, each counted, and the rollback returns them', async () => {
    const { campaign, a, c } = await promotion();
    const stack = await ok(create(campaign.id, { name: 'redeem', tiers: { ids: [a, c] } }));
    const redeemed = await ok(
      api('POST', '/v1/redemptions', {
        redeemables: stackRedeemable(stack.id),
        customer: { source_id: `ps-buyer-${seq}` },
        order: { amount: 10_000 },
      }),
    );
    expect(redeemed.redemptions.map((r: Json) => [r.result, r.related_object_type, r.related_object_id])).toEqual([
      ['SUCCESS', 'promotion_tier', a],
      ['SUCCESS', 'promotion_tier', c],
    ]);
    expect(redeemed.parent_redemption).toMatchObject({ result: 'SUCCESS', order: { total_discount_amount: 1100 } });
    for (const id of [a, c]) expect((await ok(api('GET', `/v1/promotions/tiers/${id}`))).summary.redemptions.total_redeemed).toBe(1);
    await ok(api('POST', `/v1/redemptions/${redeemed.parent_redemption.id}/rollbacks`));
    for (const id of [a, c]) expect((await ok(api('GET', `/v1/promotions/tiers/${id}`))).summary.redemptions.total_redeemed).toBe(0);
  });

  it('an Idempotency-Key is bound to the stack named: its replay after the stack changed answers the first redemption', async () => {
    const { campaign, a, c } = await promotion();
    const stack = await ok(create(campaign.id, { name: 'keyed', tiers: { ids: [a] } }));
    const send = () =>
      api(
        'POST',
        '/v1/redemptions',
        { redeemables: stackRedeemable(stack.id), order: { amount: 10_000 } },
        { 'Idempotency-Key': `ps-key-${seq}` },
      );
    const first = await ok(send());
    await ok(api('PUT', `/v1/promotions/${campaign.id}/stacks/${stack.id}`, { tiers: { ids: [c] } }));
    const again = await ok(send());
    expect(again.parent_redemption.id).toBe(first.parent_redemption.id);
    expect(again.redemptions.map((r: Json) => r.related_object_id)).toEqual([a]);
    expect((await ok(api('GET', `/v1/promotions/tiers/${a}`))).summary.redemptions.total_redeemed).toBe(1);
    expect((await ok(api('GET', `/v1/promotions/tiers/${c}`))).summary.redemptions.total_redeemed).toBe(0);
  });

  it('refuses a stack sent beside other redeemables, and an unknown stack, in the error shape', async () => {
    const { campaign, a } = await promotion();
    const stack = await ok(create(campaign.id, { name: 'alone', tiers: { ids: [a] } }));
    const mixed = await ok(
      api('POST', '/v1/validations', {
        redeemables: [
          { object: 'promotion_tier', id: a },
          { object: 'promotion_stack', id: stack.id },
        ],
      }),
      400,
    );
    expect(mixed).toMatchObject({ code: 400, key: 'invalid_payload', details: expect.stringMatching(/promotion_stack is sent alone/) });
    const mixedRedeem = await api('POST', '/v1/redemptions', {
      redeemables: [{ object: 'voucher', id: 'X' }, ...stackRedeemable(stack.id)],
    });
    expect(mixedRedeem.status).toBe(400);
    const unknown = await ok(api('POST', '/v1/redemptions', { redeemables: stackRedeemable('stack_nope') }), 404);
    expect(unknown).toMatchObject({ code: 404, key: 'not_found', details: 'Cannot find promotion_stack with id stack_nope' });
  });
});

/** A request with COUNT_OPS=on: the X-Vouchsafe-Ops header says what it cost (as test/worker/hot-path.test.ts counts). */
async function counted(path: string, init: RequestInit) {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`https://vouchsafe.test${path}`, init), { ...env, COUNT_OPS: 'on' } as unknown as Env, ctx);
  await waitOnExecutionContext(ctx);
  const ops = Object.fromEntries(
    (res.headers.get('X-Vouchsafe-Ops') ?? '').split(', ').map((pair) => {
      const [key, value] = pair.split('=');
      return [key, Number(value)];
    }),
  );
  return { res, ops };
}

describe('the cost of a stack at checkout', () => {
  it('a warm client validate of a stack costs what a validate costs: one replica read, nothing on the primary', async () => {
    const { campaign, a, c } = await promotion();
    const stack = await ok(create(campaign.id, { name: 'counted', tiers: { ids: [a, c] } }));
    const request = () =>
      counted('/client/v1/validations', {
        method: 'POST',
        headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json' },
        body: JSON.stringify({
          redeemables: stackRedeemable(stack.id),
          order: { amount: 5000 },
          tracking_id: 'track_StackCostStackCostSta0',
        }),
      });
    await request();
    const warm = await request();
    expect((await json(warm.res)).valid).toBe(true);
    // The stack's tiers are read live in the visitor's own batch (hot-path.test.ts: a validate is d1_replica 1).
    expect(warm.ops).toEqual({ d1_primary: 0, d1_replica: 1, kv_reads: 0, kv_writes: 0, queue_sends: 1 });
  });

  it('a stack redeem is two round trips on the primary, as a redeem of codes is', async () => {
    const { campaign, a, c } = await promotion();
    const stack = await ok(create(campaign.id, { name: 'counted redeem', tiers: { ids: [a, c] } }));
    const body = { redeemables: stackRedeemable(stack.id), order: { amount: 5000 }, customer: { source_id: `ps-counted-${seq}` } };
    const init = { method: 'POST', headers: { ...SERVER_HEADERS, 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
    await counted('/v1/redemptions', init);
    const warm = await counted('/v1/redemptions', init);
    expect((await json(warm.res)).redemptions).toHaveLength(2);
    expect(warm.ops).toMatchObject({ d1_primary: 2, d1_replica: 0 });
  });
});
