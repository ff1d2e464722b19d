import type { CustomerRedeemable, CustomerRedeemableList } from '../../../shared/types';
import { redeemableStatus } from '../../../shared/validity';
import { WALLET_ID_PREFIX, type WalletRow } from '../db/wallet';
import type { AssignmentRow } from '../db/vouchers';
import { toIso } from '../lib/time';
import { rowToVoucher } from './voucher';

/**
 * One wallet entry in the field order of the spec's example (voucherify-openapi
 * documentation/openapi/customers.json:L1620-L1640, schema CustomerRedeemable L3636): every code here
 * is a voucher its customer holds (holder_role OWNER); every campaign is a DISCOUNT_COUPONS one.
 */
export function walletEntryView(row: WalletRow, assignments: AssignmentRow[], now: number): CustomerRedeemable {
  return {
    id: `${WALLET_ID_PREFIX}${row.id}`,
    created_at: toIso(row.held_at),
    redeemable_id: row.id,
    redeemable_object: 'voucher',
    customer_id: row.holder_id ?? '',
    holder_role: 'OWNER',
    campaign_id: row.campaign_id ?? null,
    campaign_type: row.campaign_id ? 'DISCOUNT_COUPONS' : null,
    voucher_type: row.type,
    redeemable: {
      type: 'voucher',
      voucher: rowToVoucher(
        row,
        assignments.filter((a) => a.related_object_id === row.id),
      ),
      status: redeemableStatus(
        {
          // A disabled campaign's code is refused at checkout whatever its own flag: DISABLED here too.
          active: row.active === 1 && row.campaign_active !== 0,
          start_date: row.start_date,
          expiration_date: row.expiration_date,
          quantity: row.quantity,
          redeemed_quantity: row.redeemed_quantity,
        },
        now,
      ),
    },
  };
}

/** OA CustomerRedeemablesList: more_starting_after only while has_more. */
export function walletListView(entries: CustomerRedeemable[], total: number, hasMore: boolean): CustomerRedeemableList {
  const last = entries[entries.length - 1];
  return {
    object: 'list',
    data_ref: 'data',
    data: entries,
    total,
    has_more: hasMore,
    ...(hasMore && last ? { more_starting_after: last.id } : {}),
  };
}
