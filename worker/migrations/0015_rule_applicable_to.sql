-- A validation rule's applicable_to (OA ValidationRuleBase.applicable_to): the products and SKUs
-- the discounts of its vouchers may touch. NULL: the rule scopes no items.
ALTER TABLE validation_rules ADD COLUMN applicable_to TEXT CHECK (applicable_to IS NULL OR json_valid(applicable_to));

-- What a voucher grants now also depends on its rules' applicable_to: a change moves the version on
-- (migration 0012), so no cached definition keeps the old scope.
DROP TRIGGER voucher_version_on_rule_update;
CREATE TRIGGER voucher_version_on_rule_update AFTER UPDATE OF rules, error, applicable_to ON validation_rules
BEGIN
  UPDATE vouchers SET definition_version = lower(hex(randomblob(8)))
  WHERE id IN (SELECT related_object_id FROM validation_rule_assignments WHERE rule_id = NEW.id);
END;
