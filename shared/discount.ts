/**
 * @module The discount math: what a voucher's discount takes off an order and off each of its items.
 * Pure, integer cents throughout; no total ever goes below zero.
 *
 * Citations: OA = voucherify-openapi production/readOnly-openAPI.json, OA24 = reference/OpenAPI.json.
 * - Effects of AMOUNT (OA DiscountAmountVouchersEffectTypes, readOnly-openAPI.json:L6064; the
 *   definitions in OA24 OpenAPI24.json:L6061): APPLY_TO_ORDER, APPLY_TO_ITEMS ("each item subtotal is
 *   discounted equally"), APPLY_TO_ITEMS_PROPORTIONALLY ("split discount proportionally to amount"),
 *   APPLY_TO_ITEMS_PROPORTIONALLY_BY_QUANTITY ("... to quantity"), APPLY_TO_ITEMS_BY_QUANTITY ("each
 *   unit of matched products has the same discount value").
 * - PERCENT and FIXED: APPLY_TO_ORDER or APPLY_TO_ITEMS (OA L6206, L6149). PERCENT's amount_limit
 *   caps the order's discount, or each line's under APPLY_TO_ITEMS ("per order line item", OA24
 *   L6079); aggregated_amount_limit caps the sum over the items (OA24 L6050). FIXED APPLY_TO_ITEMS
 *   sets a new unit price, applied only where it is lower (OA24 L6128).
 * - UNIT (OA DiscountUnit L6214, DiscountUnitMultiple L6269): unit_off units of unit_type free;
 *   ADD_MISSING_ITEMS tops the line up to unit_off units, ADD_NEW_ITEMS adds unit_off units; the
 *   added units raise the line's and the order's amount (OA OrderCalculated.initial_amount: "before
 *   any discount or other effect (e.g. add missing units) is applied"). A unit whose product or SKU
 *   is in no line is added as a line of its own with `initial_quantity: 0`, as OA24's validate
 *   examples "Free Shipping" (OpenAPI24.json:L58304) and "Unit - Add order items" (L58576) show it;
 *   there is no catalogue, so it is priced by the price its grant names (`product.price` /
 *   `sku.price`), else it has no price and moves no total (the "Free Shipping" line).
 */
import type { Discount, DiscountUnitGrant, DiscountUnitRef } from './types';

/** An order line as the discount sees it (OA OrderItem: what identifies and prices it). */
export interface OrderLine {
  product_id?: string;
  sku_id?: string;
  source_id?: string;
  related_object?: 'product' | 'sku';
  quantity?: number;
  price?: number;
  amount?: number;
  product?: Record<string, unknown>;
  sku?: Record<string, unknown>;
}

/** An entry of a validation rule's applicable_to lists (OA ApplicableTo, readOnly-openAPI.json:L949) as it is matched. */
export interface ItemRef {
  object: 'product' | 'sku';
  id?: string | null;
  source_id?: string | null;
}

