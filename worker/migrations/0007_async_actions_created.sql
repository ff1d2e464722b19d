-- GET /v1/async-actions lists actions newest first, optionally before an end_date: an index on the
-- creation time keeps that a range scan however many actions accumulate.
CREATE INDEX async_actions_created ON async_actions (created_at);
