import type { ImportCsvResult } from '../../../shared/types';
import * as asyncActions from '../db/async-actions';
import { operationStatus } from './async-actions';
import type { ImportScan } from './customer-import-rows';
import { asyncActionView } from '../views/async-action';

// A customer import's result, as its async action reports it: at the start, done and failed.

/** A chunk that failed past its retries (the dead-letter queue): the import cannot finish. */
export async function failImport(db: D1Database, actionId: string): Promise<void> {
  const row = await asyncActions.findAsyncAction(db, actionId);
  const action = row && asyncActionView(row);
  if (!action || action.status !== 'IN_PROGRESS') return;
  const result = action.result as ImportCsvResult;
  result.error = 'The import stopped on an internal error; rows reported as done were written. Importing the file again is safe.';
  const now = Date.now();
  await asyncActions
    .updateAsyncAction(db, actionId, {
      status: 'FAILED',
      operationStatus: operationStatus(result, true),
      progress: action.progress,
      result,
      processingTime: now - Date.parse(action.created_at),
      updatedAt: now,
    })
    .run();
}

/** The OA example's wording: "0 customer(s) imported successfully, 2 failed." */
const importMessage = (result: ImportCsvResult): string =>
  `${result.done_count} customer(s) imported successfully, ${result.failed_count} failed.`;

/** The result as DONE shows it: failures in row order, flagged when some were left out, and the message. */
export function finishedResult(result: ImportCsvResult): ImportCsvResult {
  const finished: ImportCsvResult = { ...result, failed: [...result.failed].sort((a, b) => a.row - b.row) };
  if (result.failed_count > result.failed.length) finished.failed_truncated = true;
  return { ...finished, message: importMessage(finished) };
}

export function initialResult(scan: ImportScan): ImportCsvResult {
  return {
    total_count: scan.total,
    done_count: 0,
    failed_count: scan.failedCount,
    created_count: 0,
    updated_count: 0,
    unchanged_count: 0,
    failed: [...scan.failed],
  };
}
