import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../worker/src/app';
import type { Env } from '../../worker/src/env';
import { CLIENT_HEADERS, SERVER_HEADERS, api, counted, json, signAs } from './helpers';

const clientValidate = (query: string, headers: Record<string, string> = {}) =>
  counted(`/client/v1/validate?${query}`, { headers: { ...CLIENT_HEADERS, ...headers } });

describe('the client validate hot path', () => {
  it('costs one D1 round trip, and no KV read once this isolate holds the definition at its version', async () => {
    const seg = await json(
      await api('POST', '/v1/segments', { name: 'hot', type: 'passive', filter: { 'metadata.tier': { conditions: { $is: ['gold'] } } } }),
    );
    await api('POST', '/v1/vouchers/HOT', { discount: { type: 'PERCENT', percent_off: 10 } });
    const rule = await json(
      await api('POST', '/v1/validation-rules', {
        name: 'gold, big orders',
        rules: {
          '1': { name: 'customer.segment', conditions: { $is: [seg.id] } },
          '2': { name: 'order.amount', conditions: { $more_than: [1000] } },
        },
      }),
    );
    await api('POST', `/v1/validation-rules/${rule.id}/assignments`, { related_object_type: 'voucher', related_object_id: 'HOT' });
    await api('POST', '/v1/customers', { source_id: 'hot-1', metadata: { tier: 'gold' } });
    // The customer's identity signed by the shop's backend: verifying it costs no storage operation.
    const signed = { 'X-Vouchsafe-Identity-Signature': await signAs('source_id', 'hot-1') };

    const cold = await clientValidate('code=HOT&amount=5000&customer%5Bsource_id%5D=hot-1', signed);
    expect((await json(cold.res)).valid).toBe(true);
    // Cold: the definition comes from D1 and is written to KV.
    expect(cold.ops.kv_reads).toBe(1);
    expect(cold.ops.kv_writes).toBe(1);
    expect(cold.ops.d1_primary + cold.ops.d1_replica).toBeGreaterThan(1);

    // Warm: the definition at the version the visitor read found is held by this isolate (keyed by
    // code:version, so it is never one of another version): no KV read. The visitor read is one
    // batch that only reads, in a session a replica may serve; the attempt goes to the queue
    // (the hot path's budget: warm client validate d1_primary=0, kv_writes=0).
    const warm = await clientValidate(
      'code=HOT&amount=5000&customer%5Bsource_id%5D=hot-1&tracking_id=track_HotPathHotPathHotPat00',
      signed,
    );
    expect((await json(warm.res)).valid).toBe(true);
    expect(warm.ops).toEqual({ d1_primary: 0, d1_replica: 1, kv_reads: 0, kv_writes: 0, queue_sends: 1 });
    // Without a tracking id (no consent yet) nothing is recorded: not even a queue message.
    const untracked = await clientValidate('code=HOT&amount=5000&customer%5Bsource_id%5D=hot-1', signed);
    expect(untracked.ops).toEqual({ d1_primary: 0, d1_replica: 1, kv_reads: 0, kv_writes: 0, queue_sends: 0 });
    // Stacked, the same.
    const stacked = await counted('/client/v1/validations', {
      method: 'POST',
      headers: { ...CLIENT_HEADERS, ...signed, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        redeemables: [{ object: 'voucher', id: 'HOT' }],
        order: { amount: 5000 },
        customer: { source_id: 'hot-1' },
        tracking_id: 'track_HotPathHotPathHotPat00',
      }),
    });
    expect((await json(stacked.res)).valid).toBe(true);
    expect(stacked.ops).toEqual({ d1_primary: 0, d1_replica: 1, kv_reads: 0, kv_writes: 0, queue_sends: 1 });
  });

  it('tracks an event with no trip to the primary: one read of the daily cap, one queue send', async () => {
    const track = await counted('/client/v1/events', {
      method: 'POST',
      headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json' },
      body: JSON.stringify({ event: 'viewed_product', customer: { source_id: 'track_HotTrackHotTrackHot000' } }),
    });
    expect(track.res.status).toBe(200);
    expect(track.ops).toEqual({ d1_primary: 0, d1_replica: 1, kv_reads: 0, kv_writes: 0, queue_sends: 1 });
    // A believed customer claim reads only the customer's daily cap, as a tracking profile's (a replica may answer).
    const claim = await counted('/client/v1/events', {
      method: 'POST',
      headers: {
        ...CLIENT_HEADERS,
        'Content-Type': 'application/json',
        'X-Vouchsafe-Identity-Signature': await signAs('source_id', 'hot-ev'),
      },
      body: JSON.stringify({ event: 'viewed_product', customer: { source_id: 'hot-ev' } }),
    });
    expect(claim.ops).toEqual({ d1_primary: 0, d1_replica: 1, kv_reads: 0, kv_writes: 0, queue_sends: 1 });
  });

  it('costs two D1 round trips to redeem once warm (with an auto-update segment)', async () => {
    await api('POST', '/v1/vouchers/HOT-R', { discount: { type: 'AMOUNT', amount_off: 100 } });
    await api('POST', '/v1/segments', {
      name: 'hot-r-buyers',
      type: 'auto-update',
      filter: { 'summary.orders.total_amount': { conditions: { $more_than: [0] } } },
    });
    const redeem = (n: number) =>
      counted('/v1/vouchers/HOT-R/redemption', {
        method: 'POST',
        headers: { ...SERVER_HEADERS, 'Content-Type': 'application/json' },
        body: JSON.stringify({ customer: { source_id: `hot-r-${n}` }, order: { amount: 1000 } }),
      });
    await redeem(0);
    const warm = await redeem(1);
    expect(warm.res.status).toBe(200);
    // Read the visitor with the segments' version (one batch), then write, refresh the segments and
    // read the answer back (one batch), both on the primary. The parsed auto-update segments come
    // from the isolate's cache, keyed by the version the first batch read
    // (redeem's budget: d1_primary ≤ 2, ≤ 1 KV read warm).
    expect(warm.ops).toEqual({ d1_primary: 2, d1_replica: 0, kv_reads: 0, kv_writes: 0, queue_sends: 0 });
    // A segment change is seen by the next redeem (one more round trip to reload the segments once).
    await api('POST', '/v1/segments', {
      name: 'hot-r-new',
      type: 'auto-update',
      filter: { 'summary.orders.total_count': { conditions: { $more_than: [0] } } },
    });
    const reloaded = await redeem(2);
    expect(reloaded.ops).toMatchObject({ d1_primary: 2, kv_reads: 0, kv_writes: 0 });
    expect(reloaded.ops.d1_primary + reloaded.ops.d1_replica).toBe(3);
    const member = await json(await api('GET', '/v1/customers/hot-r-2/segments'));
    expect(member.data.map((s: { name: string }) => s.name)).toContain('hot-r-new');
    expect((await redeem(3)).ops).toEqual({ d1_primary: 2, d1_replica: 0, kv_reads: 0, kv_writes: 0, queue_sends: 0 });
  });

  it('server validate with a customer sent as stored: no trip to the primary; a new field is written and judged', async () => {
    await api('POST', '/v1/vouchers/HOT-S', { discount: { type: 'AMOUNT', amount_off: 300 } });
    const gold = await json(
      await api('POST', '/v1/segments', {
        name: 'hot-s-gold',
        type: 'auto-update',
        filter: { 'metadata.tier': { conditions: { $is: ['gold'] } } },
      }),
    );
    const rule = await json(
      await api('POST', '/v1/validation-rules', {
        name: 'hot-s gold only',
        rules: { '1': { name: 'customer.segment', conditions: { $is: [gold.id] } } },
      }),
    );
    await api('POST', `/v1/validation-rules/${rule.id}/assignments`, { related_object_type: 'voucher', related_object_id: 'HOT-S' });
    const context = (tier: string) => ({
      customer: { source_id: 'hot-s-1', name: 'Hot S', email: 'hot-s@example.com', metadata: { tier } },
      order: { amount: 5000, items: [{ sku_id: 'hot-s-sku', quantity: 1, price: 5000 }] },
      tracking_id: 'track_HotServerHotServerHot0',
    });
    const post = (path: string, body: unknown) =>
      counted(path, { method: 'POST', headers: { ...SERVER_HEADERS, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const validate = (tier: string) => post('/v1/vouchers/HOT-S/validate', context(tier));
    const stacked = (tier: string) => post('/v1/validations', { ...context(tier), redeemables: [{ object: 'voucher', id: 'HOT-S' }] });

    // First sight of the customer: it is created (and enters the segment) before it is judged.
    const cold = await validate('gold');
    const coldBody = await json(cold.res);
    expect(coldBody).toMatchObject({ valid: true, code: 'HOT-S', discount: { type: 'AMOUNT', amount_off: 300 } });
    expect(cold.ops.d1_primary).toBe(1);

    // The same customer again: nothing new to store, so the visitor read (one batch that only reads,
    // a replica may serve it) is all the D1 it costs, and the attempt goes to the queue as a client
    // validate's does (the budget: a warm server validate makes 0 primary round trips).
    const warm = await validate('gold');
    const warmBody = await json(warm.res);
    expect(warm.ops).toEqual({ d1_primary: 0, d1_replica: 1, kv_reads: 0, kv_writes: 0, queue_sends: 1 });
    // The same answer as when the customer was written first (Voucherify's validate response,
    // OA24 reference/OpenAPI.json:L3667 VouchersValidateValidResponseBody): only the request's id differs.
    expect(warmBody).toEqual({ ...coldBody, request_id: warmBody.request_id });
    const warmStack = await stacked('gold');
    expect((await json(warmStack.res)).valid).toBe(true);
    expect(warmStack.ops).toEqual({ d1_primary: 0, d1_replica: 1, kv_reads: 0, kv_writes: 0, queue_sends: 1 });
    // The customer named by id, fields as stored: the same.
    const stored = await json(await api('GET', '/v1/customers/hot-s-1'));
    const byId = await post('/v1/vouchers/HOT-S/validate', { ...context('gold'), customer: { id: stored.id, name: 'Hot S' } });
    expect((await json(byId.res)).valid).toBe(true);
    expect(byId.ops).toEqual({ d1_primary: 0, d1_replica: 1, kv_reads: 0, kv_writes: 0, queue_sends: 1 });
    // Without a customer, tracking id or order: the same read, the same send.
    const bare = await post('/v1/vouchers/HOT-S/validate', {});
    expect(bare.ops).toEqual({ d1_primary: 0, d1_replica: 1, kv_reads: 0, kv_writes: 0, queue_sends: 1 });

    // A changed field is new: it is written (the customer leaves the segment) and judged as written
    // (the stacked answer, OA24 reference/OpenAPI.json:L15580 ValidationsValidateResponseBody).
    const changed = await stacked('silver');
    expect(changed.ops.d1_primary).toBe(1);
    expect(await json(changed.res)).toMatchObject({
      valid: false,
      redeemables: [{ status: 'INAPPLICABLE', result: { error: { key: 'customer_rules_violated' } } }],
    });
    expect((await json(await api('GET', '/v1/customers/hot-s-1'))).metadata).toEqual({ tier: 'silver' });
    // Writing costs the read that found the change and one batch on the primary (write, refresh,
    // read again); the parsed segments come from the isolate's cache at the version first read.
    const back = await validate('gold');
    expect(back.ops).toEqual({ d1_primary: 1, d1_replica: 1, kv_reads: 0, kv_writes: 0, queue_sends: 1 });
    expect((await json(back.res)).valid).toBe(true);
    expect((await validate('gold')).ops).toEqual({ d1_primary: 0, d1_replica: 1, kv_reads: 0, kv_writes: 0, queue_sends: 1 });
  });

  it('sees a change of the voucher at once: the definition version moves on with every change', async () => {
    await api('POST', '/v1/vouchers/CHANGE', { discount: { type: 'AMOUNT', amount_off: 100 } });
    expect((await json((await clientValidate('code=CHANGE&amount=5000')).res)).discount.amount_off).toBe(100);
    await api('PUT', '/v1/vouchers/CHANGE', { discount: { type: 'AMOUNT', amount_off: 250 } });
    expect((await json((await clientValidate('code=CHANGE&amount=5000')).res)).discount.amount_off).toBe(250);
    await api('POST', '/v1/vouchers/CHANGE/disable');
    expect((await json((await clientValidate('code=CHANGE&amount=5000')).res)).valid).toBe(false);
    // An unknown code is known unknown from the visitor read alone: a guess costs no KV read or
    // write, and a code guessed before it existed validates as soon as it is created.
    const guess = await clientValidate('code=LATER');
    expect((await json(guess.res)).reason).toBe('voucher not found');
    expect(guess.ops).toMatchObject({ d1_primary: 0, d1_replica: 1, kv_reads: 0, kv_writes: 0 });
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
