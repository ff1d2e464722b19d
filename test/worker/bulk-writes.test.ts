import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import {
  bulkWriteTarget,
  DEFAULT_BULK_WRITE_TARGET_MS,
  type PaceLimits,
  WritePacer,
  writeInBatches,
} from '../../worker/src/lib/write-pacer';
import type { ImportChunkMessage, WriteMessage } from '../../worker/src/queue/messages';
import { loadActiveSegments } from '../../worker/src/services/membership';
import { CODE_WRITE_PACE, importCampaignVouchers } from '../../worker/src/services/campaigns';
import type { CampaignImportItem } from '../../worker/src/schemas/campaigns';
import { startCustomerImport } from '../../worker/src/services/customer-import';
import { IMPORT_PACE, IMPORT_SLICE_ROWS, writeImportChunk } from '../../worker/src/services/customer-import-chunks';
import { BULK_UPDATE_PACE, bulkMergeMetadata, bulkUpsertCustomers, METADATA_UPDATE_PACE } from '../../worker/src/services/customers';
import { DISPATCH_PACE, dispatch } from '../../worker/src/services/webhook-delivery';
import type { WebhookMessage, WebhookQueue } from '../../worker/src/queue/webhook-messages';
import { api, call, capturingQueue, deliver, json, SERVER_HEADERS } from './helpers';

// Every bulk writer sizes its D1 batches by time (lib/write-pacer.ts) so that a checkout's redeem
// never waits behind a long one. With BULK_WRITE_TARGET_MS=0 every batch is "too long", so the
// sizes each writer chose are known: its first batch, then halves down to its minimum; with
// "unbounded", each batch is as large as the writer allows. These tests count what reached D1.

/** A statement as it was prepared and bound. */
interface Sent {
  sql: string;
  args: unknown[];
}

/**
 * The real D1, with every batch recorded as the statements it held, and every statement run on its
 * own (nothing is faked: each call goes to D1).
 */
