// Qualifications (docs/qualifications.md): what "which offers can this shopper use?" costs.
//
// 1. As a shopper far from the D1 primary meets it: `wrangler dev` with SIMULATE_TOPOLOGY=far (the
//    waits of topology.bench.ts) and BENCH_OFFERS (default 200) public offers, a quarter of them with
//    a segment rule and a quarter with an order rule. Sequential client qualifications of a verified
//    customer and a cart against GET /health: p50/p99 of each, the goal (client qualifications p50 ≤
//    health p50 + 30 ms) and the X-Vouchsafe-Ops of one warm request.
// 2. The judging alone, in this process: BENCH_JUDGE_OFFERS (default 1,000) definitions judged by
//    judgeCode for one visitor and cart, as services/qualifications.ts judges them: µs per offer
//    (median of BENCH_JUDGE_ROUNDS rounds, default 30).
//
// `--quick` skips the far run (the judging still runs). BENCH_PORT fixes the port of wrangler dev.
import { signClaim } from '../shared/identity';
import type { LoadedDefinition, VoucherDefinition } from '../shared/voucher-definition';
import { emptyCustomerRow } from '../worker/src/db/customers';
import type { ValidationSubject } from '../worker/src/db/tracking';
import { load } from '../worker/src/services/definitions';
import { judgeCode } from '../worker/src/services/validation';
import type { ValidationContext } from '../worker/src/schemas/checkout';
import { devVars } from './edge.bench';
import { startWorker } from './topology.bench';
import type { BenchRow } from './table';

const OFFERS = Number(process.env.BENCH_OFFERS ?? 200);
const JUDGE_OFFERS = Number(process.env.BENCH_JUDGE_OFFERS ?? 1000);
const JUDGE_ROUNDS = Number(process.env.BENCH_JUDGE_ROUNDS ?? 30);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 150);
const ROUTE_MS = Number(process.env.BENCH_SECONDS ?? 30) * 1000;
const WARM_UP = 10;
const GOAL_MS = 30;
const ORIGIN = 'https://bench.example';

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const ms = (n: number) => `${n.toFixed(1)} ms`;

async function measure(label: string, request: () => Promise<Response>) {
  for (let n = 0; n < WARM_UP; n++) await (await request()).arrayBuffer();
  const latencies: number[] = [];
  const end = performance.now() + ROUTE_MS;
  for (let n = 0; n < REQUESTS && performance.now() < end; n++) {
    const start = performance.now();
    const res = await request();
    const body = await res.text();
    latencies.push(performance.now() - start);
    if (res.status !== 200) throw new Error(`${label} answered ${res.status}: ${body}`);
  }
  latencies.sort((a, b) => a - b);
  const result = { p50: percentile(latencies, 50), p99: percentile(latencies, 99), count: latencies.length };
  console.log(`  ${label.padEnd(24)} p50 ${ms(result.p50).padStart(9)}   p99 ${ms(result.p99).padStart(9)}   (${result.count} requests)`);
  return result;
}

