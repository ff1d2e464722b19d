/** @module Whether a filter's answer can change with the clock alone, with no write to the data. */

import type { Condition, FieldFilter, FilterAst } from './ast';
import { DAY_COUNT_OPERATORS, WINDOW_OPERATORS } from './operators';

/** Operators measured from `now` on any date value (timestamps, birthdate, metadata dates). */
const RELATIVE_OPERATORS: ReadonlySet<string> = new Set([...DAY_COUNT_OPERATORS, ...WINDOW_OPERATORS]);

/** On date fields the numeric comparisons count days ago (see semantics.ts). */
const DAYS_AGO_COMPARISONS: ReadonlySet<string> = new Set(['$more_than', '$less_than', '$more_than_equal', '$less_than_equal']);

const conditionIsRelative = (field: FieldFilter['field'], condition: Condition): boolean =>
  RELATIVE_OPERATORS.has(condition.op) ||
  ((field.kind === 'timestamp' || field.kind === 'calendar_date') && DAYS_AGO_COMPARISONS.has(condition.op));

/**
 * True when some condition compares against a time derived from `now`: a member can then enter or
 * leave as time passes, so stored memberships need the periodic recompute.
 */
export function isTimeRelative(ast: FilterAst): boolean {
  return ast.fields.some(({ field, conditions }) => conditions.some((c) => conditionIsRelative(field, c)));
}
