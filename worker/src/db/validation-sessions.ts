import { prepare, type Sql, sql } from './sql';
import { NOT_A_TIER } from './vouchers';

// Validation sessions (migration 0033): holds of one unit of a voucher or tier under a session key,
// each alive until its expires_at. Every reader passes its own `now`; an expired row counts nowhere.

/** The live holds of the vouchers a visitor read covers, not counting the caller's own session. */
export interface HeldUnits {
  /** Live holds of the voucher by other sessions: units nobody else may take. */
  held: number;
  /** Of those, the holds judged for the visitor's customer: they count as its redemptions. */
  byCustomer: number;
}

/**
 * The visitor batch's statement of live holds, per voucher id among `vouchers` (SQL of voucher ids;
 * null: every voucher), without those of `ownKey` (the caller's session: its own hold does not
 * count against itself). `customer` is the SQL of the visitor's customer id.
 */
export function selectHeldUnits(db: D1Database, q: { vouchers: Sql | null; customer: Sql; ownKey: string | null; now: number }) {
  return prepare(
    db,
    sql`SELECT s.voucher_id, count(*) AS held, coalesce(sum(s.customer_id = ${q.customer}), 0) AS by_customer
        FROM validation_sessions s
        WHERE s.expires_at > ${q.now} AND s.session_key IS NOT ${q.ownKey}
          AND ${q.vouchers ? sql`s.voucher_id IN (${q.vouchers})` : sql.raw('1')}
        GROUP BY s.voucher_id`,
  );
}

export function heldUnitsOf(result: D1Result<Record<string, unknown>> | undefined): Map<string, HeldUnits> {
  return new Map((result?.results ?? []).map((r) => [String(r.voucher_id), { held: Number(r.held), byCustomer: Number(r.by_customer) }]));
}

export interface HoldInput {
  key: string;
  voucherId: string;
  customerId: string | null;
  ttl: number;
  ttlUnit: string;
  now: number;
  expiresAt: number;
  /**
   * The per-customer limits the judgement relied on: per window start, the most earlier
   * redemptions (and others' holds) the customer may have for the hold still to be allowed.
   */
  limits: { since: number; max: number }[];
}

/**
 * Creates or renews one hold, only while there is a unit for it: the units redeemed plus the live
 * holds of other sessions stay below the quantity, and the customer's redemptions plus its other
 * live holds stay within each limit the judgement relied on. One statement, so D1's serialized
 * writes make it exact: of N sessions racing for the last unit, one inserts. RETURNING the hold:
 * none when refused.
 */
export function holdUnit(db: D1Database, h: HoldInput): D1PreparedStatement {
  const others = (alias: string) =>
    sql`SELECT count(*) FROM validation_sessions ${sql.raw(alias)} WHERE ${sql.raw(alias)}.voucher_id = v.id AND ${sql.raw(alias)}.expires_at > ${h.now} AND ${sql.raw(alias)}.session_key != ${h.key}`;
  const limits =
    h.customerId === null || h.limits.length === 0
      ? sql.raw('1')
      : sql`NOT EXISTS (SELECT 1 FROM json_each(${JSON.stringify(h.limits)}) w WHERE
            (SELECT count(*) FROM redemptions r
              WHERE r.customer_id = ${h.customerId} AND r.voucher_id = v.id AND r.created_at >= json_extract(w.value, '$.since')
                AND r.object = 'redemption' AND r.result = 'SUCCESS' AND r.status = 'SUCCEEDED')
            + (${others('c')} AND c.customer_id = ${h.customerId})
            > json_extract(w.value, '$.max'))`;
  return prepare(
    db,
    sql`INSERT INTO validation_sessions (session_key, voucher_id, customer_id, ttl, ttl_unit, created_at, expires_at)
        SELECT ${h.key}, v.id, ${h.customerId}, ${h.ttl}, ${h.ttlUnit}, ${h.now}, ${h.expiresAt}
        FROM vouchers v
        WHERE v.id = ${h.voucherId}
          AND (v.quantity IS NULL OR v.redeemed_quantity + (${others('q')}) < v.quantity)
          AND ${limits}
        ON CONFLICT (session_key, voucher_id) DO UPDATE SET
          customer_id = excluded.customer_id, ttl = excluded.ttl, ttl_unit = excluded.ttl_unit, expires_at = excluded.expires_at
        RETURNING voucher_id`,
  );
}

