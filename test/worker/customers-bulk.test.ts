import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { api, json } from './helpers';

const count = async () => (await env.DB.prepare('SELECT count(*) AS n FROM customers').first<{ n: number }>())?.n ?? -1;

async function action(id: string) {
  const res = await api('GET', `/v1/async-actions/${id}`);
  expect(res.status).toBe(200);
  return json(res);
}

describe('POST /v1/customers/bulk/async', () => {
  it('upserts every record and reports the action in the OA CUSTOMERS.BULK_UPDATE shape', async () => {
    const existing = await json(await api('POST', '/v1/customers', { source_id: 'bulk-0', name: 'Old' }));
    const res = await api('POST', '/v1/customers/bulk/async', [
      { source_id: 'bulk-0', name: 'New', metadata: { plan: 'pro' } },
      { source_id: 'bulk-1', email: 'b1@example.com' },
      { source_id: 'bulk-2', address: { city: 'Lyon' } },
    ]);
    expect(res.status).toBe(202);
    const { async_action_id } = await json(res);
    expect(async_action_id).toMatch(/^aa_/);

    const a = await action(async_action_id);
    // OA GET /v1/async-actions/{id} example "CUSTOMERS.BULK_UPDATE" (OA:L62938): result
    // {done_count, failed_count, errors} (AsyncActionResultCustomersBulkUpdateResponseBody, OA:L1495).
    expect(a).toMatchObject({
      id: async_action_id,
      type: 'CUSTOMERS.BULK_UPDATE',
      status: 'DONE',
      operation_status: 'SUCCESS',
      progress: 100,
      object: 'async_action',
      result: { done_count: 3, failed_count: 0, errors: [] },
    });
    expect(Object.keys(a.result).sort()).toEqual(['done_count', 'errors', 'failed_count']);
    const updated = await json(await api('GET', '/v1/customers/bulk-0'));
    expect(updated).toMatchObject({ id: existing.id, name: 'New', metadata: { plan: 'pro' } });
    expect((await json(await api('GET', '/v1/customers/bulk-2'))).address.city).toBe('Lyon');
  });

  it('writes the valid records and reports each bad one in errors (OA:L1495 errors[{message, details, key, source_id}])', async () => {
    const before = await count();
    const res = await api('POST', '/v1/customers/bulk/async', [
      { source_id: 'bulk-ok-1', name: 'Fine' },
      { name: 'no source id' },
      { source_id: 'bulk-bad-email', email: 'nope' },
      'not an object',
      { source_id: 'bulk-ok-2', birthdate: '1990-02-03' },
    ]);
    expect(res.status).toBe(202);
    const a = await action((await json(res)).async_action_id);
    // Partial success is SUCCESS: OA:L1432 has no partial value; failed_count and errors carry the rest.
    expect(a).toMatchObject({ status: 'DONE', operation_status: 'SUCCESS', result: { done_count: 2, failed_count: 3 } });
    expect(a.result.errors).toEqual([
      { message: 'Invalid payload', details: expect.stringMatching(/^\[1\]\.source_id: /), key: 'invalid_payload', source_id: '' },
      { message: 'Invalid payload', details: '[2].email: must be an email address', key: 'invalid_payload', source_id: 'bulk-bad-email' },
      { message: 'Invalid payload', details: expect.stringMatching(/^\[3\]\./), key: 'invalid_payload', source_id: '' },
    ]);
    expect(await count()).toBe(before + 2);
    expect((await json(await api('GET', '/v1/customers/bulk-ok-2'))).birthdate).toBe('1990-02-03');
    expect((await api('GET', '/v1/customers/bulk-bad-email')).status).toBe(404);
  });

  it('reports FAILED when no record could be applied, and writes nothing', async () => {
    const before = await count();
    const res = await api('POST', '/v1/customers/bulk/async', [{ email: 'x@example.com' }, { source_id: 'y', phone: 5 }]);
    expect(res.status).toBe(202);
    const a = await action((await json(res)).async_action_id);
    expect(a).toMatchObject({ operation_status: 'FAILED', result: { done_count: 0, failed_count: 2 } });
    expect(a.result.errors.map((e: any) => e.source_id)).toEqual(['', 'y']);
    expect(await count()).toBe(before);
  });

  it.each([
    ['more than 500 records', Array.from({ length: 501 }, (_, i) => ({ source_id: `x-${i}` }))],
    ['an empty array', []],
    ['a body that is not an array', { source_id: 'x' }],
  ])('refuses %s with 400 and writes nothing', async (_, body) => {
    const before = await count();
    const res = await api('POST', '/v1/customers/bulk/async', body);
    expect(res.status).toBe(400);
    expect((await json(res)).key).toBe('invalid_payload');
    expect(await count()).toBe(before);
  });

  it('accepts exactly 500 records (one D1 batch)', async () => {
    const res = await api(
      'POST',
      '/v1/customers/bulk/async',
      Array.from({ length: 500 }, (_, i) => ({ source_id: `fivehundred-${i}` })),
    );
    expect(res.status).toBe(202);
    expect((await action((await json(res)).async_action_id)).result).toMatchObject({ done_count: 500, failed_count: 0 });
  });

  it('takes a body above the app-wide 1 MiB up to the OA limit of 10 MB', async () => {
    // 300 records of ~8 KiB metadata: about 2.4 MiB.
    const records = Array.from({ length: 300 }, (_, i) => ({ source_id: `big-${i}`, metadata: { blob: 'x'.repeat(8000) } }));
    const res = await api('POST', '/v1/customers/bulk/async', records);
    expect(res.status).toBe(202);
    expect((await action((await json(res)).async_action_id)).result.done_count).toBe(300);
    const tooLarge = await api('POST', '/v1/customers/bulk/async', `[${'"x",'.repeat(2_700_000)}"x"]`);
    expect(tooLarge.status).toBe(413);
  });
});

