import * as eventsDb from '../db/events';
import type { Env } from '../env';
import { toIso } from '../lib/time';
import { bulkWriteTarget, WritePacer } from '../lib/write-pacer';

// Raw events are kept EVENT_RETENTION_DAYS for the activity feed; older ones are written to the R2
// archive and then deleted, by the 15-minute cron. Counts never move when they go: filters and
// rules read event_counters (migration 0026), which no deletion lowers.
//
// The archive holds each expired event exactly once:
// - one step archives the oldest expired events of one UTC hour (at most a batch of them) as one
//   gzip-compressed NDJSON object, then deletes exactly those rows in one D1 batch that also
//   counts the object in event_archive_hours;
// - the object's key comes from the hour and that count: events/2026/12/07/21.ndjson.gz for the
//   hour's first object, events/2026/12/07/21-0001.ndjson.gz for the next, and so on;
// - a run that stops after the put and before the batch (a crash, a D1 error) has deleted nothing
//   and counted nothing, so the next run computes the same key and overwrites that object with the
//   rows still there: no row is lost (it is deleted only once an object holding it is written) and
//   none is in two objects (an object is only ever replaced, under its own key, until committed).
// That holds for one run at a time: a run stops after EVENT_ARCHIVE_RUN_MS, far below the cron's
// 15 minutes, so two runs never overlap.

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
export const DEFAULT_EVENT_RETENTION_DAYS = 90;
/** Events per archive object and delete batch at most, unless EVENT_ARCHIVE_BATCH says fewer or more. */
export const DEFAULT_EVENT_ARCHIVE_BATCH = 5_000;
/** Steps (objects) per cron run, and the run's time, at most: bounded work however much is due. */
export const EVENT_ARCHIVE_STEPS_PER_RUN = 20;
export const EVENT_ARCHIVE_RUN_MS = 60_000;

/** EVENT_RETENTION_DAYS as days: an integer ≥ 0; unset or unreadable: 90. */
export function eventRetentionDays(env: Pick<Env, 'EVENT_RETENTION_DAYS'>): number {
  const setting = env.EVENT_RETENTION_DAYS?.trim();
  if (!setting) return DEFAULT_EVENT_RETENTION_DAYS;
  const days = Number(setting);
  if (Number.isInteger(days) && days >= 0) return days;
  console.error(
    JSON.stringify({ event_retention: 'EVENT_RETENTION_DAYS is not a whole number of days; using the default', value: setting }),
  );
  return DEFAULT_EVENT_RETENTION_DAYS;
}

/**
 * Raw events written before this time expire at `now`. With a window of days, the cut is rounded
 * down to the hour, so an hour is archived once it is wholly past the window: one object per hour
 * (the window is then up to an hour longer). 0 days expires everything written before the run
 * itself (tests and demos); an hour may then take several objects.
 */
export function eventExpiry(days: number, now: number): number {
  if (days === 0) return now;
  const cut = now - days * DAY_MS;
  return cut - (((cut % HOUR_MS) + HOUR_MS) % HOUR_MS);
}

/** The archive key of the hour starting at `hour`, for its `part`-th object (0: the first). */
export function archiveKey(hour: number, part: number): string {
  const iso = toIso(hour);
  const [y, m, d, h] = [iso.slice(0, 4), iso.slice(5, 7), iso.slice(8, 10), iso.slice(11, 13)];
  return `events/${y}/${m}/${d}/${h}${part === 0 ? '' : `-${String(part).padStart(4, '0')}`}.ndjson.gz`;
}

/** One archive line: the event as stored, its metadata as JSON and its time as ISO-8601. */
export const archiveLine = (row: eventsDb.EventRow): string =>
  JSON.stringify({
    id: row.id,
    profile_id: row.profile_id,
    type: row.type,
    metadata: JSON.parse(row.metadata) as unknown,
    created_at: toIso(row.created_at),
  });

/** NDJSON lines, gzip-compressed. */
async function gzipLines(lines: string[]): Promise<ArrayBuffer> {
  const stream = new Blob([lines.map((line) => `${line}\n`).join('')]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Response(stream).arrayBuffer();
}

export interface EventExpiryResult {
  /** Events archived and deleted by this run. */
  archived: number;
  /** The objects written, by key, in order. */
  objects: string[];
  /** true when expired events are left for the next run (the run's bound was reached). */
  more: boolean;
}

/**
 * Archives then deletes the raw events past EVENT_RETENTION_DAYS, a bounded amount per run: at
 * most EVENT_ARCHIVE_STEPS_PER_RUN objects and EVENT_ARCHIVE_RUN_MS. Each step's size follows
 * the D1 time of its delete batch (lib/write-pacer.ts, up to EVENT_ARCHIVE_BATCH events) and the
 * run gives way between steps, so a checkout waits behind at most one of them. Without the
 * EVENT_ARCHIVE binding nothing expires: raw events are never deleted unarchived.
 */
export async function expireRawEvents(
  env: Pick<Env, 'DB' | 'EVENT_ARCHIVE' | 'EVENT_RETENTION_DAYS' | 'EVENT_ARCHIVE_BATCH' | 'BULK_WRITE_TARGET_MS'>,
  now: number,
  clock: () => number = Date.now,
): Promise<EventExpiryResult> {
  const result: EventExpiryResult = { archived: 0, objects: [], more: false };
  const archive = env.EVENT_ARCHIVE;
  if (!archive) {
    console.error(JSON.stringify({ event_retention: 'no EVENT_ARCHIVE binding: raw events are kept, none expires' }));
    return result;
  }
  const before = eventExpiry(eventRetentionDays(env), now);
  const max = Number(env.EVENT_ARCHIVE_BATCH) >= 1 ? Math.floor(Number(env.EVENT_ARCHIVE_BATCH)) : DEFAULT_EVENT_ARCHIVE_BATCH;
  const pacer = new WritePacer(bulkWriteTarget(env), { initial: Math.min(500, max), min: Math.min(50, max), max });
  const started = clock();
  for (let step = 0; ; step++) {
    const oldest = await eventsDb.oldestEventBefore(env.DB, before);
    if (oldest === null) return result;
    if (step >= EVENT_ARCHIVE_STEPS_PER_RUN || clock() - started >= EVENT_ARCHIVE_RUN_MS) return { ...result, more: true };
    const hour = oldest - (((oldest % HOUR_MS) + HOUR_MS) % HOUR_MS);
    const { rows, parts } = await eventsDb.expiringEvents(env.DB, {
      hour,
      from: hour,
      to: Math.min(hour + HOUR_MS, before),
      limit: pacer.size,
    });
    if (rows.length === 0) return result;
    const key = archiveKey(hour, parts);
    await pacer.write(rows.length, async () => {
      await archive.put(key, await gzipLines(rows.map(archiveLine)), {
        httpMetadata: { contentType: 'application/gzip' },
        customMetadata: { events: String(rows.length), first_id: rows[0]?.id ?? '', last_id: rows[rows.length - 1]?.id ?? '' },
      });
      return eventsDb.deleteArchivedEvents(
        env.DB,
        hour,
        rows.map((r) => r.id),
      );
    });
    result.archived += rows.length;
    result.objects.push(key);
  }
}
