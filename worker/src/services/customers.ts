import type {
  AsyncAction,
  AsyncActionError,
  BulkUpdateResult,
  Customer,
  CustomerDeletion,
  CustomerList,
  MetadataUpdateResult,
} from '../../../shared/types';
import * as asyncActions from '../db/async-actions';
import * as customers from '../db/customers';
import { apiError, ApiError, ERRORS, notFound } from '../errors';
import { randomId } from '../lib/ids';
import { toIso } from '../lib/time';
import { parseInput } from '../lib/parse-input';
import {
  type CustomerBulkRecord,
  customerBulkRecordSchema,
  type CustomerListQuery,
  type CustomerWrite,
  MAX_BULK_RECORDS,
  MAX_METADATA_BYTES,
  MAX_METADATA_SOURCE_IDS,
} from '../schemas/customers';
import { completedAsyncAction } from './async-actions';
import * as membership from './membership';
import { hashIdentity } from '../../../shared/identity';
import { d1Refusal } from '../db/errors';
import type { Env } from '../env';
import { giveWay, RangeSizer } from '../lib/range-sizer';
import { type BulkWriteSettings, bulkWriteTarget, type PaceLimits, WritePacer, writeInBatches } from '../lib/write-pacer';
import { segmentMembers } from './segments';
import { identityHmac } from './tracking';
import type { Sql } from '../db/sql';
import { rowToCustomer } from '../views/customer';

const duplicateSourceId = (sourceId: string | null | undefined): ApiError =>
  apiError('duplicate_source_id', `Another customer already has source_id ${sourceId}`);

/** Why a write was refused whose customer would then store more metadata than the limit. */
const metadataLimitDetails = (bytes?: number): string =>
  `metadata: a customer's metadata must be at most ${MAX_METADATA_BYTES} bytes as JSON once merged into what is stored` +
  (bytes === undefined ? '' : ` (this change would make it ${bytes} bytes)`);

/** The customers a selector of one write names, as the metadata size guard takes them. */
const guardTarget = (selector: { ids: string[] } | { sourceIds: string[] }) =>
  'ids' in selector ? { ids: selector.ids } : { sourceIds: selector.sourceIds };

/**
 * Runs the writes of one customer through the customer-write pipeline; a taken source_id is a 409
 * with nothing written. When the writes touch metadata (`write.metadata`, or a merge patch among
 * the statements), the batch ends with the size guard: a customer that would store more metadata
 * than MAX_METADATA_BYTES is a 400, again with nothing written.
 */
async function writeCustomer(
  db: D1Database,
  statements: D1PreparedStatement | D1PreparedStatement[],
  selector: { ids: string[] } | { sourceIds: string[] },
  write: CustomerWrite,
  now: number,
  metadataPatched = false,
): Promise<customers.CustomerRow | null> {
  const writes = [statements].flat();
  if (write.metadata !== undefined || metadataPatched)
    writes.push(customers.metadataSizeCheck(db, guardTarget(selector), MAX_METADATA_BYTES));
  try {
    const { customers: written } = await membership.writeCustomers(db, writes, selector, now);
    return written[0] ?? null;
  } catch (error) {
    const refusal = d1Refusal(error);
    if (refusal === 'duplicate_source_id') throw duplicateSourceId(write.source_id);
    if (refusal === 'customer_metadata_too_large') throw apiError('limit_exceeded', metadataLimitDetails());
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
    return upsertCustomerBySourceId(db, write.source_id, write);
  } else {
    const newId = randomId('cust_');
    row = await writeCustomer(db, customers.insertCustomer(db, newId, write, now), { ids: [newId] }, write, now);
  }
  if (!row) throw new Error('customer write returned no row');
  return rowToCustomer(row);
}

/**
 * Upsert by source_id: created when no customer has it, else the fields given replace the stored
 * ones. `metadataPatch`, when given, is merged into the stored metadata (RFC 7396: a null removes
 * the key) in the same batch, for writers whose metadata names only what changed (the CDP routes,
 * services/cdp-segment.ts) rather than the whole object (POST /v1/customers).
 */
