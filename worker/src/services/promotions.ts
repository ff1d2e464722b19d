import * as campaignsDb from '../db/campaigns';
import { d1Refusal } from '../db/errors';
import * as tiersDb from '../db/promotion-tiers';
import * as vouchersDb from '../db/vouchers';
import type { Env } from '../env';
import { apiError, invalidPayload, notFound } from '../errors';
import { randomId } from '../lib/ids';
import {
  MAX_TIERS_PER_CAMPAIGN,
  type PromotionCampaignCreate,
  type TierCreate,
  type TierListQuery,
  type TierUpdate,
} from '../schemas/promotions';
import { rowToTier, tierList } from '../views/promotion-tier';
import { readCampaign, requireCampaign } from './campaigns';

// Promotions: PROMOTION campaigns and their tiers. A tier is a row of `vouchers` (migration 0030),
// so that validate, redeem and rollback judge and count it as they do a code; this service writes
// and reads it as the spec's PromotionTier.

type Bindings = Pick<Env, 'DB'>;

/** A publication or distribution naming a PROMOTION campaign: its tiers apply to whoever they fit, nobody holds one. */
export const promotionNotPublished = (campaignId: string) =>
  invalidPayload(`campaign: ${campaignId} is a PROMOTION campaign; its tiers are not published (only codes are)`);

const jsonOrNull = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));
/** undefined: leave the column as it is; null: clear it. */
const patchJson = (value: unknown) => (value === undefined ? undefined : jsonOrNull(value));

async function requireRules(db: D1Database, ruleIds: string[]): Promise<void> {
  if (ruleIds.length === 0) return;
  const [missing] = await vouchersDb.missingRuleIds(db, ruleIds);
  if (missing !== undefined) throw notFound('validation_rules', missing);
}

/** A tier's row and its rule assignments, as statements of the caller's batch. */
function tierStatements(db: D1Database, campaign: { id: string; name: string }, input: TierCreate, now: number) {
  const id = randomId('promo_');
  const tier: tiersDb.TierWrite = {
    id,
    campaign_id: campaign.id,
    campaign: campaign.name,
    name: input.name,
    banner: input.banner ?? null,
    hierarchy: input.hierarchy ?? null,
    discount: JSON.stringify(input.action.discount),
    active: input.active === false ? 0 : 1,
    start_date: input.start_date ?? null,
    expiration_date: input.expiration_date ?? null,
    validity_timeframe: jsonOrNull(input.validity_timeframe),
    validity_day_of_week: jsonOrNull(input.validity_day_of_week),
    validity_hours: jsonOrNull(input.validity_hours),
    metadata: JSON.stringify(input.metadata ?? {}),
    created_at: now,
  };
  const rules = [...new Set(input.validation_rules ?? [])];
  return {
    id,
    rules,
    statements: [
      tiersDb.insertTier(db, tier),
      ...rules.map((ruleId) =>
        tiersDb.insertTierAssignment(db, { id: randomId('asgm_'), rule_id: ruleId, related_object_id: id, created_at: now }),
      ),
    ],
  };
}

/**
 * POST /v1/campaigns with campaign_type PROMOTION: the campaign, its rules, its tiers and theirs in
 * one batch (nothing half-written); answered as GET /v1/campaigns/{id} answers it.
 */
export async function createPromotionCampaign(env: Bindings, input: PromotionCampaignCreate) {
  const tiers = input.promotion?.tiers ?? [];
  const campaignRules = [...new Set(input.validation_rules ?? [])];
  await requireRules(env.DB, [...new Set([...campaignRules, ...tiers.flatMap((t) => t.validation_rules ?? [])])]);
  const now = Date.now();
  const row: campaignsDb.CampaignRow = {
    id: randomId('camp_'),
    name: input.name,
    description: input.description ?? null,
    campaign_type: 'PROMOTION',
    // OA (the SDK's PromotionsCreateResponse): a promotion campaign is STATIC.
    type: 'STATIC',
    join_once: input.join_once ? 1 : 0,
    // A promotion makes no codes: an empty template keeps the column's contract.
    voucher: '{}',
    start_date: input.start_date ?? null,
    expiration_date: input.expiration_date ?? null,
    validity_timeframe: jsonOrNull(input.validity_timeframe),
    validity_day_of_week: jsonOrNull(input.validity_day_of_week),
    validity_hours: jsonOrNull(input.validity_hours),
    active: input.active === false ? 0 : 1,
    metadata: JSON.stringify(input.metadata ?? {}),
    generation_target: 0,
    generated_count: 0,
    generation_status: 'DONE',
    generation_action_id: null,
    definition_version: '',
    created_at: now,
    updated_at: null,
  };
  // Tiers without a hierarchy are numbered in the order given, after those that name one.
  let next = Math.max(0, ...tiers.map((t) => t.hierarchy ?? 0));
  const tierWrites = tiers.map((t) => tierStatements(env.DB, row, { ...t, hierarchy: t.hierarchy ?? ++next }, now));
  try {
    await env.DB.batch([
      campaignsDb.insertCampaign(env.DB, row),
      ...campaignRules.map((ruleId) =>
        campaignsDb.insertCampaignAssignment(env.DB, { id: randomId('asgm_'), rule_id: ruleId, campaign_id: row.id, created_at: now }),
      ),
      ...tierWrites.flatMap((t) => t.statements),
    ]);
  } catch (error) {
    if (d1Refusal(error) === 'duplicate_campaign_name') {
      throw apiError('duplicate_found', `Duplicated campaign exists with name ${input.name}`, { id: input.name, type: 'campaign' });
    }
    // A rule deleted between the check and the batch.
    if (d1Refusal(error) === 'missing_reference') throw notFound('validation_rules', campaignRules.join(', '));
    throw error;
  }
  return readCampaign(env.DB, row.id);
}

