-- Webhooks out. Two tables are the contract between the writes and the delivery engine.
--
-- webhook_outbox is a transactional outbox: triggers (migration 0022) insert one row per event in
-- the same statement, so in the same D1 batch, as the write that caused it. An event exists if and
-- only if its write committed, whatever route, bulk job, CSV import or queue consumer made it. The
-- triggers fire only while an enabled endpoint exists, so a project without webhooks pays nothing.
CREATE TABLE webhook_outbox (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  id            TEXT NOT NULL UNIQUE,   -- evt_…: the event's id, sent as `webhook-id` on every attempt
  type          TEXT NOT NULL,          -- customer.created, customer.segment.entered, redemption.succeeded, …
  object_id     TEXT,                   -- the customer, voucher, redemption or async action it is about
  snapshot      TEXT,                   -- JSON the trigger captured (the row as it was; all a deleted row leaves)
  created_at    INTEGER NOT NULL,       -- epoch ms
  dispatched_at INTEGER                 -- NULL until the dispatcher has fanned it out to endpoints
);
CREATE INDEX webhook_outbox_pending ON webhook_outbox (seq) WHERE dispatched_at IS NULL;

-- An endpoint that receives events (POST /v1/webhooks). `events` is a JSON array of event types.
-- A rotated secret stays valid for 24 h: deliveries are signed with both meanwhile (Standard
-- Webhooks allows several signatures in one header).
CREATE TABLE webhook_endpoints (
  id                  TEXT PRIMARY KEY,  -- wh_…
  url                 TEXT NOT NULL,
  description         TEXT,
  events              TEXT NOT NULL,     -- JSON array of event types
  secret              TEXT NOT NULL,     -- whsec_… (Standard Webhooks format: base64 after the prefix)
  previous_secret     TEXT,
  previous_secret_expires_at INTEGER,
  enabled             INTEGER NOT NULL DEFAULT 1,
  disabled_reason     TEXT,              -- why the engine disabled it (failing for 24 h); NULL when an operator did
  failing_since       INTEGER,           -- first failed attempt since the last success
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER
);
CREATE INDEX webhook_endpoints_enabled ON webhook_endpoints (enabled);
