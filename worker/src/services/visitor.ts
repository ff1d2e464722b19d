import { changesCustomer, type CustomerSelector, updateCustomer, upsertCustomerBySourceId } from '../db/customers';
import { type CustomerRef, readValidationSubject, type SubjectQuery, type ValidationSubject } from '../db/tracking';
import type { CustomerRow } from '../db/customers';
import type { Env } from '../env';
import { ApiError, ERRORS } from '../errors';
import { randomId } from '../lib/ids';
import { contextCustomerWrite, type ValidationContext } from '../schemas/checkout';
import { definitionAt, type LoadedDefinition } from './definitions';
import { activeSegmentsAt, refreshedWrites } from './membership';
import { identityHmac } from './tracking';

/** The customer a request names: `customer.id` wins over `customer.source_id`. */
export const claimedCustomer = (context: ValidationContext): string | undefined =>
  context.customer?.id ?? context.customer?.source_id ?? undefined;

/**
 * The customer a request names, by the kind it named: an id is looked up as an id only, a source
 * id as a source id only (a source id equal to some customer's id is not that customer).
 */
export const claimedCustomerRef = (context: ValidationContext): CustomerRef => {
  const id = context.customer?.id;
  return { id: id ?? null, sourceId: id === undefined ? (context.customer?.source_id ?? null) : null };
};

/** Whether `row` is the customer the request names, by the kind it named. */
export const isClaimedCustomer = (row: Pick<CustomerRow, 'id' | 'source_id'> | null, context: ValidationContext): boolean => {
  const ref = claimedCustomerRef(context);
  return !!row && (ref.id !== null ? row.id === ref.id : ref.sourceId !== null && row.source_id === ref.sourceId);
};

// The message names the two identifiers the caller itself used (Voucherify's own example pairs two
// tracking ids), never the customer the profile is linked to: the client key is public.
export const ambiguousTrackingId = (trackingId: string, claimed: string) =>
  new ApiError(
    ERRORS.ambiguous_tracking_id[0],
    'ambiguous_tracking_id',
    `Ambiguous trackingId ('${trackingId}' vs. '${claimed}')`,
    'The customer cannot be identified as two different identifiers have been used between requests from same origin.',
    { id: trackingId, type: 'tracking_id' },
  );

/**
 * A tracking profile belongs to the customer a redemption linked it to; a request that names
 * another customer with it cannot say who the visitor is.
 */
export function assertOneCustomer(subject: ValidationSubject, context: ValidationContext): void {
  const linked = subject.profile?.customer_id;
  const claimed = claimedCustomer(context);
  if (!linked || !claimed || !subject.profile) return;
  const found = isClaimedCustomer(subject.customer, context) ? subject.customer : null;
  // The tracking id as the caller sent it: a raw identity's derived `track_…` id is never shown.
  if (found?.id !== linked) throw ambiguousTrackingId(context.tracking_id ?? subject.profile.id, claimed);
}

/**
 * The one read that validate, stackable validate and redeem share: who the visitor is (the
 * customer named, else the one the tracking profile or the identity hash leads to), what the
 * rules need about them (events, memberships, their redemptions of the vouchers), the vouchers'
 * live counters, holders and definition versions, and the segments' version, in one D1 batch. A tracking profile linked to another customer than the one named is
 * refused here (ambiguous_tracking_id), before anything is judged or written.
 */
export async function readVisitor(
  env: Pick<Env, 'DB' | 'TRACKING_SECRET'>,
  codes: string[],
  context: ValidationContext,
  trackingId: string | null,
  now: number,
  writes?: D1PreparedStatement[],
  liveVouchers?: SubjectQuery['liveVouchers'],
  stackId?: string,
  sessionKey?: string | null,
): Promise<ValidationSubject & { identityHmac: string | null }> {
  const hmac = await identityHmac(env.TRACKING_SECRET, context.identity_hash);
  const subject = await readValidationSubject(env.DB, {
    ...(writes ? { writes } : {}),
    now,
    trackingId,
    customerRef: claimedCustomerRef(context),
    identityHmac: hmac,
    codes,
    ...(liveVouchers ? { liveVouchers } : {}),
    ...(stackId !== undefined ? { stackId } : {}),
    sessionKey: sessionKey ?? null,
  });
  assertOneCustomer(subject, context);
  // The HMAC the read used, for the caller's record of the visit (computed once a request).
  return { ...subject, identityHmac: hmac };
}

