import { describe, expect, it } from 'vitest';
import { compileSql, evaluate, FilterError, isTimeRelative, parseFilter, type FilterAst, type FilterProfile } from '../../shared/filter';
import { resolveField } from '../../shared/filter/fields';
import { parseIsoDate, planCondition, type TimeRange } from '../../shared/filter/semantics';

// Pure checks of the shared rules; filter-agreement.test.ts (workerd) runs both back ends on D1.

const DAY = 86_400_000;

function rangeOf(op: string, now: number, field = 'created_at', operand: unknown = true): TimeRange {
  const ast = parseFilter({ [field]: { conditions: { [op]: operand } } });
  const { field: parsedField, conditions } = ast.fields[0]!;
  const { predicate } = planCondition(parsedField.kind, conditions[0]!, now);
  if (predicate.test !== 'in_ranges' || predicate.ranges.length !== 1) throw new Error(`${op} is not one range`);
  return predicate.ranges[0]!;
}

const utc = (...parts: [number, number, number, number?, number?, number?, number?]) => Date.UTC(...parts);

describe('calendar windows', () => {
  it('start weeks on Monday when now is a Sunday night', () => {
    const now = utc(2026, 5, 14, 23, 59, 59, 999);
    expect(rangeOf('$this_week', now)).toEqual({ from: utc(2026, 5, 8), to: utc(2026, 5, 15) });
    expect(rangeOf('$last_week', now)).toEqual({ from: utc(2026, 5, 1), to: utc(2026, 5, 8) });
    expect(rangeOf('$next_week', now)).toEqual({ from: utc(2026, 5, 15), to: utc(2026, 5, 22) });
  });

  it('start a new week at Monday 00:00', () => {
    expect(rangeOf('$this_week', utc(2026, 5, 15))).toEqual({ from: utc(2026, 5, 15), to: utc(2026, 5, 22) });
  });

  it('cross year ends for months and years', () => {
    const january = utc(2026, 0, 10, 8);
    expect(rangeOf('$last_month', january)).toEqual({ from: utc(2025, 11, 1), to: utc(2026, 0, 1) });
    expect(rangeOf('$last_year', january)).toEqual({ from: utc(2025, 0, 1), to: utc(2026, 0, 1) });
    const lastMs = utc(2026, 11, 31, 23, 59, 59, 999);
    expect(rangeOf('$next_month', lastMs)).toEqual({ from: utc(2027, 0, 1), to: utc(2027, 1, 1) });
    expect(rangeOf('$this_year', lastMs)).toEqual({ from: utc(2026, 0, 1), to: utc(2027, 0, 1) });
    expect(rangeOf('$tomorrow', lastMs)).toEqual({ from: utc(2027, 0, 1), to: utc(2027, 0, 2) });
  });

  it('floor days before 1970 too', () => {
    // 1969-12-31 was a Wednesday; its Monday is the 29th.
    const now = utc(1969, 11, 31, 12);
    expect(rangeOf('$today', now)).toEqual({ from: -DAY, to: 0 });
    expect(rangeOf('$this_week', now)).toEqual({ from: utc(1969, 11, 29), to: utc(1970, 0, 5) });
  });
});

