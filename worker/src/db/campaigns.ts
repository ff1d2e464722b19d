import type { Discount } from '../../../shared/types';
import type { CampaignListQuery, CodeConfig } from '../schemas/campaigns';
import { prepare, type Sql, sql, type SqlValue } from './sql';
import { NOT_A_TIER } from './vouchers';

/** A campaign's code template as stored (migration 0017). */
export interface CampaignTemplate {
  type: 'DISCOUNT_VOUCHER';
  discount: Discount;
  redemption: { quantity: number | null };
  code_config: CodeConfig;
}

export interface CampaignRow {
  id: string;
  name: string;
  description: string | null;
  /** Migration 0030: a PROMOTION campaign holds promotion tiers instead of codes (db/promotion-tiers.ts). */
  campaign_type: 'DISCOUNT_COUPONS' | 'PROMOTION';
  type: 'AUTO_UPDATE' | 'STATIC';
  join_once: number;
  voucher: string;
  start_date: number | null;
  expiration_date: number | null;
  validity_timeframe: string | null;
  validity_day_of_week: string | null;
  validity_hours: string | null;
  active: number;
  metadata: string;
  generation_target: number;
  generated_count: number;
  generation_status: 'IN_PROGRESS' | 'DONE' | 'FAILED';
  generation_action_id: string | null;
  definition_version: string;
  created_at: number;
  updated_at: number | null;
  /** Migration 0031: 1 when the campaign's codes nobody holds are offered to anyone (qualifications); absent: 0. */
  public?: number;
}

/** A campaign with what reads add: its codes, counted (the index on vouchers.campaign_id). */
export type CampaignRead = CampaignRow & { vouchers_count: number };

export const templateOf = (row: Pick<CampaignRow, 'voucher'>): CampaignTemplate => JSON.parse(row.voucher) as CampaignTemplate;

/** Campaign-level rule assignments, as the spec's assignment object (related_object_type 'campaign'). */
export interface CampaignAssignmentRow {
  id: string;
  rule_id: string;
  campaign_id: string;
  created_at: number;
}

// A promotion's tiers are rows of vouchers too (migration 0030), but not codes: never counted as such.
const READ = `SELECT c.*, (SELECT count(*) FROM vouchers v WHERE v.campaign_id = c.id AND ${NOT_A_TIER('v')}) AS vouchers_count FROM campaigns c`;

export function insertCampaign(db: D1Database, row: CampaignRow): D1PreparedStatement {
  return prepare(
    db,
    sql`INSERT INTO campaigns (id, name, description, campaign_type, type, join_once, voucher, start_date, expiration_date, validity_timeframe,
         validity_day_of_week, validity_hours, active, metadata, generation_target, generated_count, generation_status, created_at, updated_at, public)
       VALUES (${row.id}, ${row.name}, ${row.description}, ${row.campaign_type}, ${row.type}, ${row.join_once}, ${row.voucher}, ${row.start_date}, ${row.expiration_date}, ${row.validity_timeframe}, ${row.validity_day_of_week}, ${row.validity_hours}, ${row.active}, ${row.metadata}, ${row.generation_target}, 0, ${row.generation_status}, ${row.created_at}, NULL, ${row.public ?? 0})`,
  );
}

/** By id, else by name (the path takes either: OA /v1/campaigns/{campaignId}). */
export function findCampaign(db: D1Database, idOrName: string): D1PreparedStatement {
  return prepare(db, sql`${sql.raw(READ)} WHERE c.id = ${idOrName} OR c.name = ${idOrName} ORDER BY c.id = ${idOrName} DESC LIMIT 1`);
}

export function assignmentsOfCampaign(db: D1Database, campaignId: string): D1PreparedStatement {
  return db.prepare('SELECT * FROM campaign_rule_assignments WHERE campaign_id = ? ORDER BY created_at, id').bind(campaignId);
}

export function insertCampaignAssignment(db: D1Database, row: CampaignAssignmentRow): D1PreparedStatement {
  return prepare(
    db,
    sql`INSERT INTO campaign_rule_assignments (id, rule_id, campaign_id, created_at) VALUES (${row.id}, ${row.rule_id}, ${row.campaign_id}, ${row.created_at})`,
  );
}

const ORDER_BY: Record<CampaignListQuery['order'], string> = {
  created_at: 'c.created_at ASC, c.id ASC',
  '-created_at': 'c.created_at DESC, c.id DESC',
  updated_at: 'c.updated_at ASC NULLS FIRST, c.created_at ASC, c.id ASC',
  '-updated_at': 'c.updated_at DESC NULLS LAST, c.created_at DESC, c.id DESC',
  name: 'c.name ASC',
  '-name': 'c.name DESC',
};

