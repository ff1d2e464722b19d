// The webhook endpoints API (our addition: Voucherify configures webhooks in its
// dashboard, its docs' project-settings-webhooks.mdx), its validation, secret rotation, and the
// async_action.done trigger of migration 0021. Delivery itself: webhooks-delivery.test.ts (the
// engine's bookkeeping) and test/node/webhooks.test.ts (real receivers, the standardwebhooks library).
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { WEBHOOK_EVENT_TYPES } from '../../shared/webhook-events';
import { insertAsyncAction, updateAsyncAction } from '../../worker/src/db/async-actions';
import type { OutboxRow } from '../../worker/src/db/webhooks';
import { MAX_WEBHOOK_ENDPOINTS } from '../../worker/src/services/webhooks';
import { api, call, capturingQueue, json, SERVER_HEADERS } from './helpers';

// A loopback port nothing listens on: deliveries the background consumer may attempt fail fast.
const URL_ = 'http://127.0.0.1:9/hook';

const create = async (body: Record<string, unknown> = {}) => {
  const res = await api('POST', '/v1/webhooks', { url: URL_, events: ['customer.created'], ...body });
  expect(res.status).toBe(200);
  return json(res);
};

const base64Bytes = (secret: string) => Uint8Array.from(atob(secret.slice('whsec_'.length)), (c) => c.charCodeAt(0)).length;

