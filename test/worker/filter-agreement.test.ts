import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileSql, evaluate, explainFilter, parseFilter, type FilterAst, type FilterProfile } from '../../shared/filter';
import { traceInconsistencies } from '../explain-consistency';
import { type CustomerRow } from '../../worker/src/db/customers';
import { rowToCustomer } from '../../worker/src/views/customer';

// One table of filters, run through both back ends over the same customers in D1. Each case states
// the customers it must select, so a back end that is wrong in the same way as the other still fails.

const DAY = 86_400_000;
/** Monday 2026-06-15 12:00 UTC: weeks, months and "N days ago" all have boundaries nearby. */
const NOW = Date.UTC(2026, 5, 15, 12, 0, 0);
const TODAY = Date.UTC(2026, 5, 15);

type Columns = Partial<Omit<CustomerRow, 'orders_average_amount' | 'metadata' | 'system_metadata'>> & {
  id: string;
  created_at: number;
  metadata?: Record<string, unknown>;
  system_metadata?: Record<string, unknown>;
};

const CUSTOMERS: Columns[] = [
  {
    id: 'c01',
    name: 'Alice Smith',
    email: 'Alice@Example.com',
    phone: '+48 600 100 200',
    source_id: 'src_alice',
    description: 'Loves 100% cotton',
    address_city: 'Berlin',
    address_country: 'Germany',
    address_postal_code: '10115',
    birthdate: '1990-06-15',
    created_at: TODAY - 30 * DAY, // first ms of the day 30 days ago
    updated_at: NOW - 3_600_000,
    orders_total_amount: 50_000,
    orders_total_count: 5,
    orders_last_order_amount: 12_000,
    orders_last_order_date: TODAY - 30 * DAY + DAY / 2,
    redemptions_total_succeeded: 3,
    redemptions_gift_redeemed_amount: 500,
    loyalty_points: 150,
    loyalty_referred_customers: 2,
    metadata: {
      age: 34,
      tier: 'gold',
      tags: ['vip', 'early'],
      signup: '2026-06-14T23:59:59.999Z',
      newsletter: true,
      lucky: [7, 13],
      profile: { level: { n: 3 } },
      'favourite-brand': 'Armani',
      note: 'x_y',
    },
    system_metadata: { source: 'web_widget', web_widget: { widgets: ['general', 'popup'] } },
  },
  {
    id: 'c02',
    name: 'bob jones',
    email: 'bob@example.org',
    phone: '48 111',
    source_id: 'a_b%c',
    description: '50%_off',
    address_city: 'berlin',
    address_postal_code: '10-115',
    birthdate: '2026-06-14',
    created_at: TODAY - 29 * DAY - 1, // last ms of the day 30 days ago
    loyalty_points: 20,
    metadata: { age: '34', tier: 'Gold', tags: [], signup: '2026-06-15', newsletter: 'true', lucky: '7', profile: { level: 'x' } },
    system_metadata: { source: 'api' },
  },
  {
    id: 'c03',
    name: 'Zoë Straße',
    email: 'ZOË@Example.COM',
    source_id: 'axb_c',
    address_city: 'München',
    address_country: 'Deutschland',
    birthdate: '2026-06-16',
    created_at: TODAY - 29 * DAY, // first ms of the day 29 days ago
    updated_at: TODAY - 1,
    orders_total_amount: 2_500,
    orders_total_count: 1,
    orders_last_order_amount: 2_500,
    orders_last_order_date: TODAY - 29 * DAY,
    metadata: {
      age: '34.0',
      tier: 'silver',
      tags: ['VIP'],
      signup: '2026-02-30',
      newsletter: false,
      lucky: [[7]],
      note: '50% off_now',
      profile: [{ level: { n: 3 } }],
    },
    system_metadata: { web_widget: { widgets: 'general' } },
  },
  {
    id: 'c04',
    name: 'Dmitri',
    phone: '+1 555',
    address_city: 'MÜNCHEN',
    address_country: 'Germany',
    created_at: TODAY - 30 * DAY - 1, // last ms of the day 31 days ago
    orders_total_amount: 100,
    orders_total_count: 1,
    orders_last_order_amount: 100,
    orders_last_order_date: TODAY - 31 * DAY,
    metadata: { age: 'abc', tier: null, tags: 'vip list', signup: '15/06/2026', newsletter: 'false', lucky: 7 },
  },
  {
    id: 'c05',
    name: '',
    email: 'eve@example.com',
    description: 'back\\slash',
    address_city: '',
    birthdate: '',
    created_at: NOW - 3_600_000,
    updated_at: TODAY + DAY + 1_000,
    orders_last_order_date: TODAY + 2 * DAY,
    metadata: {
      age: ' 34',
      tags: ['vip', 'VIP', 'vip'],
      signup: '2026-06-15T12:00:00Z',
      newsletter: 1,
      lucky: [true],
      score: '1e2',
      big: 12.5,
    },
  },
  {
    id: 'c06',
    name: 'Frank',
    email: 'FRANK@EXAMPLE.COM',
    description: 'Party 🎉🎉',
    address_city: 'Paris',
    created_at: Date.UTC(2025, 11, 31, 23, 59, 59, 999),
    metadata: { age: 70, tags: ['early'], signup: NOW, score: 100, big: -3 },
  },
  {
    id: 'c07',
    name: 'Grace',
    email: 'grace@example.com',
    birthdate: '2000-02-29',
    created_at: Date.UTC(2026, 5, 8), // Monday of last week, 00:00
    metadata: { age: 34.5, tags: ['a', 'b', 'c'], signup: '2026-06-08T00:00:00.000Z' },
  },
  {
    id: 'c08',
    name: 'Heidi',
    birthdate: '2026-02-30', // bypasses API validation: not a date
    created_at: TODAY - 1, // Sunday 23:59:59.999, the last ms of last week
    metadata: { age: [34], tags: [['vip']], signup: '2026-05-31T23:59:59.999Z' },
  },
  {
    id: 'c09',
    name: 'Ivan',
    created_at: Date.UTC(2026, 6, 1), // first ms of next month
    metadata: { age: true, signup: '2027-01-01' },
  },
  {
    id: 'c10',
    name: 'Judy',
    created_at: Date.UTC(2026, 5, 1),
    metadata: { age: -5, signup: '2026-06-22' },
  },
  { id: 'c11', created_at: Date.UTC(2020, 0, 1) },
  {
    id: 'c12',
    name: 'Kim_100%',
    created_at: TODAY + DAY,
    metadata: { age: null, signup: '2026-06-15T12:00:00.5Z' },
  },
];

