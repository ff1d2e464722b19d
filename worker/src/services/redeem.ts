import * as customersDb from '../db/customers';
import * as redemptionsDb from '../db/redemptions';
import { findTrackingProfile, linkAndMerge, type ValidationSubject } from '../db/tracking';
import * as vouchersDb from '../db/vouchers';
import type { Env } from '../env';
import { apiError, ApiError, notFound } from '../errors';
import { randomId } from '../lib/ids';
import { toIso } from '../lib/time';
import { clientRedemptionBoundsSchema, contextCustomerWrite, type OrderInput, type ValidationContext } from '../schemas/checkout';
import { parseInput } from '../lib/parse-input';
import type { LoadedDefinition } from './definitions';
import * as membership from './membership';
import { redemptionOrder } from './orders';
import { resolveTrackingId, TRACKING_ID } from './tracking';
import { redemptionWindowStarts } from '../../../shared/rules';
import { redemptionCountsOf } from '../db/tracking';
import { combine, type Pricing, totalDiscount, unpriced } from '../../../shared/discount';
import {
  judge,
  type Judgement,
  kindOf,
  type RedeemableKind,
  orderFigures,
  orderOf,
  quantityExceeded,
  type Refusal,
  ruleRefusal,
} from './validation';
import { ambiguousTrackingId, definitionsOf, isClaimedCustomer, readVisitor } from './visitor';
import { stackTiers } from './promotion-stacks';
import { type Audience, type OrderRedemptionsEntry, orderSummary, redemptionView, stackedRedemptionView } from '../views/redemption';
import { d1Refusal } from '../db/errors';
import { clientSeesVoucherMetadata } from '../views/client-voucher';
import type { Sql } from '../db/sql';
import { checkVoucherQuantity, consumeHolds } from '../db/validation-sessions';

export interface RedeemRequest {
  /** POST /v1/vouchers/{code}/redemption answers one redemption; POST /v1/redemptions the stacked envelope. */
  route: 'voucher' | 'stackable';
  /** The client key is public: it may name an existing customer, never write one. */
  caller: Audience;
  codes: string[];
  /** What each of `codes` was named as (absent: all vouchers); the tier route names one promotion tier. */
  kinds?: RedeemableKind[];
  /**
   * The promotion stack the caller sent (services/promotion-stacks.ts): `codes` are empty until the
   * visitor read has read its tiers, and are its tiers after. An Idempotency-Key is bound to the stack named, not to the tiers it held then, so a replay after
   * the stack changed answers the first request instead of refusing the key.
   */
  stackId?: string;
  context: ValidationContext;
  /** `?tracking_id=` of the URL; the body's tracking_id wins. */
  trackingIdParam?: string;
  idempotencyKey?: string;
  /** The application id of the key used: the redemption's channel.channel_id. */
  channelId: string;
}

type Refused = Extract<Judgement, { valid: false }>;
type Accepted = Extract<Judgement, { valid: true }>;

/** The tracking id a redemption names: body, query, or a customer source id that is one. */
async function redemptionTrackingId(env: Env, context: ValidationContext, param: string | undefined): Promise<string | null> {
  const given = context.tracking_id ?? param;
  if (given) return (await resolveTrackingId(env.TRACKING_SECRET, given)).id;
  const sourceId = context.customer?.source_id;
  if (sourceId && TRACKING_ID.test(sourceId) && (await findTrackingProfile(env.DB, sourceId))) return sourceId;
  return null;
}

interface Visitor {
  trackingId: string | null;
  subject: ValidationSubject;
  /**
   * The tracking_id the redemption shows (OA Redemption.tracking_id, "Hashed customer source ID",
   * readOnly-openAPI.json:L24546): the request's, else the one the customer's source_id hashes to
   * (the id the browser SDK's identity of that customer resolves to). Shown only: it links nothing.
   */
  shownTrackingId: string | null;
}

