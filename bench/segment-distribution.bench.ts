// Segment-wide distribution: a campaign's codes published to every member of a 20,000-member static segment
// (BENCH_MEMBERS) against `wrangler dev`, through the WRITES queue (the `distribution` job: keyset
// steps of at most 5,000 customers, one D1 batch each). Measures the time from POST
// /v1/publications/segment to the async action DONE, and client validate latency (p50/p99) alone
// and meanwhile, as heavy-segment.bench.ts does (goal: p99 during ≤ 2x alone). Afterwards D1 is
// counted: one publication per member, every code distinct and held by its member.
import { startFreshWorker } from './support/fresh-worker';
import { type BenchRow, formatCount } from './table';

const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 20_000);
/** Every fifth customer is not a member: the walk passes over them. */
const CUSTOMERS = Math.ceil((MEMBERS * 5) / 4);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const ALONE_MS = Number(process.env.BENCH_SECONDS ?? 10) * 1000;
const ORIGIN = 'https://bench.example';
const TIMEOUT_MS = 600_000;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

export async function run(): Promise<BenchRow[]> {
  const generate = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${CUSTOMERS})
     INSERT INTO customers (id, source_id, email, metadata, created_at)
     SELECT 'cust_' || i, 'lapsed_' || i, 'l' || i || '@example.com', '{}', ${Date.now() - 400 * 86_400_000} + i FROM n`;
  const worker = await startFreshWorker('distribution', { seedSql: generate, extraVars: { ALLOWED_ORIGINS: ORIGIN, RATE_LIMITS: 'off' } });
  const { api, baseUrl, vars } = worker;
  try {
    const members = Array.from({ length: CUSTOMERS }, (_, i) => i + 1)
      .filter((i) => i % 5 !== 0)
      .slice(0, MEMBERS)
      .map((i) => `cust_${i}`);
    const segment = await api('POST', '/v1/segments', { name: 'Lapsed buyers', type: 'static', customers: members });
    const campaign = await api('POST', '/v1/campaigns', {
      name: 'Lapsed 15',
      type: 'STATIC',
      vouchers_count: MEMBERS,
      voucher: { type: 'DISCOUNT_VOUCHER', discount: { type: 'PERCENT', percent_off: 15 }, redemption: { quantity: 1 } },
    });
    for (
      let state = campaign;
      state.vouchers_generation_status === 'IN_PROGRESS';
      state = await api('GET', `/v1/campaigns/${campaign.id}`)
    ) {
      await new Promise((r) => setTimeout(r, 200));
    }
    console.log(
      `${formatCount(CUSTOMERS)} customers, a static segment of ${formatCount(members.length)}, ${formatCount(MEMBERS)} codes generated`,
    );

    const code = `DIST-${Date.now()}`;
    await api('POST', `/v1/vouchers/${code}`, { discount: { type: 'PERCENT', percent_off: 10 } });
    const client = { 'X-Client-Application-Id': vars.CLIENT_APP_ID ?? '', 'X-Client-Token': vars.CLIENT_TOKEN ?? '', Origin: ORIGIN };
    const validateUrl = `${baseUrl}/client/v1/validate?code=${code}&amount=5000&tracking_id=track_DISTDISTDISTDISTDIST00`;

    async function validates(until: Promise<unknown> | number) {
      const latencies: number[] = [];
      let errors = 0;
      let done = false;
      const stop = typeof until === 'number' ? new Promise((r) => setTimeout(r, until)) : until;
      void stop.then(() => (done = true));
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (!done) {
            const start = performance.now();
            const res = await fetch(validateUrl, { headers: client });
            await res.arrayBuffer();
            if (res.status !== 200) errors++;
            latencies.push(performance.now() - start);
          }
        }),
      );
      latencies.sort((a, b) => a - b);
      return { n: latencies.length, errors, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? 0 };
    }

    await validates(2_000); // warm-up
    const alone = await validates(ALONE_MS);
    console.log(
      `validate alone:  p50 ${alone.p50.toFixed(1)} ms  p99 ${alone.p99.toFixed(1)} ms  (${alone.n} requests, ${alone.errors} non-200)`,
    );

    let seconds = 0;
    let action: Record<string, any> = {};
    const distribution = (async () => {
      await new Promise((r) => setTimeout(r, 500));
      const t0 = performance.now();
      const { async_action_id } = await api('POST', '/v1/publications/segment', { campaign: campaign.id, segment: segment.id });
      let lastLog = 0;
      for (;;) {
        action = await api('GET', `/v1/async-actions/${async_action_id}`);
        if (action.status !== 'IN_PROGRESS') break;
        if (performance.now() - t0 > TIMEOUT_MS)
          throw new Error(`distribution not done after ${TIMEOUT_MS / 1000} s: ${JSON.stringify(action.result)}`);
        if (performance.now() - lastLog > 5000) {
          lastLog = performance.now();
          console.log(
            `  progress ${action.progress}%: ${formatCount(action.result.done_count)} published after ${((performance.now() - t0) / 1000).toFixed(1)} s`,
          );
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      seconds = (performance.now() - t0) / 1000;
    })();
    const during = await validates(distribution);
    await distribution;
    const { done_count, skipped_count, failed_count } = action.result as {
      done_count: number;
      skipped_count: number;
      failed_count: number;
    };
    console.log(
      `distribution ${action.status} in ${seconds.toFixed(1)} s: ${done_count} published, ${skipped_count} skipped, ${failed_count} failed`,
    );
    console.log(
      `validate during: p50 ${during.p50.toFixed(1)} ms  p99 ${during.p99.toFixed(1)} ms  max ${during.max.toFixed(1)} ms  (${during.n} requests, ${during.errors} non-200)`,
    );
    const ratio = during.p99 / alone.p99;
    console.log(`ratio p99 during / alone: ${ratio.toFixed(2)} (goal: at most 2)`);
    const [c] = (await worker.queryAfterStop<{ n: number; customers: number; codes: number; held: number; members: number }>(
      `SELECT count(*) AS n, count(DISTINCT p.customer_id) AS customers, count(DISTINCT p.voucher_id) AS codes,
         sum(v.holder_id = p.customer_id) AS held,
         sum(p.customer_id IN (SELECT customer_id FROM segment_members WHERE segment_id = '${segment.id}')) AS members
       FROM publications p JOIN vouchers v ON v.id = p.voucher_id WHERE p.campaign_id = '${campaign.id}'`,
    )) as [{ n: number; customers: number; codes: number; held: number; members: number }];
    console.log(
      `stored ${formatCount(c.n)} publications: ${formatCount(c.customers)} customers, ${formatCount(c.codes)} codes, ${formatCount(c.held)} held by their member, ${formatCount(c.members)} to members`,
    );
    if (
      action.status !== 'DONE' ||
      done_count !== MEMBERS ||
      c.n !== MEMBERS ||
      c.customers !== MEMBERS ||
      c.codes !== MEMBERS ||
      c.held !== MEMBERS ||
      c.members !== MEMBERS
    ) {
      throw new Error('the distribution wrote the wrong publications');
    }
    const fmt = (r: typeof alone) => `p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms (${formatCount(r.n)} requests)`;
    return [
      {
        area: 'Distribution',
        measure: `codes published to a ${formatCount(MEMBERS)}-member segment (${formatCount(CUSTOMERS)} customers), POST to action DONE`,
        value: `${seconds.toFixed(1)} s`,
      },
      { area: 'Distribution', measure: `client validate alone (${CONCURRENCY} connections)`, value: fmt(alone) },
      {
        area: 'Distribution',
        measure: 'client validate while the distribution runs',
        value: `${fmt(during)}, max ${during.max.toFixed(0)} ms`,
      },
      { area: 'Distribution', measure: 'ratio p99 during / alone (goal ≤ 2)', value: ratio.toFixed(2) },
      {
        area: 'Distribution',
        measure: 'publications = members, distinct codes, held by their member',
        value: `${formatCount(c.n)} / ${formatCount(c.codes)} / ${formatCount(c.held)}`,
      },
    ];
  } finally {
    worker.dispose();
  }
}