describe('relative day ranges', () => {
  const now = utc(2026, 5, 15, 12);
  const today = utc(2026, 5, 15);

  it.each([
    ['$is_days_ago', 0, { from: today, to: today + DAY }],
    ['$is_days_ago', 30, { from: today - 30 * DAY, to: today - 29 * DAY }],
    ['$is_days_in_future', 2, { from: today + 2 * DAY, to: today + 3 * DAY }],
    ['$more_than_ago', 30, { from: null, to: today - 30 * DAY }],
    ['$more_than', 30, { from: null, to: today - 30 * DAY }],
    ['$more_than_equal', 30, { from: null, to: today - 29 * DAY }],
    ['$less_than_ago', 30, { from: today - 29 * DAY, to: today + DAY }],
    ['$less_than', 30, { from: today - 29 * DAY, to: today + DAY }],
    ['$less_than_equal', 30, { from: today - 30 * DAY, to: today + DAY }],
    ['$more_than_future', 1, { from: today + 2 * DAY, to: null }],
    ['$less_than_future', 2, { from: today, to: today + 2 * DAY }],
  ] as const)('%s %d', (op, n, expected) => {
    expect(rangeOf(op, now, 'summary.orders.last_order_date', [n])).toEqual(expected);
  });

  it('make $before and $after strict on whole milliseconds', () => {
    expect(rangeOf('$before', now, 'created_at', ['2026-01-01'])).toEqual({ from: null, to: utc(2026, 0, 1) });
    expect(rangeOf('$after', now, 'created_at', ['2026-01-01'])).toEqual({ from: utc(2026, 0, 1) + 1, to: null });
  });
});

describe('parseIsoDate', () => {
  it.each([
    ['2026-06-15', utc(2026, 5, 15)],
    ['2026-06-15T01:02:03Z', utc(2026, 5, 15, 1, 2, 3)],
    ['2026-06-15T01:02:03.004Z', utc(2026, 5, 15, 1, 2, 3, 4)],
    ['2000-02-29', utc(2000, 1, 29)],
    ['0099-03-01', Date.parse('0099-03-01T00:00:00Z')],
    ['1969-12-31T23:59:59.999Z', -1],
  ])('reads %s', (text, ms) => {
    expect(parseIsoDate(text)).toBe(ms);
  });

  it.each([
    '2100-02-29',
    '2026-04-31',
    '2026-06-15T24:00:00Z',
    '2026-06-15T12:00:00',
    '2026-06-15T12:00:00.12Z',
    '2026-06-15T12:00:00+02:00',
    'June 15',
  ])('refuses %s', (text) => {
    expect(parseIsoDate(text)).toBeNull();
  });
});

describe('isTimeRelative', () => {
  it.each([
    [{ created_at: { conditions: { $before: ['2026-01-01'] } } }, false],
    [{ birthdate: { conditions: { $is: ['2000-01-01'] } } }, false],
    [{ 'summary.orders.last_order_date': { conditions: { $less_than: [30] } } }, true],
    [{ birthdate: { conditions: { $tomorrow: true } } }, true],
    [{ 'metadata.x': { conditions: { $more_than: [3] } } }, false],
    [{ 'metadata.x': { conditions: { $is_days_ago: [3] } } }, true],
    [{ 'events.x.count': { conditions: { $count_more: [3] } } }, false],
    [{ name: { conditions: { $is: ['a'] } }, updated_at: { conditions: { $this_month: true } } }, true],
  ])('%j is %s', (filter, expected) => {
    expect(isTimeRelative(parseFilter(filter))).toBe(expected);
  });
});

