import { describe, expect, it } from 'vitest';
import { CLIENT_HEADERS, SERVER_HEADERS, api, call, counted, json, ok } from './helpers';

/**
 * Promotion tiers at checkout: a tier is a row of `vouchers` (migration 0030), judged by the same
 * judgeCode as a code. Shapes from the spec (production/readOnly-openAPI.json of
 * voucherify-openapi): POST /v1/validations with `promotion_tier` redeemables (request example
 * "5 Redeemables" L33123-L33160; the "False" answer, an INAPPLICABLE voucher not found and a SKIPPED
 * promotion_tier, L33197-L33220; an APPLICABLE promotion_tier with order, applicable_to and
 * result.discount, L33505-L33600); a tier's redemption carries `promotion_tier` (the official SDK's
 * Redemptions.d.ts:40, PromotionTierRedeemDetailsSimple in PromotionTiers.d.ts:105); the promotions
 * validation answers the SDK's PromotionsValidateResponse (types/Promotions.d.ts:77).
 */

type Json = Record<string, any>;
const tenOff = { type: 'PERCENT', percent_off: 10, effect: 'APPLY_TO_ORDER' };
const fiveOff = { type: 'AMOUNT', amount_off: 500, effect: 'APPLY_TO_ORDER' };

let seq = 0;
/** A customer, a static segment holding it, and a PROMOTION campaign whose one tier is for that segment. */
async function segmentTier(discount: Json = tenOff, extraTiers: Json[] = []) {
  seq++;
  const member = await ok(api('POST', '/v1/customers', { source_id: `pc-member-${seq}` }));
  await ok(api('POST', '/v1/customers', { source_id: `pc-other-${seq}` }));
  const segment = await ok(api('POST', '/v1/segments', { name: `pc-gold-${seq}`, type: 'static', customers: [member.id] }));
  const rule = await ok(
    api('POST', '/v1/validation-rules', {
      name: `pc-gold-only-${seq}`,
      rules: { '1': { name: 'customer.segment', conditions: { $is: [segment.id] } } },
    }),
  );
  const campaign = await ok(
    api('POST', '/v1/campaigns', {
      name: `pc-promo-${seq}`,
      campaign_type: 'PROMOTION',
      promotion: {
        tiers: [
          { name: `Gold ${seq}`, banner: '10% for gold', action: { discount }, validation_rules: [rule.id], metadata: { kind: 'gold' } },
          ...extraTiers,
        ],
      },
    }),
  );
  const tiers = (await ok(api('GET', `/v1/promotions/${campaign.id}/tiers`))).tiers as Json[];
  const tierId = tiers.find((t) => t.name === `Gold ${seq}`)?.id as string;
  return { member: `pc-member-${seq}`, other: `pc-other-${seq}`, campaign, tiers, tierId };
}

const stackable = (redeemables: Json[], body: Json = {}) => ok(api('POST', '/v1/validations', { redeemables, ...body }));
const tier = (id: string) => ({ object: 'promotion_tier', id });
const code = (id: string) => ({ object: 'voucher', id });

