/**
 * The operator console's size budget, part 2: the HTML of every page as the worker serves it,
 * with data in it (a page of 25 customers, a builder with 3 conditions), at most PAGE_BUDGET bytes
 * gzipped (what travels; a builder's rows repeat the catalogue's options and compress well), and a
 * builder at MAX_CONDITIONS rows too. Part 1 (htmx and the stylesheet) is test/client/console-size.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { MAX_CONDITIONS } from '../../shared/filter/operators';
import { api, json } from './helpers';
import { consoleGet, consolePost, html, signIn } from './console-helpers';

const PAGE_BUDGET = 4 * 1024;
/** The builder at the grammar's most conditions (30): still one small download. */
const FULL_BUILDER_BUDGET = 8 * 1024;

async function gzipped(text: string): Promise<number> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

describe('console page size budget', () => {
  it(`every page's HTML is at most ${PAGE_BUDGET} bytes gzipped`, async () => {
    const cookie = await signIn();
    for (let i = 0; i < 25; i++) {
      await api('POST', '/v1/customers', {
        source_id: `size-${i}@example.com`,
        email: `size-${i}@example.com`,
        name: `Size Customer ${i}`,
        metadata: { tier: 'gold' },
      });
    }
    const segment = await json(
      await api('POST', '/v1/segments', {
        name: 'Three conditions',
        type: 'auto-update',
        filter: {
          'metadata.tier': { conditions: { $is: ['gold'] } },
          'summary.orders.total_count': { conditions: { $less_than: [5] } },
          'events.viewed.count': { conditions: { $count_more: [0] } },
        },
      }),
    );
    await api('POST', '/v1/vouchers', { code: 'SIZE10', discount: { type: 'PERCENT', percent_off: 10 } });
    // Three promotions of three tiers each, every tier for the segment: the promotions page with data.
    const rule = await json(
      await api('POST', '/v1/validation-rules', {
        name: 'size members',
        rules: { '1': { name: 'customer.segment', conditions: { $is: [segment.id] } } },
      }),
    );
    let tierId = '';
    for (let p = 0; p < 3; p++) {
      const promotion = await json(
        await api('POST', '/v1/campaigns', {
          name: `Size promotion ${p}`,
          campaign_type: 'PROMOTION',
          promotion: {
            tiers: [0, 1, 2].map((t) => ({
              name: `Size tier ${p}.${t}`,
              banner: `${5 * (t + 1)} % off for members`,
              action: { discount: { type: 'PERCENT', percent_off: 5 * (t + 1) } },
              validation_rules: [rule.id],
            })),
          },
        }),
      );
      tierId = promotion.promotion.tiers[0].id;
    }
    const customer = await json(await api('GET', '/v1/customers/size-0@example.com'));
    const pages = [
      '/console/sign-in',
      '/console/segments',
      '/console/segments/new',
      `/console/segments/${segment.id}`,
      '/console/customers',
      `/console/customers/${customer.id}`,
      '/console/vouchers',
      '/console/campaigns',
      '/console/promotions',
      `/console/promotions/tiers/${tierId}`,
      '/console/simulator',
      '/console/imports',
    ];
    for (const path of pages) {
      const markup = path === '/console/sign-in' ? await (await consoleGet(path)).text() : await html(path, cookie);
      const bytes = await gzipped(markup);
      console.log(`${path}: ${markup.length} B raw, ${bytes} B gzip (budget ${PAGE_BUDGET} B)`);
      expect(bytes, path).toBeLessThanOrEqual(PAGE_BUDGET);
    }
    const verdict = await consolePost('/console/simulator', { code: 'SIZE10', amount: '20' }, { cookie });
    expect(await gzipped(await verdict.text())).toBeLessThanOrEqual(PAGE_BUDGET);
    // The qualification mode over the 9 tiers and the code, each offer with its explanation where the API gives one.
    const offers = await consolePost(
      '/console/simulator',
      { mode: 'qualify', customer: 'size-0@example.com', amount: '20', code: 'SIZE10' },
      { cookie },
    );
    const offersMarkup = await offers.text();
    expect(offersMarkup.match(/data-testid="offer"/g)?.length).toBe(10);
    const offersBytes = await gzipped(offersMarkup);
    console.log(`qualification verdict: ${offersMarkup.length} B raw, ${offersBytes} B gzip (budget ${PAGE_BUDGET} B)`);
    expect(offersBytes).toBeLessThanOrEqual(PAGE_BUDGET);

    // A builder with 30 conditions (MAX_CONDITIONS), as its re-render sends it.
    const rows = Array.from({ length: 30 }, (_, i) => i);
    const full = await consolePost(
      '/console/segments/builder',
      {
        name: 'x',
        type: 'auto-update',
        junction: 'and',
        against: '',
        field: rows.map(() => 'metadata'),
        key: rows.map((i) => `k${i}`),
        op: rows.map(() => '$is'),
        value: rows.map((i) => `v${i}`),
      },
      { cookie, headers: { 'HX-Request': 'true' } },
    );
    const fullMarkup = await full.text();
    expect(fullMarkup.match(/data-testid="builder-row"/g)?.length).toBe(30);
    const fullBytes = await gzipped(fullMarkup);
    console.log(`builder with 30 conditions: ${fullMarkup.length} B raw, ${fullBytes} B gzip (budget ${FULL_BUILDER_BUDGET} B)`);
    expect(fullBytes).toBeLessThanOrEqual(FULL_BUILDER_BUDGET);
  });
});