interface Plan {
  /** The customer the redemption belongs to; null for a guest checkout. */
  selector: customersDb.CustomerSelector | null;
  /** The write that creates or updates the customer, if any. */
  write: D1PreparedStatement | null;
  /** Whether the visitor's tracking profile is linked to (and merged into) the customer. */
  link: boolean;
}

const GUEST: Plan = { selector: null, write: null, link: false };

/**
 * Who is redeeming. Server key: the customer of the request, created or updated with every field
 * it carries as the customers API would (null clears); else the customer the tracking profile is
 * linked to; else a new customer whose source_id is the tracking id, so the anonymous history has a
 * profile to merge into; else a new customer if the request gave customer fields without an id;
 * else nobody (a guest checkout). Client key: only an existing customer named by id or source_id,
 * or the one the tracking profile is linked to; nothing is written to customers and no profile is
 * linked.
 */
function customerPlan(db: D1Database, request: RedeemRequest, visitor: Visitor, now: number): Plan {
  const customer = request.context.customer;
  const { subject, trackingId } = visitor;
  const named = customer?.id ?? customer?.source_id;
  const found = isClaimedCustomer(subject.customer, request.context) ? subject.customer : null;
  const linked = subject.profile?.customer_id ?? null;

  if (request.caller === 'client') {
    if (named !== undefined) {
      if (!found) throw notFound('customer', named);
      return { selector: { ids: [found.id] }, write: null, link: false };
    }
    return linked ? { selector: { ids: [linked] }, write: null, link: false } : GUEST;
  }

  const fields = customer ? contextCustomerWrite(customer) : {};
  const hasFields = Object.keys(fields).length > 0;
  const update = (id: string): Plan => ({
    selector: { ids: [id] },
    write: hasFields ? customersDb.updateCustomer(db, id, fields, now) : null,
    link: true,
  });
  const upsert = (sourceId: string): Plan => ({
    selector: { sourceIds: [sourceId] },
    write: customersDb.upsertCustomerBySourceId(db, randomId('cust_'), { ...fields, source_id: sourceId }, now),
    link: true,
  });
  if (customer?.id !== undefined) {
    if (!found) throw notFound('customer', customer.id);
    return update(found.id);
  }
  if (customer?.source_id !== undefined) return upsert(customer.source_id);
  if (linked) return update(linked);
  if (trackingId) return upsert(trackingId);
  if (hasFields) {
    const id = randomId('cust_');
    return { selector: { ids: [id] }, write: customersDb.insertCustomer(db, id, fields, now), link: false };
  }
  return GUEST;
}

/**
 * A refused redemption's error, as OA24 "Voucher disabled" (OA24:L64323): the generic reason in
 * `message`, the code in `details`, the rf_ redemption as the resource, a custom message in `error`.
 */
function redeemError(
  row: Pick<redemptionsDb.RedemptionRow, 'id' | 'code' | 'failure_code' | 'failure_message' | 'error_message'>,
  kind: RedeemableKind = 'voucher',
): ApiError {
  const key = row.failure_code ?? 'invalid_voucher';
  if (key === 'not_found') return notFound(kind, row.code);
  return new ApiError(400, key, row.failure_message ?? key, row.code, { id: row.id, type: 'redemption' }, row.error_message ?? undefined);
}

/** A guest cannot satisfy customer rules: Voucherify's answer is that the customer is missing (OA24 "Missing customer" example). */
const missingCustomer = (code: string): Refused => ({
  valid: false,
  reason: 'customer was not specified',
  error: { code: 400, key: 'missing_customer', message: 'customer was not specified', details: code },
});

