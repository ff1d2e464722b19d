// The body of each webhook event, in Voucherify's shapes where Voucherify has the event. WH =
// reference/OpenAPIWebhooks.json of voucherifyio/voucherify-openapi (Voucherify's webhook reference): `webhooks["EVENTS.…"]` gives
// each event's data schema, `components.schemas` the objects inside. The objects are the ones our
// API answers with (rowToCustomer, rowToVoucher, redemptionView, rowToCampaign), so a receiver
// parses one shape for both.
//
// Where the data comes from, per type (the table below): the delivery is at least once and may
// come minutes later, after more writes or a deletion. An event says what happened, so the object
// it is about comes from the snapshot its trigger took in the write's own statement (migration
// 0022): the customer as created, as updated by that write, as it was when it entered the segment;
// the redemption, its voucher and customer as that redemption left them. What is only context
// (the voucher's campaign, its holder, its rule assignments; an async action's final report) is
// read as it is at delivery.

import type { WebhookEventType } from '../../../shared/webhook-events';
import { type CampaignRow } from '../db/campaigns';
import { type CustomerRow } from '../db/customers';
import type { PublicationRow } from '../db/publications';
import type { RedemptionRow } from '../db/redemptions';
import { type AssignmentRow, type RuleRow, type VoucherRow } from '../db/vouchers';
import { campaignContext, type OutboxRow, ruleAssignmentsCount, voucherContext } from '../db/webhook-outbox';
import { toIso } from '../lib/time';
import { customerJson, redemptionView } from '../views/redemption';
import { getAsyncAction } from './async-actions';
import { rowToRule, rowToVoucher } from '../views/voucher';
import { rowToCampaign } from '../views/campaign';
import { rowToCustomer } from '../views/customer';

export type { OutboxRow } from '../db/webhook-outbox';

/** The envelope: the event's id (also the `webhook-id` header), type, time and data. */
export interface WebhookPayload {
  id: string;
  type: string;
  created_at: string;
  object: 'event';
  data: Record<string, unknown>;
}

/** A snapshot (migration 0022): rows by role, each with exactly its table's columns. */
interface Snapshot {
  customer?: CustomerRow | null;
  voucher?: VoucherRow | null;
  redemption?: RedemptionRow | null;
  /** A rollback's redemption, as it was before the rollback. */
  rolled_back?: RedemptionRow | null;
  segment?: { id: string; name: string } | null;
  /** voucher.published, publication.succeeded (migration 0034): the publication that took the unit. */
  publication?: PublicationRow | null;
  /** campaign.* (migration 0034). */
  campaign?: CampaignRow | null;
  /** business_validation_rule.* (migration 0034). */
  rule?: RuleRow | null;
}

type DataBuilder = (db: D1Database, snapshot: Snapshot, event: OutboxRow) => Promise<Record<string, unknown>>;

/** A snapshot row the trigger always takes; its absence is a broken outbox row, not a state to shape. */
function required<T>(value: T | null | undefined, role: string, event: OutboxRow): T {
  if (value == null) throw new Error(`webhook event ${event.id} (${event.type}) has no ${role} in its snapshot`);
  return value;
}

/** WH SimpleCampaign (L9081): the campaign object's fields that it lists. */
const SIMPLE_CAMPAIGN_KEYS = [
  'id',
  'name',
  'campaign_type',
  'type',
  'is_referral_code',
  'voucher',
  'auto_join',
  'join_once',
  'active',
  'category_id',
  'category',
  'categories',
  'metadata',
  'start_date',
  'expiration_date',
  'description',
  'created_at',
  'updated_at',
  'object',
] as const;

/**
 * The voucher's campaign as WH SimpleCampaign; a campaign deleted since (its codes' voucher.deleted,
 * fired by the cascade) is named by what the voucher kept of it.
 */
function simpleCampaign(voucher: VoucherRow, row: CampaignRow | null): Record<string, unknown> | null {
  if (voucher.campaign_id === null) return null;
  if (row === null) return { id: voucher.campaign_id, name: voucher.campaign, object: 'campaign' };
  const full = rowToCampaign({ ...row, vouchers_count: 0 }, []);
  const campaign: Record<string, unknown> = {
    ...full,
    is_referral_code: false,
    // WH SimpleCampaignVoucher (L9081 → voucher) requires redemption.redeemed_quantity beside quantity:
    // the template itself is never redeemed (each code counts its own), as Voucherify's
    // voucher.published example shows it (project-settings-webhooks.mdx: `redeemed_quantity: 0`).
    ...(full.voucher ? { voucher: { ...full.voucher, redemption: { ...full.voucher.redemption, redeemed_quantity: 0 } } } : {}),
  };
  return Object.fromEntries(SIMPLE_CAMPAIGN_KEYS.map((key) => [key, campaign[key] ?? null]));
}

