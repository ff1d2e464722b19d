-- Failed rollbacks, stored as Voucherify stores them: a rollback refused because the redemption is
-- rolled back already is answered 400 already_rolled_back naming a `redemption_rollback` (`rrf_…`,
-- OpenAPI.json blob ae6b585 of voucherifyio/voucherify-openapi, the rollback 400 examples at L65067
-- and L65691), which is a row like a successful rollback's with result FAILURE, status FAILED,
-- failure_code and failure_message, and `redemption` naming the redemption it tried to roll back
-- (7_obj_redemption_rollback_object_voucher_fail, L20674). It fires redemption.rollback.failed
-- (OpenAPIWebhooks.json EVENTS.REDEMPTION.ROLLBACK.FAILED).
--
-- Only that refusal is stored: the spec's other rollback refusals (invalid_redemption_parent,
-- invalid_redemption, a redemption that did not succeed) name no resource, so they stay answers
-- only, as an unknown id (404) does.
--
-- 1. redemptions.failed_rollback_of: the redemption a failed rollback names. Not rollback_of: that
--    column is UNIQUE, the guard that a redemption is rolled back once (a second, concurrent
--    rollback fails on it), and a redemption may be refused any number of times. Making the guard
--    partial (unique where result = 'SUCCESS') would mean rebuilding redemptions, the biggest
--    table; a new nullable column is an ALTER that rewrites nothing, and rollback_of keeps meaning
--    "rolled back by" for every reader that already uses it (the unit's return, the limit guard).
--    The partial index serves the deletes that take a redemption's rollbacks with it; it holds
--    failed rollbacks only.
--
-- 2. The redemption trigger: a failed rollback sends redemption.rollback.failed (not .succeeded),
--    with the redemption it names as `rolled_back` in its snapshot, once per stored row like every
--    other type. webhook_redemption_rows is recreated with the new column (0022's rule: every
--    column, so the worker's own row mappers shape the payload).

ALTER TABLE redemptions ADD COLUMN failed_rollback_of TEXT;

CREATE INDEX redemptions_failed_rollback_of ON redemptions (failed_rollback_of) WHERE failed_rollback_of IS NOT NULL;

DROP TRIGGER webhook_redemption;

DROP VIEW webhook_redemption_rows;

CREATE VIEW webhook_redemption_rows AS SELECT id, json_object(
  'id', id, 'object', object, 'result', result, 'status', status, 'voucher_id', voucher_id, 'code', code,
  'customer_id', customer_id, 'tracking_id', tracking_id, 'amount', amount, 'discount_amount', discount_amount,
  'order_json', order_json, 'metadata', metadata, 'failure_code', failure_code, 'failure_message', failure_message,
  'parent_id', parent_id, 'rollback_of', rollback_of, 'idempotency_key', idempotency_key, 'created_at', created_at,
  'request_hash', request_hash, 'reason', reason, 'error_message', error_message, 'channel_id', channel_id,
  'client_idempotency_key', client_idempotency_key, 'key_class', key_class, 'failed_rollback_of', failed_rollback_of
) AS row FROM redemptions;

CREATE TRIGGER webhook_redemption AFTER INSERT ON redemptions
WHEN (NEW.code != '' OR NEW.result = 'FAILURE')
  AND EXISTS (SELECT 1 FROM webhook_subscriptions WHERE type =
        CASE WHEN NEW.object = 'redemption_rollback' AND NEW.result = 'FAILURE' THEN 'redemption.rollback.failed'
             WHEN NEW.object = 'redemption_rollback' THEN 'redemption.rollback.succeeded'
             WHEN NEW.result = 'SUCCESS' THEN 'redemption.succeeded'
             ELSE 'redemption.failed' END)
BEGIN
  INSERT INTO webhook_outbox (id, type, object_id, customer_id, snapshot, created_at)
  VALUES ('evt_' || lower(hex(randomblob(12))),
          CASE WHEN NEW.object = 'redemption_rollback' AND NEW.result = 'FAILURE' THEN 'redemption.rollback.failed'
               WHEN NEW.object = 'redemption_rollback' THEN 'redemption.rollback.succeeded'
               WHEN NEW.result = 'SUCCESS' THEN 'redemption.succeeded'
               ELSE 'redemption.failed' END,
          NEW.id, NEW.customer_id,
          json_object('redemption', json((SELECT row FROM webhook_redemption_rows WHERE id = NEW.id)),
                      'rolled_back', json((SELECT row FROM webhook_redemption_rows WHERE id = coalesce(NEW.rollback_of, NEW.failed_rollback_of))),
                      'customer', json((SELECT row FROM webhook_customer_rows WHERE id = NEW.customer_id)),
                      'voucher', json((SELECT row FROM webhook_voucher_rows WHERE id = NEW.voucher_id))),
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
