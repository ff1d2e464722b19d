import type { StackListQuery } from '../schemas/promotion-stacks';
import { TIER_TYPE, VOUCHER_VERSION_SQL } from './vouchers';
import { prepare, type Sql, sql } from './sql';

/**
 * Promotion stacks (migration 0032): a named, ordered group of the tiers of one PROMOTION
 * campaign. The tiers are rows of `promotion_stack_tiers` in the stack's order, so a tier's delete
 * takes it out of its stacks and a campaign's delete removes its stacks (both ON DELETE CASCADE).
 */

export interface StackRow {
  id: string;
  campaign_id: string;
  name: string;
  hierarchy_mode: string;
  created_at: number;
  updated_at: number | null;
  /** The tier ids in the stack's order, as a JSON array. */
  tier_ids: string;
}

// The tier ids in the stack's order, read with the stack (one row per stack).
const READ = `SELECT s.id, s.campaign_id, s.name, s.hierarchy_mode, s.created_at, s.updated_at,
    (SELECT coalesce(json_group_array(tier_id), '[]') FROM (SELECT tier_id FROM promotion_stack_tiers t WHERE t.stack_id = s.id ORDER BY t.position)) AS tier_ids
  FROM promotion_stacks s`;

export const parseTierIds = (row: StackRow): string[] => JSON.parse(row.tier_ids) as string[];

/** Which of these ids are tiers of the campaign: the check of a stack's tiers before it is written. */
export async function tiersOfCampaign(db: D1Database, campaignId: string, ids: string[]): Promise<Map<string, string>> {
  const { results } = await prepare(
    db,
    sql`SELECT id, campaign_id FROM vouchers WHERE id IN (SELECT value FROM json_each(${JSON.stringify(ids)})) AND type = ${TIER_TYPE}`,
  ).all<{ id: string; campaign_id: string }>();
  return new Map(results.map((r) => [r.id, r.campaign_id]));
}

/** The stack's tiers in the order given: one statement whatever their number. */
function insertTiers(db: D1Database, stackId: string, tierIds: string[]): D1PreparedStatement {
  return prepare(
    db,
    sql`INSERT INTO promotion_stack_tiers (stack_id, tier_id, position)
       SELECT ${stackId}, value, key FROM json_each(${JSON.stringify(tierIds)})`,
  );
}

/** A new stack and its tiers: the statements of one batch. */
export function insertStack(
  db: D1Database,
  s: { id: string; campaign_id: string; name: string; hierarchy_mode: string; created_at: number },
  tierIds: string[],
): D1PreparedStatement[] {
  return [
    prepare(
      db,
      sql`INSERT INTO promotion_stacks (id, campaign_id, name, hierarchy_mode, created_at, updated_at)
         VALUES (${s.id}, ${s.campaign_id}, ${s.name}, ${s.hierarchy_mode}, ${s.created_at}, NULL)`,
    ),
    insertTiers(db, s.id, tierIds),
  ];
}

/**
 * A stack's change: its name, and its tiers replaced when given; the statements of one batch. The
 * first returns the stack's id (none: no such stack in that campaign), so the caller tells a
 * missing stack from a done change.
 */
export function updateStack(
  db: D1Database,
  id: string,
  campaignId: string,
  patch: { name?: string; hierarchy_mode?: string },
  tierIds: string[] | undefined,
  now: number,
): D1PreparedStatement[] {
  const set: [string, string | number][] = [['updated_at', now]];
  if (patch.name !== undefined) set.push(['name', patch.name]);
  if (patch.hierarchy_mode !== undefined) set.push(['hierarchy_mode', patch.hierarchy_mode]);
  const statements = [
    prepare(db, sql`UPDATE promotion_stacks SET ${sql.assignments(set)} WHERE id = ${id} AND campaign_id = ${campaignId} RETURNING id`),
  ];
  if (tierIds !== undefined) {
    statements.push(
      prepare(
        db,
        sql`DELETE FROM promotion_stack_tiers WHERE stack_id = (SELECT id FROM promotion_stacks WHERE id = ${id} AND campaign_id = ${campaignId})`,
      ),
      prepare(
        db,
        sql`INSERT INTO promotion_stack_tiers (stack_id, tier_id, position)
           SELECT s.id, j.value, j.key FROM promotion_stacks s, json_each(${JSON.stringify(tierIds)}) j
           WHERE s.id = ${id} AND s.campaign_id = ${campaignId}`,
      ),
    );
  }
  return statements;
}

