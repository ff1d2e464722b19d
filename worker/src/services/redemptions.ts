import type { Voucher } from '../../../shared/types';
import * as customersDb from '../db/customers';
import * as redemptionsDb from '../db/redemptions';
import { findTrackingProfile, linkAndMerge, readValidationSubject, type ValidationSubject } from '../db/tracking';
import * as vouchersDb from '../db/vouchers';
import type { Env } from '../env';
import { ApiError, notFound } from '../errors';
import { randomId } from '../lib/ids';
import { toIso } from '../lib/time';
import type { CustomerWrite } from '../schemas/customers';
import type { StackableInput, ValidationContext } from '../schemas/vouchers';
import { type LoadedDefinition, loadVoucherDefinition } from './definitions';
import * as membership from './membership';
import { identityHmac, resolveTrackingId, TRACKING_ID } from './tracking';
import { ambiguousTrackingId, assertOneCustomer, judge, quantityExceeded, type Judgement, orderFigures, orderSummary, type Refusal } from './validation';

export interface RedeemRequest {
  codes: string[];
  context: ValidationContext;
  /** `?tracking_id=` of the URL; the body's tracking_id wins. */
  trackingIdParam?: string;
  idempotencyKey?: string;
  requestId: string;
}

/** The tracking id a redemption names: body, query, or a customer source id that is one. */
async function redemptionTrackingId(env: Env, context: ValidationContext, param: string | undefined): Promise<string | null> {
  const given = context.tracking_id ?? param;
  if (given) return (await resolveTrackingId(env.TRACKING_SECRET, given)).id;
  const sourceId = context.customer?.source_id;
  if (sourceId && TRACKING_ID.test(sourceId) && (await findTrackingProfile(env.DB, sourceId))) return sourceId;
  return null;
}

interface Plan {
  selector: customersDb.CustomerSelector;
  /** The write that creates or updates the customer, if the request names one. */
  write: D1PreparedStatement | null;
}

/**
 * Who is redeeming: the customer of the request (upserted with the fields it carries), else the
 * customer the tracking profile is linked to, else a new customer whose source_id is the tracking
 * id, so the anonymous history has a profile to merge into.
 */
function customerPlan(db: D1Database, context: ValidationContext, subject: ValidationSubject, trackingId: string | null, now: number): Plan {
  const { id, source_id, name, email, metadata } = context.customer ?? {};
  const fields: CustomerWrite = {};
  if (name !== undefined) fields.name = name;
  if (email !== undefined) fields.email = email;
  if (metadata !== undefined) fields.metadata = { ...(subject.customer ? JSON.parse(subject.customer.metadata) : {}), ...metadata };
  const hasFields = Object.keys(fields).length > 0;

  const explicit = id ?? source_id;
  assertOneCustomer(subject, explicit);
  const found = subject.customer && explicit && (subject.customer.id === explicit || subject.customer.source_id === explicit) ? subject.customer : null;
  const linked = subject.profile?.customer_id ?? null;

  if (id !== undefined) {
    if (!found) throw notFound('customer', id);
    return { selector: { ids: [found.id] }, write: hasFields ? customersDb.updateCustomer(db, found.id, fields, now) : null };
  }
  if (source_id !== undefined) {
    return { selector: { sourceIds: [source_id] }, write: customersDb.upsertCustomerBySourceId(db, randomId('cust_'), { ...fields, source_id }, now) };
  }
  if (linked) return { selector: { ids: [linked] }, write: hasFields ? customersDb.updateCustomer(db, linked, fields, now) : null };
  if (trackingId) {
    return { selector: { sourceIds: [trackingId] }, write: customersDb.upsertCustomerBySourceId(db, randomId('cust_'), { ...fields, source_id: trackingId }, now) };
  }
  throw new ApiError(400, 'missing_customer', 'Missing customer', 'Give customer.id, customer.source_id or a tracking_id');
}

const customerJson = (row: customersDb.CustomerRow | null) =>
  row && { id: row.id, name: row.name, email: row.email, source_id: row.source_id, metadata: JSON.parse(row.metadata), object: 'customer' as const };

