/**
 * The recurring validity windows of a voucher, as Voucherify defines them (OA `ValidityTimeframe`,
 * `ValidityDayOfWeek`, `ValidityHours`, readOnly-openAPI.json:L30418-L30500), judged for one instant.
 *
 * Times are read in UTC: the spec names no time zone for these fields, and a service spread over
 * every Cloudflare location has no local one. A shop in another zone states its windows in UTC.
 */
import type { ExplainNode } from './explain';

/** 0 Sunday … 6 Saturday, as in the spec and as `Date.getUTCDay()` counts. */
export type DayOfWeek = 0 | 1 | 2 | 3 | 4 | 5 | 6;

/** Valid for `duration`, every `interval`, counted from `start_date` (ISO-8601 durations). */
export interface ValidityTimeframe {
  interval: string;
  duration: string;
}

export interface ValidityHoursPeriod {
  /** HH:mm; inactive before it. */
  start_time: string;
  /** HH:mm; inactive from it on. Earlier than start_time: the period runs past midnight. */
  expiration_time: string;
  /** The days a period starts on. */
  days_of_week: DayOfWeek[];
}

export interface ValidityHours {
  daily: ValidityHoursPeriod[];
}

export interface ValidityTerms {
  /** Epoch ms; a timeframe counts its windows from here. */
  start_date: number | null;
  validity_timeframe: ValidityTimeframe | null;
  validity_day_of_week: DayOfWeek[] | null;
  validity_hours: ValidityHours | null;
}

/** Which restriction refuses the instant, and why in words. */
export interface ValidityRefusal {
  restriction: 'validity_timeframe' | 'validity_day_of_week' | 'validity_hours';
  details: string;
}

export interface IsoDuration {
  years: number;
  months: number;
  /** Weeks, days, hours, minutes and seconds, in milliseconds: they do not depend on the calendar. */
  fixedMs: number;
}

const DURATION = /^P(?:(\d{1,6})Y)?(?:(\d{1,6})M)?(?:(\d{1,6})W)?(?:(\d{1,6})D)?(?:T(?:(\d{1,6})H)?(?:(\d{1,6})M)?(?:(\d{1,6})S)?)?$/;

/**
 * An ISO-8601 duration in whole units (`P2D`, `PT1H30M`, `P1M`, `P1W`); null when it is not one or
 * when it is zero. Fractions are refused rather than rounded.
 */
export function parseIsoDuration(text: string): IsoDuration | null {
  const m = DURATION.exec(text);
  if (!m || text.endsWith('T')) return null;
  const n = (i: number) => Number(m[i] ?? 0);
  const duration = {
    years: n(1),
    months: n(2),
    fixedMs: ((((n(3) * 7 + n(4)) * 24 + n(5)) * 60 + n(6)) * 60 + n(7)) * 1000,
  };
  return duration.years === 0 && duration.months === 0 && duration.fixedMs === 0 ? null : duration;
}

/** `from` plus `times` × the duration, years and months on the UTC calendar (31 Jan + P1M = 3 Mar, as Date does). */
function addDuration(from: number, duration: IsoDuration, times: number): number {
  const date = new Date(from);
  if (duration.years || duration.months) date.setUTCMonth(date.getUTCMonth() + times * (duration.years * 12 + duration.months));
  return date.getTime() + times * duration.fixedMs;
}

const APPROX_MONTH_MS = 30.436875 * 24 * 3600 * 1000;
const approxMs = (d: IsoDuration) => (d.years * 12 + d.months) * APPROX_MONTH_MS + d.fixedMs;

/** True when `now` falls in one of the windows [start + k·interval, start + k·interval + duration), k ≥ 0. */
export function inTimeframe(start: number, interval: IsoDuration, duration: IsoDuration, now: number): boolean {
  if (now < start) return false;
  // A first guess from the average length, corrected on the calendar (months differ in length).
  let k = Math.floor((now - start) / approxMs(interval));
  while (k > 0 && addDuration(start, interval, k) > now) k--;
  while (addDuration(start, interval, k + 1) <= now) k++;
  const windowStart = addDuration(start, interval, k);
  return now < addDuration(windowStart, duration, 1);
}