/**
 * Whether a server-key validate must write the customer it is sent before judging, decided on the
 * visitor read made without writes (a replica may serve it). A validate upserts its customer as the
 * customers API would (customer data at checkout; `null` clears a field), but a customer sent as it
 * is stored, or a request naming none, has nothing new to store: it is judged on that read, as a
 * client validate is, with no round trip to the primary. Its stored auto-update memberships are used
 * as every customer write and the cron keep them, as client validate uses them. A write is needed
 * (and may go to the primary) only when the read did not find the customer named (a new source_id;
 * an id the read did not find, in case the replica has not seen it yet) or the request sets a field
 * to another value than the read found. A replica behind the primary can only make this write more
 * often, except that a value changed since by another caller that did not pass its bookmark along is
 * not written back: the same bound as every read of a session (docs/architecture.md, Consistency).
 */
export function customerWriteNeeded(subject: ValidationSubject, context: ValidationContext): boolean {
  const customer = context.customer;
  if (!customer || (customer.id === undefined && customer.source_id === undefined)) return false;
  const fields = contextCustomerWrite(customer);
  // An id with no fields writes nothing (checkoutCustomerWrites): `id` never creates a customer.
  if (customer.id !== undefined && Object.keys(fields).length === 0) return false;
  const stored = isClaimedCustomer(subject.customer, context) ? subject.customer : null;
  return stored === null || changesCustomer(stored, fields);
}

/**
 * The statements of a server-key validate's customer write (when customerWriteNeeded says so): by
 * source_id, creating it, or by id when that customer exists, with the customer's segments refreshed.
 * They run first in a second visitor read's batch, so the rules judge the customer as written.
 * `segmentsVersion` is the one the first visitor read found (the refresh records any segment
 * created since as pending). Never for the client key (its routes do not ask for this).
 */
export async function checkoutCustomerWrites(
  db: D1Database,
  context: ValidationContext,
  segmentsVersion: string,
  now: number,
): Promise<D1PreparedStatement[]> {
  const customer = context.customer;
  if (!customer) return [];
  const fields = contextCustomerWrite(customer);
  let writes: { statement: D1PreparedStatement; selector: CustomerSelector };
  if (customer.id !== undefined) {
    if (Object.keys(fields).length === 0) return [];
    // An unknown id updates nothing: `id` is Voucherify's own, so it never creates a customer.
    writes = { statement: updateCustomer(db, customer.id, fields, now), selector: { ids: [customer.id] } };
  } else if (customer.source_id !== undefined) {
    writes = {
      statement: upsertCustomerBySourceId(db, randomId('cust_'), { ...fields, source_id: customer.source_id }, now),
      selector: { sourceIds: [customer.source_id] },
    };
  } else {
    return [];
  }
  return refreshedWrites(db, await activeSegmentsAt(db, segmentsVersion), [writes.statement], writes.selector, now);
}

/**
 * The definitions of the codes at the versions the visitor read found; null for a code with no
 * voucher (never looked up in KV: a guess costs nothing there).
 */
export function definitionsOf(
  env: Pick<Env, 'DB' | 'CACHE'>,
  subject: ValidationSubject,
  codes: string[],
): Promise<(LoadedDefinition | null)[]> {
  return Promise.all(
    codes.map((code) => {
      const live = subject.vouchers.get(code);
      return live ? definitionAt(env, code, live.definition_version) : null;
    }),
  );
}
