-- What a voucher grants (its terms, its rules, the segments those rules name) carries a version
-- token. Validate and redeem read it live with the counters; a cached definition is keyed by it, so
-- a definition of another version is never used, and a late cache fill of an old version lands
-- under a key nobody reads again. Triggers replace the token on every change that alters what the
-- voucher grants, so no code path can forget to.
ALTER TABLE vouchers ADD COLUMN definition_version TEXT NOT NULL DEFAULT '';
UPDATE vouchers SET definition_version = lower(hex(randomblob(8)));

CREATE TRIGGER voucher_version_on_insert AFTER INSERT ON vouchers
BEGIN
  UPDATE vouchers SET definition_version = lower(hex(randomblob(8))) WHERE id = NEW.id;
END;

-- Every column but the counters and timestamps: quantity and active are read live anyway, but a
-- redemption judged before a change must not commit after it.
CREATE TRIGGER voucher_version_on_update
AFTER UPDATE OF code, type, discount, quantity, active, start_date, expiration_date, metadata,
  validity_timeframe, validity_day_of_week, validity_hours, additional_info ON vouchers
BEGIN
  UPDATE vouchers SET definition_version = lower(hex(randomblob(8))) WHERE id = NEW.id;
END;

CREATE TRIGGER voucher_version_on_assign AFTER INSERT ON validation_rule_assignments
BEGIN
  UPDATE vouchers SET definition_version = lower(hex(randomblob(8))) WHERE id = NEW.related_object_id;
END;

-- Also fires for the assignments a rule's deletion cascades to.
CREATE TRIGGER voucher_version_on_unassign AFTER DELETE ON validation_rule_assignments
BEGIN
  UPDATE vouchers SET definition_version = lower(hex(randomblob(8))) WHERE id = OLD.related_object_id;
END;

CREATE TRIGGER voucher_version_on_rule_update AFTER UPDATE OF rules, error ON validation_rules
BEGIN
  UPDATE vouchers SET definition_version = lower(hex(randomblob(8)))
  WHERE id IN (SELECT related_object_id FROM validation_rule_assignments WHERE rule_id = NEW.id);
END;

-- A segment a rule names changed or went away: the rules that mention its id (a text match finds
-- every one; a false match only costs a cache reload).
CREATE TRIGGER voucher_version_on_segment_update AFTER UPDATE OF type, filter ON segments
BEGIN
  UPDATE vouchers SET definition_version = lower(hex(randomblob(8)))
  WHERE id IN (SELECT a.related_object_id FROM validation_rule_assignments a
               JOIN validation_rules r ON r.id = a.rule_id WHERE instr(r.rules, NEW.id) > 0);
END;

CREATE TRIGGER voucher_version_on_segment_delete AFTER DELETE ON segments
BEGIN
  UPDATE vouchers SET definition_version = lower(hex(randomblob(8)))
  WHERE id IN (SELECT a.related_object_id FROM validation_rule_assignments a
               JOIN validation_rules r ON r.id = a.rule_id WHERE instr(r.rules, OLD.id) > 0);
END;

-- The redeem batch's guard: one row per voucher it judged, with the version it judged. The trigger
-- aborts the whole batch when the voucher is gone or its version moved on, and otherwise drops the
-- row (RAISE(IGNORE)), so the table stays empty.
CREATE TABLE voucher_version_checks (
  voucher_id TEXT NOT NULL,
  version    TEXT NOT NULL
);

CREATE TRIGGER voucher_version_check BEFORE INSERT ON voucher_version_checks
BEGIN
  SELECT CASE
    WHEN NOT EXISTS (SELECT 1 FROM vouchers WHERE id = NEW.voucher_id AND definition_version = NEW.version)
    THEN RAISE(ABORT, 'voucher_definition_changed')
    ELSE RAISE(IGNORE)
  END;
END;
