/**
 * How many customers the next step of a keyset walk covers. Never more than MAX_RANGE (5,000),
 * or READ_MAX_RANGE for a walk that only reads:
 * that bound is what keeps one D1 call short however the data grows. Within it the size follows
 * the time the last step took, aiming at TARGET_MS, so an expensive filter takes smaller steps and
 * no single call holds the database much longer than that while checkouts wait.
 */
export const MAX_RANGE = 5_000;
export const TARGET_MS = 50;
/**
 * The bound for a walk that only reads, in a first-unconstrained session (a read replica in
 * production): the segment preview. It holds no writer up, so its bound can be what the time
 * target allows rather than the writers' 5,000: over the bench's 100,000 customers a 10-condition
 * filter judged 20,000 customers in about 25 ms, and each D1 call saved was a few ms of overhead.
 * Still a bound: a statement never reads all customers, however many there are.
 */
export const READ_MAX_RANGE = 20_000;

export class RangeSizer {
  constructor(
    public size = 1_000,
    private readonly min = 100,
    private readonly max = MAX_RANGE,
    /** The time a step aims at; the bulk writers pass theirs (lib/write-pacer.ts). 0 keeps every step at `min`. */
    private readonly target = TARGET_MS,
  ) {
    this.size = Math.min(max, Math.max(min, size));
  }

  /** Adjusts the size after a step over `this.size` customers took `ms`. */
  record(ms: number): void {
    if (ms > this.target || this.target <= 0) this.size = Math.max(this.min, Math.floor(this.size / 2));
    else if (ms < this.target / 2) this.size = Math.min(this.max, this.size * 2);
  }
}

/** A walk's allowance of D1 calls and wall-clock time in one invocation (D1: 1,000 queries per invocation). */
export interface WalkBudget {
  calls: number;
  deadline: number;
}

export const budgetLeft = (budget: WalkBudget): boolean => budget.calls > 0 && Date.now() < budget.deadline;

/**
 * Between two steps of a walk, a walker gives way: without a pause, a loop that sends its next D1
 * call the moment the last one answers was measured (local workerd, `npm run bench -- heavy-segment`)
 * to starve other requests until the whole walk ended, checkouts included. A few milliseconds per
 * step of 50 let them in.
 */
export const STEP_PAUSE_MS = 5;
export const giveWay = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, STEP_PAUSE_MS));
