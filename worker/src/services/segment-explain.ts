/**
 * @module Why a customer (or a visitor) is or is not in a segment: POST /v1/segments/{id}/explain,
 * our addition. Server key only; the console calls explainSegment() in
 * process.
 */
import { explainFilter, parseFilter } from '../../../shared/filter';
import type { SegmentExplanation } from '../../../shared/types';
import * as segmentsDb from '../db/segments';
import { readValidationSubject } from '../db/tracking';
import type { Env } from '../env';
import { notFound } from '../errors';
import { untrackedProfile } from './segments';
import { resolveTrackingId } from './tracking';
import { membershipBasis, subjectProfile } from './validation';

/** Who to explain: a customer by id or source_id, or the visitor behind a tracking id. */
export type ExplainSubject = { customer: string } | { tracking_id: string };

/**
 * The segment's verdict for one subject, as the API reports it, and the filter's trace now.
 * - `member`: the stored members of a static or auto-update segment, the filter judged now for a
 *   passive one, exactly as GET /v1/customers/{id}/segments (services/segments.ts customerSegments)
 *   and validate (services/validation.ts segmentMemberships) decide it (`membershipBasis`);
 * - `explanation`: the trace of the filter over the profile now (null for a static segment). For a
 *   stored membership it may disagree with `member` until the next sync: that is the point of it.
 *
 * A tracking id resolves as validate resolves it (a raw identity is HMACed into its `track_…` id):
 * to the customer a redemption linked it to, with the tracking profile's unmerged events, else to the
 * anonymous visitor. A customer reference naming nobody is judged as an empty profile, as
 * customerSegments judges it, with `customer: null`. An unknown segment is a 404.
 */
export async function explainSegment(
  env: Pick<Env, 'DB' | 'TRACKING_SECRET'>,
  segmentId: string,
  subject: ExplainSubject,
  now: number = Date.now(),
): Promise<SegmentExplanation> {
  const customerRef = 'customer' in subject ? subject.customer : null;
  const trackingId = 'tracking_id' in subject ? (await resolveTrackingId(env.TRACKING_SECRET, subject.tracking_id)).id : null;
  const [row, visitor] = await Promise.all([
    segmentsDb.findSegment(env.DB, segmentId),
    // The server key names a customer by id or source id, as /v1/customers/{id} does.
    readValidationSubject(env.DB, {
      now,
      trackingId,
      customerRef: { id: customerRef, sourceId: customerRef },
      identityHmac: null,
      codes: [],
    }),
  ]);
  if (!row) throw notFound('segment', segmentId);

  const customer = visitor.customer;
  const profile = customer === null && customerRef !== null ? untrackedProfile(customerRef, now) : subjectProfile(visitor, {});
  const basis = membershipBasis(row.type, customer !== null);
  const explanation = row.filter === null ? null : explainFilter(parseFilter(JSON.parse(row.filter)), profile, now);
  return {
    object: 'segment_explanation',
    segment: { id: row.id, name: row.name, type: row.type },
    customer: customer === null ? null : { id: customer.id, source_id: customer.source_id },
    member: basis === 'stored' ? visitor.memberOf.has(row.id) : (explanation?.passed ?? false),
    basis,
    explanation,
  };
}