/** The PROMOTION campaign by id or name: 404 when none, 400 when it is a campaign of codes. */
export async function requirePromotion(db: D1Database, idOrName: string) {
  const campaign = await requireCampaign(db, idOrName);
  if (campaign.campaign_type !== 'PROMOTION') {
    throw invalidPayload(
      `campaign ${campaign.id} is a ${campaign.campaign_type} campaign: only a PROMOTION campaign holds promotion tiers`,
    );
  }
  return campaign;
}

async function readTier(db: D1Database, id: string) {
  const [tier, assignments] = await db.batch<Record<string, unknown>>([tiersDb.findTier(db, id), tiersDb.assignmentsOfTiers(db, [id])]);
  const row = tier?.results[0] as unknown as tiersDb.TierRow | undefined;
  if (!row) throw notFound('promotion_tier', id);
  return rowToTier(row, (assignments?.results ?? []) as unknown as vouchersDb.AssignmentRow[]);
}

/** POST /v1/promotions/{campaignId}/tiers (OA add-promotion-tier-to-campaign): the tier and its rules in one batch. */
export async function createTier(env: Bindings, campaignIdOrName: string, input: TierCreate) {
  const campaign = await requirePromotion(env.DB, campaignIdOrName);
  const existing = await tiersDb.tiersOfCampaigns(env.DB, [campaign.id]);
  if (existing.rows.length >= MAX_TIERS_PER_CAMPAIGN)
    throw invalidPayload(`a promotion campaign holds at most ${MAX_TIERS_PER_CAMPAIGN} tiers`);
  const written = tierStatements(env.DB, campaign, input, Date.now());
  await requireRules(env.DB, written.rules);
  try {
    await env.DB.batch(written.statements);
  } catch (error) {
    if (d1Refusal(error) === 'missing_reference') throw notFound('validation_rules', written.rules.join(', '));
    throw error;
  }
  return readTier(env.DB, written.id);
}

/** GET /v1/promotions/tiers/{id}. */
export const getTier = (db: D1Database, id: string) => readTier(db, id);

/** GET /v1/promotions/{campaignId}/tiers: every tier of the campaign, in hierarchy order. */
export async function listCampaignTiers(db: D1Database, campaignIdOrName: string) {
  const campaign = await requirePromotion(db, campaignIdOrName);
  const { rows, assignments } = await tiersDb.tiersOfCampaigns(db, [campaign.id]);
  return tierList(rows, assignments, rows.length, false);
}

/** GET /v1/promotions/tiers: one page of all tiers; has_more from one row past the page. */
export async function listTiers(db: D1Database, query: TierListQuery) {
  const { rows, total, assignments } = await tiersDb.listTiers(db, query, Date.now());
  const page = rows.slice(0, query.limit);
  return tierList(page, assignments, total, rows.length > query.limit);
}

/**
 * PUT /v1/promotions/tiers/{id}: the fields given, in one statement; its definition version moves
 * (migration 0030's trigger), so the next validate judges the new terms.
 */
export async function updateTier(env: Bindings, id: string, input: TierUpdate) {
  const current = await readTier(env.DB, id);
  const start = input.start_date === undefined ? current.start_date : input.start_date;
  const end = input.expiration_date === undefined ? current.expiration_date : input.expiration_date;
  const startMs = typeof start === 'string' ? Date.parse(start) : start;
  const endMs = typeof end === 'string' ? Date.parse(end) : end;
  if (startMs !== null && endMs !== null && startMs >= endMs) throw invalidPayload('expiration_date: must be after start_date');
  const timeframe = input.validity_timeframe === undefined ? current.validity_timeframe : input.validity_timeframe;
  if (timeframe !== null && startMs === null)
    throw invalidPayload('start_date: required with validity_timeframe (its windows count from it)');
  const patch: tiersDb.TierPatch = {
    name: input.name,
    banner: input.banner,
    hierarchy: input.hierarchy,
    discount: input.action === undefined ? undefined : JSON.stringify(input.action.discount),
    active: input.active === undefined ? undefined : input.active ? 1 : 0,
    start_date: input.start_date,
    expiration_date: input.expiration_date,
    validity_timeframe: patchJson(input.validity_timeframe),
    validity_day_of_week: patchJson(input.validity_day_of_week),
    validity_hours: patchJson(input.validity_hours),
    metadata: input.metadata === undefined ? undefined : JSON.stringify(input.metadata ?? {}),
  };
  const updated = await tiersDb.updateTier(env.DB, id, patch, Date.now()).first();
  if (!updated) throw notFound('promotion_tier', id);
  return readTier(env.DB, id);
}

/** POST /v1/promotions/tiers/{id}/enable and …/disable (OA: the tier with its `active` changed). */
export async function setTierActive(env: Bindings, id: string, active: boolean) {
  const updated = await tiersDb.updateTier(env.DB, id, { active: active ? 1 : 0 }, Date.now()).first();
  if (!updated) throw notFound('promotion_tier', id);
  return readTier(env.DB, id);
}

/** DELETE /v1/promotions/tiers/{id} (OA 204): the tier and its rule assignments; its redemptions stay in the ledger. */
export async function deleteTier(env: Bindings, id: string): Promise<void> {
  const deleted = await tiersDb.deleteTier(env.DB, id).first();
  if (!deleted) throw notFound('promotion_tier', id);
}
