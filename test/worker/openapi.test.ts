import { describe, expect, it } from 'vitest';
import { app } from '../../worker/src/app';
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
        for (const scheme of (op.security ?? []).flatMap((s: object) => Object.keys(s))) expect(doc.components.securitySchemes[scheme]).toBeDefined();
      }
    }
  });

  it('lists every route app.ts mounts, and only routes it serves', async () => {
    const doc = await json(await call('/openapi.json'));
    const mounted = mountedRoutes();
    expect(mounted.length).toBeGreaterThan(30);
    const missing = mounted.filter(({ method, path }) => !doc.paths[path]?.[method]).map(({ method, path }) => `${method.toUpperCase()} ${path}`);
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
    expect(list.find((p: any) => p.name === 'limit')).toMatchObject({ in: 'query', required: false, schema: { type: 'string', pattern: '^\\d+$' } });
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