/**
 * WH BusValRuleAssignment (L495) requires validation_status and validation_omitted_rules beside what
 * our API answers: every rule of ours applies to the object it is assigned to, whole, so each
 * assignment is VALID with no rule omitted.
 */
const webhookAssignment = <T extends object>(assignment: T) => ({
  ...assignment,
  validation_status: 'VALID' as const,
  validation_omitted_rules: [] as string[],
});

/** WH Voucher (L11370) with its assignments as WH BusValRuleAssignment. */
function webhookVoucher(row: VoucherRow, assignments: AssignmentRow[]) {
  const voucher = rowToVoucher(row, assignments);
  const list = voucher.validation_rules_assignments;
  return list ? { ...voucher, validation_rules_assignments: { ...list, data: list.data.map(webhookAssignment) } } : voucher;
}

/** WH EventCustomerCreatedData / UpdatedData / DeletedData (L4015, L4069, L4202): `{customer}`, WH CustomerWithSummaryLoyaltyReferrals. */
const customerData: DataBuilder = async (_db, snapshot, event) => ({
  customer: rowToCustomer(required(snapshot.customer, 'customer', event)),
});

/** WH EventCustomerSegmentEnteredData (L4983) / LeftData: `{customer, segment}`, segment as WH SimpleSegment (L10302). */
const segmentData: DataBuilder = async (_db, snapshot, event) => {
  const segment = required(snapshot.segment, 'segment', event);
  return {
    customer: rowToCustomer(required(snapshot.customer, 'customer', event)),
    segment: { id: segment.id, name: segment.name, object: 'segment' },
  };
};

/**
 * WH EventCustomerRedemption (L4555), the data of redemption.succeeded (EventRedemptionSucceededData
 * L5700) and redemption.failed (L5511): customer and holder as WH SimpleCustomer, the order, the
 * campaign, the voucher or the promotion tier and the redemption as our API answers them
 * (views/redemption.ts). `created_at`: when the redemption was made.
 */
async function redemptionParts(db: D1Database, snapshot: Snapshot, row: RedemptionRow) {
  const customer = snapshot.customer ?? null;
  const voucher = snapshot.voucher ?? null;
  const context = await voucherContext(db, {
    campaignId: voucher?.campaign_id ?? null,
    holderId: voucher?.holder_id ?? null,
    voucherId: null,
  });
  const related = {
    customers: new Map(customer ? [[customer.id, customer]] : []),
    vouchers: new Map(voucher ? [[voucher.id, voucher]] : []),
  };
  const view = (r: RedemptionRow) => redemptionView(r, related);
  const redemption = view(row);
  return {
    view,
    data: {
      customer: redemption.customer,
      order: redemption.order,
      campaign: voucher ? simpleCampaign(voucher, context.campaign) : null,
      voucher: redemption.voucher,
      holder: customerJson(context.holder ?? undefined),
      // A promotion tier's redemption (migration 0030: a tier is a row of vouchers) names the tier here and no voucher.
      promotion_tier: redemption.promotion_tier ?? null,
    },
    redemption,
  };
}

const redemptionData: DataBuilder = async (db, snapshot, event) => {
  const row = required(snapshot.redemption, 'redemption', event);
  const { data, redemption } = await redemptionParts(db, snapshot, row);
  return { ...data, redemption, created_at: redemption.date };
};

/**
 * WH EventRedemptionRollbackSucceededData (L5638): EventCustomerRedemption whose `redemption` is the
 * redemption rolled back, as it was (the example at L12691: status SUCCEEDED, order PAID), and
 * `redemption_rollback` the rollback; the top-level order is the rollback's (CANCELED). Also WH
 * EventRedemptionRollbackFailedData (L5576), the same shape: `redemption` is the redemption the
 * failed rollback names (ROLLED_BACK already, as the example at L12916 shows it), the order null
 * (a failure has none).
 */
const rollbackData: DataBuilder = async (db, snapshot, event) => {
  const rollback = required(snapshot.redemption, 'redemption', event);
  const { data, view, redemption } = await redemptionParts(db, snapshot, rollback);
  const rolledBack = snapshot.rolled_back ? view(snapshot.rolled_back) : null;
  return { ...data, redemption: rolledBack, redemption_rollback: redemption };
};