export async function upsertCustomerBySourceId(
  db: D1Database,
  sourceId: string,
  write: CustomerWrite,
  metadataPatch?: Record<string, unknown>,
): Promise<Customer> {
  const now = Date.now();
  const statements = [customers.upsertCustomerBySourceId(db, randomId('cust_'), { ...write, source_id: sourceId }, now)];
  if (metadataPatch !== undefined) statements.push(customers.mergeMetadataBySourceIds(db, [sourceId], metadataPatch, now));
  const row = await writeCustomer(db, statements, { sourceIds: [sourceId] }, write, now, metadataPatch !== undefined);
  if (!row) throw new Error('customer write returned no row');
  return rowToCustomer(row);
}

export async function getCustomer(db: D1Database, idOrSourceId: string): Promise<Customer> {
  return rowToCustomer(await requireCustomer(db, idOrSourceId));
}

/** PUT /v1/customers/{id}: fields not given stay as they are; no upsert. */
export async function updateCustomer(db: D1Database, idOrSourceId: string, write: CustomerWrite): Promise<Customer> {
  const existing = await requireCustomer(db, idOrSourceId);
  const now = Date.now();
  const row = await writeCustomer(db, customers.updateCustomer(db, existing.id, write, now), { ids: [existing.id] }, write, now);
  // The row vanished between the read and the write: a concurrent delete won.
  if (!row) throw notFound('customer', idOrSourceId);
  return rowToCustomer(row);
}

export async function deleteCustomer(db: D1Database, idOrSourceId: string): Promise<void> {
  const existing = await requireCustomer(db, idOrSourceId);
  if (!(await customers.deleteCustomer(db, existing.id))) throw notFound('customer', idOrSourceId);
}

/** POST /v1/customers/{id}/permanent-deletion: every row about the person, in one batch. */
export async function deleteCustomerPermanently(env: Pick<Env, 'DB' | 'TRACKING_SECRET'>, idOrSourceId: string): Promise<CustomerDeletion> {
  const db = env.DB;
  const existing = await requireCustomer(db, idOrSourceId);
  // The identity hashes the person's own e-mail and source id give (as the browser SDK hashes them).
  const identities = [...new Set([existing.email, existing.source_id].filter((v): v is string => !!v))];
  const hmacs = await Promise.all(identities.map(async (identity) => identityHmac(env.TRACKING_SECRET, await hashIdentity(identity))));
  const counts = await customers.deleteCustomerPermanently(
    db,
    existing.id,
    hmacs.filter((h): h is string => h !== null),
  );
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
  const members = query.segmentId ? await segmentMembers(db, query.segmentId, Date.now()) : undefined;
  const { rows, total, hasMore } =
    members?.kind === 'filter'
      ? await listFilterMembers(db, query, members.predicate)
      : await customers.listCustomers(db, query, members?.segmentId);
  return {
    object: 'list',
    data_ref: 'customers',
    customers: rows.map(rowToCustomer),
    total,
    has_more: hasMore,
  };
}

/**
 * A page of a passive segment's members, and their total. Its filter is evaluated per customer, so
 * one query over all customers would hold the database for as long as that takes (37 s for a
 * heavy filter over 100k, with every checkout waiting). Instead the customers are walked in keyset
 * ranges, each one D1 call over at most 5,000 customers (fewer when the filter is slow): each call
 * counts its matches and returns the sort keys of the first few the page may show; the page is
 * merged here in the list's order, then read by id. The total needs every customer judged anyway,
 * and this way that work is bounded per call rather than skipped: a passive segment stores nothing
 * to count (auto-update and static ones count their stored members, an index range).
 */
