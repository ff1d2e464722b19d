/**
 * Where each storage operation of a request goes, by class: a D1 round trip that must reach the
 * primary, one a read replica may serve, a KV read or write, a queue send. One wrapper of the
 * bindings classifies every call and hands the class to an observer, which counts it
 * (COUNT_OPS=on → X-Vouchsafe-Ops, the hot-path tests and the benchmarks) and/or delays it as
 * production's topology would (SIMULATE_TOPOLOGY=far, lib/topology.ts): one classification, so
 * what is counted is exactly what is delayed.
 *
 * D1's rules (read-replication.mdx): every write goes to the primary. A read on the binding itself
 * (no session) goes to the primary. Inside a session, a read may be served by a replica, except the
 * first round trip of a "first-primary" session. A batch is one round trip: it is a read only when
 * every statement is.
 */
export const STORAGE_OPS = ['d1_primary', 'd1_replica', 'kv_reads', 'kv_writes', 'queue_sends'] as const;
export type StorageOp = (typeof STORAGE_OPS)[number];
export type OpCounts = Record<StorageOp, number>;

/** Called before each operation runs; the operation waits for what it returns. */
export type OpObserver = (op: StorageOp) => void | Promise<void>;

type AnyFunction = (...args: unknown[]) => unknown;

// A write keyword outside string literals ('auto-update' is a value, not a statement).
const WRITE_SQL = /\b(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b/i;
const writes = (query: string): boolean => WRITE_SQL.test(query.replace(/'(?:[^']|'')*'/g, "''"));

/** Whether each (wrapped) statement only reads, kept through bind(). */
const readOnly = new WeakMap<object, boolean>();

interface Route {
  /** The class of a round trip of statements that only read. */
  readClass(): 'd1_primary' | 'd1_replica';
}

function observedStatement(statement: D1PreparedStatement, reads: boolean, route: Route, observe: OpObserver): D1PreparedStatement {
  const wrapped = new Proxy(statement, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      if (prop === 'bind')
        return (...args: unknown[]) =>
          observedStatement((value as AnyFunction).apply(target, args) as D1PreparedStatement, reads, route, observe);
      if (prop === 'first' || prop === 'all' || prop === 'run' || prop === 'raw') {
        return async (...args: unknown[]) => {
          await observe(reads ? route.readClass() : 'd1_primary');
          return (value as AnyFunction).apply(target, args);
        };
      }
      return (value as AnyFunction).bind(target);
    },
  });
  readOnly.set(wrapped, reads);
  return wrapped;
}

/** prepare/batch of a binding or a session, classified. */
function observedQueries<T extends D1Database | D1DatabaseSession>(
  target: T,
  route: Route,
  observe: OpObserver,
): Pick<T, 'prepare' | 'batch'> {
  return {
    prepare: (query: string) => observedStatement(target.prepare(query), !writes(query), route, observe),
    batch: async <R>(statements: D1PreparedStatement[]) => {
      await observe(statements.every((s) => readOnly.get(s) === true) ? route.readClass() : 'd1_primary');
      return target.batch<R>(statements);
    },
  };
}

function observedSession(session: D1DatabaseSession, constraint: string | undefined, observe: OpObserver): D1DatabaseSession {
  let first = true;
  const route: Route = {
    readClass() {
      const primary = first && constraint === 'first-primary';
      first = false;
      return primary ? 'd1_primary' : 'd1_replica';
    },
  };
  const queries = observedQueries(session, route, observe);
  return {
    prepare: queries.prepare,
    batch: (statements) => {
      // A write ends "first" too: what follows is consistent with it wherever it is served.
      const result = queries.batch(statements);
      first = false;
      return result;
    },
    getBookmark: () => session.getBookmark(),
  } as D1DatabaseSession;
}

export function observedD1(db: D1Database, observe: OpObserver): D1Database {
  const queries = observedQueries(db, { readClass: () => 'd1_primary' }, observe);
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'prepare') return queries.prepare;
      if (prop === 'batch') return queries.batch;
      if (prop === 'withSession') {
        return (constraint?: string) => observedSession(target.withSession(constraint), constraint, observe);
      }
      const value = Reflect.get(target, prop, target) as unknown;
      if (prop === 'exec' && typeof value === 'function') {
        return async (...args: unknown[]) => {
          await observe('d1_primary');
          return (value as AnyFunction).apply(target, args);
        };
      }
      return typeof value === 'function' ? (value as AnyFunction).bind(target) : value;
    },
  });
}

export function observedKv(kv: KVNamespace, observe: OpObserver): KVNamespace {
  return new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      const op: StorageOp | null =
        prop === 'get' || prop === 'getWithMetadata' || prop === 'list'
          ? 'kv_reads'
          : prop === 'put' || prop === 'delete'
            ? 'kv_writes'
            : null;
      if (!op) return (value as AnyFunction).bind(target);
      return async (...args: unknown[]) => {
        await observe(op);
        return (value as AnyFunction).apply(target, args);
      };
    },
  });
}

export function observedQueue<Body>(queue: Queue<Body>, observe: OpObserver): Queue<Body> {
  return {
    metrics: () => queue.metrics(),
    async send(message, options) {
      await observe('queue_sends');
      return queue.send(message, options);
    },
    async sendBatch(messages, options) {
      await observe('queue_sends');
      return queue.sendBatch(messages, options);
    },
  };
}

/** The storage bindings of an Env, each call classified and handed to `observe`. */
export function observedBindings<E extends { DB: D1Database; CACHE: KVNamespace; WRITES: Queue<unknown> }>(env: E, observe: OpObserver): E {
  return { ...env, DB: observedD1(env.DB, observe), CACHE: observedKv(env.CACHE, observe), WRITES: observedQueue(env.WRITES, observe) };
}

export const zeroCounts = (): OpCounts => Object.fromEntries(STORAGE_OPS.map((op) => [op, 0])) as OpCounts;

/** `d1_primary=0, d1_replica=1, …`: the X-Vouchsafe-Ops header. */
export const formatOps = (counts: OpCounts): string => STORAGE_OPS.map((op) => `${op}=${counts[op]}`).join(', ');
