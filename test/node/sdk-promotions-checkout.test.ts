import { VoucherifyClientSide, type VoucherifyServerSide } from '@voucherify/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signClaim } from '../../shared/identity';
import { TEST_ENV } from '../test-env';
import { type LocalWorker, startLocalWorker } from './support/local-worker';
import { loose, serverSdk } from './support/server-sdk';

/**
 * Promotion tiers at checkout through the official SDK, unchanged:
 * - validations.validateStackable / redemptions.redeemStackable with `promotion_tier` redeemables
 *   (POST /v1/validations, /v1/redemptions; OA production/readOnly-openAPI.json request example
 *   "5 Redeemables" L33123-L33160, the "False" answer with a SKIPPED promotion_tier L33197-L33220,
 *   an APPLICABLE promotion_tier L33505-L33600);
 * - promotions.validate (POST /promotions/validation, voucherifysdk.esm.js:828; answer
 *   types/Promotions.d.ts:77 PromotionsValidateResponse);
 * - promotions.tiers.redeem (POST /promotions/tiers/{id}/redemption, voucherifysdk.esm.js:784;
 *   answer types/PromotionTiers.d.ts:74, its `promotion_tier`);
 * - redemptions.rollbackStackable, and the client SDK's validate without a code
 *   (GET /client/v1/promotions/validation, voucherifysdk.esm.js:2099).
 */
let worker: LocalWorker;
let sdk: ReturnType<typeof VoucherifyServerSide>;
let goldTier: string;
let openTier: string;

const percent = { type: 'PERCENT', percent_off: 10, effect: 'APPLY_TO_ORDER' } as const;
const amount = { type: 'AMOUNT', amount_off: 500, effect: 'APPLY_TO_ORDER' } as const;
const ORIGIN = 'https://shop.example';

beforeAll(async () => {
  worker = await startLocalWorker();
  sdk = serverSdk(worker);
  const gold = await sdk.customers.create({ source_id: 'sdk-pc-gold', metadata: { tier: 'gold' } });
  await sdk.customers.create({ source_id: 'sdk-pc-plain', metadata: { tier: 'plain' } });
  const segment = await sdk.segments.create(loose({ name: 'sdk-pc-gold', type: 'static', customers: [(gold as { id: string }).id] }));
  const rule = await sdk.validationRules.create(
    loose({ name: 'sdk-pc gold only', rules: { '1': { name: 'customer.segment', conditions: { $is: [segment.id] } }, logic: '1' } }),
  );
  await sdk.vouchers.create(loose({ code: 'SDK-PC-FIVE', type: 'DISCOUNT_VOUCHER', discount: amount }));
  const campaign = await sdk.promotions.create(
    loose({
      name: 'SDK checkout promotion',
      campaign_type: 'PROMOTION',
      promotion: {
        tiers: [
          { name: 'Gold 10%', banner: '10% for gold', action: { discount: percent }, validation_rules: [rule.id], hierarchy: 2 },
          { name: 'Everyone 5', banner: '5 off', action: { discount: amount }, hierarchy: 1 },
        ],
      },
    }),
  );
  const tiers = (await sdk.promotions.tiers.list(campaign.id as string)).tiers as { id: string; name: string }[];
  goldTier = tiers.find((t) => t.name === 'Gold 10%')?.id as string;
  openTier = tiers.find((t) => t.name === 'Everyone 5')?.id as string;
});
afterAll(() => worker?.stop());

/** OA PromotionTier.summary, which the SDK's PromotionTier type leaves out. */
const totalRedeemed = (t: unknown) => (t as { summary: { redemptions: { total_redeemed: number } } }).summary.redemptions.total_redeemed;
const tier = (id: string) => ({ object: 'promotion_tier', id }) as const;

