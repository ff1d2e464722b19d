import * as customersDb from '../db/customers';
import * as redemptionsDb from '../db/redemptions';
import type { Env } from '../env';
import { apiError, notFound } from '../errors';
import { randomId } from '../lib/ids';
import { contextCustomerWrite, type RollbackBody } from '../schemas/checkout';
import * as membership from './membership';
import { rolledBackOrderWrites } from './orders';
import { redemptionView, rolledBackOrder, stackedRollbackView } from '../views/redemption';
import { d1Refusal } from '../db/errors';

export interface RollbackRequest {
  id: string;
  /** `?reason=` (how the official SDK sends it) or the body's reason. */
  reason?: string;
  body: RollbackBody;
  channelId: string;
}

/**
 * The refusal of a redemption rolled back already names the failed rollback stored for it (OA24
 * rollback 400 example "Already rolledback", OA24:L65067: `resource_id: rrf_…`, `resource_type:
 * redemption_rollback`), which GET /v1/redemptions/{id} then answers.
 */
const alreadyRolledBack = (id: string, failedRollbackId: string) =>
  apiError('already_rolled_back', `Redemption ${id} has already been rolled back`, { id: failedRollbackId, type: 'redemption_rollback' });

/**
 * Stores a refused rollback as Voucherify does (migration 0035) and answers the refusal: a
 * `redemption_rollback` row (`rrf_…`) with result FAILURE, status FAILED, failure_code
 * already_rolled_back and `redemption` naming `original` (OA24 7_obj_redemption_rollback_object_voucher_fail
 * OA24:L20674; the failure_message of the WH redemption.rollback.failed example, OpenAPIWebhooks.json
 * L13105), and the customer's summary.redemptions.total_rollback_failed counted, in one batch whose
 * insert fires redemption.rollback.failed. Through the customer-write pipeline when there is a
 * customer, as a successful rollback: a segment may read that counter.
 */
async function refuseRolledBack(env: Env, request: RollbackRequest, original: redemptionsDb.RedemptionRow): Promise<never> {
  const now = Date.now();
  const failed: redemptionsDb.RedemptionRow = {
    ...original,
    id: randomId('rrf_'),
    object: 'redemption_rollback',
    result: 'FAILURE',
    status: 'FAILED',
    metadata: request.body.metadata ? JSON.stringify(request.body.metadata) : '{}',
    failure_code: 'already_rolled_back',
    failure_message: 'Already rolled back',
    parent_id: null,
    rollback_of: null,
    failed_rollback_of: original.id,
    idempotency_key: null,
    request_hash: null,
    reason: request.reason ?? request.body.reason ?? null,
    error_message: null,
    channel_id: request.channelId,
    created_at: now,
  };
  const customerId = original.customer_id;
  const writes = [
    // The counter first: the event's snapshot shows the customer with this failure counted.
    ...(customerId ? [redemptionsDb.recordFailedRollbackInSummary(env.DB, customerId, now)] : []),
    redemptionsDb.insertRedemption(env.DB, failed),
  ];
  await env.DB.batch(
    customerId
      ? membership.customerWriteBatch(env.DB, await membership.loadActiveSegments(env.DB), writes, { ids: [customerId] }, now).statements
      : writes,
  );
  throw alreadyRolledBack(original.id, failed.id);
}

/** A stacked child is rolled back with its parent only (OA24 example "Invalid Redemption Parent", OA24:L65078). */
const invalidRedemptionParent = () =>
  apiError('invalid_redemption_parent', 'You can rollback only a redemption that does not have parent redemption.');

/** A stacked parent has its own endpoint (OA24 example "Invalid Redemption", OA24:L65086). */
const invalidRedemption = () =>
  apiError('invalid_redemption', 'You can rollback only a single redemption. Use different endpoint for stacked redemption.');

/**
 * The customer of the rollback body updates the redemption's customer ("Customer data … can be
 * updated … when passing the customer data in the request body", OA rollbacks requestBody); naming
 * another customer is refused.
 */
function customerWrite(
  db: D1Database,
  body: RollbackBody,
  customer: customersDb.CustomerRow | undefined,
  now: number,
): D1PreparedStatement | null {
  if (!body.customer) return null;
  const named = body.customer.id ?? body.customer.source_id;
  if (!customer || (named !== undefined && named !== customer.id && named !== customer.source_id)) {
    throw apiError('invalid_customer', `The redemption was not made by customer ${named ?? '(none given)'}`);
  }
  const fields = contextCustomerWrite(body.customer);
  return Object.keys(fields).length > 0 ? customersDb.updateCustomer(db, customer.id, fields, now) : null;
}

/**
 * POST /v1/redemptions/{id}/rollback (`stacked: false`) and /rollbacks (`stacked: true`). One batch:
 * every unit returned, the redemptions marked ROLLED_BACK with their order CANCELED, the rollback
 * rows (a parent rollback and one per child for a stack), the customer's order summary reversed
 * once, and the customer's auto-update segments brought up to date.
 */
