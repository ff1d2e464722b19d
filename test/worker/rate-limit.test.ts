import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../worker/src/app';
import type { Env } from '../../worker/src/env';
import { CLIENT_HEADERS, json } from './helpers';

/** The worker with its production default: RATE_LIMITS unset, limits on. */
const limitsOn = (): Env => ({ ...env, RATE_LIMITS: undefined }) as unknown as Env;

async function validate(query: string, headers: Record<string, string> = {}, bindings: Env = limitsOn()) {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`https://vouchsafe.test/client/v1/validate?${query}`, { headers: { ...CLIENT_HEADERS, ...headers } }), bindings, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

describe('client validate rate limits', () => {
  it('answers 429 in the error shape with Retry-After once a tracking id guesses too often', async () => {
    const tid = 'track_AAAAAAAAAAAAAAAAAAAAAA';
    const statuses: number[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 40 && !refused; i++) {
      const res = await validate(`code=GUESS${i}&tracking_id=${tid}`, { 'CF-Connecting-IP': `10.0.0.${i}` });
      statuses.push(res.status);
      if (res.status === 429) refused = res;
      else await res.arrayBuffer();
    }
    expect(refused).toBeDefined();
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(30);
    expect(refused?.headers.get('Retry-After')).toBe('60');
    expect(refused?.headers.get('Access-Control-Allow-Origin')).toBe(CLIENT_HEADERS.Origin);
    expect(await json(refused as Response)).toMatchObject({ code: 429, key: 'too_many_requests' });
  });

  it('limits per IP as well, whatever tracking id is sent', async () => {
    let refused = false;
    for (let i = 0; i < 130 && !refused; i++) {
      const res = await validate(`code=IP${i}`, { 'CF-Connecting-IP': '192.0.2.7' });
      refused = res.status === 429;
      await res.arrayBuffer();
    }
    expect(refused).toBe(true);
  });

  it('can be switched off for local benchmarks with RATE_LIMITS=off', async () => {
    const off = { ...env, RATE_LIMITS: 'off' } as unknown as Env;
    for (let i = 0; i < 40; i++) {
      const res = await validate('code=X&tracking_id=track_BBBBBBBBBBBBBBBBBBBBBB', { 'CF-Connecting-IP': '198.51.100.1' }, off);
      expect(res.status).toBe(200);
    }
  });
});
