-- Qualifications (docs/qualifications.md) list the offers a shopper may use. A promotion tier is
-- offered to whoever its rules accept, and a code to the customer who holds it; any other code is
-- offered only where the shop says so, because a code handed to a browser is a code anyone can
-- redeem: `public` on a voucher (a Vouchsafe extension of the voucher object) marks a code the
-- shop offers to anyone, and on a campaign, every code of that campaign nobody holds. Both
-- default to 0: an existing code is never shown to a client key without the shop's say.
--
-- No version trigger: a qualification reads the live row of every candidate (its counters and
-- definition version, which it needs anyway) and keys its cached definitions by the set it read,
-- so a code that becomes public or stops being public changes that set on the next request.
ALTER TABLE vouchers ADD COLUMN public INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN public INTEGER NOT NULL DEFAULT 0;

-- The candidates of a qualification, found without a scan of every code: the codes marked public
-- and the promotion tiers (the wallet's codes use vouchers_holder, a campaign's vouchers_campaign).
CREATE INDEX vouchers_offered ON vouchers (type, public) WHERE public = 1 OR type = 'PROMOTION_TIER';

-- The voucher snapshot of webhook events (migration 0022) holds every column of `vouchers`, so an
-- event renders the voucher as the API does: with the public mark, and a promotion tier's name,
-- banner and hierarchy (migration 0030), which a redemption of a tier shows.
DROP VIEW webhook_voucher_rows;
CREATE VIEW webhook_voucher_rows AS SELECT id, json_object(
  'id', id, 'code', code, 'type', type, 'discount', discount, 'quantity', quantity, 'redeemed_quantity', redeemed_quantity,
  'active', active, 'start_date', start_date, 'expiration_date', expiration_date, 'metadata', metadata,
  'created_at', created_at, 'updated_at', updated_at, 'validity_timeframe', validity_timeframe,
  'validity_day_of_week', validity_day_of_week, 'validity_hours', validity_hours, 'additional_info', additional_info,
  'definition_version', definition_version, 'holder_id', holder_id, 'campaign_id', campaign_id, 'campaign', campaign,
  'publish_count', publish_count, 'name', name, 'banner', banner, 'hierarchy', hierarchy, 'public', public
) AS row FROM vouchers;
