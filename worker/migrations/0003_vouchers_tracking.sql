-- Vouchers, validation rules, tracking profiles, validations and redemptions.

CREATE TABLE vouchers (
  id                TEXT PRIMARY KEY,             -- v_ + 24 base62
  code              TEXT NOT NULL UNIQUE,
  type              TEXT NOT NULL DEFAULT 'DISCOUNT_VOUCHER',
  discount          TEXT NOT NULL CHECK (json_valid(discount)),  -- {type, amount_off | percent_off (+ amount_limit) | fixed_amount}
  quantity          INTEGER,                      -- null: unlimited
  redeemed_quantity INTEGER NOT NULL DEFAULT 0,
  active            INTEGER NOT NULL DEFAULT 1,
  start_date        INTEGER,                      -- ms
  expiration_date   INTEGER,                      -- ms
  metadata          TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER,
  -- A redemption takes its unit with `redeemed_quantity = redeemed_quantity + 1` inside the redeem
  -- batch; past the quantity this constraint fails and the whole batch rolls back: no over-redeem.
  CONSTRAINT voucher_quantity_exceeded CHECK (quantity IS NULL OR redeemed_quantity <= quantity),
  CONSTRAINT voucher_rollback_below_zero CHECK (redeemed_quantity >= 0)
);

CREATE TABLE validation_rules (
  id         TEXT PRIMARY KEY,                    -- val_ + 24 base62
  name       TEXT NOT NULL,
  rules      TEXT NOT NULL CHECK (json_valid(rules)),   -- {"1": {...}, "2": {...}, "logic": "1 and 2"}
  error      TEXT CHECK (error IS NULL OR json_valid(error)),
  created_at INTEGER NOT NULL,
  updated_at INTEGER
);

CREATE TABLE validation_rule_assignments (
  id                  TEXT PRIMARY KEY,           -- asgm_ + 24 base62
  rule_id             TEXT NOT NULL REFERENCES validation_rules (id) ON DELETE CASCADE,
  related_object_type TEXT NOT NULL,              -- voucher
  related_object_id   TEXT NOT NULL REFERENCES vouchers (id) ON DELETE CASCADE,
  created_at          INTEGER NOT NULL,
  UNIQUE (rule_id, related_object_id)
);
CREATE INDEX validation_rule_assignments_object ON validation_rule_assignments (related_object_id);

-- One per tracking id: what is known of a visitor before (and after) a redemption names them.
CREATE TABLE tracking_profiles (
  id                TEXT PRIMARY KEY,             -- the tracking id, track_ + 22 base64url
  customer_id       TEXT REFERENCES customers (id) ON DELETE CASCADE,
  identity_hmac     TEXT,                         -- HMAC-SHA256(TRACKING_SECRET, identity hash), hex
  first_seen        INTEGER NOT NULL,
  last_seen         INTEGER NOT NULL,
  validations_count INTEGER NOT NULL DEFAULT 0,
  codes             TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(codes))  -- distinct codes tried, newest last, capped
);
CREATE INDEX tracking_profiles_customer ON tracking_profiles (customer_id);
CREATE INDEX tracking_profiles_identity ON tracking_profiles (identity_hmac);

-- A tracking profile names one person. Linking it to a second customer is refused inside the
-- redeem batch itself, so two concurrent redemptions cannot both link it.
CREATE TRIGGER tracking_profile_single_customer
BEFORE UPDATE OF customer_id ON tracking_profiles
WHEN OLD.customer_id IS NOT NULL AND NEW.customer_id IS NOT NULL AND NEW.customer_id != OLD.customer_id
BEGIN
  SELECT RAISE(ABORT, 'ambiguous_tracking_id');
END;

-- Every validate attempt: on the tracking profile while anonymous, on the customer once known.
CREATE TABLE validations (
  id          TEXT PRIMARY KEY,                   -- valid_ + 24 base62
  tracking_id TEXT,
  customer_id TEXT,
  code        TEXT NOT NULL,
  amount      INTEGER,
  created_at  INTEGER NOT NULL
);
CREATE INDEX validations_tracking ON validations (tracking_id);
CREATE INDEX validations_customer ON validations (customer_id);

CREATE TABLE redemptions (
  id              TEXT PRIMARY KEY,               -- r_ (success), rf_ (failure), rr_ (rollback)
  object          TEXT NOT NULL,                  -- redemption | redemption_rollback
  result          TEXT NOT NULL,                  -- SUCCESS | FAILURE
  status          TEXT NOT NULL,                  -- SUCCEEDED | FAILED | ROLLED_BACK
  voucher_id      TEXT,
  code            TEXT NOT NULL,
  customer_id     TEXT,
  tracking_id     TEXT,
  amount          INTEGER,                        -- order amount
  discount_amount INTEGER,
  order_json      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(order_json)),
  metadata        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
  failure_code    TEXT,
  failure_message TEXT,
  parent_id       TEXT,                           -- stackable: the parent redemption
  rollback_of     TEXT UNIQUE,                    -- rr_: the redemption it rolls back (once)
  idempotency_key TEXT UNIQUE,
  created_at      INTEGER NOT NULL
);
CREATE INDEX redemptions_customer ON redemptions (customer_id, created_at);
CREATE INDEX redemptions_created ON redemptions (created_at);
CREATE INDEX redemptions_parent ON redemptions (parent_id);
