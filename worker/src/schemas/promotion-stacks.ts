import { z } from 'zod';
import { intParam, isoDateParam } from './common';
import { readOnly, strictObject, unsupported } from './vouchers';

/** OA PromotionStackBase.tiers: "A promotion stack can include up to 30 tiers" (readOnly-openAPI.json:L22336). */
export const MAX_TIERS_PER_STACK = 30;

const stackName = z.string().trim().min(1, 'must not be empty').max(200);

/** OA PromotionStackBase.tiers: the tier ids in the order their discounts apply; each once. */
const tiers = strictObject({
  ids: z
    .array(z.string().min(1).max(100))
    .min(1, 'must hold at least one tier id')
    .max(MAX_TIERS_PER_STACK, `a promotion stack holds at most ${MAX_TIERS_PER_STACK} tiers`)
    .superRefine((ids, ctx) => {
      const seen = new Set<string>();
      ids.forEach((id, i) => {
        if (seen.has(id)) ctx.addIssue({ code: 'custom', path: [i], message: `${id} is given more than once` });
        seen.add(id);
      });
    }),
  // OA: MANUAL is the only mode (the order of ids is the order of application).
  hierarchy_mode: z.literal('MANUAL', { error: 'must be MANUAL' }).nullable().optional(),
});

/**
 * POST /v1/promotions/{campaignId}/stacks (OA PromotionsStacksCreateRequestBody,
 * readOnly-openAPI.json:L22057; the SDK's PromotionsStacksCreateInCampaignRequestBody, which
 * requires name and tiers).
 */
export const stackCreateSchema = strictObject({
  name: stackName,
  tiers,
  category_id: unsupported('categories'),
});
export type StackCreate = z.output<typeof stackCreateSchema>;

/**
 * PUT /v1/promotions/{campaignId}/stacks/{stackId} (OA PromotionsStacksUpdateRequestBody,
 * readOnly-openAPI.json:L22179): the fields given; tiers, when given, replace the stack's list.
 * The read-only fields of a stack read back are accepted and ignored.
 */
export const stackUpdateSchema = strictObject({
  name: stackName.optional(),
  tiers: tiers.optional(),
  category_id: unsupported('categories'),
  id: readOnly,
  object: readOnly,
  campaign_id: readOnly,
  created_at: readOnly,
  updated_at: readOnly,
  categories: readOnly,
});
export type StackUpdate = z.output<typeof stackUpdateSchema>;

const beforeAfter = strictObject({ before: isoDateParam.optional(), after: isoDateParam.optional() });

/** GET /v1/promotions/stacks (OA list-all-promotion-stacks: limit, page, order, created_at, updated_at). */
export const stackListQuerySchema = strictObject({
  limit: intParam(1, 100).optional(),
  page: intParam(1, 1000).optional(),
  order: z.enum(['created_at', '-created_at', 'updated_at', '-updated_at', 'name', '-name']).optional(),
  created_at: beforeAfter.optional(),
  updated_at: beforeAfter.optional(),
}).transform((q) => ({
  limit: q.limit ?? 10,
  page: q.page ?? 1,
  order: q.order ?? '-created_at',
  created_at: q.created_at,
  updated_at: q.updated_at,
}));
export type StackListQuery = z.output<typeof stackListQuerySchema>;