/** WH EventVoucherCreatedData / UpdatedData / DeletedData (L5819, L6732, L5880): `{voucher, campaign}`, WH Voucher and SimpleCampaign. */
const voucherData: DataBuilder = async (db, snapshot, event) => {
  const voucher = required(snapshot.voucher, 'voucher', event);
  const context = await voucherContext(db, { campaignId: voucher.campaign_id, holderId: null, voucherId: voucher.id });
  return { voucher: webhookVoucher(voucher, context.assignments), campaign: simpleCampaign(voucher, context.campaign) };
};

/**
 * WH EventPublicationBase (the data of voucher.published, EventVoucherPublishedData, and of
 * publication.succeeded, EventPublicationSucceededData): the holder as WH SimpleCustomer, the
 * campaign, the publication as WH ListPublicationsItemBase (its customer in full, as the spec
 * requires) and the voucher as it was published.
 */
async function publicationParts(db: D1Database, snapshot: Snapshot, event: OutboxRow) {
  const voucher = required(snapshot.voucher, 'voucher', event);
  const publication = required(snapshot.publication, 'publication', event);
  const customer = snapshot.customer ?? null;
  const context = await voucherContext(db, { campaignId: voucher.campaign_id, holderId: null, voucherId: voucher.id });
  return {
    customer: customerJson(customer ?? undefined),
    campaign: simpleCampaign(voucher, context.campaign),
    publication: {
      id: publication.id,
      object: 'publication' as const,
      created_at: toIso(publication.created_at),
      customer_id: publication.customer_id,
      // As POST /v1/publications answers it: the customer's source id (services/publications.ts).
      tracking_id: customer?.source_id ?? null,
      metadata: JSON.parse(publication.metadata) as Record<string, unknown>,
      channel: publication.channel,
      source_id: publication.source_id,
      result: 'SUCCESS' as const,
      customer: customer ? rowToCustomer(customer) : null,
      vouchers_id: [publication.voucher_id],
    },
    voucher: webhookVoucher(voucher, context.assignments),
  };
}

/** WH EventVoucherPublishedData (L6667): EventPublicationBase and `created_at`, the publication's time. */
const publishedData: DataBuilder = async (db, snapshot, event) => {
  const parts = await publicationParts(db, snapshot, event);
  return { ...parts, created_at: parts.publication.created_at };
};

/** WH EventPublicationSucceededData (L5441): EventPublicationBase and `user`, null for a publication through the API. */
const publicationData: DataBuilder = async (db, snapshot, event) => ({ ...(await publicationParts(db, snapshot, event)), user: null });

/** WH Campaign (L579): the campaign as GET /v1/campaigns/{id} answers it, its assignments as WH BusValRuleAssignment. */
async function webhookCampaign(db: D1Database, row: CampaignRow) {
  const context = await campaignContext(db, row.id, row.campaign_type);
  const campaign = rowToCampaign({ ...row, vouchers_count: context.vouchersCount }, context.assignments, context.tiers);
  const list = campaign.validation_rules_assignments;
  return { ...campaign, validation_rules_assignments: { ...list, data: list.data.map(webhookAssignment) } };
}

/**
 * WH EventCampaignCreatedData (L3561, + created_at), UpdatedData (L3895), EnabledData (L3738),
 * DisabledData (L3683), DeletedData (L3622, + deleted_at): `{campaign}`, WH Campaign, as the write
 * left it; its assignments, code count and tiers as they are at delivery (none once deleted).
 */
const campaignData: DataBuilder = async (db, snapshot, event) => {
  const campaign = await webhookCampaign(db, required(snapshot.campaign, 'campaign', event));
  if (event.type === 'campaign.created') return { campaign, created_at: campaign.created_at };
  if (event.type === 'campaign.deleted') return { campaign, deleted_at: toIso(event.created_at) };
  return { campaign };
};

/**
 * WH EventBusValRuleCreatedData (L3378, + created_at), UpdatedData (L3500, + updated_at), DeletedData
 * (L3439, + deleted_at): `{rule}`, WH ValidationRule, as GET /v1/validation-rules/{id} answers it.
 */
