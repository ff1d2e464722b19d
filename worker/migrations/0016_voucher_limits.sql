-- Voucher limits: the voucher's holder (the customer a publication hands it to) and the
-- redeem batch's guards for the rules `redemption.count.per_customer[.daily|.monthly]` and
-- `publication.redeemable_by_linked_customer`.

-- OA24 Voucher.holder_id (OpenAPI24.json:L4511): "Unique customer identifier of the redeemable
-- holder". Not part of what the voucher grants (the definition version's trigger does not list it):
-- validate and redeem read it live with the counters. A deleted customer holds nothing.
ALTER TABLE vouchers ADD COLUMN holder_id TEXT REFERENCES customers (id) ON DELETE SET NULL;
-- GET /v1/vouchers?customer=, and the SET NULL of a customer's deletion, without a scan.
CREATE INDEX vouchers_holder ON vouchers (holder_id) WHERE holder_id IS NOT NULL;

-- One customer's redemptions of one voucher, counted by validate (the visitor read) and by the guard.
CREATE INDEX redemptions_customer_voucher ON redemptions (customer_id, voucher_id, created_at);

-- The redeem batch's per-customer guard: one row per voucher and counting window the rules judged,
-- with the most earlier redemptions (successful, not rolled back) the customer may have at commit
-- time and the judgement still stand. More (another redemption of the customer committed in between)
-- aborts the whole batch; otherwise the row is dropped (RAISE(IGNORE)), so the table stays empty.
CREATE TABLE redemption_limit_checks (
  voucher_id  TEXT NOT NULL,
  customer_id TEXT,
  since       INTEGER NOT NULL,   -- ms; 0 for all time
  max_count   INTEGER NOT NULL
);

CREATE TRIGGER redemption_limit_check BEFORE INSERT ON redemption_limit_checks
BEGIN
  SELECT CASE
    WHEN (SELECT count(*) FROM redemptions
          WHERE customer_id = NEW.customer_id AND voucher_id = NEW.voucher_id AND created_at >= NEW.since
            AND object = 'redemption' AND result = 'SUCCESS' AND status = 'SUCCEEDED') > NEW.max_count
    THEN RAISE(ABORT, 'customer_redemption_limit_reached')
    ELSE RAISE(IGNORE)
  END;
END;

-- The holder guard: the redeeming customer's holder status at commit time must be the one judged
-- (a holder-only voucher: the customer must still be its holder).
CREATE TABLE voucher_holder_checks (
  voucher_id  TEXT NOT NULL,
  customer_id TEXT,
  is_holder   INTEGER NOT NULL
);

CREATE TRIGGER voucher_holder_check BEFORE INSERT ON voucher_holder_checks
BEGIN
  SELECT CASE
    WHEN coalesce((SELECT holder_id = NEW.customer_id FROM vouchers WHERE id = NEW.voucher_id), 0) != NEW.is_holder
    THEN RAISE(ABORT, 'voucher_holder_mismatch')
    ELSE RAISE(IGNORE)
  END;
END;