async function listFilterMembers(db: D1Database, query: CustomerListQuery, predicate: Sql) {
  const skip = (query.page - 1) * query.limit;
  const keep = skip + query.limit + 1;
  const { compare } = customers.LIST_ORDERS[query.order];
  const sizer = new RangeSizer(1_000, 500);
  let candidates: customers.ListKeys[] = [];
  let total = 0;
  let after = Number.MIN_SAFE_INTEGER;
  for (;;) {
    const range = { after, size: sizer.size, descending: false };
    const started = Date.now();
    const step = await customers.matchesInRange(db, query, predicate, range, keep);
    sizer.record(Date.now() - started);
    total += step.matched;
    candidates = [...candidates, ...step.candidates].sort(compare).slice(0, keep);
    if (step.end.last === null || step.end.customers < range.size) break;
    after = step.end.last;
    await giveWay();
  }
  const pageIds = candidates.slice(skip, skip + query.limit).map((c) => c.id);
  const byId = new Map((await customers.customersByIds(db, pageIds)).map((row) => [row.id, row]));
  const rows = pageIds.flatMap((id) => byId.get(id) ?? []);
  return { rows, total, hasMore: candidates.length > skip + query.limit };
}

/**
 * D1 statements a bulk or metadata update may send (Workers: 1,000 queries per invocation, each
 * statement of a batch counted): every batch repeats the membership refresh (7 statements with
 * any auto-update segment, membership.ts refreshMemberships), counted per batch below.
 */
const BULK_REQUEST_STATEMENTS = 950;

/**
 * How many batches the request's statements allow: `rows` statements in all, `fixed` more once, and
 * per batch the membership refresh and `perBatch` more.
 */
function batchesAllowed(db: D1Database, segments: membership.ActiveSegment[], rows: number, fixed: number, perBatch = 0): number {
  const each = perBatch + membership.refreshMemberships(db, segments, { sourceIds: [] }, Date.now()).length;
  return Math.max(1, Math.floor((BULK_REQUEST_STATEMENTS - rows - fixed) / each));
}

/** Records per batch of a bulk update (upserts, with their membership refresh): 500 is the request's bound. */
export const BULK_UPDATE_PACE: PaceLimits = { initial: 100, min: 10, max: MAX_BULK_RECORDS };
/** Source ids per batch of a metadata update: 100 is the request's bound. */
export const METADATA_UPDATE_PACE: PaceLimits = { initial: 50, min: 10, max: MAX_METADATA_SOURCE_IDS };

/**
 * POST /v1/customers/bulk/async: each record is checked on its own, as Voucherify reports a bad
 * record in the action's errors (OA AsyncActionResultCustomersBulkUpdateResponseBody) rather than
 * refusing the batch. The valid records are upserted by source_id, each with its membership
 * refresh, in batches sized by time (lib/write-pacer.ts) so checkouts get the database between
 * them; the action that reports them commits with the last batch, so it exists only once every
 * record is written.
 */
export async function bulkUpsertCustomers(
  db: D1Database,
  records: unknown[],
  requestId: string,
  settings: BulkWriteSettings = {},
): Promise<AsyncAction> {
  const startedAt = Date.now();
  const valid: CustomerBulkRecord[] = [];
  const errors: AsyncActionError[] = [];
  records.forEach((record, index) => {
    try {
      valid.push(parseInput(customerBulkRecordSchema, record));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      errors.push({ message: error.message, details: `[${index}].${error.details ?? ''}`, key: error.key, source_id: sourceIdOf(record) });
    }
  });
  const result: BulkUpdateResult = { done_count: valid.length, failed_count: errors.length, errors };
  const action = completedAsyncAction('CUSTOMERS.BULK_UPDATE', result, requestId, startedAt);
  const report = asyncActions.insertAsyncAction(db, action);
  if (valid.length === 0) await report.run();
  else {
    // Through the customer-write pipeline, batch by batch; the action's report with the last one.
    // The segments are read once: a segment created meanwhile finds the later batches' customers
    // pending (membership.ts refreshMemberships), as it does any customer write's.
    const segments = await membership.loadActiveSegments(db);
    const pacer = new WritePacer(bulkWriteTarget(settings), BULK_UPDATE_PACE);
    const writeSlice = (slice: CustomerBulkRecord[], last: boolean) => {
      const upserts = slice.map((write) => customers.upsertCustomerBySourceId(db, randomId('cust_'), write, startedAt));
      const selector = { sourceIds: slice.map((r) => r.source_id) };
      return db.batch(membership.refreshedWrites(db, segments, [...upserts, ...(last ? [report] : [])], selector, startedAt));
    };
    await writeInBatches(pacer, valid, writeSlice, batchesAllowed(db, segments, valid.length, 2));
  }
  return action;
}

