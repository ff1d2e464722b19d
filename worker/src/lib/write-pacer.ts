import { giveWay, RangeSizer } from './range-sizer';

// Bulk writes in batches sized by time.
//
// D1 runs one batch at a time per database, and a batch holds the writer until it commits. A bulk
// writer that sends thousands of rows per batch (a CSV import's chunk, code generation, a webhook
// fan-out) makes every checkout's redeem wait behind each of those batches: measured locally,
// client validate p99 went from 22–77 ms to 665–969 ms while a 50,000-row import was written. So
// every bulk writer (the import's chunks, the bulk and metadata updates, segment distributions,
// campaign code generation and code imports, the webhook dispatcher) goes through a WritePacer:
// each batch covers as many rows as the last batches say fit BULK_WRITE_TARGET_MS of D1 time
// (halved when a batch took longer, doubled when it took less than half), and the writer gives way
// between two batches (lib/range-sizer.ts giveWay), so the redeem's batch is next at the writer.
//
// D1 time is what D1 reports for the batch (meta.duration, SQL execution only): in production the
// round trip from a consumer far from the primary is not the writer's time, and counting it would
// shrink every batch to its minimum. Where D1 reports nothing, the wall-clock time of the call.

/** D1 time one bulk batch aims at, in ms, unless BULK_WRITE_TARGET_MS says otherwise. */
export const DEFAULT_BULK_WRITE_TARGET_MS = 25;

export interface BulkWriteSettings {
  /** See Env.BULK_WRITE_TARGET_MS. */
  BULK_WRITE_TARGET_MS?: string;
}

/**
 * BULK_WRITE_TARGET_MS as ms: a number ≥ 0 (0 keeps every batch at its writer's minimum), or
 * `unbounded`: every batch at its writer's maximum and no pause between them (the behaviour
 * before batches were sized by time, for benchmarks' comparison). Unset or unreadable: 25.
 */
export function bulkWriteTarget(env: BulkWriteSettings | undefined): number {
  const setting = env?.BULK_WRITE_TARGET_MS?.trim();
  if (!setting) return DEFAULT_BULK_WRITE_TARGET_MS;
  if (setting.toLowerCase() === 'unbounded') return Number.POSITIVE_INFINITY;
  const ms = Number(setting);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  console.error(
    JSON.stringify({ bulk_writes: 'BULK_WRITE_TARGET_MS is neither a number of ms nor "unbounded"; using the default', value: setting }),
  );
  return DEFAULT_BULK_WRITE_TARGET_MS;
}

/** A writer's batch sizes, in its own unit (rows, slices of rows, codes, events). */
export interface PaceLimits {
  /** The first batch's size, before any was measured. */
  initial: number;
  /** Never fewer: the floor that keeps a writer moving whatever D1's time per row. */
  min: number;
  /** Never more: the writer's own bound (a statement's parameter, a message's rows). */
  max: number;
}

/** The D1 time of a batch's results (the sum of meta.duration), or null when D1 reports none. */
function d1Duration(result: unknown): number | null {
  const results = Array.isArray(result) ? result : [result];
  let total = 0;
  for (const r of results) {
    const duration = (r as { meta?: { duration?: unknown } } | null)?.meta?.duration;
    if (typeof duration !== 'number' || !Number.isFinite(duration)) return null;
    total += duration;
  }
  return results.length > 0 ? total : null;
}

/** Sizes one bulk writer's batches by their D1 time and gives way between them. */
export class WritePacer {
  private readonly sizer: RangeSizer;
  private readonly unbounded: boolean;
  /** The size (in the writer's unit) of every batch written so far, in order: for tests and logs. */
  readonly batches: number[] = [];

  constructor(targetMs: number, limits: PaceLimits) {
    this.unbounded = targetMs === Number.POSITIVE_INFINITY;
    this.sizer = new RangeSizer(this.unbounded ? limits.max : limits.initial, limits.min, limits.max, targetMs);
  }

  /** How many units the next batch may cover. */
  get size(): number {
    return this.sizer.size;
  }

  /**
   * Runs one batch of `units` (at most `size`), after a pause when a batch ran before it, and sizes
   * the next from its D1 time. A batch shorter than `size` (the end of the work) counts as if it
   * had been full, at the same time per unit, so a short last batch does not double the size.
   * `write` returns the batch's D1 results (or anything else: then its wall-clock time counts).
   */
  async write<R>(units: number, write: () => Promise<R>): Promise<R> {
    if (this.batches.length > 0 && !this.unbounded) await giveWay();
    const started = Date.now();
    const result = await write();
    const ms = d1Duration(result) ?? Date.now() - started;
    const size = this.sizer.size;
    this.batches.push(units);
    this.sizer.record(units > 0 && units < size ? (ms * size) / units : ms);
    return result;
  }
}

/**
 * Writes `items` in consecutive batches as the pacer sizes them. `write` gets each slice and
 * whether it is the last one (the batch that may also record the work as done), and returns the
 * batch's D1 results. `maxBatches` bounds their number where each batch costs statements of its
 * own (a membership refresh) and the invocation's 1,000 D1 queries must hold them all: a batch
 * then takes at least its share of what is left, whatever the pacer says.
 */
export async function writeInBatches<T>(
  pacer: WritePacer,
  items: readonly T[],
  write: (slice: T[], last: boolean) => Promise<unknown>,
  maxBatches = Number.POSITIVE_INFINITY,
): Promise<void> {
  for (let at = 0, batches = 0; at < items.length; batches++) {
    const share = Math.ceil((items.length - at) / Math.max(1, maxBatches - batches));
    const slice = items.slice(at, at + Math.max(pacer.size, share));
    at += slice.length;
    await pacer.write(slice.length, () => write(slice, at >= items.length));
  }
}
