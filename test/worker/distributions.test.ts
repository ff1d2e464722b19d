import { beforeAll, describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import * as distributionsDb from '../../worker/src/db/distributions';
import { memberOf } from '../../worker/src/db/segments';
import type { WriteMessage } from '../../worker/src/queue/messages';
import { parseCsv } from '../../worker/src/lib/csv';
import { api, call, capturingQueue, deliver, eventually, json, SERVER_HEADERS } from './helpers';

/**
 * Segment-wide distribution. The spec has no call that publishes to a segment
 * (readOnly-openAPI.json paths hold only /v1/publications and /v1/publications/create), so
 * POST /v1/publications/segment is ours: 202 with `async_action_id`, as the OA's bulk calls answer
 * (CampaignsImportCreateResponseBody). A member without a free code fails with the OA's
 * `no_voucher_suitable_for_publication` (OpenAPI24.json:L66933). The CSV: exported_object
 * 'publication' (OA ExportPublicationBase; fields from ExportPublicationFields: voucher_code,
 * customer_id, customer_source_id, date, channel, campaign, is_winner, metadata).
 */

type Json = Record<string, any>;
const discount = { type: 'AMOUNT', amount_off: 500 };
const CUSTOMERS = 400;
const BASE = Date.parse('2025-01-01T00:00:00Z');
/** Every fourth customer is not a member: 300 members. */
const memberIds = Array.from({ length: CUSTOMERS }, (_, i) => i + 1)
  .filter((i) => i % 4 !== 0)
  .map((i) => `cust_dist${String(i).padStart(5, '0')}`);
let segmentId = '';

async function campaign(name: string, count: number, extra: Json = {}): Promise<Json> {
  const res = await api('POST', '/v1/campaigns', {
    name,
    vouchers_count: count,
    voucher: { discount, redemption: { quantity: 1 } },
    ...extra,
  });
  expect(res.status).toBe(200);
  const created = await json(res);
  return eventually(
    async () => {
      const c = await json(await api('GET', `/v1/campaigns/${created.id}`));
      return c.vouchers_generation_status === 'DONE' ? c : undefined;
    },
    30_000,
    `generation of ${name}`,
  );
}

async function action(id: string): Promise<Json> {
  return json(await api('GET', `/v1/async-actions/${id}`));
}

const finished = (id: string) =>
  eventually(
    async () => {
      const a = await action(id);
      return a.status === 'IN_PROGRESS' ? undefined : a;
    },
    60_000,
    `distribution ${id}`,
  );

/** Every publication of a campaign, straight from D1: customer id and code. */
async function publicationsOf(campaignId: string): Promise<{ customer_id: string; code: string; distribution_id: string | null }[]> {
  const { results } = await env.DB.prepare(
    'SELECT p.customer_id, v.code, p.distribution_id FROM publications p JOIN vouchers v ON v.id = p.voucher_id WHERE p.campaign_id = ? ORDER BY p.customer_id',
  )
    .bind(campaignId)
    .all<{ customer_id: string; code: string; distribution_id: string | null }>();
  return results;
}

beforeAll(async () => {
  await env.DB.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
     INSERT INTO customers (id, source_id, email, metadata, created_at)
     SELECT printf('cust_dist%05d', i), 'lapsed-' || i, 'l' || i || '@example.com', '{}', ? + i * 1000 FROM n`,
  )
    .bind(CUSTOMERS, BASE)
    .run();
  const res = await api('POST', '/v1/segments', { name: 'Lapsed buyers', type: 'static', customers: memberIds });
  expect(res.status).toBe(200);
  segmentId = (await json(res)).id;
});

describe('POST /v1/publications/segment', () => {
  it('publishes one distinct code to each of 300 members through the queue, with progress and counts', async () => {
    const c = await campaign('Lapsed 15', 350);
    const res = await api('POST', '/v1/publications/segment', { campaign: 'Lapsed 15', segment: segmentId });
    expect(res.status).toBe(202);
    const { async_action_id } = await json(res);
    expect(async_action_id).toMatch(/^aa_/);
    const done = await finished(async_action_id);
    expect(done).toMatchObject({
      type: 'CAMPAIGN.VOUCHERS_PUBLISH',
      status: 'DONE',
      operation_status: 'SUCCESS',
      progress: 100,
      result: { done_count: 300, skipped_count: 0, failed_count: 0, errors: [], campaign_id: c.id, segment_id: segmentId },
    });
    const pubs = await publicationsOf(c.id);
    expect(pubs.map((p) => p.customer_id)).toEqual([...memberIds].sort());
    expect(new Set(pubs.map((p) => p.code)).size).toBe(300);
    // Each code's holder is the member it went to (the holder-only rule reads this).
    const { results } = await env.DB.prepare('SELECT code, holder_id FROM vouchers WHERE campaign_id = ? AND holder_id IS NOT NULL')
      .bind(c.id)
      .all<{ code: string; holder_id: string }>();
    expect(new Map(results.map((r) => [r.code, r.holder_id]))).toEqual(new Map(pubs.map((p) => [p.code, p.customer_id])));
    // GET /v1/publications lists them (OA PublicationsListResponseBody).
    const list = await json(await api('GET', `/v1/publications?campaign=${encodeURIComponent('Lapsed 15')}&limit=1`));
    expect(list.total).toBe(300);

    // OA Voucher.publish.count (readOnly-openAPI.json:L13339, "Publication events counter"): 1 per handed-out code.
    const first = pubs[0] as { customer_id: string; code: string };
    expect((await json(await api('GET', `/v1/vouchers/${first.code}`))).publish).toMatchObject({ object: 'list', count: 1 });
    // GET /v1/redemptions?campaign= (OA: "the campaign **name** that the redemption resources originate from").
    const redeemed = await api('POST', `/v1/vouchers/${first.code}/redemption`, {
      customer: { id: first.customer_id },
      order: { amount: 10_000 },
    });
    expect(redeemed.status).toBe(200);
    const redemption = await json(redeemed);
    const byCampaign = await json(await api('GET', `/v1/redemptions?campaign=${encodeURIComponent('Lapsed 15')}`));
    expect(byCampaign.redemptions.map((r: Json) => r.id)).toEqual([redemption.id]);
    expect((await json(await api('GET', '/v1/redemptions?campaign=Twice'))).total).toBe(0);
    const byName = await json(
      await api('GET', `/v1/redemptions?filters[campaign_name][conditions][$is]=${encodeURIComponent('Lapsed 15')}`),
    );
    expect(byName.total).toBe(1);
    const byParent = await json(await api('GET', `/v1/redemptions?filters[related_object_parent_id][conditions][$is]=${c.id}`));
    expect(byParent.total).toBe(1);
  });

  it('a redelivered message and a step run twice publish nothing twice', async () => {
    const c = await campaign('Twice', 400);
    const captured = capturingQueue();
    const queue = captured as unknown as Queue<WriteMessage>;
    const res = await call(
      '/v1/publications/segment',
      {
        method: 'POST',
        headers: { ...SERVER_HEADERS, 'content-type': 'application/json' },
        body: JSON.stringify({ campaign: c.id, segment: segmentId }),
      },
      { WRITES: queue },
    );
    expect(res.status).toBe(202);
    const { async_action_id } = await json(res);
    const [first] = captured.sent;
    expect(first).toMatchObject({ kind: 'distribution', distribution_id: async_action_id });
    // The same message delivered twice at once (two consumers), then again after the end.
    await Promise.all([deliver([first as WriteMessage], { WRITES: queue }), deliver([first as WriteMessage], { WRITES: queue })]);
    for (let i = 0; i < 20 && (await action(async_action_id)).status === 'IN_PROGRESS'; i++)
      await deliver([first as WriteMessage], { WRITES: queue });
    await deliver([first as WriteMessage], { WRITES: queue });
    expect((await action(async_action_id)).result).toMatchObject({ done_count: 300, failed_count: 0, skipped_count: 0 });
    const pubs = await publicationsOf(c.id);
    expect(pubs).toHaveLength(300);
    expect(new Set(pubs.map((p) => p.customer_id)).size).toBe(300);
    expect(new Set(pubs.map((p) => p.code)).size).toBe(300);

    // A step's batch run again from the state it started from (a runner that read the cursor
    // before another committed the same step) changes nothing: its statements hold only at that cursor.
    const d = (await distributionsDb.findDistribution(env.DB, async_action_id)) as distributionsDb.DistributionRow;
    const stale = { ...d, status: 'IN_PROGRESS' as const, cursor: Number.MIN_SAFE_INTEGER };
    const results = await env.DB.batch(
      distributionsDb.distributionStepStatements(env.DB, {
        distribution: stale,
        members: memberOf(segmentId),
        range: { after: stale.cursor, size: 1000, descending: false },
        now: Date.now(),
      }),
    );
    expect(results.at(-1)?.results).toEqual([]);
    expect(await publicationsOf(c.id)).toHaveLength(300);
    expect(await distributionsDb.findDistribution(env.DB, async_action_id)).toEqual(d);
  });

  it('a STATIC campaign with fewer codes than members: the rest fail with no_voucher_suitable_for_publication; join_once skips holders', async () => {
    const c = await campaign('Short', 120, { type: 'STATIC', join_once: true });
    // One member holds a code of the campaign already: join_once skips them.
    const single = await api('POST', '/v1/publications', { campaign: { name: 'Short' }, customer: { id: memberIds[0] } });
    expect(single.status).toBe(200);
    const res = await api('POST', '/v1/publications/segment', { campaign: { name: 'Short' }, segment: { id: segmentId } });
    expect(res.status).toBe(202);
    const done = await finished((await json(res)).async_action_id);
    expect(done.status).toBe('DONE');
    expect(done.operation_status).toBe('SUCCESS');
    expect(done.result).toMatchObject({ done_count: 119, skipped_count: 1, failed_count: 180 });
    expect(done.result.errors).toEqual([
      {
        key: 'no_voucher_suitable_for_publication',
        message: "Couldn't find any voucher suitable for publication",
        details: expect.stringContaining('180 member(s)'),
        source_id: '',
      },
    ]);
    const pubs = await publicationsOf(c.id);
    expect(pubs).toHaveLength(120);
    expect(new Set(pubs.map((p) => p.customer_id)).size).toBe(120);
    expect(new Set(pubs.map((p) => p.code)).size).toBe(120);
  });

  it('an AUTO_UPDATE campaign makes the codes its members need', async () => {
    const c = await campaign('Grows', 10, { type: 'AUTO_UPDATE' });
    const res = await api('POST', '/v1/publications/segment', { campaign: c.id, segment: segmentId });
    const done = await finished((await json(res)).async_action_id);
    expect(done.result).toMatchObject({ done_count: 300, failed_count: 0 });
    expect(new Set((await publicationsOf(c.id)).map((p) => p.code)).size).toBe(300);
  });

  it("exports the result as CSV: exported_object 'publication' filtered by the campaign, one row per publication", async () => {
    const c = await campaign('Exported', 300);
    const started = await api('POST', '/v1/publications/segment', { campaign: 'Exported', segment: segmentId });
    await finished((await json(started)).async_action_id);
    const res = await api('POST', '/v1/exports', {
      exported_object: 'publication',
      parameters: {
        fields: ['customer_source_id', 'customer_id', 'voucher_code', 'campaign', 'date'],
        filters: { campaign_id: { conditions: { $is: [c.id] } } },
      },
    });
    expect(res.status).toBe(200);
    const exp = await json(res);
    // OA ExportPublicationBase: exported_object 'publication'; the fields echo the request.
    expect(exp).toMatchObject({
      object: 'export',
      exported_object: 'publication',
      // The create answer's only status (readOnly-openAPI.json L10527 ExportScheduledBase).
      status: 'SCHEDULED',
      parameters: { fields: ['customer_source_id', 'customer_id', 'voucher_code', 'campaign', 'date'] },
    });
    const url = new URL(exp.result.url);
    const csv = await call(url.pathname + url.search);
    expect(csv.status).toBe(200);
    const [header, ...rows] = [...parseCsv(await csv.text())].map((r) => (r as { fields: string[] }).fields);
    expect(header).toEqual(['customer_source_id', 'customer_id', 'voucher_code', 'campaign', 'date']);
    const pubs = await publicationsOf(c.id);
    expect(rows.map((r) => `${r[1]} ${r[2]}`).sort()).toEqual(pubs.map((p) => `${p.customer_id} ${p.code}`).sort());
    expect(rows.every((r) => r[0] === `lapsed-${Number(String(r[1]).slice('cust_dist'.length))}` && r[3] === 'Exported')).toBe(true);
    // The OA's defaults for a publication export (POST /v1/exports description): code, customer_id, date, channel.
    const plain = await json(await api('POST', '/v1/exports', { exported_object: 'publication' }));
    expect(plain.parameters.fields).toEqual(['voucher_code', 'customer_id', 'date', 'channel']);
    const bad = await api('POST', '/v1/exports', { exported_object: 'publication', parameters: { fields: ['code', 'nope'] } });
    expect(bad.status).toBe(400);
    expect((await json(bad)).key).toBe('invalid_export_fields');
  });

  it('ends FAILED, saying why, when the segment is deleted before the walk', async () => {
    const c = await campaign('Orphan', 5);
    const seg = await json(await api('POST', '/v1/segments', { name: 'gone soon', type: 'static', customers: memberIds.slice(0, 3) }));
    const captured = capturingQueue();
    const queue = captured as unknown as Queue<WriteMessage>;
    const res = await call(
      '/v1/publications/segment',
      {
        method: 'POST',
        headers: { ...SERVER_HEADERS, 'content-type': 'application/json' },
        body: JSON.stringify({ campaign: c.id, segment: seg.id }),
      },
      { WRITES: queue },
    );
    const { async_action_id } = await json(res);
    expect((await api('DELETE', `/v1/segments/${seg.id}`)).status).toBe(204);
    await deliver(captured.sent, { WRITES: queue });
    const a = await action(async_action_id);
    expect(a).toMatchObject({
      status: 'FAILED',
      operation_status: 'FAILED',
      progress: 100,
      result: { done_count: 0, errors: [{ key: 'not_found' }] },
    });
    expect(await publicationsOf(c.id)).toEqual([]);
  });

  it('refuses an unknown campaign or segment (404) and a bad body (400) before any work', async () => {
    await campaign('Known', 1);
    const unknownSegment = await api('POST', '/v1/publications/segment', { campaign: 'Known', segment: 'seg_nope' });
    expect(unknownSegment.status).toBe(404);
    expect(await json(unknownSegment)).toMatchObject({ key: 'not_found', resource_type: 'segment' });
    const unknownCampaign = await api('POST', '/v1/publications/segment', { campaign: 'Nope', segment: segmentId });
    expect(unknownCampaign.status).toBe(404);
    // The server key only (the client key is public).
    const anonymous = await call('/v1/publications/segment', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ campaign: 'Known', segment: segmentId }),
    });
    expect(anonymous.status).toBe(401);
    const bad = await api('POST', '/v1/publications/segment', { campaign: 'Known' });
    expect(bad.status).toBe(400);
    expect((await json(bad)).details).toContain('segment');
  });
});
