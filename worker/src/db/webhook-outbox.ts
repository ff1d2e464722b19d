// The webhook outbox (migrations 0020, 0022): the rows its triggers write, and what the payload
// builder (services/webhook-payloads.ts) reads beside a row's snapshot.
import { assignmentsOfCampaign, type CampaignAssignmentRow, type CampaignRow } from './campaigns';
import type { CustomerRow } from './customers';
import { type TierRow, tiersOfCampaigns } from './promotion-tiers';
import { type AssignmentRow, findRule, TIER_TYPE } from './vouchers';

/** A row of webhook_outbox (migration 0020). */
export interface OutboxRow {
  seq: number;
  /** evt_…: the event's id, the `webhook-id` of every attempt. */
  id: string;
  type: string;
  object_id: string | null;
  /** JSON the trigger captured: the rows the event is about, by role (migration 0022). */
  snapshot: string | null;
  created_at: number;
  dispatched_at: number | null;
}

/** What a voucher's event shows beside the voucher itself, as it is now. */
export interface VoucherContext {
  campaign: CampaignRow | null;
  holder: CustomerRow | null;
  assignments: AssignmentRow[];
}

/**
 * The voucher's campaign, holder and rule assignments, in one batch. The campaign without its
 * vouchers_count: a count over a campaign's codes per event would make a 100,000-code generation's
 * events cost 100,000 × 100,000 row reads.
 */
export async function voucherContext(
  db: D1Database,
  ids: { campaignId: string | null; holderId: string | null; voucherId: string | null },
): Promise<VoucherContext> {
  const [campaign, holder, assignments] = await db.batch<Record<string, unknown>>([
    db.prepare('SELECT * FROM campaigns WHERE id = ?').bind(ids.campaignId),
    db.prepare('SELECT * FROM customers WHERE id = ?').bind(ids.holderId),
    db.prepare('SELECT * FROM validation_rule_assignments WHERE related_object_id = ? ORDER BY created_at, id').bind(ids.voucherId),
  ]);
  return {
    campaign: (campaign?.results[0] as unknown as CampaignRow | undefined) ?? null,
    holder: (holder?.results[0] as unknown as CustomerRow | undefined) ?? null,
    assignments: (assignments?.results ?? []) as unknown as AssignmentRow[],
  };
}

/** What a campaign's event shows beside the campaign itself, as it is now: its rule assignments, code count and tiers. */
export interface CampaignContext {
  assignments: CampaignAssignmentRow[];
  vouchersCount: number;
  tiers: { rows: TierRow[]; assignments: AssignmentRow[] };
}

/**
 * A campaign event's context, read when it is delivered. Campaign events are one per campaign write
 * (not per code), so the count over its codes is paid once per event, as GET /v1/campaigns/{id} pays it.
 */
export async function campaignContext(db: D1Database, campaignId: string, campaignType: string): Promise<CampaignContext> {
  const [assignments, count] = await db.batch<Record<string, unknown>>([
    assignmentsOfCampaign(db, campaignId),
    db.prepare('SELECT count(*) AS n FROM vouchers WHERE campaign_id = ? AND type != ?').bind(campaignId, TIER_TYPE),
  ]);
  return {
    assignments: (assignments?.results ?? []) as unknown as CampaignAssignmentRow[],
    vouchersCount: Number(count?.results[0]?.n ?? 0),
    tiers: campaignType === 'PROMOTION' ? await tiersOfCampaigns(db, [campaignId]) : { rows: [], assignments: [] },
  };
}

/** How many assignments a rule has now (0 once it is deleted). */
export async function ruleAssignmentsCount(db: D1Database, ruleId: string): Promise<number> {
  return (await findRule(db, ruleId))?.assignments ?? 0;
}
