import { type Pricing, priceOrder, totalDiscount, unpriced, worksOnItems } from '../../../shared/discount';
import type { ExplainNode } from '../../../shared/explain';
import { evaluate, explainFilter, type FilterProfile } from '../../../shared/filter';
import { checkRuleSet, type CommitChecks, commitChecks, type RuleViolation } from '../../../shared/rules';
import type { Customer, SegmentType } from '../../../shared/types';
import type { Judgement, Refusal } from '../views/validation';

export type { Judgement, Refusal };
import { validityRefusal } from '../../../shared/validity';
import { emptyCustomerRow } from '../db/customers';
import { heldUnits, redemptionCountsOf, type SubjectQuery, type ValidationSubject } from '../db/tracking';
import type { Env } from '../env';
import { randomId } from '../lib/ids';
import { toIso } from '../lib/time';
import type { OrderInput, ValidationContext } from '../schemas/checkout';
import { type StackedResult, stackableValidateView, type ValidateAnswer, validateView } from '../views/validation';
import type { LoadedDefinition } from './definitions';
import { stackTiers } from './promotion-stacks';
import { enqueue } from '../queue/messages';
import { resolveTrackingId } from './tracking';
import { checkoutCustomerWrites, claimedCustomer, customerWriteNeeded, definitionsOf, readVisitor } from './visitor';
import { rowToCustomer } from '../views/customer';
import { type HoldOutcome, holdUnits, type SessionAnswer, sessionOf } from './validation-sessions';

/**
 * A refusal in the words of Voucherify's examples: a lower-case message and the code as details
 * (OA24 reference/OpenAPI.json:L64323-L64328 voucher_disabled, :L58929-L58932 voucher_expired).
 */
const refusal = (reason: string, key: string, code: string): Refusal => ({
  reason,
  error: { code: 400, key, message: reason, details: code },
});

/** A unit taken by a concurrent redemption between the read and the write. */
export const quantityExceeded = (code: string): Refusal => refusal('quantity exceeded', 'quantity_exceeded', code);

export const voucherNotFound = (code: string): Refusal => ({
  reason: 'voucher not found',
  error: {
    code: 404,
    key: 'not_found',
    message: 'Resource not found',
    details: `Cannot find voucher with id ${code}`,
    resource_id: code,
    resource_type: 'voucher',
  },
});

/** What a redeemable names: a code, or a promotion tier (a row of `vouchers` too, migration 0030). */
export type RedeemableKind = 'voucher' | 'promotion_tier';

/** The kind of redeemable a definition is. */
export const kindOf = (definition: LoadedDefinition): RedeemableKind => (definition.voucher.tier ? 'promotion_tier' : 'voucher');

/** "Not found" in the words of the kind asked for (OA ValidationsValidateResponseBody "False" example: resource_type). */
export const redeemableNotFound = (id: string, kind: RedeemableKind): Refusal =>
  kind === 'voucher'
    ? voucherNotFound(id)
    : {
        reason: 'promotion tier not found',
        error: {
          code: 404,
          key: 'not_found',
          message: 'Resource not found',
          details: `Cannot find promotion_tier with id ${id}`,
          resource_id: id,
          resource_type: 'promotion_tier',
        },
      };

/** The order as the rules and the discount see it. */
export function orderFigures(order: OrderInput | undefined, amount: number | undefined): { amount: number | null; itemsCount: number } {
  const items = order?.items ?? [];
  const itemsAmount = items.length ? items.reduce((sum, item) => sum + (item.amount ?? (item.price ?? 0) * (item.quantity ?? 1)), 0) : null;
  return {
    amount: order?.amount ?? amount ?? itemsAmount,
    // order.items.count counts units: two of one product are two items in the cart.
    itemsCount: items.reduce((sum, item) => sum + (item.quantity ?? 1), 0),
  };
}

