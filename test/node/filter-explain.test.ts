import { describe, expect, it } from 'vitest';
import { evaluate, explainFilter, parseFilter, type FilterProfile } from '../../shared/filter';
import { checkRuleSet, parseRuleSet, type RuleContext } from '../../shared/rules';
import { emptyCustomerRow } from '../../worker/src/db/customers';
import { traceInconsistencies } from '../explain-consistency';
import { rowToCustomer } from '../../worker/src/views/customer';

// What a trace says (shared/explain.ts): per condition the field, the operator and operands as
// written, and the value actually read from the profile; per field `and`; the root's junction.

const NOW = Date.UTC(2026, 5, 15, 12);

const profile: FilterProfile = {
  ...rowToCustomer({
    ...emptyCustomerRow('cust_x', Date.UTC(2026, 4, 1)),
    name: 'Alice',
    email: 'alice@example.com',
    orders_total_amount: 2500,
  }),
  metadata: { tier: 'silver', tags: ['vip'] },
  events: { cart_abandoned: { count: 3 } },
};

const explain = (filter: Record<string, unknown>) => {
  const ast = parseFilter(filter);
  const trace = explainFilter(ast, profile, NOW);
  expect(trace.passed).toBe(evaluate(ast, profile, NOW));
  expect(traceInconsistencies(trace)).toEqual([]);
  return trace;
};

describe('explainFilter', () => {
  it('records each condition with its operator, operands as written and the value read', () => {
    const trace = explain({
      name: { conditions: { $is: 'Frank' } },
      created_at: { conditions: { $before: ['2026-05-16'], $more_than_ago: ['30'] } },
      'events.cart_abandoned.count': { conditions: { $more_than: [2] } },
      'events.purchase.count': { conditions: { $more_than_equal: [1] } },
      'metadata.tier': { conditions: { $is_unknown: true } },
    });
    expect(trace).toMatchObject({ kind: 'filter', label: 'match all', logic: 'and', passed: false });
    expect(trace.children?.map((f) => [f.kind, f.field, f.logic, f.passed])).toEqual([
      ['field', 'name', 'and', false],
      ['field', 'created_at', 'and', true],
      ['field', 'events.cart_abandoned.count', 'and', true],
      ['field', 'events.purchase.count', 'and', false],
      ['field', 'metadata.tier', 'and', false],
    ]);
    const conditions = trace.children?.flatMap((f) => f.children ?? []);
    expect(conditions).toEqual([
      // A scalar operand stands for a one-element list; the name read is the stored one.
      { kind: 'condition', label: 'name $is', passed: false, field: 'name', operator: '$is', expected: ['Frank'], actual: 'Alice' },
      // Dates and numbers as the author wrote them, not the epoch ms and numbers the back ends use.
      {
        kind: 'condition',
        label: 'created_at $before',
        passed: true,
        field: 'created_at',
        operator: '$before',
        expected: ['2026-05-16'],
        actual: '2026-05-01T00:00:00.000Z',
      },
      {
        kind: 'condition',
        label: 'created_at $more_than_ago',
        passed: true,
        field: 'created_at',
        operator: '$more_than_ago',
        expected: ['30'],
        actual: '2026-05-01T00:00:00.000Z',
      },
      // An event count reads the count; no event of the type reads 0.
      {
        kind: 'condition',
        label: 'events.cart_abandoned.count $more_than',
        passed: true,
        field: 'events.cart_abandoned.count',
        operator: '$more_than',
        expected: [2],
        actual: 3,
      },
      {
        kind: 'condition',
        label: 'events.purchase.count $more_than_equal',
        passed: false,
        field: 'events.purchase.count',
        operator: '$more_than_equal',
        expected: [1],
        actual: 0,
      },
      {
        kind: 'condition',
        label: 'metadata.tier $is_unknown',
        passed: false,
        field: 'metadata.tier',
        operator: '$is_unknown',
        expected: [true],
        actual: 'silver',
      },
    ]);
  });

  it('reads a missing value as null, and goes on past the field that decides an "or"', () => {
    const trace = explain({
      junction: 'OR',
      'summary.orders.total_amount': { conditions: { $more_than: [1000] } },
      'metadata.missing': { conditions: { $is: ['x'] } },
      'address.city': { conditions: { $has_value: true } },
    });
    expect(trace).toMatchObject({ kind: 'filter', label: 'match any', logic: 'or', passed: true });
    expect(trace.children?.map((f) => f.children?.map((c) => [c.actual, c.passed]))).toEqual([
      [[2500, true]],
      [[null, false]],
      [[null, false]],
    ]);
  });

  it('explains an empty filter as a match with no conditions', () => {
    expect(explain({})).toEqual({ kind: 'filter', label: 'match all', passed: true, logic: 'and', children: [] });
  });
});

