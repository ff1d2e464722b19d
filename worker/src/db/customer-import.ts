// Set-based writes of a CSV import: each statement applies a whole chunk of rows, passed as ONE
// JSON parameter and read with json_each(?) (D1 binds at most 100 parameters per statement).
//
// Semantics of a row: a cell that is empty in the file is absent from the record and leaves the
// stored value as it is; metadata cells are merged into the stored metadata (json_patch). A row that
// would change nothing writes nothing: updated_at stays, and the row is counted as unchanged.

import type { ImportRecord } from '../queue/messages';
import { prepare, type Sql, sql } from './sql';
import { CUSTOMER_TEXT_COLUMNS } from './customers';

/** The row of an import chunk message: defined with the message, which the queue carries without knowing D1. */
export type { ImportRecord };

/** The text columns a row may set. Column names come only from this list, never from the file. */
const TEXT_COLUMNS = CUSTOMER_TEXT_COLUMNS;

const cell = (column: string) => `r.value->>'${column}'`;
const ROW_METADATA = `coalesce(${cell('metadata')}, '{}')`;

/**
 * created_at of the new rows: one base (now, or past the newest customer), plus the row's index,
 * so the column stays unique (migration 0001). MATERIALIZED: computed once per statement.
 */
const baseCte = (now: number): Sql =>
  sql`WITH base(t) AS MATERIALIZED (SELECT max(${now}, coalesce((SELECT max(created_at) FROM customers), 0) + 1))`;

const INSERT_COLUMNS = sql.raw(['id', 'source_id', ...TEXT_COLUMNS, 'metadata', 'created_at'].join(', '));
const INSERT_VALUES = sql.raw([cell('id'), cell('source_id'), ...TEXT_COLUMNS.map(cell), ROW_METADATA, 'base.t + r.key'].join(', '));

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
  const set = sql.raw(
    [...TEXT_COLUMNS.map((c) => `${c} = coalesce(excluded.${c}, ${c})`), 'metadata = json_patch(metadata, excluded.metadata)'].join(', '),
  );
  return prepare(
    db,
    sql`${baseCte(now)}
       INSERT INTO customers (${INSERT_COLUMNS})
       SELECT ${INSERT_VALUES} FROM json_each(${JSON.stringify(records)}) r, base WHERE true
       ON CONFLICT (source_id) DO UPDATE SET ${set}, updated_at = ${now}
       WHERE ${sql.raw(changes('customers', (c) => `excluded.${c}`, 'excluded.metadata', false))}
       RETURNING id, updated_at IS NULL AS created`,
  );
}

/** Rows with neither id nor source_id: always new customers (ids chosen by the caller). */
export function insertNew(db: D1Database, records: ImportRecord[], now: number): D1PreparedStatement {
  return prepare(
    db,
    sql`${baseCte(now)}
       INSERT INTO customers (${INSERT_COLUMNS})
       SELECT ${INSERT_VALUES} FROM json_each(${JSON.stringify(records)}) r, base WHERE true
       RETURNING id, 1 AS created`,
  );
}

/**
 * Rows with the `id` of an existing customer: update it (source_id included). The records must
 * name each id once (UPDATE … FROM picks one arbitrary row per target). A source_id held by
 * another customer fails the statement with a UNIQUE error.
 */
export function updateById(db: D1Database, records: ImportRecord[], now: number): D1PreparedStatement {
  const set = sql.raw(
    [
      ...['source_id', ...TEXT_COLUMNS].map((c) => `${c} = coalesce(${cell(c)}, customers.${c})`),
      `metadata = json_patch(customers.metadata, ${ROW_METADATA})`,
    ].join(', '),
  );
  return prepare(
    db,
    sql`UPDATE customers SET ${set}, updated_at = ${now}
       FROM json_each(${JSON.stringify(records)}) r
       WHERE customers.id = ${sql.raw(cell('id'))} AND (${sql.raw(changes('customers', cell, ROW_METADATA, true))})
       RETURNING customers.id AS id, 0 AS created`,
  );
}

