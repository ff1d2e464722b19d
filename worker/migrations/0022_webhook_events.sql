-- What fills the webhook outbox (migration 0020). Triggers write one outbox row per event
-- inside the statement that made the change, so an event exists if and only if its write committed,
-- whichever code path wrote it: a route, a bulk or metadata-bulk action, a CSV import chunk, a
-- campaign's code generation job, the WRITES queue consumer, the segments cron. A write that fails
-- or whose batch rolls back (a redeem guard, a quantity CHECK) takes its outbox rows with it.
--
-- Every trigger fires only while an enabled endpoint exists: one probe of webhook_endpoints'
-- `enabled` index, so a project without webhooks writes nothing more than before. The gate is
-- "any enabled endpoint", not "an endpoint subscribed to this type": which endpoint gets which type
-- is the dispatcher's decision at fan-out, over the endpoints as they are then; tying the triggers
-- to the endpoint API's event-list format (wildcards, types added later) would put that decision in
-- two places. A project with webhooks on records all of these types; the dispatcher drops what no
-- endpoint asked for.
--
-- The snapshot is JSON of the rows the event is about, keyed by their role ({"customer": row},
-- {"redemption": row, "customer": row, "voucher": row}, …), each row with exactly the table's
-- columns, so the worker's own row mappers (rowToCustomer, rowToVoucher, redemptionView) shape the
-- payload (services/webhook-payloads.ts). One view per table builds that row JSON, so each table's
-- column list is written once; a test checks each view against the table's columns, so a migration
-- that adds a column and forgets the view fails it. DELETE triggers run BEFORE the delete, while
-- the view still sees the row (if the delete then fails, the statement undoes the trigger's insert too).
--
-- The event's time is the statement's clock in epoch ms (julianday: unixepoch('subsec') needs
-- SQLite 3.42); its id is `evt_` + 24 hex, sent as `webhook-id` on every attempt.

CREATE VIEW webhook_customer_rows AS SELECT id, json_object(
  'id', id, 'source_id', source_id, 'name', name, 'description', description, 'email', email, 'phone', phone,
  'birthdate', birthdate, 'address_city', address_city, 'address_state', address_state,
  'address_line_1', address_line_1, 'address_line_2', address_line_2, 'address_country', address_country,
  'address_postal_code', address_postal_code, 'metadata', metadata, 'system_metadata', system_metadata,
  'redemptions_total_redeemed', redemptions_total_redeemed, 'redemptions_total_failed', redemptions_total_failed,
  'redemptions_total_succeeded', redemptions_total_succeeded, 'redemptions_total_rolled_back', redemptions_total_rolled_back,
  'redemptions_total_rollback_failed', redemptions_total_rollback_failed,
  'redemptions_total_rollback_succeeded', redemptions_total_rollback_succeeded,
  'redemptions_gift_redeemed_amount', redemptions_gift_redeemed_amount, 'redemptions_gift_amount_to_go', redemptions_gift_amount_to_go,
  'redemptions_loyalty_redeemed_points', redemptions_loyalty_redeemed_points,
  'redemptions_loyalty_points_to_go', redemptions_loyalty_points_to_go,
  'orders_total_amount', orders_total_amount, 'orders_total_count', orders_total_count,
  'orders_average_amount', orders_average_amount, 'orders_last_order_amount', orders_last_order_amount,
  'orders_last_order_date', orders_last_order_date, 'loyalty_points', loyalty_points,
  'loyalty_referred_customers', loyalty_referred_customers, 'created_at', created_at, 'updated_at', updated_at
) AS row FROM customers;

CREATE VIEW webhook_voucher_rows AS SELECT id, json_object(
  'id', id, 'code', code, 'type', type, 'discount', discount, 'quantity', quantity, 'redeemed_quantity', redeemed_quantity,
  'active', active, 'start_date', start_date, 'expiration_date', expiration_date, 'metadata', metadata,
  'created_at', created_at, 'updated_at', updated_at, 'validity_timeframe', validity_timeframe,
  'validity_day_of_week', validity_day_of_week, 'validity_hours', validity_hours, 'additional_info', additional_info,
  'definition_version', definition_version, 'holder_id', holder_id, 'campaign_id', campaign_id, 'campaign', campaign,
  'publish_count', publish_count
) AS row FROM vouchers;

CREATE VIEW webhook_redemption_rows AS SELECT id, json_object(
  'id', id, 'object', object, 'result', result, 'status', status, 'voucher_id', voucher_id, 'code', code,
  'customer_id', customer_id, 'tracking_id', tracking_id, 'amount', amount, 'discount_amount', discount_amount,
  'order_json', order_json, 'metadata', metadata, 'failure_code', failure_code, 'failure_message', failure_message,
  'parent_id', parent_id, 'rollback_of', rollback_of, 'idempotency_key', idempotency_key, 'created_at', created_at,
  'request_hash', request_hash, 'reason', reason, 'error_message', error_message, 'channel_id', channel_id
) AS row FROM redemptions;

-- ---- Customers

-- Every insert: POST /v1/customers, an upsert that creates (bulk, redeem, validate, events), a CSV
-- import row. An upsert that finds the source_id runs the UPDATE trigger instead (SQLite fires the
-- DO UPDATE's triggers, not the INSERT's), and DO NOTHING fires none.
CREATE TRIGGER webhook_customer_created AFTER INSERT ON customers
WHEN EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled = 1)
BEGIN
  INSERT INTO webhook_outbox (id, type, object_id, snapshot, created_at)
  VALUES ('evt_' || lower(hex(randomblob(12))), 'customer.created', NEW.id,
          json_object('customer', json((SELECT row FROM webhook_customer_rows WHERE id = NEW.id))),
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

-- Only what a user sets: the writable fields of the customer catalogue (shared/customer-fields.ts
-- WRITABLE_FIELDS: source_id, name, description, email, phone, birthdate, address.*) and metadata;
-- a test checks this list against the catalogue. Not the summary.* and loyalty.* counters a
-- redemption or rollback moves, nor updated_at alone, nor system_metadata (no write path sets it).
-- And only when a value changed: an upsert, a redeem's customer or a CSV row that repeats the
-- stored values, or a metadata patch that changes nothing, is no update.
CREATE TRIGGER webhook_customer_updated
AFTER UPDATE OF source_id, name, description, email, phone, birthdate, address_city, address_state, address_line_1,
  address_line_2, address_country, address_postal_code, metadata ON customers
WHEN (OLD.source_id IS NOT NEW.source_id OR OLD.name IS NOT NEW.name OR OLD.description IS NOT NEW.description
      OR OLD.email IS NOT NEW.email OR OLD.phone IS NOT NEW.phone OR OLD.birthdate IS NOT NEW.birthdate
      OR OLD.address_city IS NOT NEW.address_city OR OLD.address_state IS NOT NEW.address_state
      OR OLD.address_line_1 IS NOT NEW.address_line_1 OR OLD.address_line_2 IS NOT NEW.address_line_2
      OR OLD.address_country IS NOT NEW.address_country OR OLD.address_postal_code IS NOT NEW.address_postal_code
      OR json(OLD.metadata) IS NOT json(NEW.metadata))
  AND EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled = 1)