describe('POST /v1/webhooks', () => {
  it('creates an endpoint and shows its Standard Webhooks secret once', async () => {
    const before = Date.now();
    const hook = await create({ events: ['customer.segment.entered', 'customer.segment.left'], description: 'CRM sync' });
    expect(hook).toMatchObject({
      object: 'webhook',
      url: URL_,
      events: ['customer.segment.entered', 'customer.segment.left'],
      description: 'CRM sync',
      enabled: true,
      disabled_reason: null,
      failing_since: null,
      previous_secret_expires_at: null,
      updated_at: null,
    });
    expect(hook.id).toMatch(/^wh_[0-9A-Za-z]{24}$/);
    expect(Date.parse(hook.created_at)).toBeGreaterThanOrEqual(before - 1);
    // Standard Webhooks: "whsec_" + base64 of at least 24 random bytes (spec/standard-webhooks.md "Signature scheme").
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    expect(base64Bytes(hook.secret)).toBeGreaterThanOrEqual(24);
    expect(hook.secret_masked).toBe(`whsec_…${hook.secret.slice(-4)}`);

    const got = await json(await api('GET', `/v1/webhooks/${hook.id}`));
    expect(got).not.toHaveProperty('secret');
    expect(got.secret_masked).toBe(hook.secret_masked);
    const { secret: _secret, ...shown } = hook;
    expect(got).toEqual(shown);

    const list = await json(await api('GET', '/v1/webhooks'));
    expect(list).toMatchObject({ object: 'list', data_ref: 'webhooks' });
    const listed = list.webhooks.find((w: { id: string }) => w.id === hook.id);
    expect(listed).toEqual(shown);
    expect(JSON.stringify(list)).not.toContain(hook.secret.slice('whsec_'.length));
  });

  it('each endpoint gets its own secret', async () => {
    const [a, b] = [await create(), await create()];
    expect(a.secret).not.toBe(b.secret);
  });

  it('subscribes to a set of event types: a type named twice is kept once', async () => {
    expect((await create({ events: ['voucher.created', 'voucher.created', 'voucher.deleted'] })).events).toEqual([
      'voucher.created',
      'voucher.deleted',
    ]);
  });

  it('accepts every event type of the catalogue', async () => {
    expect((await create({ events: [...WEBHOOK_EVENT_TYPES] })).events).toEqual([...WEBHOOK_EVENT_TYPES]);
  });

  const refused: [string, unknown, RegExp][] = [
    ['no url', { events: ['customer.created'] }, /^url: /],
    ['a url that is not one', { url: 'not a url', events: ['customer.created'] }, /^url: must be an absolute URL/],
    ['http to a public host', { url: 'http://example.com/hook', events: ['customer.created'] }, /^url: must be https/],
    ['another scheme', { url: 'ftp://example.com/hook', events: ['customer.created'] }, /^url: must be https/],
    [
      'credentials in the url',
      { url: 'https://user:pw@example.com/hook', events: ['customer.created'] },
      /^url: must not carry credentials/,
    ],
    ['no events', { url: 'https://example.com/hook' }, /^events: /],
    ['an empty event list', { url: 'https://example.com/hook', events: [] }, /^events: name at least one event type/],
    [
      'an unknown event type',
      { url: 'https://example.com/hook', events: ['customer.created', 'customer.exploded'] },
      /^events\[1\]: must be one of customer\.segment\.entered, /,
    ],
    ['a wildcard', { url: 'https://example.com/hook', events: ['*'] }, /^events\[0\]: must be one of /],
    ['events as a string', { url: 'https://example.com/hook', events: 'customer.created' }, /^events: /],
    ['a misspelt field', { url: 'https://example.com/hook', event: ['customer.created'], events: ['customer.created'] }, /event/],
    [
      'a description too long',
      { url: 'https://example.com/hook', events: ['customer.created'], description: 'x'.repeat(501) },
      /^description: /,
    ],
  ];
  it.each(refused)('refuses %s with a 400 naming the field', async (_what, body, details) => {
    const res = await api('POST', '/v1/webhooks', body);
    expect(res.status).toBe(400);
    const error = await json(res);
    expect(error).toMatchObject({
      code: 400,
      key: 'invalid_payload',
      message: 'Invalid payload',
      request_id: expect.stringMatching(/^v-/),
    });
    expect(error.details).toMatch(details);
  });

  it('allows loopback only as an IP literal, and only with WEBHOOK_ALLOW_HTTP_LOOPBACK=on or DEMO=on', async () => {
    const post = (url: string, bindings: Record<string, string>) =>
      call(
        '/v1/webhooks',
        {
          method: 'POST',
          headers: { ...SERVER_HEADERS, 'Content-Type': 'application/json' },
          body: JSON.stringify({ url, events: ['customer.created'] }),
        },
        bindings,
      );
    const off = { WEBHOOK_ALLOW_HTTP_LOOPBACK: 'off', DEMO: 'off' };
    expect((await post('http://127.0.0.1:8080/hook', off)).status).toBe(400);
    expect((await json(await post('http://localhost:8080/hook', off))).details).toBe('url: must be https');
    expect((await json(await post('https://127.0.0.1:8080/hook', off))).details).toBe(
      'url: must name a public host: 127.0.0.1 is a loopback address',
    );
    // The URL parser's other spellings of 127.0.0.1 are the same loopback literal.
    for (const url of [
      'http://127.0.0.1:8080/hook',
      'https://127.0.0.1/hook',
      'http://[::1]:9000/hook',
      'http://127.1:8080/hook',
      'http://0x7f000001/hook',
      'http://2130706433/hook',
      'http://127.0.0.2/hook',
    ]) {
      for (const allowed of [
        { WEBHOOK_ALLOW_HTTP_LOOPBACK: 'on', DEMO: 'off' },
        { WEBHOOK_ALLOW_HTTP_LOOPBACK: 'off', DEMO: 'on' },
      ]) {
        const res = await post(url, allowed);
        expect(res.status, url).toBe(200);
        // Room for the endpoint limit's test below.
        await api('DELETE', `/v1/webhooks/${(await json(res)).id}`);
      }
      expect((await post(url, off)).status, url).toBe(400);
    }
    // Loopback means a loopback address, not a name (localhost included) and not any other internal address.
    const on = { WEBHOOK_ALLOW_HTTP_LOOPBACK: 'on', DEMO: 'off' };
    const res = await post('http://127.0.0.1.nip.io/hook', on);
    expect(res.status).toBe(400);
    expect((await json(res)).details).toBe('url: must be https (http only to a loopback address: 127.0.0.1 or [::1])');
    expect((await json(await post('http://localhost/hook', on))).details).toBe(
      'url: must be https (http only to a loopback address: 127.0.0.1 or [::1])',
    );
    expect((await json(await post('https://localhost/hook', on))).details).toBe(
      'url: must name a public host: localhost is a local or metadata name',
    );
    expect((await json(await post('https://10.0.0.1/hook', { WEBHOOK_ALLOW_HTTP_LOOPBACK: 'off', DEMO: 'on' }))).details).toBe(
      'url: must name a public host: 10.0.0.1 is a private address',
    );
  });

  it(`keeps at most ${MAX_WEBHOOK_ENDPOINTS} endpoints`, async () => {
    const { total } = await json(await api('GET', '/v1/webhooks'));
    for (let i = total; i < MAX_WEBHOOK_ENDPOINTS; i++) await create();
    const res = await api('POST', '/v1/webhooks', { url: URL_, events: ['customer.created'] });
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({
      key: 'limit_exceeded',
      details: `A project has at most ${MAX_WEBHOOK_ENDPOINTS} webhooks; delete one first.`,
    });
    // Make room again for the tests after this one.
    const { webhooks } = await json(await api('GET', '/v1/webhooks'));
    for (const w of webhooks.slice(0, 10)) expect((await api('DELETE', `/v1/webhooks/${w.id}`)).status).toBe(204);
  });
});

