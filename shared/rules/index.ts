/**
 * @module Validation rules of vouchers: which customers and orders may use a voucher.
 *
 * A rule set is Voucherify's `rules` object: numbered rules plus a `logic` expression over their
 * numbers ("1 and (2 or 3)"; all rules joined by "and" when absent). Supported rules:
 * - `customer.segment`: `$is` / `$in` (member of any of the segments), `$is_not` / `$not_in`
 *   (member of none of them). Membership is decided by the caller, at validation time.
 * - `order.amount`, `order.items.count`: `$is`, `$is_not`, `$more_than`, `$less_than`,
 *   `$more_than_equal` / `$more_than_or_equal` / `$greater_than_or_equal`,
 *   `$less_than_equal` / `$less_than_or_equal`, on numbers (cents for amounts).
 * - `customer.metadata.<key>`: any operator of the segment filter on `metadata.<key>`, with the
 *   filter's semantics (shared/filter/semantics.ts).
 * - `redemption.count.per_customer` (`.daily`, `.monthly`): the numeric operators on the number
 *   this redemption would be for the customer (their earlier successful, not rolled back
 *   redemptions of the voucher in the window, plus one), so `{"$less_than_or_equal": [1]}` is
 *   "once per customer" as Voucherify's own examples write it. Windows are UTC calendar days and
 *   months. Names: OA24 ValidationRuleRules `name` table (OpenAPI24.json:L29769).
 * - `publication.redeemable_by_linked_customer`: only the voucher's holder (`holder_id`) may use
 *   it. Conditions may be omitted, or `$is: [true]`; `$is: [false]` turns the rule off.
 * - `order.items.any` / `order.items.every` / `order.items.none` on products and SKUs (./items.ts).
 */
import type { ItemRef, OrderLine } from '../discount';
import type { ExplainNode } from '../explain';
import { evaluate, explainFilter, FilterError, parseFilter, type FilterAst, type FilterProfile } from '../filter';
import { ITEMS_RULES, itemsRuleHolds, type ItemsQuantifier, parseItemsConditions } from './items';
import { evaluateLogic, type Logic, LogicError, parseLogic } from './logic';

export class RuleError extends Error {
  override readonly name = 'RuleError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

type Comparison = '=' | '!=' | '>' | '<' | '>=' | '<=';

const NUMERIC_OPERATORS: Readonly<Record<string, Comparison>> = {
  $is: '=',
  $is_not: '!=',
  $more_than: '>',
  $less_than: '<',
  $more_than_equal: '>=',
  $more_than_or_equal: '>=',
  $greater_than_or_equal: '>=',
  $less_than_equal: '<=',
  $less_than_or_equal: '<=',
};

/** One numeric condition; `op` and `operand` as written, for explanations. */
type NumericTest = { cmp: Comparison; value: number; op: string; operand: unknown[] };

/** The windows a customer's redemptions of a voucher are counted in. */
export type RedemptionWindow = 'total' | 'daily' | 'monthly';

/** One catalogue: each per-customer count rule and the window it counts in. */
export const REDEMPTION_COUNT_RULES: Readonly<Record<string, RedemptionWindow>> = {
  'redemption.count.per_customer': 'total',
  'redemption.count.per_customer.daily': 'daily',
  'redemption.count.per_customer.monthly': 'monthly',
};

export const HOLDER_RULE = 'publication.redeemable_by_linked_customer';

/** What every rule has: its number, its `name` as written (`order.amount`), its own message. */
type RuleBase = { key: string; name: string; message?: string };

export type Rule = RuleBase &
  (
    | { kind: 'segment'; include: boolean; operator: string; segmentIds: string[] }
    | { kind: 'order_amount' | 'order_items_count'; tests: NumericTest[] }
    | { kind: 'customer_metadata'; filter: FilterAst }
    | { kind: 'customer_redemptions'; window: RedemptionWindow; tests: NumericTest[] }
    | { kind: 'holder'; required: boolean }
    | { kind: 'order_items'; quantifier: ItemsQuantifier; operator: string; refs: ItemRef[] }
  );

/** A customer's earlier successful, not rolled back redemptions of one voucher, by window. */
export type RedemptionCounts = Record<RedemptionWindow, number>;

export const NO_REDEMPTIONS: RedemptionCounts = { total: 0, daily: 0, monthly: 0 };

/** Where the daily and monthly windows of `now` start (ms): the UTC day and month. */
export function redemptionWindowStarts(now: number): Record<RedemptionWindow, number> {
  const d = new Date(now);
  return {
    total: 0,
    daily: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()),
    monthly: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1),
  };
}

