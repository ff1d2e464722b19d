-- Recurring validity windows and the free-text note of a voucher (OA VoucherCreateDiscount:
-- validity_timeframe, validity_day_of_week, validity_hours, additional_info). NULL: no restriction.
ALTER TABLE vouchers ADD COLUMN validity_timeframe TEXT CHECK (validity_timeframe IS NULL OR json_valid(validity_timeframe));      -- {"interval":"P2D","duration":"PT1H"}
ALTER TABLE vouchers ADD COLUMN validity_day_of_week TEXT CHECK (validity_day_of_week IS NULL OR json_valid(validity_day_of_week)); -- [0..6], 0 = Sunday
ALTER TABLE vouchers ADD COLUMN validity_hours TEXT CHECK (validity_hours IS NULL OR json_valid(validity_hours));                 -- {"daily":[{start_time,expiration_time,days_of_week}]}
ALTER TABLE vouchers ADD COLUMN additional_info TEXT;

-- GET /v1/vouchers and GET /v1/validation-rules page in these orders.
CREATE INDEX vouchers_created_at ON vouchers (created_at);
CREATE INDEX vouchers_updated_at ON vouchers (updated_at);
CREATE INDEX validation_rules_created_at ON validation_rules (created_at);
