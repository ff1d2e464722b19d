-- Versions of the definitions that isolates keep parsed in memory. A reader compares the version it
-- reads (inside a batch it makes anyway) with the one its copy was built from, so a change is seen
-- by the very next request without a round trip spent on re-reading unchanged definitions.
-- Triggers change the versions, so no code path that changes a definition can forget to. A version
-- is a random token, not a counter: two databases (tests, or shards behind one isolate) never share
-- one, so an isolate can never mistake one database's definitions for another's.
CREATE TABLE definition_versions (
  name    TEXT PRIMARY KEY,
  version TEXT NOT NULL
);

-- 'segments': the auto-update segments every customer write re-evaluates (services/membership.ts).
INSERT INTO definition_versions (name, version) VALUES ('segments', lower(hex(randomblob(16))));

CREATE TRIGGER segments_version_on_insert AFTER INSERT ON segments
BEGIN
  UPDATE definition_versions SET version = lower(hex(randomblob(16))) WHERE name = 'segments';
END;

CREATE TRIGGER segments_version_on_update AFTER UPDATE OF name, type, filter, time_relative ON segments
BEGIN
  UPDATE definition_versions SET version = lower(hex(randomblob(16))) WHERE name = 'segments';
END;

CREATE TRIGGER segments_version_on_delete AFTER DELETE ON segments
BEGIN
  UPDATE definition_versions SET version = lower(hex(randomblob(16))) WHERE name = 'segments';
END;