export interface RuleSet {
  rules: Rule[];
  logic: Logic;
  /** The logic as written (all rules joined by "and" when the rule set gave none), for explanations. */
  logicSource: string;
  /** The rule set's fallback message (the validation rule's `error.message`). */
  message?: string;
}

/** Everything a rule set is judged on. */
export interface RuleContext {
  orderAmount: number;
  itemsCount: number;
  /** The order's lines, for the order.items.* rules. */
  items: OrderLine[];
  /** The segments the customer (or anonymous visitor) belongs to right now. */
  segmentIds: ReadonlySet<string>;
  profile: FilterProfile;
  now: number;
  /** The customer's earlier redemptions of the voucher judged (all 0 for a visitor with no customer). */
  redemptions: RedemptionCounts;
  /** Whether the customer judged is the voucher's holder (never for a visitor with no customer). */
  isHolder: boolean;
  /**
   * When explaining: how each segment's membership was decided (`segment` nodes by segment id),
   * for the customer.segment conditions' children. Absent: the trace names the segment only.
   */
  segmentTraces?: ReadonlyMap<string, ExplainNode>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);

function ruleMessage(value: unknown, path: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value) || (value.message !== undefined && typeof value.message !== 'string')) {
    throw new RuleError(path, 'must be an object with a string message');
  }
  return typeof value.message === 'string' ? value.message.slice(0, 500) : undefined;
}

function numericTests(key: string, name: string, entries: [string, unknown][], whole: boolean): NumericTest[] {
  return entries.map(([op, raw]) => {
    const cmp = NUMERIC_OPERATORS[op];
    if (!cmp) throw new RuleError(`${key}.conditions.${op}`, `unknown operator for ${name}`);
    const value = asArray(raw)[0];
    const n = typeof value === 'string' && /^-?[0-9]+$/.test(value) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isFinite(n)) throw new RuleError(`${key}.conditions.${op}`, 'must be a number');
    // A count is whole: a fractional bound would only be a whole one spelt differently.
    if (whole && (!Number.isInteger(n) || n < 0)) throw new RuleError(`${key}.conditions.${op}`, 'must be a whole number of redemptions');
    return { cmp, value: n, op, operand: asArray(raw) };
  });
}

/** The holder rule's conditions: none (the rule's name says it all), `$is: [true]` or `$is: [false]`. */
function holderRequired(key: string, conditions: unknown): boolean {
  if (conditions === undefined || conditions === null) return true;
  if (!isObject(conditions)) throw new RuleError(`${key}.conditions`, 'must be an object');
  const entries = Object.entries(conditions);
  if (entries.length === 0) return true;
  const [op, raw] = entries[0] as [string, unknown];
  const value = asArray(raw)[0];
  const flag = value === true || value === 'true' ? true : value === false || value === 'false' ? false : undefined;
  if (entries.length !== 1 || (op !== '$is' && op !== '$is_not') || flag === undefined) {
    throw new RuleError(`${key}.conditions`, `${HOLDER_RULE} takes $is: [true] (or no conditions)`);
  }
  return op === '$is' ? flag : !flag;
}

