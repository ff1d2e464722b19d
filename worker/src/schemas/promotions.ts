import { z } from 'zod';
import { intParam } from './common';
import { metadataSchema } from './customers';
import { discountSchema, readOnly, strictObject, unsupported, validityFields } from './vouchers';

/** Tiers one promotion campaign may hold (Voucherify's dashboard stops far below; a bound keeps a campaign's read one page). */
export const MAX_TIERS_PER_CAMPAIGN = 100;

const datesInOrder = (v: { start_date?: number | null; expiration_date?: number | null }) =>
  !v.start_date || !v.expiration_date || v.start_date < v.expiration_date;
const timeframeHasStart = (v: { validity_timeframe?: unknown; start_date?: number | null }) => !v.validity_timeframe || !!v.start_date;

const tierName = z.string().trim().min(1, 'must not be empty').max(200);
const banner = z.string().max(1000).nullable().optional();
// OA PromotionTier.hierarchy: the order in which tiers' discounts apply; 1 first.
const hierarchy = z.number().int('must be an integer').min(1).max(1_000_000);
const action = strictObject({ discount: discountSchema });

/**
 * OA PromotionTierCreateParams (readOnly-openAPI.json:L22749): a tier of POST /v1/campaigns
 * (promotion.tiers[]) and of POST /v1/promotions/{campaignId}/tiers. The spec marks nothing
 * required; a tier without a name or a discount would be nothing a shop could show or apply, so
 * both are required here.
 */
export const tierCreateSchema = strictObject({
  name: tierName,
  banner,
  action,
  metadata: metadataSchema.nullable().optional(),
  validation_rules: z.array(z.string().min(1).max(100)).max(10).nullable().optional(),
  active: z.boolean().nullable().optional(),
  hierarchy: hierarchy.nullable().optional(),
  ...validityFields,
  category: unsupported('categories'),
  category_id: unsupported('categories'),
})
  .refine(datesInOrder, { message: 'must be after start_date', path: ['expiration_date'] })
  .refine(timeframeHasStart, { message: 'required with validity_timeframe (its windows count from it)', path: ['start_date'] });
export type TierCreate = z.output<typeof tierCreateSchema>;

/**
 * PUT /v1/promotions/tiers/{id} (OA PromotionTierUpdate, readOnly-openAPI.json
 * PromotionsTiersUpdateRequestBody). The SDK's tiers.update sends the tier's `id` in the body
 * (PromotionTiersUpdateParams); it and the read-only fields of a tier read back are ignored.
 */
export const tierUpdateSchema = strictObject({
  name: tierName.optional(),
  banner,
  action: action.optional(),
  metadata: metadataSchema.nullable().optional(),
  hierarchy: hierarchy.optional(),
  active: z.boolean().optional(),
  ...validityFields,
  id: readOnly,
  object: readOnly,
  created_at: readOnly,
  updated_at: readOnly,
  campaign: readOnly,
  campaign_id: readOnly,
  promotion_id: readOnly,
  summary: readOnly,
  validation_rule_assignments: readOnly,
  categories: readOnly,
  category: unsupported('categories'),
  category_id: unsupported('categories'),
}).refine(datesInOrder, { message: 'must be after start_date', path: ['expiration_date'] });
export type TierUpdate = z.output<typeof tierUpdateSchema>;

/** GET /v1/promotions/tiers (OA list-promotion-tiers: is_available, limit, page, order). */
export const tierListQuerySchema = strictObject({
  is_available: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
  limit: intParam(1, 100).optional(),
  page: intParam(1, 1000).optional(),
  order: z.enum(['created_at', '-created_at', 'updated_at', '-updated_at']).optional(),
}).transform((q) => ({
  available: q.is_available === 'true',
  limit: q.limit ?? 10,
  page: q.page ?? 1,
  order: q.order ?? 'created_at',
}));
export type TierListQuery = z.output<typeof tierListQuerySchema>;

/**
 * POST /v1/campaigns with campaign_type PROMOTION (OA CampaignsCreatePromotionCampaign,
 * readOnly-openAPI.json:L2559; the SDK's PromotionsCreate, types/Promotions.d.ts). The campaign's
 * own validation_rules apply to every tier, as a code campaign's apply to its codes.
 */
export const promotionCampaignCreateSchema = strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(200),
  description: z.string().max(1000).nullable().optional(),
  campaign_type: z.literal('PROMOTION'),
  type: z.literal('STATIC', { error: 'a promotion campaign is STATIC' }).nullable().optional(),
  join_once: z.boolean().nullable().optional(),
  ...validityFields,
  active: z.boolean().optional(),
  metadata: metadataSchema.nullable().optional(),
  validation_rules: z.array(z.string().min(1).max(100)).max(10).nullable().optional(),
  promotion: strictObject({ tiers: z.array(tierCreateSchema).max(MAX_TIERS_PER_CAMPAIGN).nullable().optional() })
    .nullable()
    .optional(),
  category: unsupported('categories'),
  category_id: unsupported('categories'),
  access_settings: unsupported('access settings'),
  activity_duration_after_publishing: unsupported('activity_duration_after_publishing'),
  auto_join: z.literal(false, { error: 'not supported: auto_join (loyalty campaigns)' }).nullable().optional(),
  use_voucher_metadata_schema: z.boolean().nullable().optional().describe('accepted; no metadata schemas here'),
})
  .refine(datesInOrder, { message: 'must be after start_date', path: ['expiration_date'] })
  .refine(timeframeHasStart, { message: 'required with validity_timeframe (its windows count from it)', path: ['start_date'] });
export type PromotionCampaignCreate = z.output<typeof promotionCampaignCreateSchema>;