describe('the builder refuses more rows than a filter may hold before rendering them', () => {
  /** `n` bare rows as a hand-made form sends them: about 33 bytes of form per row. */
  const rowsForm = (n: number) => ({
    name: 'x',
    type: 'auto-update',
    junction: 'and',
    against: '',
    field: Array.from({ length: n }, () => 'name'),
    key: Array.from({ length: n }, () => ''),
    op: Array.from({ length: n }, () => '$is'),
    value: Array.from({ length: n }, () => 'x'),
  });
  /** The refusal: one alert, no row; a rendered row alone is about 4 KB. */
  const REFUSAL_BUDGET = 2 * 1024;

  it('a large form of rows to the builder, the preview and both saves answers a small 400, renders no row and saves nothing', async () => {
    const cookie = await signIn();
    const saved = await json(
      await api('POST', '/v1/segments', {
        name: 'Kept as it was',
        type: 'auto-update',
        filter: { name: { conditions: { $is: ['Ada'] } } },
      }),
    );
    const before = await json(await api('GET', '/v1/segments?limit=100'));
    for (const n of [MAX_CONDITIONS + 1, 2000]) {
      for (const [path, headers] of [
        ['/console/segments/builder', { 'HX-Request': 'true' }],
        ['/console/segments/preview', { 'HX-Request': 'true' }],
        ['/console/segments', {}],
        [`/console/segments/${saved.id}`, {}],
      ] as const) {
        const res = await consolePost(path, { ...rowsForm(n), ...(path.endsWith('builder') ? { add: '1' } : {}) }, { cookie, headers });
        const markup = await res.text();
        console.log(`${n} rows to ${path}: ${res.status}, ${markup.length} B of HTML`);
        expect(res.status, `${n} rows to ${path}`).toBe(400);
        expect(markup.length, `${n} rows to ${path}`).toBeLessThanOrEqual(REFUSAL_BUDGET);
        expect(markup).not.toContain('data-testid="builder-row"');
        expect(markup).toContain(`This form has ${n} conditions; a filter may have at most ${MAX_CONDITIONS}.`);
      }
    }
    expect(await json(await api('GET', '/v1/segments?limit=100'))).toEqual(before);
    expect((await json(await api('GET', `/v1/segments/${saved.id}`))).filter).toEqual(saved.filter);
  });

  it('at the limit, Add condition is turned off and adds nothing', async () => {
    const cookie = await signIn();
    const res = await consolePost(
      '/console/segments/builder',
      { ...rowsForm(MAX_CONDITIONS), add: '1' },
      { cookie, headers: { 'HX-Request': 'true' } },
    );
    expect(res.status).toBe(200);
    const markup = await res.text();
    expect(markup.match(/data-testid="builder-row"/g)?.length).toBe(MAX_CONDITIONS);
    expect(markup).toMatch(/<button[^>]*id="add-row"[^>]*disabled/);
    const fewer = await (
      await consolePost('/console/segments/builder', rowsForm(MAX_CONDITIONS - 1), { cookie, headers: { 'HX-Request': 'true' } })
    ).text();
    expect(fewer).not.toMatch(/<button[^>]*id="add-row"[^>]*disabled/);
  });
});