describe('compileSql', () => {
  const NOW = utc(2026, 5, 15, 12);
  const placeholders = (sql: string) => sql.split('?').length - 1;

  it('binds operands instead of writing them into the SQL', () => {
    const hostile = "x'); DROP TABLE customers; --";
    const { sql, params } = compileSql(
      parseFilter({
        junction: 'or',
        name: { conditions: { $is: [hostile], $contains: ['%_\\'] } },
        [`metadata.x`]: { conditions: { $in: [hostile, 7, true] } },
        'events.sign_up.count': { conditions: { $more_than: [2] } },
      }),
      NOW,
    );
    expect(sql).not.toContain('DROP');
    expect(sql).not.toContain('sign_up');
    // Cheapest test first (sql.ts costOf): the name, the event count, then the metadata list.
    expect(params).toEqual([
      JSON.stringify([hostile]),
      '%_\\', // a single text operand is bound as itself
      'sign_up', // the counter's key (event_counters: one primary-key lookup, nothing to stop early)
      2,
      '$."x"',
      JSON.stringify([hostile, 7, true]),
    ]);
    expect(placeholders(sql)).toBe(params.length);
  });

  it('binds the clock: the SQL text does not change with now, the parameters do', () => {
    const ast = parseFilter({ created_at: { conditions: { $less_than: [30] } }, birthdate: { conditions: { $today: true } } });
    const a = compileSql(ast, NOW);
    const b = compileSql(ast, NOW + DAY);
    expect(a.sql).toBe(b.sql);
    expect(a.sql).not.toMatch(/'now'|current_|julianday\(\)|unixepoch\(\)/i);
    expect(b.params).toEqual(a.params.map((p) => (p as number) + DAY));
  });

  it('compiles an empty filter to true', () => {
    expect(compileSql(parseFilter({ junction: 'or' }), NOW)).toEqual({ sql: '1', params: [] });
  });

  it('nests 30 conditions as a balanced tree', () => {
    const filter: Record<string, unknown> = { junction: 'or' };
    for (let i = 0; i < 30; i++) filter[`metadata.k${i}`] = { conditions: { $is: ['a'] } };
    const { sql } = compileSql(parseFilter(filter), NOW);
    let depth = 0;
    let deepest = 0;
    for (const ch of sql) {
      if (ch === '(') deepest = Math.max(deepest, ++depth);
      if (ch === ')') depth--;
    }
    // A left-deep chain would be 30 levels plus the leaf; balanced is ceil(log2 30) = 5 plus the leaf.
    expect(deepest).toBeLessThanOrEqual(15);
  });

  it('refuses an AST that needs more than 100 parameters', () => {
    // parseFilter caps a filter at 90 parameters; a hand-made AST can go past D1's limit.
    const field = resolveField('metadata.d');
    const ast: FilterAst = {
      junction: 'and',
      fields: Array.from({ length: 34 }, () => ({ field, conditions: [{ op: '$this_week' as const, values: [true] }] })),
    };
    expect(() => compileSql(ast, NOW)).toThrow(FilterError);
    expect(compileSql({ ...ast, fields: ast.fields.slice(0, 33) }, NOW).params).toHaveLength(99);
  });
});

describe('evaluate', () => {
  it('reads what a partial profile lacks as unknown', () => {
    const profile = {} as FilterProfile;
    const check = (filter: Record<string, unknown>) => evaluate(parseFilter(filter), profile, Date.UTC(2026, 0, 1));
    expect(check({ name: { conditions: { $is_unknown: true } } })).toBe(true);
    expect(check({ 'address.city': { conditions: { $is_not: ['Berlin'] } } })).toBe(true);
    expect(check({ 'metadata.a.b': { conditions: { $has_value: true } } })).toBe(false);
    expect(check({ 'events.x.count': { conditions: { $is: [0] } } })).toBe(true);
    expect(check({ 'summary.orders.total_amount': { conditions: { $less_than: [1] } } })).toBe(false);
  });

  it('refuses prototype keys in field paths, and still reads only own properties as metadata', () => {
    for (const path of ['metadata.constructor', 'metadata.a.__proto__', 'system_metadata.prototype', 'events.__proto__.count']) {
      expect(() => parseFilter({ [path]: { conditions: { $has_value: true } } }), path).toThrow(FilterError);
    }
    // Metadata stored before keys were checked: an AST naming "constructor" must not see Object's.
    const profile = { metadata: {}, system_metadata: {} } as unknown as FilterProfile;
    const base = parseFilter({ 'metadata.ctor': { conditions: { $has_value: true } } });
    const [entry] = base.fields as [FilterAst['fields'][number]];
    const ast: FilterAst = { ...base, fields: [{ ...entry, field: { ...entry.field, keys: ['constructor'] } as typeof entry.field }] };
    expect(evaluate(ast, profile, 0)).toBe(false);
  });
});
