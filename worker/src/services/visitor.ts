import { type CustomerSelector, updateCustomer, upsertCustomerBySourceId } from '../db/customers';
import { readValidationSubject, type SubjectQuery, type ValidationSubject } from '../db/tracking';
import { randomId } from '../lib/ids';
import { contextCustomerWrite } from '../schemas/checkout';
import { loadActiveSegments, refreshedWrite } from './membership';
import type { Env } from '../env';
import type { ValidationContext } from '../schemas/checkout';
import { definitionAt, type LoadedDefinition } from './definitions';
import { identityHmac } from './tracking';
import { assertOneCustomer } from './validation';

/** The customer a request names: `customer.id` wins over `customer.source_id`. */
export const claimedCustomer = (context: ValidationContext): string | undefined =>
  context.customer?.id ?? context.customer?.source_id ?? undefined;

/**
 * The one read that validate, stackable validate and redeem share: who the visitor is (the
 * customer named, else the one the tracking profile or the identity hash leads to), what the
 * rules need about them (events, memberships), the vouchers' live counters and definition
 * versions, and the segments' version, in one D1 batch. A tracking profile linked to another customer than the one named is
 * refused here (ambiguous_tracking_id), before anything is judged or written.
 */
export async function readVisitor(
  env: Pick<Env, 'DB' | 'TRACKING_SECRET'>,
  codes: string[],
  context: ValidationContext,
  trackingId: string | null,
  attempt?: SubjectQuery['attempt'],
  writes?: D1PreparedStatement[],
): Promise<ValidationSubject> {
  const claimed = claimedCustomer(context);
  const subject = await readValidationSubject(env.DB, {
    ...(writes ? { writes } : {}),
    trackingId,
    customerRef: claimed ?? null,
    identityHmac: await identityHmac(env.TRACKING_SECRET, context.identity_hash),
    codes,
    ...(attempt ? { attempt } : {}),
  });
  assertOneCustomer(subject, claimed);
  return subject;
}

/**
 * A server-key validate upserts the customer it is sent, as the customers API would (issue: customer
 * data at checkout; `null` clears a field): by source_id, creating it, or by id when that customer
 * exists. The statements run first in the visitor read's batch, with the customer's segments
 * refreshed, so the rules judge the customer as written. Nothing is written for a request that
 * names no customer, and never for the client key (its routes do not ask for this).
 */
export async function checkoutCustomerWrites(db: D1Database, context: ValidationContext, now: number): Promise<D1PreparedStatement[]> {
  const customer = context.customer;
  if (!customer) return [];
  const fields = contextCustomerWrite(customer);
  let writes: { statement: D1PreparedStatement; selector: CustomerSelector };
  if (customer.id !== undefined) {
    if (Object.keys(fields).length === 0) return [];
    // An unknown id updates nothing: `id` is Voucherify's own, so it never creates a customer.
    writes = { statement: updateCustomer(db, customer.id, fields, now), selector: { ids: [customer.id] } };
  } else if (customer.source_id !== undefined) {
    writes = { statement: upsertCustomerBySourceId(db, randomId('cust_'), { ...fields, source_id: customer.source_id }, now), selector: { sourceIds: [customer.source_id] } };
  } else {
    return [];
  }
  return refreshedWrite(db, await loadActiveSegments(db), writes.statement, writes.selector, now);
}

/**
 * The definitions of the codes at the versions the visitor read found; null for a code with no
 * voucher (never looked up in KV: a guess costs nothing there).
 */
export function definitionsOf(env: Pick<Env, 'DB' | 'CACHE'>, subject: ValidationSubject, codes: string[]): Promise<(LoadedDefinition | null)[]> {
  return Promise.all(
    codes.map((code) => {
      const live = subject.vouchers.get(code);
      return live ? definitionAt(env, code, live.definition_version) : null;
    }),
  );
}