function parseRule(key: string, input: unknown): Rule {
  if (!isObject(input)) throw new RuleError(key, 'must be an object with name and conditions');
  const { name, conditions } = input;
  const message = ruleMessage(input.error, `${key}.error`);
  if (typeof name !== 'string') throw new RuleError(`${key}.name`, 'must be a string');
  if (name === HOLDER_RULE) return { key, name, kind: 'holder', required: holderRequired(key, conditions), message };
  if (!isObject(conditions) || Object.keys(conditions).length === 0) {
    throw new RuleError(`${key}.conditions`, 'must be an object with at least one operator');
  }
  const entries = Object.entries(conditions);

  if (name === 'customer.segment') {
    if (entries.length !== 1) throw new RuleError(`${key}.conditions`, 'takes one operator: $is, $in, $is_not or $not_in');
    const [op, raw] = entries[0] as [string, unknown];
    if (!['$is', '$in', '$is_not', '$not_in'].includes(op)) {
      throw new RuleError(`${key}.conditions.${op}`, 'customer.segment takes $is, $in, $is_not or $not_in');
    }
    const ids = asArray(raw);
    if (ids.length === 0 || ids.length > 50 || !ids.every((id) => typeof id === 'string' && id.length > 0 && id.length <= 64)) {
      throw new RuleError(`${key}.conditions.${op}`, 'must be 1 to 50 segment ids');
    }
    return { key, name, kind: 'segment', include: op === '$is' || op === '$in', operator: op, segmentIds: ids as string[], message };
  }

  if (name === 'order.amount' || name === 'order.items.count') {
    const tests = numericTests(key, name, entries, false);
    return { key, name, kind: name === 'order.amount' ? 'order_amount' : 'order_items_count', tests, message };
  }

  const window = Object.hasOwn(REDEMPTION_COUNT_RULES, name) ? REDEMPTION_COUNT_RULES[name] : undefined;
  if (window) return { key, name, kind: 'customer_redemptions', window, tests: numericTests(key, name, entries, true), message };

  if (name.startsWith('customer.metadata.')) {
    const field = name.slice('customer.'.length);
    try {
      return { key, name, kind: 'customer_metadata', filter: parseFilter({ [field]: { conditions } }), message };
    } catch (error) {
      if (error instanceof FilterError) throw new RuleError(`${key}.${error.path.replace(`${field}.`, '')}`, error.message);
      throw error;
    }
  }

  const quantifier = ITEMS_RULES[name];
  if (quantifier) {
    // Nested item rules (e.g. order.items.metadata) are not built: refused, never ignored.
    if (input.rules !== undefined && input.rules !== null && !(isObject(input.rules) && Object.keys(input.rules).length === 0)) {
      throw new RuleError(`${key}.rules`, `not supported: nested rules under ${name}`);
    }
    const refs = parseItemsConditions(conditions);
    if (!Array.isArray(refs)) throw new RuleError(`${key}.conditions.${refs.path}`, refs.message);
    return { key, name, kind: 'order_items', quantifier, operator: Object.keys(conditions)[0] ?? '$is', refs, message };
  }

  const known = [
    'customer.segment',
    'order.amount',
    'order.items.count',
    ...Object.keys(ITEMS_RULES),
    'customer.metadata.<key>',
    ...Object.keys(REDEMPTION_COUNT_RULES),
    HOLDER_RULE,
  ];
  throw new RuleError(`${key}.name`, `unknown rule "${name}": use ${known.join(', ')}`);
}

/** Validates a rule set once (on create); the stored input parses again without error. */
export function parseRuleSet(rules: unknown, error?: unknown): RuleSet {
  // No rules at all (absent, null, or `{logic: ''}` as Voucherify's own scope-only examples write
  // it, OA GET /v1/validation-rules "Business Validation Rule - Get some $ off"): a rule that only
  // scopes the discount with its applicable_to and refuses nothing by itself.
  if (rules === undefined || rules === null)
    return { rules: [], logic: { kind: 'always' }, logicSource: '', message: ruleMessage(error, 'error') };
  if (!isObject(rules)) throw new RuleError('', 'must be an object of numbered rules and a logic expression');
  const keys = Object.keys(rules).filter((k) => k !== 'logic');
  if (keys.length > 20) throw new RuleError('', 'must hold at most 20 rules');
  const bad = keys.find((k) => !/^[0-9]{1,3}$/.test(k));
  if (bad !== undefined) throw new RuleError(bad, 'rule keys are numbers: "1", "2", …');
  const parsed = keys.map((k) => parseRule(k, rules[k]));
  const written = rules.logic ?? '';
  if (typeof written !== 'string' || written.length > 500) throw new RuleError('logic', 'must be a string');
  if (keys.length === 0) {
    if (written.trim() !== '') throw new RuleError('logic', 'names rules but the rule set has none');
    return { rules: [], logic: { kind: 'always' }, logicSource: '', message: ruleMessage(error, 'error') };
  }
  // An empty logic (as `{logic: ''}` is written with no rules) joins the rules by "and", as no logic does.
  const logicSource = written.trim() === '' ? keys.join(' and ') : written;
  let logic: Logic;
  try {
    logic = parseLogic(logicSource, new Set(keys));
  } catch (e) {
    if (e instanceof LogicError) throw new RuleError('logic', e.message);
    throw e;
  }
  return { rules: parsed, logic, logicSource, message: ruleMessage(error, 'error') };
}

