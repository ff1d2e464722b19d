import { type AddedLine, type LinePricing, type Pricing, totalDiscount } from '../../../shared/discount';
import type { Voucher } from '../../../shared/types';
import type { CustomerRow } from '../db/customers';
import type { RedemptionRelations, RedemptionRow } from '../db/redemptions';
import type { VoucherRow } from '../db/vouchers';
import { toIso } from '../lib/time';
import { type ClientShown, clientVoucher } from './client-voucher';
import type { OrderInput, OrderItemInput } from '../schemas/checkout';
import { rowToVoucher } from './voucher';

// The JSON of redemptions, rollbacks and their orders, in Voucherify's shapes. The citations are
// where each shape is given: OA = readOnly-openAPI.json, OA24 = OpenAPI24.json, SDK =
// node_modules/@voucherify/sdk/dist/types/Redemptions.d.ts.

/** OA OrderCalculatedItem (readOnly-openAPI.json:L18567): an item of the request with its computed amounts. */
export interface OrderCalculatedItem {
  object: 'order_item';
  sku_id?: string;
  product_id?: string;
  source_id?: string;
  related_object?: 'product' | 'sku';
  quantity?: number;
  price?: number;
  amount: number | null;
  discount_amount: number;
  applied_discount_amount: number;
  /** "`subtotal_amount`=`amount`-`applied_discount_amount`" (OA OrderCalculatedItem.subtotal_amount). */
  subtotal_amount: number | null;
  /** Set when a UNIT discount added units: the line as sent, and what was added. */
  initial_quantity?: number;
  initial_amount?: number | null;
  applied_quantity?: number;
  applied_quantity_amount?: number;
  /** Units a UNIT discount made free. */
  discount_quantity?: number;
  applied_discount_quantity?: number;
  metadata?: Record<string, unknown>;
  product?: Record<string, unknown>;
  sku?: Record<string, unknown>;
}

/** OA OrderRedemptionsEntry. */
export interface OrderRedemptionsEntry {
  date: string;
  related_object_type: 'voucher' | 'promotion_tier' | 'redemption';
  related_object_id: string | null;
  stacked?: string[];
  rollback_id?: string;
  rollback_date?: string;
  rollback_stacked?: string[];
}

/** OA OrderCalculated (what validate answers and what a redemption stores of its order). */
export interface OrderCalculated {
  id?: string;
  source_id?: string | null;
  status?: string;
  created_at?: string;
  updated_at?: string | null;
  amount: number;
  /** Before added units (OA: "before any discount or other effect (e.g. add missing units)"); set when they differ. */
  initial_amount?: number;
  discount_amount: number;
  /** Orders with items: the sum of the item-level discounts (OA OrderCalculated.items_discount_amount). */
  items_discount_amount?: number;
  total_discount_amount: number;
  total_amount: number;
  applied_discount_amount: number;
  items_applied_discount_amount?: number;
  total_applied_discount_amount: number;
  items?: OrderCalculatedItem[];
  metadata: Record<string, unknown>;
  customer_id: string | null;
  referrer_id: null;
  object: 'order';
  customer?: { id: string; object: 'customer' } | null;
  redemptions?: Record<string, OrderRedemptionsEntry>;
}

/** A redemption's order: it has an id and a creation date, and is PAID unless the request says otherwise. */
export interface PlacedOrder {
  id: string;
  createdAt: number;
}

/** OA OrderCalculatedItem: `amount` = price × quantity when not given, after any units a UNIT discount added. */
function calculatedItem(item: OrderItemInput, line: LinePricing): OrderCalculatedItem {
  const out: OrderCalculatedItem = {
    object: 'order_item',
    amount: line.amount,
    discount_amount: line.discount,
    applied_discount_amount: line.discount,
    subtotal_amount: line.amount === null ? null : line.amount - line.discount,
  };
  for (const key of ['sku_id', 'product_id', 'source_id', 'related_object', 'quantity', 'price', 'metadata', 'product', 'sku'] as const) {
    if (item[key] !== undefined) (out as unknown as Record<string, unknown>)[key] = item[key];
  }
  if (line.addedQuantity > 0) {
    Object.assign(out, {
      quantity: line.quantity,
      initial_quantity: item.quantity ?? 1,
      initial_amount: line.amount === null ? null : line.amount - line.addedAmount,
      applied_quantity: line.addedQuantity,
      applied_quantity_amount: line.addedAmount,
    });
  }
  if (line.discountQuantity > 0)
    Object.assign(out, { discount_quantity: line.discountQuantity, applied_discount_quantity: line.discountQuantity });
  return out;
}

