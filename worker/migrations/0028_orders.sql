-- Orders, with or without a code (Voucherify orders API: POST/GET/PUT /v1/orders, the import).
--
-- The customer summary.orders.* is derived from this table, never counted up: every write of an
-- order recomputes the summary of its customer (and of the customer it left) from the orders that
-- count, PAID and FULFILLED ("Lists only data for orders with the PAID or FULFILLED status. Data
-- from orders with a CREATED or CANCELED status are not included. The data is updated also when an
-- order changes status.", voucherify-openapi production/readOnly-openAPI.json, CustomerSummaryOrders).
-- So an order sent again changes nothing, and a status change or a new amount moves the summary by
-- exactly what changed. A redemption writes its order here too (by its id or source_id, so a redeem
-- naming an existing order attaches to it); its rollback marks the order CANCELED.
CREATE TABLE orders (
  id              TEXT PRIMARY KEY,              -- ord_…, or the id a redemption's order named
  source_id       TEXT UNIQUE,                   -- the shop's id; an upsert key
  customer_id     TEXT,                          -- null: an order of nobody (a guest checkout)
  referrer_id     TEXT,
  status          TEXT NOT NULL DEFAULT 'CREATED' CHECK (status IN ('CREATED', 'PAID', 'CANCELED', 'FULFILLED')),
  amount          INTEGER,
  initial_amount  INTEGER,
  discount_amount INTEGER,
  items           TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(items)),
  metadata        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
  -- The product and SKU identifiers the items name (ids and source ids, distinct): the input of
  -- customer_products, computed when the order is written.
  products        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(products)),
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER
);

-- The summary recompute reads the counting orders; the list pages by created_at.
CREATE INDEX orders_customer ON orders (customer_id, created_at);
CREATE INDEX orders_created ON orders (created_at);

-- Per customer and product, how many of the customer counting orders (PAID, FULFILLED) name it:
-- the input of the segment filter `orders.products.<product>.count`. Keyed by customer, so a split
-- of customers into shards keeps every input of a customer filters with the customer. Rewritten
-- for a customer with every write of one of its orders, in the same batch.
CREATE TABLE customer_products (
  customer_id TEXT NOT NULL,
  product     TEXT NOT NULL,
  orders      INTEGER NOT NULL,
  PRIMARY KEY (customer_id, product)
) WITHOUT ROWID;

-- The customer activity of orders (customer.order.created / updated / paid / canceled / fulfilled,
-- Voucherify activity types), written by the triggers below in the order write transaction, with
-- the order as it was then. An upsert that repeats the stored order changes no column and writes
-- nothing here. Ids start with the time, then 1 for the created/updated entry and 2 for the status
-- entry of the same write, so the feed tie-break on id keeps them in that order.
CREATE TABLE order_activities (
  id          TEXT PRIMARY KEY,
  order_id    TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  type        TEXT NOT NULL,
  snapshot    TEXT NOT NULL CHECK (json_valid(snapshot)),
  created_at  INTEGER NOT NULL
);
CREATE INDEX order_activities_customer ON order_activities (customer_id, created_at);

CREATE VIEW order_snapshots AS
SELECT id, json_object('id', id, 'source_id', source_id, 'customer_id', customer_id, 'referrer_id', referrer_id,
  'status', status, 'amount', amount, 'initial_amount', initial_amount, 'discount_amount', discount_amount,
  'items', json(items), 'metadata', json(metadata), 'created_at', created_at, 'updated_at', updated_at) AS snapshot
FROM orders;