const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Minutes after midnight of an `HH:mm`; null when it is not one. */
export function parseTimeOfDay(text: string): number | null {
  const m = TIME.exec(text);
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const dayList = (days: readonly number[]) =>
  [...days]
    .sort((a, b) => a - b)
    .map((d) => DAY_NAMES[d])
    .join(', ');

/** True when the instant (UTC) is inside one of the daily periods. */
function inValidityHours(hours: ValidityHours, now: number): boolean {
  const date = new Date(now);
  const day = date.getUTCDay();
  const previousDay = (day + 6) % 7;
  const minute = date.getUTCHours() * 60 + date.getUTCMinutes();
  return hours.daily.some((period) => {
    const start = parseTimeOfDay(period.start_time);
    const end = parseTimeOfDay(period.expiration_time);
    if (start === null || end === null) return false; // stored values were checked on write
    const days: readonly number[] = period.days_of_week;
    if (start < end) return days.includes(day) && minute >= start && minute < end;
    // Past midnight: the evening of a listed day, or the small hours after one.
    return (days.includes(day) && minute >= start) || (days.includes(previousDay) && minute < end);
  });
}

const hhmm = (date: Date) => `${String(date.getUTCHours()).padStart(2, '0')}:${String(date.getUTCMinutes()).padStart(2, '0')}`;

/**
 * null when the voucher's recurring windows allow `now`; otherwise the first restriction that
 * refuses it. Restrictions combine with AND. start_date and expiration_date are judged elsewhere.
 * With `trace`, one `check` node is appended per restriction the voucher has, up to the refusing
 * one, with what was read of `now` (UTC).
 */
export function validityRefusal(terms: ValidityTerms, now: number, trace: ExplainNode[] | null = null): ValidityRefusal | null {
  const timeframe = terms.validity_timeframe;
  if (timeframe) {
    const interval = parseIsoDuration(timeframe.interval);
    const duration = parseIsoDuration(timeframe.duration);
    // Without a start the windows have no origin; the write path refuses that, so it fails closed here.
    const inside =
      terms.start_date !== null && interval !== null && duration !== null && inTimeframe(terms.start_date, interval, duration, now);
    const details = inside ? null : `Voucher is valid for ${timeframe.duration} every ${timeframe.interval} from its start_date`;
    trace?.push({
      kind: 'check',
      label: 'validity_timeframe',
      passed: inside,
      field: 'validity_timeframe',
      expected: timeframe,
      actual: new Date(now).toISOString(),
      ...(details ? { detail: details } : {}),
    });
    if (details) return { restriction: 'validity_timeframe', details };
  }
  const days = terms.validity_day_of_week;
  if (days) {
    const day = new Date(now).getUTCDay();
    const inside = (days as readonly number[]).includes(day);
    const details = inside ? null : `Voucher is valid on ${dayList(days)} (UTC)`;
    trace?.push({
      kind: 'check',
      label: 'validity_day_of_week',
      passed: inside,
      field: 'validity_day_of_week',
      operator: '$in',
      expected: days,
      actual: day,
      ...(details ? { detail: details } : {}),
    });
    if (details) return { restriction: 'validity_day_of_week', details };
  }
  const hours = terms.validity_hours;
  if (hours) {
    const inside = inValidityHours(hours, now);
    const details = inside
      ? null
      : `Voucher is valid ${hours.daily.map((p) => `${p.start_time}-${p.expiration_time} on ${dayList(p.days_of_week)}`).join('; ')} (UTC)`;
    trace?.push({
      kind: 'check',
      label: 'validity_hours',
      passed: inside,
      field: 'validity_hours',
      expected: hours,
      actual: { day_of_week: new Date(now).getUTCDay(), time: hhmm(new Date(now)) },
      ...(details ? { detail: details } : {}),
    });
    if (details) return { restriction: 'validity_hours', details };
  }
  return null;
}

/** OA CustomerRedeemable.redeemable.status: what a wallet shows for one code. */
export type RedeemableStatus = 'ACTIVE' | 'USED' | 'DISABLED' | 'NOT_ACTIVE_YET' | 'EXPIRED';

/**
 * A code's status at `now`, judged in validate's order (disabled, not started, expired, used up) so a
 * wallet never calls ACTIVE a code validate would refuse for one of those reasons. A recurring window
 * (days, hours, timeframe) that is closed right now leaves the code ACTIVE: it opens again by itself,
 * and the spec's statuses have no value for "active, but not at this hour".
 */
export function redeemableStatus(
  code: { active: boolean; start_date: number | null; expiration_date: number | null; quantity: number | null; redeemed_quantity: number },
  now: number,
): RedeemableStatus {
  if (!code.active) return 'DISABLED';
  if (code.start_date !== null && now < code.start_date) return 'NOT_ACTIVE_YET';
  if (code.expiration_date !== null && now > code.expiration_date) return 'EXPIRED';
  if (code.quantity !== null && code.redeemed_quantity >= code.quantity) return 'USED';
  return 'ACTIVE';
}