/** Whether each voucher has a unit free of others' live holds: why a hold of the same batch was refused. */
export function selectUnitsLeft(db: D1Database, voucherIds: string[], key: string, now: number): D1PreparedStatement {
  return prepare(
    db,
    sql`SELECT v.id, v.quantity IS NULL OR v.redeemed_quantity
          + (SELECT count(*) FROM validation_sessions s WHERE s.voucher_id = v.id AND s.expires_at > ${now} AND s.session_key != ${key})
          < v.quantity AS room
        FROM vouchers v WHERE v.id IN (SELECT value FROM json_each(${JSON.stringify(voucherIds)}))`,
  );
}

/**
 * All or nothing: when not every one of `voucherIds` is held by `key` until `expiresAt` (a hold of
 * the same batch was refused), the holds this batch created (at `now`) are taken back, so an invalid
 * answer holds nothing new; a hold the session had before keeps its unit.
 */
export function undoPartialHolds(db: D1Database, voucherIds: string[], key: string, expiresAt: number, now: number): D1PreparedStatement {
  const ids = JSON.stringify(voucherIds);
  return prepare(
    db,
    sql`DELETE FROM validation_sessions
        WHERE session_key = ${key} AND created_at = ${now} AND expires_at = ${expiresAt} AND voucher_id IN (SELECT value FROM json_each(${ids}))
          AND (SELECT count(*) FROM validation_sessions
               WHERE session_key = ${key} AND expires_at = ${expiresAt} AND voucher_id IN (SELECT value FROM json_each(${ids}))) < ${voucherIds.length}`,
  );
}

/** The expired holds of these vouchers, deleted beside a hold write: the table keeps what lives. */
export function deleteExpiredHolds(db: D1Database, voucherIds: string[], now: number): D1PreparedStatement {
  return prepare(
    db,
    sql`DELETE FROM validation_sessions WHERE voucher_id IN (SELECT value FROM json_each(${JSON.stringify(voucherIds)})) AND expires_at <= ${now}`,
  );
}

/** A redemption carrying the key consumes its holds of the vouchers it redeems (first in the redeem batch). */
export function consumeHolds(db: D1Database, key: string, voucherIds: string[]): D1PreparedStatement {
  return prepare(
    db,
    sql`DELETE FROM validation_sessions WHERE session_key = ${key} AND voucher_id IN (SELECT value FROM json_each(${JSON.stringify(voucherIds)}))`,
  );
}

/**
 * The redeem batch's quantity guard (migration 0033), after the unit is taken: aborts the batch
 * (voucher_quantity_exceeded) when the units redeemed plus the live holds left exceed the quantity.
 */
export function checkVoucherQuantity(db: D1Database, voucherId: string, now: number): D1PreparedStatement {
  return prepare(db, sql`INSERT INTO voucher_quantity_checks (voucher_id, at) VALUES (${voucherId}, ${now})`);
}

/**
 * Releases the session `key` on the voucher with this code (DELETE
 * /v1/vouchers/{code}/sessions/{key}). A tier is never a voucher on the wire, and Voucherify's
 * guide releases "for vouchers only": a tier's hold ends by redemption or expiry. Resolves to
 * whether a live hold was released; expired rows of the key are deleted too, but release nothing.
 */
export async function releaseHolds(db: D1Database, code: string, key: string, now: number): Promise<boolean> {
  const { results } = await prepare(
    db,
    sql`DELETE FROM validation_sessions WHERE session_key = ${key} AND voucher_id IN (SELECT id FROM vouchers WHERE code = ${code} AND ${sql.raw(NOT_A_TIER())})
        RETURNING expires_at`,
  ).all<{ expires_at: number }>();
  return results.some((r) => r.expires_at > now);
}

/** Deletes up to `limit` holds expired before `now`, oldest first; resolves to how many. */
export async function deleteExpiredSessions(db: D1Database, now: number, limit: number): Promise<number> {
  const result = await prepare(
    db,
    sql`DELETE FROM validation_sessions WHERE rowid IN (SELECT rowid FROM validation_sessions WHERE expires_at <= ${now} ORDER BY expires_at LIMIT ${limit})`,
  ).run();
  return result.meta.changes ?? 0;
}
