import { describe, expect, it } from 'vitest';
import { FilterError, OPERATORS, parseFilter, type FilterAst, type FilterErrorCode } from '../../shared/filter';

const DAY = 86_400_000;

/** The conditions parsed for the only field of a one-field filter. */
function conditionsOf(ast: FilterAst) {
  expect(ast.fields).toHaveLength(1);
  return ast.fields[0]!.conditions;
}

const one = (field: string, conditions: Record<string, unknown>) => parseFilter({ [field]: { conditions } });

describe('parseFilter accepts', () => {
  it('a filter without junction as "and"', () => {
    expect(one('name', { $is: ['Ann'] }).junction).toBe('and');
  });

  it.each([
    ['and', 'and'],
    ['OR', 'or'],
    ['And', 'and'],
    ['oR', 'or'],
  ])('junction %j as %j', (junction, expected) => {
    expect(parseFilter({ junction, name: { conditions: { $is: ['Ann'] } } }).junction).toBe(expected);
  });

  it('a filter with no fields', () => {
    expect(parseFilter({})).toEqual({ junction: 'and', fields: [] });
    expect(parseFilter({ junction: 'or' })).toEqual({ junction: 'or', fields: [] });
  });

  it('an array operand', () => {
    expect(conditionsOf(one('address.city', { $is: ['Berlin', 'Paris'] }))).toEqual([{ op: '$is', values: ['Berlin', 'Paris'] }]);
  });

  it('a scalar operand as a one-element array', () => {
    expect(conditionsOf(one('address.country', { $is: 'Poland' }))).toEqual([{ op: '$is', values: ['Poland'] }]);
  });

  it.each([true, '', 'true', [true], ['']])('%j as the operand of $has_value, $is_unknown and windows', (operand) => {
    expect(conditionsOf(one('name', { $has_value: operand }))).toEqual([{ op: '$has_value', values: [true] }]);
    expect(conditionsOf(one('metadata.x', { $is_unknown: operand }))).toEqual([{ op: '$is_unknown', values: [true] }]);
    expect(conditionsOf(one('created_at', { $next_month: operand }))).toEqual([{ op: '$next_month', values: [true] }]);
  });

  it('numbers for text fields as their decimal text', () => {
    expect(conditionsOf(one('address.postal_code', { $is: [10115, 2.5] }))).toEqual([{ op: '$is', values: ['10115', '2.5'] }]);
  });

  it('numeric strings for number fields and event counts', () => {
    expect(conditionsOf(one('events.cart_abandoned.count', { $is: ['1'] }))).toEqual([{ op: '$is', values: [1] }]);
    expect(conditionsOf(one('summary.orders.total_amount', { $more_than: '-40000.5' }))).toEqual([
      { op: '$more_than', values: [-40000.5] },
    ]);
  });

  it('metadata equality operands as given', () => {
    expect(conditionsOf(one('metadata.x', { $in: ['34', 34, true, 'a'] }))).toEqual([{ op: '$in', values: ['34', 34, true, 'a'] }]);
  });

  it('day counts on date fields, given as numbers or numeric strings', () => {
    expect(conditionsOf(one('summary.orders.last_order_date', { $less_than: [30], $more_than_ago: '7' }))).toEqual([
      { op: '$less_than', values: [30] },
      { op: '$more_than_ago', values: [7] },
    ]);
  });

  it('ISO instants as epoch ms', () => {
    expect(conditionsOf(one('created_at', { $after: ['2021-12-01T00:00:00.000Z'], $before: '2022-01-01' }))).toEqual([
      { op: '$after', values: [Date.UTC(2021, 11, 1)] },
      { op: '$before', values: [Date.UTC(2022, 0, 1)] },
    ]);
    expect(conditionsOf(one('birthdate', { $after: ['1990-06-15T10:20:30Z'] }))).toEqual([
      { op: '$after', values: [Date.UTC(1990, 5, 15, 10, 20, 30)] },
    ]);
  });

  it('$is on a date field as the start of the UTC day', () => {
    expect(conditionsOf(one('created_at', { $is: ['2026-05-16T18:00:00Z', '1969-12-31T23:00:00.000Z'] }))).toEqual([
      { op: '$is', values: [Date.UTC(2026, 4, 16), -DAY] },
    ]);
  });

  it('metadata, system_metadata and event paths', () => {
    const ast = parseFilter({
      'metadata.a-b.c_d.E9.f': { conditions: { $has_value: true } },
      'system_metadata.web_widget.widgets': { conditions: { $is: ['general'] } },
      'events.cart-abandoned_2.count': { conditions: { $count_more: [1] } },
      [`metadata.${'k'.repeat(64)}`]: { conditions: { $is: ['x'] } },
    });
    expect(ast.fields.map(({ field }) => field)).toEqual([
      { kind: 'json', path: 'metadata.a-b.c_d.E9.f', column: 'metadata', keys: ['a-b', 'c_d', 'E9', 'f'] },
      { kind: 'json', path: 'system_metadata.web_widget.widgets', column: 'system_metadata', keys: ['web_widget', 'widgets'] },
      { kind: 'event_count', path: 'events.cart-abandoned_2.count', event: 'cart-abandoned_2' },
      { kind: 'json', path: `metadata.${'k'.repeat(64)}`, column: 'metadata', keys: ['k'.repeat(64)] },
    ]);
  });

  it('several operators of one field in their order', () => {
    expect(conditionsOf(one('metadata.age', { $more_than_equal: [18], $less_than: [65], $is_not: [40] })).map((c) => c.op)).toEqual([
      '$more_than_equal',
      '$less_than',
      '$is_not',
    ]);
  });

  it('30 conditions and 100 values, the limits', () => {
    const filter: Record<string, unknown> = {};
    for (let i = 0; i < 10; i++)
      filter[`metadata.k${i}`] = { conditions: { $is: ['a'], $in: Array.from({ length: 100 }, (_, j) => j), $has_value: true } };
    expect(parseFilter(filter).fields).toHaveLength(10);
  });

  it('strings of 255 characters', () => {
    expect(conditionsOf(one('name', { $contains: ['x'.repeat(255)] }))[0]!.values[0]).toHaveLength(255);
  });

  it('the full segment example of the Voucherify docs', () => {
    const filter = {
      junction: 'and',
      name: { conditions: { $has_value: true } },
      email: { conditions: { $ends_with: ['.com'] } },
      phone: { conditions: { $starts_with: ['48'] } },
      created_at: { conditions: { $before: ['2018-09-01T00:00:00.000Z'] } },
      'address.postal_code': { conditions: { $is_not: ['32-857'] } },
      'address.city': { conditions: { $is: ['Berlin'] } },
      'address.country': { conditions: { $is_unknown: true } },
      source_id: { conditions: { $starts_with: ['746'] } },
      'system_metadata.source': { conditions: { $is: ['web_widget'] } },
      'system_metadata.web_widget.widgets': { conditions: { $is: ['general'] } },
      'metadata.pick_up_date': { conditions: { $is_not: ['3 am'] } },
      'events.cart_abandoned.count': { conditions: { $is: ['1'] } },
      'summary.orders.total_amount': { conditions: { $more_than: [40000] } },
      'summary.orders.total_count': { conditions: { $more_than: [1] } },
      'summary.orders.last_order_date': { conditions: { $less_than: [30] } },
      'summary.orders.last_order_amount': { conditions: { $more_than: [5000] } },
      'summary.redemptions.total_succeeded': { conditions: { $is: [3] } },
      'summary.redemptions.gift.redeemed_amount': { conditions: { $has_value: true } },
      'loyalty.referred_customers': { conditions: { $more_than: [1] } },
    };
    const ast = parseFilter(filter);
    expect(ast.fields.map(({ field }) => field.path)).toEqual(Object.keys(filter).filter((k) => k !== 'junction'));
  });

  // One field kind on which each operator applies, with a valid operand.
  const SAMPLES: Record<string, [string, unknown]> = {
    $is: ['name', ['a']],
    $is_not: ['created_at', ['2026-01-01']],
    $in: ['summary.orders.total_count', [1, 2]],
    $not_in: ['metadata.x', ['a', 1]],
    $has_value: ['updated_at', true],
    $is_unknown: ['birthdate', ''],
    $starts_with: ['email', ['a']],
    $ends_with: ['metadata.x', ['a']],
    $contains: ['description', ['a']],
    $not_contain: ['metadata.tags', ['a']],
    $more_than: ['loyalty.points', [1]],
    $less_than: ['summary.orders.last_order_date', [30]],
    $more_than_equal: ['metadata.x', [41]],
    $less_than_equal: ['events.purchase.count', [2]],
    $before: ['birthdate', ['2000-01-01']],
    $after: ['metadata.x', ['2000-01-01T00:00:00Z']],
    $is_days_ago: ['created_at', [3]],
    $is_days_in_future: ['birthdate', [0]],
    $more_than_ago: ['metadata.x', [3]],
    $less_than_ago: ['updated_at', [3]],
    $more_than_future: ['created_at', [3]],
    $less_than_future: ['metadata.x', [3]],
    $count: ['events.purchase.count', [0]],
    $count_less: ['metadata.tags', [3]],
    $count_more: ['metadata.tags', [3]],
  };

  it.each(OPERATORS.map((op) => [op]))('operator %s', (op) => {
    const [field, operand] = SAMPLES[op] ?? ['created_at', true];
    expect(conditionsOf(one(field, { [op]: operand }))[0]!.op).toBe(op);
  });
});

