import type { Pricing } from '../../../shared/discount';
import type { LoadedDefinition } from '../../../shared/voucher-definition';
import type { OfferRow } from '../db/qualifications';
import { toIso } from '../lib/time';
import type { ValidationContext } from '../schemas/checkout';
import { orderSummary } from './redemption';
import { applicability, STACKING_RULES } from './validation';

/** One offer that qualified: its live row, the definition it was judged by, and its pricing of the order. */
export interface QualifiedOffer {
  row: OfferRow;
  definition: LoadedDefinition;
  pricing: Pricing;
  discountAmount: number;
}

/**
 * What a promotion tier shows beyond a code (QualificationsRedeemableBase `name`, `banner`; SDK
 * types/Qualifications.d.ts QualificationsRedeemableBase): the one place that knows a tier's own
 * fields, read with the tier's live row (migration 0030), so they are those of the version judged.
 */
export function promotionTierFields(row: OfferRow): { name?: string; banner?: string } {
  return { ...(row.name !== null ? { name: row.name } : {}), ...(row.banner !== null ? { banner: row.banner } : {}) };
}

/**
 * What an answer may show: the server key sees everything; the public client key sees the voucher
 * metadata only when the operator opts in (CLIENT_VOUCHER_METADATA) and never the shop's rule ids,
 * as its validate answers never carry the rule assignments.
 */
export interface Shown {
  metadata: boolean;
  ruleIds: boolean;
}

const hasOrder = (context: ValidationContext): boolean => context.order != null || context.amount != null;

/**
 * One qualified redeemable in the field order of the spec's example (voucherify-openapi
 * documentation/openapi/qualifications.json:L100-L258, schema QualificationsRedeemableBase): a code is
 * `voucher` with its code as id, a tier `promotion_tier` with its tier id; `order` is the order with
 * this offer alone applied, as validate prices it.
 */
function redeemableView(offer: QualifiedOffer, context: ValidationContext, customerId: string | null, shown: Shown) {
  const { row, definition } = offer;
  const tier = row.type === 'PROMOTION_TIER';
  const rule = definition.rules[0];
  return {
    id: row.code,
    object: tier ? ('promotion_tier' as const) : ('voucher' as const),
    created_at: toIso(row.created_at),
    result: { discount: definition.voucher.discount },
    ...(hasOrder(context) ? { order: orderSummary(context.order, offer.pricing, customerId) } : {}),
    ...(rule && shown.ruleIds ? { validation_rule_id: rule.id } : {}),
    ...applicability(definition, context),
    metadata: shown.metadata ? definition.voucher.metadata : {},
    categories: [],
    ...(definition.voucher.campaign_id ? { campaign_id: definition.voucher.campaign_id } : {}),
    ...(definition.voucher.campaign ? { campaign_name: definition.voucher.campaign } : {}),
    ...(tier ? promotionTierFields(row) : {}),
  };
}

/**
 * The answer of POST /v1/qualifications (QualificationsCheckEligibilityResponseBody, L397-L438):
 * the page of qualified redeemables as a list whose `total` counts the ones returned (L700-L704),
 * `more_starting_after` only while there are more, the order as sent, and the stacking rules a
 * stackable validate of them would follow.
 */
export function qualificationView(
  page: { data: QualifiedOffer[]; hasMore: boolean; cursor: number | null },
  context: ValidationContext,
  base: Pricing,
  trackingId: string,
  customerId: string | null,
  shown: Shown,
) {
  const data = page.data.map((offer) => redeemableView(offer, context, customerId, shown));
  return {
    redeemables: {
      object: 'list' as const,
      data_ref: 'data' as const,
      data,
      total: data.length,
      has_more: page.hasMore,
      ...(page.cursor !== null ? { more_starting_after: toIso(page.cursor) } : {}),
    },
    tracking_id: trackingId,
    ...(hasOrder(context) ? { order: orderSummary(context.order, base, customerId) } : {}),
    stacking_rules: STACKING_RULES,
  };
}
