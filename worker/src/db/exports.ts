import { CUSTOMER_FIELDS } from '../../../shared/customer-fields';
import { NOT_A_TIER, type VoucherRow } from './vouchers';
import { type KeysetRange, type RangeEnd, rangeEnd, rangeEndOf, rangePredicate } from './customers';
import { prepare, type Sql, sql } from './sql';

export interface ExportRow {
  id: string;
  exported_object: string;
  parameters: string;
  channel: string;
  created_at: number;
  updated_at: number | null;
}

export function insertExport(db: D1Database, row: ExportRow): D1PreparedStatement {
  return prepare(
    db,
    sql`INSERT INTO exports (id, exported_object, parameters, channel, created_at, updated_at) VALUES (${row.id}, ${row.exported_object}, ${row.parameters}, ${row.channel}, ${row.created_at}, ${row.updated_at})`,
  );
}

export function findExport(db: D1Database, id: string): Promise<ExportRow | null> {
  return db.prepare('SELECT * FROM exports WHERE id = ?').bind(id).first<ExportRow>();
}

export async function deleteExport(db: D1Database, id: string): Promise<boolean> {
  return (await db.prepare('DELETE FROM exports WHERE id = ?').bind(id).run()).meta.changes > 0;
}

export async function listExports(
  db: D1Database,
  limit: number,
  offset: number,
  order: 'created_at' | '-created_at',
): Promise<{ rows: ExportRow[]; total: number }> {
  const direction = order === 'created_at' ? 'ASC' : 'DESC';
  const [page, count] = await db.batch<Record<string, unknown>>([
    db.prepare(`SELECT * FROM exports ORDER BY created_at ${direction}, id ${direction} LIMIT ? OFFSET ?`).bind(limit, offset),
    db.prepare('SELECT count(*) AS total FROM exports'),
  ]);
  return { rows: (page?.results ?? []) as unknown as ExportRow[], total: Number(count?.results[0]?.total ?? 0) };
}

/** Customer columns an export may read. Names reach SQL only from this list (the catalogue's columns). */
export const EXPORTABLE_COLUMNS = ['id', ...CUSTOMER_FIELDS.map((f) => f.column), 'metadata'] as const;
export type ExportableColumn = (typeof EXPORTABLE_COLUMNS)[number];

export type ExportPageRow = Partial<Record<ExportableColumn, string | number | null>> & { created_at: number };

/**
 * An export's filter over `customers c`: the compiled field conditions and membership of any of
 * the named segments, joined by the filter's junction; null when there is neither.
 */
export function exportFilter(fields: Sql | null, members: Sql[], junction: 'AND' | 'OR'): Sql | null {
  const parts: Sql[] = [];
  if (fields) parts.push(fields);
  if (members.length > 0)
    parts.push({ sql: members.map((m) => `coalesce((${m.sql}), 0)`).join(' OR '), params: members.flatMap((m) => m.params) });
  return parts.length === 0 ? null : sql.join(parts, junction);
}

/**
 * One keyset range of an export: the customers matching `where` among the (at most range.size)
 * customers after range.after in created_at order, and where the range ended. A range, not a page
 * of matches: a sparse or slow filter must not scan the whole table in one call.
 */
export async function exportRange(
  db: D1Database,
  columns: readonly ExportableColumn[],
  where: Sql | null,
  range: KeysetRange,
): Promise<{ rows: ExportPageRow[]; end: RangeEnd }> {
  const select = [...new Set<ExportableColumn>([...columns, 'created_at'])].map((c) => `c.${c}`).join(', ');
  const inRange = rangePredicate(range);
  const filter = where ? sql` AND coalesce((${where}), 0)` : sql.raw('');
  const [page, end] = await db.batch<Record<string, unknown>>([
    prepare(
      db,
      sql`SELECT ${sql.raw(select)} FROM customers c WHERE ${inRange}${filter} ORDER BY c.created_at ${sql.raw(range.descending ? 'DESC' : 'ASC')}`,
    ),
    rangeEnd(db, range),
  ]);
  return { rows: (page?.results ?? []) as unknown as ExportPageRow[], end: rangeEndOf(end) };
}

export type VoucherExportRow = VoucherRow & { position: number; customer_source_id: string | null };

/**
 * One page of a voucher export after `after` in insertion order (rowid: codes generated together
 * share created_at), only the campaign's when `campaignId` is given, each with its holder's source id.
 */
export async function voucherExportPage(
  db: D1Database,
  campaignId: string | null,
  after: number,
  size: number,
  descending: boolean,
): Promise<VoucherExportRow[]> {
  const { results } = await prepare(
    db,
    sql`SELECT v.rowid AS position, v.*, (SELECT source_id FROM customers c WHERE c.id = v.holder_id) AS customer_source_id
       FROM vouchers v WHERE v.rowid ${sql.raw(descending ? '<' : '>')} ${after} AND (${campaignId} IS NULL OR v.campaign_id = ${campaignId})
         AND ${sql.raw(NOT_A_TIER('v'))}
       ORDER BY v.rowid ${sql.raw(descending ? 'DESC' : 'ASC')} LIMIT ${size}`,
  ).all<VoucherExportRow>();
  return results;
}

export type PublicationExportRow = {
  position: number;
  voucher_code: string;
  customer_id: string;
  customer_source_id: string | null;
  created_at: number;
  channel: string;
  campaign: string | null;
  metadata: string;
};

/**
 * One page of a publication export after `after` in insertion order (rowid: a distribution's step
 * writes its publications with one created_at), only the campaign's when `campaignId` is given.
 */
export async function publicationExportPage(
  db: D1Database,
  campaignId: string | null,
  after: number,
  size: number,
  descending: boolean,
): Promise<PublicationExportRow[]> {
  const { results } = await prepare(
    db,
    sql`SELECT p.rowid AS position, v.code AS voucher_code, p.customer_id, c.source_id AS customer_source_id, p.created_at, p.channel,
         coalesce((SELECT name FROM campaigns WHERE id = p.campaign_id), v.campaign) AS campaign, p.metadata
       FROM publications p JOIN vouchers v ON v.id = p.voucher_id LEFT JOIN customers c ON c.id = p.customer_id
       WHERE p.rowid ${sql.raw(descending ? '<' : '>')} ${after} AND (${campaignId} IS NULL OR p.campaign_id = ${campaignId})
       ORDER BY p.rowid ${sql.raw(descending ? 'DESC' : 'ASC')} LIMIT ${size}`,
  ).all<PublicationExportRow>();
  return results;
}
