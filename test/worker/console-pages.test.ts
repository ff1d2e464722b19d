/**
 * The console's pages render what the API holds, and their empty and error states.
 * Each empty state is checked before the data it is about exists (storage is per file).
 */
import { describe, expect, it } from 'vitest';
import { api, eventually, json } from './helpers';
import { consoleGet, consolePost, consoleUpload, html, signIn } from './console-helpers';

let cookie: string;

/** Text content without tags, whitespace collapsed: what a person reads. */
const text = (markup: string) =>
  markup
    .replace(/<[^>]+>/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

describe('console pages, empty', () => {
  it('customers, imports, vouchers, campaigns and segments say they are empty', async () => {
    cookie = await signIn();
    expect(text(await html('/console/customers', cookie))).toContain('No customers yet');
    const imports = text(await html('/console/imports', cookie));
    expect(imports).toContain('No imports yet');
    expect(imports).toContain('No exports yet');
    expect(text(await html('/console/vouchers', cookie))).toContain('No vouchers yet');
    expect(text(await html('/console/campaigns', cookie))).toContain('No campaigns yet');
  });
});

describe('console customers', () => {
  let customerId: string;
  let redemptionId: string;
  let segmentId: string;

  it('lists customers and searches them', async () => {
    cookie ??= await signIn();
    // Before the customer, so that she enters it (an initial sync records no entered event).
    segmentId = (
      await json(
        await api('POST', '/v1/segments', {
          name: 'Gold tier',
          type: 'auto-update',
          filter: { 'metadata.tier': { conditions: { $is: ['gold'] } } },
        }),
      )
    ).id;
    const created = await json(
      await api('POST', '/v1/customers', {
        source_id: 'ada@example.com',
        email: 'ada@example.com',
        name: 'Ada Lovelace',
        metadata: { tier: 'gold' },
      }),
    );
    customerId = created.id;
    await api('POST', '/v1/customers', { source_id: 'bob@example.com', email: 'bob@example.com', name: 'Bob' });
    const list = await html('/console/customers', cookie);
    expect(list).toContain('Ada Lovelace');
    expect(list).toContain(`href="/console/customers/${customerId}"`);
    expect(text(list)).toContain('2 customers');
    const found = text(await html('/console/customers?by=email&q=bob%40example.com', cookie));
    expect(found).toContain('Bob');
    expect(found).not.toContain('Ada Lovelace');
    expect(text(await html('/console/customers?by=name&q=Nobody', cookie))).toContain('No customer has name “Nobody”');
    // "Open" by source id goes to the customer page.
    const open = await consoleGet('/console/customers/open?ref=ada%40example.com', { cookie });
    expect(open.status).toBe(303);
    expect(open.headers.get('Location')).toBe('/console/customers/ada%40example.com');
  });

  it('shows a customer: profile, summary, segments, timeline, redemptions with rollback', async () => {
    const segment = { id: segmentId };
    expect(segment.id).toMatch(/^seg_/);
    expect((await api('POST', '/v1/vouchers', { code: 'CONSOLE5', discount: { type: 'AMOUNT', amount_off: 500 } })).status).toBe(200);
    const redeemed = await json(
      await api('POST', '/v1/vouchers/CONSOLE5/redemption', { customer: { source_id: 'ada@example.com' }, order: { amount: 2500 } }),
    );
    redemptionId = redeemed.id;
    expect(redemptionId).toBeTruthy();

    const markup = await html(`/console/customers/${customerId}`, cookie);
    const page = text(markup);
    expect(page).toContain('Customer Ada Lovelace');
    expect(page).toContain('ada@example.com');
    expect(page).toContain('"tier": "gold"');
    expect(markup).toMatch(/Orders<\/dt><dd>1<\/dd>/);
    expect(markup).toContain(`data-segment-id="${segment.id}"`);
    expect(markup).toContain(`hx-get="/console/customers/${customerId}/why/${segment.id}"`);
    expect(page).toContain('CONSOLE5');
    expect(markup).toContain(`/console/customers/${customerId}/redemptions/${redemptionId}/rollback`);
    // The merged timeline lists the segment entered and the redemption.
    expect(markup).toContain('customer.segment.entered');
    expect(markup).toMatch(/customer\.redemption\.succeeded/);

    // Rollback through the console (htmx): the section comes back without the button, rollback listed.
    const rolled = await consolePost(
      `/console/customers/${customerId}/redemptions/${redemptionId}/rollback`,
      {},
      { cookie, headers: { 'HX-Request': 'true' } },
    );
    expect(rolled.status).toBe(200);
    const section = await rolled.text();
    expect(section.startsWith('<section id="redemptions"')).toBe(true);
    expect(text(section)).toContain('Rolled back.');
    expect(text(section)).toContain('rollback');
    expect(section).not.toContain(`/redemptions/${redemptionId}/rollback`);
    const after = await json(await api('GET', `/v1/customers/${customerId}`));
    expect(after.summary.redemptions.total_rolled_back).toBe(1);

    // A second rollback of the same redemption: the API refuses, the page shows its error.
    const again = await consolePost(
      `/console/customers/${customerId}/redemptions/${redemptionId}/rollback`,
      {},
      { cookie, headers: { 'HX-Request': 'true' } },
    );
    expect(await again.text()).toContain('role="alert"');
  });

  it('shows the API error for an unknown customer', async () => {
    const res = await consoleGet('/console/customers/cust_nobody', { cookie });
    expect(res.status).toBe(404);
    const markup = await res.text();
    expect(markup).toContain('role="alert"');
    expect(text(markup)).toMatch(/not_found|Resource not found|cust_nobody/);
  });
});

describe('console imports and exports', () => {
  it('uploads a CSV, follows the action to DONE and lists the failed row', async () => {
    cookie ??= await signIn();
    const form = new FormData();
    const csv =
      'Source_id,Name,Email\nimp-1,Imported One,one@example.com\nimp-2,Imported Two,not-an-email\nimp-3,Imported Three,three@example.com\n';
    form.append('file', new Blob([csv], { type: 'text/csv' }), 'customers.csv');
    const res = await consoleUpload('/console/imports/customers', form, { cookie });
    expect(res.status).toBe(303);
    const location = res.headers.get('Location') ?? '';
    expect(location).toMatch(/^\/console\/imports\/actions\/aa_/);

    const pageMarkup = await html(location, cookie);
    expect(pageMarkup).toContain('<progress');
    // While it runs the fragment polls itself every second; once done it stops.
    const done = await eventually(async () => {
      const fragment = await (await consoleGet(`${location}/progress`, { cookie, headers: { 'HX-Request': 'true' } })).text();
      return fragment.includes('data-status="IN_PROGRESS"') ? (expect(fragment).toContain('hx-trigger="every 1s"'), undefined) : fragment;
    });
    expect(done).toContain('data-status="DONE"');
    expect(done).not.toContain('hx-trigger');
    expect(done).toContain('value="100"');
    expect(text(done)).toContain('100 %');
    expect(done).toContain('data-testid="failed-rows"');
    expect(text(done)).toMatch(/2 imp-2 .*email/);
    expect(text(await html('/console/imports', cookie))).toMatch(/DONE · 100 %/);
  });

  it('shows the import API error for a file without a header row', async () => {
    const form = new FormData();
    form.append('file', new Blob([''], { type: 'text/csv' }), 'empty.csv');
    const res = await consoleUpload('/console/imports/customers', form, { cookie });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('role="alert"');
  });

  it('creates an export and links its signed download', async () => {
    const res = await consolePost('/console/imports/exports', { exported_object: 'customer', segment_id: '', campaign_id: '' }, { cookie });
    expect(res.status).toBe(303);
    const markup = await html('/console/imports', cookie);
    const url = /href="(https:\/\/vouchsafe\.test\/v1\/exports\/[^"]+)"/.exec(markup)?.[1]?.replace(/&amp;/g, '&');
    expect(url).toBeDefined();
    const csv = await consoleGet(new URL(url as string).pathname + new URL(url as string).search);
    expect(csv.status).toBe(200);
    expect(await csv.text()).toContain('ada@example.com');
    // What the API refuses (an object it does not export), the page shows with its message.
    const bad = await consolePost('/console/imports/exports', { exported_object: 'order' }, { cookie });
    expect(bad.status).toBe(400);
    const markup2 = await bad.text();
    expect(markup2).toContain('role="alert"');
    expect(text(markup2)).toContain('only "customer", "voucher" and "publication" exports are supported');
  });
});

