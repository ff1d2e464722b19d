import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../worker/src/app';
import type { Env } from '../../worker/src/env';
import { hashIdentity } from '../../shared/identity';
import { CLIENT_HEADERS, SERVER_HEADERS, api, json, signHash } from './helpers';

/** A request to the worker with COUNT_OPS=on: the X-Vouchsafe-Ops header says what it cost. */
async function counted(path: string, init: RequestInit = {}) {
  const bindings = { ...env, COUNT_OPS: 'on' } as unknown as Env;
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`https://vouchsafe.test${path}`, init), bindings, ctx);
  await waitOnExecutionContext(ctx);
  const ops = Object.fromEntries(
    (res.headers.get('X-Vouchsafe-Ops') ?? '').split(', ').map((pair) => {
      const [key, value] = pair.split('=');
      return [key, Number(value)];
    }),
  );
  return { res, ops };
}

const clientValidate = (query: string, headers: Record<string, string> = {}) =>
  counted(`/client/v1/validate?${query}`, { headers: { ...CLIENT_HEADERS, ...headers } });

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
    // The customer's identity signed by the shop's backend: verifying it costs no storage operation.
    const signed = { 'X-Vouchsafe-Identity-Signature': await signHash(await hashIdentity('hot-1')) };

    const cold = await clientValidate('code=HOT&amount=5000&customer%5Bsource_id%5D=hot-1', signed);
    expect((await json(cold.res)).valid).toBe(true);
    // Cold: the definition comes from D1 and is written to KV.
    expect(cold.ops.kv_reads).toBe(1);
    expect(cold.ops.kv_writes).toBe(1);
    expect(cold.ops.d1).toBeGreaterThan(1);

    const warm = await clientValidate('code=HOT&amount=5000&customer%5Bsource_id%5D=hot-1', signed);
    expect((await json(warm.res)).valid).toBe(true);
    expect(warm.ops).toEqual({ d1: 1, kv_reads: 1, kv_writes: 0 });
  });

  it('costs three D1 round trips and one KV read to redeem once warm', async () => {
    await api('POST', '/v1/vouchers/HOT-R', { discount: { type: 'AMOUNT', amount_off: 100 } });
    const redeem = (n: number) =>
      counted('/v1/vouchers/HOT-R/redemption', {
        method: 'POST',
        headers: { ...SERVER_HEADERS, 'Content-Type': 'application/json' },
        body: JSON.stringify({ customer: { source_id: `hot-r-${n}` }, order: { amount: 1000 } }),
      });
    await redeem(0);
    const warm = await redeem(1);
    expect(warm.res.status).toBe(200);
    // Read the visitor (one batch), load the auto-update segment definitions, write and read back
    // the answer (one batch).
    expect(warm.ops).toEqual({ d1: 3, kv_reads: 1, kv_writes: 0 });
  });

  it('sees a change of the voucher at once: writes invalidate the cached definition', async () => {
    await api('POST', '/v1/vouchers/CHANGE', { discount: { type: 'AMOUNT', amount_off: 100 } });
    expect((await json((await clientValidate('code=CHANGE&amount=5000')).res)).discount.amount_off).toBe(100);
    await api('PUT', '/v1/vouchers/CHANGE', { discount: { type: 'AMOUNT', amount_off: 250 } });
    expect((await json((await clientValidate('code=CHANGE&amount=5000')).res)).discount.amount_off).toBe(250);
    await api('POST', '/v1/vouchers/CHANGE/disable');
    expect((await json((await clientValidate('code=CHANGE&amount=5000')).res)).valid).toBe(false);
    // Unknown codes are not cached (guesses must not cost KV writes), so a code guessed before it
    // existed validates as soon as it is created.
    const guess = await clientValidate('code=LATER');
    expect((await json(guess.res)).reason).toBe('voucher not found');
    expect(guess.ops).toMatchObject({ d1: 2, kv_reads: 1, kv_writes: 0 });
    await api('POST', '/v1/vouchers/LATER', { discount: { type: 'AMOUNT', amount_off: 1 } });
    expect((await json((await clientValidate('code=LATER')).res)).valid).toBe(true);
  });

  it('adds no header unless COUNT_OPS=on', async () => {
    const ctx = createExecutionContext();
    const res = await app.fetch(new Request('https://vouchsafe.test/health'), env as unknown as Env, ctx);
    await waitOnExecutionContext(ctx);
    expect(res.headers.get('X-Vouchsafe-Ops')).toBeNull();
  });
});
