import type { EventResponse } from '../../../shared/types';
import * as customersDb from '../db/customers';
import * as eventsDb from '../db/events';
import { cappedProfileEventStatements, countProfileEventsSince } from '../db/anonymous-profiles';
import type { Env } from '../env';
import { apiError, ApiError, invalidPayload, notFound } from '../errors';
import { randomId } from '../lib/ids';
import type { CustomerWrite } from '../schemas/customers';
import type { EventCreate } from '../schemas/events';
import { type CustomerEventMessage, enqueue, type ProfileEventMessage, type QueuedEvent } from '../queue/messages';
import { findTrackingProfile, touchTrackingProfile } from '../db/tracking';
import { type ClientProof, trustedClientContext } from './identity';
import * as membership from './membership';
import { identityHmac, TRACKING_ID } from './tracking';

/**
 * POST /v1/events (server key): the customer named is upserted with its fields, as Voucherify does.
 * Nothing is written here: the event goes onto the queue and the consumer writes it with the
 * customer and its memberships (customerEventStatements). The answer is read through the request's
 * session (a replica may serve it) and shows the customer as the write will leave it.
 */
export async function trackEvent(env: Pick<Env, 'DB' | 'WRITES'>, input: EventCreate): Promise<EventResponse> {
  const now = Date.now();
  const { id, source_id, ...fields } = input.customer;
  const event = queuedEvent(input);
  if (id === undefined && source_id && TRACKING_ID.test(source_id)) {
    return trackAnonymousEvent(env, event, source_id, now);
  }
  const sent = Object.keys(fields).length > 0 ? (fields as CustomerWrite) : undefined;
  if (id !== undefined) {
    const existing = await customersDb.findCustomer(env.DB, id);
    if (!existing) throw notFound('customer', id);
    await enqueue(env.WRITES, {
      kind: 'customer_event',
      id: event.id,
      at: now,
      customer: { id: existing.id, ...(sent ? { fields: sent } : {}) },
      event,
    });
    return eventResponse(event, withFields(existing, sent));
  }
  if (!source_id) throw missingCustomer();
  const existing = await customersDb.findCustomer(env.DB, source_id);
  const newId = existing?.id ?? randomId('cust_');
  await enqueue(env.WRITES, {
    kind: 'customer_event',
    id: event.id,
    at: now,
    customer: { source_id, new_id: newId, fields: sent ?? {} },
    event,
  });
  return eventResponse(event, withFields(existing ?? { ...customersDb.emptyCustomerRow(newId, now), source_id }, sent));
}

const missingCustomer = () => apiError('missing_customer', 'customer: give id or source_id');

const queuedEvent = (input: EventCreate): QueuedEvent => ({ id: randomId('evcus_'), type: input.event, metadata: input.metadata ?? {} });

/** The answer's customer: as read, with the fields the event sets. */
function withFields(
  row: customersDb.CustomerRow,
  fields: CustomerWrite | undefined,
): Pick<customersDb.CustomerRow, 'id' | 'source_id' | 'name' | 'email' | 'metadata'> {
  const answer = { id: row.id, source_id: row.source_id, name: row.name, email: row.email, metadata: row.metadata };
  if (fields?.name !== undefined) answer.name = fields.name;
  if (fields?.email !== undefined) answer.email = fields.email;
  if (fields?.metadata !== undefined) answer.metadata = JSON.stringify(fields.metadata ?? {});
  return answer;
}

/**
 * An event of a visitor known only by a tracking id, sent with the server key: it goes on the
 * tracking profile, or on the customer a redemption already linked that profile to.
 */
async function trackAnonymousEvent(
  env: Pick<Env, 'DB' | 'WRITES'>,
  event: QueuedEvent,
  trackingId: string,
  now: number,
): Promise<EventResponse> {
  const profile = await findTrackingProfile(env.DB, trackingId);
  const linked = profile?.customer_id ? await customersDb.findCustomer(env.DB, profile.customer_id) : null;
  if (linked) {
    await enqueue(env.WRITES, {
      kind: 'customer_event',
      id: event.id,
      at: now,
      customer: { id: linked.id },
      event,
      touch_tracking_id: trackingId,
    });
    return eventResponse(event, linked);
  }
  await enqueue(env.WRITES, {
    kind: 'profile_event',
    id: event.id,
    at: now,
    tracking_id: trackingId,
    identity_hmac: null,
    event,
    cap: null,
  });
  return clientEventResponse(event, { source_id: trackingId });
}

