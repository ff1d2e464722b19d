import type { ImportCsvResult } from '../../../shared/types';
import * as asyncActions from '../db/async-actions';
import * as importDb from '../db/customer-import';
import { metadataSizeCheck } from '../db/customers';
import { d1Refusal } from '../db/errors';
import type { PaceLimits, WritePacer } from '../lib/write-pacer';
import { type ImportChunkMessage } from '../queue/messages';
import type { JobOutcome, StatementBudget } from '../queue/jobs';
import { MAX_METADATA_BYTES } from '../schemas/customers';
import { operationStatus } from './async-actions';
import * as membership from './membership';
import { type ImportRow, MAX_REPORTED_FAILURES, type RowKind } from './customer-import-rows';
import { MAX_CHUNK_ROWS } from './customer-import';
import { finishedResult } from './customer-import-report';
import { asyncActionView } from '../views/async-action';

// A customer import's chunks, as the queue consumer writes them (see services/customer-import.ts).

// ---- The queue consumer: one chunk

/** A request reading a file takes less than this; chunks of an import still unaccepted after it are dropped. */
const RECEIVING_LIMIT_MS = 15 * 60_000;

/** Splits rows so that no group names one id twice (UPDATE … FROM applies one row per target). */
function distinctIdGroups(rows: ImportRow[]): ImportRow[][] {
  const groups: { ids: Set<string>; rows: ImportRow[] }[] = [];
  for (const row of rows) {
    const id = row.record.id as string;
    let group = groups.find((g) => !g.ids.has(id));
    if (!group) groups.push((group = { ids: new Set(), rows: [] }));
    group.ids.add(id);
    group.rows.push(row);
  }
  return groups.map((g) => g.rows);
}

/**
 * The writes of some rows, each followed by the statement that counts what it did in the part's
 * import_chunks row (db/customer-import.ts: changes() of the statement before), then the refresh
 * of their customers' auto-update segments.
 */
function rowWrites(
  db: D1Database,
  partId: string,
  rows: ImportRow[],
  active: membership.ActiveSegment[],
  now: number,
): D1PreparedStatement[] {
  const byKind = (kind: RowKind) => rows.filter((r) => r.kind === kind);
  const [idRows, sourceRows, newRows] = [byKind('id'), byKind('source_id'), byKind('new')];
  const statements: D1PreparedStatement[] = [];
  if (idRows.length > 0) {
    const reason = (row: ImportRow) => `Cannot find customer with id ${row.record.id}`;
    statements.push(
      importDb.countUnknownIds(
        db,
        partId,
        idRows.map((row) => ({
          id: row.record.id as string,
          failure: { row: row.row, source_id: row.record.source_id ?? null, reason: reason(row) },
        })),
      ),
    );
    for (const group of distinctIdGroups(idRows)) {
      statements.push(
        importDb.updateById(
          db,
          group.map((r) => r.record),
          now,
        ),
        importDb.countIdUpdates(
          db,
          partId,
          group.map((r) => r.record.id as string),
        ),
      );
    }
  }
  if (sourceRows.length > 0) {
    statements.push(
      importDb.countNewSourceIds(
        db,
        partId,
        sourceRows.map((r) => r.record.source_id as string),
      ),
      importDb.upsertBySourceId(
        db,
        sourceRows.map((r) => r.record),
        now,
      ),
      importDb.countSourceUpserts(db, partId, sourceRows.length),
    );
  }
  if (newRows.length > 0)
    statements.push(
      importDb.insertNew(
        db,
        newRows.map((r) => r.record),
        now,
      ),
      importDb.countInserted(db, partId),
    );
  // Metadata cells merge into what is stored: the size guard rolls the part back when a customer
  // would then store more than the limit (the part is split until that row is alone, and failed).
  const withMetadata = rows.filter((r) => r.record.metadata !== undefined);
  if (withMetadata.length > 0) {
    const byId = withMetadata.filter((r) => r.kind !== 'source_id').map((r) => r.record.id as string);
    const bySourceId = withMetadata.filter((r) => r.kind === 'source_id').map((r) => r.record.source_id as string);
    statements.push(metadataSizeCheck(db, { ids: byId, sourceIds: bySourceId }, MAX_METADATA_BYTES));
  }

  const ids = [...idRows, ...newRows].map((r) => r.record.id as string);
  if (ids.length > 0) statements.push(...membership.refreshMemberships(db, active, { ids }, now));
  if (sourceRows.length > 0)
    statements.push(...membership.refreshMemberships(db, active, { sourceIds: sourceRows.map((r) => r.record.source_id as string) }, now));
  return statements;
}

/**
 * Rows of one slice: the unit a part of a chunk is sized in, and the grain of its markers. Every
 * runner of a chunk cuts it into the same slices, whatever size its pacer chose, so markers of
 * two runners collide instead of overlapping. 50: a chunk of 5,000 rows leaves 100 markers.
 */
export const IMPORT_SLICE_ROWS = 50;

