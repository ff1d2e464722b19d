-- Writes through the queue (worker/src/queue/): what validate and track record is written by the
-- queue consumer, at least once. A message's effects and its row here commit in one batch, and
-- the plain INSERT of the row fails (and so rolls the batch back) when the message was applied
-- before: a redelivered message changes nothing. Kept 14 days, Queues' longest retention.
CREATE TABLE applied_messages (
  id         TEXT PRIMARY KEY,
  applied_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX applied_messages_at ON applied_messages (applied_at);

-- Messages the consumer gave up on after the queue's retries (the dead-letter queue's consumer
-- keeps them here for an operator): the body as sent, and when.
CREATE TABLE dead_letters (
  id       TEXT PRIMARY KEY,
  kind     TEXT,
  body     TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  dead_at  INTEGER NOT NULL
);

-- A validation attempt now carries its outcome (it is written after the judgement, off the
-- request's path): VALID or INVALID and, when invalid, the reason key.
ALTER TABLE validations ADD COLUMN result TEXT;
ALTER TABLE validations ADD COLUMN reason TEXT;

-- When a redemption linked the tracking profile to its customer. An anonymous event is written by
-- the queue consumer, possibly after a redemption that followed it: one that happened before the
-- link belongs to the customer, as it would have been merged had it been written first.
ALTER TABLE tracking_profiles ADD COLUMN linked_at INTEGER;
