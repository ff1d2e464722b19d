import * as redemptionsDb from '../db/redemptions';
import * as vouchersDb from '../db/vouchers';
import { notFound } from '../errors';
import type { RedemptionListQuery } from '../schemas/checkout';
import { redemptionListView, redemptionView, voucherRedemptionsView } from '../views/redemption';

/** GET /v1/redemptions/{id}: a redemption or rollback; a stacked parent is one too (OA "Stacked Redemption" OA:L44395). */
export async function getRedemption(db: D1Database, id: string) {
  const group = await redemptionsDb.findRedemptionGroup(db, { id });
  if (!group.head) throw notFound('redemption', id);
  return redemptionView(group.head, group);
}

/** GET /v1/redemptions: two D1 batches whatever the limit. */
export async function listRedemptions(db: D1Database, q: RedemptionListQuery) {
  const { rows, total, ...related } = await redemptionsDb.listRedemptions(db, redemptionsDb.listPredicate(q), q);
  return redemptionListView(rows, total, related);
}

/** GET /v1/vouchers/{code}/redemption (the official SDK's redemptions.getForVoucher). */
export async function listVoucherRedemptions(db: D1Database, code: string, page: { limit: number; page: number }) {
  const voucher = await vouchersDb.findVoucher(db, code).first<vouchersDb.VoucherRow>();
  if (!voucher || voucher.code !== code) throw notFound('voucher', code);
  const { rows, total, ...related } = await redemptionsDb.listRedemptions(
    db,
    { sql: 'r.voucher_id = ?', params: [voucher.id] },
    { ...page, order: '-created_at' },
  );
  return voucherRedemptionsView(voucher, page, rows, total, related);
}
