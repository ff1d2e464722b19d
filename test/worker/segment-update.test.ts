/**
 * PUT /v1/segments/{id} (our addition). The OA has no segment update: its paths for
 * segments are POST /v1/segments, GET and DELETE /v1/segments/{segmentId} (readOnly-openAPI.json,
 * "/v1/segments/{segmentId}": parameters, get, delete). A passive segment, which stores no members,
 * takes a new filter; any segment a new name; an auto-update segment's filter stays fixed.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { selectLiveVouchers } from '../../worker/src/db/vouchers';
import { api, json } from './helpers';

const city = (...cities: string[]) => ({ 'address.city': { conditions: { $in: cities } } });
const members = async (segmentId: string): Promise<string[]> =>
  (await json(await api('GET', `/v1/customers?segment_id=${segmentId}&limit=100`))).customers
    .map((c: { source_id: string }) => c.source_id)
    .sort();
const stored = (id: string) => env.DB.prepare('SELECT name, filter, time_relative, updated_at FROM segments WHERE id = ?').bind(id).first();

describe('PUT /v1/segments/{id}', () => {
  it('gives a passive segment a new name and filter in one write: its members follow, updated_at is set', async () => {
    for (const [source_id, c] of [
      ['upd-berlin', 'Berlin'],
      ['upd-paris', 'Paris'],
      ['upd-rome', 'Rome'],
    ]) {
      await api('POST', '/v1/customers', { source_id, address: { city: c } });
    }
    const seg = await json(await api('POST', '/v1/segments', { name: 'capitals', type: 'passive', filter: city('Berlin', 'Paris') }));
    expect(seg.updated_at).toBeUndefined();
    expect(await members(seg.id)).toEqual(['upd-berlin', 'upd-paris']);

    const res = await api('PUT', `/v1/segments/${seg.id}`, { name: 'south', filter: city('Paris', 'Rome') });
    expect(res.status).toBe(200);
    const updated = await json(res);
    expect(updated).toMatchObject({
      id: seg.id,
      name: 'south',
      type: 'passive',
      filter: city('Paris', 'Rome'),
      object: 'segment',
      created_at: seg.created_at,
    });
    expect(Date.parse(updated.updated_at)).toBeGreaterThanOrEqual(Date.parse(seg.created_at));
    expect(await json(await api('GET', `/v1/segments/${seg.id}`))).toEqual(updated);
    expect(await members(seg.id)).toEqual(['upd-paris', 'upd-rome']);

    // Name alone leaves the filter; a clock-relative filter is marked as such.
    expect(await json(await api('PUT', `/v1/segments/${seg.id}`, { name: 'renamed' }))).toMatchObject({
      name: 'renamed',
      filter: city('Paris', 'Rome'),
    });
    await api('PUT', `/v1/segments/${seg.id}`, { filter: { 'summary.orders.last_order_date': { conditions: { $less_than: [30] } } } });
    expect(await stored(seg.id)).toMatchObject({ time_relative: 1 });
  });

  it('refuses a bad filter naming its path, and changes nothing', async () => {
    const seg = await json(await api('POST', '/v1/segments', { name: 'kept', type: 'passive', filter: city('Oslo') }));
    const before = await stored(seg.id);
    const res = await api('PUT', `/v1/segments/${seg.id}`, {
      name: 'not kept',
      filter: { 'address.city': { conditions: { $sometimes: ['x'] } } },
    });
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ code: 400, key: 'invalid_payload' });
    expect((await json(await api('PUT', `/v1/segments/${seg.id}`, { filter: { nope: { conditions: { $is: ['x'] } } } }))).details).toMatch(
      /^filter\./,
    );
    expect((await api('PUT', `/v1/segments/${seg.id}`, { filter: null })).status).toBe(400);
    expect((await api('PUT', `/v1/segments/${seg.id}`, { name: '' })).status).toBe(400);
    expect((await api('PUT', `/v1/segments/${seg.id}`, {})).status).toBe(400);
    expect((await json(await api('PUT', `/v1/segments/${seg.id}`, { type: 'static', name: 'x' }))).details).toMatch(/^type: /);
    expect(await stored(seg.id)).toEqual(before);
    expect((await api('PUT', '/v1/segments/seg_missing', { name: 'x' })).status).toBe(404);
  });

  it("keeps an auto-update segment's filter fixed (a clear 400), renames it, and accepts its own filter sent back", async () => {
    await api('POST', '/v1/customers', { source_id: 'upd-auto', address: { city: 'Lisbon' } });
    const seg = await json(await api('POST', '/v1/segments', { name: 'lisbon', type: 'auto-update', filter: city('Lisbon') }));
    const res = await api('PUT', `/v1/segments/${seg.id}`, { filter: city('Porto') });
    expect(res.status).toBe(400);
    const error = await json(res);
    expect(error).toMatchObject({ key: 'invalid_payload' });
    expect(error.details).toMatch(/^filter: the filter of an auto-update segment is fixed; create a new segment/);
    expect(await members(seg.id)).toEqual(['upd-auto']);

    // The object as read, PUT back with a new name: the same filter is no change.
    const got = await json(await api('GET', `/v1/segments/${seg.id}`));
    const renamed = await api('PUT', `/v1/segments/${seg.id}`, { ...got, name: 'Lisboa' });
    expect(renamed.status).toBe(200);
    expect(await json(renamed)).toMatchObject({ name: 'Lisboa', filter: city('Lisbon'), type: 'auto-update' });
    // Entered/left events carry the segment's name: a member entering now sees the new one.
    const c = await json(await api('POST', '/v1/customers', { source_id: 'upd-auto-2', address: { city: 'Lisbon' } }));
    const activity = await json(await api('GET', `/v1/customers/${c.id}/activity?limit=10`));
    const entered = activity.data.find((e: { type: string }) => e.type === 'customer.segment.entered');
    expect(entered?.data?.data?.segment).toMatchObject({ id: seg.id, name: 'Lisboa' });
  });

  it('renames a static segment; a static segment takes no filter', async () => {
    const c = await json(await api('POST', '/v1/customers', { source_id: 'upd-static' }));
    const seg = await json(await api('POST', '/v1/segments', { name: 'picked', type: 'static', customers: [c.id] }));
    expect((await json(await api('PUT', `/v1/segments/${seg.id}`, { filter: city('Oslo') }))).details).toBe(
      'filter: a static segment has no filter',
    );
    expect(await json(await api('PUT', `/v1/segments/${seg.id}`, { name: 'hand-picked' }))).toMatchObject({
      name: 'hand-picked',
      filter: null,
    });
    expect(await members(seg.id)).toEqual(['upd-static']);
  });

  it('reaches vouchers whose rules name the passive segment at once: validate judges with the new filter, cached definitions included', async () => {
    const vip = await json(await api('POST', '/v1/customers', { source_id: 'upd-vip', metadata: { vip: 'yes' } }));
    const seg = await json(
      await api('POST', '/v1/segments', { name: 'vips', type: 'passive', filter: { 'metadata.vip': { conditions: { $is: ['yes'] } } } }),
    );
    expect((await api('POST', '/v1/vouchers/UPD-VIP', { discount: { type: 'AMOUNT', amount_off: 100 } })).status).toBe(200);
    const rule = await json(
      await api('POST', '/v1/validation-rules', {
        name: 'vips only',
        rules: { '1': { name: 'customer.segment', conditions: { $is: [seg.id] } }, logic: '1' },
      }),
    );
    expect(
      (await api('POST', `/v1/validation-rules/${rule.id}/assignments`, { related_object_type: 'voucher', related_object_id: 'UPD-VIP' }))
        .status,
    ).toBe(200);
    const validate = async () => json(await api('POST', '/v1/vouchers/UPD-VIP/validate', { customer: { id: vip.id } }));
    // Twice: the second is served from the cached definition (isolate and KV).
    expect(await validate()).toMatchObject({ valid: true });
    expect(await validate()).toMatchObject({ valid: true });
    const version = async () => (await selectLiveVouchers(env.DB, ['UPD-VIP']).first<{ definition_version: string }>())?.definition_version;
    const before = await version();

    // A rename changes nothing the voucher grants: same version.
    await api('PUT', `/v1/segments/${seg.id}`, { name: 'V.I.P.' });
    expect(await version()).toBe(before);
    expect((await api('PUT', `/v1/segments/${seg.id}`, { filter: { 'metadata.vip': { conditions: { $is: ['platinum'] } } } })).status).toBe(
      200,
    );
    expect(await version()).not.toBe(before);
    expect(await validate()).toMatchObject({ valid: false, error: { key: 'customer_rules_violated' } });
    await api('PUT', '/v1/customers/upd-vip', { metadata: { vip: 'platinum' } });
    expect(await validate()).toMatchObject({ valid: true });
  });
});
