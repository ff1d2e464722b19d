import { parseRuleSet, RuleError } from '../../../shared/rules';
import type { ApplicableToRules, ValidationRule, Voucher, VoucherList } from '../../../shared/types';
import * as vouchersDb from '../db/vouchers';
import * as tiersDb from '../db/promotion-tiers';
import type { Env } from '../env';
import { apiError, invalidPayload, notFound } from '../errors';
import { randomId } from '../lib/ids';
import type { AssignmentListQuery, ValidationRuleListQuery, ValidationRuleUpdate } from '../schemas/validation-rules';
import type { VoucherCreate, VoucherListQuery, VoucherUpdate } from '../schemas/vouchers';
import { findCampaign, insertCampaignAssignment } from '../db/campaigns';
import { d1Refusal } from '../db/errors';
import { rowToAssignment, rowToVoucher, rowToRule } from '../views/voucher';

type Bindings = Pick<Env, 'DB' | 'CACHE'>;

const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** 8 characters without look-alikes (0/O, 1/I): about 40 bits, easy to type from a flyer. */
function generateCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => CODE_ALPHABET[b % CODE_ALPHABET.length]).join('');
}

async function requireVoucher(db: D1Database, code: string): Promise<vouchersDb.VoucherRow> {
  const row = await vouchersDb.findVoucher(db, code).first<vouchersDb.VoucherRow>();
  if (!row) throw notFound('voucher', code);
  return row;
}

async function withAssignments(db: D1Database, row: vouchersDb.VoucherRow): Promise<Voucher> {
  const { results } = await vouchersDb.assignmentsOfVoucher(db, row.id).all<vouchersDb.AssignmentRow>();
  return rowToVoucher(row, results);
}

/** OA24 POST /v1/vouchers/{code} 409 "Duplicate" (OpenAPI24.json:L53936). */
const duplicateVoucher = (code: string) =>
  apiError('duplicate_found', `Duplicated voucher exists with id ${code}`, { id: code, type: 'voucher' });

const jsonOrNull = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));
/** undefined: leave the column as it is; null: clear it. */
const patchJson = (value: unknown) => (value === undefined ? undefined : jsonOrNull(value));

/** POST /v1/vouchers and POST /v1/vouchers/{code}; `validation_rules` are assigned in the same batch. */
export async function createVoucher(env: Bindings, input: VoucherCreate): Promise<Voucher> {
  const ruleIds = [...new Set(input.validation_rules ?? [])];
  if (ruleIds.length > 0) {
    const [missing] = await vouchersDb.missingRuleIds(env.DB, ruleIds);
    if (missing !== undefined) throw notFound('validation_rules', missing);
  }
  const now = Date.now();
  const generated = input.code === undefined;
  // A generated code may collide with an existing one; try a few before giving up.
  for (let attempt = 0; attempt < 5; attempt++) {
    const row: vouchersDb.VoucherRow = {
      id: randomId('v_'),
      code: input.code ?? generateCode(),
      type: 'DISCOUNT_VOUCHER',
      discount: JSON.stringify(input.discount),
      quantity: input.redemption?.quantity ?? null,
      redeemed_quantity: 0,
      active: input.active === false ? 0 : 1,
      public: input.public ? 1 : 0,
      start_date: input.start_date ?? null,
      expiration_date: input.expiration_date ?? null,
      // Set by the insert trigger (migration 0012).
      definition_version: '',
      // A publication hands it to a customer (setVoucherHolder); a new voucher has no holder.
      holder_id: null,
      publish_count: 0,
      // Codes of a campaign are made by the campaign routes (services/campaigns.ts).
      campaign_id: null,
      campaign: null,
      validity_timeframe: jsonOrNull(input.validity_timeframe),
      validity_day_of_week: jsonOrNull(input.validity_day_of_week),
      validity_hours: jsonOrNull(input.validity_hours),
      additional_info: input.additional_info ?? null,
      metadata: JSON.stringify(input.metadata ?? {}),
      created_at: now,
      updated_at: null,
    };
    const assignments: vouchersDb.AssignmentRow[] = ruleIds.map((ruleId) => ({
      id: randomId('asgm_'),
      rule_id: ruleId,
      related_object_type: 'voucher',
      related_object_id: row.id,
      created_at: now,
    }));
    try {
      await env.DB.batch([vouchersDb.insertVoucher(env.DB, row), ...assignments.map((a) => vouchersDb.insertAssignment(env.DB, a))]);
    } catch (error) {
      if (d1Refusal(error) === 'missing_reference') throw notFound('validation_rules', ruleIds.join(', ')); // deleted since the check
      if (d1Refusal(error) !== 'duplicate_voucher_code') throw error;
      if (!generated) throw duplicateVoucher(row.code);
      continue;
    }
    return rowToVoucher(row, assignments);
  }
  throw apiError('duplicate_found', 'Could not generate a free voucher code');
}

export async function getVoucher(db: D1Database, code: string): Promise<Voucher> {
  return withAssignments(db, await requireVoucher(db, code));
}

