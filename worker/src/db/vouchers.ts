import type { ApplicableToRules, Discount } from '../../../shared/types';
import type { DayOfWeek, ValidityHours, ValidityTimeframe } from '../../../shared/validity';
import type { AssignmentListQuery, ValidationRuleListQuery } from '../schemas/validation-rules';
import type { StringConditions } from '../schemas/common';
import type { VoucherFilterField, VoucherListQuery } from '../schemas/vouchers';
import { conditionsSql } from './redemptions';
import { prepare, type Sql, sql, type SqlValue } from './sql';

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
  /** JSON or NULL (migration 0005). */
  validity_timeframe: string | null;
  validity_day_of_week: string | null;
  validity_hours: string | null;
  additional_info: string | null;
  metadata: string;
  created_at: number;
  updated_at: number | null;
  /** Replaced by triggers on every change of what the voucher grants (migration 0012). */
  definition_version: string;
  /** The customer the voucher was published to (migration 0016); null: nobody holds it. */
  holder_id: string | null;
  /** Publications of the code (migration 0018): OA Voucher.publish.count. */
  publish_count: number;
  /** The campaign of the code and its name (migration 0017); null for a standalone voucher. */
  campaign_id: string | null;
  campaign: string | null;
  /** Migration 0031: 1 when the shop offers the code to anyone (qualifications); absent in rows built before it: 0. */
  public?: number;
}

/**
 * A voucher's full definition version, as validate reads it and the redeem guard checks it: its own
 * (migration 0012) joined with its campaign's (migration 0017: the campaign's rules are part of what
 * its codes grant). A campaign's change moves one row's version, not every code's.
 */
export const VOUCHER_VERSION_SQL = (alias: string) =>
  `${alias}.definition_version || coalesce((SELECT '.' || c.definition_version FROM campaigns c WHERE c.id = ${alias}.campaign_id), '')`;

/**
 * The type of a promotion tier's row (migration 0030): a tier is a code-less redeemable kept in
 * `vouchers` so that it shares the definitions, the judge and the ledger of codes. It is never a
 * voucher on the wire: every query of a voucher route adds `NOT_A_TIER`.
 */
export const TIER_TYPE = 'PROMOTION_TIER';

/** The condition that leaves promotion tiers out of a voucher query (`alias`: the vouchers table's). */
export const NOT_A_TIER = (alias?: string) => `${alias ? `${alias}.` : ''}type != '${TIER_TYPE}'`;

export interface AssignmentRow {
  id: string;
  rule_id: string;
  related_object_type: string;
  related_object_id: string;
  created_at: number;
}

/** The stored discount; `effect` defaults to APPLY_TO_ORDER as in the spec's examples (rows written before it was stored lack it). */
export function parseDiscount(text: string): Discount {
  const discount = JSON.parse(text) as Discount;
  return discount.effect ? discount : { ...discount, effect: 'APPLY_TO_ORDER' };
}

const parseJsonOrNull = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

/** The validity windows of a row, parsed (shared/validity judges them). */
export function rowValidity(row: Pick<VoucherRow, 'validity_timeframe' | 'validity_day_of_week' | 'validity_hours'>) {
  return {
    validity_timeframe: parseJsonOrNull<ValidityTimeframe>(row.validity_timeframe),
    validity_day_of_week: parseJsonOrNull<DayOfWeek[]>(row.validity_day_of_week),
    validity_hours: parseJsonOrNull<ValidityHours>(row.validity_hours),
  };
}

export function insertVoucher(db: D1Database, row: VoucherRow): D1PreparedStatement {
  return prepare(
    db,
    sql`INSERT INTO vouchers (id, code, type, discount, quantity, redeemed_quantity, active, start_date, expiration_date,
         validity_timeframe, validity_day_of_week, validity_hours, additional_info, metadata, created_at, updated_at, public)
       VALUES (${row.id}, ${row.code}, ${row.type}, ${row.discount}, ${row.quantity}, ${row.redeemed_quantity}, ${row.active}, ${row.start_date}, ${row.expiration_date}, ${row.validity_timeframe}, ${row.validity_day_of_week}, ${row.validity_hours}, ${row.additional_info}, ${row.metadata}, ${row.created_at}, ${row.updated_at}, ${row.public ?? 0})`,
  );
}

