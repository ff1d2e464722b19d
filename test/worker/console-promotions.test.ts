/**
 * The console's promotions pages and the simulator's "Which offers qualify?" mode, in workerd with
 * real D1, KV and queues: every action read back through the public API. Storage is per file, so
 * the empty state is checked before any promotion exists.
 */
import { describe, expect, it } from 'vitest';
import { api, json } from './helpers';
import { consoleGet, consolePost, html, signIn } from './console-helpers';

let cookie: string;

/** Text content without tags, whitespace collapsed: what a person reads. */
const text = (markup: string) =>
  markup
    .replace(/<[^>]+>/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/&#39;/g, "'")
    .replace(/\s+/g, ' ');

/** The `<li data-testid="offer">` of one offer in a qualification verdict, or undefined when it is not listed. */
const offerOf = (markup: string, id: string): string | undefined => {
  const start = markup.indexOf(`data-offer="${id}"`);
  if (start < 0) return undefined;
  const end = markup.indexOf('data-testid="offer"', start);
  return markup.slice(start, end < 0 ? undefined : end);
};

let segmentId: string;
let campaignId: string;
let tierId: string;

describe('console promotions', () => {
  it('says when there are no promotions, and has a nav entry', async () => {
    cookie = await signIn();
    const markup = await html('/console/promotions', cookie);
    expect(text(markup)).toContain('No promotions yet');
    expect(markup).toContain('<a href="/console/promotions" aria-current="page">Promotions</a>');
  });

  it('creates a promotion with a first tier for a segment and lists it with its segment', async () => {
    segmentId = (
      await json(
        await api('POST', '/v1/segments', {
          name: 'Gold members',
          type: 'auto-update',
          filter: { 'metadata.tier': { conditions: { $is: ['gold'] } } },
        }),
      )
    ).id;
    // The form offers the segments by name.
    expect(await html('/console/promotions', cookie)).toContain(`<option value="${segmentId}">Gold members</option>`);

    const res = await consolePost(
      '/console/promotions',
      {
        name: 'Gold week',
        tier_name: 'Gold ten',
        banner: '10 % off for Gold',
        discount_type: 'PERCENT',
        discount_value: '10',
        segment_id: segmentId,
        start_date: '',
        expiration_date: '2099-12-31',
      },
      { cookie },
    );
    expect(res.status).toBe(200);
    const markup = await res.text();
    const page = text(markup);
    expect(page).toContain('Promotion Gold week created.');
    expect(page).toMatch(/Gold ten 10 % off for Gold 10 % off 1 Active — – — Gold members/);
    expect(page).toContain('valid — – 2099-12-31 00:00:00Z');

    // Read back through the API: a PROMOTION campaign whose one tier carries the segment's rule.
    const list = await json(await api('GET', '/v1/campaigns?campaign_type=PROMOTION&limit=100'));
    expect(list.campaigns).toHaveLength(1);
    const campaign = list.campaigns[0];
    campaignId = campaign.id;
    expect(campaign).toMatchObject({ name: 'Gold week', campaign_type: 'PROMOTION', expiration_date: '2099-12-31T00:00:00.000Z' });
    const [tier] = campaign.promotion.tiers;
    tierId = tier.id;
    expect(tier).toMatchObject({
      name: 'Gold ten',
      banner: '10 % off for Gold',
      action: { discount: { type: 'PERCENT', percent_off: 10 } },
    });
    const ruleId = tier.validation_rule_assignments.data[0].rule_id;
    const rule = await json(await api('GET', `/v1/validation-rules/${ruleId}`));
    expect(rule.rules['1']).toEqual({ name: 'customer.segment', conditions: { $is: [segmentId] } });
    expect(markup).toContain(`href="/console/promotions/tiers/${tierId}"`);
  });

  it("refuses a bad discount with the reason, and shows the API's refusal of a tier it will not store", async () => {
    const bad = await consolePost(
      '/console/promotions',
      { name: 'Too much', tier_name: 'All', discount_type: 'PERCENT', discount_value: '150', segment_id: '' },
      { cookie },
    );
    expect(bad.status).toBe(400);
    const badMarkup = await bad.text();
    expect(badMarkup).toContain('role="alert"');
    expect(text(badMarkup)).toContain('Discount: a percentage above 0 and at most 100.');
    // The form keeps what was typed, and nothing was written.
    expect(badMarkup).toContain('value="Too much"');
    expect((await json(await api('GET', '/v1/campaigns?campaign_type=PROMOTION&limit=100'))).total).toBe(1);

    // A tier name of spaces passes the browser's `required` and the page; the API refuses it
    // (schemas/promotions.ts tierName: trimmed, at least one character) and the page shows its error.
    const refused = await consolePost(
      '/console/promotions',
      { name: 'Blank tier', tier_name: ' ', discount_type: 'AMOUNT', discount_value: '5', segment_id: '' },
      { cookie },
    );
    expect(refused.status).toBe(400);
    const refusedText = text(await refused.text());
    expect(refusedText).toContain('promotion.tiers[0].name: must not be empty');
    expect(refusedText).toMatch(/\(invalid_payload · [A-Za-z0-9_-]+\)/);
    expect((await json(await api('GET', '/v1/campaigns?campaign_type=PROMOTION&limit=100'))).total).toBe(1);
  });

  it('edits a tier: name, banner, discount, hierarchy and metadata, read back through the API', async () => {
    const form = await html(`/console/promotions/tiers/${tierId}`, cookie);
    expect(form).toContain('value="Gold ten"');
    expect(form).toMatch(/<option value="PERCENT" selected="">/);
    const saved = await consolePost(
      `/console/promotions/tiers/${tierId}`,
      {
        name: 'Gold fifteen',
        banner: '15 off for Gold',
        discount_type: 'AMOUNT',
        discount_value: '15',
        hierarchy: '3',
        metadata: '{"label": "gold"}',
      },
      { cookie },
    );
    expect(saved.status).toBe(200);
    expect(text(await saved.text())).toContain('Tier saved.');
    const tier = await json(await api('GET', `/v1/promotions/tiers/${tierId}`));
    expect(tier).toMatchObject({
      name: 'Gold fifteen',
      banner: '15 off for Gold',
      action: { discount: { type: 'AMOUNT', amount_off: 1500 } },
      hierarchy: 3,
      metadata: { label: 'gold' },
    });

    // What the page refuses (a discount, metadata that is not an object) and what the API refuses
    // (hierarchy 0: schemas/promotions.ts counts it from 1, the first tier to apply) are shown, and change nothing.
    const refusals: [Record<string, string>, string][] = [
      [{ discount_type: 'PERCENT', discount_value: '0' }, 'Discount: a percentage above 0 and at most 100.'],
      [{ metadata: '[1]' }, 'Metadata: a JSON object'],
      [{ hierarchy: '0' }, 'hierarchy: Too small'],
    ];
    for (const [change, message] of refusals) {
      const res = await consolePost(
        `/console/promotions/tiers/${tierId}`,
        { name: 'Changed', banner: '', discount_type: 'AMOUNT', discount_value: '15', hierarchy: '3', metadata: '{}', ...change },
        { cookie },
      );
      expect(res.status, message).toBe(400);
      const markup = await res.text();
      expect(markup).toContain('role="alert"');
      expect(text(markup)).toContain(message);
      expect(markup).toContain('value="Changed"');
    }
    expect((await json(await api('GET', `/v1/promotions/tiers/${tierId}`))).name).toBe('Gold fifteen');
    // An unknown tier: the API's 404 on the page.
    const missing = await consoleGet('/console/promotions/tiers/promo_nothing', { cookie });
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('role="alert"');
  });

  it('keeps what the discount fields cannot show (a limit) when the discount is not changed', async () => {
    const res = await api('POST', `/v1/promotions/${campaignId}/tiers`, {
      name: 'Capped',
      action: { discount: { type: 'PERCENT', percent_off: 20, amount_limit: 500 } },
    });
    expect(res.status).toBe(200);
    const capped = (await json(res)).id;
    const form = await html(`/console/promotions/tiers/${capped}`, cookie);
    // The page shows the percentage, and remembers what it showed.
    expect(form).toContain('name="discount_value" inputmode="decimal" required="" value="20"');
    expect(form).toContain('name="shown_discount_value" value="20"');
    const fields = { banner: '', hierarchy: '2', metadata: '{}', shown_discount_type: 'PERCENT', shown_discount_value: '20' };
    const renamed = await consolePost(
      `/console/promotions/tiers/${capped}`,
      { ...fields, name: 'Capped twenty', discount_type: 'PERCENT', discount_value: '20' },
      { cookie },
    );
    expect(renamed.status).toBe(200);
    expect(await json(await api('GET', `/v1/promotions/tiers/${capped}`))).toMatchObject({
      name: 'Capped twenty',
      action: { discount: { type: 'PERCENT', percent_off: 20, amount_limit: 500 } },
    });
    // Changed, the discount is the form's: the limit goes with the old one.
    await consolePost(
      `/console/promotions/tiers/${capped}`,
      { ...fields, name: 'Capped', discount_type: 'PERCENT', discount_value: '25' },
      { cookie },
    );
    const changed = (await json(await api('GET', `/v1/promotions/tiers/${capped}`))).action.discount;
    expect(changed).toMatchObject({ type: 'PERCENT', percent_off: 25 });
    expect(changed.amount_limit).toBeUndefined();
    expect((await api('DELETE', `/v1/promotions/tiers/${capped}`)).status).toBe(204);
  });

  it('disables and enables a tier (htmx: its row again; a plain post: back to the list)', async () => {
    const off = await consolePost(`/console/promotions/tiers/${tierId}/disable`, {}, { cookie, headers: { 'HX-Request': 'true' } });
    expect(off.status).toBe(200);
    const row = await off.text();
    expect(row.startsWith(`<tr id="tier-${tierId}"`)).toBe(true);
    expect(text(row)).toContain('Disabled');
    expect(text(row)).toContain('Gold members');
    expect(row).toContain(`/console/promotions/tiers/${tierId}/enable`);
    expect((await json(await api('GET', `/v1/promotions/tiers/${tierId}`))).active).toBe(false);
    const on = await consolePost(`/console/promotions/tiers/${tierId}/enable`, {}, { cookie });
    expect(on.status).toBe(303);
    expect(on.headers.get('Location')).toBe('/console/promotions');
    expect((await json(await api('GET', `/v1/promotions/tiers/${tierId}`))).active).toBe(true);
  });
});

describe("the simulator's qualification mode", () => {
  it('lists the tier for a segment member with its discount, and as not qualifying for another customer', async () => {
    await api('POST', '/v1/customers', { source_id: 'gold@example.com', metadata: { tier: 'gold' } });
    await api('POST', '/v1/customers', { source_id: 'plain@example.com', metadata: { tier: 'none' } });
    // A public code (offered to anyone, docs/qualifications.md) qualifies for both, explained by validate.
    expect((await api('POST', '/v1/vouchers', { code: 'OPEN5', discount: { type: 'AMOUNT', amount_off: 500 }, public: true })).status).toBe(
      200,
    );
    const ask = (customer: string) =>
      consolePost('/console/simulator', { mode: 'qualify', customer, amount: '40', items: 'shoes,2,20', code: '' }, { cookie });

    const forGold = await ask('gold@example.com');
    expect(forGold.status).toBe(200);
    const gold = await forGold.text();
    const goldTier = offerOf(gold, tierId);
    expect(goldTier).toBeDefined();
    expect(goldTier).toContain('data-qualifies="true"');
    // The tier as edited above: 15.00 off an order of 40.00.
    expect(text(goldTier as string)).toContain('Qualifies tier');
    expect(text(goldTier as string)).toContain('Gold fifteen “15 off for Gold” · 15.00 off: discount 15.00, to pay 25.00');
    const goldCode = offerOf(gold, 'OPEN5') as string;
    expect(goldCode).toContain('data-qualifies="true"');
    expect(text(goldCode)).toContain('5.00 off: discount 5.00, to pay 35.00');
    expect(goldCode).toContain('data-testid="explain-tree"');
    expect(text(gold)).toContain('2 of 2 offers qualify');

    const forPlain = await ask('plain@example.com');
    expect(forPlain.status).toBe(200);
    const plain = await forPlain.text();
    const plainTier = offerOf(plain, tierId);
    expect(plainTier).toBeDefined();
    expect(plainTier).toContain('data-qualifies="false"');
    expect(text(plainTier as string)).toContain('Does not qualify tier');
    expect(text(plainTier as string)).not.toContain('to pay');
    expect(offerOf(plain, 'OPEN5')).toContain('data-qualifies="true"');
    expect(text(plain)).toContain('1 of 2 offers qualify');
  });

  it('judges a typed code too, explained when it does not qualify; and refuses a bad cart before asking', async () => {
    await api('POST', '/v1/vouchers', { code: 'BIGCART', discount: { type: 'AMOUNT', amount_off: 100 }, public: false });
    const res = await consolePost(
      '/console/simulator',
      { mode: 'qualify', customer: 'plain@example.com', amount: '40', items: '', code: 'BIGCART' },
      { cookie, headers: { 'HX-Request': 'true' } },
    );
    const markup = await res.text();
    // Not public and nobody's: never a candidate, so the qualification leaves it out; validate explains.
    const code = offerOf(markup, 'BIGCART') as string;
    expect(code).toContain('data-qualifies="false"');
    expect(code).toContain('data-testid="explain-tree"');

    const bad = await consolePost('/console/simulator', { mode: 'qualify', amount: '40', items: 'shoes;2;20' }, { cookie });
    expect(text(await bad.text())).toContain('Items, line 1: write sku,quantity,price');
    // Validate without a code says what is missing instead of asking the API.
    const noCode = await consolePost('/console/simulator', { mode: 'validate', amount: '40' }, { cookie });
    expect(text(await noCode.text())).toContain('Voucher code: needed to validate');
  });

  it('deletes a tier: htmx swaps its row for nothing, and the API no longer has it', async () => {
    const res = await consolePost(`/console/promotions/tiers/${tierId}/delete`, {}, { cookie, headers: { 'HX-Request': 'true' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    expect((await api('GET', `/v1/promotions/tiers/${tierId}`)).status).toBe(404);
    // Deleted again (another tab, a plain post): the API's 404 on the list page.
    const again = await consolePost(`/console/promotions/tiers/${tierId}/delete`, {}, { cookie });
    expect(again.status).toBe(404);
    expect(await again.text()).toContain('role="alert"');
    const list = text(await html('/console/promotions', cookie));
    expect(list).toContain('Gold week');
    expect(list).toContain('No tiers.');
    expect(campaignId).toMatch(/^camp_/);
  });
});
