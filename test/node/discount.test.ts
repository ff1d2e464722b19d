import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  allocate,
  applicableLines,
  combine,
  discountAmount,
  type ItemScope,
  type OrderLine,
  type Pricing,
  priceOrder,
  totalDiscount,
  unpriced,
} from '../../shared/discount';
import type { Discount } from '../../shared/types';

// The discount math (shared/discount.ts), pure. Effects as OA names them: DiscountAmountVouchersEffectTypes
// (readOnly-openAPI.json:L6064), DiscountPercentVouchersEffectTypes (L6206), DiscountFixedVouchersEffectTypes
// (L6149), DiscountUnit (L6214) / DiscountUnitMultiple (L6269).

const PRODUCTS = ['shoes', 'socks', 'mug', 'hat'];
const cents = fc.integer({ min: 0, max: 2_000_000 });

const line: fc.Arbitrary<OrderLine> = fc.record(
  {
    product_id: fc.constantFrom(...PRODUCTS),
    sku_id: fc.constantFrom('s1', 's2', 's3'),
    quantity: fc.integer({ min: 0, max: 20 }),
    price: fc.integer({ min: 0, max: 100_000 }),
    amount: cents,
  },
  { requiredKeys: ['product_id'] },
);
const order = fc.record({ amount: fc.option(cents, { nil: null }), lines: fc.array(line, { maxLength: 6 }) });

const ref = fc.oneof(
  fc.record({ object: fc.constant('product' as const), id: fc.constantFrom(...PRODUCTS) }),
  fc.record({ object: fc.constant('sku' as const), id: fc.constantFrom('s1', 's2', 's3') }),
);
const scope: fc.Arbitrary<ItemScope | null> = fc.option(
  fc.record({ included: fc.array(ref, { maxLength: 3 }), excluded: fc.array(ref, { maxLength: 2 }), included_all: fc.boolean() }),
  { nil: null },
);

const limit = fc.option(cents, { nil: undefined });
const grant = fc.record({
  unit_off: fc.integer({ min: 1, max: 5 }),
  unit_type: fc.constantFrom(...PRODUCTS, 's1'),
  effect: fc.constantFrom('ADD_MISSING_ITEMS' as const, 'ADD_NEW_ITEMS' as const),
  // The price of a unit the order does not hold (it is added as a line of its own).
  product: fc.option(fc.record({ price: fc.option(fc.integer({ min: 0, max: 100_000 }), { nil: null }) }), { nil: undefined }),
});
const discount: fc.Arbitrary<Discount> = fc.oneof(
  fc.record({
    type: fc.constant('AMOUNT' as const),
    amount_off: cents,
    effect: fc.constantFrom(
      'APPLY_TO_ORDER' as const,
      'APPLY_TO_ITEMS' as const,
      'APPLY_TO_ITEMS_PROPORTIONALLY' as const,
      'APPLY_TO_ITEMS_PROPORTIONALLY_BY_QUANTITY' as const,
      'APPLY_TO_ITEMS_BY_QUANTITY' as const,
    ),
    aggregated_amount_limit: limit,
  }),
  fc.record({
    type: fc.constant('PERCENT' as const),
    percent_off: fc.oneof(fc.integer({ min: 1, max: 100 }), fc.double({ min: 0.01, max: 100, noNaN: true })),
    amount_limit: limit,
    aggregated_amount_limit: limit,
    effect: fc.constantFrom('APPLY_TO_ORDER' as const, 'APPLY_TO_ITEMS' as const),
  }),
  fc.record({
    type: fc.constant('FIXED' as const),
    fixed_amount: cents,
    effect: fc.constantFrom('APPLY_TO_ORDER' as const, 'APPLY_TO_ITEMS' as const),
  }),
  grant.map((g) => ({ type: 'UNIT' as const, ...g })),
  fc.array(grant, { minLength: 1, maxLength: 3 }).map((units) => ({ type: 'UNIT' as const, effect: 'ADD_MANY_ITEMS' as const, units })),
);

const isCents = (n: number) => Number.isSafeInteger(n) && n >= 0;