/** Deletes a stack of a campaign (its tier rows go with it); RETURNING its id: none when no such stack. */
export function deleteStack(db: D1Database, id: string, campaignId: string): D1PreparedStatement {
  return prepare(db, sql`DELETE FROM promotion_stacks WHERE id = ${id} AND campaign_id = ${campaignId} RETURNING id`);
}

/** One stack, of a campaign when one is named. */
export function findStack(db: D1Database, id: string, campaignId?: string): Promise<StackRow | null> {
  const ofCampaign = campaignId === undefined ? sql.raw('') : sql`AND s.campaign_id = ${campaignId}`;
  return prepare(db, sql`${sql.raw(READ)} WHERE s.id = ${id} ${ofCampaign}`).first<StackRow>();
}

/** Every stack of a campaign, oldest first (OA list-promotion-stacks-in-campaign takes no paging). */
export async function stacksOfCampaign(db: D1Database, campaignId: string): Promise<StackRow[]> {
  const { results } = await prepare(
    db,
    sql`${sql.raw(READ)} WHERE s.campaign_id = ${campaignId} ORDER BY s.created_at, s.id`,
  ).all<StackRow>();
  return results;
}

// ORDER BY clauses of GET /v1/promotions/stacks (OA ParameterOrderListAllPromotionStacks), the id last for a stable page.
const ORDER_BY: Record<StackListQuery['order'], string> = {
  created_at: 's.created_at ASC, s.id ASC',
  '-created_at': 's.created_at DESC, s.id DESC',
  updated_at: 's.updated_at ASC NULLS FIRST, s.created_at ASC, s.id ASC',
  '-updated_at': 's.updated_at DESC NULLS LAST, s.created_at DESC, s.id DESC',
  name: 's.name ASC, s.id ASC',
  '-name': 's.name DESC, s.id DESC',
};

/** One page of every campaign's stacks (GET /v1/promotions/stacks) and the total: one batch. */
export async function listStacks(db: D1Database, q: StackListQuery): Promise<{ rows: StackRow[]; total: number }> {
  const where: Sql[] = [];
  if (q.created_at?.after !== undefined) where.push(sql`s.created_at > ${q.created_at.after}`);
  if (q.created_at?.before !== undefined) where.push(sql`s.created_at < ${q.created_at.before}`);
  if (q.updated_at?.after !== undefined) where.push(sql`s.updated_at > ${q.updated_at.after}`);
  if (q.updated_at?.before !== undefined) where.push(sql`s.updated_at < ${q.updated_at.before}`);
  const filter = sql.join(where, 'AND');
  const [rows, count] = await db.batch<Record<string, unknown>>([
    prepare(
      db,
      sql`${sql.raw(READ)} WHERE ${filter} ORDER BY ${sql.raw(ORDER_BY[q.order])} LIMIT ${q.limit} OFFSET ${(q.page - 1) * q.limit}`,
    ),
    prepare(db, sql`SELECT count(*) AS total FROM promotion_stacks s WHERE ${filter}`),
  ]);
  return { rows: (rows?.results ?? []) as unknown as StackRow[], total: Number(count?.results[0]?.total ?? 0) };
}

/**
 * The live state of a stack's tiers in the stack's order, as selectLiveVouchers (db/vouchers.ts)
 * reads codes: a statement of the visitor batch (db/tracking.ts), so a stack at checkout costs no
 * read of its own.
 */
export function selectStackLiveVouchers(db: D1Database, stackId: string): D1PreparedStatement {
  return db
    .prepare(
      `SELECT v.id, v.code, v.type, v.quantity, v.redeemed_quantity, v.active, ${VOUCHER_VERSION_SQL('v')} AS definition_version, v.holder_id
       FROM promotion_stack_tiers st JOIN vouchers v ON v.id = st.tier_id
       WHERE st.stack_id = ? AND v.type = ? ORDER BY st.position`,
    )
    .bind(stackId, TIER_TYPE);
}

/** Whether the stack exists (a stack whose tiers were all deleted still does): the visitor batch's last statement. */
export function selectStackExists(db: D1Database, stackId: string): D1PreparedStatement {
  return prepare(db, sql`SELECT id FROM promotion_stacks WHERE id = ${stackId}`);
}
