import type { ValidationRule, ValidationRuleAssignment, Voucher } from '../../../shared/types';
import { type AssignmentRow, parseDiscount, type RuleRow, ruleApplicableTo, rowValidity, type VoucherRow } from '../db/vouchers';
import { toIso } from '../lib/time';

// The voucher, validation rule and rule assignment objects, built from their rows (db/vouchers
// reads and parses the columns; this is where they take their wire shape).

export function rowToAssignment(row: AssignmentRow): ValidationRuleAssignment {
  return {
    id: row.id,
    rule_id: row.rule_id,
    related_object_id: row.related_object_id,
    related_object_type:
      row.related_object_type === 'campaign' || row.related_object_type === 'promotion_tier' ? row.related_object_type : 'voucher',
    created_at: toIso(row.created_at),
    object: 'validation_rules_assignment',
  };
}

/** Links of the spec's voucher object (OA GET /v1/vouchers/{code} example: `…/redemptions?page=1&limit=10`). */
const voucherLink = (code: string, list: 'redemptions' | 'publications') =>
  `/v1/vouchers/${encodeURIComponent(code)}/${list}?page=1&limit=10`;

/** The voucher object in the field order of the spec's example (OA readOnly-openAPI.json:L35147). */
export function rowToVoucher(row: VoucherRow, assignments: AssignmentRow[]): Voucher {
  return {
    id: row.id,
    code: row.code,
    campaign: row.campaign ?? null,
    campaign_id: row.campaign_id ?? null,
    category: null,
    category_id: null,
    categories: [],
    type: row.type,
    discount: parseDiscount(row.discount),
    gift: null,
    loyalty_card: null,
    start_date: row.start_date === null ? null : toIso(row.start_date),
    expiration_date: row.expiration_date === null ? null : toIso(row.expiration_date),
    ...rowValidity(row),
    active: row.active === 1,
    // Vouchsafe extension (migration 0031): offered to anyone by qualifications.
    public: row.public === 1,
    additional_info: row.additional_info,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    assets: { qr: { id: `qr_${row.id}`, url: null }, barcode: { id: `barcode_${row.id}`, url: null } },
    is_referral_code: false,
    created_at: toIso(row.created_at),
    updated_at: row.updated_at === null ? null : toIso(row.updated_at),
    holder_id: row.holder_id ?? null,
    referrer_id: null,
    validation_rules_assignments: { object: 'list', data_ref: 'data', data: assignments.map(rowToAssignment), total: assignments.length },
    redemption: {
      quantity: row.quantity,
      redeemed_quantity: row.redeemed_quantity,
      object: 'list',
      url: voucherLink(row.code, 'redemptions'),
    },
    // OA Voucher.publish.count (readOnly-openAPI.json:L13339): "Publication events counter".
    publish: { object: 'list', count: row.publish_count ?? 0, url: voucherLink(row.code, 'publications') },
    object: 'voucher',
  };
}

export function rowToRule(row: RuleRow, assignmentsCount: number): ValidationRule {
  const rule: ValidationRule = {
    id: row.id,
    name: row.name,
    rules: JSON.parse(row.rules) as ValidationRule['rules'],
    applicable_to: ruleApplicableTo(row),
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