-- (Each CASE below ends in `END AS …`: wrangler splits this file into statements, and a CASE whose
-- END is followed by a comma would keep it from seeing where the statement ends.)
-- Backfill: one order per successful redemption not rolled back that carried an order amount (the
-- redemptions that moved summary.orders.* until now), so the summaries recomputed from this table
-- equal the stored ones. A stacked redemption children share their parent order: the parent
-- stands for it. Its status is the one the redemption recorded (PAID unless the request said
-- otherwise). Oldest first: of two redemptions naming one order, the first one is kept.
INSERT OR IGNORE INTO orders (id, source_id, customer_id, status, amount, discount_amount, items, metadata, products, created_at, updated_at)
SELECT coalesce(json_extract(r.order_json, '$.id'), 'ord_' || substr(r.id, 3)),
       json_extract(r.order_json, '$.source_id'),
       r.customer_id,
       CASE WHEN json_extract(r.order_json, '$.status') IN ('CREATED', 'PAID', 'CANCELED', 'FULFILLED')
            THEN json_extract(r.order_json, '$.status') ELSE 'PAID' END AS status,
       r.amount,
       r.discount_amount,
       CASE WHEN json_type(r.order_json, '$.items') = 'array' THEN json_extract(r.order_json, '$.items') ELSE '[]' END AS items,
       CASE WHEN json_type(r.order_json, '$.metadata') = 'object' THEN json_extract(r.order_json, '$.metadata') ELSE '{}' END AS metadata,
       coalesce((SELECT json_group_array(DISTINCT k.value) FROM json_each(r.order_json, '$.items') AS i,
                   json_each(json_array(json_extract(i.value, '$.product_id'), json_extract(i.value, '$.sku_id'),
                                        json_extract(i.value, '$.source_id'), json_extract(i.value, '$.product.id'),
                                        json_extract(i.value, '$.product.source_id'), json_extract(i.value, '$.sku.id'),
                                        json_extract(i.value, '$.sku.source_id'))) AS k
                 WHERE k.type = 'text' AND k.value != ''), '[]'),
       r.created_at,
       NULL
FROM redemptions r
WHERE r.object = 'redemption' AND r.result = 'SUCCESS' AND r.status = 'SUCCEEDED' AND r.parent_id IS NULL
  AND r.amount IS NOT NULL
ORDER BY r.created_at, r.rowid;

INSERT INTO customer_products (customer_id, product, orders)
SELECT o.customer_id, k.value, count(DISTINCT o.id)
FROM orders o, json_each(o.products) AS k
WHERE o.customer_id IS NOT NULL AND o.status IN ('PAID', 'FULFILLED')
GROUP BY o.customer_id, k.value;

-- After the backfill: the redemptions backfilled are in the activity already, as redemptions.
CREATE TRIGGER order_activity_created AFTER INSERT ON orders
WHEN NEW.customer_id IS NOT NULL
BEGIN
  INSERT INTO order_activities (id, order_id, customer_id, type, snapshot, created_at)
  SELECT 'oev_' || printf('%015d', NEW.created_at) || '1' || lower(hex(randomblob(8))), NEW.id, NEW.customer_id, 'customer.order.created', snapshot, NEW.created_at
  FROM order_snapshots WHERE id = NEW.id;
  INSERT INTO order_activities (id, order_id, customer_id, type, snapshot, created_at)
  SELECT 'oev_' || printf('%015d', NEW.created_at) || '2' || lower(hex(randomblob(8))), NEW.id, NEW.customer_id, 'customer.order.' || lower(NEW.status), snapshot, NEW.created_at
  FROM order_snapshots WHERE id = NEW.id AND NEW.status != 'CREATED';
END;

CREATE TRIGGER order_activity_updated
AFTER UPDATE OF source_id, customer_id, referrer_id, status, amount, initial_amount, discount_amount, items, metadata ON orders
WHEN NEW.customer_id IS NOT NULL
  AND (OLD.source_id IS NOT NEW.source_id OR OLD.customer_id IS NOT NEW.customer_id OR OLD.referrer_id IS NOT NEW.referrer_id
       OR OLD.status IS NOT NEW.status OR OLD.amount IS NOT NEW.amount OR OLD.initial_amount IS NOT NEW.initial_amount
       OR OLD.discount_amount IS NOT NEW.discount_amount OR json(OLD.items) IS NOT json(NEW.items)
       OR json(OLD.metadata) IS NOT json(NEW.metadata))
BEGIN
  INSERT INTO order_activities (id, order_id, customer_id, type, snapshot, created_at)
  SELECT 'oev_' || printf('%015d', coalesce(NEW.updated_at, NEW.created_at)) || '1' || lower(hex(randomblob(8))), NEW.id, NEW.customer_id, 'customer.order.updated', snapshot,
         coalesce(NEW.updated_at, NEW.created_at)
  FROM order_snapshots WHERE id = NEW.id;
  INSERT INTO order_activities (id, order_id, customer_id, type, snapshot, created_at)
  SELECT 'oev_' || printf('%015d', coalesce(NEW.updated_at, NEW.created_at)) || '2' || lower(hex(randomblob(8))), NEW.id, NEW.customer_id, 'customer.order.' || lower(NEW.status), snapshot,
         coalesce(NEW.updated_at, NEW.created_at)
  FROM order_snapshots WHERE id = NEW.id AND NEW.status IS NOT OLD.status AND NEW.status != 'CREATED';
END;
