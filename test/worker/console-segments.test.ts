/**
 * The console's segments pages: the list with sizes, the builder's rows (catalogue fields, their
 * operators), its structural re-renders, and saving. What needs the preview,
 * PUT and size-history routes is in console-live.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { CUSTOMER_FIELDS } from '../../shared/customer-fields';
import { Sparkline } from '../../worker/src/console/pages/segments';
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

describe('console segments list', () => {
  it('says it is empty, then lists segments with their size counted after the page shows', async () => {
    cookie = await signIn();
    expect(text(await html('/console/segments', cookie))).toContain('No segments yet');
    for (const source_id of ['s1', 's2', 's3'])
      await api('POST', '/v1/customers', { source_id, metadata: { tier: source_id === 's3' ? 'silver' : 'gold' } });
    const gold = await json(
      await api('POST', '/v1/segments', {
        name: 'Gold',
        type: 'auto-update',
        filter: { 'metadata.tier': { conditions: { $is: ['gold'] } } },
      }),
    );
    const passive = await json(
      await api('POST', '/v1/segments', {
        name: 'Silver live',
        type: 'passive',
        filter: { 'metadata.tier': { conditions: { $is: ['silver'] } } },
      }),
    );
    const list = await html('/console/segments', cookie);
    expect(list).toContain(`href="/console/segments/${gold.id}"`);
    expect(list).toContain(`hx-get="/console/segments/${gold.id}/size"`);
    expect(list).toContain('hx-trigger="load"');
    expect(text(list)).toContain('Counting…');

    const goldSize = await (await consoleGet(`/console/segments/${gold.id}/size`, { cookie, headers: htmx })).text();
    expect(text(goldSize).trim()).toMatch(/^2 customers/);
    const passiveSize = await (await consoleGet(`/console/segments/${passive.id}/size`, { cookie, headers: htmx })).text();
    expect(text(passiveSize).trim()).toMatch(/^1 customer$/);
    // No history yet: no sparkline, and no error either.
    expect(goldSize).not.toContain('<svg');
    expect(goldSize).not.toContain('role="alert"');
    const unknown = await (await consoleGet('/console/segments/seg_nothing/size', { cookie, headers: htmx })).text();
    expect(unknown).toContain('role="alert"');
  });

  it('draws a size history as an inline SVG line with a text alternative', () => {
    const svg = String(
      Sparkline({
        sizes: [
          { day: '2026-11-01', size: 3 },
          { day: '2026-11-02', size: 5 },
          { day: '2026-11-03', size: 4 },
        ],
      }),
    );
    expect(svg).toContain('role="img"');
    expect(svg).toContain('aria-label="Size over 3 days, from 2026-11-01: between 3 and 5, now 4"');
    expect(svg).toMatch(/<polyline points="0\.0,22\.0 60\.0,2\.0 120\.0,12\.0"/);
    expect(Sparkline({ sizes: [{ day: '2026-11-01', size: 3 }] })).toBeNull();
  });
});

describe('console segment builder', () => {
  it('offers every catalogue field and the typed-key fields, with one blank condition to start', async () => {
    cookie ??= await signIn();
    const markup = await html('/console/segments/new', cookie);
    for (const field of CUSTOMER_FIELDS) expect(markup).toContain(`<option value="${field.path}">`);
    expect(markup).toContain('<option value="metadata">');
    expect(markup).toContain('<option value="events">');
    expect(markup).toContain('<label for="row-0-field">Field</label>');
    expect(markup).toContain('<label for="segment-name">Name</label>');
    // Typing asks for the count after a 300 ms pause; a structural change re-renders the rows.
    expect(markup).toContain('hx-trigger="input changed delay:300ms"');
    expect(markup).toContain('hx-post="/console/segments/builder"');
    // The blank row is a problem to finish, said before any request to the API.
    expect(text(markup)).toContain('Condition 1: choose a field');
  });

  it('re-renders the rows when a field changes (its operators), a row is added or removed', async () => {
    const form = {
      name: 'x',
      type: 'auto-update',
      junction: 'and',
      against: '',
      field: 'summary.orders.total_count',
      key: '',
      op: '$contains',
      value: '3',
    };
    const res = await consolePost('/console/segments/builder', form, { cookie, headers: htmx });
    expect(res.status).toBe(200);
    const markup = await res.text();
    expect(markup.startsWith('<div id="rows">')).toBe(true);
    // A number field: $contains is not offered, the first allowed operator is chosen.
    expect(markup).not.toContain('value="$contains"');
    expect(markup).toContain('<option value="$is" selected="">is</option>');
    expect(markup).toContain('<option value="$more_than">more than</option>');
    // The count comes along, out of band.
    expect(markup).toContain('<section id="preview"');
    expect(markup).toContain('hx-swap-oob="true"');

    const added = await (await consolePost('/console/segments/builder', { ...form, add: '1' }, { cookie, headers: htmx })).text();
    expect(added.match(/data-testid="builder-row"/g)?.length).toBe(2);
    expect(added).toMatch(/<select id="row-1-field" name="field" autofocus=""/);

    const metadata = await (
      await consolePost(
        '/console/segments/builder',
        { ...form, field: ['name', 'metadata'], key: ['', ''], op: ['$is', '$is'], value: ['Ada', ''] },
        { cookie, headers: htmx },
      )
    ).text();
    expect(metadata).toContain('<label for="row-1-key">Metadata key</label>');
    expect(text(metadata)).toContain('Condition 2: type the metadata key');

    const removed = await (
      await consolePost(
        '/console/segments/builder',
        { ...form, field: ['name', 'email'], key: ['', ''], op: ['$is', '$is'], value: ['Ada', 'a@b.c'], remove: '0' },
        { cookie, headers: htmx },
      )
    ).text();
    expect(removed.match(/data-testid="builder-row"/g)?.length).toBe(1);
    expect(removed).toContain('value="a@b.c"');
    expect(removed).not.toContain('value="Ada"');
    expect(removed).toMatch(/id="add-row"[^>]*autofocus=""/);
  });

  it('says what is wrong with the rows as you type, without asking the API', async () => {
    const res = await consolePost(
      '/console/segments/preview',
      { name: '', junction: 'or', against: '', field: ['name', 'name'], key: ['', ''], op: ['$is', '$starts_with'], value: ['Ada', 'B'] },
      { cookie, headers: htmx },
    );
    const markup = await res.text();
    expect(markup.startsWith('<section id="preview"')).toBe(true);
    expect(text(markup)).toContain('Condition 2: with "match any", name may appear once');
  });

  it('saves a new segment (POST /v1/segments) with the filter the rows build, and shows it', async () => {
    const res = await consolePost(
      '/console/segments',
      {
        name: 'Gold by builder',
        type: 'auto-update',
        junction: 'and',
        against: '',
        field: ['metadata', 'summary.orders.total_count'],
        key: ['tier', ''],
        op: ['$in', '$less_than'],
        value: ['gold, platinum', '5'],
      },
      { cookie },
    );
    expect(res.status).toBe(303);
    const location = res.headers.get('Location') ?? '';
    const id = /^\/console\/segments\/(seg_[A-Za-z0-9]+)\?saved=1$/.exec(location)?.[1];
    expect(id).toBeDefined();
    const saved = await json(await api('GET', `/v1/segments/${id}`));
    expect(saved).toMatchObject({
      name: 'Gold by builder',
      type: 'auto-update',
      filter: {
        junction: 'and',
        'metadata.tier': { conditions: { $in: ['gold', 'platinum'] } },
        'summary.orders.total_count': { conditions: { $less_than: ['5'] } },
      },
    });
    // Its page shows the same rows back, and its members are the API's.
    const markup = await html(location, cookie);
    expect(text(markup)).toContain('Saved.');
    expect(markup).toContain('value="gold, platinum"');
    expect(markup).toContain('value="tier"');
    expect(markup).toContain(`<input type="hidden" name="against" value="${id}"/>`);
    expect(markup).toContain(`href="/console/customers?segment_id=${id}"`);
    const members = text(await html(`/console/customers?segment_id=${id}`, cookie));
    expect(members).toContain('2 customers');
  });

  it('shows why a segment was not saved: the rows, or the API', async () => {
    const rows = await consolePost(
      '/console/segments',
      { name: 'Half', type: 'auto-update', junction: 'and', against: '', field: 'name', key: '', op: '$is', value: '' },
      { cookie },
    );
    expect(rows.status).toBe(400);
    const rowsText = text(await rows.text());
    expect(rowsText).toContain('Condition 1: type a value');
    expect((await json(await api('GET', '/v1/segments?limit=100'))).data.some((s: { name: string }) => s.name === 'Half')).toBe(false);

    const refused = await consolePost(
      '/console/segments',
      { name: '', type: 'auto-update', junction: 'and', against: '', field: 'name', key: '', op: '$is', value: 'Ada' },
      { cookie },
    );
    expect(refused.status).toBe(400);
    const markup = await refused.text();
    expect(markup).toContain('data-testid="save-error"');
    expect(text(markup)).toMatch(/name/);
    // What was typed stays.
    expect(markup).toContain('value="Ada"');
  });

  it('shows a static segment without a builder, and an unknown one as the API error', async () => {
    const customer = await json(await api('POST', '/v1/customers', { source_id: 'static-1' }));
    const fixed = await json(await api('POST', '/v1/segments', { name: 'Fixed', type: 'static', customers: [customer.id] }));
    const markup = await html(`/console/segments/${fixed.id}`, cookie);
    expect(text(markup)).toContain('A static segment');
    expect(markup).not.toContain('data-testid="builder"');
    const missing = await consoleGet('/console/segments/seg_missing', { cookie });
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('role="alert"');
  });
});
