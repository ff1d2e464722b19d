import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CustomerObject, VoucherifyClientSide, VoucherifyServerSide } from '@voucherify/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signClaim } from '../../shared/identity';
import { TEST_ENV } from '../test-env';
import { type LocalWorker, startLocalWorker } from './support/local-worker';
import { serverSdk, loose } from './support/server-sdk';

// The conformance walk: every part of the API Vouchsafe covers, driven only through the official
// @voucherify/sdk (server and client side, unchanged) against the worker on a real loopback port.
// Steps run in order and build on each other; the other sdk-*.test.ts files go deeper per area.

const ORIGIN = 'https://shop.example';
let worker: LocalWorker;
let server: ReturnType<typeof VoucherifyServerSide>;
let dir: string;

const client = (trackingId?: string, signature?: string) =>
  VoucherifyClientSide({
    clientApplicationId: TEST_ENV.CLIENT_APP_ID,
    clientSecretKey: TEST_ENV.CLIENT_TOKEN,
    apiUrl: worker.url,
    origin: ORIGIN,
    ...(trackingId ? { trackingId } : {}),
    // SDK dist/VoucherifyClientSide.d.ts:74 customHeaders: how a page passes its backend's signature.
    ...(signature ? { customHeaders: { 'X-Vouchsafe-Identity-Signature': signature } } : {}),
  });

/**
 * The signatures a shop's backend gives its page for a customer it has signed in (README): one per
 * kind the official SDK names the customer as (customer.source_id, and the trackingId of its
 * setIdentity), comma-separated in the one header.
 */
const signed = async (identity: string) =>
  [
    await signClaim(TEST_ENV.IDENTITY_SECRET, 'source_id', identity),
    await signClaim(TEST_ENV.IDENTITY_SECRET, 'tracking_id', identity),
  ].join(', ');

// The SDK's types are wider or stricter than the wire in places (enums, double opt-in unions).
const asCustomer = (value: unknown) => value as CustomerObject;
/** Any call that must fail: returns what it threw, checked to be the SDK's VoucherifyError. */
async function refusal(call: Promise<unknown>): Promise<Record<string, any>> {
  const error = await call.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
  // VoucherifyError (its class name is minified in the SDK's build): an Error carrying the fields of
  // the body as own properties, the optional ones included.
  expect(error).toBeInstanceOf(Error);
  const fields = error as Record<string, any>;
  for (const key of [
    'code',
    'key',
    'details',
    'request_id',
    'resource_id',
    'resource_type',
    'related_object_ids',
    'related_object_total',
  ]) {
    expect(Object.hasOwn(fields, key)).toBe(true);
  }
  expect(fields.message).toEqual(expect.any(String));
  expect(fields.request_id).toMatch(/^v-[0-9a-f]{18}$/);
  return fields;
}

/** Polls an async action through the SDK until it is no longer IN_PROGRESS. */
async function settled(id: string): Promise<any> {
  for (let i = 0; i < 200; i++) {
    const action = await server.asyncActions.get(id);
    if ((action.status as string) !== 'IN_PROGRESS') return action;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`async action ${id} never finished`);
}

