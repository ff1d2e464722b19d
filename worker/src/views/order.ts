import type { OrderRow } from '../db/orders';
import { toIso } from '../lib/time';

// Voucherify's order object (voucherify-openapi production/readOnly-openAPI.json, OrderCalculated,
// L18433; the POST /v1/orders answer's example at L58768): the order as stored, its items with
// `object: 'order_item'`, the customer as a CustomerId ({id, object}) beside customer_id.

type StoredItem = Record<string, unknown>;

/** An item as the wire shows it: its amount is price × quantity when it was not given. */
function itemView(item: StoredItem): StoredItem {
  const price = typeof item.price === 'number' ? item.price : null;
  const quantity = typeof item.quantity === 'number' ? item.quantity : null;
  const amount = typeof item.amount === 'number' ? item.amount : price !== null && quantity !== null ? price * quantity : null;
  const discount = typeof item.discount_amount === 'number' ? item.discount_amount : null;
  return {
    object: 'order_item',
    ...item,
    ...(amount !== null ? { amount, subtotal_amount: amount - (discount ?? 0) } : {}),
  };
}

/** The order object of a row (OA OrderCalculated). */
export function orderView(row: Pick<OrderRow, Exclude<keyof OrderRow, 'products'>>) {
  const items = (JSON.parse(row.items) as StoredItem[]).map(itemView);
  const discount = row.discount_amount ?? 0;
  const itemsDiscount = items.reduce((sum, item) => sum + (typeof item.discount_amount === 'number' ? item.discount_amount : 0), 0);
  const totalDiscount = discount + itemsDiscount;
  return {
    id: row.id,
    source_id: row.source_id,
    created_at: toIso(row.created_at),
    updated_at: row.updated_at === null ? null : toIso(row.updated_at),
    status: row.status,
    amount: row.amount,
    ...(row.initial_amount !== null ? { initial_amount: row.initial_amount } : {}),
    discount_amount: row.discount_amount,
    items_discount_amount: itemsDiscount,
    total_discount_amount: totalDiscount,
    total_amount: row.amount === null ? null : Math.max(0, row.amount - totalDiscount),
    items,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    customer: row.customer_id === null ? null : { id: row.customer_id, object: 'customer' as const },
    customer_id: row.customer_id,
    referrer: row.referrer_id === null ? null : { id: row.referrer_id, object: 'customer' as const },
    referrer_id: row.referrer_id,
    object: 'order' as const,
  };
}

export type OrderView = ReturnType<typeof orderView>;

/** GET /v1/orders (OA OrdersListResponseBody, L19147). */
export const orderListView = (rows: OrderRow[], total: number) => ({
  object: 'list' as const,
  data_ref: 'orders' as const,
  orders: rows.map(orderView),
  total,
});

/** An order as a snapshot of order_activities holds it (the order_snapshots view, migration 0028). */
export function orderSnapshotView(snapshot: string) {
  const s = JSON.parse(snapshot) as Omit<OrderRow, 'items' | 'metadata' | 'products'> & { items: unknown; metadata: unknown };
  return orderView({ ...s, items: JSON.stringify(s.items ?? []), metadata: JSON.stringify(s.metadata ?? {}) });
}
