import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../worker/src/app';
import type { Env } from '../../worker/src/env';
import { CLIENT_HEADERS, api, json } from './helpers';

/** The bindings of the worker, wrapped to count D1 round trips and KV reads. */
function countingEnv() {
  const counts = { d1: 0, kvReads: 0 };
  const countStatement = (statement: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(statement, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (prop === 'bind') return (...args: unknown[]) => countStatement((value as (...a: unknown[]) => D1PreparedStatement).apply(target, args));
        if (prop === 'first' || prop === 'all' || prop === 'run' || prop === 'raw') {
          return (...args: unknown[]) => {
            counts.d1++;
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  const db = new Proxy(env.DB, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop === 'prepare') return (sql: string) => countStatement(target.prepare(sql));
      if (prop === 'batch') {
        return (statements: D1PreparedStatement[]) => {
          counts.d1++;
          return target.batch(statements);
        };
      }
      if (prop === 'exec') return (...args: unknown[]) => { counts.d1++; return (value as (...a: unknown[]) => unknown).apply(target, args); };
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const cache = new Proxy(env.CACHE, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop === 'get' || prop === 'getWithMetadata') {
        return (...args: unknown[]) => {
          counts.kvReads++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { counts, env: { ...env, DB: db, CACHE: cache } as unknown as Env };
}

async function clientValidate(query: string, bindings: Env) {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`https://vouchsafe.test/client/v1/validate?${query}`, { headers: CLIENT_HEADERS }), bindings, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

describe('the client validate hot path', () => {
  it('costs one D1 round trip and one KV read once the definition is cached', async () => {
    const seg = await json(await api('POST', '/v1/segments', { name: 'hot', type: 'passive', filter: { 'metadata.tier': { conditions: { $is: ['gold'] } } } }));
    await api('POST', '/v1/vouchers/HOT', { discount: { type: 'PERCENT', percent_off: 10 } });
    const rule = await json(await api('POST', '/v1/validation-rules', {
      name: 'gold, big orders',
      rules: { '1': { name: 'customer.segment', conditions: { $is: [seg.id] } }, '2': { name: 'order.amount', conditions: { $more_than: [1000] } } },
    }));
    await api('POST', `/v1/validation-rules/${rule.id}/assignments`, { related_object_type: 'voucher', related_object_id: 'HOT' });
    await api('POST', '/v1/customers', { source_id: 'hot-1', metadata: { tier: 'gold' } });

    const cold = countingEnv();
    const first = await clientValidate('code=HOT&amount=5000&customer%5Bsource_id%5D=hot-1', cold.env);
    expect((await json(first)).valid).toBe(true);

    const warm = countingEnv();
    const res = await clientValidate('code=HOT&amount=5000&customer%5Bsource_id%5D=hot-1', warm.env);
    expect(res.status).toBe(200);
    expect((await json(res)).valid).toBe(true);
    expect(warm.counts).toEqual({ d1: 1, kvReads: 1 });
    // Cold, the definition is read from D1 once and written to KV.
    expect(cold.counts.kvReads).toBe(1);
    expect(cold.counts.d1).toBeGreaterThan(1);
  });

  it('sees a change of the voucher at once: writes invalidate the cached definition', async () => {
    await api('POST', '/v1/vouchers/CHANGE', { discount: { type: 'AMOUNT', amount_off: 100 } });
    const { env: bindings } = countingEnv();
    expect((await json(await clientValidate('code=CHANGE&amount=5000', bindings))).discount.amount_off).toBe(100);
    await api('PUT', '/v1/vouchers/CHANGE', { discount: { type: 'AMOUNT', amount_off: 250 } });
    expect((await json(await clientValidate('code=CHANGE&amount=5000', bindings))).discount.amount_off).toBe(250);
    await api('POST', '/v1/vouchers/CHANGE/disable');
    expect((await json(await clientValidate('code=CHANGE&amount=5000', bindings))).valid).toBe(false);
    // A code guessed before it existed is cached as unknown; creating it clears that.
    expect((await json(await clientValidate('code=LATER', bindings))).reason).toBe('voucher not found');
    await api('POST', '/v1/vouchers/LATER', { discount: { type: 'AMOUNT', amount_off: 1 } });
    expect((await json(await clientValidate('code=LATER', bindings))).valid).toBe(true);
  });
});
