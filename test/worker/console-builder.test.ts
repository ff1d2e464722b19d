/**
 * The console's segment builder: rows of field + operator + value to the filter grammar of
 * POST /v1/segments and back (worker/src/console/builder.ts), offering exactly the catalogue.
 */
import { describe, expect, it } from 'vitest';
import { CUSTOMER_FIELDS } from '../../shared/customer-fields';
import { evaluate, parseFilter } from '../../shared/filter';
import { MAX_CONDITIONS, OPERATOR_VALUES, OPERATORS } from '../../shared/filter/operators';
import {
  type BuilderRow,
  FIXED_FIELDS,
  filterToRows,
  normaliseRow,
  operatorsFor,
  rowsFromForm,
  rowsToFilter,
  valueShape,
} from '../../worker/src/console/builder';

const row = (field: string, op: string, value = '', key = ''): BuilderRow => ({ field, key, op, value });

describe('the builder offers exactly the filter catalogue', () => {
  it('every customer field of the catalogue, each with the operators the grammar allows on its kind', () => {
    expect(FIXED_FIELDS.map((f) => f.path)).toEqual(CUSTOMER_FIELDS.map((f) => f.path));
    for (const field of CUSTOMER_FIELDS) {
      const offered = operatorsFor(field.path);
      const allowed = OPERATORS.filter((op) => OPERATOR_VALUES[op][field.kind] !== undefined);
      expect(offered, field.path).toEqual(allowed);
      // And each offered operator parses on that field (a value of the right shape given).
      for (const op of offered) {
        const shape = valueShape(op, field.path);
        const value =
          shape === 'none'
            ? ''
            : field.kind === 'text'
              ? 'x'
              : /before|after/.test(op)
                ? '2026-01-01'
                : field.kind === 'number'
                  ? '3'
                  : /^\$is(_not)?$/.test(op)
                    ? '2026-01-01'
                    : '3';
        const result = rowsToFilter('and', [row(field.path, op, value)]);
        expect(result.ok, `${field.path} ${op} ${JSON.stringify(result)}`).toBe(true);
      }
    }
  });

  it('metadata, system metadata and event counts take a typed key, with the json and event_count operators', () => {
    expect(operatorsFor('metadata')).toEqual(OPERATORS.filter((op) => OPERATOR_VALUES[op].json !== undefined));
    expect(operatorsFor('system_metadata')).toEqual(operatorsFor('metadata'));
    expect(operatorsFor('events')).toEqual(OPERATORS.filter((op) => OPERATOR_VALUES[op].event_count !== undefined));
    expect(operatorsFor('no_such_field')).toEqual([]);
  });
});

describe('rowsToFilter', () => {
  it('builds the grammar: one entry per field, lists split on commas, flags as true, single values as one', () => {
    const result = rowsToFilter('and', [
      row('address.city', '$in', 'Berlin, Paris ,  '),
      row('summary.orders.total_count', '$more_than', '2'),
      row('summary.orders.total_count', '$less_than', '10'),
      row('email', '$has_value'),
      row('metadata', '$is', 'gold', 'tier'),
      row('events', '$count_more', '3', 'viewed_product'),
    ]);
    expect(result).toEqual({
      ok: true,
      filter: {
        junction: 'and',
        'address.city': { conditions: { $in: ['Berlin', 'Paris'] } },
        'summary.orders.total_count': { conditions: { $more_than: ['2'], $less_than: ['10'] } },
        email: { conditions: { $has_value: true } },
        'metadata.tier': { conditions: { $is: ['gold'] } },
        'events.viewed_product.count': { conditions: { $count_more: ['3'] } },
      },
    });
    if (!result.ok) return;
    // The grammar's own judge agrees on a profile.
    const ast = parseFilter(result.filter);
    const now = Date.now();
    const profile = {
      email: 'a@example.com',
      address: { city: 'Paris' },
      summary: { orders: { total_count: 3 } },
      metadata: { tier: 'gold' },
      events: { viewed_product: { count: 4 } },
    };
    expect(evaluate(ast, profile as never, now)).toBe(true);
    expect(evaluate(ast, { ...profile, address: { city: 'Rome' } } as never, now)).toBe(false);
  });

  it('match any: the junction is or, and a field may appear only once', () => {
    expect(rowsToFilter('or', [row('name', '$is', 'Ada'), row('email', '$contains', 'ada')])).toEqual({
      ok: true,
      filter: { junction: 'or', name: { conditions: { $is: ['Ada'] } }, email: { conditions: { $contains: ['ada'] } } },
    });
    const twice = rowsToFilter('or', [row('name', '$is', 'Ada'), row('name', '$starts_with', 'B')]);
    expect(twice.ok).toBe(false);
    if (!twice.ok)
      expect(twice.problems).toEqual([{ row: 2, message: 'with "match any", name may appear once (use "is one of" for several values)' }]);
  });

  it('names the row of every problem: no field, no key, no operator, no value, a repeated operator', () => {
    const result = rowsToFilter('and', [
      row('', '$is', 'x'),
      row('metadata', '$is', 'x', ' '),
      row('name', '$before', '2026-01-01'),
      row('name', '$is', ' '),
      row('email', '$is', 'a@b.c'),
      row('email', '$is', 'd@e.f'),
    ]);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problems).toEqual([
        { row: 1, message: 'choose a field' },
        { row: 2, message: 'type the metadata key' },
        { row: 3, message: 'choose an operator' },
        { row: 4, message: 'type a value' },
        { row: 6, message: 'email already has "is" (row 5)' },
      ]);
    }
  });

  it("gives back the grammar's refusal on the row it is about", () => {
    const result = rowsToFilter('and', [row('name', '$is', 'Ada'), row('summary.orders.total_amount', '$more_than', 'lots')]);
    expect(result).toEqual({ ok: false, problems: [{ row: 2, message: 'expected a number, not "lots"' }] });
    const badKey = rowsToFilter('and', [row('metadata', '$is', 'x', 'bad key')]);
    expect(badKey.ok).toBe(false);
    if (!badKey.ok) expect(badKey.problems[0]?.message).toContain('is not a valid key');
    const badDate = rowsToFilter('and', [row('created_at', '$before', 'yesterday')]);
    expect(badDate.ok).toBe(false);
    if (!badDate.ok) expect(badDate.problems).toEqual([{ row: 1, message: expect.stringContaining('expected a date') }]);
  });

  it('an empty builder is the filter that matches everyone', () => {
    expect(rowsToFilter('and', [])).toEqual({ ok: true, filter: { junction: 'and' } });
  });
});

