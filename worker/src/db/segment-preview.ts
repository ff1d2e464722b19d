import type { SegmentPreviewCustomer } from '../../../shared/types';
import { type KeysetRange, type RangeEnd, rangeEnd, rangeEndOf, rangePredicate } from './customers';
import { prepare, type Sql, sql } from './sql';

/** What a preview counts: who matches the filter, and against a segment who would enter or leave it. */
export type PreviewKind = 'match' | 'enter' | 'leave';

export const PREVIEW_KINDS: readonly PreviewKind[] = ['match', 'enter', 'leave'];
/** Who is of each kind, over the step's verdicts. */
const PICKED: Record<PreviewKind, string> = { match: 'hit', enter: 'hit AND NOT was', leave: 'was AND NOT hit' };

export interface PreviewStep {
  counts: Record<PreviewKind, number>;
  /** The first customers of each kind in the range, in created_at order (at most `keep`). */
  samples: Record<PreviewKind, SegmentPreviewCustomer[]>;
  end: RangeEnd;
}

/** D1's cap on bound parameters of one statement (the step's statement binds both filters, the range and the three sample sizes). */
export const MAX_STATEMENT_PARAMS = 100;
/** Parameters a step binds besides the two predicates: the range's three and a sample size per kind. */
export const STEP_OWN_PARAMS = 6;

type Row = SegmentPreviewCustomer & { kind: PreviewKind | 'total'; created_at: number; match_n: number; enter_n: number; leave_n: number };

/**
 * One step of a preview over the customers of `range` (at most range.size of them: one short D1
 * call, reads only): how many match `filter`, and with `current` (who belongs to the segment now:
 * its stored members, or its stored filter for a passive segment) how many match and are not in it
 * (would enter) and are in it and do not match (would leave), with the first `keep[kind]` of each
 * in created_at order. Each customer of the range is judged once (the materialized CTE holds only
 * the verdicts); the counts are sums over it, the samples small top-N reads of it, read back from
 * customers by primary key. `coalesce(…, 0)` counts an unknown (NULL) result as "does not match",
 * as every other use of a compiled filter does.
 */
export async function previewStep(
  db: D1Database,
  filter: Sql,
  current: Sql | null,
  range: KeysetRange,
  keep: Record<PreviewKind, number>,
): Promise<PreviewStep> {
  const inRange = rangePredicate(range);
  const was = current ? sql`coalesce((${current}), 0)` : sql.raw('0');
  // A kind whose sample is already full is not read at all: after the first steps that is all of
  // them, and each read is a pass over the range (a third of a step's time without the filter).
  const picks = PREVIEW_KINDS.filter((kind) => keep[kind] > 0).map(
    (kind) =>
      sql`SELECT * FROM (SELECT ${sql.raw(`'${kind}'`)} AS kind, id FROM judged WHERE ${sql.raw(PICKED[kind])} ORDER BY created_at LIMIT ${keep[kind]})`,
  );
  const picked: Sql = { sql: picks.map((pick) => pick.sql).join(' UNION ALL '), params: picks.flatMap((pick) => pick.params) };
  const samples =
    picks.length === 0
      ? sql.raw('')
      : sql`
    UNION ALL
    SELECT p.kind, c.id, c.source_id, c.name, c.email, c.created_at, NULL, NULL, NULL FROM (${picked}) p JOIN customers c ON c.id = p.id`;
  const query = sql`
    WITH judged AS MATERIALIZED (
      SELECT c.id, c.created_at, coalesce((${filter}), 0) AS hit, ${was} AS was FROM customers c WHERE ${inRange}
    )
    SELECT 'total' AS kind, NULL AS id, NULL AS source_id, NULL AS name, NULL AS email, NULL AS created_at,
           coalesce(sum(hit), 0) AS match_n, coalesce(sum(hit AND NOT was), 0) AS enter_n, coalesce(sum(was AND NOT hit), 0) AS leave_n
    FROM judged${samples}`;
  const [rows, end] = await db.batch<Record<string, unknown>>([prepare(db, query), rangeEnd(db, range)]);
  const step: PreviewStep = {
    counts: { match: 0, enter: 0, leave: 0 },
    samples: { match: [], enter: [], leave: [] },
    end: rangeEndOf(end),
  };
  const sampled = ((rows?.results ?? []) as unknown as Row[]).sort((a, b) => (a.created_at ?? 0) - (b.created_at ?? 0));
  for (const row of sampled) {
    if (row.kind === 'total') step.counts = { match: Number(row.match_n), enter: Number(row.enter_n), leave: Number(row.leave_n) };
    else step.samples[row.kind].push({ id: row.id, source_id: row.source_id, name: row.name, email: row.email });
  }
  return step;
}
