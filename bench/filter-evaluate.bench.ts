// evaluate() of a 12-condition filter on one profile: evaluations per second.
// Anchor: json-logic-js manages about 1M evaluations a second of a *simple* rule; this filter has
// twelve conditions over text, numbers, dates, metadata and event counts, parsed once up front.
import { evaluate, parseFilter } from '../shared/filter';
import type { Customer } from '../shared/types';
import { type BenchRow, formatCount } from './table';

const now = Date.UTC(2026, 5, 15, 12);
const filter = parseFilter({
  junction: 'and',
  email: { conditions: { $ends_with: ['@example.com'] } },
  name: { conditions: { $has_value: true } },
  'address.city': { conditions: { $in: ['Berlin', 'Warsaw', 'Paris'] } },
  'address.country': { conditions: { $is_not: ['Narnia'] } },
  created_at: { conditions: { $before: ['2026-06-01T00:00:00.000Z'] } },
  'summary.orders.total_amount': { conditions: { $more_than: [10_000] } },
  'summary.orders.total_count': { conditions: { $more_than_equal: [2] } },
  'summary.orders.last_order_date': { conditions: { $less_than: [30] } },
  'metadata.tier': { conditions: { $in: ['gold', 'platinum'] } },
  'metadata.age': { conditions: { $more_than: [18] } },
  'metadata.tags': { conditions: { $contains: ['vip'] } },
  'events.logged_in.count': { conditions: { $more_than: [3] } },
});

const profile: Customer & { events: Record<string, { count: number }> } = {
  id: 'cust_bench',
  source_id: 'bench',
  name: 'Bench Mark',
  description: null,
  email: 'bench@example.com',
  phone: null,
  birthdate: '1990-01-01',
  address: { city: 'Warsaw', state: null, line_1: null, line_2: null, country: 'Poland', postal_code: null },
  summary: {
    redemptions: {
      total_redeemed: 0,
      total_failed: 0,
      total_succeeded: 0,
      total_rolled_back: 0,
      total_rollback_failed: 0,
      total_rollback_succeeded: 0,
      gift: { redeemed_amount: 0, amount_to_go: 0 },
      loyalty_card: { redeemed_points: 0, points_to_go: 0 },
    },
    orders: {
      total_amount: 25_000,
      total_count: 3,
      average_amount: 8_333,
      last_order_amount: 5_000,
      last_order_date: '2026-06-10T10:00:00.000Z',
    },
  },
  loyalty: { points: 0, referred_customers: 0, campaigns: {} },
  referrals: { total: 0, campaigns: [] },
  metadata: { tier: 'gold', age: 34, tags: ['new', 'vip'] },
  system_metadata: {},
  created_at: '2025-01-01T00:00:00.000Z',
  object: 'customer',
  events: { logged_in: { count: 7 } },
};

export async function run(): Promise<BenchRow[]> {
  if (!evaluate(filter, profile, now)) throw new Error('the benchmark profile should match its filter');

  let matched = 0;
  for (let i = 0; i < 100_000; i++) if (evaluate(filter, profile, now)) matched++; // warm-up
  const runs = 1_000_000;
  const start = performance.now();
  for (let i = 0; i < runs; i++) if (evaluate(filter, profile, now)) matched++;
  const seconds = (performance.now() - start) / 1000;
  console.log(
    `evaluate, 12 conditions: ${Math.round(runs / seconds).toLocaleString('en')} evaluations/s (${runs.toLocaleString('en')} runs in ${seconds.toFixed(2)} s)`,
  );
  console.log(`conditions tested: ${Math.round((12 * runs) / seconds).toLocaleString('en')}/s`);
  console.log(
    `ratio to the json-logic-js anchor of 1M simple evaluations/s: ${(runs / seconds / 1_000_000).toFixed(2)}x per 12-condition filter, ${((12 * runs) / seconds / 1_000_000).toFixed(1)}x per condition`,
  );
  return [
    { area: 'Segments', measure: 'evaluate(), 12-condition filter', value: `${formatCount(runs / seconds)} /s` },
    { area: 'Segments', measure: 'conditions tested', value: `${formatCount((12 * runs) / seconds)} /s` },
  ];
}
