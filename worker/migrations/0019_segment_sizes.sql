-- A segment's size history, one row per segment per UTC day, written by the cron
-- (services/segment-sizes.ts): the stored member count of a static or auto-update segment, the
-- filter's count now for a passive one. A later run on the same day overwrites that day's row, so
-- the row holds the day's last count. Rows go with their segment (ON DELETE CASCADE); the cron
-- drops rows older than the longest history GET /v1/segments/{id}/sizes serves (365 days).
CREATE TABLE segment_sizes (
  segment_id TEXT NOT NULL REFERENCES segments (id) ON DELETE CASCADE,
  day        TEXT NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),  -- YYYY-MM-DD, UTC
  size       INTEGER NOT NULL CHECK (size >= 0),
  PRIMARY KEY (segment_id, day)
) WITHOUT ROWID;
-- The cron's pruning of old days, without a scan of every segment's history.
CREATE INDEX segment_sizes_day ON segment_sizes (day);
