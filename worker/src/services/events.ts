import type { EventResponse } from '../../../shared/types';
import * as customersDb from '../db/customers';
import * as eventsDb from '../db/events';
import { ApiError, notFound } from '../errors';
import { randomId } from '../lib/ids';
import type { EventCreate } from '../schemas/events';
import { findTrackingProfile, touchTrackingProfile } from '../db/tracking';
import * as membership from './membership';
import { TRACKING_ID } from './tracking';

/**
 * Who may change the customer an event names: the server key upserts the customer's fields as
 * Voucherify does; the client key (public, in browsers) may only create a missing customer by
 * source_id, never rewrite an existing one's name, email or metadata.
 */
export type EventCaller = 'server' | 'client';

export async function trackEvent(db: D1Database, input: EventCreate, caller: EventCaller): Promise<EventResponse> {
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
    if (caller === 'server' && Object.keys(fields).length > 0) {
      statements.push(customersDb.updateCustomer(db, existing.id, fields, now));
    }
  } else if (source_id) {
    selector = { sourceIds: [source_id] };
    statements.push(
      caller === 'server'
        ? customersDb.upsertCustomerBySourceId(db, randomId('cust_'), { ...fields, source_id }, now)
        : customersDb.insertCustomerIfMissing(db, randomId('cust_'), source_id, now),
    );
  } else {
    throw new ApiError(400, 'missing_customer', 'Missing customer', 'customer: give id or source_id');
  }

  const active = await membership.loadActiveSegments(db);
  statements.push(
    eventsDb.insertCustomerEvent(db, { id: randomId('evcus_'), type: input.event, metadata: input.metadata ?? {}, createdAt: now }, selector),
    ...membership.refreshMemberships(db, active, selector, now),
    customersDb.selectCustomers(db, selector),
  );
  const results = await db.batch<customersDb.CustomerRow>(statements);
  const row = results.at(-1)?.results[0];
  if (!row) throw new Error('event customer vanished inside its batch');
  return eventResponse(input.event, row);
}

/**
 * An event of a visitor known only by a tracking id (the browser SDK's track()): it goes on the
 * tracking profile, or on the customer a redemption already linked that profile to.
 */
async function trackAnonymousEvent(db: D1Database, input: EventCreate, trackingId: string, now: number): Promise<EventResponse> {
  const profile = await findTrackingProfile(db, trackingId);
  const event = { id: randomId('evcus_'), type: input.event, metadata: input.metadata ?? {}, createdAt: now };
  if (profile?.customer_id) {
    const active = await membership.loadActiveSegments(db);
    const selector = { ids: [profile.customer_id] };
    const results = await db.batch<customersDb.CustomerRow>([
      touchTrackingProfile(db, trackingId, now),
      eventsDb.insertCustomerEvent(db, event, selector),
      ...membership.refreshMemberships(db, active, selector, now),
      customersDb.selectCustomers(db, selector),
    ]);
    const row = results.at(-1)?.results[0];
    if (row) return eventResponse(input.event, row);
  }
  await db.batch([touchTrackingProfile(db, trackingId, now), eventsDb.insertProfileEvent(db, event, trackingId)]);
  return {
    object: 'event',
    type: input.event,
    customer: { id: null, source_id: trackingId, name: null, email: null, metadata: {}, object: 'customer' },
    referral: null,
    loyalty: null,
  };
}

const eventResponse = (type: string, row: customersDb.CustomerRow): EventResponse => ({
  object: 'event',
  type,
  customer: { id: row.id, source_id: row.source_id, name: row.name, email: row.email, metadata: JSON.parse(row.metadata), object: 'customer' },
  referral: null,
  loyalty: null,
});