BEGIN
  INSERT INTO webhook_outbox (id, type, object_id, snapshot, created_at)
  VALUES ('evt_' || lower(hex(randomblob(12))), 'customer.updated', NEW.id,
          json_object('customer', json((SELECT row FROM webhook_customer_rows WHERE id = NEW.id))),
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

-- DELETE /v1/customers/{id} and the permanent deletion. The snapshot is all that is left of it.
CREATE TRIGGER webhook_customer_deleted BEFORE DELETE ON customers
WHEN EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled = 1)
BEGIN
  INSERT INTO webhook_outbox (id, type, object_id, snapshot, created_at)
  VALUES ('evt_' || lower(hex(randomblob(12))), 'customer.deleted', OLD.id,
          json_object('customer', json((SELECT row FROM webhook_customer_rows WHERE id = OLD.id))),
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

-- Segment transitions are rows of `events` (db/segments.ts membershipDiff and syncStep, in the batch
-- of the write that moved the customer, or of the cron's recompute). Custom event names cannot
-- contain a dot (schemas/events.ts), so no client can write one of these types. The customer as it
-- was when it entered or left (the write that moved it has run: the diff follows it in the batch).
CREATE TRIGGER webhook_customer_segment AFTER INSERT ON events
WHEN NEW.type IN ('customer.segment.entered', 'customer.segment.left')
  AND EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled = 1)
BEGIN
  INSERT INTO webhook_outbox (id, type, object_id, snapshot, created_at)
  VALUES ('evt_' || lower(hex(randomblob(12))), NEW.type, NEW.profile_id,
          json_object('customer', json((SELECT row FROM webhook_customer_rows WHERE id = NEW.profile_id)),
                      'segment', json(json_extract(NEW.metadata, '$.segment'))),
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

-- ---- Redemptions

-- redemption.succeeded / failed / rollback.succeeded, one per redeemed voucher: a stacked
-- redemption's parent (code '', no voucher of its own; views/redemption.ts isStackedParent) only
-- groups its children, which each fire, as does a failure (always a single row, whatever its code).
-- The snapshot holds the rows as the batch left them at this point: the voucher after its unit was
-- taken (redeem: the unit is taken before the rows are inserted) or given back (rollback: likewise),
-- the customer after its upsert and summary; for a rollback, also the redemption rolled back as it
-- was (status SUCCEEDED, order PAID: the rollback batch marks it after inserting the rollback rows),
-- as Voucherify's example shows it (OpenAPIWebhooks.json EVENTS.REDEMPTION.ROLLBACK.SUCCEEDED, L12691).
CREATE TRIGGER webhook_redemption AFTER INSERT ON redemptions
WHEN (NEW.code != '' OR NEW.result = 'FAILURE')
  AND EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled = 1)
BEGIN
  INSERT INTO webhook_outbox (id, type, object_id, snapshot, created_at)
  VALUES ('evt_' || lower(hex(randomblob(12))),
          CASE WHEN NEW.object = 'redemption_rollback' THEN 'redemption.rollback.succeeded'
               WHEN NEW.result = 'SUCCESS' THEN 'redemption.succeeded'
               ELSE 'redemption.failed' END,
          NEW.id,
          json_object('redemption', json((SELECT row FROM webhook_redemption_rows WHERE id = NEW.id)),
                      'rolled_back', json((SELECT row FROM webhook_redemption_rows WHERE id = NEW.rollback_of)),
                      'customer', json((SELECT row FROM webhook_customer_rows WHERE id = NEW.customer_id)),
                      'voucher', json((SELECT row FROM webhook_voucher_rows WHERE id = NEW.voucher_id))),
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

-- ---- Vouchers

-- POST /v1/vouchers, and every code written into a campaign (its generation job, addVoucher, the
-- import): Voucherify's own voucher.created example is a generated campaign code (OpenAPIWebhooks.json
-- webhooks["EVENTS.VOUCHER.CREATED"], L17996: code "Your-applicable-9" of a campaign whose
-- code_config is prefix "Your-applicable-", pattern "#"). A code skipped as taken fires nothing.
CREATE TRIGGER webhook_voucher_created AFTER INSERT ON vouchers
WHEN EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled = 1)
BEGIN
  INSERT INTO webhook_outbox (id, type, object_id, snapshot, created_at)
  VALUES ('evt_' || lower(hex(randomblob(12))), 'voucher.created', NEW.id,
          json_object('voucher', json((SELECT row FROM webhook_voucher_rows WHERE id = NEW.id))),
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

-- What a user sets (PUT /v1/vouchers/{code}, enable/disable, a campaign's write-through to its
-- codes): the columns of migration 0012's definition trigger, the voucher's terms. Not the counters:
-- redeemed_quantity (a redemption or rollback: redemption.* says so), publish_count and holder_id
-- (a publication: Voucherify's voucher.published, not in this catalogue), nor updated_at and
-- definition_version alone. Only when a value changed.
CREATE TRIGGER webhook_voucher_updated
AFTER UPDATE OF code, type, discount, quantity, active, start_date, expiration_date, metadata,
  validity_timeframe, validity_day_of_week, validity_hours, additional_info ON vouchers
WHEN (OLD.code IS NOT NEW.code OR OLD.type IS NOT NEW.type OR json(OLD.discount) IS NOT json(NEW.discount)
      OR OLD.quantity IS NOT NEW.quantity OR OLD.active IS NOT NEW.active OR OLD.start_date IS NOT NEW.start_date
      OR OLD.expiration_date IS NOT NEW.expiration_date OR json(OLD.metadata) IS NOT json(NEW.metadata)
      OR OLD.validity_timeframe IS NOT NEW.validity_timeframe OR OLD.validity_day_of_week IS NOT NEW.validity_day_of_week
      OR OLD.validity_hours IS NOT NEW.validity_hours OR OLD.additional_info IS NOT NEW.additional_info)
  AND EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled = 1)
BEGIN
  INSERT INTO webhook_outbox (id, type, object_id, snapshot, created_at)
  VALUES ('evt_' || lower(hex(randomblob(12))), 'voucher.updated', NEW.id,
          json_object('voucher', json((SELECT row FROM webhook_voucher_rows WHERE id = NEW.id))),
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

-- DELETE /v1/vouchers/{code}, and each code of a deleted campaign (the cascade runs this trigger too).
CREATE TRIGGER webhook_voucher_deleted BEFORE DELETE ON vouchers
WHEN EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled = 1)
BEGIN
  INSERT INTO webhook_outbox (id, type, object_id, snapshot, created_at)
  VALUES ('evt_' || lower(hex(randomblob(12))), 'voucher.deleted', OLD.id,
          json_object('voucher', json((SELECT row FROM webhook_voucher_rows WHERE id = OLD.id))),
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
