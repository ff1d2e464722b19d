-- The webhook outbox keeps nothing about a person that nobody asked for, and nothing about an
-- erased one; a customer's stored metadata has one size limit, whatever path merges into it.
--
-- 1. Subscriptions. Migration 0022's triggers recorded every type while ANY endpoint was enabled,
--    so a project whose only endpoint wants voucher.created still kept a full snapshot (name,
--    e-mail, phone, address, metadata) of each customer write for the log's 30 days, for nobody.
--    Now each trigger records its type only while an enabled endpoint subscribes to it. The
--    question must stay cheap (it runs inside every customer, redemption and voucher write), so
--    it is one primary-key probe of webhook_subscriptions, a derived table of (type, endpoint) for
--    the ENABLED endpoints, kept by triggers on webhook_endpoints: whichever path enables,
--    disables, re-subscribes or deletes an endpoint (the API, the engine's auto-disable), the table
--    follows in the same statement. The dispatcher still matches endpoints itself at fan-out; this
--    table only decides whether an event is worth recording at all.
--
-- 2. Erasure. webhook_outbox.customer_id names the customer an event is about or carries
--    (customer.*, customer.segment.*, redemption.*), so the permanent deletion finds, in its own
--    batch, every event holding the person through an index, cancels their deliveries not yet
--    made, and deletes them (db/customers.ts deleteCustomerPermanently).
--
-- 3. customer_metadata_checks: the guard of the metadata size limit (see below).

CREATE TABLE webhook_subscriptions (
  type        TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  PRIMARY KEY (type, endpoint_id)
) WITHOUT ROWID;

INSERT OR IGNORE INTO webhook_subscriptions (type, endpoint_id)
SELECT t.value, e.id FROM webhook_endpoints e, json_each(e.events) t WHERE e.enabled = 1;

CREATE TRIGGER webhook_subscriptions_insert AFTER INSERT ON webhook_endpoints
WHEN NEW.enabled = 1
BEGIN
  INSERT OR IGNORE INTO webhook_subscriptions (type, endpoint_id) SELECT value, NEW.id FROM json_each(NEW.events);
END;

CREATE TRIGGER webhook_subscriptions_update AFTER UPDATE OF id, events, enabled ON webhook_endpoints
BEGIN
  DELETE FROM webhook_subscriptions WHERE endpoint_id IN (OLD.id, NEW.id);
  INSERT OR IGNORE INTO webhook_subscriptions (type, endpoint_id) SELECT value, NEW.id FROM json_each(NEW.events) WHERE NEW.enabled = 1;
END;

CREATE TRIGGER webhook_subscriptions_delete AFTER DELETE ON webhook_endpoints
BEGIN
  DELETE FROM webhook_subscriptions WHERE endpoint_id = OLD.id;
END;

ALTER TABLE webhook_outbox ADD COLUMN customer_id TEXT;
UPDATE webhook_outbox SET customer_id = CASE
  WHEN type LIKE 'customer.%' THEN object_id
  ELSE json_extract(snapshot, '$.customer.id') END
WHERE snapshot IS NOT NULL AND json_valid(snapshot);
CREATE INDEX webhook_outbox_customer ON webhook_outbox (customer_id) WHERE customer_id IS NOT NULL;
-- The deliveries of one event (the erasure cancels those not yet made).
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);

-- The triggers of 0021 and 0022 again, each gated on a subscription to its own type and, for the
-- events about a customer, naming it in customer_id. Otherwise as they were (see 0022 for what
-- fires when, and why).
DROP TRIGGER webhook_customer_created;
DROP TRIGGER webhook_customer_updated;
DROP TRIGGER webhook_customer_deleted;
DROP TRIGGER webhook_customer_segment;
DROP TRIGGER webhook_redemption;
DROP TRIGGER webhook_voucher_created;
DROP TRIGGER webhook_voucher_updated;
DROP TRIGGER webhook_voucher_deleted;
DROP TRIGGER webhook_async_action_done_insert;
DROP TRIGGER webhook_async_action_done_update;