describe('promotion_tier redeemables in stackable validate', () => {
  it("a segment's tier applies to a member's cart and not to another's", async () => {
    const { member, other, tierId } = await segmentTier();
    const order = { amount: 10_000 };
    const mine = await stackable([tier(tierId)], { customer: { source_id: member }, order });
    expect(mine.valid).toBe(true);
    expect(mine.redeemables[0]).toMatchObject({
      status: 'APPLICABLE',
      id: tierId,
      object: 'promotion_tier',
      result: { discount: tenOff },
      order: { amount: 10_000, total_discount_amount: 1000, total_amount: 9000 },
      applicable_to: { object: 'list', data: [] },
      inapplicable_to: { object: 'list', data: [] },
    });
    expect(mine.order).toMatchObject({ total_discount_amount: 1000 });
    const theirs = await stackable([tier(tierId)], { customer: { source_id: other }, order });
    expect(theirs.valid).toBe(false);
    expect(theirs.redeemables[0]).toMatchObject({
      status: 'INAPPLICABLE',
      id: tierId,
      object: 'promotion_tier',
      result: { error: { key: 'customer_rules_violated', details: tierId } },
    });
  });

  it('a code and a tier are judged together, each discount on the order', async () => {
    const { member, tierId } = await segmentTier();
    await ok(api('POST', '/v1/vouchers/PC-FIVE', { discount: fiveOff }));
    const answer = await stackable([code('PC-FIVE'), tier(tierId)], { customer: { source_id: member }, order: { amount: 10_000 } });
    expect(answer.valid).toBe(true);
    expect(answer.redeemables.map((r: Json) => [r.object, r.id, r.status])).toEqual([
      ['voucher', 'PC-FIVE', 'APPLICABLE'],
      ['promotion_tier', tierId, 'APPLICABLE'],
    ]);
    expect(answer.order).toMatchObject({ amount: 10_000, total_discount_amount: 1500, total_amount: 8500 });
  });

  it("the spec's False example: an unknown voucher is INAPPLICABLE (not found), the tier beside it SKIPPED", async () => {
    const { member, tierId } = await segmentTier();
    const answer = await stackable([code('eee33463'), tier(tierId)], { customer: { source_id: member } });
    expect(answer.valid).toBe(false);
    expect(answer.redeemables).toMatchObject([
      {
        status: 'INAPPLICABLE',
        id: 'eee33463',
        object: 'voucher',
        result: {
          error: {
            code: 404,
            key: 'not_found',
            message: 'Resource not found',
            details: 'Cannot find voucher with id eee33463',
            resource_id: 'eee33463',
            resource_type: 'voucher',
          },
        },
      },
      { status: 'SKIPPED', id: tierId, object: 'promotion_tier' },
    ]);
    expect(answer.skipped_redeemables).toHaveLength(1);
    expect(answer.inapplicable_redeemables).toHaveLength(1);
  });

  it('a tier named as a voucher, or a code named as a tier, is not found as the kind asked for', async () => {
    const { member, tierId } = await segmentTier();
    await ok(api('POST', '/v1/vouchers/PC-CODE', { discount: fiveOff }));
    const asVoucher = await stackable([code(tierId)], { customer: { source_id: member } });
    expect(asVoucher.redeemables[0].result.error).toMatchObject({ code: 404, resource_type: 'voucher', resource_id: tierId });
    const asTier = await stackable([tier('PC-CODE')], { customer: { source_id: member } });
    expect(asTier.redeemables[0]).toMatchObject({
      object: 'promotion_tier',
      result: { error: { code: 404, resource_type: 'promotion_tier', details: 'Cannot find promotion_tier with id PC-CODE' } },
    });
    // The voucher routes never judge or redeem a tier.
    const single = await ok(api('POST', `/v1/vouchers/${tierId}/validate`, { customer: { source_id: member } }));
    expect(single).toMatchObject({ valid: false, error: { code: 404, resource_type: 'voucher' } });
    const redeemed = await api('POST', `/v1/vouchers/${tierId}/redemption`, { customer: { source_id: member } });
    expect(redeemed.status).toBe(404);
    expect((await api('GET', `/v1/vouchers/${tierId}/redemption`)).status).toBe(404);
    const viaTier = await api('POST', '/v1/promotions/tiers/PC-CODE/redemption', { customer: { source_id: member } });
    expect(viaTier.status).toBe(404);
    expect(await json(viaTier)).toMatchObject({ key: 'not_found', details: 'Cannot find promotion_tier with id PC-CODE' });
    // A retry with the same Idempotency-Key replays that answer, naming the kind asked for.
    const keyed = () =>
      api('POST', '/v1/redemptions', { redeemables: [tier('promo_NoSuchTierNoSuchTier0000')] }, { 'Idempotency-Key': 'pc-missing-tier' });
    const first = await json(await keyed());
    expect(first).toMatchObject({ code: 404, resource_type: 'promotion_tier' });
    expect(await json(await keyed())).toMatchObject({ code: 404, resource_type: 'promotion_tier', details: first.details });
    // Other kinds of redeemable are refused by name.
    const gift = await api('POST', '/v1/validations', { redeemables: [{ object: 'gift_card', id: 'X' }] });
    expect(gift.status).toBe(400);
  });

  it("a tier's change takes effect on the next request, and so does its campaign's end", async () => {
    const { member, tierId, campaign } = await segmentTier();
    const body = { customer: { source_id: member }, order: { amount: 10_000 } };
    expect((await stackable([tier(tierId)], body)).order.total_discount_amount).toBe(1000);
    await ok(api('PUT', `/v1/promotions/tiers/${tierId}`, { action: { discount: fiveOff } }));
    const after = await stackable([tier(tierId)], body);
    expect(after.redeemables[0].result.discount).toMatchObject(fiveOff);
    expect(after.order.total_discount_amount).toBe(500);
    await ok(api('PUT', `/v1/campaigns/${campaign.id}`, { expiration_date: new Date(Date.now() - 60_000).toISOString() }));
    const off = await stackable([tier(tierId)], body);
    expect(off.redeemables[0]).toMatchObject({ status: 'INAPPLICABLE', result: { error: { key: 'promotion_not_active' } } });
  });

  it('a tier switched off on its own is refused as a disabled promotion, promotion_inactive (errors.mdx:L97), until switched on', async () => {
    const { member, tierId } = await segmentTier();
    const body = { customer: { source_id: member }, order: { amount: 10_000 } };
    await ok(api('POST', `/v1/promotions/tiers/${tierId}/disable`));
    const off = await stackable([tier(tierId)], body);
    expect(off.redeemables[0]).toMatchObject({ status: 'INAPPLICABLE', result: { error: { key: 'promotion_inactive' } } });
    await ok(api('POST', `/v1/promotions/tiers/${tierId}/enable`));
    expect((await stackable([tier(tierId)], body)).redeemables[0].status).toBe('APPLICABLE');
  });
});

