-- Segments, their stored memberships, and the customer activity stream (custom events and segment
-- transitions).

CREATE TABLE segments (
  id                  TEXT PRIMARY KEY,           -- seg_ + 24 base62
  name                TEXT NOT NULL,
  type                TEXT NOT NULL CHECK (type IN ('static', 'auto-update', 'passive')),
  filter              TEXT CHECK (filter IS NULL OR json_valid(filter)),  -- as submitted; null for static
  -- 1 when the filter depends on the clock ("last order more than 30 days ago"): the cron trigger
  -- recomputes such auto-update segments, since no write tells when a customer crosses the line.
  time_relative       INTEGER NOT NULL DEFAULT 0,
  initial_sync_status TEXT NOT NULL,              -- DONE | IN_PROGRESS
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER
);

-- Members of static segments (fixed at creation) and of auto-update segments (kept up to date by
-- every customer write and the cron). Passive segments store none: they are evaluated live.
CREATE TABLE segment_members (
  segment_id  TEXT NOT NULL REFERENCES segments (id) ON DELETE CASCADE,
  customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (segment_id, customer_id)
) WITHOUT ROWID;
CREATE INDEX segment_members_customer ON segment_members (customer_id);

-- What happened to a profile: custom events (POST /v1/events, /client/v1/events) and
-- customer.segment.entered/left. The profile is a customer (cust_…) or, while the visitor is still
-- anonymous, a tracking profile (track_…) whose events move to the customer when a redemption links
-- the two. Kept when a customer is deleted (history), removed by permanent deletion.
-- `events.<type>.count` in segment filters counts these rows.
CREATE TABLE events (
  id          TEXT PRIMARY KEY,                   -- evcus_ + 24 hex/base62
  profile_id  TEXT NOT NULL,
  type        TEXT NOT NULL,
  metadata    TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
  created_at  INTEGER NOT NULL
);
CREATE INDEX events_profile_type ON events (profile_id, type);
CREATE INDEX events_profile_created ON events (profile_id, created_at);
