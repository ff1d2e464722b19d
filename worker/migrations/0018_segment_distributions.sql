-- Segment-wide distribution: a campaign's codes published to every member of a segment, as an async action
-- walked by WRITES queue jobs (services/distributions.ts). One row per distribution: where the walk
-- stands (`cursor`, a customers.created_at) and its running counts. Every step of the walk is one
-- D1 batch whose statements hold only while the row's cursor is the one the step started from, and
-- whose last statement moves it: a step run twice (a redelivered message, two consumers) publishes once.
CREATE TABLE distributions (
  id              TEXT PRIMARY KEY,                 -- the async action's id (aa_…)
  campaign_id     TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  segment_id      TEXT NOT NULL,
  join_once       INTEGER NOT NULL,
  status          TEXT NOT NULL DEFAULT 'IN_PROGRESS', -- IN_PROGRESS | DONE | FAILED
  cursor          INTEGER NOT NULL,
  customers_total INTEGER NOT NULL,                 -- customers when it started: the progress denominator
  customers_walked INTEGER NOT NULL DEFAULT 0,
  published       INTEGER NOT NULL DEFAULT 0,
  skipped         INTEGER NOT NULL DEFAULT 0,
  failed          INTEGER NOT NULL DEFAULT 0,
  -- Scratch of the running step (set by its first statement, read by its last).
  step_members    INTEGER NOT NULL DEFAULT 0,
  step_skipped    INTEGER NOT NULL DEFAULT 0,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
);

-- Which distribution made a publication (NULL: POST /v1/publications); a step finds its own rows by it.
ALTER TABLE publications ADD COLUMN distribution_id TEXT;
CREATE INDEX publications_distribution ON publications (distribution_id, created_at) WHERE distribution_id IS NOT NULL;
-- The publication export pages through a campaign's publications in insertion order.
CREATE INDEX publications_campaign ON publications (campaign_id) WHERE campaign_id IS NOT NULL;

-- OA Voucher.publish.count: "Publication events counter" of the code. Counted by the statement that
-- claims the code for a publication (db/publications.ts claimVoucherHolder, db/distributions.ts), in
-- the publication's batch; not part of what the voucher grants (no definition version trigger lists it).
ALTER TABLE vouchers ADD COLUMN publish_count INTEGER NOT NULL DEFAULT 0;
UPDATE vouchers SET publish_count = (SELECT count(*) FROM publications p WHERE p.voucher_id = vouchers.id)
WHERE id IN (SELECT voucher_id FROM publications);