describe('webhook URLs that name an internal host', () => {
  // Whoever holds the server key must not be able to make the worker call what only its own
  // network reaches (a local service, a cloud's metadata endpoint) and read how it answers.
  const internal: [url: string, details: string][] = [
    ['https://127.0.0.1:22/', 'url: must name a public host: 127.0.0.1 is a loopback address'],
    ['https://127.1/', 'url: must name a public host: 127.0.0.1 is a loopback address'],
    ['https://0x7f000001/', 'url: must name a public host: 127.0.0.1 is a loopback address'],
    ['https://2130706433/', 'url: must name a public host: 127.0.0.1 is a loopback address'],
    ['https://0177.0.0.1/', 'url: must name a public host: 127.0.0.1 is a loopback address'],
    ['https://[::1]/', 'url: must name a public host: [::1] is a loopback address'],
    ['https://[::ffff:127.0.0.1]/', 'url: must name a public host: [::ffff:7f00:1] is a loopback address inside an IPv6 address'],
    ['https://[::ffff:10.1.2.3]/', 'url: must name a public host: [::ffff:a01:203] is a private address inside an IPv6 address'],
    ['https://[::ffff:0:127.0.0.1]/', 'url: must name a public host: [::ffff:0:7f00:1] is a loopback address inside an IPv6 address'],
    ['https://[0:0:0:0:0:ffff:127.0.0.1]/', 'url: must name a public host: [::ffff:7f00:1] is a loopback address inside an IPv6 address'],
    ['https://[::1:2:3:4]/', 'url: must name a public host: [::1:2:3:4] is a reserved address'],
    ['https://0x7f.1/', 'url: must name a public host: 127.0.0.1 is a loopback address'],
    ['https://\uff11\uff12\uff17.\uff10.\uff10.\uff11/', 'url: must name a public host: 127.0.0.1 is a loopback address'],
    [
      'https://\u24db\u24de\u24d2\u24d0\u24db\u24d7\u24de\u24e2\u24e3/',
      'url: must name a public host: localhost is a local or metadata name',
    ],
    [
      'https://[64:ff9b::169.254.169.254]/',
      'url: must name a public host: [64:ff9b::a9fe:a9fe] is a link-local address inside an IPv6 address',
    ],
    ['https://10.0.0.1/admin', 'url: must name a public host: 10.0.0.1 is a private address'],
    ['https://172.16.5.4/', 'url: must name a public host: 172.16.5.4 is a private address'],
    ['https://172.31.255.255/', 'url: must name a public host: 172.31.255.255 is a private address'],
    ['https://192.168.1.1/', 'url: must name a public host: 192.168.1.1 is a private address'],
    ['https://0xc0a80101/', 'url: must name a public host: 192.168.1.1 is a private address'],
    ['https://169.254.169.254/latest/meta-data/', 'url: must name a public host: 169.254.169.254 is a link-local address'],
    ['https://100.64.0.1/', 'url: must name a public host: 100.64.0.1 is a carrier-grade NAT address'],
    ['https://100.100.100.200/', 'url: must name a public host: 100.100.100.200 is a carrier-grade NAT address'],
    ['https://0.0.0.0/', 'url: must name a public host: 0.0.0.0 is an unspecified address'],
    ['https://0/', 'url: must name a public host: 0.0.0.0 is an unspecified address'],
    ['https://[::]/', 'url: must name a public host: [::] is an unspecified address'],
    ['https://[fd00:ec2::254]/', 'url: must name a public host: [fd00:ec2::254] is a unique local address'],
    ['https://[fc00::1]/', 'url: must name a public host: [fc00::1] is a unique local address'],
    ['https://[fe80::1]/', 'url: must name a public host: [fe80::1] is a link-local address'],
    ['https://localhost/', 'url: must name a public host: localhost is a local or metadata name'],
    ['https://LOCALHOST./', 'url: must name a public host: localhost. is a local or metadata name'],
    ['https://api.localhost/', 'url: must name a public host: api.localhost is a local or metadata name'],
    [
      'https://metadata.google.internal/computeMetadata/v1/',
      'url: must name a public host: metadata.google.internal is a local or metadata name',
    ],
    ['https://metadata/', 'url: must name a public host: metadata is a local or metadata name'],
    ['https://intranet/', 'url: must name a public host: intranet is a name without a domain'],
    ['https://printer.local/', 'url: must name a public host: printer.local is a local or metadata name'],
  ];

  it.each(internal)('%s is refused at create, naming url, with or without the loopback switch', async (url, details) => {
    for (const bindings of [
      { WEBHOOK_ALLOW_HTTP_LOOPBACK: 'off', DEMO: 'off' },
      { WEBHOOK_ALLOW_HTTP_LOOPBACK: 'on', DEMO: 'on' },
    ]) {
      const res = await call(
        '/v1/webhooks',
        {
          method: 'POST',
          headers: { ...SERVER_HEADERS, 'Content-Type': 'application/json' },
          body: JSON.stringify({ url, events: ['customer.created'] }),
        },
        bindings,
      );
      // With the switch, a loopback IP literal is the one internal host allowed (local work).
      if (bindings.DEMO === 'on' && /is a loopback address$/.test(details)) {
        expect(res.status, url).toBe(200);
        await api('DELETE', `/v1/webhooks/${(await json(res)).id}`);
        continue;
      }
      expect(res.status, url).toBe(400);
      expect(await json(res)).toMatchObject({ code: 400, key: 'invalid_payload', details });
    }
  });

  it('an internal host is refused at update too, and the endpoint keeps its URL', async () => {
    const hook = await create({ url: 'https://hooks.example/in' });
    for (const [url, details] of internal) {
      const res = await call(
        '/v1/webhooks/' + hook.id,
        { method: 'PUT', headers: { ...SERVER_HEADERS, 'Content-Type': 'application/json' }, body: JSON.stringify({ url }) },
        { WEBHOOK_ALLOW_HTTP_LOOPBACK: 'off', DEMO: 'off' },
      );
      expect(res.status, url).toBe(400);
      expect((await json(res)).details).toBe(details);
    }
    expect((await json(await api('GET', `/v1/webhooks/${hook.id}`))).url).toBe('https://hooks.example/in');
  });

  it('public hosts and addresses next to the internal ranges are accepted', async () => {
    for (const url of [
      'https://hooks.example/in',
      'https://8.8.8.8/hook',
      'https://172.32.0.1/',
      'https://100.128.0.1/',
      'https://169.255.0.1/',
      'https://[2606:4700:4700::1111]/hook',
      'https://[::ffff:8.8.8.8]/',
      'https://xn--bcher-kva.example/',
    ]) {
      const res = await call(
        '/v1/webhooks',
        {
          method: 'POST',
          headers: { ...SERVER_HEADERS, 'Content-Type': 'application/json' },
          body: JSON.stringify({ url, events: ['customer.created'] }),
        },
        { WEBHOOK_ALLOW_HTTP_LOOPBACK: 'off', DEMO: 'off' },
      );
      expect(res.status, url).toBe(200);
      await api('DELETE', `/v1/webhooks/${(await json(res)).id}`);
    }
  });
});

