import type { AsyncAction, AsyncActionResult } from '../../../shared/types';
import { toIso } from '../lib/time';

interface AsyncActionRow {
  id: string;
  type: AsyncAction['type'];
  status: 'DONE';
  operation_status: AsyncAction['operation_status'];
  result: string;
  request_id: string;
  processing_time: number;
  created_at: number;
  updated_at: number;
}

export function insertAsyncAction(db: D1Database, action: AsyncAction): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO async_actions (id, type, status, operation_status, result, request_id, processing_time, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(
      action.id,
      action.type,
      action.status,
      action.operation_status,
      JSON.stringify(action.result),
      action.request_id,
      action.processing_time,
      Date.parse(action.created_at),
      Date.parse(action.updated_at),
    );
}

export async function findAsyncAction(db: D1Database, id: string): Promise<AsyncAction | null> {
  const row = await db.prepare('SELECT * FROM async_actions WHERE id = ?').bind(id).first<AsyncActionRow>();
  if (!row) return null;
  return {
    id: row.id,
    type: row.type,
    status: row.status,
    operation_status: row.operation_status,
    result: JSON.parse(row.result) as AsyncActionResult,
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
    request_id: row.request_id,
    progress: 100,
    processing_time: row.processing_time,
    object: 'async_action',
  };
}
