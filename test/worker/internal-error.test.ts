import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, json } from './helpers';

// Storage is isolated per test file, so this file can break the schema to force a storage failure.
beforeAll(async () => {
  await env.DB.prepare('DROP TABLE customers').run();
});

describe('an unexpected failure', () => {
  it('answers 500 in the error shape without the storage error or a stack', async () => {
    const res = await api('GET', '/v1/customers/anyone');
    expect(res.status).toBe(500);
    const body = await json(res);
    expect(body).toMatchObject({ code: 500, key: 'internal_error', message: 'Internal Server Error' });
    expect(body.request_id).toBe(res.headers.get('X-Request-Id'));
    expect(JSON.stringify(body)).not.toMatch(/customers|SQLITE|D1|no such table|\.ts/);
  });
});