/** The segments a rule set asks about, so the caller can decide membership for just these. */
export function ruleSetSegmentIds(ruleSet: RuleSet): string[] {
  return [...new Set(ruleSet.rules.flatMap((r) => (r.kind === 'segment' ? r.segmentIds : [])))];
}

function compare(a: number, cmp: Comparison, b: number): boolean {
  switch (cmp) {
    case '=':
      return a === b;
    case '!=':
      return a !== b;
    case '>':
      return a > b;
    case '<':
      return a < b;
    case '>=':
      return a >= b;
    case '<=':
      return a <= b;
  }
}

/**
 * Whether the numbers pass every test. With `trace`, every test is tried and recorded; without,
 * the first failure ends it.
 */
function numbersHold(tests: readonly NumericTest[], actual: number, field: string, trace: ExplainNode[] | null): boolean {
  let holds = true;
  for (const t of tests) {
    const passed = compare(actual, t.cmp, t.value);
    trace?.push({ kind: 'condition', label: `${field} ${t.op}`, passed, field, operator: t.op, expected: t.operand, actual });
    if (!passed) {
      holds = false;
      if (!trace) break;
    }
  }
  return holds;
}

/** The product and SKU ids of the order's lines, as an order.items.* condition read them. */
const itemRefsOf = (lines: readonly OrderLine[]) =>
  lines.map((line) => ({
    product_id: line.product_id ?? null,
    sku_id: line.sku_id ?? null,
    source_id: line.source_id ?? null,
    quantity: line.quantity ?? 1,
  }));

/** The segment node of a customer.segment condition: the caller's trace of it, or its bare verdict. */
const segmentNode = (id: string, ctx: RuleContext): ExplainNode =>
  ctx.segmentTraces?.get(id) ?? { kind: 'segment', label: id, passed: ctx.segmentIds.has(id) };

/**
 * Whether one rule holds for `ctx`; with `trace`, its conditions are appended to it, each with the
 * value it read (the one walk decides and records: there is no second implementation to drift).
 */
function ruleHolds(rule: Rule, ctx: RuleContext, trace: ExplainNode[] | null): boolean {
  switch (rule.kind) {
    case 'segment': {
      const member = rule.segmentIds.some((id) => ctx.segmentIds.has(id));
      const passed = rule.include ? member : !member;
      trace?.push({
        kind: 'condition',
        label: `${rule.name} ${rule.operator}`,
        passed,
        field: rule.name,
        operator: rule.operator,
        expected: rule.segmentIds,
        actual: rule.segmentIds.filter((id) => ctx.segmentIds.has(id)),
        logic: rule.include ? 'or' : 'none',
        children: rule.segmentIds.map((id) => segmentNode(id, ctx)),
      });
      return passed;
    }
    case 'order_amount':
      return numbersHold(rule.tests, ctx.orderAmount, rule.name, trace);
    case 'order_items_count':
      return numbersHold(rule.tests, ctx.itemsCount, rule.name, trace);
    case 'customer_metadata': {
      if (!trace) return evaluate(rule.filter, ctx.profile, ctx.now);
      // The same walk, recording: its conditions, named as the rule names the field.
      const explained = explainFilter(rule.filter, ctx.profile, ctx.now);
      for (const field of explained.children ?? []) {
        for (const condition of field.children ?? []) {
          trace.push({ ...condition, label: `${rule.name} ${condition.operator}`, field: rule.name });
        }
      }
      return explained.passed;
    }
    case 'customer_redemptions':
      // The number this redemption would be: `$less_than_or_equal: [1]` allows the first only.
      return numbersHold(rule.tests, ctx.redemptions[rule.window] + 1, rule.name, trace);
    case 'holder': {
      const passed = !rule.required || ctx.isHolder;
      trace?.push({
        kind: 'condition',
        label: rule.name,
        passed,
        field: rule.name,
        operator: '$is',
        expected: [rule.required],
        actual: ctx.isHolder,
      });
      return passed;
    }
    case 'order_items': {
      const passed = itemsRuleHolds(rule.quantifier, rule.refs, ctx.items);
      trace?.push({
        kind: 'condition',
        label: `${rule.name} ${rule.operator}`,
        passed,
        field: rule.name,
        operator: rule.operator,
        expected: rule.refs,
        actual: itemRefsOf(ctx.items),
      });
      return passed;
    }
  }
}