/** GET /v1/vouchers: one page, its vouchers' rule assignments included, in one D1 round trip. */
export async function listVouchers(db: D1Database, query: VoucherListQuery): Promise<VoucherList> {
  const { rows, assignments, total } = await vouchersDb.listVouchers(db, query);
  const byVoucher = new Map<string, vouchersDb.AssignmentRow[]>();
  for (const a of assignments) byVoucher.set(a.related_object_id, [...(byVoucher.get(a.related_object_id) ?? []), a]);
  return {
    object: 'list',
    data_ref: 'vouchers',
    vouchers: rows.map((row) => rowToVoucher(row, byVoucher.get(row.id) ?? [])),
    total,
  };
}

export async function updateVoucher(env: Bindings, code: string, input: VoucherUpdate): Promise<Voucher> {
  const existing = await requireVoucher(env.DB, code);
  const startDate = input.start_date === undefined ? existing.start_date : input.start_date;
  const expirationDate = input.expiration_date === undefined ? existing.expiration_date : input.expiration_date;
  if (startDate !== null && expirationDate !== null && startDate >= expirationDate) {
    throw invalidPayload('expiration_date: must be after start_date');
  }
  const timeframe = input.validity_timeframe === undefined ? existing.validity_timeframe : input.validity_timeframe;
  // OA ValidityTimeframe: "start_date **required** when including the validity_timeframe".
  if (timeframe !== null && startDate === null)
    throw invalidPayload('start_date: required with validity_timeframe (its windows count from it)');
  const patch: Parameters<typeof vouchersDb.updateVoucher>[2] = {
    discount: input.discount === undefined ? undefined : JSON.stringify(input.discount),
    quantity: input.redemption?.quantity,
    active: input.active === undefined ? undefined : input.active ? 1 : 0,
    public: input.public === undefined ? undefined : input.public ? 1 : 0,
    start_date: input.start_date,
    expiration_date: input.expiration_date,
    validity_timeframe: patchJson(input.validity_timeframe),
    validity_day_of_week: patchJson(input.validity_day_of_week),
    validity_hours: patchJson(input.validity_hours),
    additional_info: input.additional_info,
    metadata: input.metadata === undefined ? undefined : JSON.stringify(input.metadata ?? {}),
  };
  let row: vouchersDb.VoucherRow | null;
  try {
    row = await vouchersDb.updateVoucher(env.DB, existing.id, patch, Date.now()).first<vouchersDb.VoucherRow>();
  } catch (error) {
    if (d1Refusal(error) === 'voucher_quantity_exceeded') {
      throw invalidPayload(`redemption.quantity: must be at least the redeemed quantity (${existing.redeemed_quantity})`);
    }
    throw error;
  }
  if (!row) throw notFound('voucher', code);
  return withAssignments(env.DB, row);
}

export async function setVoucherActive(env: Bindings, code: string, active: boolean): Promise<Voucher> {
  return updateVoucher(env, code, { active });
}

export async function deleteVoucher(env: Bindings, code: string): Promise<void> {
  const existing = await requireVoucher(env.DB, code);
  await vouchersDb.deleteVoucher(env.DB, existing.id).run();
}

/** The rule set is validated once, on write: a 400 naming the path inside `rules`. */
function checkRules(rules: Record<string, unknown>, error: { message: string } | null | undefined): void {
  try {
    parseRuleSet(rules, error ?? undefined);
  } catch (e) {
    if (e instanceof RuleError) throw invalidPayload(e.path ? `rules.${e.path}: ${e.message}` : `rules: ${e.message}`);
    throw e;
  }
}

/** POST /v1/validation-rules. */
export async function createValidationRule(
  db: D1Database,
  input: { name: string; rules: Record<string, unknown>; error?: { message: string }; applicable_to?: ApplicableToRules | null },
): Promise<ValidationRule> {
  checkRules(input.rules, input.error);
  const row: vouchersDb.RuleRow = {
    id: randomId('val_'),
    name: input.name,
    rules: JSON.stringify(input.rules),
    error: input.error ? JSON.stringify(input.error) : null,
    applicable_to: jsonOrNull(input.applicable_to),
    created_at: Date.now(),
    updated_at: null,
  };
  await vouchersDb.insertRule(db, row).run();
  return rowToRule(row, 0);
}

export async function getValidationRule(db: D1Database, id: string): Promise<ValidationRule> {
  const row = await vouchersDb.findRule(db, id);
  if (!row) throw notFound('validation_rules', id);
  return rowToRule(row, row.assignments);
}

/** GET /v1/validation-rules (OA ValidationRulesListResponseBody: {object, data_ref:'data', data, total}). */
export async function listValidationRules(db: D1Database, query: ValidationRuleListQuery) {
  const { rows, total } = await vouchersDb.listRules(db, query);
  return { object: 'list' as const, data_ref: 'data' as const, data: rows.map((r) => rowToRule(r, r.assignments)), total };
}

/**
 * PUT /v1/validation-rules/{id}. The vouchers the rule is assigned to cache it inside their
 * definitions: those entries are deleted after the write, so the next validate reads the new rule.
 */