describe('unknown webhooks', () => {
  it.each([
    ['GET', '/v1/webhooks/wh_missing'],
    ['PUT', '/v1/webhooks/wh_missing'],
    ['DELETE', '/v1/webhooks/wh_missing'],
    ['POST', '/v1/webhooks/wh_missing/secret/rotate'],
    ['GET', '/v1/webhooks/wh_missing/deliveries'],
    ['POST', '/v1/webhooks/wh_missing/deliveries/whd_x/retry'],
  ])('%s %s answers 404 in the Voucherify error shape', async (method, path) => {
    const res = await api(method, path, method === 'PUT' ? { enabled: false } : undefined);
    expect(res.status).toBe(404);
    // errors.mdx: {code, key, message, details, request_id} (+ resource_id/resource_type of the missing object).
    expect(await json(res)).toEqual({
      code: 404,
      key: 'not_found',
      message: 'Resource not found',
      details: 'Cannot find webhook with id wh_missing',
      request_id: expect.stringMatching(/^v-/),
      resource_id: 'wh_missing',
      resource_type: 'webhook',
    });
  });
});

describe('PUT /v1/webhooks/{id}', () => {
  it('changes what is given and keeps the rest', async () => {
    const hook = await create({ description: 'first' });
    const res = await api('PUT', `/v1/webhooks/${hook.id}`, {
      events: ['redemption.succeeded', 'redemption.failed'],
      url: 'https://hooks.example/v2',
    });
    expect(res.status).toBe(200);
    const updated = await json(res);
    expect(updated).toMatchObject({
      id: hook.id,
      url: 'https://hooks.example/v2',
      events: ['redemption.succeeded', 'redemption.failed'],
      description: 'first',
      enabled: true,
    });
    expect(updated.updated_at).toEqual(expect.any(String));
    expect(updated).not.toHaveProperty('secret');
    expect((await json(await api('PUT', `/v1/webhooks/${hook.id}`, { description: null }))).description).toBeNull();
  });

  it('disables and enables; an operator disabling gives no reason', async () => {
    const hook = await create();
    expect(await json(await api('PUT', `/v1/webhooks/${hook.id}`, { enabled: false }))).toMatchObject({
      enabled: false,
      disabled_reason: null,
    });
    expect((await json(await api('GET', `/v1/webhooks/${hook.id}`))).enabled).toBe(false);
    expect(await json(await api('PUT', `/v1/webhooks/${hook.id}`, { enabled: true }))).toMatchObject({
      enabled: true,
      disabled_reason: null,
      failing_since: null,
    });
  });

  it('validates like create, naming the field', async () => {
    const hook = await create();
    for (const [body, details] of [
      [{ url: 'http://example.com' }, /^url: must be https/],
      [{ events: [] }, /^events: /],
      [{ events: ['nope'] }, /^events\[0\]: /],
      [{ enabled: 'yes' }, /^enabled: /],
    ] as const) {
      const res = await api('PUT', `/v1/webhooks/${hook.id}`, body);
      expect(res.status).toBe(400);
      expect((await json(res)).details).toMatch(details);
    }
    expect(await json(await api('GET', `/v1/webhooks/${hook.id}`))).toMatchObject({ url: URL_, events: ['customer.created'] });
  });
});

