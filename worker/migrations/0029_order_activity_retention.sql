-- The customer activity of orders (order_activities, migration 0028) is activity like the raw
-- events: each row holds a snapshot of the order (about 600 B with its indexes, two rows for a
-- paid order), while the order itself and the summary and product counts derived from it stay in
-- `orders` and `customer_products`. So its rows follow the raw events' window: the retention cron
-- archives them to R2 with the events of their hour and then deletes them
-- (services/event-retention.ts). This index finds the oldest without a scan.
CREATE INDEX order_activities_created ON order_activities (created_at);