describe('redeeming a tier', () => {
  it('stackable redeem counts the tier; its redemption shows promotion_tier; rollback returns it', async () => {
    const { member, tierId, campaign } = await segmentTier();
    const redeemed = await ok(
      api('POST', '/v1/redemptions', { redeemables: [tier(tierId)], customer: { source_id: member }, order: { amount: 10_000 } }),
    );
    const child = redeemed.redemptions[0];
    expect(child).toMatchObject({
      result: 'SUCCESS',
      related_object_type: 'promotion_tier',
      related_object_id: tierId,
      voucher: null,
      promotion_tier: { id: tierId, name: expect.stringMatching(/^Gold /), banner: '10% for gold', campaign: { id: campaign.id } },
      order: { total_discount_amount: 1000 },
    });
    expect((await ok(api('GET', `/v1/redemptions/${child.id}`))).promotion_tier).toMatchObject({ id: tierId });
    const listed = await ok(api('GET', `/v1/redemptions?filters[related_object_id][conditions][$in][0]=${tierId}`));
    expect(listed.redemptions.some((r: Json) => r.id === child.id && r.promotion_tier?.id === tierId)).toBe(true);
    expect((await ok(api('GET', `/v1/promotions/tiers/${tierId}`))).summary.redemptions.total_redeemed).toBe(1);

    const rolled = await ok(api('POST', `/v1/redemptions/${redeemed.parent_redemption.id}/rollbacks`));
    expect(rolled.rollbacks[0]).toMatchObject({ related_object_type: 'promotion_tier', promotion_tier: { id: tierId } });
    expect((await ok(api('GET', `/v1/promotions/tiers/${tierId}`))).summary.redemptions.total_redeemed).toBe(0);
  });

  it('POST /v1/promotions/tiers/{id}/redemption redeems one tier, refusing a customer outside its segment', async () => {
    const { member, other, tierId } = await segmentTier();
    const redemption = await ok(
      api('POST', `/v1/promotions/tiers/${tierId}/redemption`, { customer: { source_id: member }, order: { amount: 2000 } }),
    );
    expect(redemption).toMatchObject({
      object: 'redemption',
      result: 'SUCCESS',
      related_object_type: 'promotion_tier',
      promotion_tier: { id: tierId },
      order: { amount: 2000, total_discount_amount: 200 },
    });
    const rollback = await ok(api('POST', `/v1/redemptions/${redemption.id}/rollback`));
    expect(rollback).toMatchObject({
      object: 'redemption_rollback',
      related_object_type: 'promotion_tier',
      promotion_tier: { id: tierId },
    });
    const refused = await api('POST', `/v1/promotions/tiers/${tierId}/redemption`, { customer: { source_id: other } });
    expect(refused.status).toBe(400);
    expect(await json(refused)).toMatchObject({ key: 'customer_rules_violated' });
  });
});

