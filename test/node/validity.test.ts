import { describe, expect, it } from 'vitest';
import {
  inTimeframe,
  parseIsoDuration,
  parseTimeOfDay,
  redeemableStatus,
  type ValidityTerms,
  validityRefusal,
} from '../../shared/validity';

// The fields judged here: OA ValidityTimeframe / ValidityDayOfWeek / ValidityHours
// (spec/readOnly-openAPI.json:L30418-L30500). Times in UTC.

const at = (iso: string) => Date.parse(iso);
const NONE: ValidityTerms = { start_date: null, validity_timeframe: null, validity_day_of_week: null, validity_hours: null };

describe('parseIsoDuration', () => {
  it.each([
    ['PT1H', { years: 0, months: 0, fixedMs: 3_600_000 }],
    ['P2D', { years: 0, months: 0, fixedMs: 2 * 86_400_000 }],
    ['P1W', { years: 0, months: 0, fixedMs: 7 * 86_400_000 }],
    ['P1M', { years: 0, months: 1, fixedMs: 0 }],
    ['P1Y2M3DT4H5M6S', { years: 1, months: 2, fixedMs: (((3 * 24 + 4) * 60 + 5) * 60 + 6) * 1000 }],
  ])('reads %s', (text, expected) => {
    expect(parseIsoDuration(text)).toEqual(expected);
  });

  it.each(['', 'P', 'PT', 'P1DT', '1D', 'P1.5D', 'PT0S', 'P0D', 'p1d', 'P-1D', 'P1H', 'PT1D'])('refuses %j', (text) => {
    expect(parseIsoDuration(text)).toBeNull();
  });
});

describe('parseTimeOfDay', () => {
  it('reads HH:mm as minutes after midnight', () => {
    expect(parseTimeOfDay('00:00')).toBe(0);
    expect(parseTimeOfDay('12:30')).toBe(750);
    expect(parseTimeOfDay('23:59')).toBe(1439);
  });
  it.each(['24:00', '7:00', '12:60', '12:00:00', 'noon'])('refuses %j', (text) => {
    expect(parseTimeOfDay(text)).toBeNull();
  });
});

describe('inTimeframe', () => {
  const start = at('2030-01-01T10:00:00Z');
  const P2D = parseIsoDuration('P2D')!;
  const PT1H = parseIsoDuration('PT1H')!;

  it('is open for the duration at every interval from the start, and closed otherwise', () => {
    expect(inTimeframe(start, P2D, PT1H, at('2030-01-01T10:00:00Z'))).toBe(true);
    expect(inTimeframe(start, P2D, PT1H, at('2030-01-01T10:59:59.999Z'))).toBe(true);
    expect(inTimeframe(start, P2D, PT1H, at('2030-01-01T11:00:00Z'))).toBe(false);
    expect(inTimeframe(start, P2D, PT1H, at('2030-01-02T10:30:00Z'))).toBe(false); // the off day
    expect(inTimeframe(start, P2D, PT1H, at('2030-01-03T10:30:00Z'))).toBe(true);
    expect(inTimeframe(start, P2D, PT1H, at('2031-01-02T10:30:00Z'))).toBe(true); // 366 days: an even count
    expect(inTimeframe(start, P2D, PT1H, at('2029-12-31T10:30:00Z'))).toBe(false); // before the start
  });

  it('counts months on the calendar', () => {
    const monthly = parseIsoDuration('P1M')!;
    const firstDays = parseIsoDuration('P2D')!;
    const jan = at('2030-01-01T00:00:00Z');
    expect(inTimeframe(jan, monthly, firstDays, at('2030-03-02T23:59:00Z'))).toBe(true);
    expect(inTimeframe(jan, monthly, firstDays, at('2030-03-03T00:00:00Z'))).toBe(false);
    expect(inTimeframe(jan, monthly, firstDays, at('2030-02-28T12:00:00Z'))).toBe(false);
    expect(inTimeframe(jan, monthly, firstDays, at('2034-07-01T12:00:00Z'))).toBe(true);
  });
});