/** Keys sorted at every level: two spellings of one request hash alike. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** What an Idempotency-Key is bound to: the route, the caller, the codes and the parsed body. */
async function requestHash(request: RedeemRequest): Promise<string> {
  const canonical = canonicalJson({
    route: request.route,
    caller: request.caller,
    ...(request.stackId !== undefined
      ? { stack: request.stackId }
      : {
          codes: request.codes,
          // Only when a tier is named: the keys of requests made before tiers hash as they did.
          ...(request.kinds?.some((k) => k !== 'voucher') ? { kinds: request.kinds } : {}),
        }),
    context: request.context,
    tracking_id_param: request.trackingIdParam,
  });
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonical));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Stripe's semantics: a key names one request; another request with it is refused, never answered with the first one's result. */
const idempotencyConflict = (key: string) =>
  apiError(
    'idempotency_key_conflict',
    `The Idempotency-Key ${key} was first used with a different request; use a new key for a new request.`,
  );

interface RowsInput {
  request: RedeemRequest;
  loaded: LoadedDefinition[];
  /** What each voucher does to the order, in the order of `loaded`. */
  pricings: Pricing[];
  orderAmount: number | null;
  trackingId: string | null;
  hash: string | null;
  now: number;
}

/**
 * What a stacked child of the public client key stores of the order and metadata: its own figures,
 * without the free-form echo of the request (the order's and items' metadata, items' product and
 * sku records), which its parent keeps once. Anyone holding the public key can stack up to 30
 * codes, and each row would otherwise store the same echo again.
 */
function withoutEcho(order: OrderInput | undefined): OrderInput | undefined {
  if (!order) return order;
  const { metadata: _metadata, items, ...figures } = order;
  return { ...figures, ...(items ? { items: items.map(({ metadata: _m, product: _p, sku: _s, ...line }) => line) } : {}) };
}

/**
 * The rows of a successful redemption: one per voucher, and for POST /v1/redemptions a parent
 * that carries the idempotency key and the whole order. All of them share one order (its id, and
 * its redemptions map naming the parent and the children it stacks). The public key's children
 * keep their figures only (withoutEcho).
 */
export function buildRedemptionRows(input: RowsInput): { head: redemptionsDb.RedemptionRow; children: redemptionsDb.RedemptionRow[] } {
  const { request, loaded, pricings, orderAmount, now } = input;
  const { context } = request;
  const placed = { id: context.order?.id ?? randomId('ord_'), createdAt: now };
  const base = unpriced({ amount: orderAmount, lines: context.order?.items ?? [] });
  const date = toIso(now);
  const row = (
    id: string,
    voucher: LoadedDefinition['voucher'] | null,
    pricing: Pricing,
    redemptions: Record<string, OrderRedemptionsEntry>,
    echo = true,
  ): redemptionsDb.RedemptionRow => ({
    id,
    object: 'redemption',
    result: 'SUCCESS',
    status: 'SUCCEEDED',
    voucher_id: voucher?.id ?? null,
    code: voucher?.code ?? '',
    customer_id: null,
    tracking_id: input.trackingId,
    amount: orderAmount,
    discount_amount: totalDiscount(pricing),
    order_json: JSON.stringify({ ...orderSummary(echo ? context.order : withoutEcho(context.order), pricing, null, placed), redemptions }),
    metadata: JSON.stringify((echo ? context.metadata : undefined) ?? {}),
    failure_code: null,
    failure_message: null,
    parent_id: null,
    rollback_of: null,
    idempotency_key: null,
    created_at: now,
    request_hash: null,
    reason: null,
    error_message: null,
    channel_id: request.channelId,
  });
  const keyed = (r: redemptionsDb.RedemptionRow) => ({ ...r, idempotency_key: request.idempotencyKey ?? null, request_hash: input.hash });

  if (request.route === 'voucher') {
    const id = randomId('r_');
    const voucher = loaded[0]?.voucher ?? null;
    const head = row(id, voucher, pricings[0] ?? base, {
      [id]: { date, related_object_type: voucher?.tier ? 'promotion_tier' : 'voucher', related_object_id: voucher?.id ?? null },
    });
    return { head: keyed(head), children: [] };
  }
  const parentId = randomId('r_');
  const childIds = loaded.map(() => randomId('r_'));
  const redemptions = { [parentId]: { date, related_object_type: 'redemption' as const, related_object_id: parentId, stacked: childIds } };
  return {
    head: keyed(row(parentId, null, combine(base, pricings), redemptions)),
    children: loaded.map((d, i) => ({
      ...row(childIds[i] as string, d.voucher, pricings[i] ?? base, redemptions, request.caller === 'server'),
      parent_id: parentId,
    })),
  };
}

