// Latency of one call under load: `connections` loops call it back to back until a promise settles
// or a number of ms pass (every loop is bounded by that), then p50/p99/max of what they saw.

export interface Latencies {
  n: number;
  errors: number;
  p50: number;
  p99: number;
  max: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

export async function latencyUntil(
  call: () => Promise<Response>,
  connections: number,
  until: Promise<unknown> | number,
): Promise<Latencies> {
  const latencies: number[] = [];
  let errors = 0;
  let done = false;
  const stop = typeof until === 'number' ? new Promise((r) => setTimeout(r, until)) : until;
  void stop.then(
    () => (done = true),
    () => (done = true),
  );
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (!done) {
        const start = performance.now();
        const res = await call();
        await res.arrayBuffer();
        if (res.status !== 200) errors++;
        latencies.push(performance.now() - start);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return { n: latencies.length, errors, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? 0 };
}

export const formatLatencies = (r: Latencies): string =>
  `p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, max ${r.max.toFixed(0)} ms (${r.n} requests, ${r.errors} non-200)`;
