import { type PromotionTier, VoucherifyServerSide } from '@voucherify/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalWorker, startLocalWorker } from './support/local-worker';
import { loose, serverSdk } from './support/server-sdk';

/**
 * Promotions through the official SDK, unchanged:
 * - promotions.create (node_modules/@voucherify/sdk/dist/Promotions.d.ts:13; POST /v1/campaigns in
 *   voucherifysdk.esm.js:820) with campaign_type PROMOTION and promotion.tiers (types/Promotions.d.ts
 *   PromotionsCreate; OA CampaignsCreatePromotionCampaign, production/readOnly-openAPI.json:L2559,
 *   PromotionTierCreateParams L22749), answered as OA Campaign with `promotion` a PromotionTiersList
 *   (L2058; the PROMOTION example of POST /v1/campaigns, L38544);
 * - promotions.tiers.create / get / list / listAll / update / delete (dist/PromotionTiers.d.ts; paths
 *   voucherifysdk.esm.js:752-800: /promotions/{id}/tiers, /promotions/tiers[/{id}]), answered as OA
 *   PromotionTier (L22449; the SDK's types/PromotionTiers.d.ts PromotionTier) and PromotionTiersList
 *   (L22834, example L40696).
 */
let worker: LocalWorker;
let sdk: ReturnType<typeof VoucherifyServerSide>;

beforeAll(async () => {
  worker = await startLocalWorker();
  sdk = serverSdk(worker);
});
afterAll(() => worker?.stop());

const percent = { type: 'PERCENT', percent_off: 10, effect: 'APPLY_TO_ORDER' } as const;
const amount = { type: 'AMOUNT', amount_off: 1000, effect: 'APPLY_TO_ORDER' } as const;

