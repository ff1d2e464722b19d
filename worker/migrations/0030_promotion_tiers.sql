-- Promotions: campaigns of type PROMOTION and their tiers (OA PromotionTier, readOnly-openAPI.json:L22449).
--
-- A tier is a row of `vouchers` with type 'PROMOTION_TIER', whose id and code are both the tier id
-- (promo_ + 24 base62) and whose campaign_id is its PROMOTION campaign. A tier is a code-less
-- redeemable: the shopper never types it, but judging it needs exactly what judging a code needs
-- (dates, validity windows, active, the discount, rules assigned to it and to its campaign), and
-- redeeming it needs the same ledger (redemptions, rollbacks, the version guard). Keeping it a
-- voucher row gives one definition version, one cache, one judge and one ledger for both, where a
-- table of its own would need a second copy of each. Every voucher route filters these rows out.

-- What a tier has and a code lacks: its name, the banner shown to shoppers, its place in the
-- campaign's order (OA PromotionTier.hierarchy: the order in which tiers' discounts apply).
ALTER TABLE vouchers ADD COLUMN name TEXT;
ALTER TABLE vouchers ADD COLUMN banner TEXT;
ALTER TABLE vouchers ADD COLUMN hierarchy INTEGER;

-- OA CampaignBase.campaign_type. Every campaign before this migration made codes.
ALTER TABLE campaigns ADD COLUMN campaign_type TEXT NOT NULL DEFAULT 'DISCOUNT_COUPONS'
  CHECK (campaign_type IN ('DISCOUNT_COUPONS', 'PROMOTION'));

-- The tiers of a campaign in their order (the campaign's tier list, the list of all tiers).
CREATE INDEX vouchers_promotion_tiers ON vouchers (campaign_id, hierarchy) WHERE type = 'PROMOTION_TIER';

-- A tier's name, banner and hierarchy are part of what validate answers about it, so a change of
-- them replaces its definition version like a change of the discount does (migration 0012).
DROP TRIGGER voucher_version_on_update;
CREATE TRIGGER voucher_version_on_update
AFTER UPDATE OF code, type, discount, quantity, active, start_date, expiration_date, metadata,
  validity_timeframe, validity_day_of_week, validity_hours, additional_info, name, banner, hierarchy ON vouchers
BEGIN
  UPDATE vouchers SET definition_version = lower(hex(randomblob(8))) WHERE id = NEW.id;
END;

-- A promotion campaign's dates, validity windows and active flag are not copied onto its tiers
-- (a tier has dates of its own, OA PromotionTier.start_date beside campaign.start_date), so the
-- judge of a tier reads them from the campaign: a change of them must replace the campaign's
-- part of its tiers' versions. Harmless for code campaigns (their codes copy these fields and move
-- on their own trigger; a campaign's version only adds a cache miss).
CREATE TRIGGER campaign_version_on_update
AFTER UPDATE OF start_date, expiration_date, validity_timeframe, validity_day_of_week, validity_hours, active ON campaigns
BEGIN
  UPDATE campaigns SET definition_version = lower(hex(randomblob(8))) WHERE id = NEW.id;
END;

-- Voucher webhooks (migration 0023) are about codes: a tier is never a voucher on the wire, so
-- its writes send no voucher.* event. Otherwise as 0023 made them.
DROP TRIGGER webhook_voucher_created;
DROP TRIGGER webhook_voucher_updated;
DROP TRIGGER webhook_voucher_deleted;

CREATE TRIGGER webhook_voucher_created AFTER INSERT ON vouchers
WHEN NEW.type != 'PROMOTION_TIER' AND EXISTS (SELECT 1 FROM webhook_subscriptions WHERE type = 'voucher.created')
BEGIN
  INSERT INTO webhook_outbox (id, type, object_id, snapshot, created_at)
  VALUES ('evt_' || lower(hex(randomblob(12))), 'voucher.created', NEW.id,
          json_object('voucher', json((SELECT row FROM webhook_voucher_rows WHERE id = NEW.id))),
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER webhook_voucher_deleted BEFORE DELETE ON vouchers
WHEN OLD.type != 'PROMOTION_TIER' AND EXISTS (SELECT 1 FROM webhook_subscriptions WHERE type = 'voucher.deleted')
BEGIN
  INSERT INTO webhook_outbox (id, type, object_id, snapshot, created_at)
  VALUES ('evt_' || lower(hex(randomblob(12))), 'voucher.deleted', OLD.id,
          json_object('voucher', json((SELECT row FROM webhook_voucher_rows WHERE id = OLD.id))),
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER webhook_voucher_updated
AFTER UPDATE OF code, type, discount, quantity, active, start_date, expiration_date, metadata,
  validity_timeframe, validity_day_of_week, validity_hours, additional_info ON vouchers
WHEN NEW.type != 'PROMOTION_TIER'
  AND (OLD.code IS NOT NEW.code OR OLD.type IS NOT NEW.type OR json(OLD.discount) IS NOT json(NEW.discount)
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
