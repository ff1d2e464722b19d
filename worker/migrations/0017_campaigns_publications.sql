-- Campaigns of unique codes (DISCOUNT_COUPONS) and publications of their codes to customers.

-- OA CampaignBase (readOnly-openAPI.json:L2068). `voucher` is the template every generated code copies
-- (OA CampaignVoucher: type, discount, redemption, code_config); the campaign-level dates and validity
-- windows are copied too, and a PUT writes its changes through to the codes. The name is the
-- campaign's second key (the SDK's campaigns.get(name)) and cannot change (OA
-- CampaignsUpdateDiscountCouponsCampaign has no name), so vouchers keep a copy of it.
CREATE TABLE campaigns (
  id                    TEXT PRIMARY KEY,           -- camp_ + 24 base62
  name                  TEXT NOT NULL UNIQUE,
  description           TEXT,
  type                  TEXT NOT NULL DEFAULT 'AUTO_UPDATE',   -- AUTO_UPDATE | STATIC
  join_once             INTEGER NOT NULL DEFAULT 0,
  voucher               TEXT NOT NULL CHECK (json_valid(voucher)),
  start_date            INTEGER,
  expiration_date       INTEGER,
  validity_timeframe    TEXT CHECK (validity_timeframe IS NULL OR json_valid(validity_timeframe)),
  validity_day_of_week  TEXT CHECK (validity_day_of_week IS NULL OR json_valid(validity_day_of_week)),
  validity_hours        TEXT CHECK (validity_hours IS NULL OR json_valid(validity_hours)),
  active                INTEGER NOT NULL DEFAULT 1,
  metadata              TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
  -- Generated codes the campaign asked for so far (create's vouchers_count plus addVoucher's);
  -- the campaign_codes job inserts codes until the campaign holds this many generated codes.
  generation_target     INTEGER NOT NULL DEFAULT 0,
  generated_count       INTEGER NOT NULL DEFAULT 0,
  -- OA CampaignBase.vouchers_generation_status: IN_PROGRESS | DONE | FAILED.
  generation_status     TEXT NOT NULL DEFAULT 'DONE',
  -- The CAMPAIGN.VOUCHERS_GENERATE async action of an addVoucher with vouchers_count > 1, ended by the job.
  generation_action_id  TEXT,
  -- What the campaign adds to its vouchers' definitions (its validation rules): replaced by the
  -- triggers below; a voucher's version is its own joined with its campaign's (db/vouchers.ts).
  definition_version    TEXT NOT NULL DEFAULT '',
  created_at            INTEGER NOT NULL,
  updated_at            INTEGER
);
CREATE INDEX campaigns_created ON campaigns (created_at);

-- A code belongs to at most one campaign; deleting the campaign deletes its codes.
ALTER TABLE vouchers ADD COLUMN campaign_id TEXT REFERENCES campaigns (id) ON DELETE CASCADE;
ALTER TABLE vouchers ADD COLUMN campaign TEXT;
CREATE INDEX vouchers_campaign ON vouchers (campaign_id, holder_id) WHERE campaign_id IS NOT NULL;

-- Rules assigned to a campaign apply to all of its codes (OA ValidationRulesAssignmentsCreateRequestBody
-- related_object_type 'campaign'). Their own table: validation_rule_assignments' related_object_id is a
-- foreign key to vouchers.
CREATE TABLE campaign_rule_assignments (
  id           TEXT PRIMARY KEY,                    -- asgm_ + 24 base62
  rule_id      TEXT NOT NULL REFERENCES validation_rules (id) ON DELETE CASCADE,
  campaign_id  TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  created_at   INTEGER NOT NULL,
  UNIQUE (rule_id, campaign_id)
);
CREATE INDEX campaign_rule_assignments_campaign ON campaign_rule_assignments (campaign_id);

CREATE TRIGGER campaign_version_on_insert AFTER INSERT ON campaigns
BEGIN
  UPDATE campaigns SET definition_version = lower(hex(randomblob(8))) WHERE id = NEW.id;
END;

CREATE TRIGGER campaign_version_on_assign AFTER INSERT ON campaign_rule_assignments
BEGIN
  UPDATE campaigns SET definition_version = lower(hex(randomblob(8))) WHERE id = NEW.campaign_id;
END;

CREATE TRIGGER campaign_version_on_unassign AFTER DELETE ON campaign_rule_assignments
BEGIN
  UPDATE campaigns SET definition_version = lower(hex(randomblob(8))) WHERE id = OLD.campaign_id;
END;

CREATE TRIGGER campaign_version_on_rule_update AFTER UPDATE OF rules, error, applicable_to ON validation_rules
BEGIN
  UPDATE campaigns SET definition_version = lower(hex(randomblob(8)))
  WHERE id IN (SELECT campaign_id FROM campaign_rule_assignments WHERE rule_id = NEW.id);
END;

CREATE TRIGGER campaign_version_on_segment_update AFTER UPDATE OF type, filter ON segments
BEGIN
  UPDATE campaigns SET definition_version = lower(hex(randomblob(8)))
  WHERE id IN (SELECT a.campaign_id FROM campaign_rule_assignments a
               JOIN validation_rules r ON r.id = a.rule_id WHERE instr(r.rules, NEW.id) > 0);
END;

CREATE TRIGGER campaign_version_on_segment_delete AFTER DELETE ON segments
BEGIN
  UPDATE campaigns SET definition_version = lower(hex(randomblob(8)))
  WHERE id IN (SELECT a.campaign_id FROM campaign_rule_assignments a
               JOIN validation_rules r ON r.id = a.rule_id WHERE instr(r.rules, OLD.id) > 0);
END;

-- The redeem guard (migration 0012) judges the voucher's full version: its own and its campaign's.
DROP TRIGGER voucher_version_check;
CREATE TRIGGER voucher_version_check BEFORE INSERT ON voucher_version_checks
BEGIN
  SELECT CASE
    WHEN NOT EXISTS (SELECT 1 FROM vouchers v WHERE v.id = NEW.voucher_id
                     AND v.definition_version || coalesce((SELECT '.' || c.definition_version FROM campaigns c WHERE c.id = v.campaign_id), '') = NEW.version)
    THEN RAISE(ABORT, 'voucher_definition_changed')
    ELSE RAISE(IGNORE)
  END;
END;

-- OA PublicationsCreateVoucherResponseBody: a code handed to a customer. The insert that records it
-- also chooses the code (db/publications.ts), and the holder is set in the same batch.
CREATE TABLE publications (
  id           TEXT PRIMARY KEY,                    -- pub_ + 24 base62
  voucher_id   TEXT NOT NULL REFERENCES vouchers (id) ON DELETE CASCADE,
  customer_id  TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  campaign_id  TEXT,
  source_id    TEXT,
  channel      TEXT NOT NULL DEFAULT 'API',
  metadata     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
  created_at   INTEGER NOT NULL
);
CREATE INDEX publications_created ON publications (created_at);
CREATE INDEX publications_customer_campaign ON publications (customer_id, campaign_id);
CREATE INDEX publications_voucher ON publications (voucher_id);
