import * as anonymousProfiles from '../db/anonymous-profiles';
import { deleteExpiredClientRedemptions } from '../db/redemptions';
import { deleteAppliedBefore } from '../db/queued-writes';
import type { Env } from '../env';

const DAY_MS = 86_400_000;
const DEFAULT_RETENTION_DAYS = 400;
/** Profiles per batch, and batches per cron run: bounded work however much is due. */
export const RETENTION_BATCH = 500;
export const RETENTION_BATCHES_PER_RUN = 20;

/**
 * Deletes anonymous tracking profiles (never linked to a customer) not seen for
 * ANONYMOUS_RETENTION_DAYS (default 400, the tracking cookie's own lifetime), with their events
 * and validations, in batches; what is left waits for the next run. Resolves to how many went.
 */
export async function deleteStaleAnonymousProfiles(env: Env, now: number): Promise<number> {
  const days = Number(env.ANONYMOUS_RETENTION_DAYS) > 0 ? Number(env.ANONYMOUS_RETENTION_DAYS) : DEFAULT_RETENTION_DAYS;
  const before = now - days * DAY_MS;
  let deleted = 0;
  for (let batch = 0; batch < RETENTION_BATCHES_PER_RUN; batch++) {
    const n = await anonymousProfiles.deleteStaleAnonymousProfiles(env.DB, before, RETENTION_BATCH);
    deleted += n;
    if (n < RETENTION_BATCH) break;
  }
  return deleted;
}

/**
 * Deletes what the public client key's redemptions stored for nobody (guest redemptions, and failed
 * ones) CLIENT_REDEMPTION_RETENTION_DAYS after they were made (default: ANONYMOUS_RETENTION_DAYS,
 * else 400, as anonymous profiles), in batches; what is left waits for the next run. Anyone holding
 * the public key can make them, so they must not accumulate forever. A client redemption credited
 * to a customer is that customer's record and stays. Resolves to how many went.
 */
export async function deleteExpiredClientRedemptionRows(env: Env, now: number): Promise<number> {
  const days =
    [env.CLIENT_REDEMPTION_RETENTION_DAYS, env.ANONYMOUS_RETENTION_DAYS].map(Number).find((d) => d > 0) ?? DEFAULT_RETENTION_DAYS;
  const before = now - days * DAY_MS;
  let deleted = 0;
  for (let batch = 0; batch < RETENTION_BATCHES_PER_RUN; batch++) {
    const n = await deleteExpiredClientRedemptions(env.DB, before, RETENTION_BATCH);
    deleted += n;
    if (n < RETENTION_BATCH) break;
  }
  return deleted;
}

/** Queues keep a message at most 14 days: an applied marker older than that guards nothing. */
const APPLIED_MARKER_DAYS = 14;
const MARKERS_PER_BATCH = 5_000;

/** Forgets the write queue's applied markers (migration 0013) past any redelivery, in bounded batches. */
export async function forgetAppliedMessages(env: Env, now: number): Promise<number> {
  let deleted = 0;
  for (let batch = 0; batch < RETENTION_BATCHES_PER_RUN; batch++) {
    const n = await deleteAppliedBefore(env.DB, now - APPLIED_MARKER_DAYS * DAY_MS, MARKERS_PER_BATCH);
    deleted += n;
    if (n < MARKERS_PER_BATCH) break;
  }
  return deleted;
}
