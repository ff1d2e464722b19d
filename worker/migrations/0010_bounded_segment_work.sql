-- Heavy segment work in bounded steps (one filter over 100k customers held the
-- database for 37 s, and every checkout waited). D1 runs one statement at a time per database, so
-- a segment's initial sync, the cron's recompute, member lists and exports now walk the customers
-- in keyset ranges of created_at (unique, migration 0001): each D1 call covers at most 5,000
-- customers, and other requests run between the calls. See services/segment-sync.ts.

-- The initial sync of an auto-update segment is resumable: the created_at of the last customer it
-- has covered (NULL once DONE). The customer-write pipeline reads it to tell the customers the sync
-- has already judged (their changes are transitions, with entered/left events) from those it has
-- not reached yet (their membership is set silently, as the sync would set it). Not part of the
-- segments version (migration 0009): progress changes no definition.
ALTER TABLE segments ADD COLUMN sync_cursor INTEGER;

-- Customers written by a request that did not know an auto-update segment yet (it read the
-- segments' version before the segment was created, and committed after): the write's batch
-- records them here instead of refreshing that segment, and the sync (or the cron) refreshes
-- them. So no write can leave a stored membership stale, however the two interleave.
CREATE TABLE segment_pending (
  segment_id  TEXT NOT NULL REFERENCES segments (id) ON DELETE CASCADE,
  customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  PRIMARY KEY (segment_id, customer_id)
) WITHOUT ROWID;
-- Deleting a customer cascades here: without this index each deletion would scan the table.
CREATE INDEX segment_pending_customer ON segment_pending (customer_id);

-- Scratch of one sync step: the customers of the step's range that match the filter, so that the
-- filter is evaluated once per customer rather than once per statement of the diff. Written and
-- emptied inside one batch (one transaction), so no other request ever sees a row of it.
CREATE TABLE segment_sync_matches (
  segment_id  TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  PRIMARY KEY (segment_id, customer_id)
) WITHOUT ROWID;
