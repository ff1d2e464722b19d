import { describe, expect, it } from 'vitest';
import { compileSql, packParams, parseFilter } from '../../shared/filter';

// packParams (shared/filter/json-params.ts) rewrites the anonymous placeholders of a fragment so
// that every value is read from one JSON array parameter. D1 itself checks that the values read
// back alike (test/worker/membership-refresh.test.ts); these check the rewriting.

describe('packParams', () => {
  it('reads the k-th placeholder from element k of one JSON parameter', () => {
    expect(packParams({ sql: 'c.a > ? AND c.b IN (SELECT value FROM json_each(?))', params: [5, '["x"]'] })).toEqual({
      sql: "c.a > (?1 ->> '$[0]') AND c.b IN (SELECT value FROM json_each((?1 ->> '$[1]')))",
      params: ['[5,"[\\"x\\"]"]'],
    });
  });

  it('leaves question marks in string literals, quoted names and comments alone', () => {
    const packed = packParams({
      sql: `SELECT '?', 'it''s ?', "col?" , ? -- a comment ?\n, /* ? */ ?`,
      params: ['a', null],
    });
    expect(packed.sql).toBe(`SELECT '?', 'it''s ?', "col?" , (?1 ->> '$[0]') -- a comment ?\n, /* ? */ (?1 ->> '$[1]')`);
    expect(JSON.parse(packed.params[0])).toEqual(['a', null]);
  });

  it('refuses what it cannot rewrite faithfully', () => {
    expect(() => packParams({ sql: 'x = ?', params: [] })).toThrow(/1 placeholders for 0 values/);
    expect(() => packParams({ sql: 'x = ?1', params: [1] })).toThrow(/numbered/);
    expect(() => packParams({ sql: 'x = :name', params: [] })).toThrow(/named/);
    expect(() => packParams({ sql: "x = 'open", params: [] })).toThrow(/unterminated/);
    expect(() => packParams({ sql: 'x = ?', params: [Number.NaN] })).toThrow(/JSON/);
    expect(() => packParams({ sql: 'x = ?', params: [Number.POSITIVE_INFINITY] })).toThrow(/JSON/);
  });

  it('rewrites every placeholder of a compiled filter, and only those', () => {
    const { sql, params } = compileSql(
      parseFilter({
        junction: 'or',
        'metadata.tier': { conditions: { $in: ['gold', "o'neil"] } },
        name: { conditions: { $starts_with: ['a?'] } },
        created_at: { conditions: { $after: ['2024-01-01'] } },
        'events.viewed.count': { conditions: { $more_than: [2] } },
      }),
      Date.UTC(2026, 0, 1),
    );
    const packed = packParams({ sql, params });
    expect(packed.sql.match(/\(\?1 ->> '\$\[\d+\]'\)/g)?.length).toBe(params.length);
    expect(JSON.parse(packed.params[0])).toEqual(params);
    // Outside the rewritten placeholders the text is the compiled filter's, unchanged.
    expect(packed.sql.replace(/\(\?1 ->> '\$\[\d+\]'\)/g, '?')).toBe(sql);
  });
});
