-- Webhooks as a Voucherify integration expects them: a format per endpoint, and the event types of
-- Voucherify's catalogue that this model produces.
--
-- 1. webhook_endpoints.format: 'standard' (Standard Webhooks headers and envelope, as before, the
--    default) or 'voucherify' (Voucherify's envelope and its x-voucherify-signature header, so a
--    receiver written for Voucherify verifies unchanged). The outbox is the same for both: only
--    the attempt shapes and signs differently (services/webhook-delivery.ts).
--
-- 2. New types, each written by a trigger in the statement of the write that causes it, like
--    0022's, so an event exists if and only if its write committed, and gated like 0023's on a
--    subscription to its own type:
--    - voucher.enabled / voucher.disabled: the flip of vouchers.active. Before, a flip arrived as
--      voucher.updated; now voucher.updated fires for the other terms only, so one write that
--      changes both sends both, each once.
--    - voucher.published and publication.succeeded: a publication takes a unit of publish_count
--      (db/publications.ts claimVoucherHolder, db/distributions.ts), in the same statement as it
--      makes the customer the holder, so the trigger sees the voucher as published. A join_once
--      answer that repeats an earlier publication writes nothing and sends nothing.
--    - campaign.created / updated / enabled / disabled / deleted: the rows of campaigns.
--      campaign.updated is a change of what a user sets, not the generation's counters and
--      status nor the definition version; enabled / disabled is the flip of campaigns.active.
--    - business_validation_rule.created / updated / deleted (Voucherify's names, OpenAPIWebhooks.json
--      EVENTS.BUS_VAL_RULE.*): the rows of validation_rules.
--    A promotion tier (a row of vouchers, migration 0030) still sends no voucher.* event.
--
-- The snapshot views of the new tables follow 0022's rule: every column, so the worker's own row
-- mappers shape the payload; a test checks each against its table.

ALTER TABLE webhook_endpoints ADD COLUMN format TEXT NOT NULL DEFAULT 'standard' CHECK (format IN ('standard', 'voucherify'));

CREATE VIEW webhook_campaign_rows AS SELECT id, json_object(
  'id', id, 'name', name, 'description', description, 'type', type, 'join_once', join_once, 'voucher', voucher,
  'start_date', start_date, 'expiration_date', expiration_date, 'validity_timeframe', validity_timeframe,
  'validity_day_of_week', validity_day_of_week, 'validity_hours', validity_hours, 'active', active, 'metadata', metadata,
  'generation_target', generation_target, 'generated_count', generated_count, 'generation_status', generation_status,
  'generation_action_id', generation_action_id, 'definition_version', definition_version, 'created_at', created_at,
  'updated_at', updated_at, 'campaign_type', campaign_type, 'public', public
) AS row FROM campaigns;

CREATE VIEW webhook_rule_rows AS SELECT id, json_object(
  'id', id, 'name', name, 'rules', rules, 'error', error, 'created_at', created_at, 'updated_at', updated_at,
  'applicable_to', applicable_to
) AS row FROM validation_rules;

CREATE VIEW webhook_publication_rows AS SELECT id, json_object(
  'id', id, 'voucher_id', voucher_id, 'customer_id', customer_id, 'campaign_id', campaign_id, 'source_id', source_id,
  'channel', channel, 'metadata', metadata, 'created_at', created_at, 'distribution_id', distribution_id
) AS row FROM publications;

-- ---- Vouchers

DROP TRIGGER webhook_voucher_updated;

-- 0030's trigger without `active`: its flip is voucher.enabled / voucher.disabled below.
CREATE TRIGGER webhook_voucher_updated
AFTER UPDATE OF code, type, discount, quantity, start_date, expiration_date, metadata,
  validity_timeframe, validity_day_of_week, validity_hours, additional_info ON vouchers
