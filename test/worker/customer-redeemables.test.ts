import { describe, expect, it } from 'vitest';
import { api, json, setHolder } from './helpers';

/**
 * The customer's wallet: GET /v1/customers/{customerId}/redeemables (voucherify-openapi
 * documentation/openapi/customers.json:L1551 operation list-customer-redeemables; query limit,
 * order id|-id (ParameterOrderListRedeemables L2362), starting_after_id, filters). The answer is
 * CustomerRedeemablesList (L3169: object 'list', data_ref 'data', data, total, has_more,
 * more_starting_after) of CustomerRedeemable (L3636: id rh_…, created_at, redeemable_id,
 * redeemable_object 'voucher', customer_id, holder_role OWNER, campaign_id, campaign_type,
 * voucher_type, redeemable {type 'voucher', voucher, status ACTIVE|USED|DISABLED|NOT_ACTIVE_YET|
 * EXPIRED|NO_BALANCE}), as the example at L1620 shows.
 */

type Json = Record<string, any>;
const discount = { type: 'AMOUNT', amount_off: 500 };
const DAY = 86_400_000;

const publish = async (code: string, sourceId: string) => {
  const res = await api('POST', '/v1/publications', { voucher: code, customer: { source_id: sourceId } });
  expect(res.status).toBe(200);
  return json(res);
};
const wallet = (customer: string, query = '') => api('GET', `/v1/customers/${encodeURIComponent(customer)}/redeemables${query}`);