describe('POST /v1/customers/metadata/async', () => {
  it('merges metadata into the customers and upserts the unknown source ids, as the OA describes', async () => {
    await api('POST', '/v1/customers', { source_id: 'meta-1', metadata: { keep: 1, drop: true } });
    await api('POST', '/v1/customers', { source_id: 'meta-2' });
    const res = await api('POST', '/v1/customers/metadata/async', {
      source_ids: ['meta-1', 'ghost', 'meta-2'],
      metadata: { vip: true, drop: null },
    });
    expect(res.status).toBe(202);
    const a = await action((await json(res)).async_action_id);
    // OA example "CUSTOMERS.METADATA_UPDATE" (OA:L62961) and AsyncActionResultCustomersMetadataUpdateResponseBody.
    expect(a).toMatchObject({
      type: 'CUSTOMERS.METADATA_UPDATE',
      status: 'DONE',
      operation_status: 'SUCCESS',
      result: { done_count: 3, failed_count: 0, errors: [] },
    });
    expect((await json(await api('GET', '/v1/customers/meta-1'))).metadata).toEqual({ keep: 1, vip: true });
    expect((await json(await api('GET', '/v1/customers/meta-2'))).metadata).toEqual({ vip: true });
    // OA /v1/customers/metadata/async: "If a customer object is not found, it is upserted."
    expect((await json(await api('GET', '/v1/customers/ghost'))).metadata).toEqual({ vip: true });
  });

  it('refuses an empty source_ids list with not_enough_source_ids', async () => {
    const res = await api('POST', '/v1/customers/metadata/async', { source_ids: [], metadata: { a: 1 } });
    expect(res.status).toBe(400);
    expect((await json(res)).key).toBe('not_enough_source_ids');
  });

  it.each([
    ['more than 100 source ids', { source_ids: Array.from({ length: 101 }, (_, i) => `s${i}`), metadata: {} }, 'source_ids'],
    ['metadata missing', { source_ids: ['a'] }, 'metadata'],
    ['source_ids not an array', { source_ids: 'a', metadata: {} }, 'source_ids'],
  ])('refuses %s with 400 naming the field', async (_, body, field) => {
    const res = await api('POST', '/v1/customers/metadata/async', body);
    expect(res.status).toBe(400);
    expect((await json(res)).details.startsWith(`${field}:`)).toBe(true);
  });
});

