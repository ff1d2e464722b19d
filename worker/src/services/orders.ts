import * as customersDb from '../db/customers';
import { d1Refusal } from '../db/errors';
import * as ordersDb from '../db/orders';
import type { Sql } from '../db/sql';
import { findTrackingProfile, linkAndMerge } from '../db/tracking';
import type { Env } from '../env';
import { apiError, notFound } from '../errors';
import { randomId } from '../lib/ids';
import { contextCustomerWrite, type ContextCustomer, type OrderInput, type OrderItemInput } from '../schemas/checkout';
import type { OrderCreateInput, OrderListOrder, OrderUpdateInput } from '../schemas/orders';
import { orderListView, orderView, type OrderView } from '../views/order';
import * as membership from './membership';
import { resolveTrackingId } from './tracking';
import { ambiguousTrackingId } from './visitor';

// The orders API. Every order write is one D1 batch through the customer-write pipeline: the
// customer created or updated (as a redeem does), the tracking profile linked and merged, the order
// upserted, then for every customer the order touched (the one it has, the one it left) the summary
// and the product counts recomputed from the orders table, their auto-update segments refreshed
// (entered/left events and their webhooks with them), and the order read back.

/** What an order write needs of the environment. */
type OrderEnv = Pick<Env, 'DB' | 'TRACKING_SECRET'>;

/** The product and SKU identifiers an item names: any of them counts as "bought" for the product filter. */
export function productKeys(items: readonly OrderItemInput[]): string[] {
  const keys = new Set<string>();
  const add = (value: unknown) => {
    if (typeof value === 'string' && value !== '') keys.add(value);
  };
  for (const item of items) {
    add(item.product_id);
    add(item.sku_id);
    add(item.source_id);
    add(item.product?.id);
    add(item.product?.source_id);
    add(item.sku?.id);
    add(item.sku?.source_id);
  }
  return [...keys];
}

/** An item's amount: as given, else price × quantity. */
const itemAmount = (item: OrderItemInput): number | null =>
  item.amount ?? (item.price !== undefined && item.quantity !== undefined ? item.price * item.quantity : null);

/** The fields of an order body to store (absent = unchanged); the amount of items without one is their sum. */
export function orderWriteOf(input: OrderUpdateInput & { created_at?: number }): ordersDb.OrderWrite {
  const write: ordersDb.OrderWrite = {};
  if (input.source_id !== undefined) write.source_id = input.source_id;
  if (input.status !== undefined) write.status = input.status;
  if (input.initial_amount !== undefined) write.initial_amount = input.initial_amount;
  if (input.discount_amount !== undefined) write.discount_amount = input.discount_amount;
  if (input.metadata !== undefined) write.metadata = JSON.stringify(input.metadata);
  const referrer = input.referrer_id ?? input.referrer?.id;
  if (referrer !== undefined) write.referrer_id = referrer;
  if (input.items !== undefined) {
    write.items = JSON.stringify(input.items);
    write.products = JSON.stringify(productKeys(input.items));
  }
  if (input.amount !== undefined) write.amount = input.amount;
  else if (input.items !== undefined && input.items.length > 0) {
    const amounts = input.items.map(itemAmount);
    if (amounts.every((a) => a !== null)) write.amount = amounts.reduce((sum, a) => sum + (a as number), 0);
  }
  if (input.created_at !== undefined) write.created_at = input.created_at;
  return write;
}

/** Who an order belongs to, and the writes that make that customer. */
interface CustomerPlan {
  selector: customersDb.CustomerSelector | null;
  write: D1PreparedStatement | null;
  /** The tracking id to link to the customer and merge. */
  trackingId: string | null;
}

/**
 * The order's customer, as a redeem with the server key finds it (services/redeem.ts): by id (it
 * must exist), else by source_id (created or updated with the fields given), else the customer the
 * tracking id is linked to, else a new customer whose source_id is the tracking id, else a new
 * customer of the fields given; none when nothing names one.
 */
async function customerPlan(
  env: OrderEnv,
  customer: ContextCustomer | undefined,
  givenTrackingId: string | undefined,
  now: number,
): Promise<CustomerPlan> {
  const trackingId = givenTrackingId ? (await resolveTrackingId(env.TRACKING_SECRET, givenTrackingId)).id : null;
  const fields = customer ? contextCustomerWrite(customer) : {};
  const hasFields = Object.keys(fields).length > 0;
  if (customer?.id !== undefined) {
    const found = await customersDb.findCustomer(env.DB, customer.id);
    if (!found || found.id !== customer.id) throw notFound('customer', customer.id);
    return {
      selector: { ids: [found.id] },
      write: hasFields ? customersDb.updateCustomer(env.DB, found.id, fields, now) : null,
      trackingId,
    };
  }
  if (customer?.source_id !== undefined) {
    const sourceId = customer.source_id;
    return {
      selector: { sourceIds: [sourceId] },
      write: customersDb.upsertCustomerBySourceId(env.DB, randomId('cust_'), { ...fields, source_id: sourceId }, now),
      trackingId,
    };
  }
  if (trackingId) {
    const linked = (await findTrackingProfile(env.DB, trackingId))?.customer_id ?? null;
    if (linked)
      return { selector: { ids: [linked] }, write: hasFields ? customersDb.updateCustomer(env.DB, linked, fields, now) : null, trackingId };
    return {
      selector: { sourceIds: [trackingId] },
      write: customersDb.upsertCustomerBySourceId(env.DB, randomId('cust_'), { ...fields, source_id: trackingId }, now),
      trackingId,
    };
  }
  if (hasFields) {
    const id = randomId('cust_');
    return { selector: { ids: [id] }, write: customersDb.insertCustomer(env.DB, id, fields, now), trackingId: null };
  }
  return { selector: null, write: null, trackingId: null };
}