describe('checkRuleSet with a trace', () => {
  const context: RuleContext = {
    orderAmount: 800,
    itemsCount: 2,
    items: [{ product_id: 'prod_1', quantity: 2 }],
    segmentIds: new Set(['seg_in']),
    profile,
    now: NOW,
    redemptions: { total: 1, daily: 0, monthly: 1 },
    isHolder: false,
  };

  it('records every rule with its conditions and the rule logic that decided', () => {
    const ruleSet = parseRuleSet({
      '1': { name: 'order.amount', conditions: { $more_than: ['1000'] }, error: { message: 'spend more' } },
      '2': { name: 'customer.metadata.tier', conditions: { $in: ['gold', 'silver'] } },
      '3': { name: 'customer.segment', conditions: { $is_not: ['seg_in', 'seg_out'] } },
      '4': { name: 'redemption.count.per_customer', conditions: { $less_than_or_equal: [1] } },
      logic: '(1 or 2) and (3 or 4)',
    });
    const trace: import('../../shared/explain').ExplainNode[] = [];
    const violation = checkRuleSet(ruleSet, context, trace, 'val_1');
    // The refusal blames the first rule that does not hold (by number), as before.
    expect(violation).toEqual({ kind: 'order_amount', message: 'spend more' });
    expect(trace).toHaveLength(1);
    const [rules] = trace;
    expect(rules).toMatchObject({ kind: 'rules', label: 'val_1', logic: '(1 or 2) and (3 or 4)', passed: false });
    expect(traceInconsistencies(rules!)).toEqual([]);
    expect(rules!.children?.map((r) => [r.label, r.passed, r.detail])).toEqual([
      ['rule 1: order.amount', false, 'spend more'],
      ['rule 2: customer.metadata.tier', true, undefined],
      ['rule 3: customer.segment', false, undefined],
      ['rule 4: redemption.count.per_customer', false, undefined],
    ]);
    const [amount, tier, segment, count] = rules!.children!.map((r) => r.children?.[0]);
    expect(amount).toMatchObject({ field: 'order.amount', operator: '$more_than', expected: ['1000'], actual: 800, passed: false });
    expect(tier).toMatchObject({
      field: 'customer.metadata.tier',
      operator: '$in',
      expected: ['gold', 'silver'],
      actual: 'silver',
      passed: true,
    });
    expect(segment).toMatchObject({
      field: 'customer.segment',
      operator: '$is_not',
      expected: ['seg_in', 'seg_out'],
      actual: ['seg_in'],
      logic: 'none',
      passed: false,
    });
    expect(segment?.children?.map((s) => [s.kind, s.label, s.passed])).toEqual([
      ['segment', 'seg_in', true],
      ['segment', 'seg_out', false],
    ]);
    // The number this redemption would be: the customer's second.
    expect(count).toMatchObject({
      field: 'redemption.count.per_customer',
      operator: '$less_than_or_equal',
      expected: [1],
      actual: 2,
      passed: false,
    });
    // Without a trace the verdict is the same.
    expect(checkRuleSet(ruleSet, context)).toEqual(violation);
  });
});
