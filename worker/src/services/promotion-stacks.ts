import { d1Refusal } from '../db/errors';
import * as stacksDb from '../db/promotion-stacks';
import type { Env } from '../env';
import { invalidPayload, notFound } from '../errors';
import { randomId } from '../lib/ids';
import type { StackCreate, StackListQuery, StackUpdate } from '../schemas/promotion-stacks';
import { rowToStack, stackList } from '../views/promotion-stack';
import { requirePromotion } from './promotions';
import type { RedeemableKind } from './validation';
import type { ValidationSubject } from '../db/tracking';

// Promotion stacks: a named, ordered group of the tiers of one PROMOTION campaign (migration
// 0032). At checkout a stack is sent as one `promotion_stack` redeemable and judged as its tiers,
// each a `promotion_tier` redeemable judged by the one judge of codes and tiers (judgeCode), so a
// stack adds no judgement of its own: only the list of what to judge.

type Bindings = Pick<Env, 'DB'>;

/** 404 for an id that is no tier, 400 for a tier of another campaign: before anything is written. */
async function requireTiersOf(db: D1Database, campaignId: string, ids: string[]): Promise<void> {
  const found = await stacksDb.tiersOfCampaign(db, campaignId, ids);
  for (const id of ids) {
    const campaign = found.get(id);
    if (campaign === undefined) throw notFound('promotion_tier', id);
    if (campaign !== campaignId)
      throw invalidPayload(`tiers.ids: ${id} is a tier of campaign ${campaign}; a stack groups the tiers of its own campaign`);
  }
}

async function readStack(db: D1Database, id: string, campaignId: string) {
  const row = await stacksDb.findStack(db, id, campaignId);
  if (!row) throw notFound('promotion_stack', id);
  return rowToStack(row);
}

/** A tier deleted between the check and the batch fails the batch by its foreign key: the same 404 as before it. */
async function writeStack(db: D1Database, statements: D1PreparedStatement[], tierIds: string[]) {
  try {
    return await db.batch(statements);
  } catch (error) {
    if (d1Refusal(error) === 'missing_reference') throw notFound('promotion_tier', tierIds.join(', '));
    throw error;
  }
}

/** POST /v1/promotions/{campaignId}/stacks: the stack and its tiers in one batch. */
export async function createStack(env: Bindings, campaignIdOrName: string, input: StackCreate) {
  const campaign = await requirePromotion(env.DB, campaignIdOrName);
  await requireTiersOf(env.DB, campaign.id, input.tiers.ids);
  const row = {
    id: randomId('stack_'),
    campaign_id: campaign.id,
    name: input.name,
    hierarchy_mode: input.tiers.hierarchy_mode ?? 'MANUAL',
    created_at: Date.now(),
  };
  await writeStack(env.DB, stacksDb.insertStack(env.DB, row, input.tiers.ids), input.tiers.ids);
  return readStack(env.DB, row.id, campaign.id);
}

/** GET /v1/promotions/{campaignId}/stacks: every stack of the campaign. */
export async function listCampaignStacks(db: D1Database, campaignIdOrName: string) {
  const campaign = await requirePromotion(db, campaignIdOrName);
  const rows = await stacksDb.stacksOfCampaign(db, campaign.id);
  return stackList(rows, rows.length);
}

/** GET /v1/promotions/stacks: one page of every campaign's stacks. */
export async function listStacks(db: D1Database, query: StackListQuery) {
  const { rows, total } = await stacksDb.listStacks(db, query);
  return stackList(rows, total);
}

/** GET /v1/promotions/{campaignId}/stacks/{stackId}. */
export async function getStack(db: D1Database, campaignIdOrName: string, id: string) {
  const campaign = await requirePromotion(db, campaignIdOrName);
  return readStack(db, id, campaign.id);
}

/** PUT /v1/promotions/{campaignId}/stacks/{stackId}: the name and, when given, the tiers replaced, in one batch. */
export async function updateStack(env: Bindings, campaignIdOrName: string, id: string, input: StackUpdate) {
  const campaign = await requirePromotion(env.DB, campaignIdOrName);
  const tierIds = input.tiers?.ids;
  if (tierIds) await requireTiersOf(env.DB, campaign.id, tierIds);
  const patch = { name: input.name, hierarchy_mode: input.tiers?.hierarchy_mode ?? undefined };
  const [updated] = await writeStack(env.DB, stacksDb.updateStack(env.DB, id, campaign.id, patch, tierIds, Date.now()), tierIds ?? []);
  if (!updated?.results.length) throw notFound('promotion_stack', id);
  return readStack(env.DB, id, campaign.id);
}

/** DELETE /v1/promotions/{campaignId}/stacks/{stackId} (OA 204). */
export async function deleteStack(env: Bindings, campaignIdOrName: string, id: string): Promise<void> {
  const campaign = await requirePromotion(env.DB, campaignIdOrName);
  const deleted = await stacksDb.deleteStack(env.DB, id, campaign.id).first();
  if (!deleted) throw notFound('promotion_stack', id);
}

/** A redeemable of a stackable call, as parsed (schemas/checkout.ts). */
export interface RequestedRedeemable {
  object: RedeemableKind | 'promotion_stack';
  id: string;
}

/**
 * What a stackable validate or redeem names: the codes and tiers, or a `promotion_stack`, which
 * the schema lets through only alone, as the spec has it ("send one unique promotion_stack in the
 * array", OA StackableValidateRedeemBase.redeemables). A stack's tiers are not known yet: they are
 * read with the visitor, in the same batch (db/tracking.ts SubjectQuery.stackId), and handed on by
 * `stackTiers`.
 */
export function stackableRedeemables(redeemables: RequestedRedeemable[]): {
  codes: string[];
  kinds: RedeemableKind[];
  stackId?: string;
} {
  const stack = redeemables.find((r) => r.object === 'promotion_stack');
  if (stack) return { codes: [], kinds: [], stackId: stack.id };
  return { codes: redeemables.map((r) => r.id), kinds: redeemables.map((r) => r.object as RedeemableKind) };
}

/**
 * The stack's tiers as the visitor read found them, in the stack's order, each a `promotion_tier`
 * redeemable judged by judgeCode as a tier sent on its own. Read live with the visitor, never
 * cached, so a change of the stack counts from the next request.
 */
export function stackTiers(subject: ValidationSubject, stackId: string): { codes: string[]; kinds: RedeemableKind[] } {
  const ids = subject.stackTierIds;
  if (ids === null || ids === undefined) throw notFound('promotion_stack', stackId);
  // Every tier of it deleted since: nothing left to judge.
  if (ids.length === 0) throw invalidPayload(`redeemables: promotion stack ${stackId} holds no tiers`);
  return { codes: ids, kinds: ids.map(() => 'promotion_tier' as const) };
}
