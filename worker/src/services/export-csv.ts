import type { ExportRow } from '../db/exports';
import { apiError } from '../errors';
import { randomId } from '../lib/ids';
import type { StoredParameters } from '../views/export';
import { csvRow, neutraliseFormula } from '../lib/csv';

// What the CSV of every kind of export shares: how cells are written (the stored parameters' type
// is the export view's).

export type { StoredParameters } from '../views/export';

/** A refused export parameter. */
export const invalidParams = (details: string) => apiError('invalid_export_params', details);

/**
 * A metadata value in a cell: text as is, other JSON values as JSON, nothing for null or absent.
 * `metadata.a.b` reads the key "a.b" when there is one, else the nested key b of a.
 */
export function metadataCell(metadata: Record<string, unknown>, path: string[]): string {
  let value: unknown = Object.hasOwn(metadata, path.join('.')) ? metadata[path.join('.')] : undefined;
  if (value === undefined && path.length > 1) {
    value = path.reduce<unknown>(
      (node, key) =>
        node !== null && typeof node === 'object' && !Array.isArray(node) && Object.hasOwn(node, key)
          ? (node as Record<string, unknown>)[key]
          : undefined,
      metadata,
    );
  }
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * How cells are written: by default a value that would start a formula gets a leading ' (OWASP
 * CSV injection: a public client can choose a source_id such as =HYPERLINK(…)); raw, as stored.
 */
export const cellWriter = (raw: boolean) => (raw ? csvRow : (cells: string[]) => csvRow(cells.map(neutraliseFormula)));

export const encoder = new TextEncoder();

/** The stored row of a new export of `object`, created through the API at `now`. */
export function newExportRow(object: string, parameters: StoredParameters, now: number): ExportRow {
  return {
    id: randomId('exp_'),
    exported_object: object,
    parameters: JSON.stringify(parameters),
    channel: 'API',
    created_at: now,
    updated_at: null,
  };
}