/**
 * The statements of one order write for its customers: the summary and product counts of each
 * customer the order touched recomputed, and their memberships refreshed. `current` is the
 * customer the order has after the write; `previous` the one it had before, when another.
 */
export function orderCustomerWrites(
  db: D1Database,
  segments: membership.ActiveSegment[],
  writes: D1PreparedStatement[],
  current: customersDb.CustomerSelector | null,
  previous: string[],
  now: number,
): D1PreparedStatement[] {
  const statements = [...writes];
  const left = previous.length > 0 ? ({ ids: previous } as const) : null;
  if (left) {
    statements.push(
      ...membership.refreshedWrites(db, segments, ordersDb.derivedOrderWrites(db, customersDb.selectorSql(left), now), left, now),
    );
  }
  if (current) {
    statements.push(
      ...membership.refreshedWrites(db, segments, ordersDb.derivedOrderWrites(db, customersDb.selectorSql(current), now), current, now),
    );
  }
  return statements;
}

/** Errors a write of orders may meet that are the caller's: answered in Voucherify's shape. */
function orderWriteError(error: unknown, context: { trackingId?: string; customer?: string; sourceId?: string }): unknown {
  const reason = d1Refusal(error);
  if (reason === 'ambiguous_tracking_id' && context.trackingId)
    return ambiguousTrackingId(context.trackingId, context.customer ?? 'this customer');
  if (reason === 'duplicate_order_source_id')
    return apiError('duplicate_source_id', `Another order has source_id ${context.sourceId ?? ''}`, {
      id: context.sourceId ?? '',
      type: 'order',
    });
  if (reason === 'customer_metadata_too_large') return apiError('invalid_payload', 'metadata: the customer metadata is too large');
  return error;
}

interface WriteRequest {
  key: ordersDb.OrderKey;
  newId: string;
  write: ordersDb.OrderWrite;
  customer: ContextCustomer | undefined;
  trackingId: string | undefined;
  /** The order as it was read before the write, when it exists. */
  existing: ordersDb.OrderRow | null;
}

/** One order written as one batch; the order as it is now. */
async function writeOrder(env: OrderEnv, request: WriteRequest): Promise<OrderView> {
  const now = Date.now();
  const plan = await customerPlan(env, request.customer, request.trackingId, now);
  const db = env.DB;
  const sel: Sql | null = plan.selector ? customersDb.selectorSql(plan.selector) : null;
  const writes: D1PreparedStatement[] = [];
  if (plan.write) writes.push(plan.write);
  if (sel && plan.trackingId) writes.push(...linkAndMerge(db, plan.trackingId, sel, now));
  writes.push(ordersDb.upsertOrder(db, request.key, request.newId, request.write, sel ? { customer: sel } : 'unchanged', now));
  // The customer the order had: its summary no longer holds this order when it moved to another.
  const before = request.existing?.customer_id ?? null;
  const same = plan.selector !== null && plan.selector !== 'all' && 'ids' in plan.selector && plan.selector.ids.includes(before ?? '');
  const previous = before !== null && sel !== null && !same ? [before] : [];
  // Without a new customer the order keeps its own: that one is recomputed (its status or amount may have changed).
  const current = plan.selector ?? (before !== null ? { ids: [before] } : null);
  const segments = current ? await membership.loadActiveSegments(db) : [];
  const statements = orderCustomerWrites(db, segments, writes, current, previous, now);
  const readAt = statements.push(ordersDb.selectOrder(db, request.key)) - 1;
  let results: D1Result<Record<string, unknown>>[];
  try {
    results = await db.batch<Record<string, unknown>>(statements);
  } catch (error) {
    throw orderWriteError(error, {
      trackingId: request.trackingId,
      customer: request.customer?.source_id ?? request.customer?.id,
      sourceId: request.write.source_id ?? undefined,
    });
  }
  const row = results[readAt]?.results[0] as unknown as ordersDb.OrderRow | undefined;
  if (!row) throw notFound('order', 'id' in request.key ? request.key.id : request.key.sourceId);
  return orderView(row);
}