describe('GET /v1/async-actions/{id}', () => {
  it('answers 404 for an unknown action', async () => {
    const res = await api('GET', '/v1/async-actions/aa_nope');
    expect(res.status).toBe(404);
    expect(await json(res)).toMatchObject({ key: 'not_found', resource_type: 'async_action' });
  });

  it('reads an action stored with the old PARTIAL_SUCCESS as SUCCESS, within the OA enum (OA:L1432)', async () => {
    const { async_action_id: id } = await json(await api('POST', '/v1/customers/bulk/async', [{ source_id: 'legacy-1' }]));
    await env.DB.prepare("UPDATE async_actions SET operation_status = 'PARTIAL_SUCCESS' WHERE id = ?").bind(id).run();
    expect((await action(id)).operation_status).toBe('SUCCESS');
  });
});

describe('GET /v1/async-actions', () => {
  it('lists actions newest first in the OA envelope, without results, honouring limit and end_date', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await json(await api('POST', '/v1/customers/bulk/async', [{ source_id: `list-${i}` }]))).async_action_id);
      await new Promise((r) => setTimeout(r, 5));
    }
    const res = await api('GET', '/v1/async-actions?limit=2');
    expect(res.status).toBe(200);
    const list = await json(res);
    // OA AsyncActionsListResponseBody (OA:L1806) and the "List Async Actions" example (OA:L62704):
    // {object:'list', data_ref:'async_actions', async_actions: AsyncActionBase[]}; no result.
    expect(list).toMatchObject({ object: 'list', data_ref: 'async_actions', has_more: true });
    expect(list.async_actions.map((a: any) => a.id)).toEqual([ids[2], ids[1]]);
    expect(list.async_actions[0]).toMatchObject({
      type: 'CUSTOMERS.BULK_UPDATE',
      status: 'DONE',
      operation_status: 'SUCCESS',
      progress: 100,
      object: 'async_action',
    });
    expect(list.async_actions[0]).not.toHaveProperty('result');

    // end_date: "Limits results to actions scheduled before the end_date" (OA list-async-actions).
    const third = await action(ids[2] as string);
    const before = await json(await api('GET', `/v1/async-actions?limit=100&end_date=${encodeURIComponent(third.created_at)}`));
    expect(before.async_actions.map((a: any) => a.id)).not.toContain(ids[2]);
    expect(before.async_actions.map((a: any) => a.id)).toContain(ids[1]);
  });

  it.each([['limit=0'], ['limit=101'], ['end_date=yesterday']])('refuses %s with 400 invalid_query_params', async (qs) => {
    const res = await api('GET', `/v1/async-actions?${qs}`);
    expect(res.status).toBe(400);
    expect((await json(res)).key).toBe('invalid_query_params');
  });
});

describe('an import whose chunks are not written', () => {
  it('reads as FAILED once its progress has not moved for thirty minutes', async () => {
    const { async_action_id: id } = await json(await api('POST', '/v1/customers/bulk/async', [{ source_id: 'stall-1' }]));
    const old = Date.now() - 31 * 60_000;
    // As a CSV import looks when its chunks were lost: IN_PROGRESS, untouched since.
    await env.DB.prepare("UPDATE async_actions SET status = 'IN_PROGRESS', updated_at = ? WHERE id = ?").bind(old, id).run();
    const stalled = await action(id);
    expect(stalled).toMatchObject({ status: 'FAILED', operation_status: 'FAILED' });
    expect(stalled.result.error).toMatch(/stopped before it finished/);
    await env.DB.prepare('UPDATE async_actions SET updated_at = ? WHERE id = ?').bind(Date.now(), id).run();
    expect((await action(id)).status).toBe('IN_PROGRESS');
  });
});
