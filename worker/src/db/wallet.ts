import type { WalletQuery } from '../schemas/wallet';
import { sql } from './sql';
import { type AssignmentRow, NOT_A_TIER, type VoucherRow, voucherPage } from './vouchers';

/** A code in a customer's wallet: the voucher, when the customer came to hold it, and its campaign's switch (null: no campaign). */
export type WalletRow = VoucherRow & { held_at: number; campaign_active: number | null };

/** The wallet entry's id is the voucher's id behind this prefix (OA CustomerRedeemable.id rh_…). */
export const WALLET_ID_PREFIX = 'rh_';

const ORDER_BY = {
  id: 'id ASC',
  '-id': 'id DESC',
  created_at: 'held_at ASC, id ASC',
  '-created_at': 'held_at DESC, id DESC',
} as const;

const AFTER = {
  id: 'id > (SELECT id FROM cursor)',
  '-id': 'id < (SELECT id FROM cursor)',
  created_at: '(held_at, id) > (SELECT held_at, id FROM cursor)',
  '-created_at': '(held_at, id) < (SELECT held_at, id FROM cursor)',
} as const;

/**
 * One page (and one row more, to tell has_more) of the codes a customer holds, their count and the
 * page's rule assignments, in one batch (one round trip). A code is in
 * the wallet while its holder is the customer: a publication makes the customer the holder in the same
 * batch (db/publications.ts), so a publication is always here, and a code handed to another customer
 * or deleted is gone. `held_at` is the customer's first publication of the code, or, for a code made
 * theirs without one, when the voucher last changed. A cursor that names no code of this wallet
 * matches nothing after it, so it answers an empty page rather than restarting.
 */
export async function listWallet(
  db: D1Database,
  customerId: string,
  q: WalletQuery,
): Promise<{ rows: WalletRow[]; assignments: AssignmentRow[]; total: number }> {
  const cursorId = q.startingAfterId?.startsWith(WALLET_ID_PREFIX) ? q.startingAfterId.slice(WALLET_ID_PREFIX.length) : null;
  const wallet = sql`wallet AS (
      SELECT v.*, coalesce(
        (SELECT min(p.created_at) FROM publications p WHERE p.voucher_id = v.id AND p.customer_id = ${customerId}),
        v.updated_at, v.created_at) AS held_at,
        (SELECT c.active FROM campaigns c WHERE c.id = v.campaign_id) AS campaign_active
      FROM vouchers v WHERE v.holder_id = ${customerId} AND ${sql.raw(NOT_A_TIER('v'))})`;
  const after = q.startingAfterId === undefined ? sql.raw('1') : sql`EXISTS (SELECT 1 FROM cursor) AND ${sql.raw(AFTER[q.order])}`;
  const page = sql`WITH ${wallet}, cursor AS (SELECT id, held_at FROM wallet WHERE id = ${cursorId})
          SELECT * FROM wallet WHERE ${after} ORDER BY ${sql.raw(ORDER_BY[q.order])} LIMIT ${q.limit + 1}`;
  return voucherPage<WalletRow>(
    db,
    page,
    sql`SELECT count(*) AS total FROM vouchers WHERE holder_id = ${customerId} AND ${sql.raw(NOT_A_TIER())}`,
  );
}
