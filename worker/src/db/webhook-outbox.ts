// The webhook outbox (migrations 0020, 0022): the rows its triggers write, and what the payload
// builder (services/webhook-payloads.ts) reads beside a row's snapshot.
import type { CampaignRow } from './campaigns';
import type { CustomerRow } from './customers';
import type { AssignmentRow } from './vouchers';

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
