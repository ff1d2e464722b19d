/**
 * The console over our segment API additions: POST /v1/segments/preview,
 * PUT /v1/segments/{id}, GET /v1/segments/{id}/sizes, POST /v1/segments/{id}/explain and
 * POST /v1/validations?explain=true. Written against their contract (shared/types.ts
 * SegmentPreview, SegmentExplanation, SegmentSize; shared/explain.ts ExplainNode): these tests
 * pass once those branches are merged with this one.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { api, json } from './helpers';
import { consoleGet, consolePost, html, signIn } from './console-helpers';

let cookie: string;
const text = (markup: string) =>
  markup
    .replace(/<[^>]+>/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/&#39;/g, "'")
    .replace(/\s+/g, ' ');
const htmx = { 'HX-Request': 'true' };
const builder = (fields: Record<string, string | string[]>) => ({
  name: 'Live',
  type: 'auto-update',
  junction: 'and',
  against: '',
  ...fields,
});

describe('console live preview (POST /v1/segments/preview)', () => {
  it("shows a live count and sample that equal the saved segment's members", async () => {
    cookie = await signIn();
    for (let i = 0; i < 7; i++) {
      await api('POST', '/v1/customers', { source_id: `live-${i}`, name: `Live ${i}`, metadata: { visits: i } });
    }
    const form = builder({ field: 'metadata', key: 'visits', op: '$more_than_equal', value: '3' });
    const preview = await (await consolePost('/console/segments/preview', form, { cookie, headers: htmx })).text();
    const count = Number(/data-testid="preview-count">(\d+)</.exec(preview)?.[1]);
    expect(count).toBe(4);
    expect(preview).toContain('data-testid="preview-sample"');
    expect(text(preview)).toMatch(/Live [3-6]/);

    const saved = await consolePost('/console/segments', { ...form, name: 'Frequent' }, { cookie });
    expect(saved.status).toBe(303);
    const id = /segments\/(seg_[^?]+)/.exec(saved.headers.get('Location') ?? '')?.[1];
    const members = await json(await api('GET', `/v1/customers?segment_id=${id}&limit=1`));
    expect(members.total).toBe(count);
  });

  it('editing a passive segment shows who would enter and leave, then saves it with PUT', async () => {
    const segment = await json(
      await api('POST', '/v1/segments', { name: 'Mid', type: 'passive', filter: { 'metadata.visits': { conditions: { $in: [1, 2] } } } }),
    );
    const page = await html(`/console/segments/${segment.id}`, cookie);
    expect(page).toContain('value="1, 2"');
    const diff = await (
      await consolePost(
        '/console/segments/preview',
        { ...builder({ field: 'metadata', key: 'visits', op: '$in', value: '2, 3' }), against: segment.id },
        { cookie, headers: htmx },
      )
    ).text();
    expect(text(diff)).toMatch(/1 would enter/);
    expect(text(diff)).toMatch(/1 would leave/);
    expect(text(diff)).toContain('Live 3');
    expect(text(diff)).toContain('Live 1');

    const put = await consolePost(
      `/console/segments/${segment.id}`,
      { ...builder({ field: 'metadata', key: 'visits', op: '$in', value: '2, 3' }), name: 'Mid', type: 'passive', against: segment.id },
      { cookie },
    );
    expect(put.status).toBe(303);
    expect((await json(await api('GET', `/v1/segments/${segment.id}`))).filter).toMatchObject({
      'metadata.visits': { conditions: { $in: ['2', '3'] } },
    });
  });

  it('draws the size history the cron keeps', async () => {
    const segment = await json(
      await api('POST', '/v1/segments', {
        name: 'Sized',
        type: 'auto-update',
        filter: { 'metadata.visits': { conditions: { $more_than: [4] } } },
      }),
    );
    const today = new Date().toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    await env.DB.batch([
      env.DB.prepare('INSERT INTO segment_sizes (segment_id, day, size) VALUES (?, ?, ?)').bind(segment.id, yesterday, 1),
      env.DB.prepare('INSERT INTO segment_sizes (segment_id, day, size) VALUES (?, ?, ?)').bind(segment.id, today, 2),
    ]);
    const cell = await (await consoleGet(`/console/segments/${segment.id}/size`, { cookie, headers: htmx })).text();
    expect(cell).toContain('data-testid="sparkline"');
    expect(cell).toContain('between 1 and 2, now 2');
  });
});

describe('console explanations', () => {
  it("answers a customer's why with the explanation tree: field, operator, expected, actual, pass", async () => {
    const customer = await json(await api('GET', '/v1/customers/live-5'));
    const segments = await json(await api('GET', `/v1/customers/${customer.id}/segments`));
    const frequent = segments.data.find((s: { name: string }) => s.name === 'Frequent');
    expect(frequent).toBeDefined();
    const why = await (await consoleGet(`/console/customers/${customer.id}/why/${frequent.id}`, { cookie, headers: htmx })).text();
    expect(why).toContain('data-testid="explain-tree"');
    expect(text(why)).toContain('Member of Frequent');
    expect(text(why)).toContain('metadata.visits');
    expect(text(why)).toContain('$more_than_equal');
    expect(why).toContain('data-passed="true"');
    expect(text(why)).toMatch(/actual 5/);
  });

  it('shows the validation explanation in the simulator', async () => {
    await api('POST', '/v1/vouchers', {
      code: 'LIVE10',
      discount: { type: 'PERCENT', percent_off: 10 },
      expiration_date: '2020-01-01T00:00:00.000Z',
    });
    const res = await consolePost('/console/simulator', { code: 'LIVE10', customer: 'live-5', amount: '30' }, { cookie });
    const markup = await res.text();
    expect(text(markup)).toContain('Verdict: Not valid');
    expect(markup).toContain('data-testid="explain-tree"');
    expect(markup).toContain('data-passed="false"');
  });
});