const ALL = CUSTOMERS.map((c) => c.id);
const except = (...ids: string[]): string[] => ALL.filter((id) => !ids.includes(id));

/** [customer, event type, how many] */
const EVENTS: [string, string, number][] = [
  ['c01', 'cart_abandoned', 3],
  ['c01', 'purchase', 1],
  ['c02', 'cart_abandoned', 1],
  ['c03', 'purchase', 2],
];

/**
 * [customer, product, how many counting orders hold it]: customer_products (migration 0028), the
 * input of `orders.products.<id>.count`.
 */
const PRODUCTS: [string, string, number][] = [
  ['c01', 'MacBookAir', 2],
  ['c01', 'sku_red', 1],
  ['c03', 'MacBookAir', 1],
  ['c05', 'sku_red', 4],
];

interface Case {
  name: string;
  filter: Record<string, unknown>;
  expected: string[];
}

const on = (field: string, conditions: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  [field]: { conditions },
  ...extra,
});

const CASES: Case[] = [
  // ----- text fields
  { name: 'name $is is case-sensitive', filter: on('name', { $is: ['Alice Smith'] }), expected: ['c01'] },
  { name: 'name $is with other case matches nobody', filter: on('name', { $is: ['alice smith'] }), expected: [] },
  { name: 'name $is scalar operand', filter: on('name', { $is: 'Frank' }), expected: ['c06'] },
  { name: 'name $is_not holds for null and empty names', filter: on('name', { $is_not: ['Alice Smith'] }), expected: except('c01') },
  { name: 'name $in', filter: on('name', { $in: ['Frank', 'Grace', 'nobody'] }), expected: ['c06', 'c07'] },
  { name: 'name $not_in', filter: on('name', { $not_in: ['Frank', 'Grace'] }), expected: except('c06', 'c07') },
  { name: 'name $has_value treats "" as unknown', filter: on('name', { $has_value: true }), expected: except('c05', 'c11') },
  { name: 'name $is_unknown with "" operand', filter: on('name', { $is_unknown: '' }), expected: ['c05', 'c11'] },
  { name: 'name $starts_with folds ASCII case', filter: on('name', { $starts_with: ['ALI'] }), expected: ['c01'] },
  { name: 'name $ends_with', filter: on('name', { $ends_with: ['SMITH'] }), expected: ['c01'] },
  { name: 'name $contains non-ASCII letter', filter: on('name', { $contains: ['ë'] }), expected: ['c03'] },
  { name: 'name $contains does not fold non-ASCII case', filter: on('name', { $contains: ['Ë'] }), expected: [] },
  { name: 'name $contains ß word, ASCII part folded', filter: on('name', { $contains: ['STRAße'] }), expected: ['c03'] },
  {
    name: 'name $contains any of several values',
    filter: on('name', { $contains: ['i', 'ü'] }),
    expected: ['c01', 'c04', 'c08', 'c09', 'c12'],
  },
  {
    name: 'name $not_contain holds for unknown names',
    filter: on('name', { $not_contain: ['a'] }),
    expected: ['c02', 'c04', 'c05', 'c08', 'c10', 'c11', 'c12'],
  },
  { name: 'name $contains % is literal', filter: on('name', { $contains: ['%'] }), expected: ['c12'] },
  { name: 'name $contains _ is literal', filter: on('name', { $contains: ['_'] }), expected: ['c12'] },
  { name: 'name $contains "i_" does not treat _ as a wildcard', filter: on('name', { $contains: ['i_'] }), expected: [] },
  { name: 'name $contains "m%" does not treat % as a wildcard', filter: on('name', { $contains: ['m%'] }), expected: [] },
  { name: 'name $ends_with "100%"', filter: on('name', { $ends_with: ['100%'] }), expected: ['c12'] },
  { name: 'name $starts_with "kim_"', filter: on('name', { $starts_with: ['kim_'] }), expected: ['c12'] },
  { name: 'email $is folds ASCII case', filter: on('email', { $is: ['alice@example.com'] }), expected: ['c01'] },
  { name: 'email $is does not fold Ë', filter: on('email', { $is: ['zoë@example.com'] }), expected: [] },
  { name: 'email $is with exact non-ASCII case', filter: on('email', { $is: ['ZOË@example.com'] }), expected: ['c03'] },
  { name: 'email $in folds case', filter: on('email', { $in: ['FRANK@example.com', 'bob@EXAMPLE.org'] }), expected: ['c02', 'c06'] },
  { name: 'email $not_in', filter: on('email', { $not_in: ['frank@example.com'] }), expected: except('c06') },
  { name: 'email $ends_with', filter: on('email', { $ends_with: ['.COM'] }), expected: ['c01', 'c03', 'c05', 'c06', 'c07'] },
  { name: 'address.city $is is case-sensitive', filter: on('address.city', { $is: ['Berlin'] }), expected: ['c01'] },
  { name: 'address.city $contains lower-case umlaut', filter: on('address.city', { $contains: ['münchen'] }), expected: ['c03'] },
  { name: 'address.city $starts_with upper-case umlaut', filter: on('address.city', { $starts_with: ['MÜ'] }), expected: ['c04'] },
  {
    name: 'address.city $is_unknown',
    filter: on('address.city', { $is_unknown: true }),
    expected: ['c05', 'c07', 'c08', 'c09', 'c10', 'c11', 'c12'],
  },
  {
    name: 'address.country $is_not holds for null',
    filter: on('address.country', { $is_not: ['Germany'] }),
    expected: except('c01', 'c04'),
  },
  { name: 'address.postal_code $is with a number operand', filter: on('address.postal_code', { $is: [10115] }), expected: ['c01'] },
  { name: 'address.postal_code $starts_with number', filter: on('address.postal_code', { $starts_with: [10] }), expected: ['c01', 'c02'] },
  { name: 'phone $starts_with', filter: on('phone', { $starts_with: ['48'] }), expected: ['c02'] },
  { name: 'phone $contains', filter: on('phone', { $contains: ['48'] }), expected: ['c01', 'c02'] },
  { name: 'source_id $starts_with "a_b" (axb_c must not match)', filter: on('source_id', { $starts_with: ['a_b'] }), expected: ['c02'] },
  { name: 'source_id $ends_with "%c"', filter: on('source_id', { $ends_with: ['%c'] }), expected: ['c02'] },
  { name: 'source_id $is with % and _', filter: on('source_id', { $is: ['a_b%c'] }), expected: ['c02'] },
  { name: 'description $contains backslash', filter: on('description', { $contains: ['\\'] }), expected: ['c05'] },
  { name: 'description $contains "0%_"', filter: on('description', { $contains: ['0%_'] }), expected: ['c02'] },
  { name: 'description $contains %', filter: on('description', { $contains: ['%'] }), expected: ['c01', 'c02'] },
  // SQLite counts code points where JavaScript counts UTF-16 units; suffixes must still agree.
  { name: 'description $ends_with an emoji', filter: on('description', { $ends_with: ['🎉'] }), expected: ['c06'] },
  { name: 'description $ends_with "Y 🎉🎉"', filter: on('description', { $ends_with: ['Y 🎉🎉'] }), expected: ['c06'] },
  { name: 'description $starts_with an emoji', filter: on('description', { $starts_with: ['🎉'] }), expected: [] },

  // ----- timestamps (created_at, updated_at, last order)
  {
    name: 'created_at $is_days_ago 30 covers the whole UTC day',
    filter: on('created_at', { $is_days_ago: [30] }),
    expected: ['c01', 'c02'],
  },
  { name: 'created_at $more_than_ago 30', filter: on('created_at', { $more_than_ago: [30] }), expected: ['c04', 'c06', 'c11'] },
  { name: 'created_at $more_than 30 counts days', filter: on('created_at', { $more_than: [30] }), expected: ['c04', 'c06', 'c11'] },
  {
    name: 'created_at $more_than_equal 30',
    filter: on('created_at', { $more_than_equal: ['30'] }),
    expected: ['c01', 'c02', 'c04', 'c06', 'c11'],
  },
  {
    name: 'created_at $less_than_ago 30 excludes the future',
    filter: on('created_at', { $less_than_ago: [30] }),
    expected: ['c03', 'c05', 'c07', 'c08', 'c10'],
  },
  {
    name: 'created_at $less_than 30 counts days',
    filter: on('created_at', { $less_than: 30 }),
    expected: ['c03', 'c05', 'c07', 'c08', 'c10'],
  },
  {
    name: 'created_at $less_than_equal 30',
    filter: on('created_at', { $less_than_equal: [30] }),
    expected: ['c01', 'c02', 'c03', 'c05', 'c07', 'c08', 'c10'],
  },
  { name: 'created_at $less_than_ago 0 matches nothing', filter: on('created_at', { $less_than_ago: [0] }), expected: [] },
  { name: 'created_at $is_days_ago 0 is today', filter: on('created_at', { $is_days_ago: [0] }), expected: ['c05'] },
  { name: 'created_at $today', filter: on('created_at', { $today: true }), expected: ['c05'] },
  { name: 'created_at $yesterday includes its last ms', filter: on('created_at', { $yesterday: [true] }), expected: ['c08'] },
  { name: 'created_at $tomorrow', filter: on('created_at', { $tomorrow: '' }), expected: ['c12'] },
  { name: 'created_at $is_days_in_future 1', filter: on('created_at', { $is_days_in_future: [1] }), expected: ['c12'] },
  { name: 'created_at $more_than_future 1', filter: on('created_at', { $more_than_future: [1] }), expected: ['c09'] },
  { name: 'created_at $less_than_future 2', filter: on('created_at', { $less_than_future: [2] }), expected: ['c05', 'c12'] },
  { name: 'created_at $less_than_future 0 matches nothing', filter: on('created_at', { $less_than_future: [0] }), expected: [] },
  { name: 'created_at $this_week starts on Monday', filter: on('created_at', { $this_week: true }), expected: ['c05', 'c12'] },
  { name: 'created_at $last_week', filter: on('created_at', { $last_week: true }), expected: ['c07', 'c08'] },
  { name: 'created_at $next_week', filter: on('created_at', { $next_week: true }), expected: [] },
  {
    name: 'created_at $this_month excludes the 1st of next month',
    filter: on('created_at', { $this_month: true }),
    expected: ['c05', 'c07', 'c08', 'c10', 'c12'],
  },
  { name: 'created_at $last_month', filter: on('created_at', { $last_month: true }), expected: ['c01', 'c02', 'c03', 'c04'] },
  { name: 'created_at $next_month', filter: on('created_at', { $next_month: true }), expected: ['c09'] },
  { name: 'created_at $this_year', filter: on('created_at', { $this_year: true }), expected: except('c06', 'c11') },
  { name: 'created_at $last_year includes its last ms', filter: on('created_at', { $last_year: true }), expected: ['c06'] },
  { name: 'created_at $next_year', filter: on('created_at', { $next_year: true }), expected: [] },
  { name: 'created_at $before a date is strict', filter: on('created_at', { $before: ['2026-05-16'] }), expected: ['c04', 'c06', 'c11'] },
  {
    name: 'created_at $after an instant is strict',
    filter: on('created_at', { $after: ['2026-05-16T23:59:59.999Z'] }),
    expected: ['c03', 'c05', 'c07', 'c08', 'c09', 'c10', 'c12'],
  },
  { name: 'created_at $is a date compares the UTC day', filter: on('created_at', { $is: ['2026-05-16'] }), expected: ['c01', 'c02'] },
  {
    name: 'created_at $is an instant compares its day',
    filter: on('created_at', { $is: ['2026-05-16T18:00:00Z'] }),
    expected: ['c01', 'c02'],
  },
  { name: 'created_at $is several days', filter: on('created_at', { $is: ['2026-05-16', '2026-06-08'] }), expected: ['c01', 'c02', 'c07'] },
  { name: 'created_at $is_not a day', filter: on('created_at', { $is_not: ['2026-05-16'] }), expected: except('c01', 'c02') },
  {
    name: 'created_at between two dates',
    filter: on('created_at', { $after: ['2026-05-01'], $before: ['2026-06-01'] }),
    expected: ['c01', 'c02', 'c03', 'c04'],
  },
  { name: 'updated_at $has_value', filter: on('updated_at', { $has_value: true }), expected: ['c01', 'c03', 'c05'] },
  { name: 'updated_at $is_unknown', filter: on('updated_at', { $is_unknown: true }), expected: except('c01', 'c03', 'c05') },
  { name: 'updated_at $is_not today holds for null', filter: on('updated_at', { $is_not: ['2026-06-15'] }), expected: except('c01') },
  { name: 'updated_at $after', filter: on('updated_at', { $after: ['2026-06-15'] }), expected: ['c01', 'c05'] },
  {
    name: 'last_order_date $less_than 30 days (Voucherify example)',
    filter: on('summary.orders.last_order_date', { $less_than: [30] }),
    expected: ['c03'],
  },
  { name: 'last_order_date $more_than 30 days', filter: on('summary.orders.last_order_date', { $more_than: [30] }), expected: ['c04'] },
  { name: 'last_order_date $is_days_ago 30', filter: on('summary.orders.last_order_date', { $is_days_ago: [30] }), expected: ['c01'] },
  {
    name: 'last_order_date $is_days_in_future 2',
    filter: on('summary.orders.last_order_date', { $is_days_in_future: [2] }),
    expected: ['c05'],
  },
  {
    name: 'last_order_date $is_unknown without orders',
    filter: on('summary.orders.last_order_date', { $is_unknown: true }),
    expected: except('c01', 'c03', 'c04', 'c05'),
  },

  // ----- birthdate (calendar date at 00:00 UTC)
  { name: 'birthdate $is_days_ago 1', filter: on('birthdate', { $is_days_ago: [1] }), expected: ['c02'] },
  { name: 'birthdate $is_days_in_future 1', filter: on('birthdate', { $is_days_in_future: [1] }), expected: ['c03'] },
  { name: 'birthdate $yesterday', filter: on('birthdate', { $yesterday: true }), expected: ['c02'] },
  { name: 'birthdate $tomorrow', filter: on('birthdate', { $tomorrow: true }), expected: ['c03'] },
  { name: 'birthdate $before includes a leap day', filter: on('birthdate', { $before: ['2000-03-01'] }), expected: ['c01', 'c07'] },
  { name: 'birthdate $after is strict', filter: on('birthdate', { $after: ['2000-02-29'] }), expected: ['c02', 'c03'] },
  { name: 'birthdate $is', filter: on('birthdate', { $is: ['1990-06-15'] }), expected: ['c01'] },
  {
    name: 'birthdate $is_not holds for null, "" and invalid dates',
    filter: on('birthdate', { $is_not: ['2026-06-14'] }),
    expected: except('c02'),
  },
  {
    name: 'birthdate $has_value counts an invalid date',
    filter: on('birthdate', { $has_value: true }),
    expected: ['c01', 'c02', 'c03', 'c07', 'c08'],
  },
  {
    name: 'birthdate $is_unknown',
    filter: on('birthdate', { $is_unknown: true }),
    expected: ['c04', 'c05', 'c06', 'c09', 'c10', 'c11', 'c12'],
  },
  { name: 'birthdate $more_than_ago 10000 days', filter: on('birthdate', { $more_than_ago: [10_000] }), expected: ['c01'] },
  { name: 'birthdate $less_than_future 2', filter: on('birthdate', { $less_than_future: [2] }), expected: ['c03'] },
  { name: 'birthdate $this_year skips an invalid date', filter: on('birthdate', { $this_year: true }), expected: ['c02', 'c03'] },

  // ----- numbers
  { name: 'orders.total_amount $more_than', filter: on('summary.orders.total_amount', { $more_than: [2500] }), expected: ['c01'] },
  {
    name: 'orders.total_amount $more_than_equal',
    filter: on('summary.orders.total_amount', { $more_than_equal: [2500] }),
    expected: ['c01', 'c03'],
  },
  {
    name: 'orders.total_amount $less_than',
    filter: on('summary.orders.total_amount', { $less_than: [100] }),
    expected: except('c01', 'c03', 'c04'),
  },
  {
    name: 'orders.total_amount $less_than_equal',
    filter: on('summary.orders.total_amount', { $less_than_equal: [100] }),
    expected: except('c01', 'c03'),
  },
  { name: 'orders.total_amount $is a numeric string', filter: on('summary.orders.total_amount', { $is: ['2500'] }), expected: ['c03'] },
  { name: 'orders.total_amount $in', filter: on('summary.orders.total_amount', { $in: [100, 2500] }), expected: ['c03', 'c04'] },
  { name: 'orders.total_amount $not_in', filter: on('summary.orders.total_amount', { $not_in: [0] }), expected: ['c01', 'c03', 'c04'] },
  { name: 'orders.total_amount $is_not', filter: on('summary.orders.total_amount', { $is_not: [0] }), expected: ['c01', 'c03', 'c04'] },
  {
    name: 'orders.average_amount (generated column)',
    filter: on('summary.orders.average_amount', { $more_than: [5000] }),
    expected: ['c01'],
  },
  { name: 'orders.total_count $is', filter: on('summary.orders.total_count', { $is: [1] }), expected: ['c03', 'c04'] },
  { name: 'numbers always $has_value', filter: on('summary.orders.total_count', { $has_value: true }), expected: ALL },
  { name: 'numbers are never $is_unknown', filter: on('loyalty.points', { $is_unknown: true }), expected: [] },
  { name: 'redemptions.total_succeeded $is', filter: on('summary.redemptions.total_succeeded', { $is: [3] }), expected: ['c01'] },
  {
    name: 'redemptions.gift.redeemed_amount',
    filter: on('summary.redemptions.gift.redeemed_amount', { $more_than: [0] }),
    expected: ['c01'],
  },
  {
    name: 'redemptions.loyalty_card.points_to_go',
    filter: on('summary.redemptions.loyalty_card.points_to_go', { $is: [0] }),
    expected: ALL,
  },
  { name: 'loyalty.points $less_than_equal', filter: on('loyalty.points', { $less_than_equal: [20] }), expected: except('c01') },
  { name: 'loyalty.referred_customers $more_than', filter: on('loyalty.referred_customers', { $more_than: [1] }), expected: ['c01'] },

  // ----- products bought (our extension: orders.products.<product or sku id>.count)
  { name: 'bought a product', filter: on('orders.products.MacBookAir.count', { $more_than: [0] }), expected: ['c01', 'c03'] },
  { name: 'bought a product twice', filter: on('orders.products.MacBookAir.count', { $is: [2] }), expected: ['c01'] },
  { name: 'bought a product never', filter: on('orders.products.MacBookAir.count', { $less_than: [1] }), expected: except('c01', 'c03') },
  { name: 'bought a product $in counts', filter: on('orders.products.sku_red.count', { $in: [1, 4] }), expected: ['c01', 'c05'] },
  {
    name: 'bought a product $count 0 includes customers without orders',
    filter: on('orders.products.sku_red.count', { $count: [0] }),
    expected: except('c01', 'c05'),
  },
  { name: 'bought a product $is_not', filter: on('orders.products.sku_red.count', { $is_not: [4] }), expected: except('c05') },
  { name: 'bought an unknown product', filter: on('orders.products.nothing.count', { $more_than_equal: [1] }), expected: [] },
  {
    name: 'bought two products (and)',
    filter: {
      junction: 'and',
      ...on('orders.products.MacBookAir.count', { $more_than: [0] }),
      ...on('orders.products.sku_red.count', { $more_than: [0] }),
    },
    expected: ['c01'],
  },
  // ----- events
  { name: 'events count $is a numeric string', filter: on('events.cart_abandoned.count', { $is: ['1'] }), expected: ['c02'] },
  { name: 'events count $more_than 0', filter: on('events.cart_abandoned.count', { $more_than: [0] }), expected: ['c01', 'c02'] },
  {
    name: 'events $count 0 includes customers without events',
    filter: on('events.cart_abandoned.count', { $count: [0] }),
    expected: except('c01', 'c02'),
  },
  { name: 'events $count_more', filter: on('events.cart_abandoned.count', { $count_more: [2] }), expected: ['c01'] },
  { name: 'events $count_less', filter: on('events.cart_abandoned.count', { $count_less: [2] }), expected: except('c01') },
  { name: 'events count $in', filter: on('events.cart_abandoned.count', { $in: [1, 3] }), expected: ['c01', 'c02'] },
  { name: 'events count $is_not 0', filter: on('events.cart_abandoned.count', { $is_not: [0] }), expected: ['c01', 'c02'] },
  { name: 'events count per type', filter: on('events.purchase.count', { $more_than_equal: [2] }), expected: ['c03'] },
  { name: 'events count $less_than_equal', filter: on('events.purchase.count', { $less_than_equal: [1] }), expected: except('c03') },
  // The SQL stops counting once the count decides the comparison (EXISTS, LIMIT): the edges of that.
  { name: 'events $count 3 at the count stop', filter: on('events.cart_abandoned.count', { $count: [3] }), expected: ['c01'] },
  {
    name: 'events $more_than_equal 1 is having one',
    filter: on('events.cart_abandoned.count', { $more_than_equal: [1] }),
    expected: ['c01', 'c02'],
  },
  {
    name: 'events $less_than 1 is having none',
    filter: on('events.cart_abandoned.count', { $less_than: [1] }),
    expected: except('c01', 'c02'),
  },
  { name: 'events $more_than a fraction', filter: on('events.cart_abandoned.count', { $more_than: [2.5] }), expected: ['c01'] },
  {
    name: 'events $less_than_equal a fraction',
    filter: on('events.cart_abandoned.count', { $less_than_equal: [0.5] }),
    expected: except('c01', 'c02'),
  },
  {
    name: 'events $more_than a negative number holds for everyone',
    filter: on('events.cart_abandoned.count', { $more_than: [-1] }),
    expected: ALL,
  },
  { name: 'events $count_less 0 holds for no one', filter: on('events.cart_abandoned.count', { $count_less: [0] }), expected: [] },
  { name: 'events of an unseen type count 0', filter: on('events.never_seen.count', { $is: [0] }), expected: ALL },

  // ----- metadata: numbers stored as numbers and strings
  {
    name: 'metadata $is number matches numeric strings and arrays',
    filter: on('metadata.age', { $is: [34] }),
    expected: ['c01', 'c02', 'c03', 'c08'],
  },
  { name: 'metadata $is numeric string', filter: on('metadata.age', { $is: ['34'] }), expected: ['c01', 'c02', 'c03', 'c08'] },
  { name: 'metadata $is "34.0"', filter: on('metadata.age', { $is: ['34.0'] }), expected: ['c01', 'c02', 'c03', 'c08'] },
  {
    name: 'metadata $is_not holds for missing, null and other types',
    filter: on('metadata.age', { $is_not: [34] }),
    expected: ['c04', 'c05', 'c06', 'c07', 'c09', 'c10', 'c11', 'c12'],
  },
  { name: 'metadata $more_than compares numerically', filter: on('metadata.age', { $more_than: [34] }), expected: ['c06', 'c07'] },
  {
    name: 'metadata $more_than_equal with a string operand',
    filter: on('metadata.age', { $more_than_equal: ['34'] }),
    expected: ['c01', 'c02', 'c03', 'c06', 'c07'],
  },
  { name: 'metadata $less_than negative', filter: on('metadata.age', { $less_than: [0] }), expected: ['c10'] },
  { name: 'metadata $less_than_equal', filter: on('metadata.age', { $less_than_equal: [34] }), expected: ['c01', 'c02', 'c03', 'c10'] },
  { name: 'metadata $in mixes numbers and strings', filter: on('metadata.age', { $in: [70, '34.5'] }), expected: ['c06', 'c07'] },
  { name: 'metadata $not_in', filter: on('metadata.age', { $not_in: [70] }), expected: except('c06') },
  { name: 'metadata $has_value', filter: on('metadata.age', { $has_value: true }), expected: except('c11', 'c12') },
  { name: 'metadata $is_unknown for missing and null', filter: on('metadata.age', { $is_unknown: true }), expected: ['c11', 'c12'] },
  { name: 'metadata $contains on strings only', filter: on('metadata.age', { $contains: ['3'] }), expected: ['c02', 'c03', 'c05'] },
  { name: 'metadata $starts_with', filter: on('metadata.age', { $starts_with: ['3'] }), expected: ['c02', 'c03'] },
  { name: 'metadata "1e2" is not numeric', filter: on('metadata.score', { $is: [100] }), expected: ['c06'] },
  { name: 'metadata $more_than 99', filter: on('metadata.score', { $more_than: [99] }), expected: ['c06'] },
  { name: 'metadata real $more_than', filter: on('metadata.big', { $more_than: ['12.4'] }), expected: ['c05'] },
  { name: 'metadata real $less_than', filter: on('metadata.big', { $less_than: [0] }), expected: ['c06'] },

  // ----- metadata: strings
  { name: 'metadata $is string is case-sensitive', filter: on('metadata.tier', { $is: ['gold'] }), expected: ['c01'] },
  { name: 'metadata $contains folds ASCII case', filter: on('metadata.tier', { $contains: ['OL'] }), expected: ['c01', 'c02'] },
  { name: 'metadata $in strings', filter: on('metadata.tier', { $in: ['gold', 'silver'] }), expected: ['c01', 'c03'] },
  { name: 'metadata $is_unknown includes null', filter: on('metadata.tier', { $is_unknown: true }), expected: except('c01', 'c02', 'c03') },
  { name: 'metadata $contains % literal', filter: on('metadata.note', { $contains: ['%'] }), expected: ['c03'] },
  { name: 'metadata $contains "%_" literal', filter: on('metadata.note', { $contains: ['%_'] }), expected: [] },
  { name: 'metadata $contains "f_"', filter: on('metadata.note', { $contains: ['f_'] }), expected: ['c03'] },
  { name: 'metadata $ends_with', filter: on('metadata.note', { $ends_with: ['_NOW'] }), expected: ['c03'] },
  { name: 'metadata key with a hyphen', filter: on('metadata.favourite-brand', { $starts_with: ['arm'] }), expected: ['c01'] },

  // ----- metadata: arrays
  {
    name: 'metadata array $contains is exact membership',
    filter: on('metadata.tags', { $contains: ['vip'] }),
    expected: ['c01', 'c04', 'c05'],
  },
  {
    name: 'metadata array $not_contain',
    filter: on('metadata.tags', { $not_contain: ['vip'] }),
    expected: ['c02', 'c03', 'c06', 'c07', 'c08', 'c09', 'c10', 'c11', 'c12'],
  },
  { name: 'metadata array $is tests membership', filter: on('metadata.tags', { $is: ['early'] }), expected: ['c01', 'c06'] },
  { name: 'metadata array $in', filter: on('metadata.tags', { $in: ['VIP', 'c'] }), expected: ['c03', 'c05', 'c07'] },
  { name: 'metadata array $is_not', filter: on('metadata.tags', { $is_not: ['vip'] }), expected: except('c01', 'c05') },
  { name: 'metadata $count', filter: on('metadata.tags', { $count: [2] }), expected: ['c01'] },
  { name: 'metadata $count 0 needs an empty array', filter: on('metadata.tags', { $count: [0] }), expected: ['c02'] },
  { name: 'metadata $count_less', filter: on('metadata.tags', { $count_less: [2] }), expected: ['c02', 'c03', 'c06', 'c08'] },
  { name: 'metadata $count_more', filter: on('metadata.tags', { $count_more: [2] }), expected: ['c05', 'c07'] },
  {
    name: 'metadata [] has a value',
    filter: on('metadata.tags', { $has_value: true }),
    expected: ['c01', 'c02', 'c03', 'c04', 'c05', 'c06', 'c07', 'c08'],
  },
  { name: 'metadata $contains a number in a list', filter: on('metadata.lucky', { $contains: [7] }), expected: ['c01', 'c02'] },
  { name: 'metadata $is a number in lists and scalars', filter: on('metadata.lucky', { $is: [7] }), expected: ['c01', 'c02', 'c04'] },
  { name: 'metadata $is true in a list', filter: on('metadata.lucky', { $is: [true] }), expected: ['c05'] },
  { name: 'metadata $count_more 1', filter: on('metadata.lucky', { $count_more: [1] }), expected: ['c01'] },

  // ----- metadata: booleans
  { name: 'metadata $is true matches "true"', filter: on('metadata.newsletter', { $is: [true] }), expected: ['c01', 'c02'] },
  { name: 'metadata $is "true" matches true', filter: on('metadata.newsletter', { $is: ['true'] }), expected: ['c01', 'c02'] },
  { name: 'metadata $is false', filter: on('metadata.newsletter', { $is: [false] }), expected: ['c03', 'c04'] },
  { name: 'metadata $is_not true', filter: on('metadata.newsletter', { $is_not: [true] }), expected: except('c01', 'c02') },
  { name: 'metadata 1 is not true', filter: on('metadata.newsletter', { $is: [1] }), expected: ['c05'] },

  // ----- metadata: dates
  { name: 'metadata date $yesterday', filter: on('metadata.signup', { $yesterday: true }), expected: ['c01'] },
  { name: 'metadata date $today', filter: on('metadata.signup', { $today: true }), expected: ['c02', 'c05'] },
  { name: 'metadata date $is_days_ago 1', filter: on('metadata.signup', { $is_days_ago: [1] }), expected: ['c01'] },
  { name: 'metadata date $is_days_ago 7', filter: on('metadata.signup', { $is_days_ago: [7] }), expected: ['c07'] },
  { name: 'metadata date $before', filter: on('metadata.signup', { $before: ['2026-06-15'] }), expected: ['c01', 'c07', 'c08'] },
  { name: 'metadata date $after is strict', filter: on('metadata.signup', { $after: ['2026-06-15'] }), expected: ['c05', 'c09', 'c10'] },
  {
    name: 'metadata date $after an instant',
    filter: on('metadata.signup', { $after: ['2026-06-15T11:59:59.999Z'] }),
    expected: ['c05', 'c09', 'c10'],
  },
  { name: 'metadata date $last_week', filter: on('metadata.signup', { $last_week: true }), expected: ['c01', 'c07'] },
  { name: 'metadata date $next_week', filter: on('metadata.signup', { $next_week: true }), expected: ['c10'] },
  { name: 'metadata date $last_month', filter: on('metadata.signup', { $last_month: true }), expected: ['c08'] },
  { name: 'metadata date $next_year', filter: on('metadata.signup', { $next_year: true }), expected: ['c09'] },
  {
    name: 'metadata date $this_month',
    filter: on('metadata.signup', { $this_month: true }),
    expected: ['c01', 'c02', 'c05', 'c07', 'c10'],
  },
  {
    name: 'metadata date $less_than_ago 8',
    filter: on('metadata.signup', { $less_than_ago: [8] }),
    expected: ['c01', 'c02', 'c05', 'c07'],
  },
  { name: 'metadata date $more_than_ago 7', filter: on('metadata.signup', { $more_than_ago: [7] }), expected: ['c08'] },
  { name: 'metadata date $more_than_future 6', filter: on('metadata.signup', { $more_than_future: [6] }), expected: ['c09', 'c10'] },
  { name: 'metadata date $is_days_in_future 7', filter: on('metadata.signup', { $is_days_in_future: [7] }), expected: ['c10'] },
  { name: 'metadata invalid dates still $has_value', filter: on('metadata.signup', { $has_value: true }), expected: except('c11') },
  { name: 'metadata $is on a date string is string equality', filter: on('metadata.signup', { $is: ['2026-06-15'] }), expected: ['c02'] },
  { name: 'metadata $more_than on a date field is numeric', filter: on('metadata.signup', { $more_than: [5] }), expected: ['c06'] },

  // ----- nested metadata and system_metadata
  { name: 'nested metadata path', filter: on('metadata.profile.level.n', { $is: [3] }), expected: ['c01'] },
  { name: 'nested metadata $has_value', filter: on('metadata.profile.level.n', { $has_value: true }), expected: ['c01'] },
  { name: 'an object has a value', filter: on('metadata.profile.level', { $has_value: true }), expected: ['c01', 'c02'] },
  { name: 'an object equals nothing', filter: on('metadata.profile.level', { $is: ['x'] }), expected: ['c02'] },
  { name: 'system_metadata $is', filter: on('system_metadata.source', { $is: ['web_widget'] }), expected: ['c01'] },
  {
    name: 'system_metadata nested list membership',
    filter: on('system_metadata.web_widget.widgets', { $is: ['general'] }),
    expected: ['c01', 'c03'],
  },
  { name: 'system_metadata $is_unknown', filter: on('system_metadata.source', { $is_unknown: true }), expected: except('c01', 'c02') },

  // ----- junctions
  {
    name: 'junction or',
    filter: { junction: 'or', name: { conditions: { $is: ['Frank'] } }, email: { conditions: { $is: ['grace@example.com'] } } },
    expected: ['c06', 'c07'],
  },
  {
    name: 'junction AND in upper case',
    filter: {
      junction: 'AND',
      'address.city': { conditions: { $is: ['Berlin'] } },
      'summary.orders.total_amount': { conditions: { $more_than: [100] } },
    },
    expected: ['c01'],
  },
  {
    name: 'junction Or with a negated operator',
    filter: { junction: 'Or', 'metadata.tier': { conditions: { $is: ['gold'] } }, 'metadata.age': { conditions: { $is_unknown: true } } },
    expected: ['c01', 'c11', 'c12'],
  },
  {
    name: 'two operators on one field combine with AND',
    filter: on('metadata.age', { $more_than_equal: [34], $less_than: [35] }),
    expected: ['c01', 'c02', 'c03', 'c07'],
  },
  {
    name: 'default junction is and',
    filter: on('name', { $starts_with: ['a'] }, on('email', { $ends_with: ['.com'] })),
    expected: ['c01'],
  },
  { name: 'an empty filter matches everyone', filter: {}, expected: ALL },
  { name: 'an empty or-filter matches everyone', filter: { junction: 'or' }, expected: ALL },
];

