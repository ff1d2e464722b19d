import { describe, expect, it } from 'vitest';
import { api, json } from './helpers';

/**
 * Publications. POST /v1/publications (readOnly-openAPI.json:L42716; body OA
 * PublicationsCreateRequestBody L23028: a `campaign` {name, count} or a `voucher` code, `customer`,
 * `source_id`, `metadata`, `channel`; `join_once` a query parameter) answers the publication OA
 * PublicationsCreateVoucherResponseBody: `id` pub_…, `object: 'publication'`, `customer_id`,
 * `tracking_id`, `metadata`, `channel`, `source_id`, `result: 'SUCCESS'`, `customer`, `voucher`.
 * A campaign without a free code: 400 `no_voucher_suitable_for_publication`, "Couldn't find any
 * voucher suitable for publication" (OpenAPI24.json:L66933; errors.mdx:L94); a code another
 * customer holds: 400 `voucher_already_published` (OpenAPI24.json, the next example).
 */

type Json = Record<string, unknown>;
const discount = { type: 'AMOUNT', amount_off: 500 };

async function campaignWithCodes(name: string, count: number, extra: Json = {}): Promise<Json> {
  const res = await api('POST', '/v1/campaigns', {
    name,
    vouchers_count: count,
    voucher: { discount, redemption: { quantity: 1 } },
    ...extra,
  });
  expect(res.status).toBe(200);
  const created = await json(res);
  for (let i = 0; i < 300; i++) {
    const c = await json(await api('GET', `/v1/campaigns/${created.id}`));
    if (c.vouchers_generation_status === 'DONE') return c;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('generation did not finish');
}

const publish = (body: Json, query = '') => api('POST', `/v1/publications${query}`, body);

describe('publications', () => {
  it("hands a customer a free code of a campaign, in the spec's shape, creating the customer by source_id", async () => {
    const c = await campaignWithCodes('Welcome', 3);
    const res = await publish({
      campaign: { name: 'Welcome' },
      customer: { source_id: 'pub-alice', email: 'alice@example.com', name: 'Alice' },
      channel: 'Email',
      metadata: { wave: 1 },
      source_id: 'wave-1-alice',
    });
    expect(res.status).toBe(200);
    const pub = await json(res);
    expect(pub.id).toMatch(/^pub_/);
    expect(pub).toMatchObject({
      object: 'publication',
      tracking_id: 'pub-alice',
      metadata: { wave: 1 },
      channel: 'Email',
      source_id: 'wave-1-alice',
      result: 'SUCCESS',
      customer: { source_id: 'pub-alice', email: 'alice@example.com', name: 'Alice', object: 'customer' },
      voucher: { campaign: 'Welcome', campaign_id: c.id, object: 'voucher', discount },
    });
    const customer = await json(await api('GET', '/v1/customers/pub-alice'));
    expect(pub.customer_id).toBe(customer.id);
    // The holder is recorded (OA24 Voucher.holder_id, OpenAPI24.json:L4511).
    expect((pub.voucher as Json).holder_id).toBe(customer.id);
    const code = (pub.voucher as Json).code as string;
    expect(await json(await api('GET', `/v1/vouchers/${code}`))).toMatchObject({ holder_id: customer.id });
    expect(await json(await api('GET', '/v1/vouchers?customer=pub-alice'))).toMatchObject({ total: 1 });

    // Without join_once a second publication hands a second code.
    const second = await json(await publish({ campaign: 'Welcome', customer: { source_id: 'pub-alice' } }));
    expect((second.voucher as Json).code).not.toBe(code);

    // GET /v1/publications (OA PublicationsListResponseBody: data_ref 'publications').
    const list = await json(await api('GET', '/v1/publications?customer=pub-alice'));
    expect(list).toMatchObject({ object: 'list', data_ref: 'publications', total: 2 });
    expect((list.publications as Json[]).map((p) => p.id)).toEqual([second.id, pub.id]);
    expect((list.publications as Json[])[1]).toMatchObject({
      object: 'publication',
      result: 'SUCCESS',
      voucher: { code, object: 'voucher', campaign: 'Welcome' },
      customer: { source_id: 'pub-alice' },
    });
    expect(await json(await api('GET', '/v1/publications?campaign=Welcome&voucher=' + encodeURIComponent(code)))).toMatchObject({
      total: 1,
    });
  });

  it('never hands one code to two customers: 20 concurrent publications of 20 codes, and the 21st is refused', async () => {
    // STATIC: "vouchers need to be manually published" (OA CampaignBase.type): no code is made on demand.
    await campaignWithCodes('Race', 20, { type: 'STATIC' });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => publish({ campaign: { name: 'Race', count: 1 }, customer: { source_id: `race-${i}` } })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    const bodies = await Promise.all(results.map(json));
    const codes = bodies.map((b) => (b.voucher as Json).code);
    expect(new Set(codes).size).toBe(20);
    // Each code's holder is the customer it was handed to.
    for (const b of bodies) expect((b.voucher as Json).holder_id).toBe(b.customer_id);

    const late = await publish({ campaign: { name: 'Race' }, customer: { source_id: 'race-late' } });
    expect(late.status).toBe(400);
    expect(await json(late)).toMatchObject({
      code: 400,
      key: 'no_voucher_suitable_for_publication',
      message: "Couldn't find any voucher suitable for publication",
    });
  });

  it('join_once gives a customer the same code again, never a second one, also under concurrency', async () => {
    await campaignWithCodes('Once', 10, { join_once: true });
    const many = await Promise.all(
      Array.from({ length: 8 }, () => publish({ campaign: { name: 'Once' }, customer: { source_id: 'once-bob' } })),
    );
    expect(many.map((r) => r.status)).toEqual(Array(8).fill(200));
    const codes = new Set((await Promise.all(many.map(json))).map((b) => (b.voucher as Json).code));
    expect(codes.size).toBe(1);
    expect(await json(await api('GET', '/v1/vouchers?customer=once-bob'))).toMatchObject({ total: 1 });

    // join_once asked by the request (query, as the spec; body, as the SDK sends it) on a campaign without it.
    await campaignWithCodes('Open', 5);
    const q = await json(await publish({ campaign: 'Open', customer: { source_id: 'once-carol' } }, '?join_once=true'));
    const b = await json(await publish({ campaign: 'Open', customer: { source_id: 'once-carol' }, join_once: true }));
    expect((b.voucher as Json).code).toBe((q.voucher as Json).code);
    expect(b.id).toBe(q.id);
  });

  it('makes a new code for an AUTO_UPDATE campaign without a free one, also for join_once customers racing', async () => {
    // OA CampaignBase.type AUTO_UPDATE: "vouchers will generate based on set criteria".
    await campaignWithCodes('Auto', 2, { type: 'AUTO_UPDATE', voucher: { discount, code_config: { prefix: 'AU-', length: 8 } } });
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => publish({ campaign: 'Auto', customer: { source_id: `auto-${i}` } })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(6).fill(200));
    const codes = (await Promise.all(results.map(json))).map((b) => (b.voucher as Json).code as string);
    expect(new Set(codes).size).toBe(6);
    expect(codes.every((c) => /^AU-/.test(c))).toBe(true);
    expect(await json(await api('GET', '/v1/campaigns/Auto'))).toMatchObject({ vouchers_count: 6 });

    await campaignWithCodes('Auto once', 0, { type: 'AUTO_UPDATE', join_once: true });
    const racing = await Promise.all(
      Array.from({ length: 6 }, () => publish({ campaign: 'Auto once', customer: { source_id: 'auto-once' } })),
    );
    expect(racing.map((r) => r.status)).toEqual(Array(6).fill(200));
    expect(new Set((await Promise.all(racing.map(json))).map((b) => (b.voucher as Json).code)).size).toBe(1);
  });

  it('publishes a given code; one held by another customer is refused', async () => {
    expect((await api('POST', '/v1/vouchers/SOLO-1', { discount })).status).toBe(200);
    const first = await publish({ voucher: 'SOLO-1', customer: { source_id: 'solo-a' } });
    expect(first.status).toBe(200);
    expect(await json(first)).toMatchObject({ voucher: { code: 'SOLO-1', campaign: null } });
    // The same holder again: fine.
    expect((await publish({ voucher: 'SOLO-1', customer: { source_id: 'solo-a' } })).status).toBe(200);
    const other = await publish({ voucher: 'SOLO-1', customer: { source_id: 'solo-b' } });
    expect(other.status).toBe(400);
    expect(await json(other)).toMatchObject({ key: 'voucher_already_published' });
    expect((await publish({ voucher: 'NO-SUCH', customer: { source_id: 'solo-b' } })).status).toBe(404);
    expect((await publish({ campaign: 'No such campaign', customer: { source_id: 'solo-b' } })).status).toBe(404);
    const neither = await publish({ customer: { source_id: 'solo-b' } });
    expect(neither.status).toBe(400);
    expect((await json(neither)).details).toMatch(/campaign/);
  });
});
