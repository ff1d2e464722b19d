import type { AsyncAction, AsyncActionError, BulkUpdateResult } from '../../../shared/types';
import * as asyncActionsDb from '../db/async-actions';
import * as customersDb from '../db/customers';
import * as ordersDb from '../db/orders';
import { isAlreadyApplied, markApplied } from '../db/queued-writes';
import type { Env } from '../env';
import { ApiError } from '../errors';
import { randomId } from '../lib/ids';
import { parseInput } from '../lib/parse-input';
import { bulkWriteTarget, type PaceLimits, WritePacer } from '../lib/write-pacer';
import type { JobOutcome, StatementBudget } from '../queue/jobs';
import {
  BatchSender,
  enqueue,
  type MessageOf,
  type OrderImportCustomer,
  type OrderImportMessage,
  type OrderImportRecord,
  utf8Bytes,
} from '../queue/messages';
import { contextCustomerWrite } from '../schemas/checkout';
import { orderCreateSchema } from '../schemas/orders';
import { newAsyncAction, operationStatus } from './async-actions';
import * as membership from './membership';
import { orderCustomerWrites, orderWriteOf } from './orders';

// POST /v1/orders/import, as queue work. The request checks every order (a bad one is reported in
// the action's errors, by its index, as the bulk customer update does), keys each valid one for an
// idempotent upsert (its id, its source_id, or a new id chosen now), and sends them as messages on
// the WRITES queue, each under Queues' 128 KB. The consumer writes a message's orders in slices of
// ORDER_IMPORT_SLICE, as many slices per D1 batch as the bulk writers' time target allows
// (lib/write-pacer.ts), giving way between batches so checkouts are never queued behind the import.
// A batch holds its slices' orders, their customers' summaries, product counts and segment
// memberships recomputed, one marker per slice, and the action's count: a message delivered twice
// writes each slice once. A run that outgrows its statement budget or its time sends the orders
// left as a new message, so retries stay for faults.
//
// Voucherify's import "does not store events" and triggers no webhooks for the orders themselves
// (OA import-orders); here imported orders do appear in the customer's activity (the activity of
// orders is written by triggers on the table, whoever writes it), and the customers' segment
// entered/left events and their webhooks follow, as the OA says segments do.

/** Orders per slice: the unit of a marker. */
export const ORDER_IMPORT_SLICE = 25;
/** Slices per D1 batch: from one, at most eight, sized by D1 time. */
export const ORDER_IMPORT_PACE: PaceLimits = { initial: 2, min: 1, max: 8 };
/** Bytes of one message's orders: Queues take messages under 128 KB; an order larger than this is refused by the import. */
const MAX_MESSAGE_ORDER_BYTES = 110_000;
/** Wall-clock time of one run before it hands the rest on. */
const RUN_MS = 20_000;

/** The order's source_id for the action's error report, when it has a usable one. */
const sourceIdOf = (record: unknown): string => {
  const value = typeof record === 'object' && record !== null ? (record as Record<string, unknown>).source_id : undefined;
  return typeof value === 'string' ? value.slice(0, 255) : '';
};

/** A checked order, keyed so that writing it twice writes it once. */
function importRecord(input: ReturnType<typeof orderCreateSchema.parse>): OrderImportRecord {
  const newId = randomId('ord_');
  const key: OrderImportRecord['key'] =
    input.id !== undefined ? { id: input.id } : input.source_id !== undefined ? { sourceId: input.source_id } : { id: newId };
  let customer: OrderImportCustomer | null = null;
  if (input.customer) {
    const fields = contextCustomerWrite(input.customer);
    const given = Object.keys(fields).length > 0 ? { fields } : {};
    if (input.customer.id !== undefined) customer = { kind: 'id', id: input.customer.id, ...given };
    else if (input.customer.source_id !== undefined)
      customer = { kind: 'source_id', source_id: input.customer.source_id, new_id: randomId('cust_'), ...given };
    else if (Object.keys(fields).length > 0) customer = { kind: 'new', id: randomId('cust_'), fields };
  }
  return { key, new_id: newId, write: orderWriteOf(input) as OrderImportRecord['write'], customer };
}

/**
 * Checks the orders, sends the valid ones, and stores the action (IN_PROGRESS, or DONE when none is
 * valid); returns it for the answer.
 */