export async function updateValidationRule(env: Bindings, id: string, input: ValidationRuleUpdate): Promise<ValidationRule> {
  const existing = await vouchersDb.findRule(env.DB, id);
  if (!existing) throw notFound('validation_rules', id);
  // `rules: null` leaves the rule with its applicable_to only, stored as a rule set without rules is.
  const given = input.rules === null ? { logic: '' } : input.rules;
  const rules = given ?? (JSON.parse(existing.rules) as Record<string, unknown>);
  const error =
    input.error === undefined ? (existing.error === null ? null : (JSON.parse(existing.error) as { message: string })) : input.error;
  // A new custom message is checked with the rules it goes with, as on create.
  checkRules(rules, error);
  const row = await vouchersDb
    .updateRule(
      env.DB,
      id,
      {
        name: input.name,
        rules: given && JSON.stringify(given),
        error: patchJson(input.error),
        applicable_to: patchJson(input.applicable_to),
      },
      Date.now(),
    )
    .first<vouchersDb.RuleRow & { assignments: number }>();
  if (!row) throw notFound('validation_rules', id);
  return rowToRule(row, row.assignments);
}

export async function deleteValidationRule(env: Bindings, id: string): Promise<void> {
  if (!(await vouchersDb.findRule(env.DB, id))) throw notFound('validation_rules', id);
  await vouchersDb.deleteRule(env.DB, id).run();
}

/** The assignment object (OA ValidationRuleAssignment); `updated_at` because SDK ValidationRulesCreateAssignmentResponse requires it, and an assignment never changes after it is made. */
const assignmentJson = (row: vouchersDb.AssignmentRow) => {
  const assignment = rowToAssignment(row);
  return { ...assignment, updated_at: assignment.created_at };
};

/**
 * POST /v1/validation-rules/{id}/assignments: the voucher named by code or id, or the campaign by
 * id or name (its codes' definitions take the rule through the campaign's version, migration 0017).
 */
export async function assignValidationRule(
  env: Bindings,
  ruleId: string,
  target: { type: 'voucher' | 'campaign' | 'promotion_tier'; ref: string },
) {
  if (!(await vouchersDb.findRule(env.DB, ruleId))) throw notFound('validation_rules', ruleId);
  const now = Date.now();
  let row: vouchersDb.AssignmentRow;
  let insert: D1PreparedStatement;
  let name: string;
  if (target.type === 'campaign') {
    const campaign = await findCampaign(env.DB, target.ref).first<{ id: string; name: string }>();
    if (!campaign) throw notFound('campaign', target.ref);
    row = { id: randomId('asgm_'), rule_id: ruleId, related_object_type: 'campaign', related_object_id: campaign.id, created_at: now };
    insert = insertCampaignAssignment(env.DB, { id: row.id, rule_id: ruleId, campaign_id: campaign.id, created_at: now });
    name = `campaign ${campaign.name}`;
  } else if (target.type === 'promotion_tier') {
    // A tier's rules are ordinary assignments of its vouchers row (migration 0030).
    const tier = await tiersDb.findTier(env.DB, target.ref).first<tiersDb.TierRow>();
    if (!tier) throw notFound('promotion_tier', target.ref);
    row = { id: randomId('asgm_'), rule_id: ruleId, related_object_type: 'promotion_tier', related_object_id: tier.id, created_at: now };
    insert = vouchersDb.insertAssignment(env.DB, row);
    name = `promotion tier ${tier.id}`;
  } else {
    const voucher = await requireVoucher(env.DB, target.ref);
    row = { id: randomId('asgm_'), rule_id: ruleId, related_object_type: 'voucher', related_object_id: voucher.id, created_at: now };
    insert = vouchersDb.insertAssignment(env.DB, row);
    name = `voucher ${voucher.code}`;
  }
  try {
    await insert.run();
  } catch (error) {
    if (d1Refusal(error) === 'duplicate_assignment') throw apiError('duplicate_found', `Rule ${ruleId} is already assigned to ${name}`);
    throw error;
  }
  return assignmentJson(row);
}

/** GET /v1/validation-rules/{id}/assignments and GET /v1/validation-rules-assignments (OA ValidationRuleAssignmentsList). */
export async function listAssignments(db: D1Database, query: AssignmentListQuery) {
  if (query.ruleId !== undefined && !(await vouchersDb.findRule(db, query.ruleId))) throw notFound('validation_rules', query.ruleId);
  const { rows, total } = await vouchersDb.listAssignments(db, query);
  return { object: 'list' as const, data_ref: 'data' as const, data: rows.map(assignmentJson), total };
}

/** DELETE /v1/validation-rules/{id}/assignments/{assignmentId} (the voucher's definition version moves on: migration 0012). */
export async function unassignValidationRule(env: Bindings, ruleId: string, assignmentId: string): Promise<void> {
  const assignment = await vouchersDb.findAssignment(env.DB, ruleId, assignmentId);
  if (!assignment) throw notFound('validation_rules_assignment', assignmentId);
  await env.DB.batch(vouchersDb.deleteAssignment(env.DB, assignment.id));
}