describe('filterToRows, normaliseRow, rowsFromForm', () => {
  it('turns a saved filter back into the rows that build it', () => {
    const filter = {
      junction: 'or',
      'metadata.plan.tier': { conditions: { $in: ['gold', 'platinum'] } },
      'events.signed_up.count': { conditions: { $count: [1] } },
      'summary.orders.last_order_date': { conditions: { $less_than: [30] } },
      birthdate: { conditions: { $this_month: true } },
    };
    const { junction, rows } = filterToRows(filter);
    expect(junction).toBe('or');
    expect(rows).toEqual([
      row('metadata', '$in', 'gold, platinum', 'plan.tier'),
      row('events', '$count', '1', 'signed_up'),
      row('summary.orders.last_order_date', '$less_than', '30'),
      row('birthdate', '$this_month', ''),
    ]);
    const again = rowsToFilter(junction, rows);
    expect(again.ok).toBe(true);
    if (again.ok) expect(parseFilter(again.filter)).toEqual(parseFilter(filter));
    expect(filterToRows(null)).toEqual({ junction: 'and', rows: [] });
  });

  it('keeps the operator when the new field takes it, else picks the first it allows; clears values of flags', () => {
    expect(normaliseRow(row('email', '$contains', 'ada'))).toEqual(row('email', '$contains', 'ada'));
    expect(normaliseRow(row('summary.orders.total_count', '$contains', '3'))).toEqual(row('summary.orders.total_count', '$is', '3'));
    expect(normaliseRow(row('name', '$has_value', 'left over'))).toEqual(row('name', '$has_value', ''));
    expect(normaliseRow({ field: 'name', key: 'stale', op: '$is', value: 'x' })).toEqual(row('name', '$is', 'x'));
    expect(normaliseRow(row('', '$is', 'x'))).toEqual(row('', '', 'x'));
  });

  it('reads the rows of a form, in order', () => {
    expect(rowsFromForm({ field: ['name', 'metadata'], key: ['', 'tier'], op: ['$is', '$in'], value: ['Ada', 'a, b'] })).toEqual({
      ok: true,
      rows: [row('name', '$is', 'Ada'), row('metadata', '$in', 'a, b', 'tier')],
    });
    expect(rowsFromForm({ field: 'name', key: '', op: '$is', value: 'Ada' })).toEqual({ ok: true, rows: [row('name', '$is', 'Ada')] });
    expect(rowsFromForm({})).toEqual({ ok: true, rows: [] });
  });

  it('reads at most as many rows as a filter may hold, and refuses a form with more', () => {
    const form = (n: number) => ({
      field: Array.from({ length: n }, () => 'name'),
      op: Array.from({ length: n }, () => '$is'),
      value: Array.from({ length: n }, () => 'x'),
    });
    const full = rowsFromForm(form(MAX_CONDITIONS));
    expect(full.ok && full.rows.length).toBe(MAX_CONDITIONS);
    expect(rowsFromForm(form(MAX_CONDITIONS + 1))).toEqual({ ok: false, count: MAX_CONDITIONS + 1 });
    expect(rowsFromForm(form(30_000))).toEqual({ ok: false, count: 30_000 });
  });
});
