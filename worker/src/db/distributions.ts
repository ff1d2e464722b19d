import { type KeysetRange, rangePredicate } from './customers';
import { prepare, type Sql, sql } from './sql';
import { NOT_A_TIER } from './vouchers';

/** A segment-wide distribution of a campaign's codes (migration 0018). */
export interface DistributionRow {
  id: string;
  campaign_id: string;
  segment_id: string;
  join_once: number;
  status: 'IN_PROGRESS' | 'DONE' | 'FAILED';
  cursor: number;
  customers_total: number;
  customers_walked: number;
  published: number;
  skipped: number;
  failed: number;
  created_at: number;
  updated_at: number;
}

export function insertDistribution(
  db: D1Database,
  d: { id: string; campaignId: string; segmentId: string; joinOnce: boolean; cursor: number; now: number },
): D1PreparedStatement {
  return prepare(
    db,
    sql`INSERT INTO distributions (id, campaign_id, segment_id, join_once, cursor, customers_total, created_at, updated_at)
       VALUES (${d.id}, ${d.campaignId}, ${d.segmentId}, ${d.joinOnce ? 1 : 0}, ${d.cursor}, (SELECT count(*) FROM customers), ${d.now}, ${d.now})`,
  );
}

export function findDistribution(db: D1Database, id: string): Promise<DistributionRow | null> {
  return db.prepare('SELECT * FROM distributions WHERE id = ?').bind(id).first<DistributionRow>();
}

export function endDistribution(db: D1Database, id: string, status: 'DONE' | 'FAILED', now: number): D1PreparedStatement {
  return prepare(
    db,
    sql`UPDATE distributions SET status = ${status}, updated_at = ${now} WHERE id = ${id} AND status = 'IN_PROGRESS' RETURNING *`,
  );
}

/** What one step needs: the distribution where it stands, its members' predicate, the range of customers. */
export interface DistributionStep {
  distribution: DistributionRow;
  members: Sql;
  range: KeysetRange;
  now: number;
}

/**
 * One step of a distribution over the customers of one keyset range, as one batch (one D1
 * transaction). Every statement holds only while the distribution's cursor is the one the step
 * started from (`guard`); the last one moves it. So a step runs once, however often its message is
 * delivered or however many consumers run it at once: the second finds the cursor moved and changes
 * nothing. Within the step, as in a single publication (db/publications.ts publishStatements):
 *
 * 1. the members of the range and, with join_once, which of them hold a code of the campaign already (skipped);
 * 2. the insert pairs each other member with a distinct code nobody holds (row numbers over the
 *    members and over the campaign's free codes), so no code goes to two members and, D1 running
 *    batches one after another, no concurrent publication can take one of them between choice and claim;
 * 3. the codes get their holders;
 * 4. the counts (a member without a free code: failed) and the cursor at the range's end; DONE
 *    when the range reached the last customer. RETURNING the distribution.
 */
export function distributionStepStatements(db: D1Database, step: DistributionStep): D1PreparedStatement[] {
  const { distribution: d, members, range, now } = step;
  const guard = sql`EXISTS (SELECT 1 FROM distributions WHERE id = ${d.id} AND cursor = ${d.cursor} AND status = 'IN_PROGRESS')`;
  const inRange = rangePredicate(range);
  const holds = sql`EXISTS (SELECT 1 FROM vouchers h WHERE h.campaign_id = ${d.campaign_id} AND h.holder_id = c.id)`;
  const membersOfRange = sql`FROM customers c WHERE ${inRange} AND coalesce((${members}), 0)`;
  const joinOnce = d.join_once === 1;
  const count = prepare(
    db,
    sql`UPDATE distributions SET
         step_members = (SELECT count(*) ${membersOfRange}),
         step_skipped = ${joinOnce ? sql`(SELECT count(*) ${membersOfRange} AND ${holds})` : sql.raw('0')}
       WHERE id = ${d.id} AND cursor = ${d.cursor} AND status = 'IN_PROGRESS'`,
  );
  const publish = prepare(
    db,
    sql`WITH m AS (
         SELECT c.id, row_number() OVER (ORDER BY c.created_at) AS n ${membersOfRange}
           ${joinOnce ? sql`AND NOT ${holds}` : sql.raw('')} AND ${guard}
       ),
       f AS (
         SELECT v.id, row_number() OVER (ORDER BY v.rowid) AS n FROM vouchers v
         WHERE v.campaign_id = ${d.campaign_id} AND v.holder_id IS NULL AND ${sql.raw(NOT_A_TIER('v'))} ORDER BY v.rowid LIMIT (SELECT count(*) FROM m)
       )
       INSERT INTO publications (id, voucher_id, customer_id, campaign_id, source_id, channel, metadata, created_at, distribution_id)
       SELECT 'pub_' || lower(hex(randomblob(12))), f.id, m.id, ${d.campaign_id}, NULL, 'API', '{}', ${now}, ${d.id} FROM m JOIN f ON f.n = m.n`,
  );
  const claim = prepare(
    db,
    sql`UPDATE vouchers SET updated_at = ${now}, publish_count = publish_count + 1,
         holder_id = (SELECT p.customer_id FROM publications p WHERE p.voucher_id = vouchers.id AND p.distribution_id = ${d.id} AND p.created_at = ${now})
       WHERE holder_id IS NULL AND id IN (SELECT voucher_id FROM publications WHERE distribution_id = ${d.id} AND created_at = ${now})`,
  );
  const dir = sql.raw(range.descending ? 'DESC' : 'ASC');
  const keys = sql`SELECT created_at AS k FROM customers WHERE created_at ${sql.raw(range.descending ? '<' : '>')} ${d.cursor} ORDER BY created_at ${dir} LIMIT ${range.size}`;
  const stepPublished = sql`(SELECT count(*) FROM publications WHERE distribution_id = ${d.id} AND created_at = ${now})`;
  const advance = prepare(
    db,
    sql`UPDATE distributions SET
         published = published + ${stepPublished},
         skipped = skipped + step_skipped,
         failed = failed + step_members - step_skipped - ${stepPublished},
         customers_walked = customers_walked + (SELECT count(*) FROM (${keys})),
         status = CASE WHEN (SELECT count(*) FROM (${keys})) < ${range.size} THEN 'DONE' ELSE status END,
         cursor = coalesce((SELECT ${sql.raw(range.descending ? 'min' : 'max')}(k) FROM (${keys})), cursor),
         step_members = 0, step_skipped = 0, updated_at = ${now}
       WHERE id = ${d.id} AND cursor = ${d.cursor} AND status = 'IN_PROGRESS'
       RETURNING *`,
  );
  return [count, publish, claim, advance];
}