/**
 * The guards of the limits the judgements relied on (migration 0016), for the customer `customer`
 * selects at that point of the batch: per voucher, the most earlier redemptions the customer may
 * have in each window the rules count in (what the judge counted plus the headroom), and the holder
 * status the rules need kept. Any other redemption of the customer that commits first and uses up
 * the headroom, or a change of holder, aborts the batch.
 */
function limitGuards(
  db: D1Database,
  input: { loaded: LoadedDefinition[]; judgements: Accepted[]; subject: ValidationSubject; customer: Sql; now: number },
) {
  const starts = redemptionWindowStarts(input.now);
  return input.loaded.flatMap((definition, i) => {
    const { redemptions, holder } = input.judgements[i]?.commit ?? { redemptions: null, holder: null };
    const id = definition.voucher.id;
    const counts = redemptionCountsOf(input.subject, id);
    const guards: D1PreparedStatement[] = [];
    for (const window of redemptions?.windows ?? []) {
      guards.push(
        redemptionsDb.checkCustomerRedemptions(
          db,
          id,
          input.customer,
          starts[window],
          counts[window] + (redemptions?.headroom ?? 0),
          input.now,
        ),
      );
    }
    if (holder) guards.push(vouchersDb.checkVoucherHolder(db, id, input.customer, holder.isHolder));
    return guards;
  });
}

/** The refusal to record when a limit guard aborted the batch: the first voucher whose judgement relied on that limit. */
function guardRefusal(
  loaded: LoadedDefinition[],
  judgements: Accepted[],
  guard: 'redemptions' | 'holder',
): { voucher: LoadedDefinition['voucher'] | null; refusal: Refusal } {
  const at = judgements.findIndex((j) => j.commit[guard] !== null);
  const violation = judgements[at]?.commit[guard]?.violation ?? { kind: guard === 'holder' ? 'holder' : 'customer_redemptions' };
  const voucher = loaded[Math.max(at, 0)]?.voucher ?? null;
  return { voucher, refusal: ruleRefusal(violation, voucher?.code ?? '') };
}

/**
 * The write of a redemption as one batch, and how to read its answer back from the results:
 * customer upsert, one unit of each voucher (the table's CHECK refuses the unit past the quantity
 * and rolls everything back), link and merge of the tracking profile (its trigger refuses a second
 * customer), summary, the rows, the customer's auto-update segments, then the customer and the
 * vouchers as they are now.
 */
