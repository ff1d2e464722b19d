/**
 * How many customers the next step of a keyset walk covers (F10). Never more than MAX_RANGE (5,000):
 * that bound is what keeps one D1 call short however the data grows. Within it the size follows
 * the time the last step took, aiming at TARGET_MS, so an expensive filter takes smaller steps and
 * no single call holds the database much longer than that while checkouts wait.
 */
export const MAX_RANGE = 5_000;
export const TARGET_MS = 50;

export class RangeSizer {
  constructor(
    public size = 1_000,
    private readonly min = 100,
  ) {
    this.size = Math.min(MAX_RANGE, Math.max(min, size));
  }

  /** Adjusts the size after a step over `this.size` customers took `ms`. */
  record(ms: number): void {
    if (ms > TARGET_MS) this.size = Math.max(this.min, Math.floor(this.size / 2));
    else if (ms < TARGET_MS / 2) this.size = Math.min(MAX_RANGE, this.size * 2);
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