WHEN NEW.type != 'PROMOTION_TIER'
  AND (OLD.code IS NOT NEW.code OR OLD.type IS NOT NEW.type OR json(OLD.discount) IS NOT json(NEW.discount)
      OR OLD.quantity IS NOT NEW.quantity OR OLD.start_date IS NOT NEW.start_date
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

-- POST /v1/vouchers/{code}/enable|disable, PUT with `active`, a code import that sets it.
CREATE TRIGGER webhook_voucher_active AFTER UPDATE OF active ON vouchers
WHEN NEW.type != 'PROMOTION_TIER' AND OLD.active IS NOT NEW.active
  AND EXISTS (SELECT 1 FROM webhook_subscriptions WHERE type = CASE WHEN NEW.active = 1 THEN 'voucher.enabled' ELSE 'voucher.disabled' END)
BEGIN
  INSERT INTO webhook_outbox (id, type, object_id, snapshot, created_at)
  VALUES ('evt_' || lower(hex(randomblob(12))), CASE WHEN NEW.active = 1 THEN 'voucher.enabled' ELSE 'voucher.disabled' END, NEW.id,
          json_object('voucher', json((SELECT row FROM webhook_voucher_rows WHERE id = NEW.id))),
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

-- A publication (POST /v1/publications, a distribution's step): the voucher as published (its
-- holder set), the publication (the voucher's newest: inserted just before, in the same batch),
-- and the holder. Both events carry the person, so they name it in customer_id: the permanent
-- deletion erases them with the customer's other events (migration 0023).
CREATE TRIGGER webhook_voucher_published AFTER UPDATE OF publish_count ON vouchers
WHEN NEW.type != 'PROMOTION_TIER' AND NEW.publish_count > OLD.publish_count
  AND EXISTS (SELECT 1 FROM webhook_subscriptions WHERE type = 'voucher.published')
BEGIN
  INSERT INTO webhook_outbox (id, type, object_id, customer_id, snapshot, created_at)
  VALUES ('evt_' || lower(hex(randomblob(12))), 'voucher.published', NEW.id, NEW.holder_id,
          json_object('voucher', json((SELECT row FROM webhook_voucher_rows WHERE id = NEW.id)),
                      'publication', json((SELECT row FROM webhook_publication_rows WHERE id =
                        (SELECT p.id FROM publications p WHERE p.voucher_id = NEW.id ORDER BY p.created_at DESC, p.rowid DESC LIMIT 1))),
                      'customer', json((SELECT row FROM webhook_customer_rows WHERE id = NEW.holder_id))),
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER webhook_publication_succeeded AFTER UPDATE OF publish_count ON vouchers
WHEN NEW.type != 'PROMOTION_TIER' AND NEW.publish_count > OLD.publish_count
  AND EXISTS (SELECT 1 FROM webhook_subscriptions WHERE type = 'publication.succeeded')
BEGIN
  INSERT INTO webhook_outbox (id, type, object_id, customer_id, snapshot, created_at)
  VALUES ('evt_' || lower(hex(randomblob(12))), 'publication.succeeded',
          (SELECT p.id FROM publications p WHERE p.voucher_id = NEW.id ORDER BY p.created_at DESC, p.rowid DESC LIMIT 1),
          NEW.holder_id,
          json_object('voucher', json((SELECT row FROM webhook_voucher_rows WHERE id = NEW.id)),
                      'publication', json((SELECT row FROM webhook_publication_rows WHERE id =
                        (SELECT p.id FROM publications p WHERE p.voucher_id = NEW.id ORDER BY p.created_at DESC, p.rowid DESC LIMIT 1))),
                      'customer', json((SELECT row FROM webhook_customer_rows WHERE id = NEW.holder_id))),
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

-- ---- Campaigns

CREATE TRIGGER webhook_campaign_created AFTER INSERT ON campaigns
WHEN EXISTS (SELECT 1 FROM webhook_subscriptions WHERE type = 'campaign.created')
BEGIN
  INSERT INTO webhook_outbox (id, type, object_id, snapshot, created_at)
  VALUES ('evt_' || lower(hex(randomblob(12))), 'campaign.created', NEW.id,
          json_object('campaign', json((SELECT row FROM webhook_campaign_rows WHERE id = NEW.id))),
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

-- What a user sets (PUT /v1/campaigns/{id}): not `active` (enabled / disabled below), nor the code
-- generation's target, count, status and action, nor definition_version and updated_at alone.
CREATE TRIGGER webhook_campaign_updated
AFTER UPDATE OF name, description, type, join_once, voucher, start_date, expiration_date, validity_timeframe,
  validity_day_of_week, validity_hours, metadata, campaign_type, public ON campaigns
WHEN (OLD.name IS NOT NEW.name OR OLD.description IS NOT NEW.description OR OLD.type IS NOT NEW.type
      OR OLD.join_once IS NOT NEW.join_once OR json(OLD.voucher) IS NOT json(NEW.voucher)
      OR OLD.start_date IS NOT NEW.start_date OR OLD.expiration_date IS NOT NEW.expiration_date
      OR OLD.validity_timeframe IS NOT NEW.validity_timeframe OR OLD.validity_day_of_week IS NOT NEW.validity_day_of_week
      OR OLD.validity_hours IS NOT NEW.validity_hours OR json(OLD.metadata) IS NOT json(NEW.metadata)
      OR OLD.campaign_type IS NOT NEW.campaign_type OR OLD.public IS NOT NEW.public)
  AND EXISTS (SELECT 1 FROM webhook_subscriptions WHERE type = 'campaign.updated')
BEGIN
  INSERT INTO webhook_outbox (id, type, object_id, snapshot, created_at)
  VALUES ('evt_' || lower(hex(randomblob(12))), 'campaign.updated', NEW.id,
          json_object('campaign', json((SELECT row FROM webhook_campaign_rows WHERE id = NEW.id))),
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

-- Whatever flips campaigns.active (the campaign's enable / disable, a PUT with `active`).
CREATE TRIGGER webhook_campaign_active AFTER UPDATE OF active ON campaigns
WHEN OLD.active IS NOT NEW.active
  AND EXISTS (SELECT 1 FROM webhook_subscriptions WHERE type = CASE WHEN NEW.active = 1 THEN 'campaign.enabled' ELSE 'campaign.disabled' END)
BEGIN
  INSERT INTO webhook_outbox (id, type, object_id, snapshot, created_at)
  VALUES ('evt_' || lower(hex(randomblob(12))), CASE WHEN NEW.active = 1 THEN 'campaign.enabled' ELSE 'campaign.disabled' END, NEW.id,
          json_object('campaign', json((SELECT row FROM webhook_campaign_rows WHERE id = NEW.id))),
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

-- DELETE /v1/campaigns/{id} (its job deletes the row; the codes' voucher.deleted come from the cascade).
CREATE TRIGGER webhook_campaign_deleted BEFORE DELETE ON campaigns
WHEN EXISTS (SELECT 1 FROM webhook_subscriptions WHERE type = 'campaign.deleted')
BEGIN
  INSERT INTO webhook_outbox (id, type, object_id, snapshot, created_at)
  VALUES ('evt_' || lower(hex(randomblob(12))), 'campaign.deleted', OLD.id,
          json_object('campaign', json((SELECT row FROM webhook_campaign_rows WHERE id = OLD.id))),
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

-- ---- Validation rules

CREATE TRIGGER webhook_rule_created AFTER INSERT ON validation_rules
WHEN EXISTS (SELECT 1 FROM webhook_subscriptions WHERE type = 'business_validation_rule.created')
BEGIN
  INSERT INTO webhook_outbox (id, type, object_id, snapshot, created_at)
  VALUES ('evt_' || lower(hex(randomblob(12))), 'business_validation_rule.created', NEW.id,
          json_object('rule', json((SELECT row FROM webhook_rule_rows WHERE id = NEW.id))),
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER webhook_rule_updated AFTER UPDATE OF name, rules, error, applicable_to ON validation_rules
WHEN (OLD.name IS NOT NEW.name OR json(OLD.rules) IS NOT json(NEW.rules) OR OLD.error IS NOT NEW.error
      OR OLD.applicable_to IS NOT NEW.applicable_to)
  AND EXISTS (SELECT 1 FROM webhook_subscriptions WHERE type = 'business_validation_rule.updated')
BEGIN
  INSERT INTO webhook_outbox (id, type, object_id, snapshot, created_at)
  VALUES ('evt_' || lower(hex(randomblob(12))), 'business_validation_rule.updated', NEW.id,
          json_object('rule', json((SELECT row FROM webhook_rule_rows WHERE id = NEW.id))),
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER webhook_rule_deleted BEFORE DELETE ON validation_rules
WHEN EXISTS (SELECT 1 FROM webhook_subscriptions WHERE type = 'business_validation_rule.deleted')
BEGIN
  INSERT INTO webhook_outbox (id, type, object_id, snapshot, created_at)
  VALUES ('evt_' || lower(hex(randomblob(12))), 'business_validation_rule.deleted', OLD.id,
          json_object('rule', json((SELECT row FROM webhook_rule_rows WHERE id = OLD.id))),
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