function redemptionBatch(
  db: D1Database,
  input: {
    plan: Plan;
    rows: redemptionsDb.RedemptionRow[];
    /** The key that made the request: its rows carry its class and its idempotency key namespace. */
    keyClass: redemptionsDb.KeyClass;
    loaded: LoadedDefinition[];
    judgements: Accepted[];
    subject: ValidationSubject;
    trackingId: string | null;
    orderAmount: number | null;
    /** The request's order: what a new order row takes. */
    order: OrderInput | undefined;
    active: membership.ActiveSegment[];
    /** The validation session the redemption carries: its holds of these vouchers are consumed. */
    sessionKey: string | null;
    now: number;
  },
) {
  const { plan, now } = input;
  const sel = plan.selector ? customersDb.selectorSql(plan.selector) : null;
  const writes: D1PreparedStatement[] = [];
  if (plan.write) writes.push(plan.write);
  const voucherIds = input.loaded.map((d) => d.voucher.id);
  // The session's own holds go first, so that every guard below counts only the holds of others.
  if (input.sessionKey !== null) writes.push(consumeHolds(db, input.sessionKey, voucherIds));
  // First: each voucher is still the one judged (else the batch aborts: voucher_definition_changed).
  writes.push(...input.loaded.map((d) => vouchersDb.checkVoucherVersion(db, d.voucher.id, d.version)));
  // Then the per-customer and holder limits, against the customer as the plan's write left it.
  if (sel) writes.push(...limitGuards(db, { ...input, customer: sel }));
  writes.push(...input.loaded.map((d) => redemptionsDb.takeVoucherUnit(db, d.voucher.id, now)));
  // The units redeemed plus the live holds of other sessions within the quantity (migration 0033).
  for (const d of input.loaded) {
    if (input.subject.vouchers.get(d.voucher.code)?.quantity != null) writes.push(checkVoucherQuantity(db, d.voucher.id, now));
  }
  if (sel && plan.link && input.trackingId) writes.push(...linkAndMerge(db, input.trackingId, sel, now));
  if (sel) writes.push(redemptionsDb.recordRedemptionInSummary(db, sel, { succeeded: true, now }));
  // The order, in the orders table (an existing one by source_id is attached, not counted again),
  // and summary.orders.* recomputed from it, before the segments are refreshed.
  const head = input.rows[0];
  const order = head
    ? redemptionOrder(db, {
        order: input.order,
        placedId: (JSON.parse(head.order_json) as { id: string }).id,
        amount: input.orderAmount,
        discount: head.discount_amount,
        customer: sel,
        now,
      })
    : null;
  if (order) writes.push(...order.statements);
  writes.push(...input.rows.map((row) => redemptionsDb.insertRedemption(db, row, sel, input.keyClass, order?.id)));
  // The customer-write pipeline: these writes, the customer's segments refreshed, the customer read back.
  const customerWrite = plan.selector ? membership.customerWriteBatch(db, input.active, writes, plan.selector, now) : null;
  const statements = customerWrite ? customerWrite.statements : writes;
  const vouchersAt =
    statements.push(
      vouchersDb.selectVouchers(
        db,
        input.loaded.map((d) => d.voucher.id),
      ),
    ) - 1;
  const orderAt = order ? statements.push(order.read) - 1 : -1;
  return {
    statements,
    read(
      results: D1Result<Record<string, unknown>>[],
    ): redemptionsDb.RedemptionRelations & { customerId: string | null; orderId: string | null } {
      const customer = customerWrite?.customers(results)[0];
      const vouchers = (results[vouchersAt]?.results ?? []) as unknown as vouchersDb.VoucherRow[];
      const stored = orderAt === -1 ? undefined : (results[orderAt]?.results[0] as { id?: string } | undefined);
      return {
        orderId: stored?.id ?? null,
        customerId: customer?.id ?? null,
        customers: new Map(customer ? [[customer.id, customer]] : []),
        vouchers: new Map(vouchers.map((v) => [v.id, v])),
      };
    },
  };
}

/** The answer of a redeem route for rows already written (first answer, or a replay). */
function answer(
  env: Env,
  request: RedeemRequest,
  head: redemptionsDb.RedemptionRow,
  children: redemptionsDb.RedemptionRow[],
  related: redemptionsDb.RedemptionRelations,
) {
  const stacked = head.code === '' && head.voucher_id === null;
  const shown = { voucherMetadata: clientSeesVoucherMetadata(env) };
  if (request.route === 'stackable' && stacked) return stackedRedemptionView(head, children, related, request.caller, shown);
  return redemptionView(head, related, request.caller, shown);
}

/**
 * POST /v1/vouchers/{code}/redemption, POST /v1/redemptions and POST /client/v1/redemptions.
 * Reads in one batch, judges every voucher, then writes in one batch; all or nothing.
 */
export async function redeem(env: Env, request: RedeemRequest) {
  // The public key's request is bounded before anything is read or written: a 400 names the field.
  if (request.caller === 'client')
    parseInput(clientRedemptionBoundsSchema, { metadata: request.context.metadata, order: request.context.order });
  for (let attempt = 1; ; attempt++) {
    try {
      return await redeemOnce(env, request);
    } catch (error) {
      // The voucher changed (or went away) between the judgement and the write: judge again against
      // what replaced it; a voucher that keeps changing under the request is a conflict.
      if (!(error instanceof VoucherChanged)) throw error;
      if (attempt === MAX_REDEEM_ATTEMPTS) {
        throw apiError('voucher_changed', 'The voucher changed while it was being redeemed; send the request again.');
      }
    }
  }
}