/** What every pricing must satisfy, whatever the discount and the order. */
function checkInvariants(p: Pricing) {
  expect(isCents(p.orderDiscount) && isCents(p.itemsDiscount) && isCents(p.amount) && isCents(p.initialAmount)).toBe(true);
  // Never a negative total.
  expect(totalDiscount(p)).toBeLessThanOrEqual(p.amount);
  expect(p.amount).toBeGreaterThanOrEqual(p.initialAmount);
  expect(p.itemsDiscount).toBe(p.lines.reduce((s, l) => s + l.discount, 0) + p.added.reduce((s, l) => s + l.discount, 0));
  // An added line is free: all its units, never more.
  for (const l of p.added) expect(l.discount).toBe(l.amount ?? 0);
  for (const l of p.lines) {
    expect(isCents(l.discount)).toBe(true);
    expect(l.discount).toBeLessThanOrEqual(Math.max(0, l.amount ?? 0));
  }
}

describe('priceOrder', () => {
  it('keeps integer cents, never a negative total, each line within its amount (3,000 cases)', () => {
    fc.assert(
      fc.property(discount, order, scope, (d, o, s) => {
        checkInvariants(priceOrder(d, o, s));
      }),
      { numRuns: 3000 },
    );
  });

  it('touches only applicable lines under an item effect, and only the unit line under UNIT', () => {
    fc.assert(
      fc.property(discount, order, scope, (d, o, s) => {
        const p = priceOrder(d, o, s);
        if (d.type === 'UNIT') {
          const units = d.effect === 'ADD_MANY_ITEMS' ? d.units.map((u) => u.unit_type) : [d.unit_type];
          p.lines.forEach((l, i) => {
            const ln = o.lines[i] as OrderLine;
            if (!units.includes(ln.product_id ?? '') && !units.includes(ln.sku_id ?? '')) expect(l.discount).toBe(0);
          });
        } else if ((d.effect ?? 'APPLY_TO_ORDER') !== 'APPLY_TO_ORDER') {
          const applicable = applicableLines(o.lines, s);
          p.lines.forEach((l, i) => {
            if (!applicable[i]) expect(l.discount).toBe(0);
          });
          expect(p.orderDiscount).toBe(0);
        } else {
          expect(p.itemsDiscount).toBe(0);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('caps PERCENT by amount_limit (the order, or each line) and by aggregated_amount_limit', () => {
    fc.assert(
      fc.property(discount, order, scope, (d, o, s) => {
        if (d.type !== 'PERCENT') return;
        const p = priceOrder(d, o, s);
        if (d.amount_limit !== undefined) {
          expect(p.orderDiscount).toBeLessThanOrEqual(d.amount_limit);
          for (const l of p.lines) expect(l.discount).toBeLessThanOrEqual(d.amount_limit);
        }
        if (d.effect === 'APPLY_TO_ITEMS' && d.aggregated_amount_limit !== undefined)
          expect(p.itemsDiscount).toBeLessThanOrEqual(d.aggregated_amount_limit);
      }),
      { numRuns: 2000 },
    );
  });

  it('APPLY_TO_ORDER without a scope is the order-level discountAmount of before', () => {
    fc.assert(
      fc.property(discount, order, (d, o) => {
        if (d.type === 'UNIT' || (d.effect ?? 'APPLY_TO_ORDER') !== 'APPLY_TO_ORDER') return;
        const p = priceOrder(d, o, null);
        expect(p.orderDiscount).toBe(discountAmount(d, p.initialAmount));
      }),
    );
  });

  it('spreads AMOUNT proportionally to the cent: the parts sum to what the items can take', () => {
    fc.assert(
      fc.property(cents, fc.array(line, { minLength: 1, maxLength: 6 }), (amountOff, lines) => {
        const p = priceOrder(
          { type: 'AMOUNT', amount_off: amountOff, effect: 'APPLY_TO_ITEMS_PROPORTIONALLY' },
          { amount: null, lines },
          null,
        );
        const eligible = p.lines.reduce((s, l) => s + (l.amount ?? 0), 0);
        expect(p.itemsDiscount).toBe(Math.min(amountOff, eligible));
      }),
    );
  });

  it('worked examples', () => {
    const items: OrderLine[] = [
      { product_id: 'shoes', quantity: 2, price: 5000 },
      { product_id: 'socks', quantity: 1, price: 1000 },
    ];
    const shoes: ItemScope = { included: [{ object: 'product', id: 'shoes' }], excluded: [], included_all: false };
    expect(
      priceOrder({ type: 'PERCENT', percent_off: 15, effect: 'APPLY_TO_ITEMS' }, { amount: null, lines: items }, shoes).lines.map(
        (l) => l.discount,
      ),
    ).toEqual([1500, 0]);
    // An order amount lower than the items' sum: the items never take more than the order.
    expect(
      priceOrder({ type: 'AMOUNT', amount_off: 5000, effect: 'APPLY_TO_ITEMS' }, { amount: 3000, lines: items }, null).itemsDiscount,
    ).toBe(3000);
    const mug = priceOrder(
      { type: 'UNIT', unit_off: 3, unit_type: 'socks', effect: 'ADD_MISSING_ITEMS' },
      { amount: null, lines: items },
      null,
    );
    expect(mug).toMatchObject({ initialAmount: 11000, amount: 13000, itemsDiscount: 3000 });
    expect(mug.lines[1]).toMatchObject({ quantity: 3, addedQuantity: 2, addedAmount: 2000, discountQuantity: 3, discount: 3000 });
  });

  it('adds a line for a unit the order does not hold (OA24 validate "Free Shipping", OpenAPI24.json:L58304; "Unit - Add order items", L58576)', () => {
    const items: OrderLine[] = [{ product_id: 'coffee', quantity: 1, price: 4300 }];
    // No price known: the line is added, the totals do not move (the "Free Shipping" example: amount 4300, total 4300).
    const shipping = priceOrder(
      {
        type: 'UNIT',
        unit_off: 1,
        unit_type: 'prod_shipping',
        effect: 'ADD_MISSING_ITEMS',
        product: { id: 'prod_shipping', name: 'Shipping' },
      },
      { amount: 4300, lines: items },
      null,
    );
    expect(shipping).toMatchObject({ initialAmount: 4300, amount: 4300, itemsDiscount: 0, orderDiscount: 0 });
    expect(shipping.added).toEqual([
      {
        unitType: 'prod_shipping',
        product: { id: 'prod_shipping', name: 'Shipping' },
        quantity: 1,
        price: null,
        amount: null,
        discount: 0,
      },
    ]);
    // A price named by the grant: the order's amount and its item discount include the added units
    // (the "Unit - Add order items" example: amount 117700 over initial_amount 28000, 3 × 29900 free).
    const jacket = priceOrder(
      { type: 'UNIT', unit_off: 3, unit_type: 'sku_jacket', effect: 'ADD_NEW_ITEMS', sku: { id: 'sku_jacket', price: 29900 } },
      { amount: 28000, lines: [{ sku_id: 'sku_keychain', quantity: 1, price: 28000 }] },
      null,
    );
    expect(jacket).toMatchObject({ initialAmount: 28000, amount: 117700, itemsDiscount: 89700 });
    expect(jacket.added[0]).toMatchObject({ quantity: 3, price: 29900, amount: 89700, discount: 89700 });
    expect(totalDiscount(jacket)).toBe(89700);
    // Two codes of a stack adding the same unit: one line with the units of both.
    const both = combine(unpriced({ amount: 28000, lines: [] }), [jacket, jacket]);
    expect(both.added).toHaveLength(1);
    expect(both.added[0]).toMatchObject({ quantity: 6, amount: 179400, discount: 179400 });
    expect(both).toMatchObject({ amount: 28000 + 179400, itemsDiscount: 179400 });
  });
});

describe('combine (a stack)', () => {
  it('keeps the invariants for any stack of discounts on one order', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(discount, scope), { maxLength: 4 }), order, (stack, o) => {
        const p = combine(
          unpriced(o),
          stack.map(([d, s]) => priceOrder(d, o, s)),
        );
        checkInvariants(p);
      }),
      { numRuns: 1500 },
    );
  });
});

describe('allocate', () => {
  it('gives integer parts within their caps that sum to min(total, caps of weighted lines)', () => {
    fc.assert(
      fc.property(cents, fc.array(fc.tuple(fc.integer({ min: 0, max: 1_000_000 }), cents), { maxLength: 8 }), (total, rows) => {
        const weights = rows.map(([w]) => w);
        const caps = rows.map(([, c]) => c);
        const parts = allocate(total, weights, caps);
        parts.forEach((part, i) => {
          expect(Number.isSafeInteger(part) && part >= 0 && part <= (caps[i] as number)).toBe(true);
          if (weights[i] === 0) expect(part).toBe(0);
        });
        const room = caps.reduce((s, c, i) => s + ((weights[i] as number) > 0 ? c : 0), 0);
        expect(parts.reduce((a, b) => a + b, 0)).toBe(Math.min(total, room));
      }),
      { numRuns: 3000 },
    );
  });
});