describe('parseFilter rejects', () => {
  const long = 'x'.repeat(256);
  const tooManyConditions: Record<string, unknown> = {};
  for (let i = 0; i < 31; i++) tooManyConditions[`metadata.k${i}`] = { conditions: { $has_value: true } };

  const CASES: [string, unknown, FilterErrorCode, string][] = [
    ['null', null, 'bad_shape', ''],
    ['an array', [{ name: { conditions: { $is: ['a'] } } }], 'bad_shape', ''],
    ['a string', 'name is Ann', 'bad_shape', ''],
    ['an unknown junction', { junction: 'xor' }, 'bad_value', 'junction'],
    ['a junction that is not a string', { junction: true }, 'bad_value', 'junction'],
    ['an unknown field', { foo: { conditions: { $is: ['a'] } } }, 'unknown_field', 'foo'],
    ['an unknown address field', { 'address.zip': { conditions: { $is: ['a'] } } }, 'unknown_field', 'address.zip'],
    ['a summary group instead of a field', { 'summary.orders': { conditions: { $is: [1] } } }, 'unknown_field', 'summary.orders'],
    [
      'loyalty_points.campaigns',
      { 'loyalty_points.campaigns.c.points': { conditions: { $is: [1] } } },
      'unknown_field',
      'loyalty_points.campaigns.c.points',
    ],
    ['metadata without a key', { metadata: { conditions: { $is: ['a'] } } }, 'unknown_field', 'metadata'],
    ['an empty metadata key', { 'metadata.': { conditions: { $is: ['a'] } } }, 'unknown_field', 'metadata.'],
    ['a metadata key with a space', { 'metadata.a b': { conditions: { $is: ['a'] } } }, 'unknown_field', 'metadata.a b'],
    ['a metadata key with a quote', { 'metadata.a"b': { conditions: { $is: ['a'] } } }, 'unknown_field', 'metadata.a"b'],
    [
      'a metadata key of 65 characters',
      { [`metadata.${'k'.repeat(65)}`]: { conditions: { $is: ['a'] } } },
      'unknown_field',
      `metadata.${'k'.repeat(65)}`,
    ],
    ['a path of 6 segments', { 'metadata.a.b.c.d.e': { conditions: { $is: ['a'] } } }, 'unknown_field', 'metadata.a.b.c.d.e'],
    ['an event path without count', { 'events.signup': { conditions: { $is: [1] } } }, 'unknown_field', 'events.signup'],
    ['an event path with another leaf', { 'events.signup.total': { conditions: { $is: [1] } } }, 'unknown_field', 'events.signup.total'],
    ['an event name with a space', { 'events.sign up.count': { conditions: { $is: [1] } } }, 'unknown_field', 'events.sign up.count'],
    ['a field entry that is not an object', { name: 'Ann' }, 'bad_shape', 'name'],
    ['conditions that are an array', { name: { conditions: [] } }, 'bad_shape', 'name.conditions'],
    ['empty conditions', { name: { conditions: {} } }, 'bad_shape', 'name.conditions'],
    ['missing conditions', { name: {} }, 'bad_shape', 'name.conditions'],
    ['an extra key beside conditions', { name: { conditions: { $is: ['a'] }, junction: 'or' } }, 'bad_shape', 'name.junction'],
    ['an unknown operator', { name: { conditions: { $equals: ['a'] } } }, 'unknown_operator', 'name.conditions.$equals'],
    [
      'the validation-rule spelling $more_than_or_equal',
      { 'loyalty.points': { conditions: { $more_than_or_equal: [1] } } },
      'unknown_operator',
      'loyalty.points.conditions.$more_than_or_equal',
    ],
    ['$more_than on text', { name: { conditions: { $more_than: [1] } } }, 'unknown_operator', 'name.conditions.$more_than'],
    [
      '$contains on a number',
      { 'summary.orders.total_amount': { conditions: { $contains: ['1'] } } },
      'unknown_operator',
      'summary.orders.total_amount.conditions.$contains',
    ],
    ['$in on a date', { created_at: { conditions: { $in: ['2026-01-01'] } } }, 'unknown_operator', 'created_at.conditions.$in'],
    [
      '$starts_with on a date',
      { birthdate: { conditions: { $starts_with: ['1990'] } } },
      'unknown_operator',
      'birthdate.conditions.$starts_with',
    ],
    [
      '$before on a number',
      { 'loyalty.points': { conditions: { $before: ['2026-01-01'] } } },
      'unknown_operator',
      'loyalty.points.conditions.$before',
    ],
    ['$today on text', { name: { conditions: { $today: true } } }, 'unknown_operator', 'name.conditions.$today'],
    [
      '$count on a number column',
      { 'loyalty.points': { conditions: { $count: [1] } } },
      'unknown_operator',
      'loyalty.points.conditions.$count',
    ],
    [
      '$has_value on an event count',
      { 'events.x.count': { conditions: { $has_value: true } } },
      'unknown_operator',
      'events.x.count.conditions.$has_value',
    ],
    ['a boolean for text', { name: { conditions: { $is: [true] } } }, 'bad_value', 'name.conditions.$is[0]'],
    ['a scalar boolean for text (no index)', { name: { conditions: { $is: true } } }, 'bad_value', 'name.conditions.$is'],
    ['null in a list', { name: { conditions: { $in: ['a', null] } } }, 'bad_value', 'name.conditions.$in[1]'],
    [
      'an object in a metadata list',
      { 'metadata.age': { conditions: { $in: [1, 2, {}] } } },
      'bad_value',
      'metadata.age.conditions.$in[2]',
    ],
    ['an array in a metadata list', { 'metadata.age': { conditions: { $is: [[1]] } } }, 'bad_value', 'metadata.age.conditions.$is[0]'],
    [
      'a boolean for a string operator on metadata',
      { 'metadata.tags': { conditions: { $contains: [true] } } },
      'bad_value',
      'metadata.tags.conditions.$contains[0]',
    ],
    [
      'a non-numeric string for a number',
      { 'summary.orders.total_amount': { conditions: { $is: ['abc'] } } },
      'bad_value',
      'summary.orders.total_amount.conditions.$is[0]',
    ],
    [
      'an exponent string for a number',
      { 'metadata.x': { conditions: { $more_than: ['1e3'] } } },
      'bad_value',
      'metadata.x.conditions.$more_than[0]',
    ],
    ['Infinity', { 'loyalty.points': { conditions: { $less_than: [Infinity] } } }, 'bad_value', 'loyalty.points.conditions.$less_than[0]'],
    ['NaN', { 'metadata.x': { conditions: { $is: [NaN] } } }, 'bad_value', 'metadata.x.conditions.$is[0]'],
    [
      'two values for a comparison',
      { 'loyalty.points': { conditions: { $more_than: [1, 2] } } },
      'bad_value',
      'loyalty.points.conditions.$more_than',
    ],
    ['an empty list', { name: { conditions: { $is: [] } } }, 'bad_value', 'name.conditions.$is'],
    ['an impossible date', { created_at: { conditions: { $after: ['2026-02-30'] } } }, 'bad_value', 'created_at.conditions.$after[0]'],
    [
      'a date with an offset',
      { created_at: { conditions: { $before: ['2026-01-01T00:00:00+01:00'] } } },
      'bad_value',
      'created_at.conditions.$before[0]',
    ],
    ['a word for a date', { 'metadata.d': { conditions: { $after: 'yesterday' } } }, 'bad_value', 'metadata.d.conditions.$after'],
    ['a number for a date', { created_at: { conditions: { $is: [1781524800000] } } }, 'bad_value', 'created_at.conditions.$is[0]'],
    ['a fractional day count', { created_at: { conditions: { $less_than: [1.5] } } }, 'bad_value', 'created_at.conditions.$less_than[0]'],
    ['a negative day count', { created_at: { conditions: { $is_days_ago: [-1] } } }, 'bad_value', 'created_at.conditions.$is_days_ago[0]'],
    [
      'a day count over 100000',
      { birthdate: { conditions: { $more_than_ago: [100_001] } } },
      'bad_value',
      'birthdate.conditions.$more_than_ago[0]',
    ],
    ['a negative count', { 'events.x.count': { conditions: { $count: [-1] } } }, 'bad_value', 'events.x.count.conditions.$count[0]'],
    ['false for $has_value', { name: { conditions: { $has_value: false } } }, 'bad_value', 'name.conditions.$has_value'],
    ['a word for $is_unknown', { name: { conditions: { $is_unknown: 'yes' } } }, 'bad_value', 'name.conditions.$is_unknown'],
    ['two flags for a window', { created_at: { conditions: { $today: [true, true] } } }, 'bad_value', 'created_at.conditions.$today'],
    ['an empty string', { name: { conditions: { $is: [''] } } }, 'bad_value', 'name.conditions.$is[0]'],
    ['a string of 256 characters', { name: { conditions: { $contains: ['a', long] } } }, 'bad_value', 'name.conditions.$contains[1]'],
    ['a NUL character', { name: { conditions: { $is: ['a\u0000b'] } } }, 'bad_value', 'name.conditions.$is[0]'],
    ['31 conditions', tooManyConditions, 'too_large', 'metadata.k30.conditions.$has_value'],
    [
      '101 values',
      { 'metadata.x': { conditions: { $in: Array.from({ length: 101 }, (_, i) => i) } } },
      'too_large',
      'metadata.x.conditions.$in',
    ],
  ];

  it.each(CASES)('%s', (_name, input, code, path) => {
    let caught: unknown;
    try {
      parseFilter(input);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(FilterError);
    const error = caught as FilterError;
    expect({ code: error.code, path: error.path }).toEqual({ code, path });
    expect(error.message.length).toBeGreaterThan(10);
    expect(error.name).toBe('FilterError');
  });

  it('counts conditions across fields, not per field', () => {
    const filter: Record<string, unknown> = {};
    for (let i = 0; i < 6; i++) {
      filter[`metadata.k${i}`] = { conditions: { $is: ['a'], $has_value: true, $contains: ['b'], $starts_with: ['c'], $ends_with: ['d'] } };
    }
    expect(parseFilter(filter).fields).toHaveLength(6);
    filter['metadata.k6'] = { conditions: { $is: ['a'] } };
    expect(() => parseFilter(filter)).toThrow(/at most 30 conditions/);
  });
});