/** The order a discount is computed on: its amount as the rules see it, and its lines. */
export const orderOf = (context: ValidationContext) => ({
  amount: orderFigures(context.order, context.amount).amount,
  lines: context.order?.items ?? [],
});

/**
 * The profile the customer rules judge: the stored customer, with metadata given in the request
 * laid over it, and the events of the customer and of its tracking profile; for an anonymous
 * visitor, an empty customer that only has its tracking profile's events.
 */
export function subjectProfile(subject: ValidationSubject, context: ValidationContext): FilterProfile {
  const base: Customer = rowToCustomer(
    subject.customer ?? emptyCustomerRow(subject.profile?.id ?? 'anonymous', subject.profile?.first_seen ?? Date.now()),
  );
  const metadata = context.customer?.metadata ? { ...base.metadata, ...context.customer.metadata } : base.metadata;
  return { ...base, metadata, events: subject.events, products: subject.products };
}

/**
 * The profile of one visitor and request, built once however many offers judge it: a
 * qualification or a promotions validation judges hundreds of offers for the same visitor, and
 * building the profile (the customer row parsed, metadata laid over it) was most of each judgement's
 * cost (bench/qualification-judge.bench.ts). Keyed by the objects of the request, so it lives as
 * long as they do and never outlives a change of either.
 */
const profiles = new WeakMap<ValidationSubject, WeakMap<ValidationContext, FilterProfile>>();
function profileOf(subject: ValidationSubject, context: ValidationContext): FilterProfile {
  let byContext = profiles.get(subject);
  if (!byContext) profiles.set(subject, (byContext = new WeakMap()));
  let profile = byContext.get(context);
  if (!profile) byContext.set(context, (profile = subjectProfile(subject, context)));
  return profile;
}

/**
 * Where a visitor's membership of a segment comes from: the stored members (a static segment; an
 * auto-update one, for a stored customer) or the filter judged now (a passive segment; an
 * auto-update one for a visitor with no customer, who cannot be a stored member). One rule for
 * validate, GET /v1/customers/{id}/segments and POST /v1/segments/{id}/explain.
 */
export const membershipBasis = (type: SegmentType, hasCustomer: boolean): 'stored' | 'filter' =>
  type === 'static' || (type === 'auto-update' && hasCustomer) ? 'stored' : 'filter';

/**
 * Membership of each segment the rules name, decided now (see shared/rules). With `traces`, each
 * segment's `segment` node goes there: its stored membership, or its filter's trace (the walk that
 * decides it).
 */
function segmentMemberships(
  definition: LoadedDefinition,
  subject: ValidationSubject,
  profile: FilterProfile,
  now: number,
  traces: Map<string, ExplainNode> | null,
): Set<string> {
  const members = new Set<string>();
  for (const id of definition.segmentIds) {
    const segment = definition.segmentFilters.get(id);
    if (!segment) {
      // Deleted since: nobody is a member.
      traces?.set(id, { kind: 'segment', label: id, passed: false, detail: 'segment deleted' });
      continue;
    }
    const basis = membershipBasis(segment.type, subject.customer !== null);
    let member: boolean;
    if (basis === 'stored') {
      member = subject.memberOf.has(id);
      traces?.set(id, { kind: 'segment', label: id, passed: member, detail: member ? 'stored member' : 'not a stored member' });
    } else if (traces && segment.ast !== null) {
      const explained = explainFilter(segment.ast, profile, now);
      member = explained.passed;
      traces.set(id, { kind: 'segment', label: id, passed: member, detail: 'filter judged now', children: [explained] });
    } else {
      member = segment.ast !== null && evaluate(segment.ast, profile, now);
    }
    if (member) members.add(id);
  }
  return members;
}

/**
 * The refusal of a failed validation rule, by the kind of rule (errors.mdx:L63, :L96, :L101):
 * per-customer limits are redemption rules (OA24 example "Validation Rule Not Satisfied",
 * OpenAPI24.json:L93983-L93987); the holder rule is a customer rule in the words of OA24's
 * "Wrong customer" example (OpenAPI24.json:L93968-L93973). The rule's own message rides along.
 */