/** Which kind of rule failed (it decides the error key) and the message the shop gave it. */
export type RuleViolation = { kind: Rule['kind']; message?: string };

/**
 * null when the rule set holds; otherwise which kind of rule failed and its message. With `trace`,
 * a `rules` node (labelled `label`) is appended with one `rule` node per rule, each with its
 * conditions: the rules are judged once, and the trace is that judgement.
 */
export function checkRuleSet(
  ruleSet: RuleSet,
  ctx: RuleContext,
  trace: ExplainNode[] | null = null,
  label = 'validation rules',
): RuleViolation | null {
  const ruleNodes: ExplainNode[] | null = trace && [];
  const truth = new Map(
    ruleSet.rules.map((rule) => {
      const conditions: ExplainNode[] | null = trace && [];
      const passed = ruleHolds(rule, ctx, conditions);
      ruleNodes?.push({
        kind: 'rule',
        label: `rule ${rule.key}: ${rule.name}`,
        passed,
        logic: 'and',
        children: conditions ?? [],
        ...(!passed && rule.message ? { detail: rule.message } : {}),
      });
      return [rule.key, passed];
    }),
  );
  const holds = evaluateLogic(ruleSet.logic, (key) => truth.get(key) === true);
  // A rule set without rules (only applicable_to) has no logic to show.
  trace?.push({
    kind: 'rules',
    label,
    passed: holds,
    ...(ruleSet.logicSource ? { logic: ruleSet.logicSource } : {}),
    children: ruleNodes ?? [],
  });
  if (holds) return null;
  // Blame the first rule that does not hold (by number); under "or" logic several may.
  const failed = ruleSet.rules.filter((r) => !truth.get(r.key)).sort((a, b) => Number(a.key) - Number(b.key))[0];
  return { kind: failed?.kind ?? 'segment', message: failed?.message ?? ruleSet.message };
}

/**
 * What a redemption judged valid relies on that another request can change before it commits,
 * for the redeem batch to check again at commit time (worker/migrations/0016):
 * - `redemptions`: how many more redemptions of this customer may commit first (`headroom`) with
 *   the rule sets still holding, in which windows the rules count, and the violation past that;
 * - `holder`: the customer's holder status the rule sets need kept, and the violation otherwise.
 * null members: nothing of that kind is relied on.
 */
export interface CommitChecks {
  redemptions: { headroom: number; windows: RedemptionWindow[]; violation: RuleViolation } | null;
  holder: { isHolder: boolean; violation: RuleViolation } | null;
}

/**
 * The commit checks of rule sets that hold for `ctx`. Concurrent redemptions of the customer
 * raise every window's count together, so the headroom is the largest n for which the rule sets
 * hold with every count up to n higher; the truth of a count test changes only where the count
 * reaches a bound, so only those points are tried.
 */
export function commitChecks(ruleSets: readonly RuleSet[], ctx: RuleContext): CommitChecks {
  const checks: CommitChecks = { redemptions: null, holder: null };
  const failing = (at: RuleContext) => ruleSets.map((rs) => checkRuleSet(rs, at)).find((v) => v !== null) ?? null;
  const counting = ruleSets
    .flatMap((rs) => rs.rules)
    .filter((r): r is Extract<Rule, { kind: 'customer_redemptions' }> => r.kind === 'customer_redemptions');
  if (counting.length > 0) {
    const steps = new Set<number>();
    for (const rule of counting) {
      for (const t of rule.tests) {
        const reached = t.value - (ctx.redemptions[rule.window] + 1);
        for (const step of [reached, reached + 1]) if (step > 0) steps.add(step);
      }
    }
    for (const step of [...steps].sort((a, b) => a - b)) {
      const raised = { total: ctx.redemptions.total + step, daily: ctx.redemptions.daily + step, monthly: ctx.redemptions.monthly + step };
      const violation = failing({ ...ctx, redemptions: raised });
      if (violation) {
        checks.redemptions = { headroom: step - 1, windows: [...new Set(counting.map((r) => r.window))], violation };
        break;
      }
    }
  }
  if (ruleSets.some((rs) => rs.rules.some((r) => r.kind === 'holder'))) {
    const violation = failing({ ...ctx, isHolder: !ctx.isHolder });
    if (violation) checks.holder = { isHolder: ctx.isHolder, violation };
  }
  return checks;
}
