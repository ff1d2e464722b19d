import { type Pricing, totalDiscount } from '../../../shared/discount';
import type { LoadedDefinition } from '../../../shared/voucher-definition';
import { toIso } from '../lib/time';
import type { ValidationContext } from '../schemas/checkout';
import { orderSummary } from './redemption';

// The answer of POST /v1/promotions/validation and GET /client/v1/promotions/validation.

/** One promotion tier that applies, with what it does to the order on its own. */
export interface ApplicableTier {
  definition: LoadedDefinition;
  pricing: Pricing;
}

const isoOrNull = (ms: number | null) => (ms === null ? null : toIso(ms));

/**
 * The shape of the official SDK's PromotionsValidateResponse (types/Promotions.d.ts:77): `valid`
 * when at least one tier applies, `promotions` the tiers that apply, most important hierarchy
 * first, each with its name, banner, discount, what it takes off the order alone (`discount_amount`,
 * `applied_discount_amount`) and that order.
 */
export function promotionValidationView(
  tiers: ApplicableTier[],
  context: ValidationContext,
  trackingId: string,
  customerId: string | null,
) {
  return {
    valid: tiers.length > 0,
    promotions: tiers.map(({ definition, pricing }) => {
      const { voucher } = definition;
      const discountAmount = totalDiscount(pricing);
      return {
        id: voucher.id,
        object: 'promotion_tier' as const,
        name: voucher.tier?.name ?? null,
        banner: voucher.tier?.banner ?? null,
        start_date: isoOrNull(voucher.start_date),
        expiration_date: isoOrNull(voucher.expiration_date),
        discount: voucher.discount,
        discount_amount: discountAmount,
        applied_discount_amount: discountAmount,
        metadata: voucher.metadata,
        order: orderSummary(context.order ?? (context.amount != null ? { amount: context.amount } : undefined), pricing, customerId),
        hierarchy: voucher.tier?.hierarchy ?? null,
        campaign_id: voucher.campaign_id ?? null,
      };
    }),
    tracking_id: trackingId,
  };
}
