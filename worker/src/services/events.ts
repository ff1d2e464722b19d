import type { EventResponse } from '../../../shared/types';
import * as customersDb from '../db/customers';
import * as eventsDb from '../db/events';
import { recordCappedProfileEvent } from '../db/anonymous-profiles';
import type { Env } from '../env';
import { apiError, ApiError, invalidPayload, notFound } from '../errors';
import { randomId } from '../lib/ids';
import type { EventCreate } from '../schemas/events';
import { findTrackingProfile, touchTrackingProfile } from '../db/tracking';
import { identityVerifier } from './identity';
import * as membership from './membership';
import { identityHmac, TRACKING_ID } from './tracking';

/** POST /v1/events (server key): the customer named is upserted with its fields, as Voucherify does. */
export async function trackEvent(db: D1Database, input: EventCreate): Promise<EventResponse> {
  const now = Date.now();
  const { id, source_id, ...fields } = input.customer;
  const statements: D1PreparedStatement[] = [];
  let selector: customersDb.CustomerSelector;

  if (id === undefined && source_id && TRACKING_ID.test(source_id)) {
    return trackAnonymousEvent(db, input, source_id, now);
  }
  if (id !== undefined) {
    const existing = await customersDb.findCustomer(db, id);
    if (!existing) throw notFound('customer', id);
    selector = { ids: [existing.id] };
    if (Object.keys(fields).length > 0) statements.push(customersDb.updateCustomer(db, existing.id, fields, now));
  } else if (source_id) {
    selector = { sourceIds: [source_id] };
    statements.push(customersDb.upsertCustomerBySourceId(db, randomId('cust_'), { ...fields, source_id }, now));
  } else {
    throw missingCustomer();
  }
  return eventResponse(input.event, await recordCustomerEvent(db, input, selector, statements, now));
}

const missingCustomer = () => apiError('missing_customer', 'customer: give id or source_id');

/** The event through the customer-write pipeline: the event, the memberships it may change, and the customer as it now is, in one batch. */
async function recordCustomerEvent(
  db: D1Database,
  input: EventCreate,
  selector: customersDb.CustomerSelector,
  statements: D1PreparedStatement[],
  now: number,
): Promise<customersDb.CustomerRow | undefined> {
  const event = eventsDb.insertCustomerEvent(db, { id: randomId('evcus_'), type: input.event, metadata: input.metadata ?? {}, createdAt: now }, selector);
  const { customers } = await membership.writeCustomers(db, [...statements, event], selector, now);
  return customers[0];
}

/**
 * An event of a visitor known only by a tracking id, sent with the server key: it goes on the
 * tracking profile, or on the customer a redemption already linked that profile to.
 */
async function trackAnonymousEvent(db: D1Database, input: EventCreate, trackingId: string, now: number): Promise<EventResponse> {
  const profile = await findTrackingProfile(db, trackingId);
  const event = { id: randomId('evcus_'), type: input.event, metadata: input.metadata ?? {}, createdAt: now };
  if (profile?.customer_id) {
    const row = await recordCustomerEvent(db, input, { ids: [profile.customer_id] }, [touchTrackingProfile(db, trackingId, now)], now);
    if (row) return eventResponse(input.event, row);
  }
  await db.batch([touchTrackingProfile(db, trackingId, now), eventsDb.insertProfileEvent(db, event, trackingId)]);
  return clientEventResponse(input.event, { source_id: trackingId });
}

const eventResponse = (type: string, row: customersDb.CustomerRow | undefined): EventResponse => {
  if (!row) throw new Error('event customer vanished inside its batch');
  return {
    object: 'event',
    type,
    customer: { id: row.id, source_id: row.source_id, name: row.name, email: row.email, metadata: JSON.parse(row.metadata), object: 'customer' },
    referral: null,
    loyalty: null,
  };
};

/**
 * The answer to the public client key: the event, and of the customer only the identifiers the
 * caller sent. The same for a known and an unknown customer, recorded or not.
 */
const clientEventResponse = (type: string, sent: { id?: string; source_id?: string }): EventResponse => ({
  object: 'event',
  type,
  customer: { id: sent.id ?? null, source_id: sent.source_id ?? null, name: null, email: null, metadata: {}, object: 'customer' },
  referral: null,
  loyalty: null,
});

/** Client event metadata is stored for anyone who holds the public key: kept small (F3). */
export const CLIENT_EVENT_METADATA_BYTES = 2048;
const DEFAULT_EVENTS_PER_DAY = 500;
const DAY_MS = 86_400_000;

export interface ClientEventClaims {
  identityHash?: string;
  signature?: string;
}

/**
 * POST /client/v1/events (public client key). The browser is not evidence:
 * - a `track_…` source id is the visitor's own tracking profile: the event goes there (never into
 *   a customer it may be linked to; the next redemption with it merges it), with the identity
 *   HMAC only when the identity hash is signed, and at most CLIENT_EVENTS_PER_DAY a UTC day (429);
 * - a customer id or source id is an identity claim: unless believed (signed, or
 *   IDENTITY_VERIFICATION=off) nothing is written; believed, the event is recorded for that
 *   customer (a missing one is created by source id; no field is ever rewritten).
 * The answer is the same in every case and names only what the caller sent.
 */
export async function trackClientEvent(env: Env, input: EventCreate, claims: ClientEventClaims): Promise<EventResponse> {
  const now = Date.now();
  const metadata = input.metadata ?? {};
  if (new TextEncoder().encode(JSON.stringify(metadata)).length > CLIENT_EVENT_METADATA_BYTES) {
    throw invalidPayload(`metadata: must be at most ${CLIENT_EVENT_METADATA_BYTES} bytes of JSON with the client key`);
  }
  const { id } = input.customer;
  const source_id = input.customer.source_id ?? undefined;
  const answer = clientEventResponse(input.event, { id, source_id });
  const verifier = identityVerifier(env, claims.signature);

  if (id === undefined && source_id && TRACKING_ID.test(source_id)) {
    const hash = claims.identityHash;
    const hmac = hash && (await verifier.trustsHash(hash)) ? await identityHmac(env.TRACKING_SECRET, hash) : null;
    const dayStart = now - (now % DAY_MS);
    const max = Number(env.CLIENT_EVENTS_PER_DAY) || DEFAULT_EVENTS_PER_DAY;
    const event = { id: randomId('evcus_'), type: input.event, metadata, createdAt: now };
    if (!(await recordCappedProfileEvent(env.DB, source_id, hmac, event, { since: dayStart, max }))) {
      throw new DailyEventCapReached(Math.ceil((dayStart + DAY_MS - now) / 1000), max);
    }
    return answer;
  }

  const claim = id ?? source_id;
  if (claim === undefined) throw missingCustomer();
  if (!(await verifier.trustsIdentity(claim))) return answer;
  const db = env.DB;
  if (id !== undefined) {
    const existing = await customersDb.findCustomer(db, id);
    if (existing) await recordCustomerEvent(db, input, { ids: [existing.id] }, [], now);
  } else if (source_id !== undefined) {
    await recordCustomerEvent(db, input, { sourceIds: [source_id] }, [customersDb.insertCustomerIfMissing(db, randomId('cust_'), source_id, now)], now);
  }
  return answer;
}

/** Thrown with its Retry-After (seconds to the next UTC day) set by the route. */
export class DailyEventCapReached extends ApiError {
  constructor(
    readonly retryAfterSeconds: number,
    max: number,
  ) {
    super(429, 'too_many_requests', 'Too many requests hit the API too quickly.', `A visitor records at most ${max} events a day; retry after ${retryAfterSeconds} seconds.`);
  }
}
