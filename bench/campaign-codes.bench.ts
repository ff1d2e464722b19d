// Campaign codes: 100,000 unique codes of a 10-character pattern, generated locally against `wrangler dev`
// through the WRITES queue (the campaign_codes job), from POST /v1/campaigns to
// vouchers_generation_status DONE. Goal: ≤ 30 s (Voucherify publishes ~60 s for 100k) and zero
// duplicates, counted in D1 afterwards (count(*) against count(DISTINCT code), and the pattern).
import { startFreshWorker } from './support/fresh-worker';
import { type BenchRow, formatCount } from './table';

const CODES = Number(process.env.BENCH_CODES ?? 100_000);
const PATTERN = '##########';
const TIMEOUT_MS = 300_000;

export async function run(): Promise<BenchRow[]> {
  const worker = await startFreshWorker('codes');
  const { api } = worker;
  try {
    const t0 = performance.now();
    const created = await api('POST', '/v1/campaigns', {
      name: 'Bench codes',
      vouchers_count: CODES,
      voucher: {
        type: 'DISCOUNT_VOUCHER',
        discount: { type: 'PERCENT', percent_off: 15 },
        redemption: { quantity: 1 },
        code_config: { pattern: PATTERN },
      },
    });
    const answered = performance.now() - t0;
    let state = created;
    let lastLog = 0;
    while (state.vouchers_generation_status === 'IN_PROGRESS') {
      if (performance.now() - t0 > TIMEOUT_MS)
        throw new Error(`generation not done after ${TIMEOUT_MS / 1000} s: ${JSON.stringify(state.vouchers_generation_progress)}`);
      await new Promise((r) => setTimeout(r, 100));
      state = await api('GET', `/v1/campaigns/${created.id}`);
      if (performance.now() - lastLog > 5000) {
        lastLog = performance.now();
        console.log(
          `  ${formatCount(state.vouchers_generation_progress.generated)} / ${formatCount(CODES)} after ${((performance.now() - t0) / 1000).toFixed(1)} s`,
        );
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    if (state.vouchers_generation_status !== 'DONE') throw new Error(`generation ended ${state.vouchers_generation_status}`);
    console.log(`${formatCount(state.vouchers_count)} codes in ${seconds.toFixed(1)} s (answered in ${answered.toFixed(0)} ms)`);
    const [{ n, distinct_codes, pattern_length }] = (await worker.queryAfterStop<{
      n: number;
      distinct_codes: number;
      pattern_length: number;
    }>(
      `SELECT count(*) AS n, count(DISTINCT code) AS distinct_codes, sum(length(code) = ${PATTERN.length}) AS pattern_length FROM vouchers WHERE campaign_id = '${created.id}'`,
    )) as [{ n: number; distinct_codes: number; pattern_length: number }];
    const duplicates = n - distinct_codes;
    console.log(
      `stored ${formatCount(n)} codes, ${formatCount(distinct_codes)} distinct, ${formatCount(pattern_length)} of ${PATTERN.length} characters: ${duplicates} duplicates`,
    );
    if (n !== CODES || duplicates !== 0 || pattern_length !== CODES) throw new Error('generation wrote the wrong codes');
    return [
      {
        area: 'Campaign codes',
        measure: `${formatCount(CODES)} unique codes of a ${PATTERN.length}-character pattern, through the queue (goal ≤ 30 s)`,
        value: `${seconds.toFixed(1)} s`,
      },
      { area: 'Campaign codes', measure: 'duplicates among them (must be 0)', value: String(duplicates) },
    ];
  } finally {
    worker.dispose();
  }
}
