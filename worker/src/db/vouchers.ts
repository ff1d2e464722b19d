import type { Discount, ValidationRule, Voucher } from '../../../shared/types';
import { toIso } from '../lib/time';

export interface VoucherRow {
  id: string;
  code: string;
  type: 'DISCOUNT_VOUCHER';
  discount: string;
  quantity: number | null;
  redeemed_quantity: number;
  active: number;
  start_date: number | null;
  expiration_date: number | null;
  metadata: string;
  created_at: number;
  updated_at: number | null;
}

export interface AssignmentRow {
  id: string;
  rule_id: string;
  related_object_type: string;
  related_object_id: string;
  created_at: number;
}

export function rowToVoucher(row: VoucherRow, assignments: AssignmentRow[]): Voucher {
  const voucher: Voucher = {
    id: row.id,
    code: row.code,
    type: row.type,
    discount: JSON.parse(row.discount) as Discount,
    start_date: row.start_date === null ? null : toIso(row.start_date),
    expiration_date: row.expiration_date === null ? null : toIso(row.expiration_date),
    active: row.active === 1,
    redemption: { quantity: row.quantity, redeemed_quantity: row.redeemed_quantity, object: 'list' },
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    validation_rules_assignments: {
      object: 'list',
      data_ref: 'data',
      data: assignments.map((a) => ({
        id: a.id,
        rule_id: a.rule_id,
        related_object_id: a.related_object_id,
        related_object_type: a.related_object_type,
        object: 'validation_rules_assignment',
      })),
      total: assignments.length,
    },
    created_at: toIso(row.created_at),
    object: 'voucher',
  };
  if (row.updated_at !== null) voucher.updated_at = toIso(row.updated_at);
  return voucher;
}

export function insertVoucher(db: D1Database, row: VoucherRow): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO vouchers (id, code, type, discount, quantity, redeemed_quantity, active, start_date, expiration_date, metadata, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(
      row.id, row.code, row.type, row.discount, row.quantity, row.redeemed_quantity, row.active,
      row.start_date, row.expiration_date, row.metadata, row.created_at, row.updated_at,
    );
}

type VoucherPatch = Partial<Pick<VoucherRow, 'discount' | 'quantity' | 'active' | 'start_date' | 'expiration_date' | 'metadata'>>;

export function updateVoucher(db: D1Database, id: string, patch: VoucherPatch, now: number): D1PreparedStatement {
  // Column names come from the VoucherPatch keys the service sets, never from input.
  const set = Object.entries(patch).filter(([, v]) => v !== undefined);
  const clauses = [...set.map(([c]) => `${c} = ?`), 'updated_at = ?'];
  return db
    .prepare(`UPDATE vouchers SET ${clauses.join(', ')} WHERE id = ? RETURNING *`)
    .bind(...set.map(([, v]) => v as string | number | null), now, id);
}

/** By code (the API's key for vouchers) or by id. */
export function findVoucher(db: D1Database, codeOrId: string): D1PreparedStatement {
  return db.prepare('SELECT * FROM vouchers WHERE code = ?1 OR id = ?1 ORDER BY code = ?1 DESC LIMIT 1').bind(codeOrId);
}

export function selectVouchers(db: D1Database, ids: string[]): D1PreparedStatement {
  return db.prepare('SELECT * FROM vouchers WHERE id IN (SELECT value FROM json_each(?))').bind(JSON.stringify(ids));
}

export function deleteVoucher(db: D1Database, id: string): D1PreparedStatement {
  return db.prepare('DELETE FROM vouchers WHERE id = ?').bind(id);
}

export function assignmentsOfVoucher(db: D1Database, voucherId: string): D1PreparedStatement {
  return db.prepare('SELECT * FROM validation_rule_assignments WHERE related_object_id = ? ORDER BY created_at').bind(voucherId);
}

export interface RuleRow {
  id: string;
  name: string;
  rules: string;
  error: string | null;
  created_at: number;
  updated_at: number | null;
}

export function rowToRule(row: RuleRow, assignmentsCount: number): ValidationRule {
  const rule: ValidationRule = {
    id: row.id,
    name: row.name,
    rules: JSON.parse(row.rules) as ValidationRule['rules'],
    applicable_to: { excluded: [], included: [], included_all: false },
    type: 'expression',
    context_type: 'global',
    created_at: toIso(row.created_at),
    assignments_count: assignmentsCount,
    object: 'validation_rules',
  };
  if (row.error !== null) rule.error = JSON.parse(row.error) as { message: string };
  if (row.updated_at !== null) rule.updated_at = toIso(row.updated_at);
  return rule;
}

export function insertRule(db: D1Database, row: RuleRow): D1PreparedStatement {
  return db
    .prepare('INSERT INTO validation_rules (id, name, rules, error, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)')
    .bind(row.id, row.name, row.rules, row.error, row.created_at, row.updated_at);
}

export function findRule(db: D1Database, id: string): Promise<(RuleRow & { assignments: number }) | null> {
  return db
    .prepare('SELECT r.*, (SELECT count(*) FROM validation_rule_assignments a WHERE a.rule_id = r.id) AS assignments FROM validation_rules r WHERE r.id = ?')
    .bind(id)
    .first();
}

export function deleteRule(db: D1Database, id: string): D1PreparedStatement {
  return db.prepare('DELETE FROM validation_rules WHERE id = ?').bind(id);
}

export function insertAssignment(db: D1Database, row: AssignmentRow): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO validation_rule_assignments (id, rule_id, related_object_type, related_object_id, created_at)
       VALUES (?, ?, ?, ?, ?)`,
    )
    .bind(row.id, row.rule_id, row.related_object_type, row.related_object_id, row.created_at);
}

/** Codes of the vouchers a rule is assigned to (their cached definitions go stale with the rule). */
export async function voucherCodesOfRule(db: D1Database, ruleId: string): Promise<string[]> {
  const { results } = await db
    .prepare('SELECT v.code FROM vouchers v JOIN validation_rule_assignments a ON a.related_object_id = v.id WHERE a.rule_id = ?')
    .bind(ruleId)
    .all<{ code: string }>();
  return results.map((r) => r.code);
}

/** Codes of the vouchers whose rules mention a segment (their cached definitions embed it). */
export async function voucherCodesUsingSegment(db: D1Database, segmentId: string): Promise<string[]> {
  const { results } = await db
    .prepare(
      `SELECT DISTINCT v.code FROM vouchers v
       JOIN validation_rule_assignments a ON a.related_object_id = v.id
       JOIN validation_rules r ON r.id = a.rule_id
       WHERE instr(r.rules, ?) > 0`,
    )
    .bind(JSON.stringify(segmentId))
    .all<{ code: string }>();
  return results.map((r) => r.code);
}

/** The rules assigned to a voucher, for its cached definition. */
export async function rulesOfVoucher(db: D1Database, voucherId: string): Promise<RuleRow[]> {
  const { results } = await db
    .prepare(
      `SELECT r.* FROM validation_rules r JOIN validation_rule_assignments a ON a.rule_id = r.id
       WHERE a.related_object_id = ? ORDER BY a.created_at`,
    )
    .bind(voucherId)
    .all<RuleRow>();
  return results;
}

export function isUniqueCodeViolation(error: unknown): boolean {
  return error instanceof Error && error.message.includes('UNIQUE constraint failed: vouchers.code');
}
