-- Idempotency keys are scoped by the class of key that sent them. The public client key ships in
-- every storefront page: if its requests shared the server key's namespace, anyone could probe
-- which keys the shop's backend used (409 against 404) and take the backend's next keys first
-- (shops commonly use order numbers). So a key sent with the client key lives in its own column
-- with its own UNIQUE, and is looked up there only; server keys stay in idempotency_key, unchanged.
-- (SQLite cannot drop the column's inline UNIQUE without rebuilding the table and its triggers, so
-- the two classes are two columns rather than one UNIQUE (key_class, idempotency_key).)
ALTER TABLE redemptions ADD COLUMN client_idempotency_key TEXT;
CREATE UNIQUE INDEX redemptions_client_idempotency_key ON redemptions (client_idempotency_key) WHERE client_idempotency_key IS NOT NULL;

-- Which class of key wrote the row: 'client' rows are what the public key may store, and the cron
-- expires the guest and failed ones (services/retention.ts), oldest first through the index below.
-- Rows from before this migration read 'server' (client redemptions were new and off by default).
ALTER TABLE redemptions ADD COLUMN key_class TEXT NOT NULL DEFAULT 'server' CHECK (key_class IN ('server', 'client'));
CREATE INDEX redemptions_client_created ON redemptions (created_at) WHERE key_class = 'client';

-- The redemption snapshot of webhook events holds every column (migration 0022): the two above too.
DROP VIEW webhook_redemption_rows;
CREATE VIEW webhook_redemption_rows AS SELECT id, json_object(
  'id', id, 'object', object, 'result', result, 'status', status, 'voucher_id', voucher_id, 'code', code,
  'customer_id', customer_id, 'tracking_id', tracking_id, 'amount', amount, 'discount_amount', discount_amount,
  'order_json', order_json, 'metadata', metadata, 'failure_code', failure_code, 'failure_message', failure_message,
  'parent_id', parent_id, 'rollback_of', rollback_of, 'idempotency_key', idempotency_key, 'created_at', created_at,
  'request_hash', request_hash, 'reason', reason, 'error_message', error_message, 'channel_id', channel_id,
  'client_idempotency_key', client_idempotency_key, 'key_class', key_class
) AS row FROM redemptions;