export async function startOrderImport(
  env: Pick<Env, 'DB' | 'WRITES'>,
  orders: unknown[],
  requestId: string,
  /** How the report names each order (the CSV import: its first row); `[index]` when not given. */
  labels?: string[],
): Promise<AsyncAction> {
  const startedAt = Date.now();
  const actionId = randomId('aa_');
  const valid: { record: OrderImportRecord; index: number; order: unknown }[] = [];
  const errors: AsyncActionError[] = [];
  orders.forEach((order, index) => {
    try {
      const record = importRecord(parseInput(orderCreateSchema, order));
      if (utf8Bytes(JSON.stringify(record)) > MAX_MESSAGE_ORDER_BYTES) {
        errors.push({
          message: 'Invalid payload',
          details: `${labels?.[index] ?? `[${index}]`}: the order is too large to import (at most ${MAX_MESSAGE_ORDER_BYTES} bytes); create it with POST /v1/orders`,
          key: 'invalid_payload',
          source_id: sourceIdOf(order),
        });
        return;
      }
      valid.push({ record, index, order });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const where = labels?.[index] ? `${labels[index]}: ` : `[${index}].`;
      errors.push({ message: error.message, details: `${where}${error.details ?? ''}`, key: error.key, source_id: sourceIdOf(order) });
    }
  });
  // An order naming a customer by id that does not exist fails, as POST /v1/orders answers 404.
  const named = [...new Set(valid.flatMap(({ record }) => (record.customer?.kind === 'id' ? [record.customer.id] : [])))];
  if (named.length > 0) {
    const found = new Set((await customersDb.selectCustomers(env.DB, { ids: named }).all<{ id: string }>()).results.map((row) => row.id));
    const known = valid.filter(({ record, index, order }) => {
      if (record.customer?.kind !== 'id' || found.has(record.customer.id)) return true;
      errors.push({
        message: 'Resource not found',
        details: `${labels?.[index] ?? `[${index}]`}: customer: Cannot find customer with id ${record.customer.id}`,
        key: 'not_found',
        source_id: sourceIdOf(order),
      });
      return false;
    });
    valid.splice(0, valid.length, ...known);
  }
  const result: BulkUpdateResult = { done_count: 0, failed_count: errors.length, errors };
  const done = valid.length === 0;
  const action = newAsyncAction({ id: actionId, type: 'ORDERS.IMPORT', result, requestId, startedAt, done });
  // The action first: a message written before it exists would count into nothing.
  await asyncActionsDb.insertAsyncAction(env.DB, action).run();
  if (!done) {
    const sender = new BatchSender(env.WRITES);
    for (const message of messagesOf(
      actionId,
      valid.map((v) => v.record),
      startedAt,
    ))
      await sender.add(message, utf8Bytes(JSON.stringify(message)));
    await sender.flush();
  }
  return action;
}

/**
 * The valid orders as messages under the message size. Slices are counted from each message's
 * start, and its markers carry its own id, so messages are independent of each other.
 */
function* messagesOf(actionId: string, orders: OrderImportRecord[], at: number): Generator<OrderImportMessage> {
  let current: OrderImportRecord[] = [];
  let bytes = 0;
  const message = (): OrderImportMessage => ({
    kind: 'order_import',
    id: randomId('oim_'),
    at,
    action_id: actionId,
    total: orders.length,
    from: 0,
    orders: current,
  });
  for (const order of orders) {
    const size = utf8Bytes(JSON.stringify(order)) + 1;
    if (current.length > 0 && bytes + size > MAX_MESSAGE_ORDER_BYTES) {
      yield message();
      current = [];
      bytes = 0;
    }
    current.push(order);
    bytes += size;
  }
  if (current.length > 0) yield message();
}

/** The customer write of an imported order, and how the order's customer column finds it. */
function customerOf(
  db: D1Database,
  c: OrderImportCustomer,
  now: number,
): { write: D1PreparedStatement | null; selector: { ids: string[] } | { sourceIds: string[] } } {
  switch (c.kind) {
    case 'id':
      return { write: c.fields ? customersDb.updateCustomer(db, c.id, c.fields, now) : null, selector: { ids: [c.id] } };
    case 'source_id':
      return {
        write: customersDb.upsertCustomerBySourceId(db, c.new_id, { ...(c.fields ?? {}), source_id: c.source_id }, now),
        selector: { sourceIds: [c.source_id] },
      };
    case 'new':
      return { write: customersDb.insertCustomer(db, c.id, c.fields, now), selector: { ids: [c.id] } };
  }
}