/** Which items a voucher's discount may touch: OA ValidationRuleBase.applicable_to (L29530). */
export interface ItemScope<R extends ItemRef = ItemRef> {
  included: R[];
  excluded: R[];
  included_all: boolean;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** The line's own product or SKU: its Voucherify-style id, and the shop's source id. */
function lineIdentity(line: OrderLine, object: ItemRef['object']): { id?: string; sourceId?: string } {
  const nested = object === 'product' ? line.product : line.sku;
  return {
    id: (object === 'product' ? line.product_id : line.sku_id) ?? text(nested?.id),
    sourceId: text(nested?.source_id) ?? (line.related_object === object ? line.source_id : undefined),
  };
}

/** A product ref also matches the lines of that product's SKUs (they carry its product_id). */
export function lineMatches(line: OrderLine, ref: ItemRef): boolean {
  const own = lineIdentity(line, ref.object);
  return (ref.id != null && own.id === ref.id) || (ref.source_id != null && own.sourceId === ref.source_id);
}

export const isScoped = <R extends ItemRef>(scope: ItemScope<R> | null): scope is ItemScope<R> =>
  scope !== null && (scope.included_all || scope.included.length > 0 || scope.excluded.length > 0);

/**
 * The scope of a voucher with several rules: the items any rule includes (all of them if one
 * includes all, or only excludes), minus the items any rule excludes. null: no rule scopes items.
 */
export function mergeScopes<R extends ItemRef>(scopes: ItemScope<R>[]): ItemScope<R> | null {
  const scoped = scopes.filter(isScoped);
  if (scoped.length === 0) return null;
  return {
    included: scoped.flatMap((s) => s.included),
    excluded: scoped.flatMap((s) => s.excluded),
    included_all: scoped.some((s) => s.included_all || s.included.length === 0),
  };
}

/** For each line, whether the scope lets the discount touch it (every line when nothing is scoped). */
export function applicableLines(lines: OrderLine[], scope: ItemScope | null): boolean[] {
  if (!isScoped(scope)) return lines.map(() => true);
  const includeAll = scope.included_all || scope.included.length === 0;
  return lines.map(
    (line) => (includeAll || scope.included.some((ref) => lineMatches(line, ref))) && !scope.excluded.some((ref) => lineMatches(line, ref)),
  );
}

/** OA OrderItem.amount: "price * quantity" when not given; null when neither is known. */
export function lineAmount(line: OrderLine): number | null {
  return line.amount ?? (line.price !== undefined ? line.price * (line.quantity ?? 1) : null);
}

function unitPrice(line: OrderLine): number | null {
  if (line.price !== undefined) return line.price;
  const quantity = line.quantity ?? 1;
  return line.amount !== undefined && quantity > 0 ? Math.floor(line.amount / quantity) : null;
}

/** One line after a discount. */
export interface LinePricing {
  /** The line's amount after added units (null when the line has no price or amount). */
  amount: number | null;
  quantity: number | undefined;
  /** Units a UNIT discount added, and what they cost (OA OrderCalculatedItem.applied_quantity[_amount]). */
  addedQuantity: number;
  addedAmount: number;
  /** Units a UNIT discount made free (OA OrderCalculatedItem.discount_quantity). */
  discountQuantity: number;
  discount: number;
}

/**
 * A line a UNIT discount added because its product or SKU is in no line of the order (OA24
 * validate "Unit - Add order items", OpenAPI24.json:L58576): all its units are free.
 */
export interface AddedLine {
  /** The grant's unit_type: the product id, or the SKU id when `sku` is set. */
  unitType: string;
  product?: DiscountUnitRef;
  sku?: DiscountUnitRef;
  quantity: number;
  /** The unit price the grant names; null: none known (no amount, no effect on the totals). */
  price: number | null;
  amount: number | null;
  discount: number;
}

/** An order after one discount (or several, combined). */
export interface Pricing {
  /** Before any effect: the order's amount as given, else the sum of its lines. */
  initialAmount: number;
  /** After added units. */
  amount: number;
  /** The order-level discount (OA OrderCalculated.discount_amount). */
  orderDiscount: number;
  /** The sum of the lines' discounts (OA OrderCalculated.items_discount_amount). */
  itemsDiscount: number;
  lines: LinePricing[];
  /** Lines a UNIT discount added (after `lines` in the answer); their amounts are in `amount` and `itemsDiscount`. */
  added: AddedLine[];
}

export const totalDiscount = (p: Pricing): number => p.orderDiscount + p.itemsDiscount;

const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);

/**
 * Splits `total` cents over lines in proportion to integer `weights`, never giving a line more than
 * its cap; what a capped line cannot take goes to the others. Exact (BigInt shares, largest
 * remainder): the parts are integers summing to min(total, the caps of lines with weight).
 */
export function allocate(total: number, weights: number[], caps: number[]): number[] {
  const out = weights.map(() => 0);
  let remaining = Math.max(0, total);
  let open = weights.flatMap((w, i) => (w > 0 && (caps[i] ?? 0) > 0 ? [i] : []));
  while (remaining > 0 && open.length > 0) {
    const weightSum = open.reduce((s, i) => s + BigInt(weights[i] as number), 0n);
    const shares = open.map((i) => {
      const numerator = BigInt(remaining) * BigInt(weights[i] as number);
      return { i, part: Number(numerator / weightSum), rest: numerator % weightSum };
    });
    let left = remaining - sum(shares.map((s) => s.part));
    for (const share of [...shares].sort((a, b) => (a.rest === b.rest ? a.i - b.i : a.rest > b.rest ? -1 : 1))) {
      if (left <= 0) break;
      share.part++;
      left--;
    }
    let given = 0;
    const next: number[] = [];
    for (const { i, part } of shares) {
      const room = (caps[i] as number) - (out[i] as number);
      const take = Math.min(room, part);
      out[i] = (out[i] as number) + take;
      given += take;
      if ((out[i] as number) < (caps[i] as number)) next.push(i);
    }
    if (given === 0) break;
    remaining -= given;
    open = next;
  }
  return out;
}

/**
 * What a discount takes off an order of `amount` cents as a whole. Never more than the order (the
 * total never goes below zero), never more than a PERCENT discount's amount_limit, never negative.
 */
