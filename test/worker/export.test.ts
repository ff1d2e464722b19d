import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../worker/src/lib/csv';
import { signToken } from '../../worker/src/lib/signed-token';
import { TEST_ENV } from '../test-env';
import { api, call, json } from './helpers';

/** Creates an export and returns it (status 200 expected). */
async function createExport(parameters: Record<string, unknown> = {}): Promise<any> {
  const res = await api('POST', '/v1/exports', { exported_object: 'customer', parameters });
  expect(res.status).toBe(200);
  return json(res);
}

/** Fetches a download URL without any key, as a browser or curl would. */
async function download(url: string): Promise<Response> {
  const { pathname, search } = new URL(url);
  return call(pathname + search);
}

/** Downloads an export and parses the CSV into [header, ...rows]. */
async function rows(exp: any): Promise<string[][]> {
  const res = await download(exp.result.url);
  expect(res.status).toBe(200);
  expect(res.headers.get('Content-Type')).toBe('text/csv; charset=utf-8');
  const text = await res.text();
  return [...parseCsv(text)].map((r) => {
    if (r.fields === undefined) throw new Error(`line ${r.line}: ${r.error}`);
    return r.fields;
  });
}

const customer = async (body: Record<string, unknown>) => json(await api('POST', '/v1/customers', body));

