// What judging costs per offer when a qualification judges every active offer for one visitor and
// one cart: judgeCode (worker/src/services/validation.ts, the one judge of a code or a promotion
// tier) over 10, 200 and 1,000 synthetic definitions, pure code (the definitions as the isolate
// keeps them, parsed once; the visitor as the one replica read returns it). With and without the
// explanation trace the console's simulator asks for. `--quick` runs fewer rounds.
import { type CustomerRow, emptyCustomerRow } from '../worker/src/db/customers';
import type { LiveVoucher, ValidationSubject } from '../worker/src/db/tracking';
import type { ValidationContext } from '../worker/src/schemas/checkout';
import { load, type LoadedDefinition, type VoucherDefinition } from '../worker/src/services/definitions';
import { judgeCode } from '../worker/src/services/validation';
import type { ExplainNode } from '../shared/explain';
import type { Discount } from '../shared/types';
import { type BenchRow } from './table';

const QUICK = process.argv.includes('--quick');
const SIZES = [10, 200, 1_000] as const;
const ROUNDS = QUICK ? 3 : 7;
/** Each round judges the offers over and over for at least this long, so that a timer tick is noise. */
const ROUND_MS = QUICK ? 40 : 150;
const NOW = Date.UTC(2026, 5, 17, 12); // a Wednesday, noon UTC
const DAY = 86_400_000;

/** 20 segments the offers share: passive ones judged by their filter now, static ones by stored membership. */
const SEGMENTS: VoucherDefinition['segments'] = Array.from({ length: 20 }, (_, s) =>
  s % 2 === 0
    ? {
        id: `seg_${s}`,
        type: 'passive' as const,
        filter: {
          junction: 'and',
          'metadata.tier': { conditions: { $in: s % 4 === 0 ? ['gold', 'platinum'] : ['bronze'] } },
          'summary.orders.total_amount': { conditions: { $more_than: [s * 1_000] } },
          'events.viewed_product.count': { conditions: { $more_than_equal: [2] } },
        },
      }
    : { id: `seg_${s}`, type: 'static' as const, filter: null },
);

const DISCOUNTS: Discount[] = [
  { type: 'PERCENT', percent_off: 10, amount_limit: 2_000 },
  { type: 'AMOUNT', amount_off: 500 },
  { type: 'UNIT', unit_off: 1, unit_type: 'sku_gift', effect: 'ADD_MISSING_ITEMS' },
  { type: 'PERCENT', percent_off: 15, effect: 'APPLY_TO_ITEMS' },
  { type: 'FIXED', fixed_amount: 4_000 },
];

/**
 * Offer `i`: a discount of each kind in turn; rules of each kind in turn (order amount, segments,
 * order items, customer metadata, a rule set of two joined by logic, none), some scoped to items;
 * some with dates and recurring windows, a few of them expired or not started, so that verdicts mix.
 */
function offer(i: number): LoadedDefinition {
  const code = `OFFER-${i}`;
  const rules: VoucherDefinition['rules'] = [];
  const rule = (r: Record<string, unknown>, applicable_to: VoucherDefinition['rules'][number]['applicable_to'] = null) =>
    rules.push({ id: `val_${i}_${rules.length}`, rules: r, error: null, applicable_to });
  const seg = (k: number) => `seg_${(i + k) % SEGMENTS.length}`;
  switch (i % 6) {
    case 0:
      rule({ '1': { name: 'order.amount', conditions: { $more_than_equal: [(i % 10) * 1_000] } } });
      break;
    case 1:
      rule({ '1': { name: 'customer.segment', conditions: { $in: [seg(0), seg(1)] } } });
      break;
    case 2:
      rule(
        { '1': { name: 'order.items.any', conditions: { $is: [{ object: 'sku', id: `sku_${i % 8}` }] } } },
        { included: [{ object: 'sku', id: `sku_${i % 8}`, strict: false, effect: 'APPLY_TO_EVERY' }], excluded: [], included_all: false },
      );
      break;
    case 3:
      rule({ '1': { name: 'customer.metadata.age', conditions: { $more_than: [i % 40] } } });
      break;
    case 4:
      rule({
        '1': { name: 'customer.segment', conditions: { $is_not: [seg(2)] } },
        '2': { name: 'order.items.count', conditions: { $more_than_equal: [2] } },
        '3': { name: 'redemption.count.per_customer', conditions: { $less_than_or_equal: [1] } },
        logic: '(1 and 2) or 3',
      });
      break;
    default:
      break;
  }
  const definition: VoucherDefinition = {
    voucher: {
      id: `v_${i}`,
      code,
      discount: DISCOUNTS[i % DISCOUNTS.length]!,
      start_date: i % 9 === 0 ? NOW + DAY : NOW - 30 * DAY,
      expiration_date: i % 11 === 0 ? NOW - DAY : i % 3 === 0 ? NOW + 30 * DAY : null,
      validity_timeframe: i % 13 === 0 ? { interval: 'P2D', duration: 'P1D' } : null,
      validity_day_of_week: i % 5 === 0 ? [1, 2, 3, 4, 5] : null,
      validity_hours:
        i % 7 === 0 ? { daily: [{ start_time: '08:00', expiration_time: '20:00', days_of_week: [0, 1, 2, 3, 4, 5, 6] }] } : null,
      metadata: { offer: i },
      campaign_id: `camp_${i % 25}`,
      campaign: `Campaign ${i % 25}`,
    },
    rules,
    segments: SEGMENTS.filter((s) => JSON.stringify(rules).includes(`"${s.id}"`)),
  };
  return load(`ver_${i}`, definition);
}

