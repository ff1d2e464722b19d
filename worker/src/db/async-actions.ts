import { prepare, sql } from './sql';
import type { AsyncAction } from '../../../shared/types';

export interface AsyncActionRow {
  id: string;
  type: AsyncAction['type'];
  status: AsyncAction['status'];
  /**
   * IN_PROGRESS while the action runs (never on the wire). Rows written before the OA enum was
   * followed may hold PARTIAL_SUCCESS, read as SUCCESS (see services/async-actions.ts).
   */
  operation_status: NonNullable<AsyncAction['operation_status']> | 'IN_PROGRESS' | 'PARTIAL_SUCCESS';
  result: string;
  request_id: string;
  processing_time: number;
  progress: number;
  created_at: number;
  updated_at: number;
}

export function insertAsyncAction(db: D1Database, action: AsyncAction): D1PreparedStatement {
  return prepare(
    db,
    sql`INSERT INTO async_actions (id, type, status, operation_status, result, request_id, processing_time, progress, created_at, updated_at)
       VALUES (${action.id}, ${action.type}, ${action.status}, ${action.operation_status ?? 'IN_PROGRESS'}, ${JSON.stringify(action.result)}, ${action.request_id}, ${action.processing_time}, ${action.progress}, ${Date.parse(action.created_at)}, ${Date.parse(action.updated_at)})`,
  );
}

/** How a running action ends (a CSV import, when its last chunk is written). */
export interface AsyncActionUpdate {
  status: AsyncAction['status'];
  operationStatus?: AsyncAction['operation_status'];
  progress: number;
  result: AsyncAction['result'];
  processingTime: number;
  updatedAt: number;
}

export function updateAsyncAction(db: D1Database, id: string, update: AsyncActionUpdate): D1PreparedStatement {
  return prepare(
    db,
    sql`UPDATE async_actions SET status = ${update.status}, operation_status = ${update.operationStatus ?? 'IN_PROGRESS'}, progress = ${update.progress}, result = ${JSON.stringify(update.result)}, processing_time = ${update.processingTime}, updated_at = ${update.updatedAt}
       WHERE id = ${id} AND status = 'IN_PROGRESS'`,
  );
}

export function findAsyncAction(db: D1Database, id: string): Promise<AsyncActionRow | null> {
  return db.prepare('SELECT * FROM async_actions WHERE id = ?').bind(id).first<AsyncActionRow>();
}

/** Newest first; `createdBefore` keeps the actions scheduled before it (GET /v1/async-actions end_date). */
export async function listAsyncActions(
  db: D1Database,
  q: { limit: number; createdBefore?: number },
): Promise<{ rows: AsyncActionRow[]; hasMore: boolean }> {
  const { results } = await prepare(
    db,
    sql`SELECT * FROM async_actions WHERE ${q.createdBefore ?? null} IS NULL OR created_at < ${q.createdBefore ?? null}
       ORDER BY created_at DESC, id DESC LIMIT ${q.limit + 1}`,
  ).all<AsyncActionRow>();
  return { rows: results.slice(0, q.limit), hasMore: results.length > q.limit };
}

/**
 * Adds `done` written records to a running action's done_count, moves its progress, and ends it
 * DONE (SUCCESS) once `total` are written: in the batch that wrote them, so the count is exact under
 * redelivery (the batch's markers refuse a second write).
 */
export function countAsyncActionDone(db: D1Database, id: string, done: number, total: number, now: number): D1PreparedStatement {
  const count = sql`(json_extract(result, '$.done_count') + ${done})`;
  return prepare(
    db,
    sql`UPDATE async_actions SET result = json_set(result, '$.done_count', ${count}),
         progress = min(100, ${count} * 100 / max(1, ${total})),
         status = CASE WHEN ${count} >= ${total} THEN 'DONE' ELSE status END,
         operation_status = CASE WHEN ${count} >= ${total} THEN 'SUCCESS' ELSE operation_status END,
         processing_time = ${now} - created_at, updated_at = ${now}
       WHERE id = ${id} AND status = 'IN_PROGRESS'`,
  );
}