class VoucherChanged extends Error {}
const MAX_REDEEM_ATTEMPTS = 3;

async function redeemOnce(env: Env, request: RedeemRequest) {
  const { context, idempotencyKey } = request;
  const hash = idempotencyKey ? await requestHash(request) : null;
  if (idempotencyKey) {
    // Looked up in the namespace of the caller's class of key only (migration 0024).
    const previous = await redemptionsDb.findRedemptionGroup(env.DB, { idempotencyKey, keyClass: request.caller });
    if (previous.head) return replay(env, request, hash, previous);
  }
  const now = Date.now();
  const trackingId = await redemptionTrackingId(env, context, request.trackingIdParam);
  // A redemption carrying a validation session's key: that session's holds are its own units.
  const sessionKey = context.session?.key ?? null;
  const subject = await readVisitor(env, request.codes, context, trackingId, now, undefined, undefined, request.stackId, sessionKey);
  // A stack is redeemed as its tiers, read with the visitor (services/promotion-stacks.ts).
  if (request.stackId !== undefined) request = { ...request, ...stackTiers(subject, request.stackId) };
  const sourceId = context.customer?.source_id;
  const shownTrackingId = trackingId ?? (sourceId ? (await resolveTrackingId(env.TRACKING_SECRET, sourceId)).id : null);
  const visitor: Visitor = { trackingId, subject, shownTrackingId };
  const definitions = await definitionsOf(env, visitor.subject, request.codes);
  const kindAt = (i: number): RedeemableKind => request.kinds?.[i] ?? 'voucher';
  // A code named as a tier, or a tier named as a code, is not found as the kind asked for.
  const missing = definitions.findIndex((d, i) => d === null || kindOf(d) !== kindAt(i));
  if (missing !== -1) throw await recordUnknownCode(env.DB, request, request.codes[missing] as string, kindAt(missing), hash, now);
  const loaded = definitions as LoadedDefinition[];
  // The judgement rests on two reads: the live state read with the visitor (active, quantity,
  // holder, at version V) and the definition of V. A definition missing from the caches is read
  // from D1 after the visitor read and comes back at whatever version is current then (a disable
  // or PUT that committed in between gives V+1), and the batch's guard checks the definition's
  // version: it would let a redemption judged "active" on V commit after the disable that made
  // V+1, as if the voucher were still enabled. Both halves must be of one version; else the
  // voucher changed under the request and it is judged again from a fresh read, where that
  // definition is now cached.
  if (loaded.some((d, i) => d.version !== visitor.subject.vouchers.get(request.codes[i] as string)?.definition_version))
    throw new VoucherChanged();

  const plan = customerPlan(env.DB, request, visitor, now);
  const figures = orderFigures(context.order, context.amount);
  const judgements = loaded.map((definition, i) => judge(definition, visitor.subject, context, now, kindAt(i)));
  const refusedAt = judgements.findIndex((j) => !j.valid);
  if (refusedAt !== -1) {
    let refusal = judgements[refusedAt] as Refused;
    if (refusal.error.key === 'customer_rules_violated' && plan.selector === null) refusal = missingCustomer(refusal.error.details);
    throw await recordFailure(env.DB, {
      request,
      plan,
      visitor,
      voucher: loaded[refusedAt]?.voucher ?? null,
      refusal,
      orderAmount: figures.amount,
      hash,
      now,
    });
  }

  const accepted = judgements as Accepted[];
  // A limit per customer (or to the holder) cannot be kept for a guest checkout: Voucherify's answer
  // is that the customer is missing (OA24 "Missing customer" example).
  const limitedAt = accepted.findIndex((j) => j.commit.redemptions !== null || j.commit.holder !== null);
  if (plan.selector === null && limitedAt !== -1) {
    const voucher = loaded[limitedAt]?.voucher ?? null;
    throw await recordFailure(env.DB, {
      request,
      plan,
      visitor,
      voucher,
      refusal: missingCustomer(voucher?.code ?? ''),
      orderAmount: figures.amount,
      hash,
      now,
    });
  }

  const pricings = accepted.map((j) => j.pricing);
  const { head, children } = buildRedemptionRows({
    request,
    loaded,
    pricings,
    orderAmount: figures.amount,
    trackingId: visitor.shownTrackingId,
    hash,
    now,
  });
  // The segments' version came with the visitor read: a current isolate cache costs no round trip.
  const active = plan.selector ? await membership.activeSegmentsAt(env.DB, visitor.subject.segmentsVersion) : [];
  const batch = redemptionBatch(env.DB, {
    plan,
    rows: [head, ...children],
    keyClass: request.caller,
    loaded,
    judgements: accepted,
    subject: visitor.subject,
    trackingId: visitor.trackingId,
    orderAmount: figures.amount,
    order: context.order,
    active,
    sessionKey,
    now,
  });
  let results: D1Result<Record<string, unknown>>[];
  try {
    results = await env.DB.batch<Record<string, unknown>>(batch.statements);
  } catch (error) {
    const reason = d1Refusal(error);
    if (reason === 'voucher_definition_changed') throw new VoucherChanged();
    if (reason === 'customer_redemption_limit_reached' || reason === 'voucher_holder_mismatch') {
      // Another redemption of this customer used the last allowed one (or the holder changed)
      // between our read and our write: refused as the judge would refuse it now.
      const { voucher, refusal } = guardRefusal(loaded, accepted, reason === 'voucher_holder_mismatch' ? 'holder' : 'redemptions');
      throw await recordFailure(env.DB, { request, plan, visitor, voucher, refusal, orderAmount: figures.amount, hash, now });
    }
    if (reason === 'voucher_quantity_exceeded') {
      // Another redemption took the last unit between our read and our write.
      const limited = loaded.find((d) => visitor.subject.vouchers.get(d.voucher.code)?.quantity != null) ?? loaded[0];
      const refusal = { valid: false as const, ...quantityExceeded(limited?.voucher.code ?? '') };
      throw await recordFailure(env.DB, {
        request,
        plan,
        visitor,
        voucher: limited?.voucher ?? null,
        refusal,
        orderAmount: figures.amount,
        hash,
        now,
      });
    }
    if (reason === 'ambiguous_tracking_id' && visitor.trackingId) {
      // A concurrent redemption linked the profile to someone else after our read.
      // Named as the caller sent it: a raw identity's derived `track_…` id is never shown.
      throw ambiguousTrackingId(
        context.tracking_id ?? request.trackingIdParam ?? visitor.trackingId,
        context.customer?.source_id ?? context.customer?.id ?? 'this customer',
      );
    }
    if (reason === 'duplicate_idempotency_key' && idempotencyKey) {
      const first = await redemptionsDb.findRedemptionGroup(env.DB, { idempotencyKey, keyClass: request.caller });
      if (first.head) return replay(env, request, hash, first);
    }
    throw error;
  }
  const { customerId, orderId, ...related } = batch.read(results);
  // The order's id as stored (the existing order a source_id named), as the rows were written.
  const withOrder = (json: string) => (orderId ? JSON.stringify({ ...(JSON.parse(json) as object), id: orderId }) : json);
  const written = (row: redemptionsDb.RedemptionRow) => ({ ...row, customer_id: customerId, order_json: withOrder(row.order_json) });
  return answer(env, request, written(head), children.map(written), related);
}