describe('validityRefusal', () => {
  it('allows anything when no restriction is set', () => {
    expect(validityRefusal(NONE, at('2030-01-05T03:00:00Z'))).toBeNull();
  });

  it('refuses the days not listed in validity_day_of_week (0 = Sunday)', () => {
    const terms = { ...NONE, validity_day_of_week: [0, 6] as (0 | 6)[] };
    expect(validityRefusal(terms, at('2030-01-05T23:59:00Z'))).toBeNull(); // a Saturday
    expect(validityRefusal(terms, at('2030-01-06T00:00:00Z'))).toBeNull(); // a Sunday
    expect(validityRefusal(terms, at('2030-01-07T00:00:00Z'))).toEqual({
      restriction: 'validity_day_of_week',
      details: 'Voucher is valid on Sunday, Saturday (UTC)',
    });
  });

  it('judges validity_hours on the listed days, including periods past midnight', () => {
    const terms: ValidityTerms = {
      ...NONE,
      validity_hours: {
        daily: [
          { start_time: '12:00', expiration_time: '14:00', days_of_week: [1] },
          { start_time: '22:00', expiration_time: '02:00', days_of_week: [5] },
        ],
      },
    };
    // 2030-01-07 is a Monday, 2030-01-11 a Friday.
    expect(validityRefusal(terms, at('2030-01-07T12:00:00Z'))).toBeNull();
    expect(validityRefusal(terms, at('2030-01-07T13:59:00Z'))).toBeNull();
    expect(validityRefusal(terms, at('2030-01-07T14:00:00Z'))?.restriction).toBe('validity_hours');
    expect(validityRefusal(terms, at('2030-01-08T12:30:00Z'))?.restriction).toBe('validity_hours'); // Tuesday
    expect(validityRefusal(terms, at('2030-01-11T23:00:00Z'))).toBeNull(); // Friday night
    expect(validityRefusal(terms, at('2030-01-12T01:59:00Z'))).toBeNull(); // its small hours, a Saturday
    expect(validityRefusal(terms, at('2030-01-12T02:00:00Z'))?.restriction).toBe('validity_hours');
    expect(validityRefusal(terms, at('2030-01-12T23:00:00Z'))?.restriction).toBe('validity_hours'); // Saturday night
  });

  it('judges a timeframe from start_date, and fails closed without one', () => {
    const timeframe = { interval: 'P1W', duration: 'P1D' };
    const terms: ValidityTerms = { ...NONE, start_date: at('2030-01-07T00:00:00Z'), validity_timeframe: timeframe };
    expect(validityRefusal(terms, at('2030-01-14T08:00:00Z'))).toBeNull();
    expect(validityRefusal(terms, at('2030-01-15T08:00:00Z'))).toEqual({
      restriction: 'validity_timeframe',
      details: 'Voucher is valid for P1D every P1W from its start_date',
    });
    expect(validityRefusal({ ...terms, start_date: null }, at('2030-01-14T08:00:00Z'))?.restriction).toBe('validity_timeframe');
  });

  it('combines restrictions with AND', () => {
    const terms: ValidityTerms = {
      ...NONE,
      validity_day_of_week: [1],
      validity_hours: { daily: [{ start_time: '09:00', expiration_time: '17:00', days_of_week: [1, 2] }] },
    };
    expect(validityRefusal(terms, at('2030-01-07T10:00:00Z'))).toBeNull(); // Monday, in hours
    expect(validityRefusal(terms, at('2030-01-08T10:00:00Z'))?.restriction).toBe('validity_day_of_week'); // Tuesday
    expect(validityRefusal(terms, at('2030-01-07T18:00:00Z'))?.restriction).toBe('validity_hours');
  });
});

// OA CustomerRedeemable.redeemable.status (voucherify-openapi documentation/openapi/customers.json:L3636):
// ACTIVE, USED, DISABLED, NOT_ACTIVE_YET, EXPIRED (NO_BALANCE is for gift cards, which do not exist here).
describe('redeemableStatus', () => {
  const now = at('2030-06-01T12:00:00Z');
  const code = { active: true, start_date: null, expiration_date: null, quantity: null, redeemed_quantity: 0 };
  it.each([
    ['ACTIVE', {}],
    ['ACTIVE', { start_date: at('2030-06-01T12:00:00Z'), expiration_date: at('2030-06-01T12:00:00Z') }],
    ['ACTIVE', { quantity: 2, redeemed_quantity: 1 }],
    ['DISABLED', { active: false }],
    ['NOT_ACTIVE_YET', { start_date: at('2030-06-02T00:00:00Z') }],
    ['EXPIRED', { expiration_date: at('2030-05-31T00:00:00Z') }],
    ['USED', { quantity: 1, redeemed_quantity: 1 }],
    // Validate's order: disabled first, then the dates, then the quantity.
    ['DISABLED', { active: false, expiration_date: at('2030-05-31T00:00:00Z'), quantity: 1, redeemed_quantity: 1 }],
    ['EXPIRED', { expiration_date: at('2030-05-31T00:00:00Z'), quantity: 1, redeemed_quantity: 1 }],
  ] as const)('%s for %j', (status, change) => {
    expect(redeemableStatus({ ...code, ...change }, now)).toBe(status);
  });
});
