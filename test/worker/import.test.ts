import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../worker/src/lib/csv';
import type { ImportChunkMessage, WriteMessage } from '../../worker/src/queue/messages';
import { MAX_CHUNK_BYTES, startCustomerImport } from '../../worker/src/services/customer-import';
import { SERVER_HEADERS, api, call, capturingQueue, deliver, json } from './helpers';

/**
 * D1 with every statement counted, those inside batches included (the pessimistic reading of D1's
 * per-invocation query limit), and the progress of every async action update recorded.
 */
function countingDb(db: D1Database): { db: D1Database; counts: { statements: number; progress: number[] } } {
  const counts = { statements: 0, progress: [] as number[] };
  const statement = (s: D1PreparedStatement, sql: string): D1PreparedStatement =>
    new Proxy(s, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (typeof value !== 'function') return value;
        if (prop === 'bind') {
          return (...args: unknown[]) => {
            // UPDATE async_actions SET status = ?, operation_status = ?, progress = ?, …
            if (sql.startsWith('UPDATE async_actions')) counts.progress.push(args[2] as number);
            return statement(value.apply(target, args), sql);
          };
        }
        if (prop === 'first' || prop === 'all' || prop === 'run' || prop === 'raw') {
          return (...args: unknown[]) => {
            counts.statements++;
            return value.apply(target, args);
          };
        }
        return value.bind(target);
      },
    });
  const wrapped = new Proxy(db, {
    get(target, prop) {
      if (prop === 'prepare') return (sql: string) => statement(target.prepare(sql), sql);
      if (prop === 'batch') {
        return (list: D1PreparedStatement[]) => {
          counts.statements += list.length;
          return target.batch(list);
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { db: wrapped, counts };
}

/**
 * One delivery of these messages, then one of whatever it sent on (a chunk whose delivery ran out
 * of its D1 statements continues as a new message, captured here rather than left to the local
 * queue), until nothing is left; each delivery acknowledges all it got. Returns each delivery's
 * D1 statements.
 */
async function deliverAll(bodies: WriteMessage[]): Promise<number[]> {
  const statements: number[] = [];
  for (let pending = bodies; pending.length > 0;) {
    const { db, counts } = countingDb(env.DB);
    const continued = capturingQueue();
    const result = await deliver(pending, { DB: db, WRITES: continued as unknown as Queue<WriteMessage> });
    expect(result.explicitAcks.length).toBe(pending.length);
    statements.push(counts.statements);
    pending = continued.sent;
  }
  return statements;
}

/** POST /v1/customers/importCSV with `csv` as the multipart field `file`. */
function importCsv(csv: string | Blob, field = 'file'): Promise<Response> {
  const form = new FormData();
  form.append(field, csv instanceof Blob ? csv : new Blob([csv], { type: 'text/csv' }), 'customers.csv');
  return call('/v1/customers/importCSV', { method: 'POST', headers: SERVER_HEADERS, body: form });
}

/**
 * Waits (a bounded poll) for the action to leave IN_PROGRESS while the queue consumer writes its
 * chunks (miniflare delivers the messages the request sent about a second later), sampling its
 * progress straight from D1, then reads it through the API.
 */
async function finished(id: string, timeoutMs = 120_000): Promise<{ action: any; progress: number[] }> {
  const progress: number[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await env.DB.prepare('SELECT status, progress FROM async_actions WHERE id = ?')
      .bind(id)
      .first<{ status: string; progress: number }>();
    if (!row) throw new Error(`no async action ${id}`);
    progress.push(row.progress);
    if (row.status !== 'IN_PROGRESS') break;
    if (Date.now() > deadline) throw new Error(`import ${id} still IN_PROGRESS after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const res = await api('GET', `/v1/async-actions/${id}`);
  expect(res.status).toBe(200);
  return { action: await json(res), progress };
}

async function runImport(csv: string): Promise<any> {
  const res = await importCsv(csv);
  expect(res.status).toBe(202);
  const body = await json(res);
  expect(Object.keys(body)).toEqual(['async_action_id']);
  expect(body.async_action_id).toMatch(/^aa_/);
  return (await finished(body.async_action_id)).action;
}

const customer = async (ref: string) => json(await api('GET', `/v1/customers/${encodeURIComponent(ref)}`));
const count = async (sql = 'SELECT count(*) AS n FROM customers', ...params: unknown[]) =>
  (
    await env.DB.prepare(sql)
      .bind(...params)
      .first<{ n: number }>()
  )?.n ?? -1;

describe('POST /v1/customers/importCSV', () => {
  it('maps the Voucherify columns (any case) and types the other columns into metadata', async () => {
    const csv = [
      'NAME,email,Phone,birthdate,SOURCE_ID,Address_Line_1,address_line_2,Address_Postal_Code,address_city,ADDRESS_STATE,Address_Country,Description,tier,age,vip,score,zip,note',
      'Ada Lovelace,ada@example.com,+44 20 1234,1815-12-10,imp-ada,12 St James Sq,Flat 1,SW1Y 4JH,London,Greater London,United Kingdom,First programmer,gold,36,true,4.5,01234,',
    ].join('\n');
    const action = await runImport(csv);
    expect(action).toMatchObject({
      type: 'CUSTOMERS.IMPORT_CSV',
      status: 'DONE',
      operation_status: 'SUCCESS',
      progress: 100,
      object: 'async_action',
      result: {
        message: '1 customer(s) imported successfully, 0 failed.',
        total_count: 1,
        done_count: 1,
        created_count: 1,
        updated_count: 0,
        unchanged_count: 0,
        failed_count: 0,
        failed: [],
      },
    });
    const ada = await customer('imp-ada');
    expect(ada).toMatchObject({
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      phone: '+44 20 1234',
      birthdate: '1815-12-10',
      description: 'First programmer',
      address: {
        line_1: '12 St James Sq',
        line_2: 'Flat 1',
        postal_code: 'SW1Y 4JH',
        city: 'London',
        state: 'Greater London',
        country: 'United Kingdom',
      },
    });
    // Empty cell: no key. A leading zero keeps the text.
    expect(ada.metadata).toEqual({ tier: 'gold', age: 36, vip: true, score: 4.5, zip: '01234' });
    expect(ada.updated_at).toBeUndefined();
  });

  it('reads quoting, a BOM, CRLF and line breaks inside fields, and counts data rows for reports', async () => {
    const csv =
      '\uFEFFSource_id,Name,Description\r\n' +
      'imp-q1,"Smith, John","He said ""hi""\r\nand left"\r\n' + // row 1 (lines 2-3)
      'imp-q2,Plain,\r\n' + // row 2
      'imp-q3,"bad"name,x\r\n'; // row 3: text after a closing quote
    const action = await runImport(csv);
    expect(action.result).toMatchObject({ total_count: 3, done_count: 2, failed_count: 1 });
    // OA CUSTOMERS.IMPORT_CSV: "The row counter excludes the file headers row" (OA:L554); the
    // example's first data row is row 1 (OA:L62810).
    expect(action.result.failed).toEqual([
      { row: 3, source_id: null, reason: 'malformed CSV: unexpected text after the closing quote of field 2' },
    ]);
    // OA:L1432 has no partial value: rows applied make it SUCCESS, failed_count reports the rest.
    expect(action.operation_status).toBe('SUCCESS');
    expect(action.result.message).toBe('2 customer(s) imported successfully, 1 failed.');
    const q1 = await customer('imp-q1');
    expect(q1).toMatchObject({ name: 'Smith, John', description: 'He said "hi"\r\nand left' });
    expect((await customer('imp-q2')).name).toBe('Plain');
    expect((await api('GET', '/v1/customers/imp-q3')).status).toBe(404);
  });

  it('fails a malformed row alone, with its row number and reason; the rest import', async () => {
    const csv = [
      'Source_id,Email,Birthdate,plan', // header
      'imp-m1,m1@example.com,1990-05-01,pro', // row 1
      'imp-m2,not-an-email,,pro', // row 2
      'imp-m3,m3@example.com', // row 3: too few fields
      'imp-m4,m4@example.com,1990-02-30,pro', // row 4: no such day
      '', // blank, skipped
      'imp-m5,m5@example.com,,free', // row 5
    ].join('\n');
    const before = await count();
    const action = await runImport(csv);
    expect(action.result).toMatchObject({ total_count: 5, done_count: 2, created_count: 2, failed_count: 3 });
    expect(action.result.failed).toEqual([
      { row: 2, source_id: 'imp-m2', reason: 'email: must be an email address' },
      { row: 3, source_id: 'imp-m3', reason: 'the row has 2 fields, the header 4' },
      { row: 4, source_id: 'imp-m4', reason: 'birthdate: must be a calendar date in the format YYYY-MM-DD' },
    ]);
    expect(await count()).toBe(before + 2);
    expect((await customer('imp-m5')).metadata).toEqual({ plan: 'free' });
  });

  it('upserts by source_id: given cells replace, empty cells keep, metadata merges; created_at stays', async () => {
    const old = await json(
      await api('POST', '/v1/customers', {
        source_id: 'imp-up',
        name: 'Old',
        email: 'old@example.com',
        metadata: { keep: 1, tier: 'bronze' },
      }),
    );
    const action = await runImport('Source_id,Name,Email,tier\nimp-up,New,,gold\nimp-up-new,Fresh,,silver\n');
    expect(action.result).toMatchObject({ done_count: 2, created_count: 1, updated_count: 1, unchanged_count: 0 });
    const now = await customer('imp-up');
    expect(now).toMatchObject({
      id: old.id,
      name: 'New',
      email: 'old@example.com',
      metadata: { keep: 1, tier: 'gold' },
      created_at: old.created_at,
    });
    expect(now.updated_at).toEqual(expect.any(String));
    expect(await count('SELECT count(*) AS n FROM customers WHERE source_id = ?', 'imp-up')).toBe(1);
  });

  it('re-importing the same file changes nothing and reports every row unchanged', async () => {
    const csv = 'Source_id,Name,City_of_birth,Address_City,points\nimp-r1,Rae,Oslo,Bergen,10\nimp-r2,Rex,,Trondheim,20\n';
    const first = await runImport(csv);
    expect(first.result).toMatchObject({ created_count: 2, unchanged_count: 0 });
    const snapshot = await env.DB.prepare("SELECT * FROM customers WHERE source_id LIKE 'imp-r%' ORDER BY source_id").all();
    const events = await count('SELECT count(*) AS n FROM events');

    const again = await runImport(csv);
    expect(again.result).toMatchObject({ done_count: 2, created_count: 0, updated_count: 0, unchanged_count: 2, failed_count: 0 });
    expect((await env.DB.prepare("SELECT * FROM customers WHERE source_id LIKE 'imp-r%' ORDER BY source_id").all()).results).toEqual(
      snapshot.results,
    );
    expect((await customer('imp-r1')).updated_at).toBeUndefined();
    expect(await count('SELECT count(*) AS n FROM events')).toBe(events);
  });

  it('updates by Id, fails an unknown Id, and fails alone a row taking another customer’s source_id', async () => {
    const a = await json(await api('POST', '/v1/customers', { source_id: 'imp-id-a', name: 'A' }));
    const b = await json(await api('POST', '/v1/customers', { source_id: 'imp-id-b', name: 'B' }));
    const csv = [
      'Id,Source_id,Name', // header
      `${a.id},,A2`, // row 1: update by id
      'cust_nobody,,X', // row 2: unknown id
      `${b.id},imp-id-a,B2`, // row 3: imp-id-a belongs to A
      ',imp-id-c,C', // row 4: upsert by source_id
    ].join('\n');
    const action = await runImport(csv);
    expect(action.result).toMatchObject({ done_count: 2, created_count: 1, updated_count: 1, failed_count: 2 });
    expect(action.result.failed).toEqual(
      expect.arrayContaining([
        { row: 2, source_id: null, reason: 'Cannot find customer with id cust_nobody' },
        { row: 3, source_id: 'imp-id-a', reason: 'source_id imp-id-a already belongs to another customer' },
      ]),
    );
    expect((await customer(a.id)).name).toBe('A2');
    expect(await customer(b.id)).toMatchObject({ source_id: 'imp-id-b', name: 'B' });
    expect((await customer('imp-id-c')).name).toBe('C');
  });

  it('re-evaluates auto-update segments for the imported customers (entered and left)', async () => {
    const leaver = await json(await api('POST', '/v1/customers', { source_id: 'imp-seg-leave', metadata: { tier: 'vip' } }));
    const seg = await json(
      await api('POST', '/v1/segments', {
        name: 'imported vips',
        type: 'auto-update',
        filter: { junction: 'and', 'metadata.tier': { conditions: { $is: ['vip'] } } },
      }),
    );
    const csv = 'Source_id,Name,tier\nimp-seg-1,One,vip\nimp-seg-2,Two,basic\nimp-seg-leave,,basic\n,No source,vip\n';
    const action = await runImport(csv);
    expect(action.result).toMatchObject({ done_count: 4, failed_count: 0 });

    const members = await json(await api('GET', `/v1/customers?segment_id=${seg.id}&limit=100`));
    expect(members.customers.map((c: any) => c.name).sort()).toEqual(['No source', 'One']);
    const one = await customer('imp-seg-1');
    const activity = await json(await api('GET', `/v1/customers/${one.id}/activity`));
    expect(activity.data.map((e: any) => e.type)).toContain('customer.segment.entered');
    const left = await json(await api('GET', `/v1/customers/${leaver.id}/activity`));
    expect(left.data.map((e: any) => e.type)).toContain('customer.segment.left');
  });

  it('answers 413 above 25 MiB on this path, while other paths keep the 1 MiB limit', async () => {
    const big = new Blob(['Source_id\n', 'x'.repeat(25 * 1024 * 1024)]);
    const res = await importCsv(big);
    expect(res.status).toBe(413);
    expect(await json(res)).toMatchObject({ code: 413, key: 'request_too_large' });

    const json2MiB = JSON.stringify({ source_id: 'too-big', description: 'x'.repeat(2 * 1024 * 1024) });
    expect((await api('POST', '/v1/customers', json2MiB)).status).toBe(413);
    // A file between 1 MiB and 25 MiB is fine here.
    const rows = Array.from({ length: 40_000 }, (_, i) => `imp-mid-${i},Customer number ${i}`).join('\n');
    expect(rows.length).toBeGreaterThan(1024 * 1024);
    const res2 = await importCsv(`Source_id,Name\n${rows}\n`);
    expect(res2.status).toBe(202);
    await finished((await json(res2)).async_action_id);
  }, 60_000);

  it.each([
    ['no file field', () => importCsv('Source_id\na\n', 'upload'), 'file: '],
    ['a JSON body', () => api('POST', '/v1/customers/importCSV', { file: 'Source_id\na' }), 'file: '],
    ['an empty file', () => importCsv(''), 'file: the CSV is empty'],
    ['only blank lines', () => importCsv('\r\n\n'), 'file: the CSV is empty'],
    [
      'a header naming no customer column',
      () => importCsv('alice@example.com,Alice\nbob@example.com,Bob\n'),
      'file: the header row names no customer column',
    ],
    ['a header with an empty column name', () => importCsv('Source_id,,Name\n'), 'file: column 2 of the header has no name'],
    ['a header repeating a column', () => importCsv('source_id,Source_Id\n'), 'file: column 2 of the header ("Source_Id") repeats'],
  ])('answers 400 for %s, and writes nothing', async (_, send, details) => {
    const before = await count('SELECT count(*) AS n FROM async_actions');
    const res = await send();
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body).toMatchObject({ code: 400, key: 'invalid_payload' });
    expect(body.details.startsWith(details)).toBe(true);
    expect(await count('SELECT count(*) AS n FROM async_actions')).toBe(before);
  });

  it('needs the server key', async () => {
    const form = new FormData();
    form.append('file', new Blob(['Source_id\nx\n']), 'c.csv');
    expect((await call('/v1/customers/importCSV', { method: 'POST', body: form })).status).toBe(401);
  });

  it('answers before writing: the rows go out as chunk messages within Queues limits, each delivery within 1,000 D1 statements, progress per chunk', async () => {
    for (let i = 0; i < 5; i++) {
      await api('POST', '/v1/segments', {
        name: `budget ${i}`,
        type: 'auto-update',
        filter: { 'metadata.band': { conditions: { $is: [String(i)] } } },
      });
    }
    const ROWS = 20_000;
    const lines = ['Source_id,band'];
    for (let i = 0; i < ROWS; i++) lines.push(`budget-${i},${i % 7}`);
    const queue = capturingQueue();
    const action = await startCustomerImport(env.DB, queue, [new TextEncoder().encode(lines.join('\n'))], 'v-budget');
    // What the 202 leaves behind before any row is written: the action, IN_PROGRESS at 0.
    const pending = await json(await api('GET', `/v1/async-actions/${action.id}`));
    expect(pending).toMatchObject({
      type: 'CUSTOMERS.IMPORT_CSV',
      status: 'IN_PROGRESS',
      progress: 0,
      result: { total_count: ROWS, done_count: 0 },
    });
    // Not known yet: the OA enum's UNKNOWN (AsyncActionBase.operation_status, readOnly-openAPI.json:L1432).
    expect(pending.operation_status).toBe('UNKNOWN');
    expect(await count("SELECT count(*) AS n FROM customers WHERE source_id LIKE 'budget-%'")).toBe(0);

    // Queues: a message under 128 KB; a sendBatch of at most 100 messages and 256 KB.
    const chunks = queue.sent as ImportChunkMessage[];
    expect(chunks.length).toBeGreaterThan(3);
    for (const chunk of chunks) {
      expect(chunk.kind).toBe('import_chunk');
      expect(new TextEncoder().encode(JSON.stringify(chunk)).length).toBeLessThan(128_000);
    }
    expect(chunks.reduce((n, c) => n + c.rows.length, 0)).toBe(ROWS);
    for (const b of queue.batches) {
      expect(b.messages).toBeLessThanOrEqual(100);
      expect(b.bytes).toBeLessThanOrEqual(256_000);
    }
    expect(new TextEncoder().encode(JSON.stringify(chunks[0])).length).toBeGreaterThan(MAX_CHUNK_BYTES * 0.9);
    expect(await count('SELECT chunks AS n FROM customer_imports WHERE action_id = ?', action.id)).toBe(chunks.length);

    // All chunks but the last in one delivery: within the statement budget of one invocation. The
    // chunks are written in parts sized by time, each with its membership refresh, so a delivery
    // may end before its last chunk: it acknowledges every message and sends the rest on as new
    // ones, each delivery of them within the budget too.
    const progress: number[] = [];
    const statements = await deliverAll(chunks.slice(0, -1));
    console.log(
      `${chunks.length - 1} chunks of ${ROWS.toLocaleString('en')} rows with 5 auto-update segments: deliveries of ${statements.join(', ')} D1 statements`,
    );
    for (const n of statements) expect(n).toBeLessThanOrEqual(1_000);
    progress.push((await json(await api('GET', `/v1/async-actions/${action.id}`))).progress);
    await deliverAll(chunks.slice(-1));
    const done = await json(await api('GET', `/v1/async-actions/${action.id}`));
    progress.push(done.progress);
    expect(progress[0]).toBe(Math.floor((100 * (chunks.length - 1)) / chunks.length));
    expect(progress[1]).toBe(100);
    expect(done).toMatchObject({
      status: 'DONE',
      operation_status: 'SUCCESS',
      result: { done_count: ROWS, created_count: ROWS, failed_count: 0, message: `${ROWS} customer(s) imported successfully, 0 failed.` },
    });
    expect(
      await count("SELECT count(*) AS n FROM segment_members m JOIN segments s ON s.id = m.segment_id WHERE s.name = 'budget 3'"),
    ).toBe(Math.floor(ROWS / 7) + (ROWS % 7 > 3 ? 1 : 0));
  }, 120_000);

  it('writes and counts a chunk delivered twice (again, and at the same time) once, its split parts included; DONE once', async () => {
    const a = await json(await api('POST', '/v1/customers', { source_id: 'twice-a', name: 'A' }));
    const b = await json(await api('POST', '/v1/customers', { source_id: 'twice-b', name: 'B' }));
    const ROWS = 3_000;
    const pad = 'x'.repeat(100);
    const lines = ['Id,Source_id,Name,Description'];
    lines.push(`${b.id},twice-a,B2,`); // row 1: takes A's source_id: fails alone (its chunk is split)
    lines.push(`${a.id},,A2,`); // row 2: update by id
    for (let i = 3; i <= ROWS; i++) lines.push(i % 2 === 0 ? `,twice-${i},Name ${i},${pad}` : `,,No source ${i},${pad}`);
    const before = await count();
    const queue = capturingQueue();
    const action = await startCustomerImport(env.DB, queue, [new TextEncoder().encode(lines.join('\n'))], 'v-twice');
    const chunks = queue.sent as ImportChunkMessage[];
    expect(chunks.length).toBeGreaterThanOrEqual(3);

    // The first chunk twice at once, then again with the others, then everything again.
    await Promise.all([deliverAll([chunks[0] as ImportChunkMessage]), deliverAll([chunks[0] as ImportChunkMessage])]);
    await deliverAll(chunks);
    const done = await env.DB.prepare('SELECT * FROM async_actions WHERE id = ?').bind(action.id).first();
    const again = await deliver([...chunks, ...chunks]);
    expect(again.explicitAcks.length).toBe(2 * chunks.length);
    expect(await env.DB.prepare('SELECT * FROM async_actions WHERE id = ?').bind(action.id).first()).toEqual(done);

    const result = (await json(await api('GET', `/v1/async-actions/${action.id}`))).result;
    const created = ROWS - 2;
    expect(result).toMatchObject({
      total_count: ROWS,
      done_count: ROWS - 1,
      created_count: created,
      updated_count: 1,
      unchanged_count: 0,
      failed_count: 1,
    });
    expect(result.failed).toEqual([{ row: 1, source_id: 'twice-a', reason: 'source_id twice-a already belongs to another customer' }]);
    expect(await count()).toBe(before + created);
    expect(await count('SELECT chunks_done AS n FROM customer_imports WHERE action_id = ?', action.id)).toBe(chunks.length);
    // The split chunk left its parts' markers; the others one each.
    expect(await count('SELECT count(*) AS n FROM import_chunks WHERE action_id = ?', action.id)).toBeGreaterThan(chunks.length);
    expect((await customer(a.id)).name).toBe('A2');
    expect((await customer(b.id)).name).toBe('B');
  }, 120_000);

  it('drops the chunks of a file refused after some were sent: nothing is written, no action stays', async () => {
    const lines = ['Source_id,Description'];
    for (let i = 0; i < 3_000; i++) lines.push(`refused-${i},${'y'.repeat(100)}`);
    const bytes = new TextEncoder().encode(`${lines.join('\n')}\nrefused-last,`);
    const file = [bytes, Uint8Array.from([0xff, 0x0a])]; // a byte that is not UTF-8, at the end
    const queue = capturingQueue();
    const actions = await count('SELECT count(*) AS n FROM async_actions');
    await expect(startCustomerImport(env.DB, queue, file, 'v-refused')).rejects.toMatchObject({ status: 400, key: 'invalid_payload' });
    expect(queue.sent.length).toBeGreaterThan(1);
    const result = await deliver(queue.sent);
    expect(result.explicitAcks.length).toBe(queue.sent.length);
    expect(await count("SELECT count(*) AS n FROM customers WHERE source_id LIKE 'refused-%'")).toBe(0);
    expect(await count('SELECT count(*) AS n FROM async_actions')).toBe(actions);
    expect(await count('SELECT count(*) AS n FROM customer_imports WHERE chunks IS NULL')).toBe(0);
  });

  it('imports 50,000 rows through the endpoint', async () => {
    const ROWS = 50_000;
    await api('POST', '/v1/segments', {
      name: 'big gold',
      type: 'auto-update',
      filter: { 'metadata.big_tier': { conditions: { $is: ['gold'] } } },
    });
    const lines = ['Source_id,Name,Email,Address_City,big_tier,points'];
    for (let i = 0; i < ROWS; i++)
      lines.push(`big-${i},Customer ${i},c${i}@example.com,${['Berlin', 'Paris', 'Rome'][i % 3]},${i % 4 === 0 ? 'gold' : 'silver'},${i}`);
    const csv = lines.join('\r\n');
    const before = await count();

    const started = performance.now();
    const res = await importCsv(csv);
    const answeredMs = performance.now() - started;
    expect(res.status).toBe(202);
    const id = (await json(res)).async_action_id;
    const { action, progress } = await finished(id, 300_000);
    const totalMs = performance.now() - started;
    console.log(
      `import of ${ROWS.toLocaleString('en')} rows (${(csv.length / 1024 / 1024).toFixed(1)} MiB): response after ${answeredMs.toFixed(0)} ms, DONE after ${(totalMs / 1000).toFixed(1)} s (processing_time ${action.processing_time} ms)`,
    );

    expect(action).toMatchObject({
      status: 'DONE',
      operation_status: 'SUCCESS',
      progress: 100,
      result: { total_count: ROWS, done_count: ROWS, created_count: ROWS, failed_count: 0 },
    });
    // Progress, as sampled, only went up (the test above checks every chunk's value).
    expect(progress).toEqual([...progress].sort((x, y) => x - y));
    expect(await count()).toBe(before + ROWS);
    expect(await count("SELECT count(*) AS n FROM customers WHERE source_id LIKE 'big-%' AND metadata ->> 'points' = 49999")).toBe(1);
    expect(
      await count("SELECT count(*) AS n FROM segment_members m JOIN segments s ON s.id = m.segment_id WHERE s.name = 'big gold'"),
    ).toBe(ROWS / 4);
    // created_at stays unique and the scroll cursor sees every imported customer.
    expect(await count('SELECT count(DISTINCT created_at) AS n FROM customers')).toBe(await count());

    // Round trip: exporting the imported customers yields the rows of the file.
    const exportStarted = performance.now();
    const exp = await json(
      await api('POST', '/v1/exports', {
        exported_object: 'customer',
        parameters: {
          order: 'created_at',
          fields: ['source_id', 'name', 'email', 'address_city', 'metadata.big_tier', 'metadata.points'],
          filters: { junction: 'and', source_id: { conditions: { $starts_with: ['big-'] } } },
        },
      }),
    );
    const { pathname, search } = new URL(exp.result.url);
    const download = await call(pathname + search);
    expect(download.status).toBe(200);
    const exported = [...parseCsv(await download.text())].map((r) => (r.fields ?? []).join(','));
    console.log(`export of the same ${ROWS.toLocaleString('en')} customers: ${((performance.now() - exportStarted) / 1000).toFixed(1)} s`);
    expect(exported[0]).toBe('source_id,name,email,address_city,metadata.big_tier,metadata.points');
    // Chunks are written in the order the queue delivers them, so created_at follows that order, not the file's.
    expect(exported.slice(1).sort()).toEqual(lines.slice(1).sort());
  }, 300_000);
});
