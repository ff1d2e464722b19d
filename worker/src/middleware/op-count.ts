import type { MiddlewareHandler } from 'hono';
import type { AppBindings } from '../env';
import { countingD1, countingKv, formatOps, type OpCounts } from '../lib/op-counter';

/**
 * With COUNT_OPS=on (local benchmarks only), every response says what it cost in storage
 * operations in X-Vouchsafe-Ops; otherwise this does nothing.
 */
export const countOps: MiddlewareHandler<AppBindings> = async (c, next) => {
  if (c.env.COUNT_OPS !== 'on') return next();
  const counts: OpCounts = { d1: 0, kvReads: 0, kvWrites: 0 };
  c.env = { ...c.env, DB: countingD1(c.env.DB, counts), CACHE: countingKv(c.env.CACHE, counts) };
  await next();
  c.res.headers.set('X-Vouchsafe-Ops', formatOps(counts));
};
