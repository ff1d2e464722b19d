import { VoucherifyClientSide, VoucherifyServerSide } from '@voucherify/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signClaim } from '../../shared/identity';
import { TEST_ENV } from '../test-env';
import { type LocalWorker, startLocalWorker } from './support/local-worker';
import { serverSdk } from './support/server-sdk';

// The official client SDK (unchanged) against identity verification: anonymous validation works as
// it always did, a named customer counts only with the shop backend's signature, passed with the
// SDK's customHeaders option (dist/VoucherifyClientSide.d.ts:74), and with
// IDENTITY_VERIFICATION=off a named customer counts unsigned, as on Voucherify.

const ORIGIN = 'https://shop.example';
const workers: Record<'required' | 'off', LocalWorker | undefined> = { required: undefined, off: undefined };

const client = (worker: LocalWorker, options: { trackingId?: string; signature?: string } = {}) =>
  VoucherifyClientSide({
    clientApplicationId: TEST_ENV.CLIENT_APP_ID,
    clientSecretKey: TEST_ENV.CLIENT_TOKEN,
    apiUrl: worker.url,
    origin: ORIGIN,
    ...(options.trackingId ? { trackingId: options.trackingId } : {}),
    ...(options.signature ? { customHeaders: { 'X-Vouchsafe-Identity-Signature': options.signature } } : {}),
  });

/** A gold customer and a voucher for gold customers only, on a fresh worker. */
async function seed(worker: LocalWorker) {
  const server = serverSdk(worker);
  await server.customers.create({ source_id: 'gold@id.example', name: 'Goldie', email: 'gold@id.example', metadata: { tier: 'gold' } });
  const segment = await server.segments.create({
    name: 'gold',
    type: 'auto-update',
    filter: { 'metadata.tier': { conditions: { $is: ['gold'] } } },
  } as never);
  await server.vouchers.create({ code: 'ANYONE', type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 100 } } as never);
  await server.vouchers.create({ code: 'GOLDONLY', type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 500 } } as never);
  const rule = await server.validationRules.create({
    name: 'gold',
    rules: { '1': { name: 'customer.segment', conditions: { $is: [segment.id] }, rules: {} }, logic: '1' },
  } as never);
  await server.validationRules.createAssignment(
    rule.id as string,
    { related_object_type: 'voucher', related_object_id: 'GOLDONLY' } as never,
  );
}

beforeAll(async () => {
  workers.required = await startLocalWorker({ IDENTITY_VERIFICATION: 'required' });
  workers.off = await startLocalWorker({ IDENTITY_VERIFICATION: 'off' });
  await Promise.all([seed(workers.required), seed(workers.off)]);
});
afterAll(async () => {
  await workers.required?.stop();
  await workers.off?.stop();
});

describe('@voucherify/sdk client side with IDENTITY_VERIFICATION=required', () => {
  it('validates anonymously as before, by string and by object', async () => {
    const worker = workers.required as LocalWorker;
    expect(await client(worker).validate('ANYONE')).toMatchObject({ valid: true, code: 'ANYONE' });
    const v = await client(worker).validate({ code: 'ANYONE', amount: 1000, items: [{ sku_id: 'sku_1', quantity: 1 }] });
    expect(v).toMatchObject({ valid: true, order: { amount: 1000, discount_amount: 100, customer_id: null } });
    expect(v.tracking_id).toMatch(/^track_[A-Za-z0-9_-]{22}$/);
  });

  it('judges a named customer only with the signature passed in customHeaders', async () => {
    const worker = workers.required as LocalWorker;
    const named = { code: 'GOLDONLY', amount: 1000, customer: { source_id: 'gold@id.example' } };
    expect(await client(worker).validate(named)).toMatchObject({ valid: false, error: { key: 'customer_rules_violated' } });
    const wrong = await signClaim(TEST_ENV.IDENTITY_SECRET, 'source_id', 'someone-else@id.example');
    expect(await client(worker, { signature: wrong }).validate(named)).toMatchObject({ valid: false });
    // A signature covers the kind it was made for only: the same e-mail signed as a customer id is
    // not a source id.
    const asId = await signClaim(TEST_ENV.IDENTITY_SECRET, 'id', 'gold@id.example');
    expect(await client(worker, { signature: asId }).validate(named)).toMatchObject({ valid: false });
    const signature = await signClaim(TEST_ENV.IDENTITY_SECRET, 'source_id', 'gold@id.example');
    const ok = await client(worker, { signature }).validate(named);
    expect(ok).toMatchObject({ valid: true, order: { discount_amount: 500, customer_id: null } });
    expect(JSON.stringify(ok)).not.toMatch(/Goldie|cust_/);
    // setIdentity's raw trackingId is a claim of its own kind (tracking_id): signed, it is believed
    // (stored as a stable HMAC-derived track_ id) and the answer names it as sent, never derived.
    const tracked = await signClaim(TEST_ENV.IDENTITY_SECRET, 'tracking_id', 'gold@id.example');
    const first = await client(worker, { trackingId: 'gold@id.example', signature: tracked }).validate({ code: 'ANYONE', amount: 100 });
    expect(first.tracking_id).toBe('gold@id.example');
    const unsigned = await client(worker, { trackingId: 'gold@id.example' }).validate({ code: 'ANYONE', amount: 100 });
    expect(unsigned.tracking_id).toMatch(/^track_[A-Za-z0-9_-]{22}$/);
    // The source id's signature is not the tracking id's: that visitor is anonymous too.
    const crossed = await client(worker, { trackingId: 'gold@id.example', signature }).validate({ code: 'ANYONE', amount: 100 });
    expect(crossed.tracking_id).not.toBe('gold@id.example');
  });
});

describe('@voucherify/sdk client side with IDENTITY_VERIFICATION=off', () => {
  it("judges a named customer unsigned, as Voucherify does, and still answers none of the customer's data", async () => {
    const worker = workers.off as LocalWorker;
    const v = await client(worker, { trackingId: 'gold@id.example' }).validate({
      code: 'GOLDONLY',
      amount: 1000,
      customer: { source_id: 'gold@id.example' },
    });
    expect(v).toMatchObject({ valid: true, order: { discount_amount: 500, customer_id: null } });
    expect(JSON.stringify(v)).not.toMatch(/Goldie|cust_/);
    const tracked = await client(worker, { trackingId: 'gold@id.example' }).track('visited', {});
    expect(tracked).toMatchObject({
      object: 'event',
      type: 'visited',
      customer: { source_id: 'gold@id.example', name: null, email: null },
    });
  });
});
