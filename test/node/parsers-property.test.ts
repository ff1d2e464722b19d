import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileSql, evaluate, FilterError, OPERATORS, parseFilter } from '../../shared/filter';
import { ApiError } from '../../worker/src/errors';
import { parseQuery } from '../../worker/src/lib/qs';

// Property-based: whatever a client sends, the parsers either accept it or refuse it with their own
// typed error; they never throw anything else (which would surface as a 500).

const fieldPath = fc.oneof(
  fc.constantFrom(
    'name',
    'email',
    'created_at',
    'birthdate',
    'address.city',
    'summary.orders.total_amount',
    'loyalty.points',
    'events.x.count',
    'metadata.a',
    'metadata.a.b',
    'system_metadata.s',
  ),
  fc.string({ maxLength: 30 }),
);
const operand = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.array(fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.double(), fc.boolean()), { maxLength: 5 }),
);
const condition = fc.dictionary(fc.oneof(fc.constantFrom(...OPERATORS), fc.string({ maxLength: 12 })), operand, { maxKeys: 3 });
const filter = fc.oneof(
  fc
    .record({ junction: fc.oneof(fc.constantFrom('and', 'or', 'AND', 'Or'), fc.string()) }, { requiredKeys: [] })
    .chain((base) =>
      fc
        .dictionary(fieldPath, fc.oneof(fc.record({ conditions: condition }), fc.jsonValue({ maxDepth: 2 })), { maxKeys: 4 })
        .map((fields) => ({ ...fields, ...base })),
    ),
  fc.jsonValue({ maxDepth: 3 }),
);

describe('parseFilter', () => {
  it('accepts or throws FilterError, and what it accepts both back ends can run (2,000 cases)', () => {
    fc.assert(
      fc.property(filter, (input) => {
        let ast;
        try {
          ast = parseFilter(input);
        } catch (error) {
          expect(error).toBeInstanceOf(FilterError);
          return;
        }
        const { sql, params } = compileSql(ast, Date.UTC(2026, 5, 15));
        expect(typeof sql).toBe('string');
        expect(params.length).toBeLessThanOrEqual(100);
        expect(
          typeof evaluate(
            ast,
            { metadata: {}, system_metadata: {}, summary: { orders: {}, redemptions: {} } } as never,
            Date.UTC(2026, 5, 15),
          ),
        ).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseQuery (client validate query strings)', () => {
  it('parses, or refuses a prototype key with a 400 naming it (no longer drops it silently); never builds an object through __proto__ (2,000 cases)', () => {
    const key = fc.oneof(
      fc.constantFrom(
        'item[0][sku_id]',
        'customer[metadata][a]',
        '[order][metadata][x]',
        '__proto__[polluted]',
        'a[constructor][prototype]',
        'a[b][c][d][e][f][g]',
        'item[999][x]',
        'x[',
        ']y',
      ),
      fc.string({ maxLength: 25 }),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(key, fc.string({ maxLength: 40 })), { maxLength: 20 }), (pairs) => {
        let parsed;
        try {
          parsed = parseQuery(new URLSearchParams(pairs));
        } catch (error) {
          expect(error).toBeInstanceOf(ApiError);
          expect(error).toMatchObject({ status: 400, key: 'invalid_query_params' });
          expect((error as ApiError).details).toMatch(/cannot be used as keys/);
          expect(
            pairs.some(([k]) => (k.match(/[^[\]]+/g) ?? []).some((name) => ['__proto__', 'constructor', 'prototype'].includes(name))),
          ).toBe(true);
          return;
        }
        expect(typeof parsed).toBe('object');
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });
});
