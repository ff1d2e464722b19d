import { discountAmount } from '../../../shared/discount';
import { evaluate, type FilterProfile } from '../../../shared/filter';
import { checkRuleSet } from '../../../shared/rules';
import type { Customer, OrderSummary, ValidateFailure } from '../../../shared/types';
import { rowToCustomer } from '../db/customers';
import { readValidationSubject, type ValidationSubject } from '../db/tracking';
import type { Env } from '../env';
import { ApiError } from '../errors';
import { toIso } from '../lib/time';
import type { OrderInput, ValidationContext } from '../schemas/vouchers';
import { type LoadedDefinition, loadVoucherDefinition } from './definitions';
import { identityHmac, resolveTrackingId } from './tracking';

/** Why a voucher cannot be used: the `reason` and `error` of a valid:false answer. */
export interface Refusal {
  reason: string;
  error: ValidateFailure;
}

const refusal = (reason: string, code: number, key: string, message: string, details?: string): Refusal => ({
  reason,
  error: details === undefined ? { code, key, message } : { code, key, message, details },
});

// The message names the two identifiers the caller itself used (Voucherify's own example pairs two
// tracking ids), never the customer the profile is linked to: the client key is public.
export const ambiguousTrackingId = (trackingId: string, _linked: string, claimed: string) =>
  new ApiError(
    400,
    'ambiguous_tracking_id',
    `Ambiguous trackingId ('${trackingId}' vs. '${claimed}')`,
    'The customer cannot be identified as two different identifiers have been used between requests from same origin.',
    { id: trackingId, type: 'tracking_id' },
  );

/**
 * A tracking profile belongs to the customer a redemption linked it to; a request that names
 * another customer with it cannot say who the visitor is.
 */
export function assertOneCustomer(subject: ValidationSubject, claimed: string | undefined): void {
  const linked = subject.profile?.customer_id;
  if (!linked || !claimed || !subject.profile) return;
  const found = subject.customer && (subject.customer.id === claimed || subject.customer.source_id === claimed) ? subject.customer : null;
  if (found?.id !== linked) throw ambiguousTrackingId(subject.profile.id, linked, claimed);
}

export const voucherNotFound = (code: string) =>
  refusal('voucher not found', 404, 'not_found', 'Resource not found', `Cannot find voucher with id ${code}`);

/** The order as the rules and the discount see it. */
export function orderFigures(order: OrderInput | undefined, amount: number | undefined): { amount: number | null; itemsCount: number } {
  const items = order?.items ?? [];
  const itemsAmount = items.length
    ? items.reduce((sum, item) => sum + (item.amount ?? (item.price ?? 0) * (item.quantity ?? 1)), 0)
    : null;
  return {
    amount: order?.amount ?? amount ?? itemsAmount,
    // order.items.count counts units: two of one product are two items in the cart.
    itemsCount: items.reduce((sum, item) => sum + (item.quantity ?? 1), 0),
  };
}

/**
 * The profile the customer rules judge: the stored customer, with metadata given in the request
 * laid over it, and the events of the customer and of its tracking profile; for an anonymous
 * visitor, an empty customer that only has its tracking profile's events.
 */
function subjectProfile(subject: ValidationSubject, context: ValidationContext): FilterProfile {
  const base: Customer = subject.customer
    ? rowToCustomer(subject.customer)
    : {
        ...rowToCustomer({
          id: subject.profile?.id ?? 'anonymous',
          source_id: null, name: null, description: null, email: null, phone: null, birthdate: null,
          address_city: null, address_state: null, address_line_1: null, address_line_2: null,
          address_country: null, address_postal_code: null, metadata: '{}', system_metadata: '{}',
          redemptions_total_redeemed: 0, redemptions_total_failed: 0, redemptions_total_succeeded: 0,
          redemptions_total_rolled_back: 0, redemptions_total_rollback_failed: 0, redemptions_total_rollback_succeeded: 0,
          redemptions_gift_redeemed_amount: 0, redemptions_gift_amount_to_go: 0, redemptions_loyalty_redeemed_points: 0,
          redemptions_loyalty_points_to_go: 0, orders_total_amount: 0, orders_total_count: 0, orders_average_amount: 0,
          orders_last_order_amount: 0, orders_last_order_date: null, loyalty_points: 0, loyalty_referred_customers: 0,
          created_at: subject.profile?.first_seen ?? Date.now(), updated_at: null,
        }),
      };
  const metadata = context.customer?.metadata ? { ...base.metadata, ...context.customer.metadata } : base.metadata;
  return { ...base, metadata, events: subject.events };
}