describe('DELETE /v1/webhooks/{id}', () => {
  it('deletes the endpoint', async () => {
    const hook = await create();
    expect((await api('DELETE', `/v1/webhooks/${hook.id}`)).status).toBe(204);
    expect((await api('GET', `/v1/webhooks/${hook.id}`)).status).toBe(404);
  });
});

describe('POST /v1/webhooks/{id}/secret/rotate', () => {
  it('gives a new secret and keeps the old one valid for 24 hours', async () => {
    const hook = await create();
    const before = Date.now();
    const res = await api('POST', `/v1/webhooks/${hook.id}/secret/rotate`);
    expect(res.status).toBe(200);
    const rotated = await json(res);
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(hook.secret);
    expect(rotated.secret_masked).toBe(`whsec_…${rotated.secret.slice(-4)}`);
    const expires = Date.parse(rotated.previous_secret_expires_at);
    expect(expires).toBeGreaterThanOrEqual(before + 24 * 3600_000 - 5);
    expect(expires).toBeLessThanOrEqual(Date.now() + 24 * 3600_000);
    const row = await env.DB.prepare('SELECT secret, previous_secret FROM webhook_endpoints WHERE id = ?')
      .bind(hook.id)
      .first<{ secret: string; previous_secret: string }>();
    expect(row).toEqual({ secret: rotated.secret, previous_secret: hook.secret });

    // A second rotation keeps only the secret it replaces.
    const again = await json(await api('POST', `/v1/webhooks/${hook.id}/secret/rotate`));
    const after = await env.DB.prepare('SELECT secret, previous_secret FROM webhook_endpoints WHERE id = ?')
      .bind(hook.id)
      .first<{ secret: string; previous_secret: string }>();
    expect(after).toEqual({ secret: again.secret, previous_secret: rotated.secret });
    expect((await json(await api('GET', `/v1/webhooks/${hook.id}`))).previous_secret_expires_at).toEqual(expect.any(String));
  });
});