/** A retry of a request already answered: the same answer, nothing written again; another request with the key: 409. */
function replay(env: Env, request: RedeemRequest, hash: string | null, previous: redemptionsDb.RedemptionGroup) {
  const head = previous.head as redemptionsDb.RedemptionRow;
  // Rows written before migration 0006 have no hash: they are answered as before.
  if (head.request_hash !== null && head.request_hash !== hash) throw idempotencyConflict(request.idempotencyKey ?? '');
  // An unknown redeemable's replay names it as the kind the request asked for, as the first answer did.
  // A stack's tiers may have changed since the first answer: what it redeemed were tiers.
  const kind = request.stackId !== undefined ? 'promotion_tier' : (request.kinds?.[request.codes.indexOf(head.code)] ?? 'voucher');
  if (head.result === 'FAILURE') throw redeemError(head, kind);
  return answer(env, request, head, previous.children, previous);
}

function failureRow(
  request: RedeemRequest,
  fields: Pick<
    redemptionsDb.RedemptionRow,
    'code' | 'voucher_id' | 'tracking_id' | 'amount' | 'failure_code' | 'failure_message' | 'error_message' | 'request_hash' | 'created_at'
  >,
): redemptionsDb.RedemptionRow {
  return {
    ...fields,
    id: randomId('rf_'),
    object: 'redemption',
    result: 'FAILURE',
    status: 'FAILED',
    customer_id: null,
    discount_amount: 0,
    order_json: '{}',
    metadata: JSON.stringify(request.context.metadata ?? {}),
    parent_id: null,
    rollback_of: null,
    idempotency_key: request.idempotencyKey ?? null,
    reason: null,
    channel_id: request.channelId,
  };
}

