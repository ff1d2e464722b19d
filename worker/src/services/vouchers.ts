import { parseRuleSet, RuleError } from '../../../shared/rules';
import type { ValidationRule, Voucher } from '../../../shared/types';
import * as vouchersDb from '../db/vouchers';
import type { Env } from '../env';
import { ApiError, invalidPayload, notFound } from '../errors';
import { randomId } from '../lib/ids';
import type { VoucherCreate, VoucherUpdate } from '../schemas/vouchers';
import { invalidateRule, invalidateVoucherCodes } from './definitions';

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
  return vouchersDb.rowToVoucher(row, results);
}

/** POST /v1/vouchers and POST /v1/vouchers/{code}. */
export async function createVoucher(env: Bindings, input: VoucherCreate): Promise<Voucher> {
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
      start_date: input.start_date ?? null,
      expiration_date: input.expiration_date ?? null,
      metadata: JSON.stringify(input.metadata ?? {}),
      created_at: now,
      updated_at: null,
    };
    try {
      await vouchersDb.insertVoucher(env.DB, row).run();
    } catch (error) {
      if (!vouchersDb.isUniqueCodeViolation(error)) throw error;
      if (!generated) throw new ApiError(409, 'duplicate_found', 'Duplicate resource key', `A voucher with code ${row.code} already exists`);
      continue;
    }
    return vouchersDb.rowToVoucher(row, []);
  }
  throw new ApiError(409, 'duplicate_found', 'Duplicate resource key', 'Could not generate a free voucher code');
}

export async function getVoucher(db: D1Database, code: string): Promise<Voucher> {
  return withAssignments(db, await requireVoucher(db, code));
}

export async function updateVoucher(env: Bindings, code: string, input: VoucherUpdate): Promise<Voucher> {
  const existing = await requireVoucher(env.DB, code);
  const patch: Parameters<typeof vouchersDb.updateVoucher>[2] = {
    discount: input.discount === undefined ? undefined : JSON.stringify(input.discount),
    quantity: input.redemption?.quantity,
    active: input.active === undefined ? undefined : input.active ? 1 : 0,
    start_date: input.start_date,
    expiration_date: input.expiration_date,
    metadata: input.metadata === undefined ? undefined : JSON.stringify(input.metadata ?? {}),
  };
  let row: vouchersDb.VoucherRow | null;
  try {
    row = await vouchersDb.updateVoucher(env.DB, existing.id, patch, Date.now()).first<vouchersDb.VoucherRow>();
  } catch (error) {
    if (error instanceof Error && error.message.includes('voucher_quantity_exceeded')) {
      throw invalidPayload(`redemption.quantity: must be at least the redeemed quantity (${existing.redeemed_quantity})`);
    }
    throw error;
  }
  if (!row) throw notFound('voucher', code);
  await invalidateVoucherCodes(env.CACHE, [row.code]);
  return withAssignments(env.DB, row);
}

export async function setVoucherActive(env: Bindings, code: string, active: boolean): Promise<Voucher> {
  return updateVoucher(env, code, { active });
}

export async function deleteVoucher(env: Bindings, code: string): Promise<void> {
  const existing = await requireVoucher(env.DB, code);
  await vouchersDb.deleteVoucher(env.DB, existing.id).run();
  await invalidateVoucherCodes(env.CACHE, [existing.code]);
}

/** POST /v1/validation-rules: the rule set is validated once, here. */
export async function createValidationRule(
  db: D1Database,
  input: { name: string; rules: Record<string, unknown>; error?: { message: string } },
): Promise<ValidationRule> {
  try {
    parseRuleSet(input.rules, input.error);
  } catch (error) {
    if (error instanceof RuleError) throw invalidPayload(error.path ? `rules.${error.path}: ${error.message}` : `rules: ${error.message}`);
    throw error;
  }
  const row: vouchersDb.RuleRow = {
    id: randomId('val_'),
    name: input.name,
    rules: JSON.stringify(input.rules),
    error: input.error ? JSON.stringify(input.error) : null,
    created_at: Date.now(),
    updated_at: null,
  };
  await vouchersDb.insertRule(db, row).run();
  return vouchersDb.rowToRule(row, 0);
}

export async function getValidationRule(db: D1Database, id: string): Promise<ValidationRule> {
  const row = await vouchersDb.findRule(db, id);
  if (!row) throw notFound('validation_rules', id);
  return vouchersDb.rowToRule(row, row.assignments);
}

export async function deleteValidationRule(env: Bindings, id: string): Promise<void> {
  if (!(await vouchersDb.findRule(env.DB, id))) throw notFound('validation_rules', id);
  // Invalidate while the assignments still say which vouchers embed the rule.
  await invalidateRule(env, id);
  await vouchersDb.deleteRule(env.DB, id).run();
}

export async function assignValidationRule(env: Bindings, ruleId: string, voucherCode: string) {
  if (!(await vouchersDb.findRule(env.DB, ruleId))) throw notFound('validation_rules', ruleId);
  const voucher = await requireVoucher(env.DB, voucherCode);
  const row: vouchersDb.AssignmentRow = {
    id: randomId('asgm_'),
    rule_id: ruleId,
    related_object_type: 'voucher',
    related_object_id: voucher.id,
    created_at: Date.now(),
  };
  try {
    await vouchersDb.insertAssignment(env.DB, row).run();
  } catch (error) {
    if (error instanceof Error && error.message.includes('UNIQUE constraint failed')) {
      throw new ApiError(409, 'duplicate_found', 'Duplicate resource key', `Rule ${ruleId} is already assigned to voucher ${voucher.code}`);
    }
    throw error;
  }
  await invalidateVoucherCodes(env.CACHE, [voucher.code]);
  return { ...row, created_at: new Date(row.created_at).toISOString(), object: 'validation_rules_assignment' as const };
}
