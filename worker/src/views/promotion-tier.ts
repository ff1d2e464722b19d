import type { AssignmentRow } from '../db/vouchers';
import { parseDiscount } from '../db/vouchers';
import type { TierRow } from '../db/promotion-tiers';
import { toIso } from '../lib/time';
import { rowToAssignment } from './voucher';

// The promotion tier object and tier lists, built from their rows (db/promotion-tiers.ts).

const isoOrNull = (ms: number | null) => (ms === null ? null : toIso(ms));
const jsonOrNull = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

/**
 * OA PromotionTier (readOnly-openAPI.json:L22449) in the field order of the spec's example (GET
 * /v1/promotions/{campaignId}/tiers, readOnly-openAPI.json:L40696; PUT …/tiers/{id}'s example
 * gives the tier's own dates and windows, and the assignment list). The SDK's PromotionTier
 * (types/PromotionTiers.d.ts) reads the same fields.
 */
export function rowToTier(row: TierRow, assignments: AssignmentRow[]) {
  return {
    id: row.id,
    created_at: toIso(row.created_at),
    updated_at: isoOrNull(row.updated_at),
    name: row.name,
    banner: row.banner,
    action: { discount: parseDiscount(row.discount) },
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    hierarchy: row.hierarchy,
    promotion_id: row.campaign_id,
    campaign: {
      id: row.campaign_id,
      start_date: isoOrNull(row.campaign_start_date),
      expiration_date: isoOrNull(row.campaign_expiration_date),
      validity_timeframe: jsonOrNull(row.campaign_validity_timeframe),
      validity_day_of_week: jsonOrNull(row.campaign_validity_day_of_week),
      validity_hours: jsonOrNull(row.campaign_validity_hours),
      active: row.campaign_active === 1,
      category_id: null,
      object: 'campaign' as const,
    },
    campaign_id: row.campaign_id,
    active: row.active === 1,
    start_date: isoOrNull(row.start_date),
    expiration_date: isoOrNull(row.expiration_date),
    validity_timeframe: jsonOrNull(row.validity_timeframe),
    validity_day_of_week: jsonOrNull(row.validity_day_of_week),
    validity_hours: jsonOrNull(row.validity_hours),
    summary: {
      redemptions: { total_redeemed: row.redeemed_quantity },
      orders: { total_amount: row.orders_total_amount, total_discount_amount: row.orders_total_discount_amount },
    },
    object: 'promotion_tier' as const,
    validation_rule_assignments: {
      object: 'list' as const,
      data_ref: 'data' as const,
      data: assignments.map(rowToAssignment),
      total: assignments.length,
    },
    category_id: null,
    categories: [],
  };
}

export type PromotionTier = ReturnType<typeof rowToTier>;

/** OA PromotionTiersList (readOnly-openAPI.json PromotionsTiersListResponseBody): the tier list of a campaign or of all. */
export function tierList(rows: TierRow[], assignments: AssignmentRow[], total: number, hasMore: boolean) {
  return {
    object: 'list' as const,
    data_ref: 'tiers' as const,
    tiers: rows.map((row) =>
      rowToTier(
        row,
        assignments.filter((a) => a.related_object_id === row.id),
      ),
    ),
    total,
    has_more: hasMore,
  };
}