CREATE TRIGGER webhook_customer_created AFTER INSERT ON customers
WHEN EXISTS (SELECT 1 FROM webhook_subscriptions WHERE type = 'customer.created')
BEGIN
  INSERT INTO webhook_outbox (id, type, object_id, customer_id, snapshot, created_at)
  VALUES ('evt_' || lower(hex(randomblob(12))), 'customer.created', NEW.id, NEW.id,
          json_object('customer', json((SELECT row FROM webhook_customer_rows WHERE id = NEW.id))),
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER webhook_customer_updated
AFTER UPDATE OF source_id, name, description, email, phone, birthdate, address_city, address_state, address_line_1,
  address_line_2, address_country, address_postal_code, metadata ON customers
WHEN (OLD.source_id IS NOT NEW.source_id OR OLD.name IS NOT NEW.name OR OLD.description IS NOT NEW.description
      OR OLD.email IS NOT NEW.email OR OLD.phone IS NOT NEW.phone OR OLD.birthdate IS NOT NEW.birthdate
      OR OLD.address_city IS NOT NEW.address_city OR OLD.address_state IS NOT NEW.address_state
      OR OLD.address_line_1 IS NOT NEW.address_line_1 OR OLD.address_line_2 IS NOT NEW.address_line_2
      OR OLD.address_country IS NOT NEW.address_country OR OLD.address_postal_code IS NOT NEW.address_postal_code
      OR json(OLD.metadata) IS NOT json(NEW.metadata))
  AND EXISTS (SELECT 1 FROM webhook_subscriptions WHERE type = 'customer.updated')
BEGIN
  INSERT INTO webhook_outbox (id, type, object_id, customer_id, snapshot, created_at)
  VALUES ('evt_' || lower(hex(randomblob(12))), 'customer.updated', NEW.id, NEW.id,
          json_object('customer', json((SELECT row FROM webhook_customer_rows WHERE id = NEW.id))),
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER webhook_customer_deleted BEFORE DELETE ON customers
WHEN EXISTS (SELECT 1 FROM webhook_subscriptions WHERE type = 'customer.deleted')
BEGIN
  INSERT INTO webhook_outbox (id, type, object_id, customer_id, snapshot, created_at)
  VALUES ('evt_' || lower(hex(randomblob(12))), 'customer.deleted', OLD.id, OLD.id,
          json_object('customer', json((SELECT row FROM webhook_customer_rows WHERE id = OLD.id))),
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER webhook_customer_segment AFTER INSERT ON events
WHEN NEW.type IN ('customer.segment.entered', 'customer.segment.left')
  AND EXISTS (SELECT 1 FROM webhook_subscriptions WHERE type = NEW.type)
BEGIN
  INSERT INTO webhook_outbox (id, type, object_id, customer_id, snapshot, created_at)
  VALUES ('evt_' || lower(hex(randomblob(12))), NEW.type, NEW.profile_id, NEW.profile_id,
          json_object('customer', json((SELECT row FROM webhook_customer_rows WHERE id = NEW.profile_id)),
                      'segment', json(json_extract(NEW.metadata, '$.segment'))),
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER webhook_redemption AFTER INSERT ON redemptions
WHEN (NEW.code != '' OR NEW.result = 'FAILURE')
  AND EXISTS (SELECT 1 FROM webhook_subscriptions WHERE type =
        CASE WHEN NEW.object = 'redemption_rollback' THEN 'redemption.rollback.succeeded'
             WHEN NEW.result = 'SUCCESS' THEN 'redemption.succeeded'
             ELSE 'redemption.failed' END)
BEGIN
  INSERT INTO webhook_outbox (id, type, object_id, customer_id, snapshot, created_at)
  VALUES ('evt_' || lower(hex(randomblob(12))),
          CASE WHEN NEW.object = 'redemption_rollback' THEN 'redemption.rollback.succeeded'
               WHEN NEW.result = 'SUCCESS' THEN 'redemption.succeeded'
               ELSE 'redemption.failed' END,
          NEW.id, NEW.customer_id,
          json_object('redemption', json((SELECT row FROM webhook_redemption_rows WHERE id = NEW.id)),
                      'rolled_back', json((SELECT row FROM webhook_redemption_rows WHERE id = NEW.rollback_of)),
                      'customer', json((SELECT row FROM webhook_customer_rows WHERE id = NEW.customer_id)),
                      'voucher', json((SELECT row FROM webhook_voucher_rows WHERE id = NEW.voucher_id))),
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER webhook_voucher_created AFTER INSERT ON vouchers
WHEN EXISTS (SELECT 1 FROM webhook_subscriptions WHERE type = 'voucher.created')
BEGIN
  INSERT INTO webhook_outbox (id, type, object_id, snapshot, created_at)
  VALUES ('evt_' || lower(hex(randomblob(12))), 'voucher.created', NEW.id,
          json_object('voucher', json((SELECT row FROM webhook_voucher_rows WHERE id = NEW.id))),
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER webhook_voucher_updated
AFTER UPDATE OF code, type, discount, quantity, active, start_date, expiration_date, metadata,
  validity_timeframe, validity_day_of_week, validity_hours, additional_info ON vouchers
WHEN (OLD.code IS NOT NEW.code OR OLD.type IS NOT NEW.type OR json(OLD.discount) IS NOT json(NEW.discount)
      OR OLD.quantity IS NOT NEW.quantity OR OLD.active IS NOT NEW.active OR OLD.start_date IS NOT NEW.start_date
      OR OLD.expiration_date IS NOT NEW.expiration_date OR json(OLD.metadata) IS NOT json(NEW.metadata)
      OR OLD.validity_timeframe IS NOT NEW.validity_timeframe OR OLD.validity_day_of_week IS NOT NEW.validity_day_of_week
      OR OLD.validity_hours IS NOT NEW.validity_hours OR OLD.additional_info IS NOT NEW.additional_info)
  AND EXISTS (SELECT 1 FROM webhook_subscriptions WHERE type = 'voucher.updated')
BEGIN
  INSERT INTO webhook_outbox (id, type, object_id, snapshot, created_at)
  VALUES ('evt_' || lower(hex(randomblob(12))), 'voucher.updated', NEW.id,
          json_object('voucher', json((SELECT row FROM webhook_voucher_rows WHERE id = NEW.id))),
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER webhook_voucher_deleted BEFORE DELETE ON vouchers
WHEN EXISTS (SELECT 1 FROM webhook_subscriptions WHERE type = 'voucher.deleted')
BEGIN
  INSERT INTO webhook_outbox (id, type, object_id, snapshot, created_at)
  VALUES ('evt_' || lower(hex(randomblob(12))), 'voucher.deleted', OLD.id,
          json_object('voucher', json((SELECT row FROM webhook_voucher_rows WHERE id = OLD.id))),
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER webhook_async_action_done_insert AFTER INSERT ON async_actions
WHEN NEW.status IN ('DONE', 'FAILED')
  AND EXISTS (SELECT 1 FROM webhook_subscriptions WHERE type = 'async_action.done')
BEGIN
  INSERT INTO webhook_outbox (id, type, object_id, snapshot, created_at)
  VALUES ('evt_' || lower(hex(randomblob(12))), 'async_action.done', NEW.id,
    json_object('id', NEW.id, 'type', NEW.type, 'status', NEW.status, 'operation_status', NEW.operation_status,
      'result', json(NEW.result), 'request_id', NEW.request_id, 'progress', NEW.progress,
      'processing_time', NEW.processing_time, 'created_at', NEW.created_at, 'updated_at', NEW.updated_at),
    NEW.updated_at);
END;

CREATE TRIGGER webhook_async_action_done_update AFTER UPDATE OF status ON async_actions
WHEN OLD.status NOT IN ('DONE', 'FAILED') AND NEW.status IN ('DONE', 'FAILED')
  AND EXISTS (SELECT 1 FROM webhook_subscriptions WHERE type = 'async_action.done')
BEGIN
  INSERT INTO webhook_outbox (id, type, object_id, snapshot, created_at)
  VALUES ('evt_' || lower(hex(randomblob(12))), 'async_action.done', NEW.id,
    json_object('id', NEW.id, 'type', NEW.type, 'status', NEW.status, 'operation_status', NEW.operation_status,
      'result', json(NEW.result), 'request_id', NEW.request_id, 'progress', NEW.progress,
      'processing_time', NEW.processing_time, 'created_at', NEW.created_at, 'updated_at', NEW.updated_at),
    NEW.updated_at);
END;

-- 3. The size limit of a customer's stored metadata. Each request's metadata is limited (the
-- schemas' metadataSchema), but a merge (Segment identify/group, POST /v1/customers/metadata/async,
-- a CSV import's metadata cells) adds to what is stored, so calls of legal size could grow a
-- customer's metadata without bound: a row near D1's 2 MB limit breaks every later write of that
-- customer, checkout included, and each customer.updated snapshot copied the whole row. A writer
-- that touches metadata inserts one row here after its writes, in the same batch, naming the
-- customers written (ids and/or source ids as JSON arrays) and the limit (the worker's one
-- constant, bound): if any of them now stores more bytes of metadata than that, the whole batch
-- rolls back (RAISE(ABORT), db/errors.ts 'customer_metadata_too_large'), so nothing is
-- half-written; otherwise the row is dropped (RAISE(IGNORE)) and the table stays empty.
CREATE TABLE customer_metadata_checks (
  ids        TEXT NOT NULL DEFAULT '[]',
  source_ids TEXT NOT NULL DEFAULT '[]',
  max_bytes  INTEGER NOT NULL
);

CREATE TRIGGER customer_metadata_check BEFORE INSERT ON customer_metadata_checks
BEGIN
  SELECT CASE
    WHEN EXISTS (SELECT 1 FROM customers WHERE id IN (SELECT value FROM json_each(NEW.ids))
                   AND length(CAST(metadata AS BLOB)) > NEW.max_bytes)
      OR EXISTS (SELECT 1 FROM customers WHERE source_id IN (SELECT value FROM json_each(NEW.source_ids))
                   AND length(CAST(metadata AS BLOB)) > NEW.max_bytes)
    THEN RAISE(ABORT, 'customer_metadata_too_large')
    ELSE RAISE(IGNORE)
  END;
END;
