import type { Env } from '../env';
import type { ValidationContext } from '../schemas/checkout';
import { type ApplicableTier, promotionValidationView } from '../views/promotion-validation';
import { type OfferRow, offerRows } from '../db/qualifications';
import { offerDefinitions } from './offer-definitions';
import { judgeCode, readVisit, type ValidateOptions } from './validation';
import { redeem, type RedeemRequest } from './redeem';

// Promotion tiers at checkout: which code-less promotions apply to a customer and an order, and the
// redemption of one. A tier is a row of `vouchers` (migration 0030), so it is read with the visitor,
// its definition comes from this isolate or KV by version, and judgeCode judges it as a code.

/**
 * POST /v1/promotions/validation and GET /client/v1/promotions/validation: every tier, judged for
 * the visitor and the order. The tiers' live rows come in the visitor read itself, as a
 * qualification reads its candidates (db/qualifications.ts offerRows: no extra round trip, a
 * replica may serve it), their definitions as one entry by the versions read
 * (services/offer-definitions.ts); the tiers that apply are recorded as validation attempts, as a
 * stackable validate records its redeemables.
 */
export async function validatePromotions(env: Env, context: ValidationContext, options: ValidateOptions = {}) {
  const now = Date.now();
  const liveVouchers = offerRows({ tiers: true, publicCodes: false, wallet: false });
  const visit = await readVisit(env, [], context, { ...options, liveVouchers }, now);
  const { subject } = visit;
  const rows = [...subject.vouchers.values()] as OfferRow[];
  const definitions = await offerDefinitions(env, rows, () => true);
  const applicable: ApplicableTier[] = [];
  const judged = rows.map(({ code: id }) => {
    const definition = definitions.get(id) ?? null;
    const judgement = judgeCode(id, definition, subject, context, now, null, 'promotion_tier');
    if (judgement.valid && definition) applicable.push({ definition, pricing: judgement.pricing });
    return { code: id, judgement };
  });
  await visit.record(judged.filter((j) => j.judgement.valid));
  // Most important first: the lower hierarchy (OA PromotionTier.hierarchy), then the tier id, so
  // that tiers of one hierarchy in several campaigns keep one order.
  applicable.sort(
    (a, b) =>
      (a.definition.voucher.tier?.hierarchy ?? Number.MAX_SAFE_INTEGER) -
        (b.definition.voucher.tier?.hierarchy ?? Number.MAX_SAFE_INTEGER) ||
      (a.definition.voucher.id < b.definition.voucher.id ? -1 : a.definition.voucher.id > b.definition.voucher.id ? 1 : 0),
  );
  return {
    body: promotionValidationView(applicable, context, visit.trackingId, subject.customer?.id ?? null),
    trackingId: visit.trackingId,
  };
}

/** POST /v1/promotions/tiers/{id}/redemption: one tier redeemed as POST /v1/vouchers/{code}/redemption redeems a code. */
export function redeemTier(env: Env, request: Omit<RedeemRequest, 'route' | 'caller' | 'codes' | 'kinds'> & { tierId: string }) {
  const { tierId, ...rest } = request;
  return redeem(env, { ...rest, route: 'voucher', caller: 'server', codes: [tierId], kinds: ['promotion_tier'] });
}
