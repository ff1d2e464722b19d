-- Customer profiles: the person every later table (tracking profiles, events, segment memberships,
-- redemptions) points at through customer_id.
--
-- Timestamps are integer milliseconds since the epoch (mapped to ISO-8601 with milliseconds on the
-- wire). created_at is unique: the official SDK's scroll() pages with a created_at cursor, so two
-- customers sharing one millisecond would make it skip one of them. The insert statement takes
-- max(now, newest created_at + 1), which keeps the column unique and close to wall-clock time.
CREATE TABLE customers (
  id                  TEXT PRIMARY KEY,           -- cust_ + 24 base62
  source_id           TEXT UNIQUE,                -- the merchant's id; nullable
  name                TEXT,
  description         TEXT,
  email               TEXT,
  phone               TEXT,
  birthdate           TEXT,                       -- YYYY-MM-DD
  address_city        TEXT,
  address_state       TEXT,
  address_line_1      TEXT,
  address_line_2      TEXT,
  address_country     TEXT,
  address_postal_code TEXT,
  metadata            TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
  system_metadata     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(system_metadata)),

  -- summary.redemptions.*
  redemptions_total_redeemed          INTEGER NOT NULL DEFAULT 0,
  redemptions_total_failed            INTEGER NOT NULL DEFAULT 0,
  redemptions_total_succeeded         INTEGER NOT NULL DEFAULT 0,
  redemptions_total_rolled_back       INTEGER NOT NULL DEFAULT 0,
  redemptions_total_rollback_failed   INTEGER NOT NULL DEFAULT 0,
  redemptions_total_rollback_succeeded INTEGER NOT NULL DEFAULT 0,
  redemptions_gift_redeemed_amount    INTEGER NOT NULL DEFAULT 0,
  redemptions_gift_amount_to_go       INTEGER NOT NULL DEFAULT 0,
  redemptions_loyalty_redeemed_points INTEGER NOT NULL DEFAULT 0,
  redemptions_loyalty_points_to_go    INTEGER NOT NULL DEFAULT 0,

  -- summary.orders.* (amounts in cents; average derived so it can never drift)
  orders_total_amount      INTEGER NOT NULL DEFAULT 0,
  orders_total_count       INTEGER NOT NULL DEFAULT 0,
  orders_average_amount    INTEGER GENERATED ALWAYS AS
    (CASE WHEN orders_total_count > 0 THEN orders_total_amount / orders_total_count ELSE 0 END) VIRTUAL,
  orders_last_order_amount INTEGER NOT NULL DEFAULT 0,
  orders_last_order_date   INTEGER,               -- ms; null until the first order

  -- loyalty.*
  loyalty_points             INTEGER NOT NULL DEFAULT 0,
  loyalty_referred_customers INTEGER NOT NULL DEFAULT 0,

  created_at INTEGER NOT NULL UNIQUE,
  updated_at INTEGER                              -- null until the first update, as on the wire
);

CREATE INDEX customers_email ON customers (email COLLATE NOCASE);
CREATE INDEX customers_name ON customers (name);
CREATE INDEX customers_address_city ON customers (address_city);
CREATE INDEX customers_updated_at ON customers (updated_at);

-- Bulk operations (POST /v1/customers/bulk/async, /metadata/async). They run to completion inside the
-- request (at most 100 records, one D1 batch), so an action is stored already DONE; the row keeps the
-- per-record report for GET /v1/async-actions/{id}. Reports name customers by id and row number only;
-- a source id appears only where it matched no customer.
CREATE TABLE async_actions (
  id               TEXT PRIMARY KEY,              -- aa_ + 24 base62
  type             TEXT NOT NULL,                 -- CUSTOMERS.BULK_UPDATE | CUSTOMERS.METADATA_UPDATE
  status           TEXT NOT NULL,                 -- DONE
  operation_status TEXT NOT NULL,                 -- SUCCESS | PARTIAL_SUCCESS | FAILED
  result           TEXT NOT NULL CHECK (json_valid(result)),
  request_id       TEXT NOT NULL,
  processing_time  INTEGER NOT NULL,              -- ms
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
);
