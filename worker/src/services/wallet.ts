import type { CustomerRedeemableList } from '../../../shared/types';
import * as customersDb from '../db/customers';
import * as walletDb from '../db/wallet';
import { notFound } from '../errors';
import type { WalletQuery } from '../schemas/wallet';
import { walletEntryView, walletListView } from '../views/wallet';

/**
 * GET /v1/customers/{id}/redeemables: the codes the customer holds (published to them or made theirs
 * as holder), each with the voucher and its status now. Two reads, both through the request's D1
 * session, so a replica may answer: the customer (by id or source_id, 404 when unknown) and one
 * batch for the page.
 */
export async function customerWallet(db: D1Database, idOrSourceId: string, q: WalletQuery, now: number): Promise<CustomerRedeemableList> {
  const customer = await customersDb.findCustomer(db, idOrSourceId);
  if (!customer) throw notFound('customer', idOrSourceId);
  const { rows, assignments, total } = await walletDb.listWallet(db, customer.id, q);
  const page = rows.slice(0, q.limit);
  return walletListView(
    page.map((row) => walletEntryView(row, assignments, now)),
    total,
    rows.length > q.limit,
  );
}
