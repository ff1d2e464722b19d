// Members of a 10-condition segment over 100,000 generated customers in local D1 (Miniflare, the
// runtime of `wrangler dev`): compileSql() in the database against loading every customer and
// running evaluate() in JavaScript. Prints both times and the ratio.
import { migratedD1 } from './support/migrated-d1';
import { compileSql, evaluate, parseFilter } from '../shared/filter';
import { type CustomerRow } from '../worker/src/db/customers';
import { type BenchRow, formatCount } from './table';
import { tenConditionFilter } from './support/ten-condition-filter';
import { rowToCustomer } from '../worker/src/views/customer';

const CUSTOMERS = 100_000;
const now = Date.UTC(2026, 5, 15, 12);
const DAY = 86_400_000;

export async function run(): Promise<BenchRow[]> {
  const { mf, db } = await migratedD1();

  // Generated in SQL so that setup takes seconds: a spread of cities, tiers, ages, orders and dates.
  const t0 = performance.now();
  await db
    .prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO customers (id, source_id, name, email, address_city, address_country, metadata,
                              orders_total_amount, orders_total_count, orders_last_order_date, created_at)
       SELECT 'cust_' || i, 'src_' || i, 'Customer ' || i,
              'c' || i || CASE i % 3 WHEN 0 THEN '@example.com' WHEN 1 THEN '@example.org' ELSE '@mail.test' END,
              CASE i % 5 WHEN 0 THEN 'Berlin' WHEN 1 THEN 'Warsaw' WHEN 2 THEN 'Paris' WHEN 3 THEN 'Rome' ELSE NULL END,
              CASE i % 4 WHEN 0 THEN 'Germany' WHEN 1 THEN 'Poland' ELSE 'France' END,
              json_object('tier', CASE i % 4 WHEN 0 THEN 'gold' WHEN 1 THEN 'silver' WHEN 2 THEN 'platinum' ELSE 'bronze' END,
                          'age', 18 + i % 60, 'newsletter', json(CASE i % 2 WHEN 0 THEN 'true' ELSE 'false' END)),
              (i * 7919) % 100000, i % 12, CASE WHEN i % 7 = 0 THEN NULL ELSE ? - (i % 90) * ? END,
              ? + i
       FROM n`,
    )
    .bind(CUSTOMERS, now, DAY, now - 400 * DAY)
    .run();
  console.log(`generated ${CUSTOMERS.toLocaleString('en')} customers in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const ast = parseFilter(tenConditionFilter('2026-06-01T00:00:00.000Z'));

  async function median(label: string, fn: () => Promise<number>, runs = 3): Promise<{ ms: number; count: number }> {
    const times: number[] = [];
    let count = 0;
    for (let r = 0; r < runs; r++) {
      const start = performance.now();
      count = await fn();
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    const ms = times[Math.floor(runs / 2)] ?? 0;
    console.log(`${label}: ${ms.toFixed(0)} ms (median of ${runs}), ${count.toLocaleString('en')} members`);
    return { ms, count };
  }

  const sqlPath = await median('compileSql, in D1', async () => {
    const { sql, params } = compileSql(ast, now);
    const { results } = await db
      .prepare(`SELECT id FROM customers c WHERE ${sql}`)
      .bind(...params)
      .all();
    return results.length;
  });
  let evaluateMs = 0;
  const jsPath = await median('load all + evaluate() in JS', async () => {
    const { results } = await db.prepare('SELECT * FROM customers').all<CustomerRow>();
    const start = performance.now();
    let members = 0;
    for (const row of results) if (evaluate(ast, { ...rowToCustomer(row), events: {} }, now)) members++;
    evaluateMs = performance.now() - start;
    return members;
  });
  console.log(
    `  of which mapping + evaluate() of the loaded rows: ${evaluateMs.toFixed(0)} ms (the rest is moving 100,000 rows out of D1)`,
  );

  if (sqlPath.count !== jsPath.count) throw new Error(`back ends disagree: ${sqlPath.count} vs ${jsPath.count}`);
  console.log(`ratio (JS path / SQL path): ${(jsPath.ms / sqlPath.ms).toFixed(1)}x faster in SQL`);
  await mf.dispose();
  return [
    {
      area: 'Segments',
      measure: `members of a 10-condition segment over ${formatCount(CUSTOMERS)} customers, compileSql() in D1`,
      value: `${sqlPath.ms.toFixed(0)} ms (${formatCount(sqlPath.count)} members)`,
    },
    {
      area: 'Segments',
      measure: 'the same, loading all rows + evaluate() in JS',
      value: `${jsPath.ms.toFixed(0)} ms (evaluate alone ${evaluateMs.toFixed(0)} ms)`,
    },
    { area: 'Segments', measure: 'ratio JS / SQL', value: `${(jsPath.ms / sqlPath.ms).toFixed(1)}x` },
  ];
}