export function discountAmount(discount: Discount, amount: number): number {
  const order = Math.max(0, amount);
  let off: number;
  switch (discount.type) {
    case 'AMOUNT':
      off = discount.amount_off;
      break;
    case 'PERCENT':
      // Half-up to the cent, as a till would round.
      off = Math.round((order * discount.percent_off) / 100);
      if (discount.amount_limit !== undefined) off = Math.min(off, discount.amount_limit);
      break;
    case 'FIXED':
      // The order costs fixed_amount: the discount is the difference, if the order costs more.
      off = order - discount.fixed_amount;
      break;
    case 'UNIT':
      // Free units are priced from the order's lines (priceOrder); an order without lines gets none.
      off = 0;
      break;
  }
  return Math.min(order, Math.max(0, off));
}

/** The order with no discount: the starting point of every pricing and of a refused stack. */
export function unpriced(order: { amount: number | null; lines: OrderLine[] }): Pricing {
  const lines = order.lines.map((line) => ({
    amount: lineAmount(line),
    quantity: line.quantity,
    addedQuantity: 0,
    addedAmount: 0,
    discountQuantity: 0,
    discount: 0,
  }));
  const initialAmount = Math.max(0, order.amount ?? sum(lines.map((l) => l.amount ?? 0)));
  return { initialAmount, amount: initialAmount, orderDiscount: 0, itemsDiscount: 0, lines, added: [] };
}

/** True when the discount works on order lines (so an order without lines gets nothing from it). */
export function worksOnItems(discount: Discount, scope: ItemScope | null): boolean {
  return discount.type === 'UNIT' || (discount.effect ?? 'APPLY_TO_ORDER') !== 'APPLY_TO_ORDER' || isScoped(scope);
}

/** Line discounts capped so that together they never exceed `cap`. */
const capTotal = (discounts: number[], cap: number): number[] => (sum(discounts) > cap ? allocate(cap, discounts, discounts) : discounts);

function itemDiscounts(discount: Exclude<Discount, { type: 'UNIT' }>, lines: OrderLine[], eligible: number[]): number[] {
  const effect = discount.effect ?? 'APPLY_TO_ORDER';
  const quantities = lines.map((line, i) => ((eligible[i] as number) > 0 ? (line.quantity ?? 1) : 0));
  let off: number[];
  switch (discount.type) {
    case 'PERCENT':
      off = eligible.map((e) => Math.min(Math.round((e * discount.percent_off) / 100), discount.amount_limit ?? Infinity));
      break;
    case 'FIXED':
      off = eligible.map((e, i) => (e > 0 ? e - discount.fixed_amount * (quantities[i] as number) : 0));
      break;
    case 'AMOUNT':
      if (effect === 'APPLY_TO_ITEMS_PROPORTIONALLY') off = allocate(Math.min(discount.amount_off, sum(eligible)), eligible, eligible);
      else if (effect === 'APPLY_TO_ITEMS_PROPORTIONALLY_BY_QUANTITY')
        off = allocate(Math.min(discount.amount_off, sum(eligible)), quantities, eligible);
      else if (effect === 'APPLY_TO_ITEMS_BY_QUANTITY')
        off = eligible.map((e, i) => (e > 0 ? discount.amount_off * (quantities[i] as number) : 0));
      else off = eligible.map((e) => (e > 0 ? discount.amount_off : 0));
      break;
  }
  const perLine = off.map((o, i) => Math.min(eligible[i] as number, Math.max(0, o)));
  const aggregated = discount.type === 'FIXED' ? undefined : discount.aggregated_amount_limit;
  return aggregated === undefined ? perLine : capTotal(perLine, aggregated);
}

/** The first line of the product or SKU a UNIT grant names. */
const unitLine = (lines: OrderLine[], unitType: string): number =>
  lines.findIndex((line) => lineMatches(line, { object: 'product', id: unitType }) || lineMatches(line, { object: 'sku', id: unitType }));

/** A unit the order does not hold: a line of its own, priced as the grant says, all of it free. */
function addLine(pricing: Pricing, grant: DiscountUnitGrant): void {
  const price = grant.sku?.price ?? grant.product?.price ?? null;
  let line = pricing.added.find((l) => l.unitType === grant.unit_type);
  if (!line) {
    line = {
      unitType: grant.unit_type,
      ...(grant.product ? { product: grant.product } : {}),
      ...(grant.sku ? { sku: grant.sku } : {}),
      quantity: 0,
      price,
      amount: price === null ? null : 0,
      discount: 0,
    };
    pricing.added.push(line);
  }
  // Both effects bring the missing line from none to unit_off units.
  line.quantity += grant.unit_off;
  if (line.price !== null) {
    const cost = grant.unit_off * line.price;
    line.amount = (line.amount ?? 0) + cost;
    line.discount += cost;
    pricing.amount += cost;
  }
}