/**
 * An unknown code is recorded as a failed redemption of nobody (OA24 "Failed Redemption",
 * OA24:L63225: customer null, related to itself): no customer is looked up, so nothing can race.
 * Not for the public client key: anyone can send it codes that do not exist, as fast as the rate
 * limit allows, and each row would be stored for them; its 404 records nothing.
 */
async function recordUnknownCode(
  db: D1Database,
  request: RedeemRequest,
  code: string,
  kind: RedeemableKind,
  hash: string | null,
  now: number,
): Promise<ApiError> {
  if (request.caller === 'client') return notFound(kind, code);
  const row = failureRow(request, {
    code,
    voucher_id: null,
    tracking_id: null,
    amount: null,
    failure_code: 'not_found',
    failure_message: 'Resource not found',
    error_message: null,
    request_hash: hash,
    created_at: now,
  });
  try {
    await redemptionsDb.insertRedemption(db, row, null, request.caller).run();
  } catch (error) {
    if (d1Refusal(error) !== 'duplicate_idempotency_key') throw error;
  }
  return notFound(kind, code);
}

/** A refused redemption is recorded (rf_) and counts in the customer's summary.redemptions. */
async function recordFailure(
  db: D1Database,
  input: {
    request: RedeemRequest;
    plan: Plan;
    visitor: Visitor;
    voucher: LoadedDefinition['voucher'] | null;
    refusal: Refusal;
    orderAmount: number | null;
    hash: string | null;
    now: number;
  },
): Promise<ApiError> {
  const { plan, refusal, now } = input;
  const row = failureRow(input.request, {
    code: input.voucher?.code ?? '',
    voucher_id: input.voucher?.id ?? null,
    tracking_id: input.visitor.shownTrackingId,
    amount: input.orderAmount,
    failure_code: refusal.error.key,
    failure_message: refusal.reason,
    error_message: refusal.customMessage ?? null,
    request_hash: input.hash,
    created_at: now,
  });
  const sel = plan.selector ? customersDb.selectorSql(plan.selector) : null;
  try {
    await db.batch([
      ...(plan.write ? [plan.write] : []),
      ...(sel ? [redemptionsDb.recordRedemptionInSummary(db, sel, { succeeded: false, now })] : []),
      redemptionsDb.insertRedemption(db, row, sel, input.request.caller),
    ]);
  } catch (error) {
    if (d1Refusal(error) !== 'duplicate_idempotency_key') throw error;
  }
  return redeemError(row);
}
