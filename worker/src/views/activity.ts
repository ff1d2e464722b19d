import type { Customer, CustomerActivitiesList, CustomerActivity, CustomerActivityList } from '../../../shared/types';
import type { ActivityRow } from '../db/activity';
import { toIso } from '../lib/time';
import { orderSnapshotView } from './order';

// The customer activity feed in the OA's shapes: CustomerActivity (OA:L4638) puts the event data
// object of each type under `data.data` (OA CustomerActivityData): EventCustomerCustomEvent
// (OA:L7429), EventCustomerSegmentEntered/Left, EventCustomerCreated, EventCustomerRedemption….
// The customer inside is the customer as stored now (Vouchsafe keeps no snapshot per event).

/** OA SimpleCustomer. */
const simpleCustomer = (c: Customer) => ({
  id: c.id,
  name: c.name,
  email: c.email,
  source_id: c.source_id,
  metadata: c.metadata,
  object: 'customer' as const,
});

interface RedemptionDetail {
  voucher_id: string | null;
  code: string;
  tracking_id: string | null;
  order: Record<string, unknown>;
  metadata: Record<string, unknown>;
  result: 'SUCCESS' | 'FAILURE';
  failure_code: string | null;
  failure_message: string | null;
  /** A rollback's reason (migration 0006). */
  reason: string | null;
  /** What a rollback rolled back, or a failed one tried to (migration 0035). */
  rollback_of: string | null;
  parent_id: string | null;
}

/** OA EventCustomerRedemption (and …RollbackSucceeded, which adds redemption_rollback). */
function redemptionData(row: ActivityRow, customer: Customer): Record<string, unknown> {
  const detail = JSON.parse(row.detail ?? '{}') as RedemptionDetail;
  const voucher = { ...(detail.voucher_id ? { id: detail.voucher_id } : {}), code: detail.code, object: 'voucher' as const };
  // OA SimpleRedemption, as the redemption stood when this activity happened.
  const common = {
    customer_id: customer.id,
    tracking_id: detail.tracking_id,
    order: detail.order,
    customer: simpleCustomer(customer),
    voucher,
    metadata: detail.metadata,
    ...(detail.parent_id ? { redemption: detail.parent_id } : {}),
  };
  const data: Record<string, unknown> = { customer: simpleCustomer(customer), order: detail.order, voucher };
  if (row.type === 'customer.redemption.rollback.succeeded' || row.type === 'customer.redemption.rollback.failed') {
    // Only a successful redemption can be rolled back (services/rollback.ts); a failed rollback
    // (migration 0035) is one of a redemption rolled back already.
    const succeeded = detail.result === 'SUCCESS';
    data.redemption = { id: detail.rollback_of, ...common, result: 'SUCCESS', object: 'redemption' };
    data.redemption_rollback = {
      id: row.id,
      ...common,
      date: toIso(row.created_at),
      result: detail.result,
      status: succeeded ? 'SUCCEEDED' : 'FAILED',
      ...(succeeded ? {} : { failure_code: detail.failure_code, failure_message: detail.failure_message }),
      ...(detail.reason ? { reason: detail.reason } : {}),
      redemption: detail.rollback_of,
      object: 'redemption_rollback',
    };
    // A failed rollback has no order (WH redemption.rollback.failed example, OpenAPIWebhooks.json L12942: order null).
    if (!succeeded) data.order = null;
  } else {
    const succeeded = detail.result === 'SUCCESS';
    data.redemption = {
      id: row.id,
      ...common,
      date: toIso(row.created_at),
      result: detail.result,
      status: succeeded ? 'SUCCEEDED' : 'FAILED',
      ...(succeeded ? {} : { failure_code: detail.failure_code, failure_message: detail.failure_message }),
      object: 'redemption',
    };
  }
  return data;
}

export function activityView(row: ActivityRow, customer: Customer): CustomerActivity {
  let data: Record<string, unknown>;
  switch (row.type) {
    case 'customer.custom_event': {
      const metadata = JSON.parse(row.detail ?? '{}') as Record<string, unknown>;
      data = {
        // OA CustomEvent.
        event: {
          id: row.id,
          object: 'event',
          type: row.name,
          customer: { id: customer.id, object: 'customer' },
          referral: null,
          loyalty: null,
          metadata,
          created_at: toIso(row.created_at),
        },
        // OA SimpleCustomEvent: Vouchsafe keeps no event schemas, so it has the name only.
        event_schema: { name: row.name },
        customer: simpleCustomer(customer),
        referral: null,
        loyalty: null,
      };
      break;
    }
    case 'customer.segment.entered':
    case 'customer.segment.left': {
      const { segment } = JSON.parse(row.detail ?? '{}') as { segment: { id: string; name: string } };
      data = { customer, segment: { id: segment.id, name: segment.name, object: 'segment' } };
      break;
    }
    case 'customer.created':
      data = { customer };
      break;
    case 'customer.order.created':
    case 'customer.order.updated':
    case 'customer.order.paid':
    case 'customer.order.canceled':
    case 'customer.order.fulfilled':
      // OA EventCustomerOrder: the customer, and the order as it was when this happened.
      data = { customer: simpleCustomer(customer), order: orderSnapshotView(row.detail ?? '{}') };
      break;
    default:
      data = redemptionData(row, customer);
  }
  return { id: row.id, type: row.type, data: { data }, created_at: toIso(row.created_at) };
}

/** GET /v1/customers/{id}/activity: a page, and where the next one starts when there is more. */
export function activityListView(data: CustomerActivity[], hasMore: boolean): CustomerActivityList {
  const list: CustomerActivityList = { object: 'list', data_ref: 'data', data, has_more: hasMore };
  if (hasMore) list.more_starting_after = data.at(-1)?.id;
  return list;
}

/** GET /v1/customers/{id}/activities (deprecated): a page and the total. */
export const activitiesListView = (data: CustomerActivity[], total: number): CustomerActivitiesList => ({
  object: 'list',
  data_ref: 'data',
  data,
  total,
});