export function ruleRefusal(violation: RuleViolation, code: string): Refusal {
  const failure =
    violation.kind === 'order_amount' || violation.kind === 'order_items_count' || violation.kind === 'order_items'
      ? refusal('order does not match validation rules', 'order_rules_violated', code)
      : violation.kind === 'customer_redemptions'
        ? refusal('redemption does not match validation rules', 'redemption_rules_violated', code)
        : violation.kind === 'holder'
          ? refusal('customer does not match validation rules', 'customer_rules_violated', code)
          : refusal('customer does not match segment rules', 'customer_rules_violated', code);
  if (violation.message) failure.customMessage = violation.message;
  return failure;
}

/** Every check of a voucher for one visitor and order, in Voucherify's order of reasons. */
export function judge(
  definition: LoadedDefinition,
  subject: ValidationSubject,
  context: ValidationContext,
  now: number,
  kind?: RedeemableKind,
): Judgement {
  return judgeCode(definition.voucher.code, definition, subject, context, now, null, kind);
}

/**
 * A check of a validation, for its explanation. `actual` is what was read (for the dates: now),
 * and `operator` how it must compare with `expected` ("now $before expiration_date").
 */
const checkNode = (label: string, passed: boolean, facts: Omit<ExplainNode, 'kind' | 'label' | 'passed'>): ExplainNode => ({
  kind: 'check',
  label,
  passed,
  ...facts,
});

const isoOrNull = (ms: number | null) => (ms === null ? null : toIso(ms));

/**
 * Judges one code or promotion tier (null definition: no such redeemable). With `trace`, each check
 * is appended as it is made, with what it read, up to the one that refuses: the trace is this
 * judgement, recorded, never a second implementation of it. Without, nothing is allocated for it.
 * `kind`, when given, is what the caller asked for: a code named as a tier, or a tier named as a
 * code, is not found (a tier is never a voucher on the wire, and a code never a tier). Without it,
 * either kind is judged (a caller that already knows what it holds, as a qualification does).
 */