function recordingDb(db: D1Database): { db: D1Database; batches: Sent[][]; singles: Sent[] } {
  const batches: Sent[][] = [];
  const singles: Sent[] = [];
  const sent = new WeakMap<object, Sent>();
  const statement = (s: D1PreparedStatement, info: Sent): D1PreparedStatement => {
    const proxy: D1PreparedStatement = new Proxy(s, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (prop === 'bind')
          return (...args: unknown[]) =>
            statement((value as (...a: unknown[]) => D1PreparedStatement).apply(target, args), { sql: info.sql, args });
        if (prop === 'all' || prop === 'run' || prop === 'first' || prop === 'raw') {
          return (...args: unknown[]) => {
            singles.push(info);
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    sent.set(proxy, info);
    return proxy;
  };
  const wrapped = new Proxy(db, {
    get(target, prop) {
      if (prop === 'prepare') return (sql: string) => statement(target.prepare(sql), { sql, args: [] });
      if (prop === 'batch') {
        return (list: D1PreparedStatement[]) => {
          batches.push(list.map((s) => sent.get(s) ?? { sql: '?', args: [] }));
          return target.batch(list);
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { db: wrapped, batches, singles };
}

/** The batch sizes a 0 ms target gives `total` units: the first batch, then halves down to the minimum. */
function shrinkingSizes(limits: PaceLimits, total: number): number[] {
  const sizes: number[] = [];
  let size = limits.initial;
  for (let left = total; left > 0; left -= sizes.at(-1) as number) {
    sizes.push(Math.min(size, left));
    size = Math.max(limits.min, Math.floor(size / 2));
  }
  return sizes;
}

const count = async (sql: string, ...args: unknown[]) =>
  ((
    await env.DB.prepare(sql)
      .bind(...args)
      .first<{ n: number }>()
  )?.n ?? 0) as number;

const d1Result = (duration: number) => ({ success: true, results: [], meta: { duration } });

describe('the bulk writers’ pacer', () => {
  it('reads BULK_WRITE_TARGET_MS: a number of ms, "unbounded", and the 25 ms default for anything else', () => {
    expect(bulkWriteTarget({})).toBe(DEFAULT_BULK_WRITE_TARGET_MS);
    expect(DEFAULT_BULK_WRITE_TARGET_MS).toBe(25);
    expect(bulkWriteTarget({ BULK_WRITE_TARGET_MS: '40' })).toBe(40);
    expect(bulkWriteTarget({ BULK_WRITE_TARGET_MS: '0' })).toBe(0);
    expect(bulkWriteTarget({ BULK_WRITE_TARGET_MS: 'unbounded' })).toBe(Number.POSITIVE_INFINITY);
    expect(bulkWriteTarget({ BULK_WRITE_TARGET_MS: 'fast' })).toBe(DEFAULT_BULK_WRITE_TARGET_MS);
    expect(bulkWriteTarget({ BULK_WRITE_TARGET_MS: '-5' })).toBe(DEFAULT_BULK_WRITE_TARGET_MS);
  });

  it('sizes the next batch by the D1 time the last one took: halved over the target, doubled under half of it, kept between', async () => {
    const pacer = new WritePacer(20, { initial: 100, min: 10, max: 400 });
    const took = async (ms: number) => pacer.write(pacer.size, async () => [d1Result(ms / 2), d1Result(ms / 2)]);
    await took(30); // over 20
    expect(pacer.size).toBe(50);
    await took(15); // between 10 and 20
    expect(pacer.size).toBe(50);
    await took(4);
    expect(pacer.size).toBe(100);
    for (let i = 0; i < 5; i++) await took(1);
    expect(pacer.size).toBe(400);
    for (let i = 0; i < 9; i++) await took(500);
    expect(pacer.size).toBe(10);
    // A short last batch counts at its time per unit: 5 of 10 units in 8 ms is 16 ms for 10.
    await pacer.write(5, async () => d1Result(8));
    expect(pacer.size).toBe(10);
    expect(pacer.batches).toEqual([100, 50, 50, 100, 200, 400, 400, 400, 400, 200, 100, 50, 25, 12, 10, 10, 10, 5]);
  });

  it('starts an unbounded writer at its maximum; and a batch takes its share when the statements allow only so many batches', async () => {
    const unbounded = new WritePacer(Number.POSITIVE_INFINITY, { initial: 10, min: 1, max: 300 });
    expect(unbounded.size).toBe(300);
    const tiny = new WritePacer(0, { initial: 10, min: 1, max: 300 });
    const slices: number[] = [];
    await writeInBatches(
      tiny,
      Array.from({ length: 100 }, (_, i) => i),
      async (slice) => (slices.push(slice.length), d1Result(0)),
      4,
    );
    // The pacer asks for 10, then 5, 2, 1; four batches must hold 100: 25 each.
    expect(slices).toEqual([25, 25, 25, 25]);
  });
});

describe('a CSV import writes each chunk in parts sized by time', () => {
  /** The chunk messages of a file of `rows` rows with source ids `<prefix>-<i>` (not written yet). */
  async function chunksOf(prefix: string, rows: number) {
    const lines = ['Source_id,Name'];
    for (let i = 0; i < rows; i++) lines.push(`${prefix}-${i},Name ${i}`);
    const queue = capturingQueue();
    const action = await startCustomerImport(env.DB, queue, [new TextEncoder().encode(lines.join('\n'))], `v-${prefix}`);
    return { action, chunks: queue.sent as ImportChunkMessage[] };
  }

  /** The rows each part of a chunk wrote, in slice order (a part's counts sit on its first slice's marker). */
  async function partRows(chunkId: string): Promise<number[]> {
    const { results } = await env.DB.prepare(
      `SELECT created + updated + unchanged + json_array_length(failed) AS n FROM import_chunks
       WHERE id > ?1 || '/' AND id < ?1 || '0' AND created + updated + unchanged + json_array_length(failed) > 0 ORDER BY id`,
    )
      .bind(chunkId)
      .all<{ n: number }>();
    return results.map((r) => r.n);
  }

  it('a 0 ms target writes the first part at the first size, then halves down to one slice, each part one D1 batch; every row once', async () => {
    const ROWS = 1_120; // 22 full slices and one of 20 rows
    const { action, chunks } = await chunksOf('paced', ROWS);
    expect(chunks).toHaveLength(1);
    const { db, batches } = recordingDb(env.DB);
    await deliver(chunks, { DB: db, BULK_WRITE_TARGET_MS: '0' });

    const slices = Math.ceil(ROWS / IMPORT_SLICE_ROWS);
    const expected = shrinkingSizes(IMPORT_PACE, slices).map((n) => n * IMPORT_SLICE_ROWS);
    expected.push((expected.pop() ?? 0) - (slices * IMPORT_SLICE_ROWS - ROWS)); // the last slice is short
    expect(expected.slice(0, 4)).toEqual([500, 250, 100, 50]);
    expect(await partRows(chunks[0]!.id)).toEqual(expected);
    // One D1 batch per part: each upsert statement carries exactly its part's rows.
    const upserts = batches.flatMap((b) => b.filter((s) => s.sql.includes('ON CONFLICT (source_id) DO UPDATE')));
    expect(upserts.map((s) => (JSON.parse(s.args[1] as string) as unknown[]).length)).toEqual(expected);
    expect(batches.filter((b) => b.some((s) => s.sql.includes('ON CONFLICT (source_id) DO UPDATE')))).toHaveLength(expected.length);

    const done = await json(await api('GET', `/v1/async-actions/${action.id}`));
    expect(done).toMatchObject({ status: 'DONE', result: { total_count: ROWS, done_count: ROWS, created_count: ROWS, failed_count: 0 } });
    expect(await count("SELECT count(*) AS n FROM customers WHERE source_id LIKE 'paced-%'")).toBe(ROWS);
  });

  it('an unbounded target writes a whole chunk in one batch, as before parts were sized', async () => {
    const { action, chunks } = await chunksOf('whole', 1_120);
    const { db, batches } = recordingDb(env.DB);
    await deliver(chunks, { DB: db, BULK_WRITE_TARGET_MS: 'unbounded' });
    expect(await partRows(chunks[0]!.id)).toEqual([1_120]);
    expect(batches.filter((b) => b.some((s) => s.sql.includes('ON CONFLICT (source_id) DO UPDATE')))).toHaveLength(1);
    expect((await json(await api('GET', `/v1/async-actions/${action.id}`))).result).toMatchObject({
      done_count: 1_120,
      created_count: 1_120,
    });
  });

  it('a chunk stopped between parts, then run twice at once with different part sizes, writes and counts each row once', async () => {
    const ROWS = 1_000; // one chunk
    const taken = await json(await api('POST', '/v1/customers', { source_id: 'overlap-taken', name: 'Holder' }));
    const lines = ['Id,Source_id,Name'];
    for (let i = 0; i < ROWS; i++)
      lines.push(
        i === 777
          ? `,,Fresh ${i}`
          : i === 901
            ? `${(await json(await api('POST', '/v1/customers', { name: 'By id' }))).id},overlap-taken,Moved`
            : `,overlap-${i},Name ${i}`,
      );
    const queue = capturingQueue();
    const action = await startCustomerImport(env.DB, queue, [new TextEncoder().encode(lines.join('\n'))], 'v-overlap');
    expect(queue.sent).toHaveLength(1);
    const [chunk] = queue.sent as [ImportChunkMessage];
    const segments = () => loadActiveSegments(env.DB);

    // A delivery whose statement allowance ends after a few parts: it asks to run again.
    const stopped = await writeImportChunk(env.DB, chunk, segments, { statements: 40 }, new WritePacer(0, IMPORT_PACE));
    expect(stopped).toEqual({ retryAfterSeconds: 0 });
    const written = await count("SELECT count(*) AS n FROM customers WHERE source_id LIKE 'overlap-%' AND source_id <> 'overlap-taken'");
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(ROWS - 2);

    // Two runners at once, one in the smallest parts, one in the largest: slices collide, never overlap.
    await Promise.all([
      deliver([chunk as WriteMessage], { BULK_WRITE_TARGET_MS: '0' }),
      deliver([chunk as WriteMessage], { BULK_WRITE_TARGET_MS: 'unbounded' }),
    ]);
    await deliver([chunk as WriteMessage]);
    const result = (await json(await api('GET', `/v1/async-actions/${action.id}`))).result;
    expect(result).toMatchObject({ total_count: ROWS, done_count: ROWS - 1, created_count: ROWS - 1, updated_count: 0, failed_count: 1 });
    expect(result.failed).toEqual([
      { row: 902, source_id: 'overlap-taken', reason: 'source_id overlap-taken already belongs to another customer' },
    ]);
    expect(await count("SELECT count(*) AS n FROM customers WHERE source_id LIKE 'overlap-%' AND source_id <> 'overlap-taken'")).toBe(
      ROWS - 2,
    );
    expect(await count("SELECT count(*) AS n FROM customers WHERE name = 'Fresh 777'")).toBe(1);
    expect(await count('SELECT chunks_done AS n FROM customer_imports WHERE action_id = ?', action.id)).toBe(1);
    expect((await json(await api('GET', `/v1/customers/${taken.id}`))).name).toBe('Holder');
  });
});

describe('bulk and metadata updates write in batches sized by time', () => {
  const upserted = (batch: Sent[]) => batch.filter((s) => s.sql.trimStart().startsWith('INSERT INTO customers')).length;
  /** The batches that write customers (not the read of the active segments, when it is not cached). */
  const writing = (batches: Sent[][]) => batches.filter((b) => upserted(b) > 0);
  const reportsAction = (batch: Sent[]) => batch.some((s) => s.sql.trimStart().startsWith('INSERT INTO async_actions'));

  it('a bulk update of 300 customers goes in the sizes the pacer chose, its action with the last batch only', async () => {
    const records = Array.from({ length: 300 }, (_, i) => ({ source_id: `bulk-paced-${i}`, name: `Bulk ${i}` }));
    const { db, batches: all } = recordingDb(env.DB);
    const action = await bulkUpsertCustomers(db, records, 'v-bulk-paced', { BULK_WRITE_TARGET_MS: '0' });
    const batches = writing(all);
    expect(batches.map(upserted)).toEqual(shrinkingSizes(BULK_UPDATE_PACE, 300));
    expect(batches.map(reportsAction)).toEqual(batches.map((_, i) => i === batches.length - 1));
    expect(await count("SELECT count(*) AS n FROM customers WHERE source_id LIKE 'bulk-paced-%'")).toBe(300);
    expect(await json(await api('GET', `/v1/async-actions/${action.id}`))).toMatchObject({
      status: 'DONE',
      result: { done_count: 300, failed_count: 0 },
    });

    const { db: whole, batches: once } = recordingDb(env.DB);
    await bulkUpsertCustomers(whole, records, 'v-bulk-whole', { BULK_WRITE_TARGET_MS: 'unbounded' });
    expect(writing(once).map(upserted)).toEqual([300]);
  });

  it('a metadata update of 100 source ids goes in the sizes the pacer chose, its action with the last batch only', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => `meta-paced-${i}`);
    const { db, batches: all } = recordingDb(env.DB);
    const action = await bulkMergeMetadata(db, ids, { tier: 'gold' }, 'v-meta-paced', { BULK_WRITE_TARGET_MS: '0' });
    const batches = writing(all);
    expect(batches.map(upserted)).toEqual(shrinkingSizes(METADATA_UPDATE_PACE, 100));
    expect(batches.length).toBeGreaterThan(2);
    expect(batches.map(reportsAction)).toEqual(batches.map((_, i) => i === batches.length - 1));
    expect(await count("SELECT count(*) AS n FROM customers WHERE source_id LIKE 'meta-paced-%' AND metadata ->> 'tier' = 'gold'")).toBe(
      100,
    );
    expect(await json(await api('GET', `/v1/async-actions/${action.id}`))).toMatchObject({ status: 'DONE', result: { done_count: 100 } });
  });

  it('a bulk update never sends more D1 statements than one invocation allows, however many auto-update segments each batch refreshes', async () => {
    for (let i = 0; i < 30; i++) {
      const res = await api('POST', '/v1/segments', {
        name: `bulk refresh ${i}`,
        type: 'auto-update',
        filter: { 'metadata.n': { conditions: { $is: [String(i)] } } },
      });
      expect(res.status).toBe(200);
    }
    const records = Array.from({ length: 500 }, (_, i) => ({ source_id: `bulk-many-${i}`, metadata: { n: String(i % 30) } }));
    const { db, batches } = recordingDb(env.DB);
    await bulkUpsertCustomers(db, records, 'v-bulk-many', { BULK_WRITE_TARGET_MS: '0' });
    expect(batches.flat().length).toBeLessThanOrEqual(1_000);
    // A batch's membership refresh is 7 statements however many segments it judges, so the batches
    // keep the sizes the pacer asks for (100, then 50, …) and stay within the invocation's queries.
    expect(writing(batches).map(upserted)).toEqual(shrinkingSizes(BULK_UPDATE_PACE, 500));
    expect(
      await count("SELECT count(*) AS n FROM segment_members m JOIN segments s ON s.id = m.segment_id WHERE s.name = 'bulk refresh 7'"),
    ).toBe(17);
  });
});

describe('code generation, segment distributions and the webhook fan-out write in batches sized by time', () => {
  const discount = { type: 'PERCENT', percent_off: 10 };

  it('generates a campaign’s codes in the sizes the pacer chose', async () => {
    const queue = capturingQueue();
    const res = await call(
      '/v1/campaigns',
      {
        method: 'POST',
        headers: { ...SERVER_HEADERS, 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'Paced codes',
          campaign_type: 'DISCOUNT_COUPONS',
          vouchers_count: 2_000,
          voucher: { type: 'DISCOUNT_VOUCHER', discount, code_config: { length: 10 } },
        }),
      },
      { WRITES: queue as unknown as Queue<WriteMessage> },
    );
    expect(res.status).toBe(200);
    const { db, batches } = recordingDb(env.DB);
    await deliver(queue.sent, { DB: db, BULK_WRITE_TARGET_MS: '0' });
    expect(batches.every((b) => b[1]?.sql.includes('generated_count'))).toBe(true);
    // The candidates of each chunk: the pacer's size, or what is left (+10% and 64 spare).
    const candidates = batches.map((b) => (JSON.parse(b[0]!.args[3] as string) as unknown[]).length);
    expect(candidates.slice(0, 4)).toEqual([1_000, 500, 250, 125]);
    expect(candidates.slice(4).every((n) => n <= CODE_WRITE_PACE.min)).toBe(true);
    expect(await json(await api('GET', '/v1/campaigns/Paced%20codes'))).toMatchObject({
      vouchers_generation_status: 'DONE',
      vouchers_count: 2_000,
    });
  });

  it('imports a campaign’s own codes in statements of the sizes the pacer chose; a code taken before fails alone', async () => {
    const c = await json(
      await api('POST', '/v1/campaigns', {
        name: 'Paced import',
        campaign_type: 'DISCOUNT_COUPONS',
        voucher: { type: 'DISCOUNT_VOUCHER', discount },
      }),
    );
    await api('POST', '/v1/vouchers/PACED-IMPORT-7', { discount });
    const items = Array.from({ length: 2_000 }, (_, i) => ({ code: `PACED-IMPORT-${i}` })) as CampaignImportItem[];
    const { db, singles } = recordingDb(env.DB);
    const { async_action_id } = await importCampaignVouchers(
      { DB: db, WRITES: env.WRITES, BULK_WRITE_TARGET_MS: '0' },
      c.id,
      items,
      'v-codes',
      'CAMPAIGN.VOUCHERS_IMPORT',
    );
    // Each slice is one statement of its own: its codes are the JSON parameter ?4.
    const inserts = singles.filter((st) => st.sql.includes('INSERT INTO vouchers'));
    expect(inserts.map((st) => (JSON.parse(st.args[3] as string) as unknown[]).length)).toEqual(shrinkingSizes(CODE_WRITE_PACE, 2_000));
    expect(await count('SELECT count(*) AS n FROM vouchers WHERE campaign_id = ?', c.id)).toBe(1_999);
    expect(await json(await api('GET', `/v1/async-actions/${async_action_id}`))).toMatchObject({
      result: { done_count: 1_999, failed_count: 1 },
    });
  });

  it('distributes to a segment in customer ranges of the sizes the pacer chose, one code per member', async () => {
    const MEMBERS = 1_500;
    const c = await json(
      await api('POST', '/v1/campaigns', {
        name: 'Paced distribution',
        campaign_type: 'DISCOUNT_COUPONS',
        type: 'AUTO_UPDATE',
        voucher: { type: 'DISCOUNT_VOUCHER', discount, code_config: { length: 12 } },
      }),
    );
    await bulkUpsertCustomers(
      env.DB,
      Array.from({ length: MEMBERS }, (_, i) => ({ source_id: `dist-paced-${i}`, metadata: { paced: true } })).slice(0, 500),
      'v-d1',
    );
    await bulkUpsertCustomers(
      env.DB,
      Array.from({ length: MEMBERS }, (_, i) => ({ source_id: `dist-paced-${i}`, metadata: { paced: true } })).slice(500, 1_000),
      'v-d2',
    );
    await bulkUpsertCustomers(
      env.DB,
      Array.from({ length: MEMBERS }, (_, i) => ({ source_id: `dist-paced-${i}`, metadata: { paced: true } })).slice(1_000),
      'v-d3',
    );
    const seg = await json(
      await api('POST', '/v1/segments', {
        name: 'paced members',
        type: 'passive',
        filter: { 'metadata.paced': { conditions: { $is: [true] } } },
      }),
    );
    const queue = capturingQueue();
    const res = await call(
      '/v1/publications/segment',
      {
        method: 'POST',
        headers: { ...SERVER_HEADERS, 'content-type': 'application/json' },
        body: JSON.stringify({ campaign: c.id, segment: seg.id }),
      },
      { WRITES: queue as unknown as Queue<WriteMessage> },
    );
    expect(res.status).toBe(202);
    const { async_action_id } = await json(res);
    const { db, batches } = recordingDb(env.DB);
    await deliver(queue.sent, { DB: db, BULK_WRITE_TARGET_MS: '0' });
    // AUTO_UPDATE: each step's batch opens with the insert of up to its range's size of new codes.
    const ranges = batches.map((b) => (JSON.parse(b[0]!.args[3] as string) as unknown[]).length - 16);
    expect(ranges.slice(0, 3)).toEqual([1_000, 500, 250]);
    expect(await json(await api('GET', `/v1/async-actions/${async_action_id}`))).toMatchObject({
      status: 'DONE',
      result: { done_count: MEMBERS },
    });
    expect(
      await count(
        'SELECT count(DISTINCT customer_id) AS n FROM publications p JOIN vouchers v ON v.id = p.voucher_id WHERE v.campaign_id = ?',
        c.id,
      ),
    ).toBe(MEMBERS);
  });

  it('fans the webhook outbox out in the sizes the pacer chose', async () => {
    const hook = await api('POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['customer.created'] });
    expect(hook.status).toBe(200);
    // The writes below each leave a customer.created event in the outbox; a capturing queue keeps
    // the wake-ups and attempts from running meanwhile.
    const sent: WebhookMessage[] = [];
    const queue = {
      send: async (m: WebhookMessage) => void sent.push(m),
      sendBatch: async (ms: Iterable<{ body: WebhookMessage }>) => void [...ms].forEach((m) => sent.push(m.body)),
    } as unknown as WebhookQueue;
    await env.DB.prepare('UPDATE webhook_outbox SET dispatched_at = 1 WHERE dispatched_at IS NULL').run();
    await bulkUpsertCustomers(
      env.DB,
      Array.from({ length: 250 }, (_, i) => ({ source_id: `hook-paced-${i}` })),
      'v-hooks',
    );
    const { db, batches } = recordingDb(env.DB);
    const result = await dispatch({ DB: db, WEBHOOKS: queue as unknown as Queue<WebhookMessage>, BULK_WRITE_TARGET_MS: '0' }, queue);
    expect(result.events).toBeGreaterThanOrEqual(250);
    // Each batch claims as many events as the pacer says (the claim's LIMIT), until one finds fewer.
    const limits = batches.map((b) => b[1]!.args[1] as number);
    expect(limits.length).toBeGreaterThan(5);
    expect(limits).toEqual(shrinkingSizes(DISPATCH_PACE, 100_000).slice(0, limits.length));
    expect(limits.slice(0, 4)).toEqual([100, 50, 25, 12]);
  });
});