/** The ref of a free unit as an item shows it: without the price, which the item carries itself. */
const unitRefJson = ({ price: _price, ...ref }: NonNullable<AddedLine['product']>) => ref;

/**
 * A line a UNIT discount added (its product or SKU was not in the order), as OA24's validate
 * examples show one: "Free Shipping" (OpenAPI24.json:L58304, no price, no amounts) and "Unit - Add
 * order items" (L58576: quantity and discount_quantity the units, initial_quantity 0, amount the
 * units' price, all of it discounted, subtotal_amount 0). A SKU's line names the SKU and, when the
 * grant names it, its product.
 */
function addedItem(line: AddedLine): OrderCalculatedItem {
  const isSku = line.sku !== undefined || line.unitType.startsWith('sku_');
  const productId = isSku ? (line.product?.id ?? undefined) : line.unitType;
  const out: Record<string, unknown> = {
    object: 'order_item',
    ...(productId ? { product_id: productId } : {}),
    ...(isSku ? { sku_id: line.unitType } : {}),
    quantity: line.quantity,
    discount_quantity: line.quantity,
    applied_discount_quantity: line.quantity,
    initial_quantity: 0,
    applied_quantity: line.quantity,
  };
  if (line.price !== null && line.amount !== null) {
    Object.assign(out, {
      amount: line.amount,
      discount_amount: line.discount,
      initial_amount: 0,
      applied_discount_amount: line.discount,
      applied_quantity_amount: line.amount,
      price: line.price,
      subtotal_amount: line.amount - line.discount,
    });
  }
  const product = line.product ? unitRefJson(line.product) : isSku ? undefined : { id: line.unitType };
  if (product) out.product = product;
  if (line.sku) out.sku = unitRefJson(line.sku);
  return out as unknown as OrderCalculatedItem;
}

/**
 * The order of a validate or redeem answer. A redemption's order (`placed`) has an id (the
 * request's, else a new `ord_`), source_id, status (PAID unless given; OA24 "Discount Coupon"
 * OA24:L63959) and created_at; a validation echoes what the request gave of those.
 */
export function orderSummary(
  order: OrderInput | undefined,
  pricing: Pricing,
  customerId: string | null,
  placed?: PlacedOrder,
): OrderCalculated {
  const identity: Partial<OrderCalculated> = placed
    ? {
        id: placed.id,
        source_id: order?.source_id ?? null,
        status: order?.status ?? 'PAID',
        created_at: toIso(placed.createdAt),
        updated_at: null,
      }
    : {
        ...(order?.id !== undefined ? { id: order.id } : {}),
        ...(order?.source_id !== undefined ? { source_id: order.source_id } : {}),
        ...(order?.status !== undefined ? { status: order.status } : {}),
      };
  const total = totalDiscount(pricing);
  // Order-level and item-level discounts apart, and their sum (OA OrderCalculated; the APPLY_TO_ITEMS
  // example of OA24 POST /v1/validations "True - 5 Redeemables", OpenAPI24.json:L47174-L47180).
  const withItems = order?.items !== undefined || pricing.added.length > 0;
  const summary: OrderCalculated = {
    ...identity,
    amount: pricing.amount,
    ...(pricing.amount !== pricing.initialAmount ? { initial_amount: pricing.initialAmount } : {}),
    discount_amount: pricing.orderDiscount,
    ...(withItems ? { items_discount_amount: pricing.itemsDiscount } : {}),
    total_discount_amount: total,
    total_amount: Math.max(0, pricing.amount - total),
    applied_discount_amount: pricing.orderDiscount,
    ...(withItems ? { items_applied_discount_amount: pricing.itemsDiscount } : {}),
    total_applied_discount_amount: total,
    metadata: order?.metadata ?? {},
    customer_id: customerId,
    referrer_id: null,
    object: 'order',
  };
  if (order?.items || pricing.added.length > 0) {
    summary.items = [
      ...(order?.items ?? []).map((item, i) => calculatedItem(item, pricing.lines[i] as LinePricing)),
      ...pricing.added.map(addedItem),
    ];
  }
  return summary;
}