type VoucherPatch = Partial<
  Pick<
    VoucherRow,
    | 'discount'
    | 'quantity'
    | 'active'
    | 'start_date'
    | 'expiration_date'
    | 'metadata'
    | 'validity_timeframe'
    | 'validity_day_of_week'
    | 'validity_hours'
    | 'additional_info'
    | 'public'
  >
>;

export function updateVoucher(db: D1Database, id: string, patch: VoucherPatch, now: number): D1PreparedStatement {
  // Column names come from the VoucherPatch keys the service sets, never from input.
  const set = Object.entries(patch).filter(([, v]) => v !== undefined);
  const clauses = sql.assignments([...(set as [string, SqlValue][]), ['updated_at', now]]);
  return prepare(db, sql`UPDATE vouchers SET ${clauses} WHERE id = ${id} RETURNING *`);
}

const VOUCHER_ORDER_BY: Record<VoucherListQuery['order'], string> = {
  created_at: 'created_at ASC, id ASC',
  '-created_at': 'created_at DESC, id DESC',
  updated_at: 'updated_at ASC NULLS FIRST, created_at ASC, id ASC',
  '-updated_at': 'updated_at DESC NULLS LAST, created_at DESC, id DESC',
  code: 'code ASC',
  '-code': 'code DESC',
  // Every voucher listed is a DISCOUNT_VOUCHER and none has a category: the creation order decides.
  type: 'created_at ASC, id ASC',
  '-type': 'created_at DESC, id DESC',
  campaign: 'campaign ASC NULLS FIRST, created_at ASC, id ASC',
  '-campaign': 'campaign DESC NULLS LAST, created_at DESC, id DESC',
  category: 'created_at ASC, id ASC',
  '-category': 'created_at DESC, id DESC',
};

/** The fields `filters` may name, as SQL over `vouchers` (as the voucher object shows them). */
const FILTER_COLUMNS: Record<VoucherFilterField, string> = {
  code: 'code',
  id: 'id',
  campaign: 'campaign',
  campaign_id: 'campaign_id',
  category: 'NULL',
  holder_id: 'holder_id',
  type: "'DISCOUNT_VOUCHER'",
};

/**
 * One page of vouchers, the total matching the filters and the rule assignments of the page's
 * vouchers: three statements in one batch, one round trip, whatever the page size.
 */
export async function listVouchers(
  db: D1Database,
  q: VoucherListQuery,
): Promise<{ rows: VoucherRow[]; assignments: AssignmentRow[]; total: number }> {
  // A promotion tier is a row of vouchers but never a voucher on the wire (migration 0030).
  const where: Sql[] = [sql.raw(NOT_A_TIER())];
  const add = (clause: (value: string | number) => Sql, value: string | number | undefined) => {
    if (value !== undefined) where.push(clause(value));
  };
  add((v) => sql`code = ${v}`, q.code);
  // OA24 GET /v1/vouchers `customer`: the holder, by id or source_id.
  add((v) => sql`holder_id IN (SELECT id FROM customers WHERE id = ${v} OR source_id = ${v})`, q.customer);
  add((v) => sql`campaign_id = (SELECT id FROM campaigns WHERE name = ${v})`, q.campaign);
  add((v) => sql`campaign_id = ${v}`, q.campaignId);
  add((v) => sql`id IN (SELECT value FROM json_each(${v}))`, q.ids === undefined ? undefined : JSON.stringify(q.ids));
  add((v) => sql`created_at < ${v}`, q.createdBefore);
  add((v) => sql`created_at > ${v}`, q.createdAfter);
  add((v) => sql`updated_at < ${v}`, q.updatedBefore);
  add((v) => sql`updated_at > ${v}`, q.updatedAfter);
  // No voucher here has a category (creating one with a category is refused).
  if (q.category !== undefined) where.push(sql.raw('0'));
  if (q.filters) {
    const { junction, ...fields } = q.filters;
    const filters = Object.entries(fields).map(([field, filter]) =>
      conditionsSql(FILTER_COLUMNS[field as VoucherFilterField], (filter as { conditions: StringConditions }).conditions),
    );
    if (filters.length > 0) where.push(sql.join(filters, junction === 'or' ? 'OR' : 'AND'));
  }
  const filter = sql`WHERE ${sql.join(where, 'AND')}`;
  const page = sql`SELECT * FROM vouchers ${filter} ORDER BY ${sql.raw(VOUCHER_ORDER_BY[q.order])} LIMIT ${q.limit} OFFSET ${(q.page - 1) * q.limit}`;
  return voucherPage<VoucherRow>(db, page, sql`SELECT count(*) AS total FROM vouchers ${filter}`);
}

