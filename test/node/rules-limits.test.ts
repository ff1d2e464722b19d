import { describe, expect, it } from 'vitest';
import { checkRuleSet, commitChecks, parseRuleSet, type RuleContext, redemptionWindowStarts, RuleError } from '../../shared/rules';

const context = (redemptions: Partial<RuleContext['redemptions']> = {}, isHolder = false): RuleContext => ({
  orderAmount: 1000,
  itemsCount: 1,
  items: [],
  segmentIds: new Set(),
  profile: { metadata: {}, events: {} } as never,
  now: Date.UTC(2026, 4, 17, 12),
  redemptions: { total: 0, daily: 0, monthly: 0, ...redemptions },
  isHolder,
});

const perCustomer = (conditions: object, name = 'redemption.count.per_customer') => parseRuleSet({ '1': { name, conditions } });

describe('per-customer rules (OA24 ValidationRuleRules names, OpenAPI24.json:L29769)', () => {
  it('compares the number this redemption would be: $less_than_or_equal [1] is once per customer', () => {
    const once = perCustomer({ $less_than_or_equal: [1] });
    expect(checkRuleSet(once, context())).toBeNull();
    expect(checkRuleSet(once, context({ total: 1 }))).toEqual({ kind: 'customer_redemptions' });
    const daily = perCustomer({ $less_than: [3] }, 'redemption.count.per_customer.daily');
    expect(checkRuleSet(daily, context({ total: 9, monthly: 9, daily: 1 }))).toBeNull();
    expect(checkRuleSet(daily, context({ total: 9, monthly: 9, daily: 2 }))).not.toBeNull();
  });

  it('tells the redeem batch how many more redemptions of the customer may commit first', () => {
    const atMostFive = perCustomer({ $less_than_or_equal: [5] });
    expect(commitChecks([atMostFive], context({ total: 2 })).redemptions).toMatchObject({ headroom: 2, windows: ['total'] });
    expect(commitChecks([atMostFive], context({ total: 4 })).redemptions).toMatchObject({ headroom: 0 });
    // A lower bound only gets truer as the count grows: nothing to guard.
    expect(commitChecks([perCustomer({ $more_than_or_equal: [1] })], context({ total: 3 })).redemptions).toBeNull();
    // Under "or" another rule that holds keeps the set true whatever the count.
    const either = parseRuleSet({
      '1': { name: 'redemption.count.per_customer', conditions: { $is: [1] } },
      '2': { name: 'order.amount', conditions: { $more_than: [500] } },
      logic: '1 or 2',
    });
    expect(commitChecks([either], context()).redemptions).toBeNull();
    // The tightest of several windows and rule sets wins.
    const monthly = perCustomer({ $less_than_or_equal: [3] }, 'redemption.count.per_customer.monthly');
    expect(commitChecks([atMostFive, monthly], context({ total: 1, monthly: 1 })).redemptions).toMatchObject({
      headroom: 1,
      windows: ['total', 'monthly'],
    });
  });

  it('needs the holder kept only where the rules rely on it', () => {
    const holderOnly = parseRuleSet({ '1': { name: 'publication.redeemable_by_linked_customer' } });
    expect(checkRuleSet(holderOnly, context({}, false))).toEqual({ kind: 'holder' });
    expect(commitChecks([holderOnly], context({}, true)).holder).toMatchObject({ isHolder: true });
    const off = parseRuleSet({ '1': { name: 'publication.redeemable_by_linked_customer', conditions: { $is: [false] } } });
    expect(checkRuleSet(off, context())).toBeNull();
    expect(commitChecks([off], context()).holder).toBeNull();
  });

  it('refuses what a count cannot be', () => {
    expect(() => perCustomer({ $less_than_or_equal: [0.5] })).toThrow(RuleError);
    expect(() => perCustomer({ $contains: ['1'] })).toThrow(RuleError);
  });

  it('starts the windows at the UTC day and month', () => {
    expect(redemptionWindowStarts(Date.UTC(2026, 4, 17, 12, 30))).toEqual({
      total: 0,
      daily: Date.UTC(2026, 4, 17),
      monthly: Date.UTC(2026, 4, 1),
    });
  });
});
