import * as anonymousProfiles from '../db/anonymous-profiles';
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
