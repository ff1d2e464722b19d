-- What the checkout API needs to answer redemptions as Voucherify does, and to tell a retry from a
-- different request that reuses an Idempotency-Key.

-- SHA-256 (hex) of the canonical request an idempotency_key was first used with: a later request
-- with the same key and another hash is refused (409) instead of answered with this redemption.
ALTER TABLE redemptions ADD COLUMN request_hash TEXT;
-- Rollbacks: the reason given (until now kept in failure_message).
ALTER TABLE redemptions ADD COLUMN reason TEXT;
-- The custom message of the validation rule that refused a redemption (answered as error.message).
ALTER TABLE redemptions ADD COLUMN error_message TEXT;
-- The application key that made it (X-App-Id or X-Client-Application-Id): channel.channel_id.
ALTER TABLE redemptions ADD COLUMN channel_id TEXT;

UPDATE redemptions SET reason = failure_message, failure_message = NULL WHERE object = 'redemption_rollback';

-- GET /v1/vouchers/{code}/redemption lists one voucher's entries, newest first.
CREATE INDEX redemptions_voucher ON redemptions (voucher_id, created_at);
