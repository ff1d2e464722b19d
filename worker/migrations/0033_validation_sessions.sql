-- Validation sessions (OA Session, readOnly-openAPI.json:L26995; guide "Locking validation
-- session"): a validate with `session: {type: 'LOCK', ...}` holds one unit of each code (or tier) it
-- judged valid until the hold expires, is released (DELETE /v1/vouchers/{code}/sessions/{key}) or a
-- redemption carrying the key consumes it. While it lives, the unit counts as taken for every other
-- request: the quantity check, and the per-customer limits of the customer it was judged for.
--
-- Expiry needs no cron: every reader compares expires_at with its own `now`, so an expired row is
-- as good as absent; the hold write deletes the expired rows of the vouchers it touches, and the
-- 15-minute cron the rest.
CREATE TABLE validation_sessions (
  session_key TEXT NOT NULL,
  voucher_id  TEXT NOT NULL REFERENCES vouchers (id) ON DELETE CASCADE,
  -- The customer the hold was judged for (null: an anonymous visitor): its per-customer limits see it.
  customer_id TEXT REFERENCES customers (id) ON DELETE SET NULL,
  ttl         REAL NOT NULL,
  ttl_unit    TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,  -- ms
  PRIMARY KEY (session_key, voucher_id)
);
-- The live holds of a voucher (quantity), and of one customer on a voucher (limits).
CREATE INDEX validation_sessions_voucher ON validation_sessions (voucher_id, expires_at);
CREATE INDEX validation_sessions_customer ON validation_sessions (customer_id, voucher_id, expires_at) WHERE customer_id IS NOT NULL;
-- The cron's delete of expired rows, oldest first (tidiness only: an expired row counts nowhere).
CREATE INDEX validation_sessions_expiry ON validation_sessions (expires_at);

-- The redeem batch's quantity guard: inserted after the unit is taken (and after the redeeming
-- session's own hold is consumed), it aborts the batch when the units redeemed plus the live holds
-- of others exceed the quantity. The table's CHECK (migration 0003) cannot see the holds.
CREATE TABLE voucher_quantity_checks (
  voucher_id TEXT NOT NULL,
  at         INTEGER NOT NULL  -- the redeem's now: holds expiring before it are not counted
);

CREATE TRIGGER voucher_quantity_check BEFORE INSERT ON voucher_quantity_checks
BEGIN
  SELECT CASE
    WHEN (SELECT v.quantity IS NOT NULL
                 AND v.redeemed_quantity
                     + (SELECT count(*) FROM validation_sessions s WHERE s.voucher_id = v.id AND s.expires_at > NEW.at)
                     > v.quantity
          FROM vouchers v WHERE v.id = NEW.voucher_id)
    THEN RAISE(ABORT, 'voucher_quantity_exceeded')
    ELSE RAISE(IGNORE)
  END;
END;

-- The per-customer guard (migration 0016) counts the customer's live holds as redemptions too: the
-- redeem batch consumes its own session's hold before the guard runs, so what it counts is others'.
ALTER TABLE redemption_limit_checks ADD COLUMN at INTEGER;

DROP TRIGGER redemption_limit_check;
CREATE TRIGGER redemption_limit_check BEFORE INSERT ON redemption_limit_checks
BEGIN
  SELECT CASE
    WHEN (SELECT count(*) FROM redemptions
          WHERE customer_id = NEW.customer_id AND voucher_id = NEW.voucher_id AND created_at >= NEW.since
            AND object = 'redemption' AND result = 'SUCCESS' AND status = 'SUCCEEDED')
         + (SELECT count(*) FROM validation_sessions
            WHERE customer_id = NEW.customer_id AND voucher_id = NEW.voucher_id AND NEW.at IS NOT NULL AND expires_at > NEW.at)
         > NEW.max_count
    THEN RAISE(ABORT, 'customer_redemption_limit_reached')
    ELSE RAISE(IGNORE)
  END;
END;
