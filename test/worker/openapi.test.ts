import { describe, expect, it } from 'vitest';
import { app } from '../../worker/src/app';
import { type Auth, BODY_LIMITS, CATALOGUE, isReadOnlyPost, MAX_BODY_BYTES } from '../../worker/src/catalogue';
import { MAX_BULK_BODY_BYTES } from '../../worker/src/schemas/customers';
import { MAX_IMPORT_BODY_BYTES, MAX_ORDER_CSV_BYTES } from '../../worker/src/schemas/orders';
import { call, json } from './helpers';

const METHODS = ['get', 'post', 'put', 'delete', 'patch'] as const;

/**
 * The routes app.ts mounts, as OpenAPI paths: middleware (ALL) and wildcard routes left out, and
 * the operator console's HTML pages (/console, docs/console.md), which are a client of
 * this API rather than a part of it.
 */
function mountedRoutes(): { method: string; path: string }[] {
  const seen = new Set<string>();
  const out: { method: string; path: string }[] = [];
  for (const route of app.routes) {
    if (route.method === 'ALL' || route.path.includes('*') || route.path === '/console' || route.path.startsWith('/console/')) continue;
    const path = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const key = `${route.method} ${path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ method: route.method.toLowerCase(), path });
  }
  return out;
}

/** True when some mounted route (wildcards included) serves this method and OpenAPI path. */
function served(method: string, path: string): boolean {
  const sample = path.replace(/\{[^}]+\}/g, 'x');
  return app.routes.some((route) => {
    if (route.method !== method.toUpperCase()) return false;
    const pattern = route.path
      .split('/')
      .map((part) => (part === '*' ? '.*' : part.startsWith(':') ? '[^/]+' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    return new RegExp(`^${pattern}$`).test(sample);
  });
}

describe('GET /openapi.json', () => {
  it('serves an OpenAPI 3.1 document without a key', async () => {
    const res = await call('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toMatch(/^application\/json/);
    const doc = await json(res);
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: 'Vouchsafe', version: expect.any(String) });
    expect(Object.keys(doc.paths).length).toBeGreaterThan(30);
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      expect(path.startsWith('/')).toBe(true);
      for (const [method, op] of Object.entries<any>(item)) {
        expect(METHODS).toContain(method);
        expect(Object.keys(op.responses).length).toBeGreaterThan(0);
        for (const ref of JSON.stringify(op).match(/"\$ref":"[^"]+"/g) ?? []) {
          const name = ref.replace(/.*#\/components\/schemas\//, '').replace(/"$/, '');
          expect(doc.components.schemas[name]).toBeDefined();
        }
        const params = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
        expect(op.parameters?.filter((p: any) => p.in === 'path').map((p: any) => p.name) ?? []).toEqual(params);
        for (const scheme of (op.security ?? []).flatMap((s: object) => Object.keys(s)))
          expect(doc.components.securitySchemes[scheme]).toBeDefined();
      }
    }
  });

  it('lists every route app.ts mounts, and only routes it serves', async () => {
    const doc = await json(await call('/openapi.json'));
    const mounted = mountedRoutes();
    expect(mounted.length).toBeGreaterThan(30);
    const missing = mounted
      .filter(({ method, path }) => !doc.paths[path]?.[method])
      .map(({ method, path }) => `${method.toUpperCase()} ${path}`);
    expect(missing).toEqual([]);
    const extra: string[] = [];
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const method of Object.keys(item)) if (!served(method, path)) extra.push(`${method.toUpperCase()} ${path}`);
    }
    expect(extra).toEqual([]);
  });

  it('generates bodies and queries from the validating zod schemas (input side)', async () => {
    const doc = await json(await call('/openapi.json'));
    const body = (path: string, method = 'post', media = 'application/json') => doc.paths[path][method].requestBody.content[media].schema;

    const create = body('/v1/customers');
    expect(create.type).toBe('object');
    expect(create.properties.email.anyOf[0]).toMatchObject({ type: 'string', maxLength: 254, pattern: '^[^\\s@]+@[^\\s@]+$' });
    expect(create.properties.address.anyOf[0].properties.postal_code.anyOf[0]).toMatchObject({ maxLength: 64 });

    const bulk = body('/v1/customers/bulk/async');
    expect(bulk).toMatchObject({ type: 'array', minItems: 1, maxItems: 500 });
    expect(bulk.items.required).toEqual(['source_id']);

    expect(body('/v1/customers/importCSV', 'post', 'multipart/form-data')).toMatchObject({
      type: 'object',
      required: ['file'],
      properties: { file: { type: 'string', format: 'binary' } },
    });
    expect(body('/v1/exports').required).toEqual(['exported_object']);

    // Query strings: what the client sends (strings), not what the transforms make of them.
    const list = doc.paths['/v1/customers'].get.parameters;
    expect(list.find((p: any) => p.name === 'limit')).toMatchObject({
      in: 'query',
      required: false,
      schema: { type: 'string', pattern: '^\\d+$' },
    });
    expect(list.find((p: any) => p.name === 'order').schema.enum).toContain('-created_at');
    const validate = doc.paths['/client/v1/validate'].get;
    expect(validate.security).toEqual([{ clientApplicationId: [], clientToken: [] }]);
    expect(validate.parameters.find((p: any) => p.name === 'code')).toMatchObject({ required: true });
    expect(validate.parameters.find((p: any) => p.name === 'item')).toMatchObject({ style: 'deepObject' });

    expect(doc.paths['/v1/exports/{id}/download'].get.security).toEqual([{ downloadToken: [] }]);
    expect(doc.paths['/health'].get.security).toEqual([]);
    expect(doc.paths['/v1/customers/{id}'].delete.responses['204']).toBeDefined();
  });
});

const key = (method: string, path: string) => `${method.toUpperCase()} ${path}`;

/** The guard app.ts puts in front of a path, as an auth class (the export download is mounted before the server key's). */
function guardOf(method: string, path: string): Auth {
  if (method === 'GET' && path === '/v1/exports/:id/download') return 'export-token';
  if (path.startsWith('/v1/')) return 'server';
  if (path.startsWith('/client/v1/')) return 'client';
  if (path.startsWith('/segmentio/')) return 'segment';
  if (path === '/console' || path.startsWith('/console/')) return 'console';
  if (path.startsWith('/demo/')) return 'demo';
  return 'none';
}

describe('the route catalogue (worker/src/catalogue.ts)', () => {
  it('is every route app.ts mounts, each once, and only those', () => {
    // Middleware and catch-alls are mounted as ALL: they are no route of their own.
    const mounted = new Set(app.routes.filter((r) => r.method !== 'ALL').map((r) => key(r.method, r.path)));
    const listed = CATALOGUE.map((r) => key(r.method, r.path));
    expect(mounted.size).toBeGreaterThan(100);
    expect(
      listed.filter((k, i) => listed.indexOf(k) !== i),
      'listed twice',
    ).toEqual([]);
    expect(
      [...mounted].filter((k) => !listed.includes(k)),
      'mounted but not in the catalogue',
    ).toEqual([]);
    expect(
      listed.filter((k) => !mounted.has(k)),
      'in the catalogue but not mounted',
    ).toEqual([]);
  });

  it('gives each route the auth class of the guard app.ts mounts in front of it', () => {
    const wrong = CATALOGUE.filter((r) => r.auth !== guardOf(r.method.toUpperCase(), r.path)).map(
      (r) => `${key(r.method, r.path)}: ${r.auth}`,
    );
    expect(wrong).toEqual([]);
  });

  it('derives the read-only POSTs from the routes that write nothing', () => {
    const sample = (path: string) => path.replace(/:[A-Za-z0-9_]+/g, 'x-1');
    const readOnly = CATALOGUE.filter((r) => r.writes === false);
    expect(readOnly.every((r) => r.method === 'post')).toBe(true);
    expect(readOnly.map((r) => r.path).sort()).toEqual(
      [
        '/client/v1/events',
        '/client/v1/validations',
        '/segmentio/event-processing',
        '/v1/events',
        '/v1/promotions/validation',
        '/v1/segments/:id/explain',
        '/v1/segments/preview',
        '/v1/validations',
        '/v1/vouchers/:code/validate',
        // Qualifications write nothing (docs/qualifications.md).
        '/v1/qualifications',
        '/client/v1/qualifications',
      ].sort(),
    );
    for (const r of readOnly) {
      expect(isReadOnlyPost(sample(r.path)), r.path).toBe(true);
      expect(isReadOnlyPost(`${sample(r.path)}/`), `${r.path}/`).toBe(true);
    }
    // Every other POST writes: the redemption beside the validation, the segment's other routes.
    for (const r of CATALOGUE.filter((r) => r.method === 'post' && r.writes !== false)) {
      expect(isReadOnlyPost(sample(r.path)), r.path).toBe(false);
    }
    expect(isReadOnlyPost('/v1/vouchers/x-1/redemption')).toBe(false);
    expect(isReadOnlyPost('/v1/promotions/tiers/x-1/redemption')).toBe(false);
    expect(isReadOnlyPost('/v1/vouchers/a/b/validate')).toBe(false);
  });

  it('derives the body limits: 1 MiB but for the imports that stream, the bulk upsert and the order imports', () => {
    expect(MAX_BODY_BYTES).toBe(1024 * 1024);
    expect(Object.fromEntries(BODY_LIMITS)).toEqual({
      '/v1/customers/importCSV': 'streamed',
      '/console/imports/customers': 'streamed',
      '/v1/customers/bulk/async': MAX_BULK_BODY_BYTES,
      '/v1/orders/import': MAX_IMPORT_BODY_BYTES,
      '/v1/orders/importCSV': MAX_ORDER_CSV_BYTES,
    });
  });
});
