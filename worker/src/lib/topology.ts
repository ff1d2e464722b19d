import { type OpObserver, STORAGE_OPS, type StorageOp } from './storage-ops';

/**
 * SIMULATE_TOPOLOGY=far: local runs wait, for each storage operation, what a far location waits in
 * production, so a benchmark on one machine shows what the edge path saves (issue: "production
 * topology"). A shopper far from the D1 primary pays a full round trip there; a read a replica may
 * serve, a KV read of a hot key and a queue send stay near. Milliseconds, each overridable with
 * TOPOLOGY_DELAYS="d1_primary=150,queue_sends=5".
 */
export const FAR_DELAYS: Record<StorageOp, number> = {
  d1_primary: 120,
  d1_replica: 8,
  kv_reads: 2,
  // A KV write goes to the central stores before it spreads; never on the validate path.
  kv_writes: 60,
  queue_sends: 3,
};

export interface TopologySettings {
  SIMULATE_TOPOLOGY?: string;
  TOPOLOGY_DELAYS?: string;
}

/** `class=milliseconds`, a non-negative decimal. */
const OVERRIDE = /^\s*([a-z0-9_]+)\s*=\s*(\d+(?:\.\d+)?)\s*$/;

/** The delay of each class under the configured topology, or null when nothing is simulated. */
export function topologyDelays(settings: TopologySettings): Record<StorageOp, number> | null {
  if (settings.SIMULATE_TOPOLOGY !== 'far') return null;
  const delays = { ...FAR_DELAYS };
  for (const pair of (settings.TOPOLOGY_DELAYS ?? '').split(',')) {
    // A pair the pattern refuses is ignored: `d1_replica=` must not turn into 0 ms (Number('') is 0).
    const [, key = '', ms] = OVERRIDE.exec(pair) ?? [];
    if ((STORAGE_OPS as readonly string[]).includes(key) && ms !== undefined) delays[key as StorageOp] = Number(ms);
  }
  return delays;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The observer that makes each operation wait its class's delay; `wait` is a timer unless a test records the waits. */
export const delaying =
  (delays: Record<StorageOp, number>, wait: (ms: number) => Promise<void> = sleep): OpObserver =>
  (op) =>
    delays[op] > 0 ? wait(delays[op]) : undefined;