/**
 * Who sees the answer: a client-key caller (the key is public) is told nothing stored about a
 * customer, not even the internal id: the redemption is recorded for the customer, the answer
 * names none.
 */
export type Audience = 'server' | 'client';

/** OA SimpleCustomer. */
export function customerJson(row: CustomerRow | undefined) {
  if (!row) return null;
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    source_id: row.source_id,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    object: 'customer' as const,
  };
}

/** A stacked parent, or a rollback of one: no voucher of its own (OA "Stacked Redemption" OA:L44395). */
const isStackedParent = (row: RedemptionRow) => row.code === '';

/** What the row is about: its voucher; for a stacked parent, itself; for an unknown code, itself (OA24:L63247). */
function relatedObject(row: RedemptionRow): { type: 'voucher' | 'redemption'; id: string } {
  if (isStackedParent(row)) return { type: 'redemption', id: row.rollback_of ?? row.failed_rollback_of ?? row.id };
  if (row.voucher_id === null) return { type: 'redemption', id: row.id };
  return { type: 'voucher', id: row.voucher_id };
}

/**
 * A redemption of a promotion tier (a `vouchers` row of type PROMOTION_TIER, migration 0030) is
 * about the tier: related_object_type 'promotion_tier' and the `promotion_tier` field in place of
 * `voucher` (OA Redemption.promotion_tier; SDK PromotionTierRedeemDetailsSimple,
 * types/PromotionTiers.d.ts:105).
 */
const isTierRow = (row: VoucherRow | undefined): row is VoucherRow => (row?.type as string | undefined) === 'PROMOTION_TIER';

function tierJson(row: VoucherRow) {
  const tier = row as VoucherRow & { name?: string | null; banner?: string | null };
  return {
    id: row.id,
    name: tier.name ?? null,
    banner: tier.banner ?? null,
    campaign: { id: row.campaign_id },
    object: 'promotion_tier' as const,
  };
}

function orderJson(row: RedemptionRow, customer: CustomerRow | undefined, audience: Audience): OrderCalculated | null {
  // A failed redemption has no order (OA "Failed Voucher" example, OA:L44469).
  if (row.result === 'FAILURE') return null;
  const stored = JSON.parse(row.order_json) as OrderCalculated;
  const related = relatedObject(row);
  return {
    ...stored,
    customer_id: audience === 'client' ? null : row.customer_id,
    customer: customer && audience === 'server' ? { id: customer.id, object: 'customer' } : null,
    // Rows written before orders kept their redemptions map get the single-voucher entry.
    redemptions: stored.redemptions ?? {
      [row.id]: { date: toIso(row.created_at), related_object_type: related.type, related_object_id: related.id },
    },
  };
}

/**
 * The order of `row` once the redemption `head` (the row itself, or its stacked parent) is rolled
 * back: CANCELED, and its redemptions entry names the rollback (OA OrderRedemptionsEntry; OA24
 * rollback example "Gift Card" OA24:L64785).
 */
export function rolledBackOrder(
  row: RedemptionRow,
  head: RedemptionRow,
  rollback: { id: string; date: number; stacked?: string[] },
): OrderCalculated {
  const order = JSON.parse(row.order_json) as OrderCalculated;
  const related = relatedObject(head);
  const entry = order.redemptions?.[head.id] ?? {
    date: toIso(head.created_at),
    related_object_type: related.type,
    related_object_id: related.id,
  };
  return {
    ...order,
    status: 'CANCELED',
    updated_at: toIso(rollback.date),
    redemptions: {
      ...order.redemptions,
      [head.id]: {
        ...entry,
        rollback_id: rollback.id,
        rollback_date: toIso(rollback.date),
        ...(rollback.stacked ? { rollback_stacked: rollback.stacked } : {}),
      },
    },
  };
}

/**
 * A redemption (OA24 RedemptionBase OA24:L18044, whose required keys are all present) or a
 * rollback (OA RedemptionRollback OA:L25204).
 */