describe('@voucherify/sdk promotion tiers at checkout against Vouchsafe', () => {
  it("a segment's tier applies to a member's cart and not to another's (validateStackable)", async () => {
    const order = { amount: 10_000 };
    const mine = await sdk.validations.validateStackable(
      loose({ redeemables: [tier(goldTier)], customer: { source_id: 'sdk-pc-gold' }, order }),
    );
    expect(mine.valid).toBe(true);
    expect(mine.redeemables?.[0]).toMatchObject({
      status: 'APPLICABLE',
      object: 'promotion_tier',
      id: goldTier,
      result: { discount: percent },
    });
    const theirs = await sdk.validations.validateStackable(
      loose({ redeemables: [tier(goldTier)], customer: { source_id: 'sdk-pc-plain' }, order }),
    );
    expect(theirs.valid).toBe(false);
    expect(theirs.redeemables?.[0]).toMatchObject({ status: 'INAPPLICABLE', object: 'promotion_tier', id: goldTier });
  });

  it('a code and a tier in one stackable validate are both answered', async () => {
    const answer = await sdk.validations.validateStackable(
      loose({
        redeemables: [{ object: 'voucher', id: 'SDK-PC-FIVE' }, tier(goldTier)],
        customer: { source_id: 'sdk-pc-gold' },
        order: { amount: 10_000 },
      }),
    );
    expect(answer.valid).toBe(true);
    expect(answer.redeemables?.map((r) => [r.object, r.id, r.status])).toEqual([
      ['voucher', 'SDK-PC-FIVE', 'APPLICABLE'],
      ['promotion_tier', goldTier, 'APPLICABLE'],
    ]);
    expect(answer.order).toMatchObject({ amount: 10_000, total_discount_amount: 1500 });
  });

  it("the spec's False example: the unknown voucher INAPPLICABLE, the tier SKIPPED", async () => {
    const answer = await sdk.validations.validateStackable(
      loose({ redeemables: [{ object: 'voucher', id: 'eee33463' }, tier(openTier)], customer: { source_id: 'sdk-pc-gold' } }),
    );
    expect(answer.valid).toBe(false);
    expect(answer.redeemables).toMatchObject([
      {
        status: 'INAPPLICABLE',
        id: 'eee33463',
        object: 'voucher',
        result: { error: { code: 404, key: 'not_found', resource_type: 'voucher' } },
      },
      { status: 'SKIPPED', id: openTier, object: 'promotion_tier' },
    ]);
  });

  it('redeemStackable counts a tier and rollbackStackable returns it', async () => {
    const redeemed = await sdk.redemptions.redeemStackable(
      loose({ redeemables: [tier(goldTier)], customer: { source_id: 'sdk-pc-gold' }, order: { amount: 10_000 } }),
    );
    const child = redeemed.redemptions[0] as Record<string, any>;
    expect(child).toMatchObject({
      result: 'SUCCESS',
      related_object_type: 'promotion_tier',
      promotion_tier: { id: goldTier, name: 'Gold 10%' },
    });
    expect(totalRedeemed(await sdk.promotions.tiers.get(goldTier))).toBe(1);
    const rolled = await sdk.redemptions.rollbackStackable(redeemed.parent_redemption.id);
    expect(rolled.rollbacks[0]).toMatchObject({ related_object_type: 'promotion_tier' });
    expect(totalRedeemed(await sdk.promotions.tiers.get(goldTier))).toBe(0);
  });

  it('promotions.validate lists the tiers that apply, most important first; tiers.redeem redeems one', async () => {
    const mine = await sdk.promotions.validate({ customer: { source_id: 'sdk-pc-gold' }, order: { amount: 10_000 } });
    expect(mine.valid).toBe(true);
    expect(mine.promotions?.map((p) => [p.id, p.name, p.banner, p.hierarchy])).toEqual([
      [openTier, 'Everyone 5', '5 off', 1],
      [goldTier, 'Gold 10%', '10% for gold', 2],
    ]);
    expect(mine.promotions?.[1]).toMatchObject({ object: 'promotion_tier', discount: percent, discount_amount: 1000 });
    const theirs = await sdk.promotions.validate({ customer: { source_id: 'sdk-pc-plain' }, order: { amount: 10_000 } });
    expect(theirs.promotions?.map((p) => p.id)).toEqual([openTier]);

    const redemption = await sdk.promotions.tiers.redeem(
      goldTier,
      loose({ customer: { source_id: 'sdk-pc-gold' }, order: { amount: 2000 } }),
    );
    expect(redemption).toMatchObject({ object: 'redemption', result: 'SUCCESS', promotion_tier: { id: goldTier } });
    expect(redemption.order).toMatchObject({ total_discount_amount: 200 });
    await expect(sdk.promotions.tiers.redeem(goldTier, loose({ customer: { source_id: 'sdk-pc-plain' } }))).rejects.toMatchObject({
      code: 400,
      key: 'customer_rules_violated',
    });
  });

  it("the client SDK's validate without a code asks for the promotions: a signed customer gets its segment's tier", async () => {
    const client = (signature?: string) =>
      VoucherifyClientSide({
        clientApplicationId: TEST_ENV.CLIENT_APP_ID,
        clientSecretKey: TEST_ENV.CLIENT_TOKEN,
        apiUrl: worker.url,
        origin: ORIGIN,
        ...(signature ? { customHeaders: { 'X-Vouchsafe-Identity-Signature': signature } } : {}),
      });
    const params = { amount: 10_000, customer: { source_id: 'sdk-pc-gold' } };
    const unsigned = (await client().validate(loose(params))) as Record<string, any>;
    expect(unsigned.promotions.map((p: { id: string }) => p.id)).toEqual([openTier]);
    const signature = await signClaim(TEST_ENV.IDENTITY_SECRET, 'source_id', 'sdk-pc-gold');
    const signed = (await client(signature).validate(loose(params))) as Record<string, any>;
    expect(signed.promotions.map((p: { id: string }) => p.id)).toEqual([openTier, goldTier]);
    expect(JSON.stringify(signed)).not.toContain('cust_');
  });
});
