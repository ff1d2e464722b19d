import type { MiddlewareHandler } from 'hono';
import type { AppBindings } from '../env';
import { formatOps, type OpObserver, observedBindings, zeroCounts } from '../lib/storage-ops';
import { delaying, topologyDelays } from '../lib/topology';

/**
 * Local instruments, both off unless set: COUNT_OPS=on says in X-Vouchsafe-Ops what the request
 * cost in storage operations, by class; SIMULATE_TOPOLOGY=far delays each operation as a far
 * location would wait for it. Both see the same classification (lib/storage-ops.ts).
 */
export const observeStorage: MiddlewareHandler<AppBindings> = async (c, next) => {
  const counts = c.env.COUNT_OPS === 'on' ? zeroCounts() : null;
  const delays = topologyDelays(c.env);
  if (!counts && !delays) return next();
  const delay = delays ? delaying(delays) : null;
  const observe: OpObserver = (op) => {
    if (counts) counts[op]++;
    return delay?.(op);
  };
  c.env = observedBindings(c.env, observe);
  await next();
  if (counts) c.res.headers.set('X-Vouchsafe-Ops', formatOps(counts));
};
