import type { SegmentPreviewCustomer } from '../../../shared/types';
import { type KeysetRange, type Predicate, type RangeEnd, rangeEnd, rangeEndOf, rangePredicate } from './customers';
import { prepare, sql } from './sql';

/** What a preview counts: who matches the filter, and against a segment who would enter or leave it. */
export type PreviewKind = 'match' | 'enter' | 'leave';

export interface PreviewStep {
  counts: Record<PreviewKind, number>;
  /** The first customers of each kind in the range, in created_at order (at most `keep`). */
  samples: Record<PreviewKind, SegmentPreviewCustomer[]>;
  end: RangeEnd;
}

/** D1's cap on bound parameters of one statement (the step's statement binds both filters, the range and `keep`). */
export const MAX_STATEMENT_PARAMS = 100;
/** Parameters a step binds besides the two predicates: the range's three and `keep`. */
export const STEP_OWN_PARAMS = 4;

/**
 * One step of a preview over the customers of `range` (at most range.size of them: F10, one D1
 * call, reads only): how many match `filter`, and with `current` (who belongs to the segment now:
 * its stored members, or its stored filter for a passive segment) how many match and are not in it
 * (would enter) and are in it and do not match (would leave), with the first `keep` of each in
 * created_at order. The range's customers are judged once (a materialized CTE) and the three kinds
 * read from that; `coalesce(…, 0)` counts an unknown (NULL) result as "does not match", as every
 * other use of a compiled filter does.
 */
export async function previewStep(
  db: D1Database,
  filter: Predicate,
  current: Predicate | null,
  range: KeysetRange,
  keep: number,
): Promise<PreviewStep> {
  const inRange = rangePredicate(range);
  const was = current ? sql`coalesce((${current}), 0)` : sql.raw('0');
  const kinds = current
    ? `SELECT 'match' AS kind, * FROM judged WHERE hit
       UNION ALL SELECT 'enter', * FROM judged WHERE hit AND NOT was
       UNION ALL SELECT 'leave', * FROM judged WHERE was AND NOT hit`
    : `SELECT 'match' AS kind, * FROM judged WHERE hit`;
  const query = sql`
    WITH judged AS MATERIALIZED (
      SELECT c.id, c.source_id, c.name, c.email, c.created_at, coalesce((${filter}), 0) AS hit, ${was} AS was
      FROM customers c WHERE ${inRange}
    )
    SELECT kind, id, source_id, name, email, n FROM (
      SELECT kind, id, source_id, name, email, count(*) OVER (PARTITION BY kind) AS n,
             row_number() OVER (PARTITION BY kind ORDER BY created_at) AS position
      FROM (${sql.raw(kinds)})
    ) WHERE position <= max(${keep}, 1)`;
  const [rows, end] = await db.batch<Record<string, unknown>>([prepare(db, query), rangeEnd(db, range)]);
  const step: PreviewStep = {
    counts: { match: 0, enter: 0, leave: 0 },
    samples: { match: [], enter: [], leave: [] },
    end: rangeEndOf(end),
  };
  for (const row of (rows?.results ?? []) as unknown as (SegmentPreviewCustomer & { kind: PreviewKind; n: number })[]) {
    step.counts[row.kind] = Number(row.n);
    if (step.samples[row.kind].length < keep) step.samples[row.kind].push({ id: row.id, source_id: row.source_id, name: row.name, email: row.email });
  }
  return step;
}
