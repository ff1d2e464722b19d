const DAY = 86_400_000;

/**
 * One SQL statement that inserts `count` customers with the spread the segment benchmarks judge
 * (tenConditionFilter matches about 1.5 % of them): cities, countries, tiers, ages, order totals
 * and counts, last orders within 90 days or none, created one ms apart from 400 days before `now`.
 */
export const customerSpreadSql = (
  count: number,
  now: number,
): string => `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${count})
  INSERT INTO customers (id, source_id, name, email, address_city, address_country, metadata,
                         orders_total_amount, orders_total_count, orders_last_order_date, created_at)
  SELECT 'cust_' || i, 'src_' || i, 'Customer ' || i,
         'c' || i || CASE i % 3 WHEN 0 THEN '@example.com' WHEN 1 THEN '@example.org' ELSE '@mail.test' END,
         CASE i % 5 WHEN 0 THEN 'Berlin' WHEN 1 THEN 'Warsaw' WHEN 2 THEN 'Paris' WHEN 3 THEN 'Rome' ELSE NULL END,
         CASE i % 4 WHEN 0 THEN 'Germany' WHEN 1 THEN 'Poland' ELSE 'France' END,
         json_object('tier', CASE i % 4 WHEN 0 THEN 'gold' WHEN 1 THEN 'silver' WHEN 2 THEN 'platinum' ELSE 'bronze' END,
                     'age', 18 + i % 60),
         (i * 7919) % 100000, i % 12, CASE WHEN i % 7 = 0 THEN NULL ELSE ${now} - (i % 90) * ${DAY} END,
         ${now - 400 * DAY} + i
  FROM n`;
