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