/**
 * The queue consumer's statements for an anonymous event: on the tracking profile, within its
 * daily cap; but one that happened before a redemption linked the profile (it reached the consumer
 * after it) goes to the customer, with its memberships refreshed: the merge it missed. One that
 * happened after the link stays on the profile, as always (the browser is not the customer).
 */
export function profileEventStatements(
  db: D1Database,
  m: ProfileEventMessage,
  link: { customer_id: string; linked_at: number } | undefined,
  segments: () => Promise<membership.ActiveSegment[]>,
): D1PreparedStatement[] | Promise<D1PreparedStatement[]> {
  const event = { ...m.event, createdAt: m.at };
  if (!link || m.at > link.linked_at) return cappedProfileEventStatements(db, m.tracking_id, m.identity_hmac, event, m.cap);
  const selector = { ids: [link.customer_id] };
  const writes = [touchTrackingProfile(db, m.tracking_id, m.at), eventsDb.insertCustomerEvent(db, event, selector)];
  return segments().then((active) => membership.refreshedWrites(db, active, writes, selector, m.at));
}

/**
 * The queue consumer's statements for a customer event: the customer written (created by source
 * id when missing, its fields when sent), the visit of the tracking profile it came with, the
 * event, then the customer's memberships refreshed with their entered/left events, in the one
 * batch of its message. An event for a customer id that does not exist records nothing.
 */
export function customerEventStatements(
  db: D1Database,
  m: CustomerEventMessage,
  segments: membership.ActiveSegment[],
): D1PreparedStatement[] {
  const writes: D1PreparedStatement[] = [];
  let selector: customersDb.CustomerSelector;
  if ('new_id' in m.customer) {
    const { source_id, new_id, fields } = m.customer;
    selector = { sourceIds: [source_id] };
    writes.push(
      fields
        ? customersDb.upsertCustomerBySourceId(db, new_id, { ...fields, source_id }, m.at)
        : customersDb.insertCustomerIfMissing(db, new_id, source_id, m.at),
    );
  } else {
    selector = { ids: [m.customer.id] };
    if (m.customer.fields && Object.keys(m.customer.fields).length > 0)
      writes.push(customersDb.updateCustomer(db, m.customer.id, m.customer.fields, m.at));
  }
  if (m.touch_tracking_id) writes.push(touchTrackingProfile(db, m.touch_tracking_id, m.at));
  writes.push(eventsDb.insertCustomerEvent(db, { ...m.event, createdAt: m.at }, selector, m.cap ?? null));
  return membership.refreshedWrites(db, segments, writes, selector, m.at);
}

/**
 * The answer of POST /v1/events: OA24 EventsCreateResponseBody (OpenAPI24.json:L42146), whose
 * required keys include the event's `metadata` (as sent).
 */
const eventResponse = (
  event: Pick<QueuedEvent, 'type' | 'metadata'>,
  row: Pick<customersDb.CustomerRow, 'id' | 'source_id' | 'name' | 'email' | 'metadata'>,
): EventResponse => {
  return {
    object: 'event',
    type: event.type,
    customer: {
      id: row.id,
      source_id: row.source_id,
      name: row.name,
      email: row.email,
      metadata: JSON.parse(row.metadata),
      object: 'customer',
    },
    referral: null,
    loyalty: null,
    metadata: event.metadata,
  };
};

/**
 * The answer to the public client key: the event, and of the customer only the identifiers the
 * caller sent. The same for a known and an unknown customer, recorded or not.
 */
const clientEventResponse = (event: Pick<QueuedEvent, 'type' | 'metadata'>, sent: { id?: string; source_id?: string }): EventResponse => ({
  object: 'event',
  type: event.type,
  customer: { id: sent.id ?? null, source_id: sent.source_id ?? null, name: null, email: null, metadata: {}, object: 'customer' },
  referral: null,
  loyalty: null,
  // The event's own metadata, as the caller sent it (nothing stored about anyone).
  metadata: event.metadata,
});

/** Client event metadata is stored for anyone who holds the public key: kept small, so the key cannot fill the database. */
export const CLIENT_EVENT_METADATA_BYTES = 2048;
const DEFAULT_EVENTS_PER_DAY = 500;
const DAY_MS = 86_400_000;