/** One page of campaigns, their rule assignments and the total: one batch. */
export async function listCampaigns(db: D1Database, q: CampaignListQuery) {
  const parts: Sql[] = [];
  if (q.typeFilter !== undefined) parts.push(sql`c.campaign_type = ${q.typeFilter}`);
  if (q.status !== undefined) parts.push(sql`c.generation_status = ${q.status}`);
  if (q.matchesNone) parts.push(sql.raw('0'));
  const where = parts.length ? sql`WHERE ${sql.join(parts, 'AND')}` : sql.raw('');
  const page = sql`${sql.raw(READ)} ${where} ORDER BY ${sql.raw(ORDER_BY[q.order])} LIMIT ${q.limit} OFFSET ${(q.page - 1) * q.limit}`;
  const [rows, count, assignments] = await db.batch<Record<string, unknown>>([
    prepare(db, page),
    prepare(db, sql`SELECT count(*) AS total FROM campaigns c ${where}`),
    prepare(db, sql`SELECT * FROM campaign_rule_assignments WHERE campaign_id IN (SELECT id FROM (${page})) ORDER BY created_at, id`),
  ]);
  return {
    rows: (rows?.results ?? []) as unknown as CampaignRead[],
    total: Number(count?.results[0]?.total ?? 0),
    assignments: (assignments?.results ?? []) as unknown as CampaignAssignmentRow[],
  };
}

type CampaignPatch = Partial<
  Pick<
    CampaignRow,
    | 'description'
    | 'type'
    | 'join_once'
    | 'voucher'
    | 'start_date'
    | 'expiration_date'
    | 'validity_timeframe'
    | 'validity_day_of_week'
    | 'validity_hours'
    | 'metadata'
    | 'public'
  >
>;

/**
 * A campaign's switch (POST /v1/campaigns/{id}/enable|disable): its `active` flag alone. Its codes
 * and tiers keep their own flags: the judge refuses them while their campaign is off, and migration
 * 0030's trigger moves the campaign's version, which is part of each of their definition versions,
 * so the next request of any of them reads the new state. A campaign already in that state is not
 * written (no version moved, no cache emptied, nothing for an update trigger to report).
 */
export function setCampaignActive(db: D1Database, id: string, active: boolean, now: number): D1PreparedStatement {
  const flag = active ? 1 : 0;
  return prepare(db, sql`UPDATE campaigns SET active = ${flag}, updated_at = ${now} WHERE id = ${id} AND active != ${flag}`);
}

/**
 * A campaign's update and its write-through to its codes, in one batch: the fields the codes copy
 * (dates, validity windows, discount) are set on every code, whose definitions move on by
 * migration 0012's trigger. `codePatch` holds only those, already as stored.
 */
export function updateCampaign(
  db: D1Database,
  id: string,
  patch: CampaignPatch,
  codePatch: Partial<
    Record<
      'start_date' | 'expiration_date' | 'validity_timeframe' | 'validity_day_of_week' | 'validity_hours' | 'discount',
      string | number | null
    >
  >,
  now: number,
): D1PreparedStatement[] {
  // Column names come from the patch keys the service sets, never from input.
  const set = Object.entries(patch).filter(([, v]) => v !== undefined) as [string, SqlValue][];
  const statements = [prepare(db, sql`UPDATE campaigns SET ${sql.assignments([...set, ['updated_at', now]])} WHERE id = ${id}`)];
  const codeSet = Object.entries(codePatch).filter(([, v]) => v !== undefined) as [string, SqlValue][];
  if (codeSet.length > 0) {
    // A promotion's tiers keep dates and windows of their own (migration 0030): never written through.
    statements.push(
      prepare(
        db,
        sql`UPDATE vouchers SET ${sql.assignments([...codeSet, ['updated_at', now]])} WHERE campaign_id = ${id} AND ${sql.raw(NOT_A_TIER())}`,
      ),
    );
  }
  return statements;
}

/** Deletes the campaign; its codes, their assignments and publications go with it (ON DELETE CASCADE). */
export function deleteCampaign(db: D1Database, id: string): D1PreparedStatement {
  return db.prepare('DELETE FROM campaigns WHERE id = ?').bind(id);
}

/** One code to write into a campaign: what it sets itself; the rest comes from the campaign. */
export interface CampaignCode {
  code: string;
  /** Absent: the template's quantity; null: unlimited. */
  quantity?: number | null;
  active?: boolean | null;
  metadata?: Record<string, unknown> | null;
  additional_info?: string | null;
  start_date?: number | null;
  expiration_date?: number | null;
}

/**
 * Writes codes into a campaign with its template, in one statement whatever their number (one JSON
 * parameter). A code that exists already (in any campaign or none) is skipped: RETURNING names the
 * codes written (the caller dedupes its list: a code twice in it would fail the statement). `limit` bounds how many are written (SQL, so it holds against any concurrent
 * writer of the same campaign's generation).
 */
