-- CSV import of customers (POST /v1/customers/importCSV) and customer exports (POST /v1/exports).

-- An import runs after its 202 answer (waitUntil), chunk by chunk, so its async action is stored
-- IN_PROGRESS first and its progress (0-100) moves with each chunk. Bulk and metadata actions are
-- written already DONE, hence the default.
ALTER TABLE async_actions ADD COLUMN progress INTEGER NOT NULL DEFAULT 100;

-- An export is its definition only: the CSV is generated when the signed download URL is fetched,
-- streamed page by page from the customers table, so nothing large is ever stored.
CREATE TABLE exports (
  id              TEXT PRIMARY KEY,               -- exp_ + 24 base62
  exported_object TEXT NOT NULL,                  -- customer
  parameters      TEXT NOT NULL CHECK (json_valid(parameters)),  -- {order, fields, filters, response_format}
  channel         TEXT NOT NULL,                  -- API
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER
);
CREATE INDEX exports_created ON exports (created_at);