describe('POST /v1/exports (customers)', () => {
  it('returns the export object with a signed URL serving the fields asked, metadata included', async () => {
    const ada = await customer({
      source_id: 'exp-ada',
      name: 'Lovelace, Ada',
      email: 'ada@example.com',
      description: 'Said "hello"\nthen left',
      address: { city: 'London' },
      birthdate: '1815-12-10',
      metadata: { tier: 'gold', age: 36, vip: true, prefs: { color: 'green' }, tags: ['a', 'b'] },
    });
    const fields = [
      'id',
      'name',
      'email',
      'description',
      'created_at',
      'address_city',
      'birthday',
      'orders_total_amount',
      'metadata',
      'metadata.tier',
      'metadata.age',
      'metadata.vip',
      'metadata.prefs.color',
      'metadata.tags',
      'metadata.missing',
    ];
    const exp = await createExport({ fields, filters: { junction: 'and', source_id: { conditions: { $is: ['exp-ada'] } } } });
    // Created: SCHEDULED, the only status of the spec's create answer (readOnly-openAPI.json:L10527
    // ExportScheduledBase.status enum, :L10606 ExportsCreateResponseBody); no order was given, so
    // none is shown (the order enums have no empty string, :L10060 ExportCustomerOrder).
    expect(exp).toMatchObject({
      object: 'export',
      status: 'SCHEDULED',
      channel: 'API',
      exported_object: 'customer',
      parameters: { fields, response_format: 'CSV', filters: { junction: 'and' } },
      user_id: null,
    });
    expect(exp.parameters).not.toHaveProperty('order');
    expect(exp.id).toMatch(/^exp_/);
    expect(exp.result.url).toMatch(new RegExp(`^https://vouchsafe\\.test/v1/exports/${exp.id}/download\\?token=\\d+\\.[A-Za-z0-9_-]{43}$`));

    const [header, ...data] = await rows(exp);
    expect(header).toEqual(fields);
    expect(data).toEqual([
      [
        ada.id,
        'Lovelace, Ada',
        'ada@example.com',
        'Said "hello"\nthen left',
        ada.created_at,
        'London',
        '1815-12-10',
        '0',
        JSON.stringify(ada.metadata),
        'gold',
        '36',
        'true',
        'green',
        '["a","b"]',
        '',
      ],
    ]);
  });

  it('exports name and source_id by default, every customer once, oldest first', async () => {
    const exp = await createExport();
    expect(exp.parameters.fields).toEqual(['name', 'source_id']);
    const [header, ...data] = await rows(exp);
    expect(header).toEqual(['name', 'source_id']);
    const total = (await env.DB.prepare('SELECT count(*) AS n FROM customers').first<{ n: number }>())?.n;
    expect(data).toHaveLength(total ?? -1);
    const ordered = await env.DB.prepare('SELECT source_id FROM customers ORDER BY created_at').all<{ source_id: string | null }>();
    expect(data.map((r) => r[1])).toEqual(ordered.results.map((r) => r.source_id ?? ''));
  });

  it('filters with the segment grammar, by segment_id, and combines them with the junction', async () => {
    await customer({ source_id: 'exp-f-berlin', address: { city: 'Berlin' }, metadata: { spend: 120 } });
    const paris = await customer({ source_id: 'exp-f-paris', address: { city: 'Paris' }, metadata: { spend: 500 } });
    const rome = await customer({ source_id: 'exp-f-rome', address: { city: 'Rome' }, metadata: { spend: 10 } });
    const seg = await json(await api('POST', '/v1/segments', { name: 'picked', type: 'static', customers: [paris.id, rome.id] }));
    const big = await json(
      await api('POST', '/v1/segments', {
        name: 'big spenders',
        type: 'passive',
        filter: { 'metadata.spend': { conditions: { $more_than: [100] } } },
      }),
    );
    const ids = async (filters: Record<string, unknown>) =>
      (await rows(await createExport({ fields: ['source_id'], filters })))
        .slice(1)
        .map((r) => r[0])
        .filter((s) => s?.startsWith('exp-f-'))
        .sort();

    expect(await ids({ junction: 'and', 'address.city': { conditions: { $in: ['Berlin', 'Rome'] } } })).toEqual([
      'exp-f-berlin',
      'exp-f-rome',
    ]);
    expect(await ids({ segment_id: { conditions: { $is: [seg.id] } } })).toEqual(['exp-f-paris', 'exp-f-rome']);
    expect(await ids({ segment_id: { conditions: { $is: [big.id] } } })).toEqual(['exp-f-berlin', 'exp-f-paris']);
    expect(await ids({ segment_id: { conditions: { $in: [seg.id, big.id] } } })).toEqual(['exp-f-berlin', 'exp-f-paris', 'exp-f-rome']);
    expect(
      await ids({
        junction: 'and',
        'metadata.spend': { conditions: { $more_than: [100] } },
        segment_id: { conditions: { $is: [seg.id] } },
      }),
    ).toEqual(['exp-f-paris']);
    expect(
      await ids({ junction: 'OR', 'address.city': { conditions: { $is: ['Berlin'] } }, segment_id: { conditions: { $is: [seg.id] } } }),
    ).toEqual(['exp-f-berlin', 'exp-f-paris', 'exp-f-rome']);
  });

  it('orders newest first with order=-created_at', async () => {
    const exp = await createExport({ fields: ['created_at'], order: '-created_at' });
    const dates = (await rows(exp)).slice(1).map((r) => r[0] as string);
    expect(dates.length).toBeGreaterThan(1);
    expect(dates).toEqual([...dates].sort().reverse());
  });

  it.each([
    [
      'an unknown field',
      { exported_object: 'customer', parameters: { fields: ['name', 'shoe_size'] } },
      'invalid_export_fields',
      'parameters.fields: unknown field(s) "shoe_size"',
    ],
    [
      'a repeated field',
      { exported_object: 'customer', parameters: { fields: ['name', 'name'] } },
      'invalid_export_fields',
      'parameters.fields: repeated field(s) "name"',
    ],
    [
      'no field',
      { exported_object: 'customer', parameters: { fields: [] } },
      'invalid_export_fields',
      'parameters.fields: list at least one field',
    ],
    // Vouchers and publications export too (test/worker/campaigns.test.ts).
    [
      'another object',
      { exported_object: 'order' },
      'invalid_export_params',
      'exported_object: only "customer", "voucher" and "publication"',
    ],
    ['an unknown order', { exported_object: 'customer', parameters: { order: 'name' } }, 'invalid_export_params', 'parameters.order:'],
    [
      'a bad filter',
      { exported_object: 'customer', parameters: { filters: { 'metadata.x': { conditions: { $nope: [1] } } } } },
      'invalid_export_params',
      'parameters.filters.metadata.x.conditions.$nope:',
    ],
    [
      'a bad segment condition',
      { exported_object: 'customer', parameters: { filters: { segment_id: { conditions: { $is_not: ['seg_x'] } } } } },
      'invalid_export_params',
      'parameters.filters.segment_id.conditions:',
    ],
    ['no exported_object', { parameters: {} }, 'invalid_payload', 'exported_object:'],
  ])('answers 400 for %s', async (_, body, key, details) => {
    const before = (await env.DB.prepare('SELECT count(*) AS n FROM exports').first<{ n: number }>())?.n;
    const res = await api('POST', '/v1/exports', body);
    expect(res.status).toBe(400);
    const err = await json(res);
    expect(err).toMatchObject({ code: 400, key });
    expect(err.details.startsWith(details)).toBe(true);
    expect((await env.DB.prepare('SELECT count(*) AS n FROM exports').first<{ n: number }>())?.n).toBe(before);
  });

  it('answers 404 for an unknown segment', async () => {
    const res = await api('POST', '/v1/exports', {
      exported_object: 'customer',
      parameters: { filters: { segment_id: { conditions: { $is: ['seg_nope'] } } } },
    });
    expect(res.status).toBe(404);
    expect(await json(res)).toMatchObject({ key: 'not_found', resource_type: 'segment' });
  });
});

