import type { VoucherifyServerSide } from '@voucherify/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalWorker, startLocalWorker } from './support/local-worker';
import { loose, serverSdk } from './support/server-sdk';

/**
 * Promotion stacks through the official SDK, unchanged: promotions.stack.* (PromotionsStacks.d.ts:9-29;
 * the paths in voucherifysdk.esm.js:1831-1880: GET/POST /promotions/{campaignId}/stacks,
 * GET/PUT/DELETE /promotions/{campaignId}/stacks/{stackId}, GET /promotions/stacks), answers of the
 * SDK's PromotionStack (types/PromotionsStacks.d.ts:78) and PromotionsStacksListResponseBody (:8);
 * validations.validateStackable with a `promotion_stack` redeemable (StackableRedeemableObject,
 * types/Stackable.d.ts:14), answered as its tiers (OA production/readOnly-openAPI.json
 * StackableValidateRedeemBase.redeemables L28540: a stack is sent alone).
 */
let worker: LocalWorker;
let sdk: ReturnType<typeof VoucherifyServerSide>;
let campaignId: string;
let tenTier: string;
let fiveTier: string;

const percent = { type: 'PERCENT', percent_off: 10, effect: 'APPLY_TO_ORDER' } as const;
const amount = { type: 'AMOUNT', amount_off: 500, effect: 'APPLY_TO_ORDER' } as const;

beforeAll(async () => {
  worker = await startLocalWorker();
  sdk = serverSdk(worker);
  const campaign = await sdk.promotions.create(
    loose({
      name: 'SDK stacks promotion',
      campaign_type: 'PROMOTION',
      promotion: {
        tiers: [
          { name: 'Ten percent', action: { discount: percent } },
          { name: 'Five off', action: { discount: amount } },
        ],
      },
    }),
  );
  campaignId = campaign.id as string;
  const tiers = (await sdk.promotions.tiers.list(campaignId)).tiers as { id: string; name: string }[];
  tenTier = tiers.find((t) => t.name === 'Ten percent')?.id as string;
  fiveTier = tiers.find((t) => t.name === 'Five off')?.id as string;
});
afterAll(() => worker?.stop());

describe('promotions.stack through the official SDK', () => {
  it('createInCampaign, get, listInCampaign, list, update and delete', async () => {
    const created = await sdk.promotions.stack.createInCampaign(campaignId, {
      name: 'SDK stack',
      tiers: { ids: [fiveTier, tenTier], hierarchy_mode: 'MANUAL' },
    });
    expect(created).toMatchObject({
      id: expect.stringMatching(/^stack_/),
      name: 'SDK stack',
      campaign_id: campaignId,
      object: 'promotion_stack',
      tiers: { ids: [fiveTier, tenTier], hierarchy_mode: 'MANUAL' },
      category_id: null,
      categories: [],
    });
    expect(await sdk.promotions.stack.get(campaignId, created.id)).toEqual(created);
    const inCampaign = await sdk.promotions.stack.listInCampaign(campaignId);
    expect(inCampaign).toMatchObject({ object: 'list', data_ref: 'data', total: 1 });
    expect(inCampaign.data[0]?.id).toBe(created.id);
    const all = await sdk.promotions.stack.list({ limit: 100, order: '-created_at' });
    expect(all).toMatchObject({ object: 'list', data_ref: 'data' });
    expect(all.data.map((s) => s.id)).toContain(created.id);

    const updated = await sdk.promotions.stack.update(campaignId, created.id, { name: 'SDK stack v2', tiers: { ids: [tenTier] } });
    expect(updated).toMatchObject({ id: created.id, name: 'SDK stack v2', updated_at: expect.any(String), tiers: { ids: [tenTier] } });

    expect(await sdk.promotions.stack.delete(campaignId, created.id)).toBeFalsy();
    await expect(sdk.promotions.stack.get(campaignId, created.id)).rejects.toMatchObject({ code: 404, key: 'not_found' });
    expect((await sdk.promotions.stack.listInCampaign(campaignId)).total).toBe(0);
  });

  it('refuses a stack of an unknown tier with the error object the SDK raises', async () => {
    await expect(
      sdk.promotions.stack.createInCampaign(campaignId, { name: 'bad', tiers: { ids: ['promo_missing'] } }),
    ).rejects.toMatchObject({ code: 404, key: 'not_found', details: 'Cannot find promotion_tier with id promo_missing' });
  });

  it('validateStackable with a promotion_stack answers its tiers, each discount on the order', async () => {
    const stack = await sdk.promotions.stack.createInCampaign(campaignId, {
      name: 'SDK checkout stack',
      tiers: { ids: [tenTier, fiveTier] },
    });
    const answer = await sdk.validations.validateStackable({
      redeemables: [{ object: 'promotion_stack', id: stack.id }],
      order: { amount: 10_000 },
    });
    expect(answer.valid).toBe(true);
    expect(answer.redeemables?.map((r) => [r.object, r.id, r.status])).toEqual([
      ['promotion_tier', tenTier, 'APPLICABLE'],
      ['promotion_tier', fiveTier, 'APPLICABLE'],
    ]);
    expect(answer.order).toMatchObject({ amount: 10_000, total_discount_amount: 1500, total_amount: 8500 });

    const redeemed = await sdk.redemptions.redeemStackable(
      loose({ redeemables: [{ object: 'promotion_stack', id: stack.id }], order: { amount: 10_000 } }),
    );
    expect((redeemed as unknown as { redemptions: { related_object_id: string }[] }).redemptions.map((r) => r.related_object_id)).toEqual([
      tenTier,
      fiveTier,
    ]);
  });
});