/** Membership of each segment the rules name, decided now (see shared/rules). */
function segmentMemberships(definition: LoadedDefinition, subject: ValidationSubject, profile: FilterProfile, now: number): Set<string> {
  const members = new Set<string>();
  for (const id of definition.segmentIds) {
    const segment = definition.segmentFilters.get(id);
    if (!segment) continue; // deleted since: nobody is a member
    const stored = segment.type === 'static' || (segment.type === 'auto-update' && subject.customer !== null);
    const member = stored ? subject.memberOf.has(id) : segment.ast !== null && evaluate(segment.ast, profile, now);
    if (member) members.add(id);
  }
  return members;
}

export type Judgement =
  | { valid: true; orderAmount: number | null; discountAmount: number; itemsCount: number }
  | ({ valid: false } & Refusal);

/** Every check of a voucher for one visitor and order, in Voucherify's order of reasons. */
export function judge(
  definition: LoadedDefinition,
  subject: ValidationSubject,
  context: ValidationContext,
  now: number,
): Judgement {
  const { voucher } = definition;
  const live = subject.vouchers.get(voucher.id);
  if (!live) return { valid: false, ...voucherNotFound(voucher.code) };
  if (live.active !== 1) return { valid: false, ...refusal('voucher is disabled', 400, 'voucher_disabled', 'Voucher is disabled') };
  if (voucher.start_date !== null && now < voucher.start_date) {
    return { valid: false, ...refusal('voucher not active', 400, 'voucher_not_active', 'Voucher not active', `Voucher starts at ${toIso(voucher.start_date)}`) };
  }
  if (voucher.expiration_date !== null && now > voucher.expiration_date) {
    return { valid: false, ...refusal('voucher expired', 400, 'voucher_expired', 'Voucher expired', `Voucher expired at ${toIso(voucher.expiration_date)}`) };
  }
  if (live.quantity !== null && live.redeemed_quantity >= live.quantity) {
    return { valid: false, ...refusal('quantity exceeded', 400, 'quantity_exceeded', 'Quantity exceeded') };
  }
  const figures = orderFigures(context.order, context.amount);
  const profile = subjectProfile(subject, context);
  const ruleContext = {
    orderAmount: figures.amount ?? 0,
    itemsCount: figures.itemsCount,
    segmentIds: segmentMemberships(definition, subject, profile, now),
    profile,
    now,
  };
  for (const ruleSet of definition.ruleSets) {
    const violation = checkRuleSet(ruleSet, ruleContext);
    if (!violation) continue;
    const failure =
      violation.category === 'customer'
        ? refusal('customer does not match segment rules', 400, 'customer_rules_violated', 'Customer does not match validation rules')
        : refusal('order does not match validation rules', 400, 'order_rules_violated', 'Order does not match validation rules');
    // A custom message of the failing rule (or of its rule set) is what the shop shows its customer.
    if (violation.message) failure.error = { ...failure.error, message: violation.message };
    return { valid: false, ...failure };
  }
  return {
    valid: true,
    orderAmount: figures.amount,
    discountAmount: discountAmount(voucher.discount, figures.amount ?? 0),
    itemsCount: figures.itemsCount,
  };
}

const emptyList = () => ({ object: 'list' as const, data_ref: 'data' as const, data: [], total: 0 });

export function orderSummary(
  order: OrderInput | undefined,
  amount: number | null,
  discount: number,
  customerId: string | null,
): OrderSummary {
  const summary: OrderSummary = {
    amount: amount ?? 0,
    discount_amount: discount,
    total_discount_amount: discount,
    total_amount: Math.max(0, (amount ?? 0) - discount),
    applied_discount_amount: discount,
    total_applied_discount_amount: discount,
    metadata: order?.metadata ?? {},
    customer_id: customerId,
    referrer_id: null,
    object: 'order',
  };
  if (order?.items) summary.items = order.items;
  return summary;
}

/** The answer of a validate call, valid or not (always HTTP 200), in Voucherify's shape. */
export function validateResponse(
  code: string,
  definition: LoadedDefinition | null,
  judgement: Judgement,
  context: ValidationContext,
  trackingId: string,
  customerId: string | null,
  requestId: string,
) {
  if (!judgement.valid || !definition) {
    const failure = judgement.valid ? voucherNotFound(code) : judgement;
    return { valid: false, reason: failure.reason, error: { ...failure.error, request_id: requestId }, tracking_id: trackingId, code, metadata: {} };
  }
  const { voucher } = definition;
  return {
    valid: true,
    code: voucher.code,
    applicable_to: emptyList(),
    inapplicable_to: emptyList(),
    tracking_id: trackingId,
    order: orderSummary(context.order, judgement.orderAmount, judgement.discountAmount, customerId),
    discount: voucher.discount,
    metadata: voucher.metadata,
    start_date: voucher.start_date === null ? null : toIso(voucher.start_date),
    expiration_date: voucher.expiration_date === null ? null : toIso(voucher.expiration_date),
    campaign: null,
    campaign_id: null,
  };
}