describe('POST /v1/promotions/validation and GET /client/v1/promotions/validation', () => {
  it('lists the active tiers that apply, most important hierarchy first', async () => {
    const { member, other, tierId, tiers } = await segmentTier(tenOff, [
      { name: 'Everyone', banner: '5 off', action: { discount: fiveOff }, hierarchy: 1 },
      { name: 'Switched off', action: { discount: fiveOff }, active: false },
    ]);
    const everyone = tiers.find((t) => t.name === 'Everyone')?.id;
    const body = { order: { amount: 10_000 } };
    const mine = await ok(api('POST', '/v1/promotions/validation', { ...body, customer: { source_id: member } }));
    expect(mine.valid).toBe(true);
    const ours = mine.promotions.filter((p: Json) => p.id === everyone || p.id === tierId);
    expect(ours.map((p: Json) => p.id)).toEqual([everyone, tierId]);
    expect(ours[1]).toMatchObject({
      object: 'promotion_tier',
      name: expect.stringMatching(/^Gold /),
      banner: '10% for gold',
      discount: tenOff,
      discount_amount: 1000,
      applied_discount_amount: 1000,
      metadata: { kind: 'gold' },
      order: { amount: 10_000, total_discount_amount: 1000, total_amount: 9000 },
    });
    expect(mine.promotions.some((p: Json) => p.name === 'Switched off')).toBe(false);
    const theirs = await ok(api('POST', '/v1/promotions/validation', { ...body, customer: { source_id: other } }));
    expect(theirs.promotions.map((p: Json) => p.id)).toContain(everyone);
    expect(theirs.promotions.map((p: Json) => p.id)).not.toContain(tierId);

    // The client key: the same judgement on what the client may claim; an unsigned source id is
    // not believed, so the segment's tier is not offered, the open one is; nothing stored shown.
    const res = await call(
      `/client/v1/promotions/validation?amount=10000&customer[source_id]=${member}&tracking_id=track_PromoClientClient00000`,
      {
        headers: CLIENT_HEADERS,
      },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const client = await json(res);
    expect(client.tracking_id).toBe('track_PromoClientClient00000');
    const clientIds = client.promotions.map((p: Json) => p.id);
    expect(clientIds).toContain(everyone);
    expect(clientIds).not.toContain(tierId);
    expect(client.promotions.every((p: Json) => p.order.customer_id === null && Object.keys(p.metadata).length === 0)).toBe(true);
  });
});

describe('the cost of judging tiers', () => {
  it('warm, every validate with tiers is one replica read and one queue send: no primary trip, no KV', async () => {
    const { member, tierId } = await segmentTier(tenOff, [{ name: 'Cost open', action: { discount: fiveOff } }]);
    const body = { customer: { source_id: member }, order: { amount: 10_000 }, tracking_id: 'track_PromoCostPromoCost0000' };
    const post = (path: string, payload: unknown) =>
      counted(path, { method: 'POST', headers: { ...SERVER_HEADERS, 'Content-Type': 'application/json' }, body: JSON.stringify(payload) });
    const warmOps = { d1_primary: 0, d1_replica: 1, kv_reads: 0, kv_writes: 0, queue_sends: 1 };

    // Cold: the customer is stored as sent, the definitions come from D1 and go to KV.
    const cold = await post('/v1/promotions/validation', body);
    expect((await json(cold.res)).valid).toBe(true);
    expect(cold.ops.kv_writes).toBeGreaterThanOrEqual(2);

    const warm = await post('/v1/promotions/validation', body);
    const answer = await json(warm.res);
    expect(answer.promotions.map((p: Json) => p.id)).toContain(tierId);
    expect(warm.ops).toEqual(warmOps);

    const stacked = await post('/v1/validations', { ...body, redeemables: [tier(tierId)] });
    expect((await json(stacked.res)).valid).toBe(true);
    expect(stacked.ops).toEqual(warmOps);

    const client = await counted('/client/v1/promotions/validation?amount=10000&tracking_id=track_PromoCostPromoCost0000', {
      headers: CLIENT_HEADERS,
    });
    expect((await json(client.res)).valid).toBe(true);
    expect(client.ops).toEqual(warmOps);
  });
});
