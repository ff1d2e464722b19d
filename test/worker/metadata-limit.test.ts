// One size limit for a customer's stored metadata, whichever path writes it. Each request's
// metadata is limited by its schema, but a merge adds to what is stored: without a check of the
// merged result, calls of legal size (Segment group/identify, the metadata bulk update, a CSV
// import's metadata cells) grow a customer's metadata without bound, towards D1's 2 MB row limit
// where every later write of that customer, checkout included, fails; and each customer.updated
// webhook event copies the whole row. Every path here ends over the limit and must leave the
// customer as it was: a 400 in the error shape on a synchronous route, a failed row with its
// reason on the bulk and import paths, the other rows written.
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { WEBHOOK_EVENT_TYPES } from '../../shared/webhook-events';
import { MAX_METADATA_BYTES } from '../../worker/src/schemas/customers';
import { TEST_ENV } from '../test-env';
import { api, call, json, SERVER_HEADERS, ok } from './helpers';

type Json = Record<string, any>;
const db = env.DB;

const storedBytes = async (sourceId: string): Promise<number> =>
  (await db.prepare('SELECT length(CAST(metadata AS BLOB)) AS n FROM customers WHERE source_id = ?').bind(sourceId).first<number>('n')) ??
  -1;
const stored = async (sourceId: string): Promise<Json> =>
  JSON.parse((await db.prepare('SELECT metadata FROM customers WHERE source_id = ?').bind(sourceId).first<string>('metadata')) ?? 'null');

/** A 400 in the Voucherify error shape whose details name the limit. */
async function refusedForSize(res: Response | Promise<Response>): Promise<void> {
  const body = await ok(res, 400);
  expect(body).toMatchObject({ code: 400, key: expect.any(String), message: expect.any(String), request_id: expect.any(String) });
  expect(body.details).toContain(String(MAX_METADATA_BYTES));
}

/** A value whose metadata entry is about `kb` KiB as JSON. */
const filler = (kb: number) => 'x'.repeat(kb * 1024);

/** A customer holding about `kb` KiB of metadata under `key`. */
async function customerWith(sourceId: string, kb: number, key = 'big'): Promise<void> {
  await ok(api('POST', '/v1/customers', { source_id: sourceId, name: 'Metadata Grower', metadata: { [key]: filler(kb) } }));
}