/**
 * How many codes one insert may write: a number (-1: all), what the campaign's generation still
 * lacks of its target ('generation'), or what `free` free codes of the campaign still lack (an
 * auto-update campaign's distribution step: spares stay free for later publications).
 */
export type CodesLimit = number | 'generation' | { free: number };

export function insertCampaignCodes(
  db: D1Database,
  campaign: CampaignRow,
  codes: CampaignCode[],
  now: number,
  limit: CodesLimit = -1,
): D1PreparedStatement {
  const template = templateOf(campaign);
  const limitSql =
    typeof limit === 'number'
      ? sql`${limit}`
      : limit === 'generation'
        ? sql`max(0, (SELECT generation_target - generated_count FROM campaigns WHERE id = ${campaign.id}))`
        : sql`max(0, ${limit.free} - (SELECT count(*) FROM vouchers WHERE campaign_id = ${campaign.id} AND holder_id IS NULL))`;
  return prepare(
    db,
    sql`INSERT INTO vouchers (id, code, type, discount, quantity, redeemed_quantity, active, start_date, expiration_date,
         validity_timeframe, validity_day_of_week, validity_hours, additional_info, metadata, created_at, updated_at, campaign_id, campaign)
       SELECT 'v_' || lower(hex(randomblob(12))), json_extract(j.value, '$.code'), 'DISCOUNT_VOUCHER', ${JSON.stringify(template.discount)},
         CASE WHEN json_type(j.value, '$.quantity') IS NULL THEN ${template.redemption.quantity} ELSE json_extract(j.value, '$.quantity') END,
         0,
         -- The code's own switch: on unless the code says otherwise. The campaign's switch is its
         -- own and judged beside it (services/validation.ts), so enabling the campaign frees them all.
         coalesce(json_extract(j.value, '$.active'), 1),
         CASE WHEN json_type(j.value, '$.start_date') IS NULL THEN c.start_date ELSE json_extract(j.value, '$.start_date') END,
         CASE WHEN json_type(j.value, '$.expiration_date') IS NULL THEN c.expiration_date ELSE json_extract(j.value, '$.expiration_date') END,
         c.validity_timeframe, c.validity_day_of_week, c.validity_hours,
         json_extract(j.value, '$.additional_info'),
         coalesce(json_extract(j.value, '$.metadata'), '{}'),
         ${now}, NULL, c.id, c.name
       FROM json_each(${JSON.stringify(codes)}) j JOIN campaigns c ON c.id = ${campaign.id}
       -- Taken codes are passed over before the LIMIT counts rows (ON CONFLICT would count them).
       WHERE NOT EXISTS (SELECT 1 FROM vouchers x WHERE x.code = json_extract(j.value, '$.code'))
       LIMIT ${limitSql}
       ON CONFLICT (code) DO NOTHING
       RETURNING code`,
  );
}

/**
 * One chunk of a campaign's generation (the campaign_codes job): the candidate codes are written
 * up to the campaign's target, never past it, and the count of generated codes advances by exactly
 * the rows written (changes() of the insert, in the same batch). RETURNING: the campaign's counts.
 */
export function generationChunk(db: D1Database, campaign: CampaignRow, candidates: string[], now: number): D1PreparedStatement[] {
  return [
    insertCampaignCodes(
      db,
      campaign,
      candidates.map((code) => ({ code })),
      now,
      'generation',
    ),
    db
      .prepare(
        `UPDATE campaigns SET generated_count = generated_count + changes(),
           generation_status = CASE WHEN generated_count + changes() >= generation_target THEN 'DONE' ELSE generation_status END
         WHERE id = ? RETURNING generated_count, generation_target, generation_status, generation_action_id`,
      )
      .bind(campaign.id),
  ];
}

/** Asks for `count` more generated codes (addVoucher with vouchers_count): the job writes them. */
export function requestMoreCodes(
  db: D1Database,
  campaignId: string,
  count: number,
  actionId: string | null,
  now: number,
): D1PreparedStatement {
  return prepare(
    db,
    sql`UPDATE campaigns SET generation_target = generation_target + ${count}, generation_status = 'IN_PROGRESS',
         generation_action_id = coalesce(${actionId}, generation_action_id), updated_at = ${now} WHERE id = ${campaignId}`,
  );
}

export function failGeneration(db: D1Database, campaignId: string): D1PreparedStatement {
  return db
    .prepare(`UPDATE campaigns SET generation_status = 'FAILED' WHERE id = ? AND generation_status = 'IN_PROGRESS'`)
    .bind(campaignId);
}

/** The campaign a job works on, without the count (the job reads its own counters). */
export function campaignForJob(db: D1Database, id: string): Promise<CampaignRow | null> {
  return db.prepare('SELECT * FROM campaigns WHERE id = ?').bind(id).first<CampaignRow>();
}