export function judgeCode(
  code: string,
  definition: LoadedDefinition | null,
  subject: ValidationSubject,
  context: ValidationContext,
  now: number,
  trace: ExplainNode[] | null,
  kind?: RedeemableKind,
): Judgement {
  const live = subject.vouchers.get(code);
  const found = definition !== null && live !== undefined && (kind === undefined || kindOf(definition) === kind);
  trace?.push(
    checkNode(kind === 'promotion_tier' ? 'promotion tier exists' : 'voucher exists', found, {
      field: kind === 'promotion_tier' ? 'id' : 'code',
      expected: code,
      actual: found ? code : null,
      ...(found ? {} : { detail: kind === 'promotion_tier' ? 'no promotion tier with this id' : 'no voucher with this code' }),
    }),
  );
  if (!definition || !live || !found) return { valid: false, ...redeemableNotFound(code, kind ?? 'voucher') };
  const { voucher } = definition;
  // Switched off (itself or its campaign): a tier answers the spec's key for a disabled promotion, a
  // code the spec's key for a disabled voucher (documentation/api-reference/errors.mdx:L97
  // `promotion_inactive`, :L104 `voucher_disabled`; OA24 reference/OpenAPI.json:L65556).
  const switchedOff = (): Refusal =>
    voucher.tier
      ? refusal('promotion is inactive', 'promotion_inactive', voucher.code)
      : refusal('voucher is disabled', 'voucher_disabled', voucher.code);

  // The campaign's switch, one rule for codes and tiers: while it is off, every code and tier of it
  // is refused, whatever its own flag says (OA "Disable Campaign": "The vouchers in this campaign
  // can no longer be redeemed", readOnly-openAPI.json:L39955).
  if (voucher.campaign_active !== undefined) {
    const campaignOn = voucher.campaign_active;
    trace?.push(
      checkNode('campaign active', campaignOn, {
        field: 'campaign.active',
        operator: '$is',
        expected: [true],
        actual: campaignOn,
        ...(campaignOn ? {} : { detail: 'the campaign is disabled' }),
      }),
    );
    if (!campaignOn) return { valid: false, ...switchedOff() };
  }

  // A tier's campaign outside its dates: the whole promotion is (its dates are read from the
  // campaign, which moves the tier's version when they change).
  const tier = voucher.tier;
  if (tier) {
    const inDates =
      (tier.campaign_start_date === null || now >= tier.campaign_start_date) &&
      (tier.campaign_expiration_date === null || now <= tier.campaign_expiration_date);
    trace?.push(
      checkNode('campaign dates', inDates, {
        field: 'campaign.start_date, campaign.expiration_date',
        operator: '$between',
        expected: [isoOrNull(tier.campaign_start_date), isoOrNull(tier.campaign_expiration_date)],
        actual: toIso(now),
        ...(inDates ? {} : { detail: 'the promotion campaign is outside its dates' }),
      }),
    );
    if (!inDates) return { valid: false, ...refusal('promotion is not active', 'promotion_not_active', voucher.code) };
  }

  const active = live.active === 1;
  trace?.push(
    checkNode('active', active, {
      field: 'active',
      operator: '$is',
      expected: [true],
      actual: active,
      ...(active ? {} : { detail: voucher.tier ? 'promotion tier is disabled' : 'voucher is disabled' }),
    }),
  );
  if (!active) return { valid: false, ...switchedOff() };

  if (voucher.start_date !== null) {
    const started = now >= voucher.start_date;
    trace?.push(
      checkNode('start_date', started, {
        field: 'start_date',
        operator: '$after',
        expected: isoOrNull(voucher.start_date),
        actual: toIso(now),
        ...(started ? {} : { detail: 'voucher not active yet' }),
      }),
    );
    if (!started) return { valid: false, ...refusal('voucher not active', 'voucher_not_active', voucher.code) };
  }
  if (voucher.expiration_date !== null) {
    const unexpired = now <= voucher.expiration_date;
    trace?.push(
      checkNode('expiration_date', unexpired, {
        field: 'expiration_date',
        operator: '$before',
        expected: isoOrNull(voucher.expiration_date),
        actual: toIso(now),
        ...(unexpired ? {} : { detail: 'voucher expired' }),
      }),
    );
    if (!unexpired) return { valid: false, ...refusal('voucher expired', 'voucher_expired', voucher.code) };
  }
  // Recurring windows (days, hours, timeframe): OA24 POST /v1/vouchers/{code}/redemption 400 "Voucher Inactive" (OpenAPI24.json:L64354).
  const outsideWindow = validityRefusal(voucher, now, trace);
  if (outsideWindow) return { valid: false, ...refusal('voucher not active now', 'voucher_not_active_now', voucher.code) };

  if (live.quantity !== null) {
    // Units held by other validation sessions are taken, for this request (services/validation-sessions.ts).
    const held = heldUnits(subject, live.id);
    const left = live.redeemed_quantity + held < live.quantity;
    trace?.push(
      checkNode('quantity', left, {
        field: 'redeemed_quantity',
        operator: '$less_than',
        expected: [live.quantity],
        actual: live.redeemed_quantity + held,
        ...(left ? {} : { detail: held > 0 ? `quantity exceeded (${held} held by validation sessions)` : 'quantity exceeded' }),
      }),
    );
    if (!left) return { valid: false, ...quantityExceeded(voucher.code) };
  }
  const figures = orderFigures(context.order, context.amount);
  const profile = profileOf(subject, context);
  const customerId = subject.customer?.id ?? null;
  const segmentTraces = trace && new Map<string, ExplainNode>();
  const ruleContext = {
    orderAmount: figures.amount ?? 0,
    itemsCount: figures.itemsCount,
    items: context.order?.items ?? [],
    segmentIds: segmentMemberships(definition, subject, profile, now, segmentTraces),
    profile,
    now,
    redemptions: redemptionCountsOf(subject, live.id),
    isHolder: customerId !== null && live.holder_id === customerId,
    ...(segmentTraces ? { segmentTraces } : {}),
  };
  for (const [i, ruleSet] of definition.ruleSets.entries()) {
    const violation = checkRuleSet(ruleSet, ruleContext, trace, definition.rules[i]?.id);
    // The failing rule's (or its rule set's) own message: what the shop shows its customer.
    if (violation) return { valid: false, ...ruleRefusal(violation, voucher.code) };
  }
  const order = orderOf(context);
  // An item-level discount needs the items to work on (errors.mdx: missing_order_items).
  if (worksOnItems(voucher.discount, definition.scope)) {
    const itemsGiven = order.lines.length > 0;
    trace?.push(
      checkNode('order items', itemsGiven, {
        field: 'order.items',
        operator: '$has_value',
        expected: [true],
        actual: order.lines.length,
        ...(itemsGiven ? {} : { detail: 'the discount applies to items and the order lists none' }),
      }),
    );
    if (!itemsGiven) return { valid: false, ...refusal('order items were not specified', 'missing_order_items', voucher.code) };
  }
  const pricing = priceOrder(voucher.discount, order, definition.scope);
  return {
    valid: true,
    orderAmount: figures.amount,
    discountAmount: totalDiscount(pricing),
    itemsCount: figures.itemsCount,
    pricing,
    commit: commitChecks(definition.ruleSets, ruleContext),
  };
}

