/**
 * @module The segment builder's model: rows of field + operator + value, and their conversion to
 * and from the filter grammar of POST /v1/segments (shared/filter/parse.ts, docs/segments.md).
 *
 * Pure, and fed only by the filter catalogue: the fields are the customer catalogue's
 * (shared/customer-fields.ts) plus the free-keyed metadata, system_metadata and event counts that
 * shared/filter/fields.ts resolves; the operators of a field are those OPERATOR_VALUES allows on its
 * kind. Nothing here lists a field or an operator by hand.
 */
import { CUSTOMER_FIELDS } from '../../../shared/customer-fields';
import { FilterError } from '../../../shared/filter/errors';
import { type FieldKind, resolveField } from '../../../shared/filter/fields';
import { MAX_CONDITIONS, OPERATOR_VALUES, OPERATORS, type Operator } from '../../../shared/filter/operators';
import { parseFilter } from '../../../shared/filter/parse';

export type Junction = 'and' | 'or';

/** One row as the form holds it. `key` is the metadata key or event name of a free-keyed field. */
export interface BuilderRow {
  field: string;
  key: string;
  op: string;
  value: string;
}

/** Fields whose last part the person types: `metadata.<key>`, `system_metadata.<key>`, `events.<name>.count`. */
export const FREE_FIELDS = {
  metadata: { label: 'Metadata key…', keyLabel: 'Metadata key', path: (key: string) => `metadata.${key}` },
  system_metadata: { label: 'System metadata key…', keyLabel: 'System metadata key', path: (key: string) => `system_metadata.${key}` },
  events: { label: 'Event count…', keyLabel: 'Event name', path: (key: string) => `events.${key}.count` },
} as const;
export type FreeField = keyof typeof FREE_FIELDS;

export const isFreeField = (field: string): field is FreeField => Object.hasOwn(FREE_FIELDS, field);

/** The catalogue's fields, as the builder offers them: their path and a label read from it. */
export const FIXED_FIELDS: readonly { path: string; label: string }[] = CUSTOMER_FIELDS.map((f) => ({
  path: f.path,
  label: f.path.replace(/\./g, ' › ').replace(/_/g, ' '),
}));

/** The filter path of a row (empty while the row names no field, or a free field without its key). */
export function rowPath(row: Pick<BuilderRow, 'field' | 'key'>): string {
  if (isFreeField(row.field)) return row.key.trim() ? FREE_FIELDS[row.field].path(row.key.trim()) : '';
  return row.field;
}

/** The kind of a field of the builder; null for one the grammar does not know. */
export function fieldKind(field: string): FieldKind | null {
  if (field === 'metadata' || field === 'system_metadata') return 'json';
  if (field === 'events') return 'event_count';
  try {
    return resolveField(field).kind;
  } catch {
    return null;
  }
}

/** Exactly the operators the grammar accepts on the field's kind, in the grammar's order. */
export function operatorsFor(field: string): Operator[] {
  const kind = fieldKind(field);
  return kind === null ? [] : OPERATORS.filter((op) => OPERATOR_VALUES[op][kind] !== undefined);
}

/**
 * What the value box holds for an operator on a kind: nothing (`$has_value`, calendar windows),
 * one value, or a list (any-of, or none-of for the negated operators) typed with commas.
 */
export type ValueShape = 'none' | 'one' | 'list';

export function valueShape(op: string, field: string): ValueShape {
  const kind = fieldKind(field);
  const valueClass = kind === null ? undefined : OPERATOR_VALUES[op as Operator]?.[kind];
  if (valueClass === 'flag') return 'none';
  if (valueClass === 'texts' || valueClass === 'numbers' || valueClass === 'scalars' || valueClass === 'days') return 'list';
  return 'one';
}

/** Labels of the operators, for people; the compiler checks that every operator has one. */
export const OPERATOR_LABELS: Readonly<Record<Operator, string>> = {
  $is: 'is',
  $is_not: 'is not',
  $in: 'is one of',
  $not_in: 'is none of',
  $has_value: 'has a value',
  $is_unknown: 'is unknown',
  $starts_with: 'starts with',
  $ends_with: 'ends with',
  $contains: 'contains',
  $not_contain: 'does not contain',
  $more_than: 'more than',
  $less_than: 'less than',
  $more_than_equal: 'at least',
  $less_than_equal: 'at most',
  $before: 'before',
  $after: 'after',
  $is_days_ago: 'is N days ago',
  $is_days_in_future: 'is in N days',
  $more_than_ago: 'more than N days ago',
  $less_than_ago: 'less than N days ago',
  $more_than_future: 'more than N days ahead',
  $less_than_future: 'less than N days ahead',
  $count: 'count is',
  $count_less: 'count less than',
  $count_more: 'count more than',
  $today: 'today',
  $yesterday: 'yesterday',
  $tomorrow: 'tomorrow',
  $this_week: 'this week',
  $last_week: 'last week',
  $next_week: 'next week',
  $this_month: 'this month',
  $last_month: 'last month',
  $next_month: 'next month',
  $this_year: 'this year',
  $last_year: 'last year',
  $next_year: 'next year',
};

export interface RowProblem {
  /** 1-based, as the page numbers rows; 0 for the filter as a whole. */
  row: number;
  message: string;
}

export type Conversion = { ok: true; filter: Record<string, unknown> } | { ok: false; problems: RowProblem[] };

/**
 * The rows as a filter of POST /v1/segments. Rows on one field become one entry, whose conditions
 * must all hold; so with "match any" a field may appear only once (its conditions would otherwise
 * be and-ed inside an or), and no field may repeat an operator. The result is then checked by the
 * grammar's own parser, and its refusals are given back per row.
 */