describe('GET /v1/customers/{id}/redeemables', () => {
  it("lists the codes published to the customer, each with the voucher and its status, in the spec's shape", async () => {
    const now = Date.now();
    expect((await api('POST', '/v1/vouchers/W-OK', { discount, metadata: { tier: 'gold' } })).status).toBe(200);
    expect((await api('POST', '/v1/vouchers/W-OFF', { discount, active: false })).status).toBe(200);
    const later = { start_date: new Date(now + DAY).toISOString(), expiration_date: new Date(now + 2 * DAY).toISOString() };
    expect((await api('POST', '/v1/vouchers/W-LATER', { discount, ...later })).status).toBe(200);
    const past = { start_date: new Date(now - 2 * DAY).toISOString(), expiration_date: new Date(now - DAY).toISOString() };
    expect((await api('POST', '/v1/vouchers/W-PAST', { discount, ...past })).status).toBe(200);
    expect((await api('POST', '/v1/vouchers/W-ONCE', { discount, redemption: { quantity: 1 } })).status).toBe(200);
    const pub = await publish('W-OK', 'wal-alice');
    for (const code of ['W-OFF', 'W-LATER', 'W-PAST', 'W-ONCE']) await publish(code, 'wal-alice');
    const redeemed = await api('POST', '/v1/vouchers/W-ONCE/redemption', { customer: { source_id: 'wal-alice' }, order: { amount: 2000 } });
    expect(redeemed.status).toBe(200);

    const res = await wallet('wal-alice', '?limit=100');
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(Object.keys(body)).toEqual(['object', 'data_ref', 'data', 'total', 'has_more']);
    expect(body).toMatchObject({ object: 'list', data_ref: 'data', total: 5, has_more: false });
    const byCode = new Map<string, Json>(body.data.map((e: Json) => [e.redeemable.voucher.code, e]));
    expect([...byCode.keys()].sort()).toEqual(['W-LATER', 'W-OFF', 'W-OK', 'W-ONCE', 'W-PAST']);
    const ok = byCode.get('W-OK')!;
    expect(Object.keys(ok)).toEqual([
      'id',
      'created_at',
      'redeemable_id',
      'redeemable_object',
      'customer_id',
      'holder_role',
      'campaign_id',
      'campaign_type',
      'voucher_type',
      'redeemable',
    ]);
    expect(ok).toMatchObject({
      id: `rh_${pub.voucher.id}`,
      created_at: pub.created_at,
      redeemable_id: pub.voucher.id,
      redeemable_object: 'voucher',
      customer_id: pub.customer.id,
      holder_role: 'OWNER',
      campaign_id: null,
      campaign_type: null,
      voucher_type: 'DISCOUNT_VOUCHER',
      redeemable: {
        type: 'voucher',
        status: 'ACTIVE',
        voucher: { id: pub.voucher.id, code: 'W-OK', discount, metadata: { tier: 'gold' }, holder_id: pub.customer.id, object: 'voucher' },
      },
    });
    // The voucher as GET /v1/vouchers/{code} shows it, apart from what the redemption above changed.
    expect(ok.redeemable.voucher).toEqual(await json(await api('GET', '/v1/vouchers/W-OK')));
    expect(byCode.get('W-OFF')!.redeemable.status).toBe('DISABLED');
    expect(byCode.get('W-LATER')!.redeemable.status).toBe('NOT_ACTIVE_YET');
    expect(byCode.get('W-PAST')!.redeemable.status).toBe('EXPIRED');
    expect(byCode.get('W-ONCE')!.redeemable.status).toBe('USED');
  });

  it("pages by starting_after_id in id order both ways and by created_at, and never lists another customer's codes", async () => {
    const codes = Array.from({ length: 7 }, (_, i) => `WP-${i}`);
    for (const code of codes) {
      expect((await api('POST', `/v1/vouchers/${code}`, { discount })).status).toBe(200);
      await publish(code, 'wal-pager');
    }
    expect((await api('POST', '/v1/vouchers/WP-OTHER', { discount })).status).toBe(200);
    await publish('WP-OTHER', 'wal-other');
    // A code made the customer's without a publication is in the wallet too.
    expect((await api('POST', '/v1/vouchers/WP-HELD', { discount })).status).toBe(200);
    await setHolder('WP-HELD', 'wal-pager');

    for (const order of ['id', '-id', 'created_at', '-created_at']) {
      const seen: Json[] = [];
      let after = '';
      for (let pages = 0; pages < 10; pages++) {
        const body = await json(await wallet('wal-pager', `?limit=3&order=${order}${after}`));
        expect(body.total).toBe(8);
        seen.push(...body.data);
        if (!body.has_more) {
          expect(body.more_starting_after).toBeUndefined();
          break;
        }
        expect(body.more_starting_after).toBe(body.data[body.data.length - 1].id);
        after = `&starting_after_id=${body.more_starting_after}`;
      }
      const listed = seen.map((e) => e.redeemable.voucher.code);
      expect(listed.sort()).toEqual([...codes, 'WP-HELD'].sort());
      const ids = seen.map((e) => e.id as string);
      if (order === 'id') expect(ids).toEqual([...ids].sort());
      if (order === '-id') expect(ids).toEqual([...ids].sort().reverse());
      const times = seen.map((e) => e.created_at as string);
      if (order === 'created_at') expect(times).toEqual([...times].sort());
      if (order === '-created_at') expect(times).toEqual([...times].sort().reverse());
    }
    const other = await json(await wallet('wal-other'));
    expect(other.data.map((e: Json) => e.redeemable.voucher.code)).toEqual(['WP-OTHER']);
    // A cursor that is no entry of this wallet (here: the other customer's) answers an empty page.
    const foreign = await json(await wallet('wal-pager', `?starting_after_id=${other.data[0].id}`));
    expect(foreign).toMatchObject({ data: [], has_more: false, total: 8 });
  });

  it('finds the customer by id as by source_id; a deleted voucher or one handed to someone else is gone', async () => {
    for (const code of ['WD-KEEP', 'WD-GONE', 'WD-MOVED']) {
      expect((await api('POST', `/v1/vouchers/${code}`, { discount })).status).toBe(200);
      await publish(code, 'wal-del');
    }
    const customer = await json(await api('GET', '/v1/customers/wal-del'));
    expect((await json(await wallet(customer.id))).total).toBe(3);
    expect((await api('DELETE', '/v1/vouchers/WD-GONE')).status).toBe(204);
    await setHolder('WD-MOVED', null);
    const body = await json(await wallet(customer.id));
    expect(body.data.map((e: Json) => e.redeemable.voucher.code)).toEqual(['WD-KEEP']);
    expect(body.total).toBe(1);
  });

  it('answers an empty wallet for a customer without codes, 404 for an unknown one', async () => {
    expect((await api('POST', '/v1/customers', { source_id: 'wal-empty' })).status).toBe(200);
    expect(await json(await wallet('wal-empty'))).toEqual({ object: 'list', data_ref: 'data', data: [], total: 0, has_more: false });
    const res = await wallet('wal-nobody');
    expect(res.status).toBe(404);
    expect(await json(res)).toMatchObject({ code: 404, key: 'not_found', details: expect.stringContaining('wal-nobody') });
  });

  it('refuses a bad query with 400 invalid_query_params', async () => {
    expect((await api('POST', '/v1/customers', { source_id: 'wal-q' })).status).toBe(200);
    for (const query of [
      '?limit=0',
      '?limit=101',
      '?limit=ten',
      '?order=name',
      '?filters[holder_role][conditions][$in][0]=OWNER',
      '?page=2',
    ]) {
      const res = await wallet('wal-q', query);
      expect(res.status, query).toBe(400);
      expect(await json(res)).toMatchObject({ code: 400, key: 'invalid_query_params' });
    }
  });
});