/**
 * A page of vouchers (`page`: rows with the voucher's `id`), the `total` its `count` query gives
 * and the rule assignments of the page's vouchers, in one batch: the voucher list and a
 * customer's wallet.
 */
export async function voucherPage<Row>(
  db: D1Database,
  page: Sql,
  count: Sql,
): Promise<{ rows: Row[]; assignments: AssignmentRow[]; total: number }> {
  const [rows, total, assignments] = await db.batch<Record<string, unknown>>([
    prepare(db, page),
    prepare(db, count),
    prepare(
      db,
      sql`SELECT * FROM validation_rule_assignments WHERE related_object_id IN (SELECT id FROM (${page})) ORDER BY created_at, id`,
    ),
  ]);
  return {
    rows: (rows?.results ?? []) as unknown as Row[],
    assignments: (assignments?.results ?? []) as unknown as AssignmentRow[],
    total: Number(total?.results[0]?.total ?? 0),
  };
}

/** By code (the API's key for vouchers) or by id; never a promotion tier (a voucher route answers 404 for one). */
export function findVoucher(db: D1Database, codeOrId: string): D1PreparedStatement {
  return prepare(
    db,
    sql`SELECT * FROM vouchers WHERE (code = ${codeOrId} OR id = ${codeOrId}) AND ${sql.raw(NOT_A_TIER())} ORDER BY code = ${codeOrId} DESC LIMIT 1`,
  );
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
  /** JSON ApplicableToRules or NULL (migration 0015). */
  applicable_to: string | null;
  created_at: number;
  updated_at: number | null;
}

const NO_ITEMS_SCOPED: ApplicableToRules = { excluded: [], included: [], included_all: false };

/** A rule's applicable_to as stored; rows written before migration 0015 scope no items. */
export const ruleApplicableTo = (row: Pick<RuleRow, 'applicable_to'>): ApplicableToRules =>
  row.applicable_to == null ? NO_ITEMS_SCOPED : (JSON.parse(row.applicable_to) as ApplicableToRules);

export function insertRule(db: D1Database, row: RuleRow): D1PreparedStatement {
  return prepare(
    db,
    sql`INSERT INTO validation_rules (id, name, rules, error, applicable_to, created_at, updated_at) VALUES (${row.id}, ${row.name}, ${row.rules}, ${row.error}, ${row.applicable_to}, ${row.created_at}, ${row.updated_at})`,
  );
}

export function findRule(db: D1Database, id: string): Promise<(RuleRow & { assignments: number }) | null> {
  return db.prepare(`SELECT r.*, ${ASSIGNMENTS_COUNT} FROM validation_rules r WHERE r.id = ?`).bind(id).first();
}

export function deleteRule(db: D1Database, id: string): D1PreparedStatement {
  return db.prepare('DELETE FROM validation_rules WHERE id = ?').bind(id);
}

const ASSIGNMENTS_COUNT =
  '((SELECT count(*) FROM validation_rule_assignments a WHERE a.rule_id = r.id) + (SELECT count(*) FROM campaign_rule_assignments a WHERE a.rule_id = r.id)) AS assignments';

/** Every assignment, to a voucher or to a campaign (migration 0017), in the AssignmentRow shape. */
const ALL_ASSIGNMENTS = `(SELECT id, rule_id, related_object_type, related_object_id, created_at FROM validation_rule_assignments
  UNION ALL SELECT id, rule_id, 'campaign', campaign_id, created_at FROM campaign_rule_assignments)`;

const RULE_ORDER_BY: Record<ValidationRuleListQuery['order'], string> = {
  created_at: 'r.created_at ASC, r.id ASC',
  '-created_at': 'r.created_at DESC, r.id DESC',
  updated_at: 'r.updated_at ASC NULLS FIRST, r.created_at ASC, r.id ASC',
  '-updated_at': 'r.updated_at DESC NULLS LAST, r.created_at DESC, r.id DESC',
  name: 'r.name ASC, r.id ASC',
  '-name': 'r.name DESC, r.id DESC',
};