/**
 * Validates one voucher for a visitor: one KV read (the voucher's definition) and one D1 batch
 * (record the attempt on the tracking profile, read the visitor and the live counters).
 */
export async function validateVoucher(env: Env, code: string, context: ValidationContext, requestId: string) {
  const now = Date.now();
  const [definition, tracking, hmac] = await Promise.all([
    loadVoucherDefinition(env, code),
    resolveTrackingId(env.TRACKING_SECRET, context.tracking_id),
    identityHmac(env.TRACKING_SECRET, context.identity_hash),
  ]);
  const subject = await readValidationSubject(env.DB, {
    trackingId: tracking.id,
    customerRef: context.customer?.id ?? context.customer?.source_id ?? null,
    identityHmac: hmac,
    segmentIds: definition?.segmentIds ?? [],
    voucherIds: definition ? [definition.voucher.id] : [],
    attempt: { codes: [code], amount: orderFigures(context.order, context.amount).amount, now },
  });
  assertOneCustomer(subject, context.customer?.id ?? context.customer?.source_id);
  const judgement: Judgement = definition ? judge(definition, subject, context, now) : { valid: false, ...voucherNotFound(code) };
  const body = validateResponse(code, definition, judgement, context, tracking.id, subject.customer?.id ?? null, requestId);
  return { body, trackingId: tracking.id };
}

/** POST /v1/validations and /client/v1/validations: several vouchers for one visitor and order. */
export async function validateStackable(env: Env, codes: string[], context: ValidationContext, requestId: string) {
  const now = Date.now();
  const [definitions, tracking, hmac] = await Promise.all([
    Promise.all(codes.map((code) => loadVoucherDefinition(env, code))),
    resolveTrackingId(env.TRACKING_SECRET, context.tracking_id),
    identityHmac(env.TRACKING_SECRET, context.identity_hash),
  ]);
  const known = definitions.filter((d): d is LoadedDefinition => d !== null);
  const figures = orderFigures(context.order, context.amount);
  const subject = await readValidationSubject(env.DB, {
    trackingId: tracking.id,
    customerRef: context.customer?.id ?? context.customer?.source_id ?? null,
    identityHmac: hmac,
    segmentIds: [...new Set(known.flatMap((d) => d.segmentIds))],
    voucherIds: known.map((d) => d.voucher.id),
    attempt: { codes, amount: figures.amount, now },
  });
  assertOneCustomer(subject, context.customer?.id ?? context.customer?.source_id);
  const customerId = subject.customer?.id ?? null;
  const results = codes.map((code, i) => {
    const definition = definitions[i] ?? null;
    const judgement: Judgement = definition ? judge(definition, subject, context, now) : { valid: false, ...voucherNotFound(code) };
    return { code, definition, judgement };
  });
  const applicable = results.filter((r) => r.judgement.valid && r.definition);
  const discount = applicable.reduce((sum, r) => sum + (r.judgement.valid ? r.judgement.discountAmount : 0), 0);
  const orderTotal = Math.min(discount, figures.amount ?? 0);
  return {
    body: {
      valid: applicable.length === results.length,
      redeemables: applicable.map(({ code, definition, judgement }) => ({
        status: 'APPLICABLE',
        id: code,
        object: 'voucher',
        order: orderSummary(context.order, figures.amount, judgement.valid ? judgement.discountAmount : 0, customerId),
        applicable_to: emptyList(),
        inapplicable_to: emptyList(),
        result: { discount: definition?.voucher.discount },
        metadata: definition?.voucher.metadata ?? {},
      })),
      inapplicable_redeemables: results
        .filter((r) => !r.judgement.valid)
        .map(({ code, judgement }) => ({
          status: 'INAPPLICABLE',
          id: code,
          object: 'voucher',
          result: judgement.valid ? {} : { error: { ...judgement.error, request_id: requestId }, details: { message: judgement.reason } },
        })),
      skipped_redeemables: [],
      order: orderSummary(context.order, figures.amount, orderTotal, customerId),
      tracking_id: tracking.id,
      stacking_rules: { redeemables_limit: 30, applicable_redeemables_limit: 5, applicable_exclusive_redeemables_limit: 1, exclusive_categories: [], joint_categories: [] },
    },
    trackingId: tracking.id,
  };
}
