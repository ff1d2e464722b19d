-- The delivery engine's side of webhooks (0020 is the contract with the writes).
--
-- One row per (endpoint, event): the dispatcher inserts it in the same D1 batch as it claims the
-- outbox row, so an event reaches each subscribed endpoint's log exactly once, whatever the
-- number of dispatchers (UNIQUE below). The row is the delivery's whole state: each attempt
-- updates it under a compare-and-set on `attempts`, so a queue message delivered twice attempts once.
--
-- status: pending (an attempt is due or under way), failed (the last attempt failed; the next is
-- scheduled at next_attempt_at), delivered (a 2xx), dead (the retry schedule is spent, or the
-- endpoint was disabled before the attempt). next_attempt_at is also the sweeper's deadline: a
-- pending or failed delivery still not attempted well after it was due lost its queue message
-- (the worker died between the batch and the send) and the cron sends it again.
CREATE TABLE webhook_deliveries (
  id               TEXT PRIMARY KEY,   -- whd_…
  endpoint_id      TEXT NOT NULL,      -- webhook_endpoints.id; deleted with the endpoint
  event_id         TEXT NOT NULL,      -- webhook_outbox.id: the `webhook-id` of every attempt
  event_type       TEXT NOT NULL,
  status           TEXT NOT NULL DEFAULT 'pending',
  attempts         INTEGER NOT NULL DEFAULT 0,
  last_status_code INTEGER,            -- NULL when the last attempt got no response (timeout, network)
  last_error       TEXT,
  last_attempt_at  INTEGER,
  next_attempt_at  INTEGER,            -- epoch ms; NULL once delivered or dead
  delivered_at     INTEGER,
  created_at       INTEGER NOT NULL,
  UNIQUE (endpoint_id, event_id)
);
-- The delivery log of an endpoint, newest first.
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);
-- The sweeper's scan: deliveries still owed an attempt.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status IN ('pending', 'failed');

-- async_action.done: an async action (bulk update, metadata update, CSV import, code generation,
-- distribution, campaign deletion) reaching DONE or FAILED. A trigger rather than a statement
-- beside each write: the status changes in several places (inserted DONE by the bulk routes,
-- updated by the import, generation and distribution jobs), and a trigger catches every one of
-- them, in the same transaction as the write. Like 0022's, it fires only while an enabled
-- endpoint subscribes to the type, so a project without webhooks pays nothing.
CREATE TRIGGER webhook_async_action_done_insert AFTER INSERT ON async_actions
WHEN NEW.status IN ('DONE', 'FAILED')
  AND EXISTS (SELECT 1 FROM webhook_endpoints e, json_each(e.events) t WHERE e.enabled = 1 AND t.value = 'async_action.done')
BEGIN
  INSERT INTO webhook_outbox (id, type, object_id, snapshot, created_at)
  VALUES ('evt_' || lower(hex(randomblob(12))), 'async_action.done', NEW.id,
    json_object('id', NEW.id, 'type', NEW.type, 'status', NEW.status, 'operation_status', NEW.operation_status,
      'result', json(NEW.result), 'request_id', NEW.request_id, 'progress', NEW.progress,
      'processing_time', NEW.processing_time, 'created_at', NEW.created_at, 'updated_at', NEW.updated_at),
    NEW.updated_at);
END;

CREATE TRIGGER webhook_async_action_done_update AFTER UPDATE OF status ON async_actions
WHEN OLD.status NOT IN ('DONE', 'FAILED') AND NEW.status IN ('DONE', 'FAILED')
  AND EXISTS (SELECT 1 FROM webhook_endpoints e, json_each(e.events) t WHERE e.enabled = 1 AND t.value = 'async_action.done')
BEGIN
  INSERT INTO webhook_outbox (id, type, object_id, snapshot, created_at)
  VALUES ('evt_' || lower(hex(randomblob(12))), 'async_action.done', NEW.id,
    json_object('id', NEW.id, 'type', NEW.type, 'status', NEW.status, 'operation_status', NEW.operation_status,
      'result', json(NEW.result), 'request_id', NEW.request_id, 'progress', NEW.progress,
      'processing_time', NEW.processing_time, 'created_at', NEW.created_at, 'updated_at', NEW.updated_at),
    NEW.updated_at);
END;
