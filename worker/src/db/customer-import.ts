// Set-based writes of a CSV import: each statement applies a whole chunk of rows, passed as ONE
// JSON parameter and read with json_each(?) (D1 binds at most 100 parameters per statement).
//
// Semantics of a row: a cell that is empty in the file is absent from the record and leaves the
// stored value as it is; metadata cells are merged into the stored metadata (json_patch). A row that
// would change nothing writes nothing: updated_at stays, and the row is counted as unchanged.

import type { WritableColumn } from '../../../shared/customer-fields';
import { CUSTOMER_TEXT_COLUMNS } from './customers';

/** One row, keyed by customers column; metadata is an object. Only present cells are set. */
export type ImportRecord = { [C in WritableColumn | 'id']?: string } & { metadata?: Record<string, unknown> };

/** The text columns a row may set. Column names come only from this list, never from the file. */
const TEXT_COLUMNS = CUSTOMER_TEXT_COLUMNS;

const cell = (column: string) => `r.value->>'${column}'`;
const ROW_METADATA = `coalesce(${cell('metadata')}, '{}')`;

/**
 * created_at of the new rows: one base (now, or past the newest customer), plus the row's index,
 * so the column stays unique (migration 0001). MATERIALIZED: computed once per statement.
 */
const BASE_CTE = `WITH base(t) AS MATERIALIZED (SELECT max(?1, coalesce((SELECT max(created_at) FROM customers), 0) + 1))`;

const INSERT_COLUMNS = ['id', 'source_id', ...TEXT_COLUMNS, 'metadata', 'created_at'];
const INSERT_VALUES = [cell('id'), cell('source_id'), ...TEXT_COLUMNS.map(cell), ROW_METADATA, 'base.t + r.key'];

/** True when applying the row to the stored customer would change a value (SQL, over `target`). */
function changes(target: string, row: (column: string) => string, rowMetadata: string, withSourceId: boolean): string {
  const columns = withSourceId ? ['source_id', ...TEXT_COLUMNS] : [...TEXT_COLUMNS];
  return [
    ...columns.map((c) => `coalesce(${row(c)}, ${target}.${c}) IS NOT ${target}.${c}`),
    `json_patch(${target}.metadata, ${rowMetadata}) IS NOT json(${target}.metadata)`,
  ].join(' OR ');
}

/**
 * Rows with a source_id: insert, or update the customer holding it (one statement, so a repeated
 * source_id, in the file or concurrently, never makes two customers). Returns a row per customer
 * created or changed, with `created` 1 for new ones; unchanged rows return nothing.
 */
export function upsertBySourceId(db: D1Database, records: ImportRecord[], now: number): D1PreparedStatement {
  const set = [
    ...TEXT_COLUMNS.map((c) => `${c} = coalesce(excluded.${c}, ${c})`),
    'metadata = json_patch(metadata, excluded.metadata)',
    'updated_at = ?1',
  ];
  return db
    .prepare(
      `${BASE_CTE}
       INSERT INTO customers (${INSERT_COLUMNS.join(', ')})
       SELECT ${INSERT_VALUES.join(', ')} FROM json_each(?2) r, base WHERE true
       ON CONFLICT (source_id) DO UPDATE SET ${set.join(', ')}
       WHERE ${changes('customers', (c) => `excluded.${c}`, 'excluded.metadata', false)}
       RETURNING id, updated_at IS NULL AS created`,
    )
    .bind(now, JSON.stringify(records));
}

/** Rows with neither id nor source_id: always new customers (ids chosen by the caller). */
export function insertNew(db: D1Database, records: ImportRecord[], now: number): D1PreparedStatement {
  return db
    .prepare(
      `${BASE_CTE}
       INSERT INTO customers (${INSERT_COLUMNS.join(', ')})
       SELECT ${INSERT_VALUES.join(', ')} FROM json_each(?2) r, base WHERE true
       RETURNING id, 1 AS created`,
    )
    .bind(now, JSON.stringify(records));
}

/**
 * Rows with the `id` of an existing customer: update it (source_id included). The records must
 * name each id once (UPDATE … FROM picks one arbitrary row per target). A source_id held by
 * another customer fails the statement with a UNIQUE error.
 */
export function updateById(db: D1Database, records: ImportRecord[], now: number): D1PreparedStatement {
  const set = [
    ...['source_id', ...TEXT_COLUMNS].map((c) => `${c} = coalesce(${cell(c)}, customers.${c})`),
    `metadata = json_patch(customers.metadata, ${ROW_METADATA})`,
    'updated_at = ?1',
  ];
  return db
    .prepare(
      `UPDATE customers SET ${set.join(', ')}
       FROM json_each(?2) r
       WHERE customers.id = ${cell('id')} AND (${changes('customers', cell, ROW_METADATA, true)})
       RETURNING customers.id AS id, 0 AS created`,
    )
    .bind(now, JSON.stringify(records));
}

/** Of these ids, the ones that name no customer. */
export function unknownIds(db: D1Database, ids: string[]): D1PreparedStatement {
  return db
    .prepare(`SELECT r.value AS id FROM json_each(?) r WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = r.value)`)
    .bind(JSON.stringify(ids));
}