/** The explanation of one code's validation: its checks, in the order made, under one root. */
export const validationExplanation = (code: string, judgement: Judgement, checks: ExplainNode[]): ExplainNode => ({
  kind: 'validation',
  label: code,
  passed: judgement.valid,
  logic: 'and',
  children: checks,
  ...(judgement.valid ? {} : { detail: judgement.reason }),
});

export interface ValidateOptions {
  /**
   * Server key only: the customer of the request is written as the customers API would write it,
   * before it is judged, when it carries something new to store (visitor.ts customerWriteNeeded).
   */
  upsertCustomer?: boolean;
  /**
   * false: record nothing (no tracking profile, no attempt). A client request that carries no
   * tracking id (a visitor who has not consented) leaves no trace; its answer's id is never stored.
   */
  record?: boolean;
  /**
   * Server key only (`?explain=true`): the answer gains `explanation`, the trace of each judgement.
   * It costs no storage operation: the trace is recorded by the judgement already being made.
   */
  explain?: boolean;
  /** Stackable: what each redeemable was named as, in the order of the ids (absent: all vouchers). */
  kinds?: RedeemableKind[];
  /** Stackable: a promotion stack named instead of ids; its tiers are read with the visitor (promotion-stacks.ts). */
  stackId?: string;
  /**
   * The public client key's bounds on validation sessions (absent: the server key's, none): the
   * longest a hold may last, and holds only for a customer the request identifies (a verified claim,
   * or a tracking id a redemption linked). The client key ships in every page: without these, an
   * anonymous caller could hold every unit of a limited code, renewing as often as it liked.
   */
  clientSessions?: { maxMs: number };
}

/** Whether a session may hold units for this visitor: always with the server key; with the client key, for a known customer only. */
const mayHold = (subject: ValidationSubject, options: ValidateOptions): boolean =>
  options.clientSessions === undefined || subject.customer !== null;

/**
 * Validates one voucher for a visitor: one D1 batch that only reads (a replica may serve it), the
 * voucher's definition from this isolate or KV, and the attempt with its outcome sent to the queue.
 */