/** Slices per part: 500 rows to start with, one slice at least, a whole chunk at most. */
export const IMPORT_PACE: PaceLimits = { initial: 10, min: 1, max: Math.ceil(MAX_CHUNK_ROWS / IMPORT_SLICE_ROWS) };

/** A slice's path in its chunk: fixed width, so no slice's marker is a prefix of another's. */
const slicePath = (index: number): string => String(index).padStart(3, '0');

/**
 * Writes one chunk of an import (the consumer's import_chunk job). Chunks that arrive while the
 * request still reads the file wait; those of a refused file, or of a finished action, are
 * dropped. The chunk is written in parts of whole slices sized by `pacer`, each part one batch
 * with a marker per slice `<id>/<slice>`; when a row takes a source_id held by another customer
 * the part fails, its slices are written one by one, and the failing slice is halved until that
 * row is alone, each half with its own marker `<id>/<slice><path>`. A redelivered chunk skips the
 * slices written and splits where the last attempt did. Then, if every chunk is written, the
 * action is finished.
 */
export async function writeImportChunk(
  db: D1Database,
  message: ImportChunkMessage,
  segments: () => Promise<membership.ActiveSegment[]>,
  budget: StatementBudget,
  pacer: WritePacer,
): Promise<JobOutcome> {
  const state = await importDb.findImport(db, message.action_id);
  if (!state) return; // a refused file
  if (state.chunks === null) {
    const waited = Date.now() - state.created_at;
    if (waited > RECEIVING_LIMIT_MS) return; // the request stopped before accepting the file
    return { retryAfterSeconds: Math.min(30, Math.max(1, Math.ceil(waited / 4_000))) };
  }
  if (state.status !== 'IN_PROGRESS') return;
  const applied = new Set(await importDb.appliedChunkParts(db, message.id));
  if (!applied.has(message.id)) {
    const rows: ImportRow[] = message.rows.map(([row, kind, record]) => ({ row, kind, record }));
    try {
      await new ChunkWriter(db, message, await segments(), applied, budget, pacer).writeChunk(rows);
    } catch (error) {
      // The parts written are marked: the next delivery goes on from them.
      if (error instanceof OutOfBudget) return { retryAfterSeconds: 0 };
      throw error;
    }
  }
  await finishImportIfComplete(db, message.action_id);
}

class OutOfBudget extends Error {}

class ChunkWriter {
  constructor(
    private readonly db: D1Database,
    private readonly message: ImportChunkMessage,
    private readonly active: membership.ActiveSegment[],
    private applied: Set<string>,
    private readonly budget: StatementBudget,
    private readonly pacer: WritePacer,
  ) {}

  /** Whether the part at `path` was split: one of its halves is written. */
  private splitBefore(path: string): boolean {
    const partId = path === '' ? this.message.id : `${this.message.id}/${path}`;
    return [...this.applied].some((id) => id.startsWith(`${this.message.id}/${path}`) && id !== partId);
  }

  /** Writes the chunk's slices not written yet, in parts sized by the pacer, then marks the chunk done. */
  async writeChunk(rows: ImportRow[]): Promise<void> {
    const { db, message } = this;
    // Markers of a chunk halved as a whole (before chunks were written in slices): go on that way.
    if ([...this.applied].some((id) => /^[LR]/.test(id.slice(message.id.length + 1)))) return this.write(rows, '');
    const sliceCount = Math.ceil(rows.length / IMPORT_SLICE_ROWS);
    const sliceId = (index: number) => `${message.id}/${slicePath(index)}`;
    const sliceRows = (from: number, count: number) => rows.slice(from * IMPORT_SLICE_ROWS, (from + count) * IMPORT_SLICE_ROWS);
    /** Slices before this one are written one by one: a part over them failed on a taken source_id. */
    let singlesUntil = 0;
    for (;;) {
      const pending: number[] = [];
      for (let i = 0; i < sliceCount; i++) if (!this.applied.has(sliceId(i))) pending.push(i);
      const first = pending[0];
      if (first === undefined) break;
      // A slice split before (by this runner or an earlier delivery): its halves, as then.
      if (this.splitBefore(slicePath(first))) {
        await this.write(sliceRows(first, 1), slicePath(first));
        continue;
      }
      const most = first < singlesUntil ? 1 : this.pacer.size;
      let count = 1;
      while (count < most && pending[count] === first + count && !this.splitBefore(slicePath(first + count))) count++;
      const ids = Array.from({ length: count }, (_, i) => sliceId(first + i));
      const partId = ids[0] as string;
      const completes = count === pending.length;
      const now = Date.now();
      const statements = [
        importDb.openChunkPart(db, partId, message.action_id, [], now),
        ...(count > 1 ? [importDb.openChunkMarkers(db, ids.slice(1), message.action_id, now)] : []),
        ...rowWrites(db, partId, sliceRows(first, count), this.active, now),
        importDb.addChunkPartToAction(db, message.action_id, partId, MAX_REPORTED_FAILURES, now),
        // The part that leaves nothing pending also marks the chunk done.
        ...(completes
          ? [importDb.openChunkPart(db, message.id, message.action_id, [], now), ...importDb.completeChunk(db, message.action_id)]
          : []),
      ];
      const outcome = await this.run(statements, count);
      if (outcome === 'written') {
        for (const id of completes ? [...ids, message.id] : ids) this.applied.add(id);
      } else if (outcome === 'taken') {
        // Another runner wrote some of these slices meanwhile: go on from what D1 holds.
        this.applied = new Set(await importDb.appliedChunkParts(db, message.id));
      } else if (count > 1) {
        singlesUntil = first + count;
      } else {
        await this.write(sliceRows(first, 1), slicePath(first));
      }
    }
    if (!this.applied.has(message.id)) {
      await this.run(
        [importDb.openChunkPart(db, message.id, message.action_id, [], Date.now()), ...importDb.completeChunk(db, message.action_id)],
        0,
      );
    }
  }