const definitions: LoadedDefinition[] = Array.from({ length: 1_000 }, (_, i) => offer(i));

/** A signed-in customer with some history, as the visitor read returns it, and the live state of every offer. */
const customer: CustomerRow = {
  ...emptyCustomerRow('cust_bench', NOW - 400 * DAY),
  source_id: 'bench@example.com',
  email: 'bench@example.com',
  orders_total_amount: 42_000,
  orders_total_count: 5,
  metadata: JSON.stringify({ tier: 'gold', age: 34 }),
};
const subject: ValidationSubject = {
  profile: {
    id: 'track_bench',
    customer_id: 'cust_bench',
    identity_hmac: null,
    first_seen: NOW - 90 * DAY,
    last_seen: NOW,
    validations_count: 4,
    codes: '[]',
  },
  customer,
  events: { viewed_product: { count: 7 }, logged_in: { count: 3 } },
  memberOf: new Set(SEGMENTS.filter((s, k) => s.type === 'static' && k % 4 === 1).map((s) => s.id)),
  vouchers: new Map(
    definitions.map((d, i): [string, LiveVoucher] => [
      d.voucher.code,
      {
        id: d.voucher.id,
        code: d.voucher.code,
        quantity: i % 17 === 0 ? 10 : null,
        redeemed_quantity: i % 34 === 0 ? 10 : 2,
        active: i % 19 === 0 ? 0 : 1,
        definition_version: d.version,
        holder_id: null,
      },
    ]),
  ),
  segmentsVersion: 'segver_bench',
  redemptionCounts: new Map(),
  products: {},
};

/** A cart of four lines, two units of one. */
const context: ValidationContext = {
  order: {
    amount: 12_500,
    items: [
      { sku_id: 'sku_1', quantity: 2, price: 2_500 },
      { sku_id: 'sku_2', quantity: 1, price: 4_000 },
      { sku_id: 'sku_5', quantity: 1, price: 3_500 },
      { product_id: 'prod_9', quantity: 1, price: 0 },
    ],
  },
};

/**
 * One pass over the first `n` offers, as one request judges them; returns how many were valid (kept,
 * so the work is not dead code). Each pass is a request of its own (a new context object), so the
 * visitor's profile, which judgeCode builds once per request, is built once per pass as it would be.
 */
function pass(n: number, explain: boolean): number {
  let valid = 0;
  const request = { ...context };
  for (let i = 0; i < n; i++) {
    const d = definitions[i]!;
    const trace: ExplainNode[] | null = explain ? [] : null;
    if (judgeCode(d.voucher.code, d, subject, request, NOW, trace).valid) valid++;
  }
  return valid;
}

/** Median over the rounds of µs per offer judged. */
function measure(n: number, explain: boolean): number {
  const perOffer: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let judged = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < ROUND_MS) {
      pass(n, explain);
      judged += n;
      elapsed = performance.now() - start;
    }
    perOffer.push((elapsed * 1_000) / judged);
  }
  perOffer.sort((a, b) => a - b);
  return perOffer[Math.floor(perOffer.length / 2)]!;
}

const us = (x: number) => `${x.toFixed(2)} µs`;

export async function run(): Promise<BenchRow[]> {
  const valid = pass(definitions.length, false);
  // The mix must leave work on both sides: offers refused early (dates, disabled) and offers judged to the end.
  if (valid < 100 || valid > definitions.length - 100) throw new Error(`unbalanced verdicts: ${valid} valid of ${definitions.length}`);
  console.log(`${valid} of ${definitions.length} offers valid for the bench visitor and cart`);
  for (let w = 0; w < 3; w++) pass(definitions.length, w % 2 === 1); // warm-up: the JIT sees both paths

  const rows: BenchRow[] = [];
  for (const n of SIZES) {
    const plain = measure(n, false);
    const explained = measure(n, true);
    console.log(
      `${n} offers: ${us(plain)}/offer (${((plain * n) / 1_000).toFixed(3)} ms a qualification), ` +
        `with explain ${us(explained)}/offer (${((explained * n) / 1_000).toFixed(3)} ms), median of ${ROUNDS}`,
    );
    rows.push({
      area: 'Qualifications',
      measure: `judgeCode per offer, ${n.toLocaleString('en')} offers (with explain)`,
      value: `${us(plain)} (${us(explained)})`,
    });
  }
  return rows;
}