function redemptionJson(row: redemptionsDb.RedemptionRow, customer: customersDb.CustomerRow | null, voucher: Voucher | null) {
  const order = JSON.parse(row.order_json);
  return {
    id: row.id,
    object: row.object,
    date: toIso(row.created_at),
    customer_id: row.customer_id,
    tracking_id: row.tracking_id,
    metadata: JSON.parse(row.metadata),
    amount: row.amount,
    result: row.result,
    status: row.status,
    ...(row.failure_code ? { failure_code: row.failure_code, failure_message: row.failure_message } : {}),
    ...(row.rollback_of ? { redemption: row.rollback_of } : {}),
    ...(row.parent_id ? { parent_redemption_id: row.parent_id } : {}),
    order: { ...order, customer: customer ? { id: customer.id, object: 'customer' } : null, redemptions: { [row.id]: { date: toIso(row.created_at), related_object_type: 'voucher', related_object_id: row.voucher_id } } },
    customer: customerJson(customer),
    related_object_type: 'voucher',
    related_object_id: row.voucher_id,
    voucher,
  };
}

async function voucherJson(db: D1Database, voucherId: string | null): Promise<Voucher | null> {
  if (!voucherId) return null;
  const row = await db.prepare('SELECT * FROM vouchers WHERE id = ?').bind(voucherId).first<vouchersDb.VoucherRow>();
  return row ? vouchersDb.rowToVoucher(row, []) : null;
}

async function singleRedemptionResponse(db: D1Database, row: redemptionsDb.RedemptionRow) {
  const [customer, voucher] = await Promise.all([
    row.customer_id ? customersDb.findCustomer(db, row.customer_id) : null,
    voucherJson(db, row.voucher_id),
  ]);
  return redemptionJson(row, customer, voucher);
}

/** A stored redemption, answered again (GET, and retries with the same Idempotency-Key). */
export async function redemptionResponse(db: D1Database, row: redemptionsDb.RedemptionRow) {
  if (row.code === '' && row.object === 'redemption') {
    // A stackable parent: answer with its children.
    const { results } = await redemptionsDb.childRedemptions(db, row.id);
    const children = await Promise.all(results.map((child) => singleRedemptionResponse(db, child)));
    return { redemptions: children, parent_redemption: await singleRedemptionResponse(db, row), order: JSON.parse(row.order_json) };
  }
  return singleRedemptionResponse(db, row);
}

function failureError(refusal: Refusal, redemptionId: string): ApiError {
  return new ApiError(
    (refusal.error.code ?? 400) === 404 ? 404 : 400,
    refusal.error.key,
    refusal.error.message,
    refusal.error.details ?? refusal.reason,
    { id: redemptionId, type: 'redemption' },
  );
}

/**
 * POST /v1/vouchers/{code}/redemption (one code) and POST /v1/redemptions (several).
 * Reads in one batch, judges every voucher, then writes in one batch: customer upsert, one unit
 * of each voucher (the table's CHECK refuses the unit past the quantity and rolls everything
 * back), link and merge of the tracking profile (its trigger refuses a second customer),
 * summary, the redemption rows, and the customer's auto-update segments.
 */
