import type { TierListQuery } from '../schemas/promotions';
import { type AssignmentRow, TIER_TYPE, VOUCHER_VERSION_SQL } from './vouchers';
import { prepare, sql, type SqlValue } from './sql';

/**
 * Promotion tiers (migration 0030): rows of `vouchers` with type 'PROMOTION_TIER', id = code = the
 * tier id, campaign_id its PROMOTION campaign. This module writes and reads them as tiers; every
 * voucher query of db/ leaves them out (`NOT_A_TIER`, db/vouchers.ts).
 */
export { TIER_TYPE };

/** What a tier is written with: the columns of `vouchers` it uses. */
export interface TierWrite {
  id: string;
  campaign_id: string;
  campaign: string;
  name: string;
  banner: string | null;
  hierarchy: number | null;
  discount: string;
  active: number;
  start_date: number | null;
  expiration_date: number | null;
  validity_timeframe: string | null;
  validity_day_of_week: string | null;
  validity_hours: string | null;
  metadata: string;
  created_at: number;
}

/** A tier as read: its row, its campaign's fields the tier object shows, and its summary. */
export interface TierRow {
  id: string;
  name: string;
  banner: string | null;
  hierarchy: number;
  discount: string;
  active: number;
  start_date: number | null;
  expiration_date: number | null;
  validity_timeframe: string | null;
  validity_day_of_week: string | null;
  validity_hours: string | null;
  metadata: string;
  created_at: number;
  updated_at: number | null;
  redeemed_quantity: number;
  definition_version: string;
  campaign_id: string;
  campaign_start_date: number | null;
  campaign_expiration_date: number | null;
  campaign_validity_timeframe: string | null;
  campaign_validity_day_of_week: string | null;
  campaign_validity_hours: string | null;
  campaign_active: number;
  orders_total_amount: number;
  orders_total_discount_amount: number;
}

// The orders of a tier's redemptions that stand (not failed, not rolled back): OA PromotionTier.summary.orders.
const READ = `SELECT v.id, v.name, v.banner, v.hierarchy, v.discount, v.active, v.start_date, v.expiration_date,
    v.validity_timeframe, v.validity_day_of_week, v.validity_hours, v.metadata, v.created_at, v.updated_at,
    v.redeemed_quantity, ${VOUCHER_VERSION_SQL('v')} AS definition_version, v.campaign_id,
    c.start_date AS campaign_start_date, c.expiration_date AS campaign_expiration_date,
    c.validity_timeframe AS campaign_validity_timeframe, c.validity_day_of_week AS campaign_validity_day_of_week,
    c.validity_hours AS campaign_validity_hours, c.active AS campaign_active,
    coalesce((SELECT sum(r.amount) FROM redemptions r WHERE r.voucher_id = v.id AND r.object = 'redemption' AND r.status = 'SUCCEEDED'), 0) AS orders_total_amount,
    coalesce((SELECT sum(r.discount_amount) FROM redemptions r WHERE r.voucher_id = v.id AND r.object = 'redemption' AND r.status = 'SUCCEEDED'), 0) AS orders_total_discount_amount
  FROM vouchers v JOIN campaigns c ON c.id = v.campaign_id`;

/**
 * Writes a tier. Its hierarchy, when not given, is the next after the campaign's last tier (as
 * Voucherify numbers the tiers it is given in order).
 */
export function insertTier(db: D1Database, t: TierWrite): D1PreparedStatement {
  const hierarchy =
    t.hierarchy === null
      ? sql`(SELECT coalesce(max(hierarchy), 0) + 1 FROM vouchers WHERE campaign_id = ${t.campaign_id} AND type = ${TIER_TYPE})`
      : sql`${t.hierarchy}`;
  return prepare(
    db,
    sql`INSERT INTO vouchers (id, code, type, discount, quantity, redeemed_quantity, active, start_date, expiration_date,
         validity_timeframe, validity_day_of_week, validity_hours, additional_info, metadata, created_at, updated_at,
         campaign_id, campaign, name, banner, hierarchy)
       VALUES (${t.id}, ${t.id}, ${TIER_TYPE}, ${t.discount}, NULL, 0, ${t.active}, ${t.start_date}, ${t.expiration_date},
         ${t.validity_timeframe}, ${t.validity_day_of_week}, ${t.validity_hours}, NULL, ${t.metadata}, ${t.created_at}, NULL,
         ${t.campaign_id}, ${t.campaign}, ${t.name}, ${t.banner}, ${hierarchy})`,
  );
}

/** The rule assignment of a tier (OA related_object_type 'promotion_tier'). */
export function insertTierAssignment(db: D1Database, row: Omit<AssignmentRow, 'related_object_type'>): D1PreparedStatement {
  return prepare(
    db,
    sql`INSERT INTO validation_rule_assignments (id, rule_id, related_object_type, related_object_id, created_at)
       VALUES (${row.id}, ${row.rule_id}, 'promotion_tier', ${row.related_object_id}, ${row.created_at})`,
  );
}

export function findTier(db: D1Database, id: string): D1PreparedStatement {
  return prepare(db, sql`${sql.raw(READ)} WHERE v.id = ${id} AND v.type = ${TIER_TYPE}`);
}

