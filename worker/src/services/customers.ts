import type { AsyncAction, AsyncActionResult, Customer, CustomerDeletion, CustomerList } from '../../../shared/types';
import * as asyncActions from '../db/async-actions';
import * as customers from '../db/customers';
import { ApiError, notFound } from '../errors';
import { randomId } from '../lib/ids';
import { toIso } from '../lib/time';
import type { CustomerListQuery, CustomerWrite } from '../schemas/customers';
import * as membership from './membership';
import { membersPredicate } from './segments';

const duplicateSourceId = (sourceId: string | null | undefined): ApiError =>
  new ApiError(409, 'duplicate_source_id', 'Duplicate source_id', `Another customer already has source_id ${sourceId}`);

/** Runs one customer write through the customer-write pipeline; a taken source_id is a 409 with nothing written. */
async function writeCustomer(
  db: D1Database,
  statement: D1PreparedStatement,
  selector: customers.CustomerSelector,
  write: CustomerWrite,
  now: number,
): Promise<customers.CustomerRow | null> {
  try {
    const { customers: written } = await membership.writeCustomers(db, [statement], selector, now);
    return written[0] ?? null;
  } catch (error) {
    if (customers.isUniqueViolation(error, 'customers', 'source_id')) throw duplicateSourceId(write.source_id);
    throw error;
  }
}

async function requireCustomer(db: D1Database, idOrSourceId: string): Promise<customers.CustomerRow> {
  const row = await customers.findCustomer(db, idOrSourceId);
  if (!row) throw notFound('customer', idOrSourceId);
  return row;
}

/**
 * POST /v1/customers. With an existing `id` or `source_id` it updates that customer (the fields
 * given replace the stored ones); an unknown `id` is a 404, an unknown `source_id` creates.
 */
export async function createOrUpsertCustomer(db: D1Database, id: string | undefined, write: CustomerWrite): Promise<Customer> {
  const now = Date.now();
  let row: customers.CustomerRow | null;
  if (id !== undefined) {
    const existing = await requireCustomer(db, id);
    row = await writeCustomer(db, customers.updateCustomer(db, existing.id, write, now), { ids: [existing.id] }, write, now);
  } else if (typeof write.source_id === 'string') {
    const sourceId = write.source_id;
    const upsert = customers.upsertCustomerBySourceId(db, randomId('cust_'), { ...write, source_id: sourceId }, now);
    row = await writeCustomer(db, upsert, { sourceIds: [sourceId] }, write, now);
  } else {
    const newId = randomId('cust_');
    row = await writeCustomer(db, customers.insertCustomer(db, newId, write, now), { ids: [newId] }, write, now);
  }
  if (!row) throw new Error('customer write returned no row');
  return customers.rowToCustomer(row);
}

export async function getCustomer(db: D1Database, idOrSourceId: string): Promise<Customer> {
  return customers.rowToCustomer(await requireCustomer(db, idOrSourceId));
}

/** PUT /v1/customers/{id}: fields not given stay as they are; no upsert. */
export async function updateCustomer(db: D1Database, idOrSourceId: string, write: CustomerWrite): Promise<Customer> {
  const existing = await requireCustomer(db, idOrSourceId);
  const now = Date.now();
  const row = await writeCustomer(db, customers.updateCustomer(db, existing.id, write, now), { ids: [existing.id] }, write, now);
  // The row vanished between the read and the write: a concurrent delete won.
  if (!row) throw notFound('customer', idOrSourceId);
  return customers.rowToCustomer(row);
}

export async function deleteCustomer(db: D1Database, idOrSourceId: string): Promise<void> {
  const existing = await requireCustomer(db, idOrSourceId);
  if (!(await customers.deleteCustomer(db, existing.id))) throw notFound('customer', idOrSourceId);
}

/** POST /v1/customers/{id}/permanent-deletion: every row about the person, in one batch. */
export async function deleteCustomerPermanently(db: D1Database, idOrSourceId: string): Promise<CustomerDeletion> {
  const existing = await requireCustomer(db, idOrSourceId);
  const counts = await customers.deleteCustomerPermanently(db, existing.id);
  return {
    id: randomId('del_'),
    created_at: toIso(Date.now()),
    related_object_id: existing.id,
    related_object: 'customer',
    status: 'DONE',
    // The keys Voucherify reports; kinds this service does not store count zero.
    data_json: { events: 0, customer_events: 0, daily_events: 0, segments: 0, orders: 0, order_events: 0, ...counts },
    object: 'pernament_deletion',
  };
}

