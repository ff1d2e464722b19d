import type { Customer, EventResponse } from '../../../shared/types';
import type { Env } from '../env';
import type { SegmentGroup, SegmentIdentify } from '../schemas/cdp-segment';
import type { EventCreate } from '../schemas/events';
import { upsertCustomerBySourceId } from './customers';
import { trackEvent } from './events';

/**
 * What Segment's "Voucherify (Actions)" destination (and PostHog, which runs it) means by its four
 * calls, on the one customer upsert and the one event path of the API. Traits and group traits
 * name only what changed, so their metadata is merged into the customer's (RFC 7396) rather than
 * replacing it as POST /v1/customers does.
 */

/** The customer metadata key a group call writes under: `metadata.groups.<group id>` holds that group's traits. */
export const GROUPS_METADATA_KEY = 'groups';

/** identify → the customer upserted by source_id, its metadata merged. */
export const identify = (db: D1Database, input: SegmentIdentify): Promise<Customer> =>
  upsertCustomerBySourceId(db, input.sourceId, input.write, input.metadata);

/** track / page / screen → a custom event, as POST /v1/events records it (customer upserted, counted in segments). */
export const track = (env: Pick<Env, 'DB' | 'WRITES'>, input: EventCreate): Promise<EventResponse> => trackEvent(env, input);

/**
 * group → the customer (upserted by source_id) is in the group: its traits are merged under
 * `metadata.groups.<group id>`, so a customer keeps every group it was put in and a segment can
 * filter on `metadata.groups.<group id>` or one of its traits (`metadata.groups.acme.plan`).
 */
export const group = (db: D1Database, input: SegmentGroup): Promise<Customer> =>
  upsertCustomerBySourceId(db, input.sourceId, input.email !== undefined ? { email: input.email } : {}, {
    [GROUPS_METADATA_KEY]: { [input.groupId]: input.traits },
  });
