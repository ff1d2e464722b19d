import { type CampaignAssignmentRow, type CampaignRead, templateOf } from '../db/campaigns';
import type { TierRow } from '../db/promotion-tiers';
import type { AssignmentRow } from '../db/vouchers';
import { toIso } from '../lib/time';
import { tierList } from './promotion-tier';
import { rowToAssignment } from './voucher';

// The campaign object and its rule assignments, built from their rows.

const jsonOrNull = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

export const campaignAssignmentJson = (a: CampaignAssignmentRow) => ({
  ...rowToAssignment({
    id: a.id,
    rule_id: a.rule_id,
    related_object_type: 'campaign',
    related_object_id: a.campaign_id,
    created_at: a.created_at,
  } as AssignmentRow),
  related_object_type: 'campaign' as const,
});

/** A promotion campaign's tiers, with their rule assignments: its `promotion` list. */
export interface CampaignTiers {
  rows: TierRow[];
  assignments: AssignmentRow[];
}

/** What a campaign holds: the template of its codes, or (PROMOTION, migration 0030) its tiers. */
function campaignHolds(row: CampaignRead, tiers: CampaignTiers | undefined) {
  if (row.campaign_type === 'PROMOTION') {
    const { rows, assignments } = tiers ?? { rows: [], assignments: [] };
    // OA Campaign.promotion (readOnly-openAPI.json:L2058, PromotionTiersList); the spec's PROMOTION
    // example of POST /v1/campaigns (readOnly-openAPI.json:L38544) carries no `voucher`.
    return { promotion: tierList(rows, assignments, rows.length, false) };
  }
  const template = templateOf(row);
  const { length, charset, prefix, postfix, pattern } = template.code_config;
  return {
    voucher: {
      type: template.type,
      discount: template.discount,
      code_config: { length: length ?? [...pattern].filter((c) => c === '#').length, charset, prefix, postfix, pattern },
      redemption: { quantity: template.redemption.quantity },
      is_referral_code: false,
    },
  };
}

/**
 * The campaign object in the order of the spec's example (OA CampaignsCreateResponseBody,
 * readOnly-openAPI.json:L2068 CampaignBase). `tiers`: a PROMOTION campaign's (none given: listed empty).
 */
export function rowToCampaign(row: CampaignRead, assignments: CampaignAssignmentRow[], tiers?: CampaignTiers) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    campaign_type: row.campaign_type,
    type: row.type,
    ...campaignHolds(row, tiers),
    auto_join: false,
    join_once: row.join_once === 1,
    use_voucher_metadata_schema: false,
    start_date: row.start_date === null ? null : toIso(row.start_date),
    expiration_date: row.expiration_date === null ? null : toIso(row.expiration_date),
    validity_timeframe: jsonOrNull(row.validity_timeframe),
    validity_day_of_week: jsonOrNull(row.validity_day_of_week),
    validity_hours: jsonOrNull(row.validity_hours),
    vouchers_count: row.vouchers_count,
    active: row.active === 1,
    // Vouchsafe extension (migration 0031): its codes nobody holds are offered to anyone by qualifications.
    public: row.public === 1,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    created_at: toIso(row.created_at),
    updated_at: row.updated_at === null ? null : toIso(row.updated_at),
    category: null,
    category_id: null,
    categories: [],
    creation_status: row.generation_status,
    vouchers_generation_status: row.generation_status,
    // Not in the spec: how far generation got, for the progress the issue asks for.
    vouchers_generation_progress: { generated: row.generated_count, requested: row.generation_target },
    readonly: false,
    protected: false,
    validation_rules_assignments: {
      object: 'list' as const,
      data_ref: 'data' as const,
      data: assignments.map(campaignAssignmentJson),
      total: assignments.length,
    },
    object: 'campaign' as const,
  };
}

export type Campaign = ReturnType<typeof rowToCampaign>;