describe('@voucherify/sdk promotions against Vouchsafe', () => {
  it('promotions.create makes a PROMOTION campaign with its tiers; tiers.create adds one, tiers.get reads it', async () => {
    const rule = await sdk.validationRules.create(
      loose({ name: 'sdk-promo-min-order', rules: { '1': { name: 'order.amount', conditions: { $more_than: [5000] } }, logic: '1' } }),
    );
    const campaign = await sdk.promotions.create(
      loose({
        name: 'SDK promotion',
        campaign_type: 'PROMOTION',
        start_date: '2026-01-01T00:00:00.000Z',
        expiration_date: '2099-01-01T00:00:00.000Z',
        promotion: {
          tiers: [
            {
              name: '10% for all',
              banner: 'Get 10% off',
              action: { discount: percent },
              metadata: { level: 'A' },
              validity_day_of_week: [1, 2, 3, 4, 5],
            },
            {
              name: '$10 over $50',
              banner: '$10 off orders over $50',
              action: { discount: amount },
              validation_rules: [rule.id],
              hierarchy: 5,
              start_date: '2026-02-01T00:00:00.000Z',
              expiration_date: '2098-01-01T00:00:00.000Z',
            },
          ],
        },
      }),
    );
    expect(campaign).toMatchObject({
      name: 'SDK promotion',
      campaign_type: 'PROMOTION',
      type: 'STATIC',
      start_date: '2026-01-01T00:00:00.000Z',
      expiration_date: '2099-01-01T00:00:00.000Z',
      active: true,
      object: 'campaign',
      promotion: { object: 'list', data_ref: 'tiers', has_more: false },
    });
    expect(campaign).not.toHaveProperty('voucher');
    const tiers = campaign.promotion.tiers!;
    // Tiers without a hierarchy are numbered after those that name one, in the order given.
    expect(tiers.map((t) => [t.name, t.hierarchy])).toEqual([
      ['$10 over $50', 5],
      ['10% for all', 6],
    ]);
    const [gated, open] = tiers as [(typeof tiers)[0], (typeof tiers)[0]];
    expect(open.id).toMatch(/^promo_[0-9A-Za-z]{24}$/);
    expect(open).toMatchObject({
      object: 'promotion_tier',
      name: '10% for all',
      banner: 'Get 10% off',
      action: { discount: percent },
      metadata: { level: 'A' },
      active: true,
      campaign: { id: campaign.id, object: 'campaign', active: true, start_date: '2026-01-01T00:00:00.000Z' },
      campaign_id: campaign.id,
      promotion_id: campaign.id,
      validity_day_of_week: [1, 2, 3, 4, 5],
      summary: { redemptions: { total_redeemed: 0 }, orders: { total_amount: 0, total_discount_amount: 0 } },
      validation_rule_assignments: { object: 'list', data_ref: 'data', data: [], total: 0 },
    });
    expect(gated).toMatchObject({
      start_date: '2026-02-01T00:00:00.000Z',
      expiration_date: '2098-01-01T00:00:00.000Z',
      validation_rule_assignments: {
        total: 1,
        data: [
          { rule_id: rule.id, related_object_id: gated.id, related_object_type: 'promotion_tier', object: 'validation_rules_assignment' },
        ],
      },
    });

    const added = await sdk.promotions.tiers.create(
      campaign.id,
      loose({ name: 'Third', banner: 'Third tier', action: { discount: amount } }),
    );
    expect(added).toMatchObject({ object: 'promotion_tier', name: 'Third', hierarchy: 7, campaign_id: campaign.id, active: true });
    const got = await sdk.promotions.tiers.get(added.id);
    expect(got).toEqual(added);
    expect(await sdk.promotions.tiers.get(open.id)).toMatchObject({ id: open.id, name: '10% for all' });
    // The campaign reads back with all its tiers in hierarchy order (GET /v1/campaigns/{id}).
    const read = (await sdk.campaigns.get(campaign.id)) as unknown as typeof campaign;
    expect(read.promotion.tiers!.map((t) => t.id)).toEqual([gated.id, open.id, added.id]);
  });

  it('tiers.listAll, tiers.list, tiers.update, tiers.delete; a rule assigned with createAssignment({promotion_tier})', async () => {
    const campaign = await sdk.promotions.create(
      loose({
        name: 'SDK promotion 2',
        campaign_type: 'PROMOTION',
        promotion: {
          tiers: [
            { name: 'One', banner: 'One', action: { discount: amount } },
            { name: 'Two', banner: 'Two', action: { discount: percent }, active: false },
          ],
        },
      }),
    );
    const [one, two] = campaign.promotion.tiers! as [PromotionTier, PromotionTier];
    // PromotionTiersListAllResponse (types/PromotionTiers.d.ts): object, data_ref 'tiers', tiers, has_more.
    const listed = await sdk.promotions.tiers.list(campaign.id);
    expect(listed).toMatchObject({ object: 'list', data_ref: 'tiers', has_more: false });
    expect(listed.tiers.map((t) => t.id)).toEqual([one.id, two.id]);
    const available = await sdk.promotions.tiers.listAll({ is_available: true, limit: 100 });
    expect(available.tiers.map((t) => t.id)).toContain(one.id);
    expect(available.tiers.map((t) => t.id)).not.toContain(two.id);
    const firstPage = await sdk.promotions.tiers.listAll({ limit: 1, page: 1 });
    expect(firstPage).toMatchObject({ object: 'list', data_ref: 'tiers', has_more: true });
    expect(firstPage.tiers).toHaveLength(1);

    // The SDK sends the whole params, id included, as the PUT body (voucherifysdk.esm.js:792).
    const updated = await sdk.promotions.tiers.update(
      loose({
        id: two.id,
        name: 'Two renamed',
        action: { discount: amount },
        metadata: { v: 2 },
      }),
    );
    expect(updated).toMatchObject({ id: two.id, name: 'Two renamed', banner: 'Two', action: { discount: amount }, metadata: { v: 2 } });
    expect(await sdk.promotions.tiers.get(two.id)).toEqual(updated);

    const rule = await sdk.validationRules.create(
      loose({ name: 'sdk-tier-rule', rules: { '1': { name: 'order.amount', conditions: { $more_than: [100] } }, logic: '1' } }),
    );
    const assignment = await sdk.validationRules.createAssignment(rule.id, { promotion_tier: one.id });
    expect(assignment).toMatchObject({ rule_id: rule.id, related_object_id: one.id, related_object_type: 'promotion_tier' });
    expect((await sdk.promotions.tiers.get(one.id)).validation_rule_assignments).toMatchObject({ total: 1, data: [{ id: assignment.id }] });

    // OA DELETE /v1/promotions/tiers/{id}: 204, no content.
    await sdk.promotions.tiers.delete(two.id);
    await expect(sdk.promotions.tiers.get(two.id)).rejects.toMatchObject({ code: 404 });
    expect((await sdk.promotions.tiers.list(campaign.id)).tiers.map((t) => t.id)).toEqual([one.id]);
    // A tier is never a voucher (GET /v1/vouchers/{code}).
    await expect(sdk.vouchers.get(one.id)).rejects.toMatchObject({ code: 404 });
  });

  it('refuses what a tier cannot be, by name, and an unknown tier or campaign is a 404', async () => {
    await expect(sdk.promotions.tiers.get('promo_missing')).rejects.toMatchObject({ code: 404, key: 'not_found' });
    await expect(sdk.promotions.tiers.create('camp_missing', loose({ name: 'x', action: { discount: amount } }))).rejects.toMatchObject({
      code: 404,
    });
    await expect(
      sdk.promotions.create(
        loose({ name: 'SDK bad promotion', campaign_type: 'PROMOTION', promotion: { tiers: [{ name: 'no discount' }] } }),
      ),
    ).rejects.toMatchObject({ code: 400, details: expect.stringContaining('promotion.tiers[0].action') });
    await expect(
      sdk.promotions.create(
        loose({
          name: 'SDK bad rule',
          campaign_type: 'PROMOTION',
          promotion: { tiers: [{ name: 'x', action: { discount: amount }, validation_rules: ['val_missing'] }] },
        }),
      ),
    ).rejects.toMatchObject({ code: 404 });
    // Nothing half-written: the refused campaign does not exist.
    await expect(sdk.campaigns.get('SDK bad rule')).rejects.toMatchObject({ code: 404 });
  });
});
