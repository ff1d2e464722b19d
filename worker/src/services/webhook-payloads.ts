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
import type { RedemptionRow } from '../db/redemptions';
import { type VoucherRow } from '../db/vouchers';
import { type OutboxRow, voucherContext } from '../db/webhook-outbox';
import { toIso } from '../lib/time';
import { customerJson, redemptionView } from '../views/redemption';
import { getAsyncAction } from './async-actions';
import { rowToVoucher } from '../views/voucher';
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
  const campaign: Record<string, unknown> = { ...rowToCampaign({ ...row, vouchers_count: 0 }, []), is_referral_code: false };
  return Object.fromEntries(SIMPLE_CAMPAIGN_KEYS.map((key) => [key, campaign[key] ?? null]));
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
 * `redemption_rollback` the rollback; the top-level order is the rollback's (CANCELED).
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
  return { voucher: rowToVoucher(voucher, context.assignments), campaign: simpleCampaign(voucher, context.campaign) };
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
  'voucher.created': voucherData,
  'voucher.updated': voucherData,
  'voucher.deleted': voucherData,
  'async_action.done': asyncActionData,
};

const isEventType = (type: string): type is WebhookEventType => Object.hasOwn(EVENT_DATA, type);

/**
 * The body of an outbox event: the same for every endpoint and every attempt, except for what it
 * reads as context (see the top of this file). Voucherify's envelope also carries project_id,
 * source (the endpoint) and event (OpenAPIWebhooks project-settings-webhooks.mdx "Project setting
 * webhook payload"); here the endpoint is the receiver's own URL and the event's id is the
 * Standard Webhooks `webhook-id`, so the envelope is the event itself.
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
