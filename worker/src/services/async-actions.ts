import type { AsyncAction, AsyncActionList } from '../../../shared/types';
import * as asyncActionsDb from '../db/async-actions';
import { notFound } from '../errors';
import { randomId } from '../lib/ids';
import { toIso } from '../lib/time';
import type { AsyncActionListQuery } from '../schemas/async-actions';
import { asyncActionListView, asyncActionView } from '../views/async-action';

/**
 * operation_status within the OA enum FAILED | SUCCESS | UNKNOWN (OA:L1432), which has no partial
 * value. The OA describes it as the status of the action's processing; the records it could not
 * apply are what the result's failed_count and errors / failed report, record by record. So an
 * action that ran to its end and applied at least one record is SUCCESS, one that applied none of
 * what it was given (or stopped) is FAILED. UNKNOWN is never needed: the outcome is always known.
 */
export function operationStatus(
  counts: { done_count: number; failed_count: number },
  stopped = false,
): NonNullable<AsyncAction['operation_status']> {
  if (stopped || (counts.done_count === 0 && counts.failed_count > 0)) return 'FAILED';
  return 'SUCCESS';
}

/**
 * A new action as it is first recorded: DONE (100 %, with its operation_status) when it ran to
 * completion inside the request (bulk and metadata updates, a deletion), else IN_PROGRESS (0 %)
 * while the queue consumer does its work (imports, code generation, distributions).
 */
export function newAsyncAction(action: {
  id?: string;
  type: AsyncAction['type'];
  result: AsyncAction['result'] & { done_count: number; failed_count: number };
  requestId: string;
  startedAt: number;
  done: boolean;
}): AsyncAction {
  const { type, result, requestId, startedAt, done } = action;
  const now = Date.now();
  return {
    id: action.id ?? randomId('aa_'),
    type,
    status: done ? 'DONE' : 'IN_PROGRESS',
    ...(done ? { operation_status: operationStatus(result) } : {}),
    result,
    created_at: toIso(startedAt),
    updated_at: toIso(now),
    request_id: requestId,
    progress: done ? 100 : 0,
    processing_time: done ? now - startedAt : 0,
    object: 'async_action',
  };
}

/** An action that ran to completion inside the request (bulk and metadata updates). */
export const completedAsyncAction = (
  type: AsyncAction['type'],
  result: AsyncAction['result'] & { done_count: number; failed_count: number },
  requestId: string,
  startedAt: number,
): AsyncAction => newAsyncAction({ type, result, requestId, startedAt, done: true });

/**
 * A CSV import's chunks are written by the queue consumer; a chunk that fails past its retries
 * marks the action FAILED (consumers/writes.ts). An import whose progress has not moved for this
 * long (its chunks lost, the consumer not running) will not finish: it reads as FAILED.
 */
const IMPORT_STALLED_AFTER_MS = 30 * 60_000;

function asSeenAt(action: AsyncAction, now: number): AsyncAction {
  if (action.status === 'IN_PROGRESS' && now - Date.parse(action.updated_at) > IMPORT_STALLED_AFTER_MS) {
    return {
      ...action,
      status: 'FAILED',
      operation_status: 'FAILED',
      result: { ...action.result, error: 'The import stopped before it finished (its chunks were not written); import the file again.' },
    };
  }
  return action;
}

export async function getAsyncAction(db: D1Database, id: string, now = Date.now()): Promise<AsyncAction> {
  const row = await asyncActionsDb.findAsyncAction(db, id);
  if (!row) throw notFound('async_action', id);
  return asSeenAt(asyncActionView(row), now);
}

/** GET /v1/async-actions: newest first, without results (OA: "a status DONE doesn't include the result"). */
export async function listAsyncActions(db: D1Database, query: AsyncActionListQuery, now = Date.now()): Promise<AsyncActionList> {
  const { rows, hasMore } = await asyncActionsDb.listAsyncActions(db, query);
  return asyncActionListView(
    rows.map((row) => {
      const { result: _result, ...summary } = asSeenAt(asyncActionView(row), now);
      return summary;
    }),
    hasMore,
  );
}