describe('async_action.done (migration 0021 triggers)', () => {
  const outbox = async (objectId: string) =>
    (
      await env.DB.prepare("SELECT * FROM webhook_outbox WHERE type = 'async_action.done' AND object_id = ?")
        .bind(objectId)
        .all<OutboxRow>()
    ).results;

  // The requests' dispatcher wake-ups go to a capturing queue: this file leaves no delivery running.
  const bulk = async (records: unknown[]) => {
    const res = await call(
      '/v1/customers/bulk/async',
      { method: 'POST', headers: { ...SERVER_HEADERS, 'Content-Type': 'application/json' }, body: JSON.stringify(records) },
      { WEBHOOKS: capturingQueue() as never },
    );
    expect(res.status).toBe(202);
    return json(res);
  };

  it('is written when an action ends, while an enabled endpoint subscribes to it', async () => {
    // Nobody subscribed (the endpoints of the tests above disabled): nothing is written.
    for (const w of (await json(await api('GET', '/v1/webhooks'))).webhooks) await api('PUT', `/v1/webhooks/${w.id}`, { enabled: false });
    const quiet = await bulk([{ source_id: 'aa-quiet' }]);
    expect(await outbox(quiet.async_action_id)).toEqual([]);

    const hook = await create({ events: ['async_action.done'] });
    const { async_action_id } = await bulk([{ source_id: 'aa-1', name: 'One' }]);
    const [event, ...more] = await outbox(async_action_id);
    expect(more).toEqual([]);
    expect(event?.id).toMatch(/^evt_[0-9a-f]{24}$/);
    expect(JSON.parse(event?.snapshot ?? 'null')).toMatchObject({
      id: async_action_id,
      type: 'CUSTOMERS.BULK_UPDATE',
      status: 'DONE',
      result: { done_count: 1, failed_count: 0 },
    });

    // An action that runs (a CSV import, a generation) writes its event when it ends, once.
    const now = Date.now();
    const running = {
      id: 'aa_running_1',
      type: 'CUSTOMERS.IMPORT_CSV' as const,
      status: 'IN_PROGRESS' as const,
      result: {},
      created_at: new Date(now).toISOString(),
      updated_at: new Date(now).toISOString(),
      request_id: 'v-1',
      progress: 0,
      processing_time: 0,
      object: 'async_action' as const,
    };
    await insertAsyncAction(env.DB, running as never).run();
    expect(await outbox('aa_running_1')).toEqual([]);
    const end = {
      status: 'FAILED' as const,
      operationStatus: 'FAILED' as const,
      progress: 100,
      result: { done_count: 0, failed_count: 1 },
      processingTime: 5,
      updatedAt: now + 5,
    };
    await updateAsyncAction(env.DB, 'aa_running_1', end as never).run();
    await updateAsyncAction(env.DB, 'aa_running_1', end as never).run();
    const [ended, ...twice] = await outbox('aa_running_1');
    expect(twice).toEqual([]);
    expect(ended).toMatchObject({ created_at: now + 5 });
    expect(JSON.parse(ended?.snapshot ?? 'null')).toMatchObject({ id: 'aa_running_1', status: 'FAILED', operation_status: 'FAILED' });

    // Disabled: nothing again.
    await api('PUT', `/v1/webhooks/${hook.id}`, { enabled: false });
    const off = await bulk([{ source_id: 'aa-off' }]);
    expect(await outbox(off.async_action_id)).toEqual([]);
  });
});