describe('console vouchers, campaigns and the simulator', () => {
  it('creates a voucher, refuses a bad discount and a taken code with the reason, disables and enables it', async () => {
    cookie ??= await signIn();
    const bad = await consolePost('/console/vouchers', { code: 'SPRING', discount_type: 'PERCENT', discount_value: '150' }, { cookie });
    expect(bad.status).toBe(400);
    const badText = text(await bad.text());
    expect(badText).toContain('a percentage above 0 and at most 100');
    // The form keeps what was typed.
    const created = await consolePost(
      '/console/vouchers',
      {
        code: 'SPRING',
        discount_type: 'PERCENT',
        discount_value: '15',
        start_date: '2026-01-01',
        expiration_date: '2099-12-31',
        quantity: '3',
      },
      { cookie },
    );
    expect(created.status).toBe(200);
    const createdText = text(await created.text());
    expect(createdText).toContain('Voucher SPRING created.');
    expect(createdText).toMatch(/SPRING 15 % off — 0 of 3 2026-01-01 00:00:00Z – 2099-12-31 00:00:00Z Active/);
    const voucher = await json(await api('GET', '/v1/vouchers/SPRING'));
    expect(voucher).toMatchObject({ discount: { type: 'PERCENT', percent_off: 15 }, redemption: { quantity: 3 }, active: true });

    const taken = await consolePost('/console/vouchers', { code: 'SPRING', discount_type: 'AMOUNT', discount_value: '5' }, { cookie });
    expect(taken.status).toBe(400);
    const takenMarkup = await taken.text();
    expect(takenMarkup).toContain('role="alert"');
    expect(takenMarkup).toContain('value="SPRING"');

    const off = await consolePost('/console/vouchers/SPRING/disable', {}, { cookie, headers: { 'HX-Request': 'true' } });
    expect(off.status).toBe(200);
    const row = await off.text();
    expect(row.startsWith(`<tr id="voucher-${voucher.id}"`)).toBe(true);
    expect(row).toContain('Disabled');
    expect(row).toContain('/console/vouchers/SPRING/enable');
    expect((await json(await api('GET', '/v1/vouchers/SPRING'))).active).toBe(false);
    const on = await consolePost('/console/vouchers/SPRING/enable', {}, { cookie });
    expect(on.status).toBe(303);
    expect((await json(await api('GET', '/v1/vouchers/SPRING'))).active).toBe(true);
  });

  it('creates a campaign with generated codes and lists it', async () => {
    const res = await consolePost(
      '/console/campaigns',
      { name: 'Autumn', discount_type: 'AMOUNT', discount_value: '7.50', vouchers_count: '3', prefix: 'AUT-' },
      { cookie },
    );
    expect(res.status).toBe(200);
    const markup = await res.text();
    expect(text(markup)).toContain('Campaign Autumn created.');
    expect(text(markup)).toMatch(/Autumn 7\.50 off \d+ — – — Active/);
    const campaignId = /href="\/console\/vouchers\?campaign_id=([^"]+)"/.exec(markup)?.[1];
    expect(campaignId).toBeDefined();
    // The codes are generated by the queue consumer, shortly after.
    await eventually(async () => {
      const codes = text(await html(`/console/vouchers?campaign_id=${campaignId}`, cookie));
      return codes.match(/AUT-[A-Z0-9]{8}/g)?.length === 3 ? true : undefined;
    });
    const bad = await consolePost(
      '/console/campaigns',
      { name: '', discount_type: 'AMOUNT', discount_value: '5', vouchers_count: '1' },
      { cookie },
    );
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('role="alert"');
  });

  it('simulates a validation: valid with its discount, and refused with the reason', async () => {
    const page = await html('/console/simulator', cookie);
    expect(page).toContain('<label for="sim-code">');
    const valid = await consolePost(
      '/console/simulator',
      { code: 'SPRING', customer: 'ada@example.com', amount: '40', items: 'shoes,2,20' },
      { cookie },
    );
    expect(valid.status).toBe(200);
    const verdict = text(await valid.text());
    expect(verdict).toContain('Verdict: Valid');
    expect(verdict).toContain('order 40.00, discount 6.00, to pay 34.00');
    const refused = await consolePost(
      '/console/simulator',
      { code: 'NO-SUCH-CODE', amount: '40' },
      { cookie, headers: { 'HX-Request': 'true' } },
    );
    const refusedText = text(await refused.text());
    expect(refusedText).toContain('Verdict: Not valid');
    expect(refusedText).toMatch(/NO-SUCH-CODE/);
    const badItems = await consolePost('/console/simulator', { code: 'SPRING', amount: '40', items: 'shoes;2;20' }, { cookie });
    expect(text(await badItems.text())).toContain('Items, line 1: write sku,quantity,price');
  });
});
