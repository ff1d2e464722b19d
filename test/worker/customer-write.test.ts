import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { api, json } from './helpers';

// The customer-write pipeline keeps the auto-update segments parsed per isolate, keyed by a version
// that migration 0009's triggers replace on every segment change. These tests race segment changes
// against customer writes in one isolate: the cache must never judge with a segment list older than
// the version the write read.

const members = async (segmentId: string) =>
  (await json(await api('GET', `/v1/customers?segment_id=${segmentId}&limit=100`))).customers.map(
    (c: { source_id: string }) => c.source_id,
  );

const version = async () =>
  (await env.DB.prepare("SELECT version FROM definition_versions WHERE name = 'segments'").first<{ version: string }>())?.version;

describe('the cached auto-update segments', () => {
  it('a segment created after the cache was filled is applied by the very next customer write', async () => {
    const a = await json(
      await api('POST', '/v1/segments', { name: 'cw-a', type: 'auto-update', filter: { 'metadata.tier': { conditions: { $is: ['a'] } } } }),
    );
    // This write fills the isolate's cache with [a].
    await api('POST', '/v1/customers', { source_id: 'cw-1', metadata: { tier: 'a' } });
    expect(await members(a.id)).toEqual(['cw-1']);

    const b = await json(
      await api('POST', '/v1/segments', { name: 'cw-b', type: 'auto-update', filter: { 'metadata.tier': { conditions: { $is: ['b'] } } } }),
    );
    await api('POST', '/v1/customers', { source_id: 'cw-2', metadata: { tier: 'b' } });
    expect(await members(b.id)).toEqual(['cw-2']);
    // The move out of b is seen too (the membership diff of the new segment ran).
    await api('PUT', '/v1/customers/cw-2', { metadata: { tier: 'a' } });
    expect(await members(b.id)).toEqual([]);
    expect((await members(a.id)).sort()).toEqual(['cw-1', 'cw-2']);
  });

  it('a deleted segment is no longer refreshed, and writes go on', async () => {
    const gone = await json(
      await api('POST', '/v1/segments', {
        name: 'cw-gone',
        type: 'auto-update',
        filter: { 'metadata.tier': { conditions: { $is: ['g'] } } },
      }),
    );
    await api('POST', '/v1/customers', { source_id: 'cw-3', metadata: { tier: 'g' } });
    expect((await api('DELETE', `/v1/segments/${gone.id}`)).status).toBe(204);
    const res = await api('PUT', '/v1/customers/cw-3', { metadata: { tier: 'x' } });
    expect(res.status).toBe(200);
    const rows = await env.DB.prepare('SELECT count(*) AS n FROM segment_members WHERE segment_id = ?')
      .bind(gone.id)
      .first<{ n: number }>();
    expect(rows?.n).toBe(0);
  });

  it('every segment change replaces the version; customer writes leave it alone', async () => {
    const v0 = await version();
    await api('POST', '/v1/customers', { source_id: 'cw-4' });
    expect(await version()).toBe(v0);
    const seg = await json(
      await api('POST', '/v1/segments', { name: 'cw-v', type: 'auto-update', filter: { name: { conditions: { $is: ['x'] } } } }),
    );
    const v1 = await version();
    expect(v1).not.toBe(v0);
    await api('DELETE', `/v1/segments/${seg.id}`);
    const v2 = await version();
    expect(v2).not.toBe(v1);
    // A random token, not a counter: another database never holds the same value by chance.
    expect(v2).toMatch(/^[0-9a-f]{32}$/);
  });
});