export async function validateVoucher(
  env: Env,
  code: string,
  context: ValidationContext,
  requestId: string,
  options: ValidateOptions = {},
) {
  const now = Date.now();
  const visit = await readVisit(env, [code], context, options, now);
  const [definition = null] = await definitionsOf(env, visit.subject, [code]);
  const checks: ExplainNode[] | null = options.explain ? [] : null;
  let judgement = judgeCode(code, definition, visit.subject, context, now, checks, 'voucher');
  let session: SessionAnswer | null = null;
  if (context.session && mayHold(visit.subject, options) && judgement.valid && definition) {
    // The one write of a validate with a session: the hold, for what the judgement found valid.
    const held = await holdSessions(
      env,
      context.session,
      [{ code, definition, judgement }],
      visit.subject,
      now,
      options.clientSessions?.maxMs,
    );
    judgement = held.judgements[0] ?? judgement;
    session = held.session;
  }
  await visit.record([{ code, judgement }]);
  const answer: ValidateAnswer = !judgement.valid
    ? { failure: judgement }
    : definition
      ? { definition, pricing: judgement.pricing }
      : { failure: voucherNotFound(code) };
  const body = validateView(code, answer, context, visit.trackingId, visit.subject.customer?.id ?? null, requestId, session);
  return { body: checks ? { ...body, explanation: validationExplanation(code, judgement, checks) } : body, trackingId: visit.trackingId };
}

/**
 * The visitor of a validate call, and how to record the call once judged: the attempt of each
 * code with its outcome, and the visit of the tracking profile, as one queue message (the
 * consumer writes it; nothing is written on the request's path). A call that records nothing (a
 * client request without a tracking id) sends nothing. The visitor is read in one batch that only
 * reads (a replica may serve it); a server-key call whose customer carries something new to store
 * (visitor.ts customerWriteNeeded) then writes it and reads the visitor again in one batch, which
 * goes to the primary: the rules judge the customer as written. `liveVouchers` reads the vouchers
 * chosen by that query instead of `codes` (the promotions validation: every tier), in the same batch.
 */
export async function readVisit(
  env: Env,
  codes: string[],
  context: ValidationContext,
  options: ValidateOptions & { liveVouchers?: SubjectQuery['liveVouchers'] },
  now: number,
) {
  const tracking = await resolveTrackingId(env.TRACKING_SECRET, context.tracking_id);
  const recorded = options.record !== false;
  const trackingId = recorded ? tracking.id : null;
  // The request's own session: its holds are not counted against it.
  const sessionKey = context.session?.key ?? null;
  let subject = await readVisitor(env, codes, context, trackingId, now, undefined, options.liveVouchers, options.stackId, sessionKey);
  if (options.upsertCustomer && customerWriteNeeded(subject, context)) {
    const writes = await checkoutCustomerWrites(env.DB, context, subject.segmentsVersion, now);
    subject = await readVisitor(env, codes, context, trackingId, now, writes, options.liveVouchers, options.stackId, sessionKey);
  }
  const record = async (judged: { code: string; judgement: Judgement }[]) => {
    if (!recorded) return;
    await enqueue(env.WRITES, {
      kind: 'validation',
      id: randomId('valmsg_'),
      at: now,
      tracking_id: tracking.id,
      customer_ref: claimedCustomer(context) ?? null,
      customer_ref_kind: context.customer?.id !== undefined ? 'id' : 'source_id',
      identity_hmac: subject.identityHmac,
      amount: orderFigures(context.order, context.amount).amount,
      attempts: judged.map(({ code, judgement }) => ({
        id: randomId('valid_'),
        code,
        result: judgement.valid ? 'VALID' : 'INVALID',
        reason: judgement.valid ? null : judgement.error.key,
      })),
    });
  };
  return { trackingId: tracking.id, subject, record };
}

/**
 * POST /v1/validations and /client/v1/validations: several vouchers for one visitor and order,
 * each judged; the answer is built by views/validation. `named`: the codes and tiers of the
 * request (none when it names a stack, options.stackId).
 */