/** Of these ids, the ones that name no customer. */
export function unknownIds(db: D1Database, ids: string[]): D1PreparedStatement {
  return db
    .prepare(`SELECT r.value AS id FROM json_each(?) r WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = r.value)`)
    .bind(JSON.stringify(ids));
}

// ---- An import through the WRITES queue (migration 0014)

/** Starts an import while its file is read: chunks that arrive before it is accepted wait. */
export function receiveImport(db: D1Database, actionId: string, now: number): D1PreparedStatement {
  return db.prepare('INSERT INTO customer_imports (action_id, created_at) VALUES (?, ?)').bind(actionId, now);
}

/** The file was refused (a 400): its chunks, sent already, find no import and are dropped. */
export function refuseImport(db: D1Database, actionId: string): D1PreparedStatement {
  return db.prepare('DELETE FROM customer_imports WHERE action_id = ? AND chunks IS NULL').bind(actionId);
}

/** The file was read to its end: how many chunks were sent. With the action's insert, in one batch. */
export function acceptImport(db: D1Database, actionId: string, chunks: number): D1PreparedStatement {
  return db.prepare('UPDATE customer_imports SET chunks = ? WHERE action_id = ?').bind(chunks, actionId);
}

export interface ImportState {
  /** NULL while the request still reads the file. */
  chunks: number | null;
  chunks_done: number;
  created_at: number;
  /** The async action's status; NULL before the file is accepted. */
  status: string | null;
}

export function findImport(db: D1Database, actionId: string): Promise<ImportState | null> {
  return db
    .prepare(
      `SELECT i.chunks, i.chunks_done, i.created_at, a.status
       FROM customer_imports i LEFT JOIN async_actions a ON a.id = i.action_id WHERE i.action_id = ?`,
    )
    .bind(actionId)
    .first<ImportState>();
}

/** The parts of a chunk written already: its own id, or `<id>/<path>` of its halves ('/' < '0'). */
export async function appliedChunkParts(db: D1Database, chunkId: string): Promise<string[]> {
  const { results } = await prepare(
    db,
    sql`SELECT id FROM import_chunks WHERE id = ${chunkId} OR (id > ${chunkId} || '/' AND id < ${chunkId} || '0')`,
  ).all<{ id: string }>();
  return results.map((r) => r.id);
}

/**
 * Opens the batch of a chunk part: a plain INSERT, so a part written before fails on the primary
 * key and its batch (writes and counts) rolls back. `failed`: failures known before the batch.
 */
export function openChunkPart(db: D1Database, partId: string, actionId: string, failed: unknown[], now: number): D1PreparedStatement {
  return prepare(
    db,
    sql`INSERT INTO import_chunks (id, action_id, failed, applied_at) VALUES (${partId}, ${actionId}, ${JSON.stringify(failed)}, ${now})`,
  );
}

/**
 * Beside openChunkPart, in the same batch: the markers of the other slices a part covers (no
 * counts of their own), so a part that overlaps one written before fails on its primary key too.
 */
export function openChunkMarkers(db: D1Database, partIds: string[], actionId: string, now: number): D1PreparedStatement {
  return prepare(
    db,
    sql`INSERT INTO import_chunks (id, action_id, failed, applied_at) SELECT r.value, ${actionId}, '[]', ${now} FROM json_each(${JSON.stringify(partIds)}) r`,
  );
}

/** Whether a batch failed on openChunkPart, i.e. the part was written before. */
export const isChunkPartApplied = (error: unknown): boolean => /UNIQUE constraint failed: import_chunks\.id/.test(String(error));

/** Before the updates by id: the failures of the rows whose id names no customer. */
export function countUnknownIds(db: D1Database, partId: string, rows: { id: string; failure: unknown }[]): D1PreparedStatement {
  return prepare(
    db,
    sql`UPDATE import_chunks SET failed = (
         SELECT json_group_array(json(f)) FROM (
           SELECT value AS f FROM json_each(import_chunks.failed)
           UNION ALL
           SELECT json(r.value -> 'failure') FROM json_each(${JSON.stringify(rows)}) r
           WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = r.value ->> 'id')))
       WHERE id = ${partId}`,
  );
}