const sorted = (ids: string[]): string[] => [...ids].sort();

/** Over every fixture customer: trace verdict = evaluate() = selected by the SQL (`selected`), and a consistent trace. */
function expectTracesAgree(ast: FilterAst, selected: readonly string[]): void {
  for (const profile of profiles) {
    const trace = explainFilter(ast, profile, NOW);
    expect(trace.kind).toBe('filter');
    expect(trace.logic).toBe(ast.junction);
    expect([profile.id, trace.passed]).toEqual([profile.id, evaluate(ast, profile, NOW)]);
    expect([profile.id, trace.passed]).toEqual([profile.id, selected.includes(profile.id)]);
    expect(traceInconsistencies(trace)).toEqual([]);
    // Every field and condition is in the trace, whatever decided early.
    expect(trace.children?.map((f) => f.field)).toEqual(ast.fields.map((f) => f.field.path));
    expect(trace.children?.map((f) => f.children?.map((c) => c.operator))).toEqual(ast.fields.map((f) => f.conditions.map((c) => c.op)));
  }
}

async function sqlIds(where: string, params: unknown[]): Promise<string[]> {
  const { results } = await env.DB.prepare(`SELECT id FROM customers c WHERE ${where} ORDER BY id`)
    .bind(...params)
    .all<{ id: string }>();
  return results.map((row) => row.id);
}

