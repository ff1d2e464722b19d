import { parseTierIds, type StackRow } from '../db/promotion-stacks';
import { toIso } from '../lib/time';

// The promotion stack object and stack lists, built from their rows (db/promotion-stacks.ts).

/**
 * OA PromotionStack (readOnly-openAPI.json:L22279) in the field order of the spec's examples (GET
 * /v1/promotions/{campaignId}/stacks/{stackId}, readOnly-openAPI.json:L41760-L41780): updated_at
 * only once the stack was changed, as there. category_id and categories are the SDK's
 * PromotionStack fields (types/PromotionsStacks.d.ts:78); no categories here.
 */
export function rowToStack(row: StackRow) {
  return {
    id: row.id,
    name: row.name,
    created_at: toIso(row.created_at),
    ...(row.updated_at === null ? {} : { updated_at: toIso(row.updated_at) }),
    campaign_id: row.campaign_id,
    object: 'promotion_stack' as const,
    tiers: { ids: parseTierIds(row), hierarchy_mode: row.hierarchy_mode as 'MANUAL' },
    category_id: null,
    categories: [] as never[],
  };
}

export type PromotionStack = ReturnType<typeof rowToStack>;

/** OA PromotionsStacksListResponseBody (readOnly-openAPI.json:L22139): both stack lists. */
export const stackList = (rows: StackRow[], total: number) => ({
  object: 'list' as const,
  data_ref: 'data' as const,
  data: rows.map(rowToStack),
  total,
});