describe('export download links', () => {
  it('need a valid, unexpired token for that export (none: 401, bad or expired: 403), and no key', async () => {
    const exp = await createExport();
    const other = await createExport();
    const good = new URL(exp.result.url);
    const token = good.searchParams.get('token') as string;
    expect((await download(exp.result.url)).status).toBe(200);

    const expectForbidden = async (path: string, details: string) => {
      const res = await call(path);
      expect(res.status).toBe(403);
      const body = await json(res);
      expect(body).toMatchObject({ code: 403, key: 'forbidden', details });
      expect(body.request_id).toBe(res.headers.get('X-Request-Id'));
    };
    const invalid = 'The download link is not valid.';
    for (const path of [good.pathname, `${good.pathname}?token=`]) {
      const res = await call(path);
      expect(res.status).toBe(401);
      expect(await json(res)).toMatchObject({ code: 401, key: 'unauthorized' });
    }
    // A changed signature character (in the middle: every bit of it counts), and a non-canonical
    // spelling of the last one (its two low bits are unused by base64url).
    const [head, sig] = token.split('.') as [string, string];
    const flip = (ch: string) => (ch === 'A' ? 'Q' : 'A');
    await expectForbidden(`${good.pathname}?token=${head}.${sig.slice(0, 10)}${flip(sig[10] as string)}${sig.slice(11)}`, invalid);
    const last = sig.at(-1) as string;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1] as string;
    await expectForbidden(`${good.pathname}?token=${head}.${sig.slice(0, -1)}${sibling}`, invalid);
    // Another export's token, and a later expiry with the old signature.
    await expectForbidden(`/v1/exports/${other.id}/download?token=${token}`, invalid);
    const [expiry, signature] = token.split('.');
    await expectForbidden(`${good.pathname}?token=${Number(expiry) + 3600}.${signature}`, invalid);
    // Genuine but expired.
    const expired = await signToken(TEST_ENV.APP_TOKEN, 'export-download', exp.id, Math.floor(Date.now() / 1000) - 1);
    await expectForbidden(`${good.pathname}?token=${expired}`, 'The download link has expired; read the export again for a fresh one.');
    // Signed with another secret.
    const forged = await signToken('not-the-secret', 'export-download', exp.id, Math.floor(Date.now() / 1000) + 600);
    await expectForbidden(`${good.pathname}?token=${forged}`, invalid);
  });

  it('GET returns a fresh URL; list and DELETE work; a deleted export is a 404 even with its token', async () => {
    const exp = await createExport({ fields: ['email'] });
    const got = await json(await api('GET', `/v1/exports/${exp.id}`));
    // SCHEDULED when created, DONE once written (readOnly-openAPI.json:L10527 the create answer's
    // status; a read of a written export is DONE with its result.url).
    expect(exp.status).toBe('SCHEDULED');
    expect(got).toMatchObject({
      id: exp.id,
      status: 'DONE',
      parameters: { fields: ['email'] },
      result: { url: expect.stringContaining(`/v1/exports/${exp.id}/download?token=`) },
    });
    expect(got.parameters).not.toHaveProperty('order');
    const ordered = await createExport({ fields: ['email'], order: '-created_at' });
    expect(ordered.parameters).toMatchObject({ order: '-created_at' });
    expect((await download(got.result.url)).status).toBe(200);

    const list = await json(await api('GET', '/v1/exports?limit=100'));
    expect(list).toMatchObject({ object: 'list', data_ref: 'exports' });
    expect(list.exports.map((e: any) => e.id)).toContain(exp.id);
    expect(list.total).toBe(list.exports.length);
    expect((await api('GET', '/v1/exports?limit=0')).status).toBe(400);

    expect((await api('DELETE', `/v1/exports/${exp.id}`)).status).toBe(204);
    expect(await json(await api('GET', `/v1/exports/${exp.id}`))).toMatchObject({ code: 404, key: 'not_found', resource_type: 'export' });
    expect((await download(got.result.url)).status).toBe(404);
    expect((await api('DELETE', `/v1/exports/${exp.id}`)).status).toBe(404);
  });

  it('keeps the server key on everything but the download', async () => {
    expect((await call('/v1/exports')).status).toBe(401);
    expect((await call('/v1/exports', { method: 'POST', body: '{}' })).status).toBe(401);
    expect((await call('/v1/exports/exp_x')).status).toBe(401);
    expect((await call('/v1/exports/exp_x/download', { method: 'DELETE' })).status).toBe(401);
  });
});