const ruleData: DataBuilder = async (db, snapshot, event) => {
  const row = required(snapshot.rule, 'rule', event);
  const rule = rowToRule(row, await ruleAssignmentsCount(db, row.id));
  if (event.type === 'business_validation_rule.created') return { rule, created_at: rule.created_at };
  if (event.type === 'business_validation_rule.updated') return { rule, updated_at: rule.updated_at ?? toIso(event.created_at) };
  return { rule, deleted_at: toIso(event.created_at) };
};

/** Vouchsafe's own (Voucherify has no such webhook): the action as GET /v1/async-actions/{id} answers, read when delivered (a DONE action no longer changes). */
const asyncActionData: DataBuilder = async (db, _snapshot, event) => ({
  async_action: await getAsyncAction(db, required(event.object_id, 'object_id', event)),
});

/** How each event type's data is built: one entry per type of the catalogue (shared/webhook-events.ts). */
const EVENT_DATA: Record<WebhookEventType, DataBuilder> = {
  'customer.created': customerData,
  'customer.updated': customerData,
  'customer.deleted': customerData,
  'customer.segment.entered': segmentData,
  'customer.segment.left': segmentData,
  'redemption.succeeded': redemptionData,
  'redemption.failed': redemptionData,
  'redemption.rollback.succeeded': rollbackData,
  'redemption.rollback.failed': rollbackData,
  'voucher.created': voucherData,
  'voucher.updated': voucherData,
  'voucher.deleted': voucherData,
  'voucher.enabled': voucherData,
  'voucher.disabled': voucherData,
  'voucher.published': publishedData,
  'publication.succeeded': publicationData,
  'campaign.created': campaignData,
  'campaign.updated': campaignData,
  'campaign.enabled': campaignData,
  'campaign.disabled': campaignData,
  'campaign.deleted': campaignData,
  'business_validation_rule.created': ruleData,
  'business_validation_rule.updated': ruleData,
  'business_validation_rule.deleted': ruleData,
  'async_action.done': asyncActionData,
};

const isEventType = (type: string): type is WebhookEventType => Object.hasOwn(EVENT_DATA, type);

/**
 * The body of an outbox event: the same for every endpoint and every attempt, except for what it
 * reads as context (see the top of this file). This is the `standard` format's whole body; the
 * `voucherify` format wraps the same type and data in Voucherify's envelope (voucherifyEnvelope).
 */
export async function webhookPayload(db: D1Database, event: OutboxRow): Promise<WebhookPayload> {
  if (!isEventType(event.type)) throw new Error(`webhook event ${event.id} has an unknown type ${event.type}`);
  const snapshot = (event.snapshot === null ? {} : JSON.parse(event.snapshot)) as Snapshot;
  return {
    id: event.id,
    type: event.type,
    created_at: toIso(event.created_at),
    object: 'event',
    data: await EVENT_DATA[event.type](db, snapshot, event),
  };
}

/** The envelope's project_id when WEBHOOK_PROJECT_ID is not set. */
export const DEFAULT_PROJECT_ID = 'proj_vouchsafe';

/** Where a `voucherify`-format delivery goes: what its envelope names besides the event. */
export interface VoucherifySendOut {
  /** The delivery's id (whd_…): one per event and endpoint, the same on every retry, as Voucherify's send-out id. */
  sendId: string;
  projectId: string;
  endpointId: string;
  url: string;
  /** The object the event is about (the outbox row's object_id). */
  entityId: string | null;
}

/**
 * Voucherify's webhook envelope (voucherify-openapi documentation/api-reference/project-settings-webhooks.mdx,
 * "Project setting webhook payload"; introduction-to-webhooks.mdx "Voucherify webhook structure": id,
 * project_id, created_at, type, data, source, event) around the same `type` and `data` the standard
 * format sends. `event.id` is the outbox event's id (the same for every endpoint), `id` the send-out
 * (the delivery). What the outbox does not know is null, never made up: `group_id` (the request
 * that caused the event: a trigger sees no request); the channel is always API (every write comes
 * through the API, its jobs or its queue; there is no dashboard user).
 */
export function voucherifyEnvelope(payload: WebhookPayload, to: VoucherifySendOut) {
  return {
    id: to.sendId,
    project_id: to.projectId,
    created_at: payload.created_at,
    type: payload.type,
    data: payload.data,
    source: { id: to.endpointId, object: 'webhook' as const, target_url: to.url },
    event: {
      id: payload.id,
      type: payload.type,
      created_at: payload.created_at,
      entity_id: to.entityId,
      group_id: null,
      event_source: { channel: 'API' as const },
    },
  };
}