export function assignmentsOfTiers(db: D1Database, ids: string[]): D1PreparedStatement {
  return db
    .prepare(
      'SELECT * FROM validation_rule_assignments WHERE related_object_id IN (SELECT value FROM json_each(?)) ORDER BY created_at, id',
    )
    .bind(JSON.stringify(ids));
}

/**
 * The tiers of campaigns in their order (OA PromotionTiersList: a campaign's `promotion`, GET
 * /v1/promotions/{campaignId}/tiers) and their rule assignments: one batch.
 */
export async function tiersOfCampaigns(db: D1Database, campaignIds: string[]): Promise<{ rows: TierRow[]; assignments: AssignmentRow[] }> {
  if (campaignIds.length === 0) return { rows: [], assignments: [] };
  const ids = JSON.stringify(campaignIds);
  const [rows, assignments] = await db.batch<Record<string, unknown>>([
    prepare(
      db,
      sql`${sql.raw(READ)} WHERE v.campaign_id IN (SELECT value FROM json_each(${ids})) AND v.type = ${TIER_TYPE}
         ORDER BY v.hierarchy, v.created_at, v.id`,
    ),
    prepare(
      db,
      sql`SELECT * FROM validation_rule_assignments
         WHERE related_object_id IN (SELECT id FROM vouchers WHERE campaign_id IN (SELECT value FROM json_each(${ids})) AND type = ${TIER_TYPE})
         ORDER BY created_at, id`,
    ),
  ]);
  return {
    rows: (rows?.results ?? []) as unknown as TierRow[],
    assignments: (assignments?.results ?? []) as unknown as AssignmentRow[],
  };
}

// Tiers written together (a campaign's create) share created_at: then their campaign's order and hierarchy.
const ORDER_BY: Record<TierListQuery['order'], string> = {
  created_at: 'v.created_at ASC, c.created_at ASC, c.id ASC, v.hierarchy ASC, v.id ASC',
  '-created_at': 'v.created_at DESC, c.created_at DESC, c.id DESC, v.hierarchy DESC, v.id DESC',
  updated_at: 'v.updated_at ASC NULLS FIRST, v.created_at ASC, v.hierarchy ASC, v.id ASC',
  '-updated_at': 'v.updated_at DESC NULLS LAST, v.created_at DESC, v.hierarchy DESC, v.id DESC',
};

/**
 * One page of all tiers (GET /v1/promotions/tiers), one more row than the page to answer has_more,
 * their assignments and the total: one batch. `available`: active tiers of active campaigns whose
 * dates (the tier's and the campaign's) hold `now` (OA is_available: "non-expired and active").
 */
export async function listTiers(db: D1Database, q: TierListQuery, now: number) {
  const available = q.available
    ? sql`AND v.active = 1 AND c.active = 1
          AND (v.start_date IS NULL OR v.start_date <= ${now}) AND (v.expiration_date IS NULL OR v.expiration_date > ${now})
          AND (c.start_date IS NULL OR c.start_date <= ${now}) AND (c.expiration_date IS NULL OR c.expiration_date > ${now})`
    : sql.raw('');
  const where = sql`WHERE v.type = ${TIER_TYPE} ${available}`;
  const page = sql`${sql.raw(READ)} ${where} ORDER BY ${sql.raw(ORDER_BY[q.order])} LIMIT ${q.limit + 1} OFFSET ${(q.page - 1) * q.limit}`;
  const [rows, count, assignments] = await db.batch<Record<string, unknown>>([
    prepare(db, page),
    prepare(db, sql`SELECT count(*) AS total FROM vouchers v JOIN campaigns c ON c.id = v.campaign_id ${where}`),
    prepare(
      db,
      sql`SELECT * FROM validation_rule_assignments WHERE related_object_id IN (SELECT id FROM (${page})) ORDER BY created_at, id`,
    ),
  ]);
  return {
    rows: (rows?.results ?? []) as unknown as TierRow[],
    total: Number(count?.results[0]?.total ?? 0),
    assignments: (assignments?.results ?? []) as unknown as AssignmentRow[],
  };
}

export type TierPatch = Partial<
  Pick<
    TierWrite,
    | 'name'
    | 'banner'
    | 'hierarchy'
    | 'discount'
    | 'active'
    | 'start_date'
    | 'expiration_date'
    | 'validity_timeframe'
    | 'validity_day_of_week'
    | 'validity_hours'
    | 'metadata'
  >
>;

/** Updates a tier; its definition version moves by migration 0030's trigger. RETURNING its id: none when no such tier. */
export function updateTier(db: D1Database, id: string, patch: TierPatch, now: number): D1PreparedStatement {
  // Column names come from the TierPatch keys the service sets, never from input.
  const set = Object.entries(patch).filter(([, v]) => v !== undefined) as [string, SqlValue][];
  return prepare(
    db,
    sql`UPDATE vouchers SET ${sql.assignments([...set, ['updated_at', now]])} WHERE id = ${id} AND type = ${TIER_TYPE} RETURNING id`,
  );
}

/** Deletes a tier; its rule assignments go with it (ON DELETE CASCADE), its redemptions stay in the ledger. */
export function deleteTier(db: D1Database, id: string): D1PreparedStatement {
  return prepare(db, sql`DELETE FROM vouchers WHERE id = ${id} AND type = ${TIER_TYPE} RETURNING id`);
}
