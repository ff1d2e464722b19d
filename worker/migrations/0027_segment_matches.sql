-- Scratch of one customer write's membership refresh (services/membership.ts refreshMemberships):
-- which of the written customers each auto-update segment's filter matches. One statement judges
-- every auto-update segment into it, then set-based statements derive the entered/left events and
-- the membership changes from it, and the last statement of the refresh empties it: a write costs
-- the same few statements however many auto-update segments there are, where judging each segment
-- in its own four statements made an event cost 83 statements at 20 segments. Written and emptied
-- inside the write's own batch (one transaction), so no other request ever sees a row of it, and it
-- holds nothing to export or to erase. No foreign keys: its rows never outlive the batch.
CREATE TABLE segment_matches (
  segment_id  TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  PRIMARY KEY (segment_id, customer_id)
) WITHOUT ROWID;