/** One page of rules with their assignment counts, and the total: one batch. */
export async function listRules(
  db: D1Database,
  q: ValidationRuleListQuery,
): Promise<{ rows: (RuleRow & { assignments: number })[]; total: number }> {
  const [page, count] = await db.batch<Record<string, unknown>>([
    db
      .prepare(`SELECT r.*, ${ASSIGNMENTS_COUNT} FROM validation_rules r ORDER BY ${RULE_ORDER_BY[q.order]} LIMIT ? OFFSET ?`)
      .bind(q.limit, (q.page - 1) * q.limit),
    db.prepare('SELECT count(*) AS total FROM validation_rules'),
  ]);
  return { rows: (page?.results ?? []) as unknown as (RuleRow & { assignments: number })[], total: Number(count?.results[0]?.total ?? 0) };
}

type RulePatch = Partial<Pick<RuleRow, 'name' | 'rules' | 'error' | 'applicable_to'>>;

export function updateRule(db: D1Database, id: string, patch: RulePatch, now: number): D1PreparedStatement {
  // Column names come from the RulePatch keys the service sets, never from input.
  const set = Object.entries(patch).filter(([, v]) => v !== undefined) as [string, SqlValue][];
  return prepare(
    db,
    sql`UPDATE validation_rules SET ${sql.assignments([...set, ['updated_at', now]])} WHERE id = ${id}
       RETURNING *, (SELECT count(*) FROM validation_rule_assignments a WHERE a.rule_id = validation_rules.id)
         + (SELECT count(*) FROM campaign_rule_assignments a WHERE a.rule_id = validation_rules.id) AS assignments`,
  );
}

/** The ids among `ids` that name no rule. */
export async function missingRuleIds(db: D1Database, ids: string[]): Promise<string[]> {
  const { results } = await db
    .prepare('SELECT j.value AS id FROM json_each(?) j WHERE NOT EXISTS (SELECT 1 FROM validation_rules r WHERE r.id = j.value)')
    .bind(JSON.stringify(ids))
    .all<{ id: string }>();
  return results.map((r) => r.id);
}

/**
 * One page of assignments and their total. `relatedObject` matches a voucher id, or the id of the
 * voucher with that code.
 */
export async function listAssignments(db: D1Database, q: AssignmentListQuery): Promise<{ rows: AssignmentRow[]; total: number }> {
  const where: Sql[] = [];
  if (q.ruleId !== undefined) where.push(sql`rule_id = ${q.ruleId}`);
  if (q.relatedObjectId !== undefined) {
    const related = q.relatedObjectId;
    where.push(
      sql`(related_object_id IN (SELECT id FROM vouchers WHERE id = ${related} OR code = ${related}) OR related_object_id IN (SELECT id FROM campaigns WHERE id = ${related} OR name = ${related}))`,
    );
  }
  const filter = where.length ? sql`WHERE ${sql.join(where, 'AND')}` : sql.raw('');
  const order = sql.raw(q.order === 'created_at' ? 'created_at ASC, id ASC' : 'created_at DESC, id DESC');
  const from = sql.raw(ALL_ASSIGNMENTS);
  const [page, count] = await db.batch<Record<string, unknown>>([
    prepare(db, sql`SELECT * FROM ${from} ${filter} ORDER BY ${order} LIMIT ${q.limit} OFFSET ${(q.page - 1) * q.limit}`),
    prepare(db, sql`SELECT count(*) AS total FROM ${from} ${filter}`),
  ]);
  return { rows: (page?.results ?? []) as unknown as AssignmentRow[], total: Number(count?.results[0]?.total ?? 0) };
}

/** An assignment of a rule, to a voucher or to a campaign. */
export function findAssignment(db: D1Database, ruleId: string, assignmentId: string): Promise<AssignmentRow | null> {
  return db.prepare(`SELECT * FROM ${ALL_ASSIGNMENTS} WHERE id = ? AND rule_id = ?`).bind(assignmentId, ruleId).first();
}

/** Ids are unique across both tables (asgm_ + 24 random characters): the one holding it loses it. */
export function deleteAssignment(db: D1Database, id: string): D1PreparedStatement[] {
  return [
    db.prepare('DELETE FROM validation_rule_assignments WHERE id = ?').bind(id),
    db.prepare('DELETE FROM campaign_rule_assignments WHERE id = ?').bind(id),
  ];
}

export function insertAssignment(db: D1Database, row: AssignmentRow): D1PreparedStatement {
  return prepare(
    db,
    sql`INSERT INTO validation_rule_assignments (id, rule_id, related_object_type, related_object_id, created_at)
       VALUES (${row.id}, ${row.rule_id}, ${row.related_object_type}, ${row.related_object_id}, ${row.created_at})`,
  );
}

