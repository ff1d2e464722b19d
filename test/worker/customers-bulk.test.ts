import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { api, json } from './helpers';

const count = async () =>
  (await env.DB.prepare('SELECT count(*) AS n FROM customers').first<{ n: number }>())?.n ?? -1;

async function action(id: string) {
  const res = await api('GET', `/v1/async-actions/${id}`);
  expect(res.status).toBe(200);
  return json(res);
}

describe('POST /v1/customers/bulk/async', () => {
  it('upserts every record and reports each one', async () => {
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
    expect(a).toMatchObject({
      id: async_action_id,
      type: 'CUSTOMERS.BULK_UPDATE',
      status: 'DONE',
      operation_status: 'SUCCESS',
      progress: 100,
      object: 'async_action',
      result: { done_count: 3, failed_count: 0, failed: [] },
    });
    expect(a.result.results[0]).toEqual({ row: 0, customer_id: existing.id, status: 'UPDATED' });
    expect(a.result.results[1]).toMatchObject({ row: 1, status: 'CREATED' });
    const updated = await json(await api('GET', '/v1/customers/bulk-0'));
    expect(updated).toMatchObject({ name: 'New', metadata: { plan: 'pro' } });
    expect((await json(await api('GET', '/v1/customers/bulk-2'))).address.city).toBe('Lyon');
  });

  it.each([
    ['more than 100 records', Array.from({ length: 101 }, (_, i) => ({ source_id: `x-${i}` })), ''],
    ['an empty array', [], ''],
    ['a body that is not an array', { source_id: 'x' }, ''],
    ['a record without source_id', [{ source_id: 'ok' }, { name: 'no id' }], '[1].source_id'],
    ['a record with a bad email', [{ source_id: 'ok' }, { source_id: 'y', email: 'nope' }], '[1].email'],
  ])('refuses %s with 400 and writes nothing', async (_, body, field) => {
    const before = await count();
    const res = await api('POST', '/v1/customers/bulk/async', body);
    expect(res.status).toBe(400);
    const err = await json(res);
    expect(err.key).toBe('invalid_payload');
    if (field) expect(err.details.startsWith(`${field}:`)).toBe(true);
    expect(await count()).toBe(before);
  });

  it('accepts exactly 100 records', async () => {
    const res = await api('POST', '/v1/customers/bulk/async', Array.from({ length: 100 }, (_, i) => ({ source_id: `hundred-${i}` })));
    expect(res.status).toBe(202);
    expect((await action((await json(res)).async_action_id)).result.done_count).toBe(100);
  });
});

describe('POST /v1/customers/metadata/async', () => {
  it('merges metadata into the customers found and reports the unknown source ids', async () => {
    await api('POST', '/v1/customers', { source_id: 'meta-1', metadata: { keep: 1, drop: true } });
    await api('POST', '/v1/customers', { source_id: 'meta-2' });
    const res = await api('POST', '/v1/customers/metadata/async', {
      source_ids: ['meta-1', 'ghost', 'meta-2'],
      metadata: { vip: true, drop: null },
    });
    expect(res.status).toBe(202);
    const a = await action((await json(res)).async_action_id);
    expect(a).toMatchObject({
      type: 'CUSTOMERS.METADATA_UPDATE',
      operation_status: 'PARTIAL_SUCCESS',
      result: { done_count: 2, failed_count: 1, failed: [{ row: 1, source_id: 'ghost', reason: 'customer not found' }] },
    });
    expect((await json(await api('GET', '/v1/customers/meta-1'))).metadata).toEqual({ keep: 1, vip: true });
    expect((await json(await api('GET', '/v1/customers/meta-2'))).metadata).toEqual({ vip: true });
    expect((await api('GET', '/v1/customers/ghost')).status).toBe(404);
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
});

describe('an import cut off by the Worker limit', () => {
  it('reads as FAILED once its progress has not moved for five minutes', async () => {
    const { async_action_id: id } = await json(await api('POST', '/v1/customers/bulk/async', [{ source_id: 'stall-1' }]));
    const old = Date.now() - 6 * 60_000;
    // As a CSV import looks when waitUntil was stopped halfway: IN_PROGRESS, untouched since.
    await env.DB.prepare("UPDATE async_actions SET status = 'IN_PROGRESS', updated_at = ? WHERE id = ?").bind(old, id).run();
    const stalled = await action(id);
    expect(stalled).toMatchObject({ status: 'FAILED', operation_status: 'FAILED' });
    expect(stalled.result.error).toMatch(/stopped before it finished/);
    await env.DB.prepare('UPDATE async_actions SET updated_at = ? WHERE id = ?').bind(Date.now(), id).run();
    expect((await action(id)).status).toBe('IN_PROGRESS');
  });
});
