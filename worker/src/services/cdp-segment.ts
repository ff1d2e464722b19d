import type { Customer, EventResponse } from '../../../shared/types';
import type { Env } from '../env';
import { parseInput } from '../lib/parse-input';
import { ORDER_COMPLETED, type SegmentGroup, type SegmentIdentify, segmentOrderCompletedSchema } from '../schemas/cdp-segment';
import type { EventCreate } from '../schemas/events';
import { upsertCustomerBySourceId } from './customers';
import { trackEvent } from './events';
import { createOrder } from './orders';

/**
 * What Segment's "Voucherify (Actions)" destination (and PostHog, which runs it) means by its four
 * calls, on the one customer upsert and the one event path of the API. Traits and group traits
 * name only what changed, so their metadata is merged into the customer's (RFC 7396) rather than
 * replacing it as POST /v1/customers does.
 */

/** The customer metadata key a group call writes under: `metadata.groups.<group id>` holds that group's traits. */
export const GROUPS_METADATA_KEY = 'groups';

/** identify → the customer upserted by source_id, its metadata merged. */
export const identify = (db: D1Database, input: SegmentIdentify): Promise<Customer> =>
  upsertCustomerBySourceId(db, input.sourceId, input.write, input.metadata);

/**
 * track / page / screen → a custom event, as POST /v1/events records it (customer upserted, counted
 * in segments). An `Order Completed` track with an `order_id` is also the customer's order, PAID,
 * as POST /v1/orders writes it (upserted by the order_id as source_id, so Segment's retries count
 * it once): its summary.orders.* and the segments that read them follow, and its products count
 * in `orders.products.<id>.count`. Its properties are checked before anything is written.
 */
export async function track(env: Pick<Env, 'DB' | 'WRITES' | 'TRACKING_SECRET'>, input: EventCreate): Promise<EventResponse> {
  const order = input.event === ORDER_COMPLETED && input.metadata?.order_id !== undefined ? orderOf(input) : null;
  if (order) await createOrder(env, order);
  return trackEvent(env, input);
}

function orderOf(input: EventCreate): Parameters<typeof createOrder>[1] {
  const { metadata } = parseInput(segmentOrderCompletedSchema, { metadata: input.metadata });
  const items = (metadata.products ?? []).map((p) => ({
    ...(p.product_id != null ? { source_id: p.product_id, related_object: 'product' as const } : {}),
    ...(p.sku != null ? { sku: { source_id: p.sku } } : {}),
    ...(p.price != null ? { price: p.price } : {}),
    ...(p.quantity != null ? { quantity: p.quantity } : {}),
  }));
  const amount = metadata.total ?? metadata.revenue ?? undefined;
  return {
    source_id: metadata.order_id,
    status: 'PAID',
    ...(amount !== undefined ? { amount } : {}),
    ...(items.length > 0 ? { items } : {}),
    customer: { source_id: input.customer.source_id, ...(input.customer.email !== undefined ? { email: input.customer.email } : {}) },
  } as Parameters<typeof createOrder>[1];
}

/**
 * group → the customer (upserted by source_id) is in the group: its traits are merged under
 * `metadata.groups.<group id>`, so a customer keeps every group it was put in and a segment can
 * filter on `metadata.groups.<group id>` or one of its traits (`metadata.groups.acme.plan`).
 */
export const group = (db: D1Database, input: SegmentGroup): Promise<Customer> =>
  upsertCustomerBySourceId(db, input.sourceId, input.email !== undefined ? { email: input.email } : {}, {
    [GROUPS_METADATA_KEY]: { [input.groupId]: input.traits },
  });