async function far(): Promise<BenchRow[]> {
  const vars: Record<string, string> = {
    ...devVars(),
    ALLOWED_ORIGINS: ORIGIN,
    RATE_LIMITS: 'off',
    COUNT_OPS: 'on',
    SIMULATE_TOPOLOGY: 'far',
  };
  // BENCH_PORT: a fixed port instead of a free one (on a shared machine, the one agreed on).
  const worker = await startWorker(vars, process.env.BENCH_PORT ? Number(process.env.BENCH_PORT) : undefined);
  try {
    const server = { 'X-App-Id': vars.APP_ID ?? '', 'X-App-Token': vars.APP_TOKEN ?? '', 'Content-Type': 'application/json' };
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${worker.url}${path}`, {
        method,
        headers: server,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = (await res.json()) as Record<string, unknown>;
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    await api('POST', '/v1/customers', { source_id: 'bench-q', metadata: { tier: 'gold' } });
    const gold = await api('POST', '/v1/segments', {
      name: 'gold',
      type: 'auto-update',
      filter: { 'metadata.tier': { conditions: { $is: ['gold'] } } },
    });
    const segmentRule = await api('POST', '/v1/validation-rules', {
      name: 'gold',
      rules: { '1': { name: 'customer.segment', conditions: { $is: [gold.id] } } },
    });
    const orderRule = await api('POST', '/v1/validation-rules', {
      name: 'over 10.00',
      rules: { '1': { name: 'order.amount', conditions: { $more_than: [1000] } } },
    });
    console.log(`seeding ${OFFERS} public offers on ${worker.url} (SIMULATE_TOPOLOGY=far)`);
    for (let start = 0; start < OFFERS; start += 10) {
      await Promise.all(
        Array.from({ length: Math.min(10, OFFERS - start) }, async (_, k) => {
          const i = start + k;
          const code = `BENCH-Q-${i}`;
          await api('POST', `/v1/vouchers/${code}`, { public: true, discount: { type: 'AMOUNT', amount_off: 10 + i } });
          const rule = i % 4 === 1 ? segmentRule : i % 4 === 2 ? orderRule : null;
          if (rule)
            await api('POST', `/v1/validation-rules/${rule.id}/assignments`, { related_object_type: 'voucher', related_object_id: code });
        }),
      );
    }
    const signature = await signClaim(vars.IDENTITY_SECRET ?? '', 'source_id', 'bench-q');
    const client = {
      'X-Client-Application-Id': vars.CLIENT_APP_ID ?? '',
      'X-Client-Token': vars.CLIENT_TOKEN ?? '',
      Origin: ORIGIN,
      'Content-Type': 'application/json',
      'X-Vouchsafe-Identity-Signature': signature,
    };
    const body = JSON.stringify({
      customer: { source_id: 'bench-q' },
      order: { amount: 5000 },
      tracking_id: 'track_BenchQualifyBenchQual0',
      options: { limit: 50 },
    });
    const qualify = () => fetch(`${worker.url}/client/v1/qualifications`, { method: 'POST', headers: client, body });
    const first = (await (await qualify()).json()) as { redeemables: { data: unknown[]; has_more: boolean } };
    if (first.redeemables.data.length !== 50 || !first.redeemables.has_more) throw new Error('the offers did not qualify as seeded');
    const health = await measure('GET /health', () => fetch(`${worker.url}/health`));
    const qualifications = await measure('client qualifications', qualify);
    const ops = (await qualify()).headers.get('X-Vouchsafe-Ops') ?? 'n/a';
    console.log(`  ops of one warm client qualifications: ${ops}`);
    const budget = health.p50 + GOAL_MS;
    const met = qualifications.p50 <= budget;
    return [
      {
        area: 'Qualifications (far)',
        measure: `client qualifications, ${OFFERS} offers | GET /health`,
        value: `p50 ${ms(qualifications.p50)}, p99 ${ms(qualifications.p99)} | p50 ${ms(health.p50)}, p99 ${ms(health.p99)}`,
      },
      {
        area: 'Qualifications (far)',
        measure: `goal: client qualifications p50 ≤ health p50 + ${GOAL_MS} ms`,
        value: `${met ? 'met' : 'NOT met'}: ${ms(qualifications.p50)} ${met ? '≤' : '>'} ${ms(health.p50)} + ${GOAL_MS} ms = ${ms(budget)}`,
      },
      { area: 'Qualifications (far)', measure: 'ops of one warm client qualifications', value: ops },
    ];
  } finally {
    await worker.stop();
  }
}

/** `n` definitions as the cache holds them: a quarter with a segment rule, a quarter with an order rule, a quarter with a metadata rule. */
function definitions(n: number, segmentId: string): LoadedDefinition[] {
  return Array.from({ length: n }, (_, i) => {
    const rules =
      i % 4 === 1
        ? { '1': { name: 'customer.segment', conditions: { $is: [segmentId] } } }
        : i % 4 === 2
          ? { '1': { name: 'order.amount', conditions: { $more_than: [1000] } } }
          : i % 4 === 3
            ? { '1': { name: 'customer.metadata.tier', conditions: { $is: ['gold'] } } }
            : null;
    const definition: VoucherDefinition = {
      voucher: {
        id: `v_${i}`,
        code: `J-${i}`,
        discount:
          i % 2
            ? { type: 'PERCENT', percent_off: 10, effect: 'APPLY_TO_ORDER' }
            : { type: 'AMOUNT', amount_off: 100, effect: 'APPLY_TO_ORDER' },
        start_date: null,
        expiration_date: null,
        validity_timeframe: null,
        validity_day_of_week: null,
        validity_hours: null,
        metadata: {},
        campaign_id: null,
        campaign: null,
      },
      rules: rules ? [{ id: `val_${i}`, rules, error: null, applicable_to: null }] : [],
      segments:
        rules && i % 4 === 1
          ? [{ id: segmentId, type: 'auto-update', filter: { 'metadata.tier': { conditions: { $is: ['gold'] } } } }]
          : [],
    } as VoucherDefinition;
    return load(`version-${i}`, definition);
  });
}

function judging(): BenchRow[] {
  const segmentId = 'seg_bench';
  const loaded = definitions(JUDGE_OFFERS, segmentId);
  const now = Date.now();
  const customer = { ...emptyCustomerRow('cust_bench', now), metadata: JSON.stringify({ tier: 'gold' }) };
  const subject: ValidationSubject = {
    profile: null,
    customer,
    events: {},
    memberOf: new Set([segmentId]),
    vouchers: new Map(
      loaded.map((d) => [
        d.voucher.code,
        {
          id: d.voucher.id,
          code: d.voucher.code,
          quantity: null,
          redeemed_quantity: 0,
          active: 1,
          definition_version: d.version,
          holder_id: null,
        },
      ]),
    ),
    segmentsVersion: '',
    redemptionCounts: new Map(),
    products: {},
  };
  const context = {
    customer: { source_id: 'bench' },
    order: { amount: 5000, items: [{ product_id: 'p1', quantity: 2, price: 2500 }] },
  } as ValidationContext;
  const rounds: number[] = [];
  let valid = 0;
  for (let r = 0; r < JUDGE_ROUNDS; r++) {
    const start = performance.now();
    valid = 0;
    for (const d of loaded) if (judgeCode(d.voucher.code, d, subject, context, now, null).valid) valid++;
    rounds.push(((performance.now() - start) * 1000) / loaded.length);
  }
  rounds.sort((a, b) => a - b);
  const median = percentile(rounds, 50);
  console.log(`judging ${JUDGE_OFFERS} offers: ${median.toFixed(2)} µs per offer (median of ${JUDGE_ROUNDS} rounds; ${valid} qualify)`);
  return [
    {
      area: 'Qualifications',
      measure: `judging cost per offer at ${JUDGE_OFFERS} offers (judgeCode, node)`,
      value: `${median.toFixed(2)} µs (median of ${JUDGE_ROUNDS} rounds, fastest ${rounds[0]?.toFixed(2)} µs; ${JUDGE_OFFERS} offers ≈ ${((median * JUDGE_OFFERS) / 1000).toFixed(2)} ms)`,
    },
  ];
}

export async function run(): Promise<BenchRow[]> {
  const rows = judging();
  if (process.argv.includes('--quick')) return rows;
  return [...(await far()), ...rows];
}