/** The source_id of a record that failed validation, when it has a usable one. */
const sourceIdOf = (record: unknown): string => {
  const value = typeof record === 'object' && record !== null ? (record as Record<string, unknown>).source_id : undefined;
  return typeof value === 'string' ? value.slice(0, 255) : '';
};

/**
 * POST /v1/customers/metadata/async: merges metadata into the customers with these source ids. A
 * source id no customer holds is upserted, as the OA describes ("If a customer object is not found,
 * it is upserted"). A customer whose merged metadata would be more than MAX_METADATA_BYTES is not
 * written and is reported in the action's errors; the others are, in batches sized by time as the
 * bulk update is, the action with the last one. The sizes are read first, and each batch ends with
 * the size guard: a concurrent write that grew one of them in between rolls that batch back, and
 * its merges are judged again from the new sizes.
 */
export async function bulkMergeMetadata(
  db: D1Database,
  sourceIds: string[],
  metadata: Record<string, unknown>,
  requestId: string,
  settings: BulkWriteSettings = {},
): Promise<AsyncAction> {
  if (sourceIds.length === 0) {
    throw apiError('not_enough_source_ids', 'source_ids must hold at least one source id');
  }
  const distinct = [...new Set(sourceIds)];
  const startedAt = Date.now();
  const errors: AsyncActionError[] = [];
  /** Reports the merges the size limit refuses; answers the source ids still to write. */
  const judge = async (ids: string[]): Promise<string[]> => {
    const over = await customers.metadataMergesOverLimit(db, ids, metadata, MAX_METADATA_BYTES);
    for (const o of over)
      errors.push({
        message: ERRORS.limit_exceeded[1],
        details: metadataLimitDetails(o.bytes),
        key: 'limit_exceeded',
        source_id: o.source_id,
      });
    const refused = new Set(over.map((o) => o.source_id));
    return ids.filter((sourceId) => !refused.has(sourceId));
  };
  // Built when the last batch is written, so it counts every refusal of the batches before it.
  const report = (): AsyncAction => {
    const result: MetadataUpdateResult = { done_count: distinct.length - errors.length, failed_count: errors.length, errors };
    return completedAsyncAction('CUSTOMERS.METADATA_UPDATE', result, requestId, startedAt);
  };
  const applied = await judge(distinct);
  if (applied.length === 0) {
    const action = report();
    await asyncActions.insertAsyncAction(db, action).run();
    return action;
  }
  let action: AsyncAction | undefined;
  const segments = await membership.loadActiveSegments(db);
  const pacer = new WritePacer(bulkWriteTarget(settings), METADATA_UPDATE_PACE);
  const writeSlice = async (slice: string[], last: boolean) => {
    let todo = slice;
    for (let attempt = 1; ; attempt++) {
      if (last) action = report();
      const reportWrite = last ? [asyncActions.insertAsyncAction(db, action as AsyncAction)] : [];
      try {
        if (todo.length === 0) return reportWrite.length ? await db.batch(reportWrite) : undefined;
        return await db.batch(
          membership.refreshedWrites(
            db,
            segments,
            [
              ...todo.map((sourceId) => customers.insertCustomerIfMissing(db, randomId('cust_'), sourceId, startedAt, metadata)),
              customers.mergeMetadataBySourceIds(db, todo, metadata, startedAt),
              customers.metadataSizeCheck(db, { sourceIds: todo }, MAX_METADATA_BYTES),
              ...reportWrite,
            ],
            { sourceIds: todo },
            startedAt,
          ),
        );
      } catch (error) {
        if (d1Refusal(error) !== 'customer_metadata_too_large') throw error;
        if (attempt === 3) throw apiError('limit_exceeded', metadataLimitDetails());
        todo = await judge(todo);
      }
    }
  };
  await writeInBatches(pacer, applied, writeSlice, batchesAllowed(db, segments, applied.length, 2, 2));
  return action as AsyncAction;
}