export async function redeem(env: Env, request: RedeemRequest) {
  const { context, idempotencyKey } = request;
  if (idempotencyKey) {
    const previous = await redemptionsDb.findRedemptionsByIdempotencyKey(env.DB, idempotencyKey);
    if (previous) return replay(env.DB, previous);
  }
  const now = Date.now();
  const definitions = await Promise.all(request.codes.map((code) => loadVoucherDefinition(env, code)));
  const missing = request.codes.find((_, i) => !definitions[i]);
  if (missing !== undefined) throw notFound('voucher', missing);
  const loaded = definitions as LoadedDefinition[];

  const trackingId = await redemptionTrackingId(env, context, request.trackingIdParam);
  const subject = await readValidationSubject(env.DB, {
    trackingId,
    customerRef: context.customer?.id ?? context.customer?.source_id ?? null,
    identityHmac: await identityHmac(env.TRACKING_SECRET, context.identity_hash),
    segmentIds: [...new Set(loaded.flatMap((d) => d.segmentIds))],
    voucherIds: loaded.map((d) => d.voucher.id),
  });
  const plan = customerPlan(env.DB, context, subject, trackingId, now);
  const judgements = loaded.map((definition) => judge(definition, subject, context, now));
  const figures = orderFigures(context.order, context.amount);
  const sel = customersDb.selectorSql(plan.selector);
  const base = {
    object: 'redemption' as const,
    customer_id: null,
    tracking_id: trackingId,
    amount: figures.amount,
    metadata: JSON.stringify(context.metadata ?? {}),
    rollback_of: null,
    created_at: now,
  };

  const refused = judgements.findIndex((j) => !j.valid);
  if (refused !== -1) {
    const failure = judgements[refused] as Extract<Judgement, { valid: false }>;
    throw await recordFailure(env, plan, sel, { ...base, code: request.codes[refused] ?? '', voucher_id: loaded[refused]?.voucher.id ?? null }, failure, idempotencyKey, context);
  }

  const stackable = request.codes.length > 1;
  const parentId = stackable ? randomId('r_') : null;
  const discounts = judgements.map((j) => (j.valid ? j.discountAmount : 0));
  const rows: redemptionsDb.RedemptionRow[] = loaded.map((definition, i) => ({
    ...base,
    id: stackable ? randomId('r_') : (parentId ?? randomId('r_')),
    result: 'SUCCESS',
    status: 'SUCCEEDED',
    voucher_id: definition.voucher.id,
    code: definition.voucher.code,
    discount_amount: discounts[i] ?? 0,
    order_json: JSON.stringify(orderSummary(context.order, figures.amount, discounts[i] ?? 0, null)),
    failure_code: null,
    failure_message: null,
    parent_id: parentId,
    idempotency_key: stackable ? null : (idempotencyKey ?? null),
  }));
  const totalDiscount = discounts.reduce((a, b) => a + b, 0);
  if (parentId) {
    rows.unshift({
      ...base,
      id: parentId,
      result: 'SUCCESS',
      status: 'SUCCEEDED',
      voucher_id: null,
      code: '',
      discount_amount: totalDiscount,
      order_json: JSON.stringify(orderSummary(context.order, figures.amount, totalDiscount, null)),
      failure_code: null,
      failure_message: null,
      parent_id: null,
      idempotency_key: idempotencyKey ?? null,
    });
  }

  const active = await membership.loadActiveSegments(env.DB);
  const statements = [
    ...(plan.write ? [plan.write] : []),
    ...loaded.map((d) => redemptionsDb.takeVoucherUnit(env.DB, d.voucher.id, now)),
    ...(trackingId ? linkAndMerge(env.DB, trackingId, sel, now) : []),
    redemptionsDb.recordRedemptionInSummary(env.DB, sel, { succeeded: true, orderAmount: figures.amount, now }),
    ...rows.map((row) => redemptionsDb.insertRedemption(env.DB, row, sel)),
    ...membership.refreshMemberships(env.DB, active, plan.selector, now),
    // Read the answer back inside the same batch: no round trip after it.
    customersDb.selectCustomers(env.DB, plan.selector),
    vouchersDb.selectVouchers(env.DB, loaded.map((d) => d.voucher.id)),
  ];
  let results: D1Result<Record<string, unknown>>[];
  try {
    results = await env.DB.batch<Record<string, unknown>>(statements);
  } catch (error) {
    const reason = redemptionsDb.abortReason(error);
    if (reason === 'voucher_quantity_exceeded') {
      // Another redemption took the last unit between our read and our write.
      const failure = { valid: false as const, ...quantityExceeded(request.codes[0] ?? '') };
      throw await recordFailure(env, plan, sel, { ...base, code: request.codes[0] ?? '', voucher_id: loaded[0]?.voucher.id ?? null }, failure, idempotencyKey, context);
    }
    if (reason === 'ambiguous_tracking_id' && trackingId) {
      // A concurrent redemption linked the profile to someone else after our read.
      throw ambiguousTrackingId(trackingId, 'another customer', context.customer?.source_id ?? context.customer?.id ?? 'this customer');
    }
    if (reason === 'duplicate_idempotency_key' && idempotencyKey) {
      const first = await redemptionsDb.findRedemptionsByIdempotencyKey(env.DB, idempotencyKey);
      if (first) return replay(env.DB, first);
    }
    throw error;
  }
  const customer = (results.at(-2)?.results[0] as unknown as customersDb.CustomerRow | undefined) ?? null;
  const vouchers = new Map(((results.at(-1)?.results ?? []) as unknown as vouchersDb.VoucherRow[]).map((v) => [v.id, vouchersDb.rowToVoucher(v, [])]));
  const answer = (row: redemptionsDb.RedemptionRow) =>
    redemptionJson({ ...row, customer_id: customer?.id ?? null }, customer, row.voucher_id ? (vouchers.get(row.voucher_id) ?? null) : null);
  if (!parentId) return answer(rows[0] as redemptionsDb.RedemptionRow);
  const [parent, ...children] = rows as [redemptionsDb.RedemptionRow, ...redemptionsDb.RedemptionRow[]];
  return { redemptions: children.map(answer), parent_redemption: answer(parent), order: JSON.parse(parent.order_json) };
}

/** A retry of a request already answered: the same answer, nothing written again. */
async function replay(db: D1Database, row: redemptionsDb.RedemptionRow) {
  if (row.result === 'FAILURE') {
    throw failureError({ reason: row.failure_message ?? '', error: { code: 400, key: row.failure_code ?? 'invalid_voucher', message: row.failure_message ?? '', details: row.code } }, row.id);
  }
  return redemptionResponse(db, row);
}