const b64 = (text: string) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));
const segment = (route: string, body: unknown) =>
  call(`/segmentio/${route}`, {
    method: 'POST',
    headers: { authorization: `Basic ${b64(TEST_ENV.APP_ID)}`, 'secret-key': b64(TEST_ENV.APP_TOKEN), 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });

async function importCsv(csv: string): Promise<Json> {
  const form = new FormData();
  form.append('file', new Blob([csv], { type: 'text/csv' }), 'customers.csv');
  const { async_action_id: id } = await ok(call('/v1/customers/importCSV', { method: 'POST', headers: SERVER_HEADERS, body: form }), 202);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = await db.prepare('SELECT status FROM async_actions WHERE id = ?').bind(id).first<string>('status');
    if (status !== 'IN_PROGRESS') break;
    if (Date.now() > deadline) throw new Error(`import ${id} still in progress`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return ok(api('GET', `/v1/async-actions/${id}`));
}

describe("a customer's stored metadata has one size limit on every write path", () => {
  it('POST and PUT /v1/customers: metadata over the limit is a 400, the customer unchanged', async () => {
    await refusedForSize(api('POST', '/v1/customers', { source_id: 'ml-api', metadata: { big: filler(33) } }));
    expect(await storedBytes('ml-api')).toBe(-1);
    await customerWith('ml-api', 1);
    await refusedForSize(api('PUT', '/v1/customers/ml-api', { name: 'Renamed', metadata: { big: filler(33) } }));
    await refusedForSize(api('POST', '/v1/customers', { source_id: 'ml-api', name: 'Renamed', metadata: { big: filler(33) } }));
    expect((await ok(api('GET', '/v1/customers/ml-api'))).name).toBe('Metadata Grower');
    // Up to the limit is fine: a replacement is measured as stored.
    await ok(api('PUT', '/v1/customers/ml-api', { metadata: { big: filler(31) } }));
    expect(await storedBytes('ml-api')).toBeLessThanOrEqual(MAX_METADATA_BYTES);
  });

  it('POST /v1/customers/bulk/async: a record over the limit is a failed row with its reason, the others written', async () => {
    const action = await ok(
      api('POST', '/v1/customers/bulk/async', [
        { source_id: 'ml-bulk-1', metadata: { big: filler(33) } },
        { source_id: 'ml-bulk-2', metadata: { small: 1 } },
      ]),
      202,
    );
    const done = await ok(api('GET', `/v1/async-actions/${action.async_action_id}`));
    expect(done.result).toMatchObject({ done_count: 1, failed_count: 1 });
    expect(done.result.errors[0]).toMatchObject({ source_id: 'ml-bulk-1', details: expect.stringContaining(String(MAX_METADATA_BYTES)) });
    expect(await storedBytes('ml-bulk-1')).toBe(-1);
    expect(await stored('ml-bulk-2')).toEqual({ small: 1 });
  });

  it('POST /v1/customers/metadata/async: a customer whose merged metadata would pass the limit is a failed row, unchanged; the others are merged', async () => {
    await customerWith('ml-merge-full', 20);
    await customerWith('ml-merge-ok', 1);
    const patch = { more: filler(20) };
    const action = await ok(
      api('POST', '/v1/customers/metadata/async', { source_ids: ['ml-merge-full', 'ml-merge-ok', 'ml-merge-new'], metadata: patch }),
      202,
    );
    const done = await ok(api('GET', `/v1/async-actions/${action.async_action_id}`));
    expect(done.result).toMatchObject({ done_count: 2, failed_count: 1 });
    expect(done.result.errors).toEqual([
      {
        source_id: 'ml-merge-full',
        key: 'limit_exceeded',
        message: expect.any(String),
        details: expect.stringContaining(String(MAX_METADATA_BYTES)),
      },
    ]);
    expect(Object.keys(await stored('ml-merge-full'))).toEqual(['big']);
    expect(Object.keys(await stored('ml-merge-ok')).sort()).toEqual(['big', 'more']);
    expect(Object.keys(await stored('ml-merge-new'))).toEqual(['more']);
    // Repeating calls of legal size no longer grow it: each is refused once full.
    for (let i = 0; i < 3; i++) {
      await ok(api('POST', '/v1/customers/metadata/async', { source_ids: ['ml-merge-ok'], metadata: { [`k${i}`]: filler(10) } }), 202);
    }
    expect(await storedBytes('ml-merge-ok')).toBeLessThanOrEqual(MAX_METADATA_BYTES);
  });

  it('a CSV import: a row whose metadata cells would take its customer past the limit is a failed row with its reason; the rows beside it are written', async () => {
    await customerWith('ml-csv-full', 20);
    const result = (
      await importCsv(
        ['source_id,name,notes', `ml-csv-full,Changed Name,${filler(20)}`, 'ml-csv-ok,Fine,short', 'ml-csv-ok2,Fine too,short'].join('\n'),
      )
    ).result;
    expect(result).toMatchObject({ failed_count: 1, created_count: 2 });
    expect(result.failed).toEqual([{ row: 1, source_id: 'ml-csv-full', reason: expect.stringContaining(String(MAX_METADATA_BYTES)) }]);
    // Nothing of the failed row is written, its other cells included.
    expect((await ok(api('GET', '/v1/customers/ml-csv-full'))).name).toBe('Metadata Grower');
    expect(Object.keys(await stored('ml-csv-full'))).toEqual(['big']);
    expect(await stored('ml-csv-ok')).toEqual({ notes: 'short' });
    expect(await stored('ml-csv-ok2')).toEqual({ notes: 'short' });
  });

  it('Segment identify: traits that would take the merged metadata past the limit are a 400, nothing written', async () => {
    await customerWith('ml-identify', 20);
    await refusedForSize(
      segment('customer-processing', { source_id: 'ml-identify', name: 'New Name', metadata: { more: filler(20) }, type: 'identify' }),
    );
    expect((await ok(api('GET', '/v1/customers/ml-identify'))).name).toBe('Metadata Grower');
    expect(Object.keys(await stored('ml-identify'))).toEqual(['big']);
  });

  describe('Segment group, with webhooks on', () => {
    beforeAll(async () => {
      await ok(api('POST', '/v1/webhooks', { url: 'http://127.0.0.1:1/hook', events: [...WEBHOOK_EVENT_TYPES] }));
    });

    it('group calls stop at the limit (a 400 each once full), and no customer.updated snapshot is larger than the bounded row', async () => {
      const id = (await ok(segment('customer-processing', { source_id: 'ml-group', email: 'grow@example.com', type: 'identify' })))
        .id as string;
      const traits = { name: 'Acme', plan: 'enterprise', notes: filler(3) };
      const answers: number[] = [];
      for (let i = 0; i < 15; i++) {
        const res = await segment('group-processing', {
          customer: { source_id: 'ml-group' },
          group_id: `group-${i}`,
          traits,
          type: 'group',
        });
        answers.push(res.status);
        if (res.status === 400) await refusedForSize(res);
        else expect(res.status).toBe(200);
      }
      // About 3 KiB a group: ten fit, the rest are refused.
      expect(answers.filter((s) => s === 200).length).toBe(10);
      expect(answers.slice(10)).toEqual([400, 400, 400, 400, 400]);
      expect(await storedBytes('ml-group')).toBeLessThanOrEqual(MAX_METADATA_BYTES);
      expect(Object.keys((await stored('ml-group')).groups)).toHaveLength(10);

      // The outbox's snapshot of the customer: its metadata (at most the limit, escaped once as a
      // JSON string inside the row) and the other fields (each at most 255 characters).
      const { results } = await db
        .prepare("SELECT length(CAST(snapshot AS BLOB)) AS bytes FROM webhook_outbox WHERE object_id = ? AND type = 'customer.updated'")
        .bind(id)
        .all<{ bytes: number }>();
      expect(results).toHaveLength(10);
      const largest = Math.max(...results.map((r) => r.bytes));
      expect(largest).toBeLessThanOrEqual(MAX_METADATA_BYTES + 8 * 1024);
    });
  });
});