/** A voucher by its exact code and the rules assigned to it, read together (one batch). */
/** A definition's voucher row: with a tier's own columns and its campaign's active flag and dates (migration 0030). */
export type DefinitionRow = Omit<VoucherRow, 'type'> & {
  type: string;
  name?: string | null;
  banner?: string | null;
  hierarchy?: number | null;
  campaign_active: number | null;
  campaign_start_date: number | null;
  campaign_expiration_date: number | null;
};

export async function definitionRows(db: D1Database, code: string): Promise<{ row: DefinitionRow; rules: RuleRow[] } | null> {
  const [voucher, rules] = await db.batch<Record<string, unknown>>([
    db
      .prepare(
        `SELECT v.*, ${VOUCHER_VERSION_SQL('v')} AS definition_version, c.active AS campaign_active,
           c.start_date AS campaign_start_date, c.expiration_date AS campaign_expiration_date
         FROM vouchers v LEFT JOIN campaigns c ON c.id = v.campaign_id WHERE v.code = ?`,
      )
      .bind(code),
    // The voucher's own rules, then its campaign's (migration 0017): all of them judge its codes.
    prepare(
      db,
      sql`SELECT r.*, 0 AS level, a.created_at AS assigned_at FROM validation_rule_assignments a JOIN validation_rules r ON r.id = a.rule_id
         WHERE a.related_object_id = (SELECT id FROM vouchers WHERE code = ${code})
         UNION ALL
         SELECT r.*, 1, ca.created_at FROM campaign_rule_assignments ca JOIN validation_rules r ON r.id = ca.rule_id
         WHERE ca.campaign_id = (SELECT campaign_id FROM vouchers WHERE code = ${code})
         ORDER BY level, assigned_at`,
    ),
  ]);
  const row = voucher?.results[0] as unknown as DefinitionRow | undefined;
  return row ? { row, rules: (rules?.results ?? []) as unknown as RuleRow[] } : null;
}

/** The live state of vouchers by code (a promotion tier by its id), as validate and redeem read it with the visitor. */
export function selectLiveVouchers(db: D1Database, codes: string[]): D1PreparedStatement {
  return db
    .prepare(
      `SELECT v.id, v.code, v.type, v.quantity, v.redeemed_quantity, v.active, ${VOUCHER_VERSION_SQL('v')} AS definition_version, v.holder_id
       FROM vouchers v WHERE v.code IN (SELECT value FROM json_each(?))`,
    )
    .bind(JSON.stringify(codes));
}

/** The redeem batch's guard: aborts it when the voucher is gone or changed since it was judged (migration 0012). */
export function checkVoucherVersion(db: D1Database, voucherId: string, version: string): D1PreparedStatement {
  return db.prepare('INSERT INTO voucher_version_checks (voucher_id, version) VALUES (?, ?)').bind(voucherId, version);
}

/**
 * Makes `customerId` the holder of the voucher with this code or id (null: nobody), as a publication
 * does (OA24 Voucher.holder_id, OpenAPI24.json:L4511). Not an API field: the spec lets no voucher
 * route set it (VouchersCreateWithSpecificCodeRequestBody, VouchersUpdateRequestBody). RETURNING
 * the row: none when no voucher has that code or id. An unknown customer fails its foreign key
 * (d1Refusal: missing_reference).
 */
export function setVoucherHolder(db: D1Database, codeOrId: string, customerId: string | null, now: number): D1PreparedStatement {
  return prepare(
    db,
    sql`UPDATE vouchers SET holder_id = ${customerId}, updated_at = ${now} WHERE id = (SELECT id FROM vouchers WHERE (code = ${codeOrId} OR id = ${codeOrId}) AND ${sql.raw(NOT_A_TIER())} ORDER BY code = ${codeOrId} DESC LIMIT 1) RETURNING *`,
  );
}

/**
 * The redeem batch's holder guard (migration 0016): aborts it (voucher_holder_mismatch) unless the
 * customer `customer` selects is the voucher's holder exactly when `isHolder`.
 */
export function checkVoucherHolder(db: D1Database, voucherId: string, customer: Sql, isHolder: boolean): D1PreparedStatement {
  return prepare(
    db,
    sql`INSERT INTO voucher_holder_checks (voucher_id, customer_id, is_holder)
        VALUES (${voucherId}, (SELECT c.id FROM customers c WHERE ${customer} LIMIT 1), ${isHolder ? 1 : 0})`,
  );
}