async function rollback(env: Env, request: RollbackRequest, endpoint: 'single' | 'stacked') {
  const group = await redemptionsDb.findRedemptionGroup(env.DB, { id: request.id });
  const original = group.head;
  if (!original || original.object !== 'redemption') throw notFound('redemption', request.id);
  if (original.parent_id !== null) throw invalidRedemptionParent();
  const stack = original.code === '' && original.voucher_id === null;
  if (stack && endpoint === 'single') throw invalidRedemption();
  if (original.status === 'ROLLED_BACK') return refuseRolledBack(env, request, original);
  if (original.result !== 'SUCCESS') {
    throw apiError('invalid_rollback_params', `Redemption ${request.id} did not succeed`, { id: request.id, type: 'redemption' });
  }

  const now = Date.now();
  const customerId = original.customer_id;
  const orderId = (JSON.parse(original.order_json) as { id?: unknown }).id;
  const write = customerWrite(env.DB, request.body, customerId ? group.customers.get(customerId) : undefined, now);
  // Children rolled back one by one before stacks had their own endpoint stay as they are.
  const targets = stack ? group.children.filter((child) => child.status !== 'ROLLED_BACK') : [];
  const rollbackId = randomId('rr_');
  const childRollbackIds = targets.map(() => randomId('rr_'));
  const reorder = (row: redemptionsDb.RedemptionRow) =>
    JSON.stringify(rolledBackOrder(row, original, { id: rollbackId, date: now, stacked: stack ? childRollbackIds : undefined }));
  const rollbackRow = (of: redemptionsDb.RedemptionRow, id: string, parentId: string | null): redemptionsDb.RedemptionRow => ({
    ...of,
    id,
    object: 'redemption_rollback',
    result: 'SUCCESS',
    status: 'SUCCEEDED',
    order_json: reorder(of),
    metadata: request.body.metadata ? JSON.stringify(request.body.metadata) : of.metadata,
    failure_code: null,
    failure_message: null,
    parent_id: parentId,
    rollback_of: of.id,
    idempotency_key: null,
    request_hash: null,
    reason: request.reason ?? request.body.reason ?? null,
    error_message: null,
    channel_id: request.channelId,
    created_at: now,
  });
  const parentRollback = rollbackRow(original, rollbackId, null);
  const childRollbacks = targets.map((child, i) => rollbackRow(child, childRollbackIds[i] as string, rollbackId));
  const returned = stack ? targets : [original];

  // The units and the summary first, then the rollback rows, then the redemptions marked: each
  // rollback row's webhook event (migration 0022) sees the voucher and the customer as the rollback
  // leaves them, and the redemption as it was.
  const writes = [
    ...(write ? [write] : []),
    ...returned
      .filter((row) => row.voucher_id !== null)
      .map((row) => redemptionsDb.returnVoucherUnit(env.DB, row.voucher_id as string, row.id, now)),
    // One order, however many vouchers it stacked: it becomes CANCELED once, and summary.orders.*
    // is recomputed from the orders table without it.
    ...(customerId ? [redemptionsDb.recordRollbackInSummary(env.DB, customerId, now)] : []),
    ...(typeof orderId === 'string' ? rolledBackOrderWrites(env.DB, orderId, customerId, now) : []),
    redemptionsDb.insertRedemption(env.DB, parentRollback),
    ...childRollbacks.map((row) => redemptionsDb.insertRedemption(env.DB, row)),
    ...[original, ...targets].map((row) => redemptionsDb.markRolledBack(env.DB, row.id, reorder(row))),
  ];
  // Through the customer-write pipeline when there is a customer: its segments follow the reversed summary.
  const statements = [
    ...(customerId
      ? membership.customerWriteBatch(env.DB, await membership.loadActiveSegments(env.DB), writes, { ids: [customerId] }, now).statements
      : writes),
    ...redemptionsDb.relationStatements(env.DB, [parentRollback, ...childRollbacks]),
  ];
  let results: D1Result<Record<string, unknown>>[];
  try {
    results = await env.DB.batch<Record<string, unknown>>(statements);
  } catch (error) {
    // A concurrent rollback of the same redemption inserted its rollback first.
    if (d1Refusal(error) === 'already_rolled_back') return refuseRolledBack(env, request, original);
    throw error;
  }
  const related = redemptionsDb.readRelations(results.slice(-2));
  if (endpoint === 'single') return redemptionView(parentRollback, related);
  if (!stack) {
    // A redemption without a parent rolled back through /rollbacks: it is its own parent rollback.
    const single = redemptionView(parentRollback, related);
    return { rollbacks: [single], parent_rollback: single, order: single.order };
  }
  return stackedRollbackView(parentRollback, childRollbacks, related);
}

export const rollbackRedemption = (env: Env, request: RollbackRequest) => rollback(env, request, 'single');
export const rollbackStackedRedemption = (env: Env, request: RollbackRequest) => rollback(env, request, 'stacked');