export function rowsToFilter(junction: Junction, rows: readonly BuilderRow[]): Conversion {
  const problems: RowProblem[] = [];
  const entries = new Map<string, { conditions: Record<string, unknown>; rows: Map<string, number> }>();
  if (rows.length > MAX_CONDITIONS) problems.push({ row: 0, message: `A filter may have at most ${MAX_CONDITIONS} conditions.` });

  rows.forEach((row, i) => {
    const n = i + 1;
    if (!row.field) return problems.push({ row: n, message: 'choose a field' });
    const path = rowPath(row);
    if (!path) return problems.push({ row: n, message: `type the ${FREE_FIELDS[row.field as FreeField].keyLabel.toLowerCase()}` });
    if (!operatorsFor(row.field).includes(row.op as Operator)) return problems.push({ row: n, message: 'choose an operator' });
    const shape = valueShape(row.op, row.field);
    let operand: unknown;
    if (shape === 'none') {
      operand = true;
    } else {
      const values =
        shape === 'list'
          ? row.value
              .split(',')
              .map((v) => v.trim())
              .filter(Boolean)
          : [row.value.trim()].filter(Boolean);
      if (values.length === 0) return problems.push({ row: n, message: 'type a value' });
      operand = values;
    }
    let entry = entries.get(path);
    if (entry && junction === 'or') {
      return problems.push({ row: n, message: `with "match any", ${path} may appear once (use "is one of" for several values)` });
    }
    if (!entry) {
      entry = { conditions: {}, rows: new Map() };
      entries.set(path, entry);
    }
    if (entry.rows.has(row.op))
      return problems.push({
        row: n,
        message: `${path} already has "${OPERATOR_LABELS[row.op as Operator]}" (row ${entry.rows.get(row.op)})`,
      });
    entry.conditions[row.op] = operand;
    entry.rows.set(row.op, n);
  });
  if (problems.length > 0) return { ok: false, problems };

  const filter: Record<string, unknown> = { junction };
  for (const [path, entry] of entries) filter[path] = { conditions: entry.conditions };
  try {
    parseFilter(filter);
  } catch (error) {
    if (!(error instanceof FilterError)) throw error;
    // The error's path is `<field path>.conditions.<operator>[i]`: find the row it came from.
    const at = [...entries].find(([path]) => error.path === path || error.path.startsWith(`${path}.conditions.`));
    const op = at ? error.path.slice(at[0].length + '.conditions.'.length).replace(/\[\d+\]$/, '') : '';
    return { ok: false, problems: [{ row: at?.[1].rows.get(op) ?? 0, message: error.message }] };
  }
  return { ok: true, filter };
}

/** A filter of the grammar (a saved segment's) as rows, the inverse of rowsToFilter. */
export function filterToRows(filter: Record<string, unknown> | null | undefined): { junction: Junction; rows: BuilderRow[] } {
  const junction: Junction = String(filter?.junction ?? 'and').toLowerCase() === 'or' ? 'or' : 'and';
  const rows: BuilderRow[] = [];
  for (const [path, entry] of Object.entries(filter ?? {})) {
    if (path === 'junction') continue;
    const { field, key } = splitPath(path);
    const conditions = (entry as { conditions?: Record<string, unknown> })?.conditions ?? {};
    for (const [op, raw] of Object.entries(conditions)) {
      const values = Array.isArray(raw) ? raw : [raw];
      const value = valueShape(op, field) === 'none' ? '' : values.map((v) => String(v)).join(', ');
      rows.push({ field, key, op, value });
    }
  }
  return { junction, rows };
}

function splitPath(path: string): { field: string; key: string } {
  for (const root of ['metadata', 'system_metadata'] as const) {
    if (path.startsWith(`${root}.`)) return { field: root, key: path.slice(root.length + 1) };
  }
  const event = /^events\.(.+)\.count$/.exec(path);
  if (event) return { field: 'events', key: event[1] as string };
  return { field: path, key: '' };
}

/**
 * Keeps every row's operator valid for its field (the first one the field allows when it changed
 * to a field that does not take it), and clears the value of an operator that takes none.
 */
export function normaliseRow(row: BuilderRow): BuilderRow {
  const ops = operatorsFor(row.field);
  const op = ops.includes(row.op as Operator) ? row.op : (ops[0] ?? '');
  return {
    field: row.field,
    key: isFreeField(row.field) ? row.key : '',
    op,
    value: op && valueShape(op, row.field) === 'none' ? '' : row.value,
  };
}

/** The rows of a submitted builder form, or how many it had when that is more than a filter may hold. */
export type FormRows = { ok: true; rows: BuilderRow[] } | { ok: false; count: number };

/**
 * The rows of a submitted builder form: its `field`, `key`, `op` and `value` inputs, in order.
 * More than MAX_CONDITIONS rows is refused here, before anything is built or rendered from them:
 * no filter can hold them, and every row re-renders as about 4 KB of HTML, so a 1 MiB form of
 * bare rows would otherwise come back as over 100 MB.
 */
export function rowsFromForm(body: Record<string, unknown>): FormRows {
  const list = (name: string): string[] => {
    const v = body[name];
    return (Array.isArray(v) ? v : v === undefined ? [] : [v]).map((x) => (typeof x === 'string' ? x : ''));
  };
  const fields = list('field');
  if (fields.length > MAX_CONDITIONS) return { ok: false, count: fields.length };
  const keys = list('key');
  const ops = list('op');
  const values = list('value');
  return { ok: true, rows: fields.map((field, i) => ({ field, key: keys[i] ?? '', op: ops[i] ?? '', value: values[i] ?? '' })) };
}