/**
 * POST /v1/orders: creates the order, or updates the one with this id or source_id ("Upsert Mode":
 * "If you pass an id or a source_id that already exists in the order database, Voucherify will
 * return a related order object with updated fields", OA create-order).
 */
export async function createOrder(env: OrderEnv, input: OrderCreateInput): Promise<OrderView> {
  const key: ordersDb.OrderKey | null =
    input.id !== undefined ? { id: input.id } : input.source_id !== undefined ? { sourceId: input.source_id } : null;
  const newId = randomId('ord_');
  const existing = key ? await ordersDb.findOrderByKey(env.DB, key) : null;
  return writeOrder(env, {
    key: key ?? { id: newId },
    newId,
    write: orderWriteOf(input),
    customer: input.customer,
    trackingId: input.tracking_id,
    existing,
  });
}

/** PUT /v1/orders/{orderId}: the order by id or source_id; the fields given change. */
export async function updateOrder(env: OrderEnv, idOrSourceId: string, input: OrderUpdateInput): Promise<OrderView> {
  const existing = await ordersDb.findOrder(env.DB, idOrSourceId);
  if (!existing) throw notFound('order', idOrSourceId);
  return writeOrder(env, {
    key: { id: existing.id },
    newId: existing.id,
    write: orderWriteOf(input),
    customer: input.customer,
    trackingId: input.tracking_id,
    existing,
  });
}

/** GET /v1/orders/{orderId}: by id or source_id. */
export async function getOrder(db: D1Database, idOrSourceId: string): Promise<OrderView> {
  const row = await ordersDb.findOrder(db, idOrSourceId);
  if (!row) throw notFound('order', idOrSourceId);
  return orderView(row);
}

/** GET /v1/orders: oldest first by default ("the most recent orders appearing last", OA list-orders). */
export async function listOrders(db: D1Database, q: { limit?: number; page?: number; order?: OrderListOrder }) {
  const { rows, total } = await ordersDb.listOrders(db, { limit: q.limit ?? 10, page: q.page ?? 1, order: q.order ?? 'created_at' });
  return orderListView(rows, total);
}

/** The order a redemption writes, and how its rows name it. */
export interface RedemptionOrder {
  /** The order upserted, then the summaries of its customers recomputed. */
  statements: D1PreparedStatement[];
  /** The stored order's id, as an expression at that point of the batch (for the redemption rows). */
  id: Sql;
  /** Reads the order back, for the answer. */
  read: D1PreparedStatement;
}

/**
 * The order of a successful redemption, in the orders table: by its source_id (a redeem naming an
 * existing order's source_id attaches to it: "the original order data will be used, like items,
 * amount", OA OrdersCreateRequestBody.source_id), else by its id (the request's, or the new ord_ the
 * redemption made). A new order takes the request's figures, PAID unless the request says otherwise;
 * an existing one keeps its figures and its customer (when it has one), and takes the status. Then
 * summary.orders.* of the redeeming customer and of the order's customer are recomputed from the
 * table. A redemption that carries no order amount and names no order writes none (it never moved
 * the summary before either).
 */
export function redemptionOrder(
  db: D1Database,
  input: {
    order: OrderInput | undefined;
    /** The order id the redemption rows carry now. */
    placedId: string;
    amount: number | null;
    discount: number | null;
    /** The redeeming customer, as a predicate over `customers c`; null for a guest checkout. */
    customer: Sql | null;
    now: number;
  },
): RedemptionOrder | null {
  const { order, now } = input;
  if (input.amount === null && order?.id === undefined && order?.source_id === undefined) return null;
  const key: ordersDb.OrderKey = order?.source_id !== undefined ? { sourceId: order.source_id } : { id: input.placedId };
  const write: ordersDb.OrderWrite = {
    ...orderWriteOf({ items: order?.items, metadata: order?.metadata }),
    status: order?.status ?? 'PAID',
    amount: input.amount,
    discount_amount: input.discount,
  };
  const upsert = ordersDb.upsertOrder(db, key, input.placedId, write, input.customer ? { customer: input.customer } : 'unchanged', now, {
    onExisting: { keep: ['amount', 'initial_amount', 'items', 'products', 'metadata'], keepCustomerIfSet: true },
  });
  const customers = ordersDb.customerOfOrderOr(key, input.customer);
  return {
    statements: [upsert, ...ordersDb.derivedOrderWrites(db, customers, now)],
    id: ordersDb.storedOrderId(key),
    read: ordersDb.selectOrder(db, key),
  };
}

/**
 * A rollback's order: CANCELED ("the order becomes CANCELED" as the rollback's answer shows it), then
 * the summaries of its customer recomputed.
 */
export function rolledBackOrderWrites(db: D1Database, orderId: string, customerId: string | null, now: number): D1PreparedStatement[] {
  const customers = ordersDb.customerOfOrderOr(
    { id: orderId },
    customerId === null ? null : customersDb.selectorSql({ ids: [customerId] }),
  );
  return [ordersDb.cancelOrder(db, orderId, now), ...ordersDb.derivedOrderWrites(db, customers, now)];
}