export async function validateStackable(
  env: Env,
  named: string[],
  context: ValidationContext,
  requestId: string,
  options: ValidateOptions = {},
) {
  const now = Date.now();
  const base = unpriced(orderOf(context));
  const visit = await readVisit(env, named, context, options, now);
  const { subject } = visit;
  // A stack is judged as its tiers, read with the visitor.
  const { codes, kinds } = options.stackId !== undefined ? stackTiers(subject, options.stackId) : { codes: named, kinds: options.kinds };
  const definitions = await definitionsOf(env, subject, codes);
  const customerId = subject.customer?.id ?? null;
  const traces: (ExplainNode[] | null)[] = [];
  let results: StackedResult[] = codes.map((code, i) => {
    const definition = definitions[i] ?? null;
    const checks: ExplainNode[] | null = options.explain ? [] : null;
    traces.push(checks);
    const kind = kinds?.[i] ?? 'voucher';
    const judgement = judgeCode(code, definition, subject, context, now, checks, kind);
    return { code, kind, definition, judgement, explanation: checks && validationExplanation(code, judgement, checks) };
  });
  let session: SessionAnswer | null = null;
  // A session holds a unit of every redeemable, only when all apply: an invalid answer holds nothing.
  if (context.session && mayHold(subject, options) && results.length > 0 && results.every((r) => r.judgement.valid && r.definition)) {
    const held = await holdSessions(env, context.session, results as HeldCandidate[], subject, now, options.clientSessions?.maxMs);
    results = results.map((r, i) => {
      const judgement = held.judgements[i] ?? r.judgement;
      if (judgement === r.judgement) return r;
      const checks = traces[i] ?? null;
      return { ...r, judgement, explanation: checks && validationExplanation(r.code, judgement, checks) };
    });
    session = held.session;
  }
  await visit.record(results);
  return {
    body: stackableValidateView(randomId('valid_'), results, base, context, visit.trackingId, customerId, requestId, session),
    trackingId: visit.trackingId,
  };
}

/** A redeemable judged valid, to hold a unit of. */
type HeldCandidate = { code: string; definition: LoadedDefinition; judgement: Judgement };

/** The refusal of a hold that found no unit, or the customer's limit reached, at write time. */
function holdRefusal(outcome: HoldOutcome, candidate: HeldCandidate): Judgement {
  const { code, judgement } = candidate;
  if (outcome === 'held') return judgement;
  if (outcome === 'limit_reached' && judgement.valid && judgement.commit.redemptions)
    return { valid: false, ...ruleRefusal(judgement.commit.redemptions.violation, code) };
  return { valid: false, ...quantityExceeded(code) };
}

/**
 * Holds a unit of each redeemable judged valid under the request's session (one primary batch,
 * services/validation-sessions.ts). A hold refused at write time (another session or redemption
 * took the last unit between the read and the write) turns that redeemable's judgement into the
 * refusal, and the session holds nothing; else the answer names the session.
 */
async function holdSessions(
  env: Env,
  input: NonNullable<ValidationContext['session']>,
  candidates: HeldCandidate[],
  subject: ValidationSubject,
  now: number,
  maxMs?: number,
): Promise<{ judgements: Judgement[]; session: SessionAnswer | null }> {
  const session = sessionOf(input, maxMs);
  const outcomes = await holdUnits(
    env.DB,
    session,
    candidates.map((c) => ({ voucherId: c.definition.voucher.id, commit: c.judgement.valid ? c.judgement.commit : NO_COMMIT })),
    subject,
    now,
  );
  const judgements = candidates.map((c, i) => holdRefusal(outcomes[i] ?? 'quantity_exceeded', c));
  const { ms: _ms, ...answer } = session;
  return { judgements, session: outcomes.every((o) => o === 'held') ? answer : null };
}

const NO_COMMIT: CommitChecks = { redemptions: null, holder: null };
