import { readValidationSubject, type SubjectQuery, type ValidationSubject } from '../db/tracking';
import type { Env } from '../env';
import type { ValidationContext } from '../schemas/checkout';
import type { LoadedDefinition } from './definitions';
import { identityHmac } from './tracking';
import { assertOneCustomer } from './validation';

/** The customer a request names: `customer.id` wins over `customer.source_id`. */
export const claimedCustomer = (context: ValidationContext): string | undefined =>
  context.customer?.id ?? context.customer?.source_id ?? undefined;

/**
 * The one read that validate, stackable validate and redeem share: who the visitor is (the
 * customer named, else the one the tracking profile or the identity hash leads to), what the
 * rules need about them (events, memberships), the vouchers' live counters and the segments'
 * version, in one D1 batch. A tracking profile linked to another customer than the one named is
 * refused here (ambiguous_tracking_id), before anything is judged or written.
 */
export async function readVisitor(
  env: Pick<Env, 'DB' | 'TRACKING_SECRET'>,
  definitions: LoadedDefinition[],
  context: ValidationContext,
  trackingId: string | null,
  attempt?: SubjectQuery['attempt'],
): Promise<ValidationSubject> {
  const claimed = claimedCustomer(context);
  const subject = await readValidationSubject(env.DB, {
    trackingId,
    customerRef: claimed ?? null,
    identityHmac: await identityHmac(env.TRACKING_SECRET, context.identity_hash),
    segmentIds: [...new Set(definitions.flatMap((d) => d.segmentIds))],
    voucherIds: definitions.map((d) => d.voucher.id),
    ...(attempt ? { attempt } : {}),
  });
  assertOneCustomer(subject, claimed);
  return subject;
}
