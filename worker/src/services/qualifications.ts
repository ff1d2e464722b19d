import { unpriced } from '../../../shared/discount';
import type { RuleSet } from '../../../shared/rules';
import type { OfferRow } from '../db/qualifications';
import { offerRows } from '../db/qualifications';
import { readValidationSubject, type ValidationSubject } from '../db/tracking';
import type { Env } from '../env';
import type { ValidationContext } from '../schemas/checkout';
import { type FilterConditions, type QualificationInput, qualificationOptions, type QualificationOptions } from '../schemas/qualifications';
import { type QualifiedOffer, qualificationView } from '../views/qualification';
import type { LoadedDefinition } from './definitions';
import { offerDefinitions } from './offer-definitions';
import { identityHmac, resolveTrackingId } from './tracking';
import { judgeCode, orderOf } from './validation';
import { assertOneCustomer, claimedCustomerRef } from './visitor';

/** Who asks: the server key (the shop) or the public client key. */
export interface QualifyOptions {
  client: boolean;
  /**
   * Whether the customer's own codes are candidates: always for the server key; for the client key
   * only when the customer was named by a claim identity verification accepted (services/identity.ts),
   * never for a visitor known only by a device's tracking id.
   */
  wallet: boolean;
  /** Client key: the voucher metadata the operator lets it see (CLIENT_VOUCHER_METADATA). */
  showMetadata: boolean;
}

const isTier = (row: OfferRow) => row.type === 'PROMOTION_TIER';

/** A candidate's value of each filter field (QualificationsOption.filters, voucherify-openapi qualifications.json:L494-L651). */
function fieldValue(field: string, row: OfferRow, customerId: string | null): string | null {
  switch (field) {
    case 'resource_type':
      return isTier(row) ? 'promotion_tier' : 'voucher';
    case 'resource_id':
    case 'code':
      return field === 'code' && isTier(row) ? null : row.code;
    case 'campaign_id':
      return row.campaign_id;
    case 'campaign_type':
      return isTier(row) ? 'PROMOTION' : row.campaign_id ? 'DISCOUNT_COUPONS' : null;
    case 'voucher_type':
      return isTier(row) ? null : row.type;
    case 'holder_role':
      return customerId !== null && row.holder_id === customerId ? 'OWNER' : null;
    default:
      // category_id: nothing here has a category.
      return null;
  }
}

/** One field's conditions, all of which must hold. `$is` / `$is_not` compare with the first value (the spec's words for holder_role). */
function conditionsHold(value: string | null, c: FilterConditions): boolean {
  if (c.$in && !(value !== null && c.$in.includes(value))) return false;
  if (c.$not_in && value !== null && c.$not_in.includes(value)) return false;
  if (c.$is && value !== c.$is[0]) return false;
  if (c.$is_not && value === c.$is_not[0]) return false;
  if (c.$has_value !== undefined && value === null) return false;
  if (c.$is_unknown !== undefined && value !== null) return false;
  return true;
}

/** Whether a candidate passes the request's filters (fields joined by `junction`, `and` by default). */
export function passesFilters(row: OfferRow, filters: QualificationOptions['filters'], customerId: string | null): boolean {
  if (!filters) return true;
  const { junction, ...fields } = filters;
  const tests = Object.entries(fields).flatMap(([field, f]) =>
    f?.conditions ? [conditionsHold(fieldValue(field, row, customerId), f.conditions)] : [],
  );
  if (tests.length === 0) return true;
  return junction?.toLowerCase() === 'or' ? tests.some(Boolean) : tests.every(Boolean);
}

/**
 * AUDIENCE_ONLY judges "the rules based on the customer profile only" (qualifications.json:L359):
 * the same definition with its order rules (amount, items count, items) made to hold, so that
 * judgeCode, the one judge, decides everything else exactly as validate does.
 */
const audienceDefinitions = new WeakMap<LoadedDefinition, LoadedDefinition>();
function audienceOnly(definition: LoadedDefinition): LoadedDefinition {
  const known = audienceDefinitions.get(definition);
  if (known) return known;
  const ruleSets: RuleSet[] = definition.ruleSets.map((set) => ({
    ...set,
    rules: set.rules.map((rule) =>
      rule.kind === 'order_amount' || rule.kind === 'order_items_count' || rule.kind === 'order_items'
        ? { key: rule.key, name: rule.name, kind: 'holder' as const, required: false }
        : rule,
    ),
  }));
  const derived = { ...definition, ruleSets };
  audienceDefinitions.set(definition, derived);
  return derived;
}