/** The statements of some slices: orders, customers, derived figures, markers, the action's count. */
async function sliceStatements(
  db: D1Database,
  message: OrderImportMessage,
  slices: { index: number; orders: OrderImportRecord[] }[],
  segments: membership.ActiveSegment[],
  now: number,
): Promise<D1PreparedStatement[]> {
  const orders = slices.flatMap((s) => s.orders);
  // The customers these orders belonged to before: their summaries lose an order that moved.
  const ids = orders.flatMap((o) => ('id' in o.key ? [o.key.id] : []));
  const sourceIds = orders.flatMap((o) => ('sourceId' in o.key ? [o.key.sourceId] : []));
  const before = (await ordersDb.selectOrderCustomers(db, ids, sourceIds).all<{ customer_id: string }>()).results.map((r) => r.customer_id);
  const writes: D1PreparedStatement[] = slices.map((s) => markApplied(db, `${message.id}:${s.index}`, now));
  const customerIds = new Set<string>(before);
  const customerSourceIds = new Set<string>();
  for (const order of orders) {
    const customer = order.customer ? customerOf(db, order.customer, now) : null;
    if (customer?.write) writes.push(customer.write);
    if (customer) {
      if ('ids' in customer.selector) customer.selector.ids.forEach((id) => customerIds.add(id));
      else if ('sourceIds' in customer.selector) customer.selector.sourceIds.forEach((id) => customerSourceIds.add(id));
    }
    writes.push(
      ordersDb.upsertOrder(
        db,
        order.key,
        order.new_id,
        order.write as ordersDb.OrderWrite,
        customer ? { customer: customersDb.selectorSql(customer.selector) } : 'unchanged',
        now,
      ),
    );
  }
  // Orders that keep their customer (none given) recompute it too: their status or amount may have changed.
  const after = orders.filter((o) => !o.customer);
  if (after.length > 0) {
    const kept = (
      await ordersDb
        .selectOrderCustomers(
          db,
          after.flatMap((o) => ('id' in o.key ? [o.key.id] : [])),
          after.flatMap((o) => ('sourceId' in o.key ? [o.key.sourceId] : [])),
        )
        .all<{ customer_id: string }>()
    ).results;
    kept.forEach((r) => customerIds.add(r.customer_id));
  }
  const statements = orderCustomerWrites(db, segments, writes, customerIds.size > 0 ? { ids: [...customerIds] } : null, [], now);
  if (customerSourceIds.size > 0) statements.push(...orderCustomerWrites(db, segments, [], { sourceIds: [...customerSourceIds] }, [], now));
  statements.push(asyncActionsDb.countAsyncActionDone(db, message.action_id, orders.length, message.total, now));
  return statements;
}

/**
 * The consumer's `order_import` job: writes the message's slices not written yet, batch by batch,
 * until done; when the delivery's statements or the run's time are spent, sends the orders left as a
 * new message (same id, so the slices keep their markers) and returns.
 */
export async function runOrderImport(
  env: Pick<Env, 'DB' | 'WRITES' | 'BULK_WRITE_TARGET_MS'>,
  message: MessageOf<'order_import'>,
  segmentsOf: () => Promise<membership.ActiveSegment[]>,
  budget: StatementBudget,
): Promise<JobOutcome> {
  const db = env.DB;
  const slices: { index: number; orders: OrderImportRecord[] }[] = [];
  for (let i = 0; i < message.orders.length; i += ORDER_IMPORT_SLICE) {
    slices.push({ index: message.from + i / ORDER_IMPORT_SLICE, orders: message.orders.slice(i, i + ORDER_IMPORT_SLICE) });
  }
  const segments = await segmentsOf();
  const pacer = new WritePacer(bulkWriteTarget(env), ORDER_IMPORT_PACE);
  const deadline = Date.now() + RUN_MS;
  let at = 0;
  while (at < slices.length) {
    let part = slices.slice(at, at + pacer.size);
    const now = Date.now();
    let statements = await sliceStatements(db, message, part, segments, now);
    if (at === 0 && part.length > 1 && statements.length + 2 > budget.statements) {
      // The run's first batch: one slice, so that every run writes something.
      part = part.slice(0, 1);
      statements = await sliceStatements(db, message, part, segments, now);
    }
    if (at > 0 && (statements.length + 2 > budget.statements || now > deadline)) {
      // The rest as a new message: the same id, from the first slice not written.
      const rest = slices.slice(at);
      await enqueue(env.WRITES, { ...message, from: rest[0]?.index ?? message.from, orders: rest.flatMap((s) => s.orders) });
      return;
    }
    try {
      await pacer.write(part.length, () => db.batch(statements));
    } catch (error) {
      // A slice written before (a redelivery): write the others of the part one by one.
      if (!isAlreadyApplied(error) || part.length === 1) {
        if (isAlreadyApplied(error)) {
          at += 1;
          continue;
        }
        throw error;
      }
      for (const slice of part) {
        try {
          await db.batch(await sliceStatements(db, message, [slice], segments, Date.now()));
        } catch (inner) {
          if (!isAlreadyApplied(inner)) throw inner;
        }
      }
    }
    budget.statements -= statements.length + 2;
    at += part.length;
  }
}

/** An import whose message failed past its retries cannot finish: its action ends FAILED, with what was written. */
export async function failDeadLetteredOrderImport(db: D1Database, actionId: string): Promise<void> {
  const row = await asyncActionsDb.findAsyncAction(db, actionId);
  if (!row || row.status !== 'IN_PROGRESS') return;
  const result = JSON.parse(row.result) as BulkUpdateResult & { error?: string };
  result.error = 'The import stopped on an internal error; the orders counted as done were written. Sending the orders again is safe.';
  const now = Date.now();
  await asyncActionsDb
    .updateAsyncAction(db, actionId, {
      status: 'FAILED',
      operationStatus: operationStatus(result, true),
      progress: row.progress,
      result,
      processingTime: now - row.created_at,
      updatedAt: now,
    })
    .run();
}
