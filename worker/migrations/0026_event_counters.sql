-- Events as exact counters, raw events in a retention window, and the archive's bookkeeping.
--
-- `events.<type>.count` in segment filters and validation rules used to count raw rows: storage grew
-- with time (about 300 B per event), and each count was an index walk. A counter per profile and
-- event type holds the same number in one row (about 77 B), read by one primary-key lookup, and it
-- outlives the raw rows: the cron deletes raw events older than EVENT_RETENTION_DAYS (after writing
-- them to the R2 archive), and no count or membership moves when it does.
CREATE TABLE event_counters (
  profile_id TEXT NOT NULL,     -- cust_… or track_…, as events.profile_id
  type       TEXT NOT NULL,
  count      INTEGER NOT NULL,
  first_at   INTEGER NOT NULL,  -- created_at of the earliest event counted
  last_at    INTEGER NOT NULL,  -- created_at of the latest event counted
  PRIMARY KEY (profile_id, type)
) WITHOUT ROWID;

-- Every insert into events counts, in the insert's own transaction: API and client events, the
-- late anonymous events the consumer puts on a customer, segment entered/left events, and any
-- writer added later. A trigger rather than a statement beside each insert, because no writer can
-- then forget it, and an insert that writes nothing (a capped client event, a duplicate id refused)
-- counts nothing. Only inserts count: a raw event deleted by retention stays counted. The other
-- changes are explicit statements in db/: a redemption's link moves the tracking profile's counters
-- onto the customer (db/tracking.ts linkAndMerge), and deleting an anonymous profile or erasing a
-- person deletes theirs. (No writer may use INSERT OR REPLACE on events: the replaced row would
-- stay counted and its replacement count again.)
CREATE TRIGGER event_counters_count AFTER INSERT ON events
BEGIN
  INSERT INTO event_counters (profile_id, type, count, first_at, last_at)
  VALUES (NEW.profile_id, NEW.type, 1, NEW.created_at, NEW.created_at)
  ON CONFLICT (profile_id, type) DO UPDATE SET
    count = count + 1,
    first_at = min(first_at, excluded.first_at),
    last_at = max(last_at, excluded.last_at);
END;

-- The events stored so far, counted once.
INSERT INTO event_counters (profile_id, type, count, first_at, last_at)
SELECT profile_id, type, count(*), min(created_at), max(created_at) FROM events WHERE true GROUP BY profile_id, type;

-- Counting by type now reads the counters, so the index that served it goes (it cost every event
-- row an entry). Retention walks the raw events oldest first: this index finds them without a scan.
DROP INDEX events_profile_type;
CREATE INDEX events_created_at ON events (created_at);

-- One row per UTC hour whose raw events went to the archive: how many objects (parts) and events.
-- The archive step names its object from `parts` (events/YYYY/MM/DD/HH.ndjson.gz, then
-- HH-0001.ndjson.gz, …) and increments it in the batch that deletes the archived rows. A run that
-- stops between writing the object and that batch leaves `parts` as it was, so the next run writes
-- the same key again (overwriting it with the rows still there): every event lands in exactly one
-- object. See services/event-retention.ts.
CREATE TABLE event_archive_hours (
  hour   INTEGER PRIMARY KEY,  -- epoch ms of the hour's start (UTC)
  parts  INTEGER NOT NULL,     -- objects written and committed for this hour
  events INTEGER NOT NULL      -- events archived (and deleted) for this hour
);
