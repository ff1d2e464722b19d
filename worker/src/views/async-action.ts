import type { AsyncAction, AsyncActionList } from '../../../shared/types';
import type { AsyncActionRow } from '../db/async-actions';
import { toIso } from '../lib/time';

// The async action object, built from its row, and the list of them.

export function asyncActionView(row: AsyncActionRow): AsyncAction {
  const action: AsyncAction = {
    id: row.id,
    type: row.type,
    status: row.status,
    result: JSON.parse(row.result) as AsyncAction['result'],
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
    request_id: row.request_id,
    progress: row.progress,
    processing_time: row.processing_time,
    object: 'async_action',
  };
  // Not yet known while the action runs: the OA enum's UNKNOWN ("whether it failed, succeeded, or
  // the status is unknown", AsyncActionBase.operation_status, readOnly-openAPI.json:L1432).
  action.operation_status =
    row.operation_status === 'IN_PROGRESS' ? 'UNKNOWN' : row.operation_status === 'PARTIAL_SUCCESS' ? 'SUCCESS' : row.operation_status;
  return action;
}

/** GET /v1/async-actions: the actions as listed (the service leaves their results out), and whether more follow. */
export const asyncActionListView = (actions: Omit<AsyncAction, 'result'>[], hasMore: boolean): AsyncActionList => ({
  object: 'list',
  data_ref: 'async_actions',
  async_actions: actions,
  has_more: hasMore,
});
