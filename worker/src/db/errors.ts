/**
 * What a D1 error that the schema raises on purpose means: a constraint or trigger of the
 * migrations, named. The one place that reads D1's error text, so that services branch on a name.
 */
export type D1Refusal =
  /** The redeem guard: the voucher judged was deleted or changed (migration 0012). */
  | 'voucher_definition_changed'
  /** The per-customer guard: the customer redeemed again since judged, past the rules' limit (migration 0016). */
  | 'customer_redemption_limit_reached'
  /** The holder guard: the customer's holder status changed since judged (migration 0016). */
  | 'voucher_holder_mismatch'
  /** CHECK voucher_quantity_exceeded: a unit past the quantity (migration 0003). */
  | 'voucher_quantity_exceeded'
  /** Trigger tracking_profile_single_customer: a profile linked to a second customer (migration 0003). */
  | 'ambiguous_tracking_id'
  | 'duplicate_idempotency_key'
  /** UNIQUE redemptions.rollback_of: the redemption was rolled back already. */
  | 'already_rolled_back'
  | 'duplicate_source_id'
  /** UNIQUE orders.source_id: an order given by id names a source_id another order holds (migration 0028). */
  | 'duplicate_order_source_id'
  | 'duplicate_voucher_code'
  | 'duplicate_assignment'
  /** UNIQUE campaigns.name (migration 0017). */
  | 'duplicate_campaign_name'
  /** Guard customer_metadata_check: a customer's stored metadata past the size limit after a write (migration 0023). */
  | 'customer_metadata_too_large'
  | 'missing_reference';

const PATTERNS: [D1Refusal, string][] = [
  ['voucher_definition_changed', 'voucher_definition_changed'],
  ['customer_redemption_limit_reached', 'customer_redemption_limit_reached'],
  ['voucher_holder_mismatch', 'voucher_holder_mismatch'],
  ['voucher_quantity_exceeded', 'voucher_quantity_exceeded'],
  ['ambiguous_tracking_id', 'ambiguous_tracking_id'],
  ['duplicate_idempotency_key', 'UNIQUE constraint failed: redemptions.idempotency_key'],
  // The public client key's own namespace of keys (migration 0024).
  ['duplicate_idempotency_key', 'UNIQUE constraint failed: redemptions.client_idempotency_key'],
  ['already_rolled_back', 'UNIQUE constraint failed: redemptions.rollback_of'],
  ['duplicate_source_id', 'UNIQUE constraint failed: customers.source_id'],
  ['duplicate_order_source_id', 'UNIQUE constraint failed: orders.source_id'],
  ['duplicate_voucher_code', 'UNIQUE constraint failed: vouchers.code'],
  ['duplicate_assignment', 'UNIQUE constraint failed: validation_rule_assignments'],
  ['duplicate_assignment', 'UNIQUE constraint failed: campaign_rule_assignments'],
  ['duplicate_campaign_name', 'UNIQUE constraint failed: campaigns.name'],
  ['customer_metadata_too_large', 'customer_metadata_too_large'],
  ['missing_reference', 'FOREIGN KEY constraint failed'],
];

/** The named refusal behind `error`, or null for anything else (which the caller rethrows). */
export function d1Refusal(error: unknown): D1Refusal | null {
  const message = error instanceof Error ? error.message : '';
  return PATTERNS.find(([, text]) => message.includes(text))?.[0] ?? null;
}
