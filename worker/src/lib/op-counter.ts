/**
 * Counts what a request costs in storage operations: D1 round trips (a batch is one) and KV reads
 * and writes. Used by the hot-path budget test and, when COUNT_OPS=on (local only), by the
 * X-Vouchsafe-Ops response header that the benchmarks read: counted, not guessed.
 */
export interface OpCounts {
  d1: number;
  kvReads: number;
  kvWrites: number;
}

type AnyFunction = (...args: unknown[]) => unknown;

function countStatement(statement: D1PreparedStatement, counts: OpCounts): D1PreparedStatement {
  return new Proxy(statement, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      if (prop === 'bind') return (...args: unknown[]) => countStatement((value as AnyFunction).apply(target, args) as D1PreparedStatement, counts);
      if (prop === 'first' || prop === 'all' || prop === 'run' || prop === 'raw') {
        return (...args: unknown[]) => {
          counts.d1++;
          return (value as AnyFunction).apply(target, args);
        };
      }
      return (value as AnyFunction).bind(target);
    },
  });
}

export function countingD1(db: D1Database, counts: OpCounts): D1Database {
  return new Proxy(db, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      if (prop === 'prepare') return (sql: string) => countStatement(target.prepare(sql), counts);
      if (prop === 'batch' || prop === 'exec') {
        return (...args: unknown[]) => {
          counts.d1++;
          return (value as AnyFunction).apply(target, args);
        };
      }
      return (value as AnyFunction).bind(target);
    },
  });
}

export function countingKv(kv: KVNamespace, counts: OpCounts): KVNamespace {
  return new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      if (prop === 'get' || prop === 'getWithMetadata' || prop === 'list') {
        return (...args: unknown[]) => {
          counts.kvReads++;
          return (value as AnyFunction).apply(target, args);
        };
      }
      if (prop === 'put' || prop === 'delete') {
        return (...args: unknown[]) => {
          counts.kvWrites++;
          return (value as AnyFunction).apply(target, args);
        };
      }
      return (value as AnyFunction).bind(target);
    },
  });
}

export const formatOps = (counts: OpCounts): string => `d1=${counts.d1}, kv_reads=${counts.kvReads}, kv_writes=${counts.kvWrites}`;
