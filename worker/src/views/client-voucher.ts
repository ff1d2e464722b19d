import type { Voucher } from '../../../shared/types';

// What the public client key sees of a voucher, in every /client/v1/* answer (validate,
// validations, redemptions): the offer, never whom it belongs to nor the shop's own labels.

/** What a client-key answer may show beyond the default: the operator's opt-ins. */
export interface ClientShown {
  /** CLIENT_VOUCHER_METADATA=on: the voucher's metadata (Voucherify shows it to its client key). */
  voucherMetadata: boolean;
}

/** Whether the operator lets the public key see vouchers' metadata (CLIENT_VOUCHER_METADATA=on). */
export const clientSeesVoucherMetadata = (env: { CLIENT_VOUCHER_METADATA?: string }): boolean => env.CLIENT_VOUCHER_METADATA === 'on';

/**
 * A voucher as the public client key sees it: the offer, never whom it belongs to nor how the shop
 * labels it. No `holder_id` (the customer it was published to: another person's internal id), no
 * `validation_rules_assignments`, and `metadata` empty (merchant notes) unless the operator opts in.
 */
export function clientVoucher(voucher: Voucher, shown: ClientShown) {
  const { holder_id: _holder, validation_rules_assignments: _assignments, metadata, ...offer } = voucher;
  return { ...offer, metadata: shown.voucherMetadata ? metadata : {} };
}

type Answer = { metadata?: unknown; redeemables?: unknown };

/**
 * A validate or validations answer for the public key: the voucher's metadata (the top-level
 * `metadata` of validate, each redeemable's of validations) is empty unless the operator opts in.
 */
export function withoutVoucherMetadata<T extends object>(body: T, shown: ClientShown): T {
  if (shown.voucherMetadata) return body;
  const answer = body as Answer;
  if ('metadata' in answer) answer.metadata = {};
  if (Array.isArray(answer.redeemables))
    for (const r of answer.redeemables as Answer[]) if (r && typeof r === 'object' && 'metadata' in r) r.metadata = {};
  return body;
}