export function redemptionView(
  row: RedemptionRow,
  related: RedemptionRelations,
  audience: Audience = 'server',
  shown: ClientShown = { voucherMetadata: false },
) {
  const customer = row.customer_id ? related.customers.get(row.customer_id) : undefined;
  const relatedRow = row.voucher_id ? related.vouchers.get(row.voucher_id) : undefined;
  const tierRow = isTierRow(relatedRow) ? relatedRow : undefined;
  const voucherRow = tierRow ? undefined : relatedRow;
  const full: Voucher | null = voucherRow ? rowToVoucher(voucherRow, []) : null;
  const voucher = full && audience === 'client' ? clientVoucher(full, shown) : full;
  const related0 = relatedObject(row);
  const target = tierRow && related0.type === 'voucher' ? { type: 'promotion_tier' as const, id: related0.id } : related0;
  const rollback = row.object === 'redemption_rollback';
  return {
    id: row.id,
    object: row.object,
    date: toIso(row.created_at),
    customer_id: audience === 'client' ? null : row.customer_id,
    tracking_id: row.tracking_id,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    // A child: its parent (OA:L24562; SDK Redemptions.d.ts:158). A rollback: what it rolled back,
    // or tried to (a failed one, OA24 7_obj_redemption_rollback_object_voucher_fail OA24:L20674).
    redemption: rollback ? (row.rollback_of ?? row.failed_rollback_of ?? null) : row.parent_id,
    ...(rollback ? { reason: row.reason } : {}),
    result: row.result,
    status: row.status,
    ...(row.result === 'FAILURE' ? { failure_code: row.failure_code, failure_message: row.failure_message } : {}),
    order: orderJson(row, customer, audience),
    channel: { channel_id: row.channel_id, channel_type: 'API' as const },
    customer: audience === 'client' ? null : customerJson(customer),
    related_object_type: target.type,
    related_object_id: target.id,
    voucher,
    ...(tierRow ? { promotion_tier: tierJson(tierRow) } : {}),
  };
}
export type RedemptionJson = ReturnType<typeof redemptionView>;

/**
 * POST /v1/redemptions, also with one redeemable (OA RedemptionsRedeemResponseBody OA:L25493; SDK
 * RedemptionsRedeemStackableResponse Redemptions.d.ts:172). All or nothing: nothing is ever
 * inapplicable or skipped in a successful answer.
 */
export function stackedRedemptionView(
  parent: RedemptionRow,
  children: RedemptionRow[],
  related: RedemptionRelations,
  audience: Audience = 'server',
  shown: ClientShown = { voucherMetadata: false },
) {
  const parentJson = redemptionView(parent, related, audience, shown);
  return {
    redemptions: children.map((child) => redemptionView(child, related, audience, shown)),
    parent_redemption: parentJson,
    order: parentJson.order,
    inapplicable_redeemables: [],
    skipped_redeemables: [],
  };
}

/** POST /v1/redemptions/{id}/rollbacks (OA RedemptionsRollbacksCreateResponseBody; SDK Redemptions.d.ts:191). */
export function stackedRollbackView(parent: RedemptionRow, children: RedemptionRow[], related: RedemptionRelations) {
  const parentJson = redemptionView(parent, related);
  return { rollbacks: children.map((child) => redemptionView(child, related)), parent_rollback: parentJson, order: parentJson.order };
}

/** GET /v1/redemptions (OA:L33796; SDK RedemptionsListResponse Redemptions.d.ts:86). */
export function redemptionListView(rows: RedemptionRow[], total: number, related: RedemptionRelations) {
  return { object: 'list' as const, data_ref: 'redemptions' as const, redemptions: rows.map((row) => redemptionView(row, related)), total };
}

/** GET /v1/vouchers/{code}/redemption (OA24 VouchersRedemptionGetResponseBody, example at OA24:L63286). */
export function voucherRedemptionsView(
  voucher: { code: string; quantity: number | null; redeemed_quantity: number },
  page: { limit: number; page: number },
  rows: RedemptionRow[],
  total: number,
  related: RedemptionRelations,
) {
  return {
    quantity: voucher.quantity,
    redeemed_quantity: voucher.redeemed_quantity,
    object: 'list' as const,
    url: `/v1/vouchers/${encodeURIComponent(voucher.code)}/redemptions?page=${page.page}&limit=${page.limit}`,
    data_ref: 'redemption_entries' as const,
    total,
    redemption_entries: rows.map((row) => redemptionView(row, related)),
  };
}
