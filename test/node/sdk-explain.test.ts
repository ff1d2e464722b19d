import { VoucherifyServerSide } from '@voucherify/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ENV } from '../test-env';
import { traceInconsistencies } from '../explain-consistency';
import { type LocalWorker, startLocalWorker } from './support/local-worker';
import { serverSdk } from './support/server-sdk';

// `?explain=true` (our addition) beside the official @voucherify/sdk 2.9.0. The SDK cannot send it:
// validations.validateVoucher(code, params) and validateStackable(params) post `params` as the body
// and pass no query (node_modules/@voucherify/sdk/dist/voucherifysdk.esm.js:L634-L652, Validations.d.ts:L11,
// :L16). So the explained answer is fetched, and the SDK's own answer must be that answer without
// `explanation`: an SDK user sees nothing new.

let worker: LocalWorker;
let server: ReturnType<typeof VoucherifyServerSide>;
const TRACKING_ID = 'track_SdkExplainSdkExplain00';

const headers = { 'X-App-Id': TEST_ENV.APP_ID, 'X-App-Token': TEST_ENV.APP_TOKEN, 'Content-Type': 'application/json' };
const explained = async (path: string, body: unknown) => {
  const res = await fetch(`${worker.url}${path}?explain=true`, { method: 'POST', headers, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return (await res.json()) as any;
};

/** The answer without `explanation` and without what differs between two identical requests. */
function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k, v]) => k !== 'request_id' && k !== 'explanation' && !(k === 'id' && typeof v === 'string' && v.startsWith('valid_')))
        .map(([k, v]) => [k, stable(v)]),
    );
  }
  return value;
}

beforeAll(async () => {
  worker = await startLocalWorker();
  server = serverSdk(worker);
  await server.vouchers.create({ code: 'SX-OK', type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 500 } } as never);
  await server.vouchers.create({
    code: 'SX-OLD',
    type: 'DISCOUNT_VOUCHER',
    discount: { type: 'AMOUNT', amount_off: 500 },
    expiration_date: '2020-01-01T00:00:00Z',
  } as never);
}, 60_000);
afterAll(async () => {
  await worker?.stop();
});

describe('explain beside the official SDK', () => {
  it('validateVoucher: the SDK answer is the explained answer without its explanation', async () => {
    for (const code of ['SX-OK', 'SX-OLD']) {
      const params = { order: { amount: 10_000 }, tracking_id: TRACKING_ID };
      const viaSdk: any = await server.validations.validateVoucher(code, params as never);
      const withTrace = await explained(`/v1/vouchers/${code}/validate`, params);
      expect(viaSdk).not.toHaveProperty('explanation');
      expect(stable(viaSdk)).toEqual(stable(withTrace));
      expect(withTrace.explanation).toMatchObject({ kind: 'validation', label: code, passed: viaSdk.valid });
      expect(traceInconsistencies(withTrace.explanation)).toEqual([]);
    }
  });

  it('validateStackable: the same, each redeemable with its own explanation', async () => {
    const params = {
      redeemables: [
        { object: 'voucher', id: 'SX-OK' },
        { object: 'voucher', id: 'SX-OLD' },
      ],
      order: { amount: 10_000 },
      tracking_id: TRACKING_ID,
    };
    const viaSdk: any = await server.validations.validateStackable(params as never);
    const withTrace = await explained('/v1/validations', params);
    expect(JSON.stringify(viaSdk)).not.toContain('"explanation"');
    expect(stable(viaSdk)).toEqual(stable(withTrace));
    expect(withTrace.redeemables.map((r: any) => [r.id, r.status, r.explanation.passed])).toEqual([
      ['SX-OK', 'SKIPPED', true],
      ['SX-OLD', 'INAPPLICABLE', false],
    ]);
  });
});
