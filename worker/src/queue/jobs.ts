// The contract between the writes consumer (consumers/writes.ts) and the services that run long
// work in pieces (imports, segment walks, code generation, distributions): what a job may spend,
// and what it answers.

/** What a job asks of the consumer: nothing (done: ack), or to run it again after a delay. */
export type JobOutcome = void | { retryAfterSeconds: number };

/** A delivery's allowance of D1 statements, shared by its messages (1,000 queries per invocation). */
export interface StatementBudget {
  statements: number;
}
