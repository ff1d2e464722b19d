import { VoucherifyClientSide, VoucherifyServerSide } from '@voucherify/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signClaim } from '../../shared/identity';
import { TEST_ENV } from '../test-env';
import { type LocalWorker, startLocalWorker } from './support/local-worker';
import { serverSdk } from './support/server-sdk';

// Validation sessions (LOCK) through the official @voucherify/sdk 2.9.0, unchanged:
// - SDK = node_modules/@voucherify/sdk/dist: validations.validateVoucher posts `session`
//   (types/Validations.d.ts:31; the answer's session, ValidateSession.d.ts:9-14 ValidationSessionResponse),
//   vouchers.releaseValidationSession DELETEs /vouchers/{code}/sessions/{key} (Vouchers.d.ts:64,
//   voucherifysdk.esm.js:584-585), redemptions.redeem carries `session: {key}` (types/Redemptions.d.ts:19),
//   client.validate sends session_type, session_key, session_ttl, session_ttl_unit as query
//   parameters (types/ClientSide.d.ts:27-30, voucherifysdk.esm.js:2084-2087).
// - OA = voucherify-openapi production/readOnly-openAPI.json @65c33a7: Session (L26995), the release
//   route (L37986, 204 at L38025). OA24 = reference/OpenAPI.json blob ae6b585: the validate answer's
//   session (VouchersValidateValidResponseBody, L3759; example at L58592-L58597).

const ORIGIN = 'https://shop.example';
let worker: LocalWorker;
let server: ReturnType<typeof VoucherifyServerSide>;

/** The client SDK; with a signature (the shop backend's, in the SDK's customHeaders) its customer is believed. */
const client = (signature?: string) =>
  VoucherifyClientSide({
    clientApplicationId: TEST_ENV.CLIENT_APP_ID,
    clientSecretKey: TEST_ENV.CLIENT_TOKEN,
    apiUrl: worker.url,
    origin: ORIGIN,
    ...(signature ? { customHeaders: { 'X-Vouchsafe-Identity-Signature': signature } } : {}),
  });

const lastUnit = (code: string) =>
  server.vouchers.create({
    code,
    type: 'DISCOUNT_VOUCHER',
    discount: { type: 'AMOUNT', amount_off: 100 },
    redemption: { quantity: 1 },
  } as never);

beforeAll(async () => {
  worker = await startLocalWorker();
  server = serverSdk(worker);
});
afterAll(async () => {
  await worker?.stop();
});

describe('validation sessions through the official SDK', () => {
  it('validateVoucher with a LOCK session holds the last unit against another shopper; the holder redeems it', async () => {
    await lastUnit('SDK-LOCK');
    const held = await server.validations.validateVoucher('SDK-LOCK', {
      order: { amount: 1000 },
      session: { type: 'LOCK', ttl: 1, ttl_unit: 'HOURS' },
    });
    expect(held.valid).toBe(true);
    // ValidateSession.d.ts:9-14: key, type, ttl, ttl_unit, all present.
    expect(held.session).toEqual({ key: expect.stringMatching(/^ssn_/), type: 'LOCK', ttl: 1, ttl_unit: 'HOURS' });

    const other = await server.validations.validateVoucher('SDK-LOCK', { order: { amount: 1000 } });
    expect(other).toMatchObject({ valid: false, error: { key: 'quantity_exceeded' } });
    await expect(server.redemptions.redeem('SDK-LOCK', { order: { amount: 1000 } })).rejects.toMatchObject({
      code: 400,
      key: 'quantity_exceeded',
    });

    const redeemed = await server.redemptions.redeem('SDK-LOCK', {
      order: { amount: 1000 },
      session: { key: held.session?.key as string },
    });
    expect(redeemed).toMatchObject({ result: 'SUCCESS', voucher: { code: 'SDK-LOCK' } });
  });

  it('releaseValidationSession frees the unit (204), and a second release is the 404 error object', async () => {
    await lastUnit('SDK-RELEASE');
    const held = await server.validations.validateVoucher('SDK-RELEASE', { session: { type: 'LOCK' } });
    // The guide: 7 days when no ttl is given.
    expect(held.session).toMatchObject({ type: 'LOCK', ttl: 7, ttl_unit: 'DAYS' });
    const key = held.session?.key as string;
    expect((await server.validations.validateVoucher('SDK-RELEASE', {})).valid).toBe(false);

    await expect(server.vouchers.releaseValidationSession('SDK-RELEASE', key)).resolves.toBeFalsy();
    expect((await server.validations.validateVoucher('SDK-RELEASE', {})).valid).toBe(true);
    await expect(server.vouchers.releaseValidationSession('SDK-RELEASE', key)).rejects.toMatchObject({
      code: 404,
      key: 'not_found',
      resource_type: 'session',
    });
  });

  it('client.validate with the session parameters holds the code for a signed-in shopper; the backend redeems with its key', async () => {
    await lastUnit('SDK-CLIENT');
    // The public key holds units only for a customer the request identifies (a signed claim).
    await server.customers.create({ source_id: 'sdk-client@example.com' });
    const shopper = client(await signClaim(TEST_ENV.IDENTITY_SECRET, 'source_id', 'sdk-client@example.com'));
    const customer = { source_id: 'sdk-client@example.com' };
    const anonymous: any = await client().validate({ code: 'SDK-CLIENT', amount: 1000, session_type: 'LOCK' });
    expect(anonymous.valid).toBe(true);
    expect(anonymous.session).toBeUndefined();
    const res: any = await shopper.validate({
      code: 'SDK-CLIENT',
      amount: 1000,
      customer,
      session_type: 'LOCK',
      session_ttl: 15,
      session_ttl_unit: 'MINUTES',
    });
    expect(res).toMatchObject({ valid: true, session: { type: 'LOCK', ttl: 15, ttl_unit: 'MINUTES' } });
    expect((await client().validate({ code: 'SDK-CLIENT', amount: 1000 })).valid).toBe(false);
    // The same key again renews the hold of the browser that holds it.
    const renewed: any = await shopper.validate({
      code: 'SDK-CLIENT',
      amount: 1000,
      customer,
      session_type: 'LOCK',
      session_key: res.session.key,
    });
    expect(renewed).toMatchObject({ valid: true, session: { key: res.session.key } });
    const redeemed = await server.redemptions.redeem('SDK-CLIENT', { order: { amount: 1000 }, session: { key: res.session.key } });
    expect(redeemed.result).toBe('SUCCESS');
  });

  it('validateStackable with a session holds every redeemable; redeemStackable with the key consumes them', async () => {
    await lastUnit('SDK-STACK-1');
    await lastUnit('SDK-STACK-2');
    const redeemables = [
      { object: 'voucher' as const, id: 'SDK-STACK-1' },
      { object: 'voucher' as const, id: 'SDK-STACK-2' },
    ];
    const held = await server.validations.validateStackable({ redeemables, order: { amount: 1000 }, session: { type: 'LOCK' } });
    expect(held).toMatchObject({ valid: true, session: { type: 'LOCK', ttl: 7, ttl_unit: 'DAYS' } });
    const other = await server.validations.validateStackable({ redeemables, order: { amount: 1000 } });
    expect(other.valid).toBe(false);
    const redeemed: any = await server.redemptions.redeemStackable({
      redeemables,
      order: { amount: 1000 },
      session: { type: 'LOCK', key: held.session?.key as string },
    });
    expect(redeemed.redemptions).toHaveLength(2);
  });
});