describe('exporting 100,000 customers', () => {
  it('streams every customer exactly once, and a 50,000-member segment', async () => {
    const N = 100_000;
    const base = Date.now() + 1_000_000;
    const segment = 'seg_export_half';
    await env.DB.batch([
      env.DB.prepare(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
         INSERT INTO customers (id, source_id, name, email, metadata, created_at)
         SELECT 'cust_bulk_' || i, 'bulk-' || i, 'Bulk, ' || i, 'b' || i || '@example.com', json_object('n', i), ? + i FROM n`,
      ).bind(N, base),
      env.DB.prepare(`INSERT INTO segments (id, name, type, initial_sync_status, created_at) VALUES (?, 'half', 'static', 'DONE', ?)`).bind(
        segment,
        base,
      ),
      env.DB.prepare(
        `INSERT INTO segment_members (segment_id, customer_id, created_at) SELECT ?, id, ? FROM customers WHERE id LIKE 'cust_bulk_%' AND created_at % 2 = 0`,
      ).bind(segment, base),
    ]);

    const exp = await createExport({
      fields: ['id', 'name', 'metadata.n'],
      filters: { junction: 'and', source_id: { conditions: { $starts_with: ['bulk-'] } } },
    });
    let started = performance.now();
    const res = await download(exp.result.url);
    expect(res.status).toBe(200);
    // Read as a stream, chunk by chunk, as a client would.
    const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    let chunks = 0;
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      text += r.value;
      chunks += 1;
    }
    const allMs = performance.now() - started;
    const records = [...parseCsv(text)];
    expect(records[0]?.fields).toEqual(['id', 'name', 'metadata.n']);
    const data = records.slice(1).map((r) => r.fields as string[]);
    expect(data).toHaveLength(N);
    const ids = new Set(data.map((r) => r[0]));
    expect(ids.size).toBe(N);
    expect(data[0]).toEqual(['cust_bulk_1', 'Bulk, 1', '1']);
    expect(data[N - 1]).toEqual([`cust_bulk_${N}`, `Bulk, ${N}`, String(N)]);
    expect(chunks).toBeGreaterThan(1);

    started = performance.now();
    const half = await rows(await createExport({ fields: ['id'], filters: { segment_id: { conditions: { $is: [segment] } } } }));
    const segmentMs = performance.now() - started;
    expect(half).toHaveLength(N / 2 + 1);
    expect(new Set(half.slice(1).map((r) => r[0])).size).toBe(N / 2);
    console.log(
      `export of ${N.toLocaleString('en')} customers: ${(allMs / 1000).toFixed(1)} s (${(text.length / 1024 / 1024).toFixed(1)} MiB in ${chunks} chunks); segment of ${(N / 2).toLocaleString('en')}: ${(segmentMs / 1000).toFixed(1)} s`,
    );
  }, 300_000);
});