// SQLite's changes() is the number of rows the statement before (in the batch) inserted or
// updated; an upsert whose DO UPDATE ... WHERE is false changes nothing, so it is not counted.

/** Right after updateById(ids): those changed are updated, the other known ids unchanged. */
export function countIdUpdates(db: D1Database, partId: string, ids: string[]): D1PreparedStatement {
  return prepare(
    db,
    sql`UPDATE import_chunks SET updated = updated + changes(),
         unchanged = unchanged + (SELECT count(*) FROM json_each(${JSON.stringify(ids)}) r WHERE EXISTS (SELECT 1 FROM customers c WHERE c.id = r.value)) - changes()
       WHERE id = ${partId}`,
  );
}

/** Right before upsertBySourceId: how many of its source ids no customer holds (each creates one). */
export function countNewSourceIds(db: D1Database, partId: string, sourceIds: string[]): D1PreparedStatement {
  return prepare(
    db,
    sql`UPDATE import_chunks SET pending = (
         SELECT count(DISTINCT r.value) FROM json_each(${JSON.stringify(sourceIds)}) r WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.source_id = r.value))
       WHERE id = ${partId}`,
  );
}

/** Right after upsertBySourceId over `rows` rows: created, then updated and unchanged from changes(). */
export function countSourceUpserts(db: D1Database, partId: string, rows: number): D1PreparedStatement {
  return prepare(
    db,
    sql`UPDATE import_chunks SET created = created + pending, updated = updated + changes() - pending,
         unchanged = unchanged + ${rows} - changes(), pending = 0
       WHERE id = ${partId}`,
  );
}

/** Right after insertNew: every row inserted is created. */
export function countInserted(db: D1Database, partId: string): D1PreparedStatement {
  return prepare(db, sql`UPDATE import_chunks SET created = created + changes() WHERE id = ${partId}`);
}

/**
 * Closes a part's batch: adds its counts to the action's result, its failures to the result's
 * list (up to `maxFailures`; failed_count counts them all).
 */
export function addChunkPartToAction(
  db: D1Database,
  actionId: string,
  partId: string,
  maxFailures: number,
  now: number,
): D1PreparedStatement {
  return prepare(
    db,
    sql`UPDATE async_actions SET result = json_set(result,
         '$.done_count', (result ->> 'done_count') + p.created + p.updated + p.unchanged,
         '$.created_count', (result ->> 'created_count') + p.created,
         '$.updated_count', (result ->> 'updated_count') + p.updated,
         '$.unchanged_count', (result ->> 'unchanged_count') + p.unchanged,
         '$.failed_count', (result ->> 'failed_count') + json_array_length(p.failed),
         '$.failed', (SELECT json_group_array(json(f)) FROM (
           SELECT value AS f FROM json_each(result, '$.failed') UNION ALL SELECT value FROM json_each(p.failed) LIMIT ${maxFailures}))),
         updated_at = ${now}
       FROM (SELECT * FROM import_chunks WHERE id = ${partId}) p
       WHERE async_actions.id = ${actionId}`,
  );
}

/**
 * A whole chunk written: one more chunk done, and the action's progress (99 at most: 100 is the
 * DONE, set by whoever sees the last chunk done). Returns chunks_done and chunks.
 */
export function completeChunk(db: D1Database, actionId: string): D1PreparedStatement[] {
  return [
    db
      .prepare('UPDATE customer_imports SET chunks_done = chunks_done + 1 WHERE action_id = ? RETURNING chunks_done, chunks')
      .bind(actionId),
    prepare(
      db,
      sql`UPDATE async_actions SET progress = (SELECT min(99, 100 * chunks_done / chunks) FROM customer_imports WHERE action_id = ${actionId})
         WHERE id = ${actionId} AND status = 'IN_PROGRESS'`,
    ),
  ];
}