export async function listCustomers(db: D1Database, query: CustomerListQuery): Promise<CustomerList> {
  const restrict = query.segmentId ? await membersPredicate(db, query.segmentId, Date.now()) : undefined;
  const { rows, total, hasMore } = await customers.listCustomers(db, query, restrict);
  return {
    object: 'list',
    data_ref: 'customers',
    customers: rows.map(customers.rowToCustomer),
    total,
    has_more: hasMore,
  };
}

function asyncAction(
  type: AsyncAction['type'],
  result: AsyncActionResult,
  requestId: string,
  startedAt: number,
): AsyncAction {
  const now = Date.now();
  return {
    id: randomId('aa_'),
    type,
    status: 'DONE',
    operation_status: result.failed_count === 0 ? 'SUCCESS' : result.done_count === 0 ? 'FAILED' : 'PARTIAL_SUCCESS',
    result,
    created_at: toIso(startedAt),
    updated_at: toIso(now),
    request_id: requestId,
    progress: 100,
    processing_time: now - startedAt,
    object: 'async_action',
  };
}

/**
 * POST /v1/customers/bulk/async: upserts every record by source_id in one D1 batch together with
 * the action that reports it, so either all of it is written or none.
 */
export async function bulkUpsertCustomers(
  db: D1Database,
  records: (CustomerWrite & { source_id: string })[],
  requestId: string,
): Promise<AsyncAction> {
  const startedAt = Date.now();
  const upserts = records.map((write) => customers.upsertCustomerBySourceId(db, randomId('cust_'), write, startedAt));
  const selector = { sourceIds: records.map((r) => r.source_id) };
  // The report depends on what the upserts return, so the action is written after them; the
  // upserts are idempotent, so a failure between the two leaves nothing a retry would not mend.
  const results = (await membership.writeCustomers(db, upserts, selector, startedAt)).results.slice(0, upserts.length) as D1Result<customers.CustomerRow>[];
  const report: AsyncActionResult = {
    done_count: records.length,
    failed_count: 0,
    results: results.map((r, row) => {
      const customer = r.results[0];
      if (!customer) throw new Error('bulk upsert returned no row');
      return { row, customer_id: customer.id, status: customer.updated_at === null ? 'CREATED' : 'UPDATED' };
    }),
    failed: [],
  };
  const action = asyncAction('CUSTOMERS.BULK_UPDATE', report, requestId, startedAt);
  await asyncActions.insertAsyncAction(db, action).run();
  return action;
}

/** POST /v1/customers/metadata/async: merges metadata into existing customers; unknown ones fail. */
export async function bulkMergeMetadata(
  db: D1Database,
  sourceIds: string[],
  metadata: Record<string, unknown>,
  requestId: string,
): Promise<AsyncAction> {
  if (sourceIds.length === 0) {
    throw new ApiError(400, 'not_enough_source_ids', 'Not enough source_ids', 'source_ids must hold at least one source id');
  }
  const startedAt = Date.now();
  const { results } = await membership.writeCustomers(db, [customers.mergeMetadataBySourceIds(db, sourceIds, metadata, startedAt)], { sourceIds }, startedAt);
  const updated = results[0] as D1Result<{ id: string; source_id: string }> | undefined;
  const idBySourceId = new Map((updated?.results ?? []).map((r) => [r.source_id, r.id]));
  const report: AsyncActionResult = { done_count: 0, failed_count: 0, results: [], failed: [] };
  sourceIds.forEach((sourceId, row) => {
    const customerId = idBySourceId.get(sourceId);
    if (customerId) report.results.push({ row, customer_id: customerId, status: 'UPDATED' });
    else report.failed.push({ row, source_id: sourceId, reason: 'customer not found' });
  });
  report.done_count = report.results.length;
  report.failed_count = report.failed.length;
  const action = asyncAction('CUSTOMERS.METADATA_UPDATE', report, requestId, startedAt);
  await asyncActions.insertAsyncAction(db, action).run();
  return action;
}

/**
 * A CSV import writes its chunks after answering (waitUntil), which Workers stop 30 s after the
 * response. An import whose progress has not moved for this long was cut off and will not finish.
 */
const IMPORT_STALLED_AFTER_MS = 5 * 60_000;

export async function getAsyncAction(db: D1Database, id: string, now = Date.now()): Promise<AsyncAction> {
  const action = await asyncActions.findAsyncAction(db, id);
  if (!action) throw notFound('async_action', id);
  if (action.status === 'IN_PROGRESS' && now - Date.parse(action.updated_at) > IMPORT_STALLED_AFTER_MS) {
    return {
      ...action,
      status: 'FAILED',
      operation_status: 'FAILED',
      result: { ...action.result, error: 'The import stopped before it finished (it ran past the Worker limit); import the remaining rows again.' },
    };
  }
  return action;
}