let profiles: FilterProfile[] = [];

beforeAll(async () => {
  const inserts = CUSTOMERS.map((customer) => {
    const values: Record<string, unknown> = {
      ...customer,
      metadata: JSON.stringify(customer.metadata ?? {}),
      system_metadata: JSON.stringify(customer.system_metadata ?? {}),
    };
    const columns = Object.keys(values);
    return env.DB.prepare(`INSERT INTO customers (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`).bind(
      ...columns.map((column) => values[column]),
    );
  });
  const events = EVENTS.flatMap(([customerId, type, count]) =>
    Array.from({ length: count }, (_, i) =>
      env.DB.prepare('INSERT INTO events (id, profile_id, type, created_at) VALUES (?, ?, ?, ?)').bind(
        `ev_${customerId}_${type}_${i}`,
        customerId,
        type,
        NOW - i,
      ),
    ),
  );
  await env.DB.batch([...inserts, ...events]);
  await env.DB.batch(
    PRODUCTS.map(([customerId, product, orders]) =>
      env.DB.prepare('INSERT INTO customer_products (customer_id, product, orders) VALUES (?, ?, ?)').bind(customerId, product, orders),
    ),
  );

  const { results: rows } = await env.DB.prepare('SELECT * FROM customers ORDER BY id').all<CustomerRow>();
  // evaluate() gets the counts validate reads: the counters (event_counters), as compileSql does.
  const { results: counts } = await env.DB.prepare('SELECT profile_id, type, count FROM event_counters').all<{
    profile_id: string;
    type: string;
    count: number;
  }>();
  profiles = rows.map((row) => {
    const events: Record<string, { count: number }> = {};
    for (const c of counts) if (c.profile_id === row.id) events[c.type] = { count: c.count };
    const products: Record<string, { count: number }> = {};
    for (const [customerId, product, count] of PRODUCTS) if (customerId === row.id) products[product] = { count };
    return { ...rowToCustomer(row), events, products };
  });
});