  /**
   * Writes `rows` as the part at `path`, halving it while a row takes another customer's
   * source_id: '' for a whole chunk (as chunks were written before slices), a slice's path for a
   * slice; L and R appended for halves. The part's own marker closes it when its halves are done.
   */
  async write(rows: ImportRow[], path: string): Promise<void> {
    const { db, message } = this;
    const partId = path === '' ? message.id : `${message.id}/${path}`;
    if (this.applied.has(partId)) return;
    const close = () => [
      importDb.addChunkPartToAction(db, message.action_id, partId, MAX_REPORTED_FAILURES, Date.now()),
      ...(path === '' ? importDb.completeChunk(db, message.action_id) : []),
    ];
    if (!this.splitBefore(path)) {
      const now = Date.now();
      const outcome = await this.run(
        [importDb.openChunkPart(db, partId, message.action_id, [], now), ...rowWrites(db, partId, rows, this.active, now), ...close()],
        units(rows),
      );
      this.applied.add(partId);
      if (outcome === 'written' || outcome === 'taken') return;
      this.applied.delete(partId);
      if (rows.length === 1) {
        const [row] = rows as [ImportRow];
        const reason =
          outcome === 'duplicate_source_id'
            ? `source_id ${row.record.source_id} already belongs to another customer`
            : `the customer's metadata would be more than ${MAX_METADATA_BYTES} bytes as JSON once this row's metadata is merged into it`;
        const failure = { row: row.row, source_id: row.record.source_id ?? null, reason };
        await this.run([importDb.openChunkPart(db, partId, message.action_id, [failure], Date.now()), ...close()], 0);
        this.applied.add(partId);
        return;
      }
    }
    const middle = Math.ceil(rows.length / 2);
    await this.write(rows.slice(0, middle), `${path}L`);
    await this.write(rows.slice(middle), `${path}R`);
    await this.run(
      [
        importDb.openChunkPart(db, partId, message.action_id, [], Date.now()),
        ...(path === '' ? importDb.completeChunk(db, message.action_id) : []),
      ],
      0,
    );
    this.applied.add(partId);
  }

  /**
   * One batch of `slices` slices through the pacer. `written`, or `taken`: a marker was written
   * meanwhile (another delivery), so the part, or some of its slices, is done; or a taken
   * source_id or metadata past the limit, to report.
   */
  private async run(
    statements: D1PreparedStatement[],
    slices: number,
  ): Promise<'written' | 'taken' | 'duplicate_source_id' | 'customer_metadata_too_large'> {
    if (statements.length > this.budget.statements) throw new OutOfBudget();
    this.budget.statements -= statements.length;
    try {
      await this.pacer.write(slices, () => this.db.batch(statements));
      return 'written';
    } catch (error) {
      if (importDb.isChunkPartApplied(error)) return 'taken';
      const refusal = d1Refusal(error);
      if (refusal === 'duplicate_source_id' || refusal === 'customer_metadata_too_large') return refusal;
      throw error;
    }
  }
}

/** The rows of a half-slice, as the pacer counts them: in slices. */
const units = (rows: ImportRow[]): number => rows.length / IMPORT_SLICE_ROWS;

/** Finishes the action once every chunk is written: any runner may, the first one does (WHERE status = IN_PROGRESS). */
async function finishImportIfComplete(db: D1Database, actionId: string): Promise<void> {
  const state = await importDb.findImport(db, actionId);
  if (!state || state.chunks === null || state.chunks_done < state.chunks || state.status !== 'IN_PROGRESS') return;
  const row = await asyncActions.findAsyncAction(db, actionId);
  const action = row && asyncActionView(row);
  if (!action) return;
  const result = action.result as ImportCsvResult;
  const now = Date.now();
  await asyncActions
    .updateAsyncAction(db, actionId, {
      status: 'DONE',
      operationStatus: operationStatus(result),
      progress: 100,
      result: finishedResult(result),
      processingTime: now - Date.parse(action.created_at),
      updatedAt: now,
    })
    .run();
}