function grantUnits(pricing: Pricing, lines: OrderLine[], grant: DiscountUnitGrant): void {
  const at = unitLine(lines, grant.unit_type);
  const line = lines[at];
  const priced = pricing.lines[at];
  if (!line || !priced) return addLine(pricing, grant);
  const price = unitPrice(line);
  // The free unit is priced by its line: a line without a price gains nothing.
  if (price === null || price <= 0) return;
  const quantity = priced.quantity ?? 1;
  const added = grant.effect === 'ADD_NEW_ITEMS' ? grant.unit_off : Math.max(0, grant.unit_off - quantity);
  priced.quantity = quantity + added;
  priced.addedQuantity += added;
  priced.addedAmount += added * price;
  priced.amount = (priced.amount ?? 0) + added * price;
  priced.discountQuantity += grant.unit_off;
  priced.discount = Math.min(priced.amount, priced.discount + grant.unit_off * price);
  pricing.amount += added * price;
}

/**
 * An order after one discount. `scope` (the voucher's applicable_to) limits the lines an item
 * effect discounts; an order-level discount with a scope is computed on the scoped lines' amount,
 * so it never takes more than those lines cost. UNIT discounts name their product themselves.
 */
export function priceOrder(discount: Discount, order: { amount: number | null; lines: OrderLine[] }, scope: ItemScope | null): Pricing {
  const pricing = unpriced(order);
  if (discount.type === 'UNIT') {
    for (const grant of discount.effect === 'ADD_MANY_ITEMS' ? discount.units : [discount]) grantUnits(pricing, order.lines, grant);
  } else {
    const applicable = applicableLines(order.lines, scope);
    const eligible = pricing.lines.map((l, i) => (applicable[i] ? Math.max(0, l.amount ?? 0) : 0));
    if ((discount.effect ?? 'APPLY_TO_ORDER') === 'APPLY_TO_ORDER') {
      const base = isScoped(scope) ? Math.min(pricing.initialAmount, sum(eligible)) : pricing.initialAmount;
      pricing.orderDiscount = discountAmount(discount, base);
      return pricing;
    }
    itemDiscounts(discount, order.lines, eligible).forEach((d, i) => {
      (pricing.lines[i] as LinePricing).discount = d;
    });
  }
  // The lines may say more than the order's given amount: the items never take more than the order.
  capTotal(
    pricing.lines.map((l) => l.discount),
    pricing.amount - sum(pricing.added.map((l) => l.amount ?? 0)),
  ).forEach((d, i) => {
    (pricing.lines[i] as LinePricing).discount = d;
  });
  pricing.itemsDiscount = sum(pricing.lines.map((l) => l.discount)) + sum(pricing.added.map((l) => l.discount));
  return pricing;
}

/** The added lines of several pricings, one per unit_type: their units, amounts and discounts add up. */
function combineAdded(pricings: Pricing[]): AddedLine[] {
  const byUnit = new Map<string, AddedLine>();
  for (const line of pricings.flatMap((p) => p.added)) {
    const known = byUnit.get(line.unitType);
    if (!known) byUnit.set(line.unitType, { ...line });
    else {
      known.quantity += line.quantity;
      known.amount = known.amount === null && line.amount === null ? null : (known.amount ?? 0) + (line.amount ?? 0);
      known.discount += line.discount;
    }
  }
  return [...byUnit.values()];
}

/**
 * Several discounts on one order (a stack), each computed on the order as sent: the lines' added
 * units and discounts add up, each line's discount capped at its amount, and the order-level
 * discounts take at most what the items left.
 */
export function combine(base: Pricing, pricings: Pricing[]): Pricing {
  const lines = base.lines.map((line, i) => {
    const parts = pricings.map((p) => p.lines[i] as LinePricing);
    const addedQuantity = sum(parts.map((p) => p.addedQuantity));
    const addedAmount = sum(parts.map((p) => p.addedAmount));
    const amount = line.amount === null && addedAmount === 0 ? null : (line.amount ?? 0) + addedAmount;
    return {
      amount,
      quantity: line.quantity === undefined && addedQuantity === 0 ? undefined : (line.quantity ?? 1) + addedQuantity,
      addedQuantity,
      addedAmount,
      discountQuantity: sum(parts.map((p) => p.discountQuantity)),
      discount: Math.min(amount ?? 0, sum(parts.map((p) => p.discount))),
    };
  });
  const added = combineAdded(pricings);
  const addedAmount = sum(added.map((l) => l.amount ?? 0));
  const amount = base.initialAmount + sum(lines.map((l) => l.addedAmount)) + addedAmount;
  capTotal(
    lines.map((l) => l.discount),
    amount - addedAmount,
  ).forEach((d, i) => {
    (lines[i] as LinePricing).discount = d;
  });
  const itemsDiscount = sum(lines.map((l) => l.discount)) + sum(added.map((l) => l.discount));
  const orderDiscount = Math.min(amount - itemsDiscount, sum(pricings.map((p) => p.orderDiscount)));
  return { initialAmount: base.initialAmount, amount, orderDiscount, itemsDiscount, lines, added };
}
