import type { Sql, SqlValue } from '../../../shared/filter';

/**
 * SQL with its bound values kept beside the text they belong to (Kysely's `sql` tag, without the
 * query builder): a fragment interpolated into another brings its values along in the right place,
 * so no caller ever orders parameters by hand. Values are always bound (`?`), never spliced in;
 * `sql.raw` is only for names that come from the code's own catalogues.
 *
 * The fragment type is shared/filter's, the one compileSql returns, so a compiled filter is a
 * fragment as it is: one name, `Sql`, for SQL text with its values.
 */
export type { Sql, SqlValue };

const isSql = (value: unknown): value is Sql =>
  typeof value === 'object' && value !== null && typeof (value as Sql).sql === 'string' && Array.isArray((value as Sql).params);

export function sql(strings: TemplateStringsArray, ...values: (SqlValue | Sql)[]): Sql {
  let text = strings[0] ?? '';
  const params: SqlValue[] = [];
  values.forEach((value, i) => {
    if (isSql(value)) {
      text += value.sql;
      params.push(...value.params);
    } else {
      text += '?';
      params.push(value);
    }
    text += strings[i + 1] ?? '';
  });
  return { sql: text, params };
}

/** Trusted text (a column name from a catalogue), no values. */
sql.raw = (text: string): Sql => ({ sql: text, params: [] });

/** Fragments joined, each parenthesised; `empty` when there are none. */
sql.join = (parts: Sql[], junction: 'AND' | 'OR', empty: Sql = sql.raw('1')): Sql =>
  parts.length === 0 ? empty : { sql: parts.map((p) => `(${p.sql})`).join(` ${junction} `), params: parts.flatMap((p) => p.params) };

/** Fragments separated by commas (a VALUES list). */
sql.list = (parts: Sql[]): Sql => ({ sql: parts.map((p) => p.sql).join(', '), params: parts.flatMap((p) => p.params) });

/** The `column = value, …` of a SET clause; the columns come from the code's own row and patch types, never from input. */
sql.assignments = (entries: [column: string, value: SqlValue][]): Sql =>
  sql.list(entries.map(([column, value]) => sql`${sql.raw(column)} = ${value}`));

/** A prepared statement of a fragment. */
export const prepare = (db: D1Database, query: Sql): D1PreparedStatement => db.prepare(query.sql).bind(...query.params);