/**
 * Judges every candidate for one visitor and order: the candidates, their live counters and the
 * visitor in one read-only D1 batch (a replica may serve it), their definitions from this isolate
 * or one KV entry (services/offer-definitions.ts), each judged by judgeCode as validate judges it,
 * with the discount validate computes. Nothing is written: no customer, no attempt, no visit.
 */
export async function qualify(env: Env, input: QualificationInput, who: QualifyOptions) {
  const now = Date.now();
  const options = qualificationOptions(input);
  const context: ValidationContext = input;
  const tracking = await resolveTrackingId(env.TRACKING_SECRET, context.tracking_id);
  const hmac = await identityHmac(env.TRACKING_SECRET, context.identity_hash);
  const subject: ValidationSubject = await readValidationSubject(env.DB, {
    now,
    trackingId: context.tracking_id !== undefined ? tracking.id : null,
    customerRef: claimedCustomerRef(context),
    identityHmac: hmac,
    codes: [],
    liveVouchers: offerRows({
      tiers: options.scenario !== 'CUSTOMER_WALLET',
      publicCodes: options.scenario !== 'CUSTOMER_WALLET',
      wallet: who.wallet,
    }),
  });
  assertOneCustomer(subject, context);
  const customerId = subject.customer?.id ?? null;
  const candidates = [...subject.vouchers.values()] as OfferRow[];
  const wanted = (row: OfferRow) => passesFilters(row, options.filters, customerId);
  // In the order read: newest first (created_at, then id, descending).
  const rows = candidates.filter(wanted);
  const definitions = await offerDefinitions(env, candidates, wanted);
  const base = unpriced(orderOf(context));
  const qualified: QualifiedOffer[] = [];
  for (const row of rows) {
    const found = definitions.get(row.code) ?? null;
    const definition = found && options.scenario === 'AUDIENCE_ONLY' ? audienceOnly(found) : found;
    if (!definition) continue;
    const judgement = judgeCode(row.code, definition, subject, context, now, null);
    if (judgement.valid) qualified.push({ row, definition, pricing: judgement.pricing, discountAmount: judgement.discountAmount });
    // An item discount with no items in the request: the order is not this scenario's business.
    else if (options.scenario === 'AUDIENCE_ONLY' && judgement.error.key === 'missing_order_items')
      qualified.push({ row, definition, pricing: base, discountAmount: 0 });
  }
  const page = pageOf(qualified, options);
  return {
    body: qualificationView(page, context, base, tracking.id, who.client ? null : customerId, {
      metadata: !who.client || who.showMetadata,
      ruleIds: !who.client,
    }),
    trackingId: tracking.id,
  };
}

/**
 * One page of the qualified offers. DEFAULT: newest first, the cursor is the `created_at` of the
 * last one shown (qualifications.json:L45, "Paging"); a page never ends inside a group of offers
 * created in the same millisecond (a campaign's codes often are), since the cursor could not tell
 * them apart: the group moves to the next page (or, filling a whole page alone, is shown whole).
 * BEST_DEAL / LEAST_DEAL order every qualified offer by its discount on this order (ties newest
 * first); they page by `limit` only (the cursor is a date and cannot say where a deal order stopped).
 */
export function pageOf(qualified: QualifiedOffer[], options: QualificationOptions) {
  if (options.sortingRule !== 'DEFAULT') {
    const sign = options.sortingRule === 'BEST_DEAL' ? -1 : 1;
    const sorted = [...qualified].sort((a, b) => sign * (a.discountAmount - b.discountAmount));
    return { data: sorted.slice(0, options.limit), hasMore: sorted.length > options.limit, cursor: null };
  }
  const after = options.startingAfter;
  const rest = after === null ? qualified : qualified.filter((q) => q.row.created_at < after);
  if (rest.length <= options.limit) return { data: rest, hasMore: false, cursor: null };
  let end = options.limit;
  const boundary = (rest[end - 1] as QualifiedOffer).row.created_at;
  if ((rest[end] as QualifiedOffer).row.created_at === boundary) {
    const groupStart = rest.findIndex((q) => q.row.created_at === boundary);
    let groupEnd = end;
    while (groupEnd < rest.length && (rest[groupEnd] as QualifiedOffer).row.created_at === boundary) groupEnd++;
    end = groupStart > 0 ? groupStart : groupEnd;
  }
  const data = rest.slice(0, end);
  const hasMore = end < rest.length;
  return { data, hasMore, cursor: hasMore ? (data[data.length - 1] as QualifiedOffer).row.created_at : null };
}