describe('filter back ends agree over D1', () => {
  it('has the fixture customers and at least 80 cases', () => {
    expect(profiles.map((p) => p.id)).toEqual(ALL);
    expect(CASES.length).toBeGreaterThanOrEqual(80);
    // The trigger of migration 0026 counted every inserted event, one counter per customer and type.
    expect(profiles.flatMap((p) => Object.entries(p.events ?? {}).map(([type, { count }]) => [p.id, type, count]))).toEqual(EVENTS);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  it.each(CASES)('$name', async ({ filter, expected }) => {
    const ast = parseFilter(filter);
    const { sql, params } = compileSql(ast, NOW);
    const fromJs = profiles.filter((profile) => evaluate(ast, profile, NOW)).map((p) => p.id);

    const fromSql = await sqlIds(sql, params);
    expect(fromSql).toEqual(sorted(expected));
    expect(fromJs).toEqual(sorted(expected));
    // The trace is the same walk, recording: its verdict is evaluate()'s and the SQL's, for every
    // customer, and each of its nodes follows from its children.
    expectTracesAgree(ast, fromSql);
    // The expression is never NULL, so its negation selects exactly the rest.
    expect(await sqlIds(`NOT (${sql})`, params)).toEqual(ALL.filter((id) => !expected.includes(id)));
  });
});

describe('compiled SQL within D1 limits', () => {
  it('runs a filter with the most conditions, the deepest nesting and the most parameters', async () => {
    const conditions: Record<string, unknown> = { junction: 'or' };
    for (let i = 0; i < 10; i++) {
      conditions[`metadata.k${i}.a.b.c`] = { conditions: { $is_days_ago: [1], $this_week: true, $in: ['x', 1, true] } };
    }
    const ast = parseFilter(conditions);
    const { sql, params } = compileSql(ast, NOW);
    expect(params.length).toBeGreaterThan(60);
    expect(params.length).toBeLessThanOrEqual(100);
    expect(await sqlIds(sql, params)).toEqual([]);
    expect(profiles.filter((p) => evaluate(ast, p, NOW))).toEqual([]);
    expectTracesAgree(ast, []);
  });

  it('takes 100 values of $in as one parameter', async () => {
    const names = Array.from({ length: 99 }, (_, i) => `nobody ${i}`);
    const ast = parseFilter(on('name', { $in: [...names, 'Grace'] }));
    const { sql, params } = compileSql(ast, NOW);
    expect(params).toHaveLength(1);
    expect(await sqlIds(sql, params)).toEqual(['c07']);
  });

  it('searches with a 255-character operand (longer than D1 allows a LIKE pattern)', async () => {
    const long = `${'%_'.repeat(126)}ab%`;
    const ast = parseFilter(on('description', { $contains: [long] }));
    const { sql, params } = compileSql(ast, NOW);
    expect(long).toHaveLength(255);
    expect(await sqlIds(sql, params)).toEqual([]);
    const ends = parseFilter(on('description', { $ends_with: [`${'x'.repeat(240)}cotton`] }));
    const compiled = compileSql(ends, NOW);
    expect(await sqlIds(compiled.sql, compiled.params)).toEqual([]);
  });
});

// Which strings are dates and numbers is where SQL and JavaScript are most likely to drift, so each
// spelling runs through both back ends on its own, via a one-row table standing in for `customers`.
describe('date and number spellings in metadata agree', () => {
  async function matchesInSql(metadata: Record<string, unknown>, sql: string, params: unknown[]): Promise<boolean> {
    const row = await env.DB.prepare(`SELECT 1 AS hit FROM (SELECT 'x' AS id, ? AS metadata) AS c WHERE ${sql}`)
      .bind(JSON.stringify(metadata), ...params)
      .first();
    return row !== null;
  }

  async function bothBackEnds(value: unknown, filter: Record<string, unknown>): Promise<[boolean, boolean]> {
    const ast = parseFilter(filter);
    const { sql, params } = compileSql(ast, NOW);
    const profile: FilterProfile = { ...profiles[0]!, metadata: { x: value } };
    const fromJs = evaluate(ast, profile, NOW);
    const trace = explainFilter(ast, profile, NOW);
    expect(trace.passed).toBe(fromJs);
    expect(traceInconsistencies(trace)).toEqual([]);
    // The value the trace shows is the one stored, as it was read.
    for (const condition of trace.children?.[0]?.children ?? []) expect(condition.actual).toEqual(value);
    return [await matchesInSql({ x: value }, sql, params), fromJs];
  }

  const iso = (ms: number) => new Date(ms).toISOString();
  const DATES: [string, number | null][] = [
    ['2026-06-15', Date.UTC(2026, 5, 15)],
    ['2026-06-15T12:34:56Z', Date.UTC(2026, 5, 15, 12, 34, 56)],
    ['2026-06-15T12:34:56.789Z', Date.UTC(2026, 5, 15, 12, 34, 56, 789)],
    ['2024-02-29', Date.UTC(2024, 1, 29)],
    ['2000-02-29T23:59:59.999Z', Date.UTC(2000, 1, 29, 23, 59, 59, 999)],
    ['1969-12-31T23:59:59.999Z', -1],
    ['0001-01-01', Date.parse('0001-01-01T00:00:00.000Z')],
    ['9999-12-31', Date.parse('9999-12-31T00:00:00.000Z')],
    ['2026-02-29', null],
    ['1900-02-29', null],
    ['2026-13-01', null],
    ['2026-00-10', null],
    ['2026-06-31', null],
    ['2026-06-15T24:00:00Z', null],
    ['2026-06-15T23:60:00Z', null],
    ['2026-06-15T23:59:60Z', null],
    ['2026-06-15T12:00:00', null],
    ['2026-06-15T12:00:00z', null],
    ['2026-06-15t12:00:00Z', null],
    ['2026-06-15T12:00:00.5Z', null],
    ['2026-06-15T12:00:00.1234Z', null],
    ['2026-06-15T12:00:00.abcZ', null],
    ['2026-06-15T12:00:00+00:00', null],
    ['2026-06-15 12:00:00Z', null],
    ['2026-06-15T12:00Z', null],
    ['2026-6-15', null],
    [' 2026-06-15', null],
    ['2026-06-15 ', null],
    ['2026-06-15T12:00:00.000Z ', null],
    ['20260615', null],
    ['2026/06/15', null],
    ['+2026-06-15', null],
    ['1781524800', null],
    ['٢٠٢٦-٠٦-١٥', null],
  ];

  it.each(DATES)('date spelling %j', async (spelling, ms) => {
    // Both bounds one ms away pin the exact instant each back end reads.
    const filter =
      ms === null ? on('metadata.x', { $after: ['0000-01-01'] }) : on('metadata.x', { $after: [iso(ms - 1)], $before: [iso(ms + 1)] });
    const expected = ms !== null;
    expect(await bothBackEnds(spelling, filter)).toEqual([expected, expected]);
  });

  const NUMBERS: [string, number | null][] = [
    ['0', 0],
    ['-0', 0],
    ['007', 7],
    ['3.14', 3.14],
    ['-2.5', -2.5],
    ['0.1', 0.1],
    ['19.99', 19.99],
    ['1234567890123', 1234567890123],
    ['', null],
    [' 1', null],
    ['1 ', null],
    ['+1', null],
    ['1.', null],
    ['.5', null],
    ['-.5', null],
    ['1e3', null],
    ['1E3', null],
    ['0x10', null],
    ['1,5', null],
    ['--1', null],
    ['1.2.3', null],
    ['-', null],
    ['NaN', null],
    ['Infinity', null],
    ['١', null],
    ['1_000', null],
  ];

  it.each(NUMBERS)('number spelling %j', async (spelling, n) => {
    const filter =
      n === null ? on('metadata.x', { $more_than: [-1e15] }) : on('metadata.x', { $more_than_equal: [n], $less_than_equal: [n], $is: [n] });
    const expected = n !== null;
    expect(await bothBackEnds(spelling, filter)).toEqual([expected, expected]);
  });
});
