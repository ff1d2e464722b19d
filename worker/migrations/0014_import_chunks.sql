-- CSV imports through the WRITES queue, so no request writes a whole file: the request reads the upload and sends its rows
-- as chunk messages while it streams; the queue consumer writes each chunk.

-- One row per import. `chunks` stays NULL while the request is still reading the file: chunks that
-- arrive then wait (a refused file deletes the row, and its chunks are dropped). The request sets
-- it in the batch that stores the async action; each chunk written adds one to `chunks_done`, and
-- the chunk that makes them equal finishes the action.
CREATE TABLE customer_imports (
  action_id   TEXT PRIMARY KEY,
  chunks      INTEGER,
  chunks_done INTEGER NOT NULL DEFAULT 0,
  created_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- What each chunk (or part of a chunk) wrote, counted inside the batch that wrote it. The plain
-- INSERT of its row opens that batch, so a chunk delivered twice fails on the primary key and
-- writes and counts nothing the second time. `id` is the message id, or `<message id>/<path>` for
-- the halves a chunk is split into when one of its rows takes a source_id held by another customer.
-- `pending` carries the count of new source ids from the statement before an upsert to the one after.
CREATE TABLE import_chunks (
  id         TEXT PRIMARY KEY,
  action_id  TEXT NOT NULL,
  created    INTEGER NOT NULL DEFAULT 0,
  updated    INTEGER NOT NULL DEFAULT 0,
  unchanged  INTEGER NOT NULL DEFAULT 0,
  pending    INTEGER NOT NULL DEFAULT 0,
  failed     TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(failed)),
  applied_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX import_chunks_action ON import_chunks (action_id);
