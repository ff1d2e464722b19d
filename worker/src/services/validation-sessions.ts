import { redemptionWindowStarts } from '../../../shared/rules';
import { redemptionCountsOf, type ValidationSubject } from '../db/tracking';
import {
  deleteExpiredHolds,
  deleteExpiredSessions,
  holdUnit,
  releaseHolds,
  selectUnitsLeft,
  undoPartialHolds,
} from '../db/validation-sessions';
import type { Env } from '../env';
import { notFound } from '../errors';
import { randomId } from '../lib/ids';
import { type SessionInput, type SessionTtlUnit, TTL_UNIT_MS } from '../schemas/checkout';
import type { CommitChecks } from '../../../shared/rules';

// Validation sessions (migration 0033; guide "Locking validation session" of Voucherify's docs): a
// validate with `session` holds one unit of each redeemable it judged valid, written on the primary
// in one batch; the visitor read of every later validate and redeem counts the live holds of other
// sessions as taken units (db/tracking.ts), and the redeem batch's guards count them at commit.

/** OA Session as answered (readOnly-openAPI.json:L26995; SDK ValidationSessionResponse, ValidateSession.d.ts:9-14). */
export interface SessionAnswer {
  key: string;
  type: 'LOCK';
  ttl: number;
  ttl_unit: SessionTtlUnit;
}

/** "If you do not establish a session time frame ... it will be active for 7 days" (the guide's note). */
const DEFAULT_TTL = { ttl: 7, ttl_unit: 'DAYS' as const };

/**
 * The session a request asks for, with its key (a new ssn_ key when none was sent) and its length
 * in ms, at most `maxMs`: a longer one is held `maxMs`, answered in seconds.
 */
export function sessionOf(input: SessionInput, maxMs = Number.POSITIVE_INFINITY): SessionAnswer & { ms: number } {
  const key = input.key ?? randomId('ssn_', 32);
  const ttl = input.ttl ?? DEFAULT_TTL.ttl;
  // A ttl without its unit is read in the default's unit.
  const unit = input.ttl_unit ?? DEFAULT_TTL.ttl_unit;
  const ms = ttl * TTL_UNIT_MS[unit];
  if (ms <= maxMs) return { key, type: 'LOCK', ttl, ttl_unit: unit, ms };
  return { key, type: 'LOCK', ttl: Math.floor(maxMs / 1000), ttl_unit: 'SECONDS', ms: maxMs };
}

/** CLIENT_SESSION_MAX_MINUTES (default 60): how long a session of the public client key may hold units. */
export function clientSessionMaxMs(env: Pick<Env, 'CLIENT_SESSION_MAX_MINUTES'>): number {
  const minutes = Number(env.CLIENT_SESSION_MAX_MINUTES ?? '60');
  return (Number.isFinite(minutes) && minutes >= 0 ? minutes : 60) * 60_000;
}

/** One redeemable judged valid, to hold a unit of. */
export interface HoldRequest {
  voucherId: string;
  commit: CommitChecks;
}

/** Per redeemable, in the order asked: held, or why not (no unit left, or the customer's limit). */
export type HoldOutcome = 'held' | 'quantity_exceeded' | 'limit_reached';

/**
 * Holds one unit of each redeemable under the session, all or nothing, in one primary batch: the
 * expired holds of these vouchers deleted, each hold written by a statement that counts the units
 * redeemed and the live holds of others against the quantity (and the customer's redemptions and
 * other holds against each limit its judgement relied on), then the holds it created taken back if
 * any was refused, then why each refused one was. Renewing the session's own hold moves its expiry.
 */
export async function holdUnits(
  db: D1Database,
  session: SessionAnswer & { ms: number },
  holds: HoldRequest[],
  subject: ValidationSubject,
  now: number,
): Promise<HoldOutcome[]> {
  if (holds.length === 0) return [];
  const ids = holds.map((h) => h.voucherId);
  // Whole milliseconds: a ttl shorter than one has expired by the next request.
  const expiresAt = now + Math.max(0, Math.floor(session.ms));
  const customerId = subject.customer?.id ?? null;
  const starts = redemptionWindowStarts(now);
  const statements = [
    deleteExpiredHolds(db, ids, now),
    ...holds.map((h) => {
      const counts = redemptionCountsOf(subject, h.voucherId);
      const limits = h.commit.redemptions
        ? h.commit.redemptions.windows.map((w) => ({ since: starts[w], max: counts[w] + (h.commit.redemptions?.headroom ?? 0) }))
        : [];
      return holdUnit(db, {
        key: session.key,
        voucherId: h.voucherId,
        customerId,
        ttl: session.ttl,
        ttlUnit: session.ttl_unit,
        now,
        expiresAt,
        limits,
      });
    }),
    undoPartialHolds(db, ids, session.key, expiresAt, now),
    selectUnitsLeft(db, ids, session.key, now),
  ];
  const results = await db.batch<Record<string, unknown>>(statements);
  const room = new Map((results[results.length - 1]?.results ?? []).map((r) => [String(r.id), Number(r.room) === 1]));
  return holds.map((h, i) =>
    (results[i + 1]?.results.length ?? 0) > 0 ? 'held' : room.get(h.voucherId) === false ? 'quantity_exceeded' : 'limit_reached',
  );
}

/**
 * DELETE /v1/vouchers/{code}/sessions/{key} (OA release-validation-session, readOnly-openAPI.json:L37986):
 * the session's hold of the code released; 404 when it holds nothing live there.
 */
export async function releaseSession(env: Env, code: string, key: string): Promise<void> {
  const released = await releaseHolds(env.DB, code, key, Date.now());
  if (!released) throw notFound('session', key);
}

const EXPIRED_PER_BATCH = 5_000;
const EXPIRED_BATCHES_PER_RUN = 10;

/**
 * The 15-minute cron: expired holds deleted in bounded batches. Only tidiness: every reader
 * already ignores an expired hold, so nothing waits for this.
 */
export async function forgetExpiredSessions(env: Pick<Env, 'DB'>, now: number): Promise<number> {
  let deleted = 0;
  for (let batch = 0; batch < EXPIRED_BATCHES_PER_RUN; batch++) {
    const n = await deleteExpiredSessions(env.DB, now, EXPIRED_PER_BATCH);
    deleted += n;
    if (n < EXPIRED_PER_BATCH) break;
  }
  return deleted;
}
