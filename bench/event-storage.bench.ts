// Bytes stored per raw event row and per event counter row, in local D1 (Miniflare, the runtime of
// `wrangler dev`), with the project's migrations. D1 refuses dbstat and PRAGMA page_count, so each
// figure is the growth of the database file (D1's meta.size_after) over a bulk insert, divided by
// the rows inserted: the table and its indexes together, as D1 bills and caps them.
//   raw event, today:    an events row with its primary key and two indexes, the counter trigger
//                        dropped so only the raw row is measured;
//   raw event, before:   the same with the migrations before the counters (the (profile_id, type)
//                        index, which counting by type needed, instead of (created_at));
//   counter:             an event_counters row (WITHOUT ROWID, primary key (profile_id, type));
//   event with counter:  an insert through the trigger, 10 events per counter, as the service writes.
// Ids, types and metadata are shaped like real ones (evcus_ + 24, cust_ + 24, a short JSON object).
import { migratedD1 } from './support/migrated-d1';
import { type BenchRow, formatCount } from './table';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 200_000);
const PROFILES = EVENTS / 20;
const TYPES = 2;
const now = Date.UTC(2026, 11, 1);

const size = async (db: D1Database) => Number((await db.prepare('SELECT 1').run()).meta.size_after);

/** `n` events over PROFILES profiles and TYPES types, in one statement (a recursive CTE). */
const insertEvents = (db: D1Database, n: number) =>
  db
    .prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
       INSERT INTO events (id, profile_id, type, metadata, created_at)
       SELECT printf('evcus_%024d', i), printf('cust_%024d', i % ?2), CASE (i / ?2) % ?3 WHEN 0 THEN 'viewed_product' ELSE 'cart_abandoned' END,
              json_object('sku', 'sku_' || (i % 997), 'qty', i % 5), ?4 + i * 1000
       FROM n`,
    )
    .bind(n, PROFILES, TYPES, now)
    .run();

async function bytesPerRow(
  upTo: string,
  prepare: (db: D1Database) => Promise<unknown>,
  insert: (db: D1Database) => Promise<unknown>,
  rows: number,
) {
  const { mf, db } = await migratedD1(upTo);
  try {
    await prepare(db);
    const before = await size(db);
    await insert(db);
    return ((await size(db)) - before) / rows;
  } finally {
    await mf.dispose();
  }
}

export async function run(): Promise<BenchRow[]> {
  const noop = async () => undefined;
  const dropTrigger = (db: D1Database) => db.prepare('DROP TRIGGER event_counters_count').run();
  const rawNow = await bytesPerRow('9999', dropTrigger, (db) => insertEvents(db, EVENTS), EVENTS);
  const rawBefore = await bytesPerRow('0025_console_session_revocations.sql', noop, (db) => insertEvents(db, EVENTS), EVENTS);
  const counters = PROFILES * TYPES;
  const counter = await bytesPerRow(
    '9999',
    noop,
    (db) =>
      db
        .prepare(
          `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 - 1)
           INSERT INTO event_counters (profile_id, type, count, first_at, last_at)
           SELECT printf('cust_%024d', i / ?2), CASE i % ?2 WHEN 0 THEN 'viewed_product' ELSE 'cart_abandoned' END, 10 + i % 7, ?3, ?3 + i
           FROM n`,
        )
        .bind(counters, TYPES, now)
        .run(),
    counters,
  );
  const withCounter = await bytesPerRow('9999', noop, (db) => insertEvents(db, EVENTS), EVENTS);
  const rows: BenchRow[] = [
    { area: 'event storage', measure: `raw event row, with its indexes (${formatCount(EVENTS)} rows)`, value: `${rawNow.toFixed(0)} B` },
    { area: 'event storage', measure: 'raw event row before the counters (index by type)', value: `${rawBefore.toFixed(0)} B` },
    { area: 'event storage', measure: `counter row (${formatCount(counters)} rows)`, value: `${counter.toFixed(0)} B` },
    { area: 'event storage', measure: 'raw event + its share of a counter (10 events per counter)', value: `${withCounter.toFixed(0)} B` },
    {
      area: 'event storage',
      measure: 'past the retention window, per event',
      value: `${(counter / 10).toFixed(1)} B at 10 events per counter (0 B for the raw row)`,
    },
  ];
  for (const r of rows) console.log(`${r.measure}: ${r.value}`);
  return rows;
}