beforeAll(async () => {
  worker = await startLocalWorker();
  server = serverSdk(worker);
  dir = await mkdtemp(join(tmpdir(), 'vouchsafe-conformance-'));
});
afterAll(async () => {
  await worker?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.sequential('@voucherify/sdk conformance walk', () => {
  const state: Record<string, string> = {};

  it('customers: create, upsert, get by id and source id, update, list, scroll, delete, permanent deletion', async () => {
    const alice = asCustomer(
      await server.customers.create({
        source_id: 'conf-alice',
        name: 'Alice',
        email: 'alice@conf.example',
        metadata: { tier: 'gold', visits: 3 },
      }),
    );
    expect(alice).toMatchObject({ object: 'customer', source_id: 'conf-alice', metadata: { tier: 'gold', visits: 3 } });
    expect(alice.id).toMatch(/^cust_/);
    state.alice = alice.id as string;

    // create() with a known source_id is an upsert.
    const again = asCustomer(await server.customers.create({ source_id: 'conf-alice', name: 'Alice A.' }));
    expect(again).toMatchObject({ id: alice.id, name: 'Alice A.', email: 'alice@conf.example' });

    expect(asCustomer(await server.customers.get(alice.id as string)).source_id).toBe('conf-alice');
    expect(asCustomer(await server.customers.get('conf-alice')).id).toBe(alice.id);

    const updated = asCustomer(await server.customers.update({ source_id: 'conf-alice', address: { city: 'Berlin' } }));
    expect(updated).toMatchObject({ id: alice.id, address: { city: 'Berlin' } });
    expect((updated as { updated_at?: string }).updated_at).toEqual(expect.any(String));

    const bob = asCustomer(await server.customers.create({ source_id: 'conf-bob', name: 'Bob', metadata: { tier: 'silver' } }));
    state.bob = bob.id as string;
    const listed = await server.customers.list({ limit: 10, city: 'Berlin' } as never);
    expect(listed).toMatchObject({ object: 'list', data_ref: 'customers', total: 1 });
    expect(listed.customers.map((c) => c.id)).toEqual([alice.id]);

    const scrolled: string[] = [];
    for await (const c of server.customers.scroll({ limit: 1 }) as AsyncIterable<CustomerObject>) scrolled.push(c.id as string);
    expect(scrolled).toEqual([bob.id, alice.id]); // newest first, one page at a time

    const temp = asCustomer(await server.customers.create({ source_id: 'conf-temp' }));
    await server.customers.delete(temp.id as string); // 204
    expect(await refusal(server.customers.get(temp.id as string))).toMatchObject({
      code: 404,
      key: 'not_found',
      resource_type: 'customer',
    });

    const gone = asCustomer(await server.customers.create({ source_id: 'conf-gone' }));
    const deletion = await server.customers.deletePermanently(gone.id as string);
    expect(deletion).toMatchObject({ status: 'DONE', related_object_id: gone.id, object: 'pernament_deletion' });
    expect(deletion.id).toMatch(/^del_/);
  });

  it('customers in bulk: updateInBulk, updateMetadataInBulk and importCSV, each an async action', async () => {
    const bulk = await server.customers.updateInBulk([
      { source_id: 'conf-bulk-1', name: 'One' },
      { source_id: 'conf-bulk-2', email: 'two@conf.example' },
    ]);
    expect(bulk.async_action_id).toMatch(/^aa_/);
    expect(await settled(bulk.async_action_id)).toMatchObject({
      type: 'CUSTOMERS.BULK_UPDATE',
      status: 'DONE',
      result: { done_count: 2, failed_count: 0 },
    });

    const meta = await server.customers.updateMetadataInBulk({
      source_ids: ['conf-bulk-1', 'conf-meta-new'],
      metadata: { newsletter: true },
    });
    // OA: unknown source ids are upserted; result {done_count, failed_count, errors} (OA:L62961 example).
    expect(await settled(meta.async_action_id)).toMatchObject({
      type: 'CUSTOMERS.METADATA_UPDATE',
      operation_status: 'SUCCESS',
      result: { done_count: 2, failed_count: 0, errors: [] },
    });
    expect(asCustomer(await server.customers.get('conf-meta-new')).metadata).toEqual({ newsletter: true });

    const file = join(dir, 'customers.csv');
    await writeFile(
      file,
      '\uFEFFSource_id,Name,Email,Address_City,tier,visits\r\nconf-csv-1,"Csv, One",csv1@conf.example,Paris,gold,7\r\nconf-csv-2,Csv Two,not-an-email,Rome,silver,1\r\nconf-bulk-2,Two,,Oslo,,\r\n',
    );
    const imported = await server.customers.importCSV(file);
    expect(imported.async_action_id).toMatch(/^aa_/);
    const action = await settled(imported.async_action_id);
    expect(action).toMatchObject({
      type: 'CUSTOMERS.IMPORT_CSV',
      status: 'DONE',
      // OA:L1432 enum: rows applied make it SUCCESS; the failed row is counted and listed.
      operation_status: 'SUCCESS',
      progress: 100,
      // The first data row is row 1 (OA:L554, example OA:L62810).
      result: {
        message: '2 customer(s) imported successfully, 1 failed.',
        done_count: 2,
        created_count: 1,
        updated_count: 1,
        failed_count: 1,
        failed: [{ row: 2, source_id: 'conf-csv-2', reason: 'email: must be an email address' }],
      },
    });
    expect(asCustomer(await server.customers.get('conf-csv-1'))).toMatchObject({
      name: 'Csv, One',
      address: { city: 'Paris' },
      metadata: { tier: 'gold', visits: 7 },
    });
    expect(asCustomer(await server.customers.get('conf-bulk-2'))).toMatchObject({
      name: 'Two',
      email: 'two@conf.example',
      address: { city: 'Oslo' },
    });
  });

  it("segments: static, auto-update and passive; get, delete, and a customer's segments", async () => {
    const fixed = await server.segments.create({ name: 'conf static', type: 'static', customers: [state.bob as string] } as never);
    expect(fixed).toMatchObject({ type: 'static', filter: null, object: 'segment' });
    const gold = await server.segments.create({
      name: 'conf gold',
      type: 'auto-update',
      filter: { junction: 'AND', 'metadata.tier': { conditions: { $is: ['gold'] } } },
    });
    expect(gold).toMatchObject({ type: 'auto-update', initial_sync_status: 'DONE' });
    state.gold = gold.id;
    const frequent = await server.segments.create(
      loose({
        name: 'conf frequent',
        type: 'passive',
        filter: { junction: 'and', 'events.conf_visit.count': { conditions: { $more_than_equal: [2] } } },
      }),
    );
    state.frequent = (frequent as { id: string }).id;

    expect((await server.segments.get(gold.id)).name).toBe('conf gold');
    expect((await server.segments.list(state.alice as string)).data.map((s) => s.id)).toEqual([gold.id]);
    expect((await server.segments.list(state.bob as string)).data.map((s) => s.id)).toEqual([fixed.id]);
    await server.segments.delete(fixed.id);
    expect(await refusal(server.segments.get(fixed.id))).toMatchObject({ code: 404, key: 'not_found', resource_type: 'segment' });
  });

  it('events: server and client tracking feed passive segments', async () => {
    const event = await server.events.create('conf_visit', {
      event: 'conf_visit',
      customer: { source_id: 'conf-bob' },
      metadata: { page: '/' },
    });
    expect(event).toMatchObject({ object: 'event', type: 'conf_visit' });
    const tracked = await client(undefined, await signed('conf-bob')).track('conf_visit', { source_id: 'conf-bob' }, { page: '/shoes' });
    expect(tracked).toMatchObject({ object: 'event', type: 'conf_visit' });
    // The events are written by the queue consumer, off the request's path: bounded wait for the segment.
    await expect
      .poll(async () => (await server.segments.list(state.bob as string)).data.map((s) => s.id), { timeout: 10_000 })
      .toEqual([state.frequent]);
  });

  it('vouchers: create, get, update, disable, enable, delete', async () => {
    const created = await server.vouchers.create(
      loose({
        code: 'CONF-GOLD',
        type: 'DISCOUNT_VOUCHER',
        discount: { type: 'PERCENT', percent_off: 20, amount_limit: 1500 },
        redemption: { quantity: 5 },
      }),
    );
    expect(created).toMatchObject({ code: 'CONF-GOLD', object: 'voucher', discount: { type: 'PERCENT', percent_off: 20 } });
    expect((await server.vouchers.get('CONF-GOLD')).redemption).toMatchObject({ quantity: 5, redeemed_quantity: 0 });
    const updated = await server.vouchers.update(loose({ code: 'CONF-GOLD', metadata: { campaign: 'conformance' } }));
    expect(updated).toMatchObject({ code: 'CONF-GOLD', metadata: { campaign: 'conformance' } });
    expect((await server.vouchers.disable('CONF-GOLD')).active).toBe(false);
    expect((await server.vouchers.enable('CONF-GOLD')).active).toBe(true);

    await server.vouchers.create(loose({ code: 'CONF-TEMP', type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 100 } }));
    await server.vouchers.delete('CONF-TEMP');
    expect(await refusal(server.vouchers.get('CONF-TEMP'))).toMatchObject({ code: 404, key: 'not_found' });
  });

  it('validation rules and assignments', async () => {
    const rule = await server.validationRules.create(
      loose({
        name: 'gold members',
        rules: { '1': { name: 'customer.segment', conditions: { $is: [state.gold] }, rules: {} }, logic: '1' },
        error: { message: 'Gold members only' },
      }),
    );
    expect(rule.id).toMatch(/^val_/);
    state.rule = rule.id as string;
    expect((await server.validationRules.get(rule.id as string)).name).toBe('gold members');
    const assignment = await server.validationRules.createAssignment(
      rule.id as string,
      loose({ related_object_type: 'voucher', related_object_id: 'CONF-GOLD' }),
    );
    expect(assignment).toMatchObject({ related_object_id: expect.any(String), object: 'validation_rules_assignment' });
  });

  it('validate: server side, and client side with a tracking id', async () => {
    const ok = await server.validations.validateVoucher(
      'CONF-GOLD',
      loose({ customer: { source_id: 'conf-alice' }, order: { amount: 10_000 } }),
    );
    expect(ok).toMatchObject({ valid: true, code: 'CONF-GOLD', order: { amount: 10_000, discount_amount: 1500, total_amount: 8500 } });
    const no = await server.validations.validateVoucher(
      'CONF-GOLD',
      loose({ customer: { source_id: 'conf-bob' }, order: { amount: 10_000 } }),
    );
    expect(no).toMatchObject({ valid: false, error: { key: 'customer_rules_violated', message: 'Gold members only' } });

    // The page of a signed-in customer: its identity as trackingId, signed by the shop's backend.
    const browser = client('conf-alice', await signed('conf-alice'));
    const v = await browser.validate({ code: 'CONF-GOLD', amount: 4000, customer: { source_id: 'conf-alice' } } as never);
    expect(v).toMatchObject({ valid: true, order: { discount_amount: 800 } });
    // The public key is answered the tracking id it sent, never the track_ id derived from it.
    expect(v.tracking_id).toBe('conf-alice');
    state.tracking = v.tracking_id as string;
    expect((await browser.validate({ code: 'CONF-GOLD', amount: 100 })).tracking_id).toBe(v.tracking_id);
    // Unsigned, the same claim is an anonymous visitor (IDENTITY_VERIFICATION=required).
    const unsigned = await client('conf-alice').validate({
      code: 'CONF-GOLD',
      amount: 4000,
      customer: { source_id: 'conf-alice' },
    } as never);
    expect(unsigned).toMatchObject({ valid: false, error: { key: 'customer_rules_violated' } });
  });

  it('redeem single and stackable; redemptions get, list and rollback', async () => {
    const r = await server.redemptions.redeem(
      'CONF-GOLD',
      loose({ customer: { source_id: 'conf-alice' }, order: { amount: 5000 }, tracking_id: state.tracking }),
    );
    // The server key sees the stored profile: the raw identity's HMAC-derived track_ id.
    expect(r).toMatchObject({
      object: 'redemption',
      result: 'SUCCESS',
      tracking_id: expect.stringMatching(/^track_[A-Za-z0-9_-]{22}$/),
      customer: { source_id: 'conf-alice' },
    });
    expect(r.id).toMatch(/^r_/);
    expect(await server.redemptions.get(r.id)).toMatchObject({ id: r.id, result: 'SUCCESS' });

    await server.vouchers.create(loose({ code: 'CONF-S1', type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 100 } }));
    await server.vouchers.create(loose({ code: 'CONF-S2', type: 'DISCOUNT_VOUCHER', discount: { type: 'FIXED', fixed_amount: 700 } }));
    const redeemables = loose([
      { object: 'voucher', id: 'CONF-S1' },
      { object: 'voucher', id: 'CONF-S2' },
    ]);
    const stacked = await server.validations.validateStackable(loose({ redeemables, order: { amount: 1000 } }));
    expect(stacked).toMatchObject({ valid: true });
    const both = await server.redemptions.redeemStackable(
      loose({ redeemables, order: { amount: 1000 }, customer: { source_id: 'conf-bob' } }),
    );
    expect(both.redemptions).toHaveLength(2);
    expect(both.redemptions.every((x) => x.result === 'SUCCESS')).toBe(true);

    const list = await server.redemptions.list(loose({ limit: 100 }));
    const listed = (list as unknown as { redemptions: { id: string }[] }).redemptions.map((x) => x.id);
    expect(listed).toContain(r.id);

    const rollback = await server.redemptions.rollback(r.id, loose({ reason: 'returned' }));
    expect(rollback).toMatchObject({ object: 'redemption_rollback', result: 'SUCCESS' });
    expect(await refusal(server.redemptions.rollback(r.id))).toMatchObject({ code: 400, key: 'already_rolled_back' });
    expect((await server.vouchers.get('CONF-GOLD')).redemption?.redeemed_quantity).toBe(0);
  });

  it('exports via client.distributions.exports: create, get, download by URL, list, delete', async () => {
    const exports = server.distributions.exports;
    const created = await exports.create({
      exported_object: 'customer',
      parameters: {
        fields: ['source_id', 'name', 'metadata.tier'],
        filters: loose({ junction: 'and', segment_id: { conditions: { $is: [state.gold] } } }),
      },
    });
    // The create answer is SCHEDULED (readOnly-openAPI.json:L10527 ExportScheduledBase.status), a read DONE.
    expect(created).toMatchObject({ object: 'export', exported_object: 'customer', status: 'SCHEDULED' });
    expect(created.id).toMatch(/^exp_/);
    const got = await exports.get(created.id);
    expect(got).toMatchObject({
      id: created.id,
      status: 'DONE',
      result: { url: expect.stringContaining(`/v1/exports/${created.id}/download?token=`) },
    });

    // The URL needs no key.
    const res = await fetch((got.result as { url: string }).url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const lines = (await res.text()).trimEnd().split('\r\n');
    expect(lines[0]).toBe('source_id,name,metadata.tier');
    expect(lines.slice(1).sort()).toEqual(['conf-alice,Alice A.,gold', 'conf-csv-1,"Csv, One",gold']);

    expect((await exports.list()).exports.map((e) => e.id)).toContain(created.id);
    await exports.delete(created.id);
    expect(await refusal(exports.get(created.id))).toMatchObject({ code: 404, key: 'not_found', resource_type: 'export' });
    expect(await refusal(exports.create(loose({ exported_object: 'customer', parameters: { fields: ['nope'] } })))).toMatchObject({
      code: 400,
      key: 'invalid_export_fields',
    });
  });

  it('errors come back as VoucherifyError with code, key, details and request_id', async () => {
    const missing = await refusal(server.customers.get('conf-nobody'));
    expect(missing).toMatchObject({
      code: 404,
      key: 'not_found',
      details: 'Cannot find customer with id conf-nobody',
      resource_type: 'customer',
    });
    const invalid = await refusal(server.customers.create({ source_id: 'conf-bad', email: 'not-an-email' }));
    expect(invalid).toMatchObject({ code: 400, key: 'invalid_payload', details: 'email: must be an email address' });
    const wrongKey = serverSdk(worker, 'wrong');
    expect(await refusal(wrongKey.customers.list({}))).toMatchObject({ code: 401, key: 'unauthorized' });
    const otherOrigin = VoucherifyClientSide({
      clientApplicationId: TEST_ENV.CLIENT_APP_ID,
      clientSecretKey: TEST_ENV.CLIENT_TOKEN,
      apiUrl: worker.url,
      origin: 'https://evil.example',
    });
    expect(await refusal(otherOrigin.validate('CONF-GOLD'))).toMatchObject({ code: 403, key: 'forbidden' });
  });
});