/** A refused redemption is recorded (rf_) and counts in the customer's summary.redemptions. */
async function recordFailure(
  env: Env,
  plan: Plan,
  sel: customersDb.Predicate,
  row: Pick<redemptionsDb.RedemptionRow, 'object' | 'customer_id' | 'tracking_id' | 'amount' | 'metadata' | 'rollback_of' | 'created_at' | 'code' | 'voucher_id'>,
  failure: Extract<Judgement, { valid: false }>,
  idempotencyKey: string | undefined,
  context: ValidationContext,
): Promise<ApiError> {
  const id = randomId('rf_');
  const failed: redemptionsDb.RedemptionRow = {
    ...row,
    id,
    result: 'FAILURE',
    status: 'FAILED',
    discount_amount: 0,
    order_json: JSON.stringify(orderSummary(context.order, row.amount, 0, null)),
    failure_code: failure.error.key,
    failure_message: failure.error.message,
    parent_id: null,
    idempotency_key: idempotencyKey ?? null,
  };
  try {
    await env.DB.batch([
      ...(plan.write ? [plan.write] : []),
      redemptionsDb.recordRedemptionInSummary(env.DB, sel, { succeeded: false, orderAmount: null, now: row.created_at }),
      redemptionsDb.insertRedemption(env.DB, failed, sel),
    ]);
  } catch (error) {
    if (redemptionsDb.abortReason(error) !== 'duplicate_idempotency_key') throw error;
  }
  return failureError(failure, id);
}

export async function getRedemption(db: D1Database, id: string) {
  const row = await redemptionsDb.findRedemption(db, id);
  if (!row) throw notFound('redemption', id);
  return redemptionResponse(db, row);
}

export async function listRedemptions(db: D1Database, q: { limit: number; page: number; customer?: string }) {
  let customerId: string | undefined;
  if (q.customer) customerId = (await customersDb.findCustomer(db, q.customer))?.id ?? q.customer;
  const { rows, total } = await redemptionsDb.listRedemptions(db, { limit: q.limit, page: q.page, customerId });
  const data = await Promise.all(rows.map((row) => redemptionResponse(db, row)));
  return { object: 'list' as const, data_ref: 'redemptions' as const, redemptions: data, total };
}

/** POST /v1/redemptions/{id}/rollback: the unit returns to the voucher, the summary reverses. */
export async function rollbackRedemption(env: Env, id: string, reason: string | undefined) {
  const original = await redemptionsDb.findRedemption(env.DB, id);
  if (!original || original.object !== 'redemption') throw notFound('redemption', id);
  if (original.status === 'ROLLED_BACK') {
    throw new ApiError(400, 'already_rolled_back', 'Already rolled back', `Redemption ${id} has already been rolled back`, { id, type: 'redemption' });
  }
  if (original.result !== 'SUCCESS' || !original.voucher_id) {
    throw new ApiError(400, 'invalid_rollback_params', 'Invalid rollback', `Redemption ${id} did not succeed or has no voucher`, { id, type: 'redemption' });
  }
  const now = Date.now();
  const rollback: redemptionsDb.RedemptionRow = {
    ...original,
    id: randomId('rr_'),
    object: 'redemption_rollback',
    result: 'SUCCESS',
    status: 'SUCCEEDED',
    failure_code: null,
    failure_message: reason ?? null,
    rollback_of: original.id,
    idempotency_key: null,
    created_at: now,
  };
  const active = original.customer_id ? await membership.loadActiveSegments(env.DB) : [];
  try {
    await env.DB.batch([
      redemptionsDb.insertRedemption(env.DB, rollback),
      redemptionsDb.markRolledBack(env.DB, original.id),
      redemptionsDb.returnVoucherUnit(env.DB, original.voucher_id, now),
      ...(original.customer_id
        ? [
            redemptionsDb.recordRollbackInSummary(env.DB, original.customer_id, original.amount, now),
            ...membership.refreshMemberships(env.DB, active, { ids: [original.customer_id] }, now),
          ]
        : []),
    ]);
  } catch (error) {
    if (redemptionsDb.abortReason(error) === 'already_rolled_back') {
      throw new ApiError(400, 'already_rolled_back', 'Already rolled back', `Redemption ${id} has already been rolled back`, { id, type: 'redemption' });
    }
    throw error;
  }
  const stored = await redemptionsDb.findRedemption(env.DB, rollback.id);
  return redemptionResponse(env.DB, stored ?? rollback);
}

export type { StackableInput };