export interface ClientEventClaims {
  identityHash?: string;
  /** Where the request's identity signatures are (services/identity.ts judges them). */
  proof: ClientProof;
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
  const answer = clientEventResponse({ type: input.event, metadata }, { id, source_id });
  const event = { ...queuedEvent(input), metadata };
  // The visitor's own `track_…` id is its device, not a claim; every other name is judged by the
  // one rule of all client routes (trustedClientContext).
  const ownProfile = id === undefined && source_id !== undefined && TRACKING_ID.test(source_id);
  const trusted = await trustedClientContext(
    env,
    ownProfile
      ? { tracking_id: source_id, identity_hash: claims.identityHash }
      : { customer: { id, source_id }, identity_hash: claims.identityHash },
    claims.proof,
  );

  if (ownProfile) {
    const hash = trusted.identity_hash;
    const hmac = hash ? await identityHmac(env.TRACKING_SECRET, hash) : null;
    const dayStart = now - (now % DAY_MS);
    const max = Number(env.CLIENT_EVENTS_PER_DAY) || DEFAULT_EVENTS_PER_DAY;
    // The cap is exact where the event is written (the consumer counts again in its statement), so
    // the send does not wait for the read: a track costs the longer of the two, not their sum. The
    // read (a replica may lag) only lets the caller know with a 429; an event sent past the cap is
    // dropped by the consumer.
    const [count] = await Promise.all([
      countProfileEventsSince(env.DB, source_id, dayStart),
      enqueue(env.WRITES, {
        kind: 'profile_event',
        id: event.id,
        at: now,
        tracking_id: source_id,
        identity_hmac: hmac,
        event,
        cap: { since: dayStart, max },
      }),
    ]);
    if (count >= max) throw new DailyEventCapReached(Math.ceil((dayStart + DAY_MS - now) / 1000), max);
    return answer;
  }

  if (id === undefined && source_id === undefined) throw missingCustomer();
  // A named customer counts as the kind it was named and signed as: the id when one is given (as
  // for every customer reference), else the source id.
  const believedId = id !== undefined ? trusted.customer?.id : undefined;
  const believedSource = id === undefined ? trusted.customer?.source_id : undefined;
  if (believedId === undefined && believedSource === undefined) return answer;
  // Believed: recorded for that customer (a missing id records nothing; a missing source id is
  // created), no field ever rewritten, within a visitor's daily cap (sendCappedCustomerEvent).
  // Nothing else is read: the answer is the same either way.
  const customer = believedId !== undefined ? { id: believedId } : { source_id: believedSource as string, new_id: randomId('cust_') };
  await sendCappedCustomerEvent(env, { kind: 'customer_event', id: event.id, at: now, customer, event }, now);
  return answer;
}

/**
 * Sends a client event of a believed customer under the daily cap of a tracking profile
 * (CLIENT_EVENTS_PER_DAY a UTC day), counted over the customer's events: a signed shopper holds a
 * signature as public as the anonymous visitor's cookie. As for profiles, the consumer keeps the
 * cap exact where it writes; the read beside the send (a replica may lag) only answers 429.
 */
async function sendCappedCustomerEvent(env: Env, message: CustomerEventMessage, now: number): Promise<void> {
  const since = now - (now % DAY_MS);
  const max = Number(env.CLIENT_EVENTS_PER_DAY) || DEFAULT_EVENTS_PER_DAY;
  const named = 'id' in message.customer ? { id: message.customer.id } : { source_id: message.customer.source_id };
  const [count] = await Promise.all([
    eventsDb.countCustomerEventsSince(env.DB, named, since),
    enqueue(env.WRITES, { ...message, cap: { since, max } }),
  ]);
  if (count >= max) throw new DailyEventCapReached(Math.ceil((since + DAY_MS - now) / 1000), max);
}

/** Thrown with its Retry-After (seconds to the next UTC day) set by the route. */
export class DailyEventCapReached extends ApiError {
  constructor(
    readonly retryAfterSeconds: number,
    max: number,
  ) {
    super(
      429,
      'too_many_requests',
      'Too many requests hit the API too quickly.',
      `A visitor records at most ${max} events a day; retry after ${retryAfterSeconds} seconds.`,
    );
  }
}
