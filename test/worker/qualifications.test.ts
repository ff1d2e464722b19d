/**
 * POST /v1/qualifications and /client/v1/qualifications (docs/qualifications.md): which offers are
 * candidates, one judge with validate, scenarios, filters, sorting and paging, staleness, and cost.
 * Storage is shared by the tests of this file: each test names its own codes (a prefix) and looks
 * only at those.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { app } from '../../worker/src/app';
import type { Env } from '../../worker/src/env';
import type { OfferRow } from '../../worker/src/db/qualifications';
import { pageOf } from '../../worker/src/services/qualifications';
import type { QualifiedOffer } from '../../worker/src/views/qualification';
import { CLIENT_HEADERS, api, call, counted, json, setHolder, settled, signAs } from './helpers';

const DAY = 86_400_000;

const voucher = async (code: string, body: Record<string, unknown>) => {
  const res = await api('POST', `/v1/vouchers/${encodeURIComponent(code)}`, { public: true, ...body });
  expect(res.status, code).toBe(200);
  return json(res);
};
const rule = async (rules: Record<string, unknown>, code: string) => {
  const r = await json(await api('POST', '/v1/validation-rules', { name: `rule for ${code}`, rules }));
  expect(
    (await api('POST', `/v1/validation-rules/${r.id}/assignments`, { related_object_type: 'voucher', related_object_id: code })).status,
  ).toBe(200);
  return r;
};
const qualify = async (body: Record<string, unknown>) => {
  const res = await api('POST', '/v1/qualifications', body);
  expect(res.status, JSON.stringify(body)).toBe(200);
  return json(res);
};
const clientQualify = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  call('/client/v1/qualifications', {
    method: 'POST',
    headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
/** Every qualified redeemable, walking the pages by `more_starting_after` (spec: qualifications.json:L45 "Paging"). */
async function qualifyAll(body: Record<string, unknown>, prefix: string): Promise<any[]> {
  const all: any[] = [];
  let after: string | undefined;
  for (let pages = 0; pages < 50; pages++) {
    const answer = await qualify({ ...body, options: { limit: 50, ...(after ? { starting_after: after } : {}) } });
    all.push(...answer.redeemables.data);
    if (!answer.redeemables.has_more) return all.filter((r) => r.id.startsWith(prefix));
    after = answer.redeemables.more_starting_after;
  }
  throw new Error('too many pages');
}
const ids = (redeemables: { id: string }[], prefix: string) =>
  redeemables
    .map((r) => r.id)
    .filter((id) => id.startsWith(prefix))
    .sort();

/** A promotion with one tier, made through the API as a shop makes it (promotions.create): the tier's id. */
async function createTier(name: string, discount: Record<string, unknown>, ruleId?: string): Promise<string> {
  const res = await api('POST', '/v1/campaigns', {
    name,
    campaign_type: 'PROMOTION',
    promotion: { tiers: [{ name: `${name} tier`, action: { discount }, ...(ruleId ? { validation_rules: [ruleId] } : {}) }] },
  });
  expect(res.status).toBe(200);
  const campaign = (await json(res)) as { promotion: { tiers: { id: string }[] } };
  return campaign.promotion.tiers[0]!.id;
}

describe('the answer', () => {
  it("is Voucherify's qualification shape, each redeemable priced as validate prices it", async () => {
    await voucher('SHAPE-10', { discount: { type: 'PERCENT', percent_off: 10 }, metadata: { label: 'ten' } });
    const answer = await qualify({ customer: { source_id: 'shape-1' }, order: { amount: 5000 } });
    // QualificationsCheckEligibilityResponseBody (voucherify-openapi documentation/openapi/qualifications.json:L397-L438).
    expect(answer).toMatchObject({
      redeemables: { object: 'list', data_ref: 'data' },
      order: { amount: 5000, object: 'order' },
      stacking_rules: { redeemables_limit: 30 },
    });
    expect(answer.tracking_id).toMatch(/^track_/);
    // QualificationsRedeemables (L670-L720): total counts the redeemables returned.
    expect(answer.redeemables.total).toBe(answer.redeemables.data.length);
    expect(typeof answer.redeemables.has_more).toBe('boolean');
    const shape = answer.redeemables.data.find((r: { id: string }) => r.id === 'SHAPE-10');
    // QualificationsRedeemableBase (L1544-L1630): id, object, created_at, result.discount, order, applicable_to, metadata, categories.
    expect(shape).toMatchObject({
      id: 'SHAPE-10',
      object: 'voucher',
      result: { discount: { type: 'PERCENT', percent_off: 10 } },
      order: { amount: 5000, discount_amount: 500, total_discount_amount: 500, total_amount: 4500, object: 'order' },
      applicable_to: { object: 'list', data_ref: 'data', data: [], total: 0 },
      inapplicable_to: { object: 'list', total: 0 },
      metadata: { label: 'ten' },
      categories: [],
    });
    expect(new Date(shape.created_at).toISOString()).toBe(shape.created_at);
    const validated = await json(await api('POST', '/v1/vouchers/SHAPE-10/validate', { order: { amount: 5000 } }));
    expect(shape.order).toEqual(validated.order);
  });

  it.each([
    ['a scenario not built, named', { scenario: 'PRODUCTS_DISCOUNT' }, 'PRODUCTS_DISCOUNT'],
    ['promotion stacks', { scenario: 'PROMOTION_STACKS' }, 'PROMOTION_STACKS'],
    ['an unknown scenario', { scenario: 'EVERYTHING' }, 'ALL, CUSTOMER_WALLET, AUDIENCE_ONLY'],
    // QualificationsOption.limit maximum 50 (L486).
    ['a limit past 50', { options: { limit: 51 } }, 'options.limit'],
    ['a filter field not in the spec', { options: { filters: { colour: { conditions: { $in: ['red'] } } } } }, 'colour'],
    ['a sorting rule not in the spec', { options: { sorting_rule: 'RANDOM' } }, 'sorting_rule'],
    ['a cursor that is no date', { options: { starting_after: 'yesterday' } }, 'starting_after'],
  ])('refuses %s with a 400 naming it', async (_, body, named) => {
    for (const res of [await api('POST', '/v1/qualifications', body), await clientQualify(body)]) {
      expect(res.status).toBe(400);
      const error = await json(res);
      expect(error).toMatchObject({ code: 400 });
      expect(JSON.stringify(error)).toContain(named);
    }
  });
});

describe('the candidates', () => {
  let candidateTier = '';
  beforeAll(async () => {
    await api('POST', '/v1/customers', { source_id: 'cand-holder' });
    await api('POST', '/v1/customers', { source_id: 'cand-other' });
    await voucher('CAND-PUBLIC', { discount: { type: 'AMOUNT', amount_off: 100 } });
    await voucher('CAND-PRIVATE', { discount: { type: 'AMOUNT', amount_off: 100 }, public: false });
    await voucher('CAND-HELD', { discount: { type: 'AMOUNT', amount_off: 100 }, public: false });
    await setHolder('CAND-HELD', 'cand-holder');
    // A public code published to someone is theirs: no one else's offer.
    await voucher('CAND-PUBLIC-HELD', { discount: { type: 'AMOUNT', amount_off: 100 } });
    await setHolder('CAND-PUBLIC-HELD', 'cand-other');
    const campaign = async (name: string, isPublic: boolean) => {
      const res = await api('POST', '/v1/campaigns', {
        name,
        public: isPublic,
        voucher: {
          type: 'DISCOUNT_VOUCHER',
          discount: { type: 'AMOUNT', amount_off: 100 },
          code_config: { prefix: `${name}-`, length: 6 },
        },
      });
      expect(res.status).toBe(200);
      const made = await json(res);
      expect(made.public).toBe(isPublic);
      for (const code of ['A', 'B']) expect((await api('POST', `/v1/campaigns/${made.id}/vouchers/${name}-${code}`, {})).status).toBe(200);
      return made;
    };
    await campaign('CAND-UNIQUE', false);
    await campaign('CAND-OPEN', true);
    candidateTier = await createTier('candidates promotion', { type: 'AMOUNT', amount_off: 250 });
  });

  it('server key: promotion tiers, codes marked public (or by their campaign) nobody holds, and the customer’s own codes', async () => {
    const forHolder = await qualifyAll({ customer: { source_id: 'cand-holder' }, order: { amount: 1000 } }, '');
    expect(ids(forHolder, 'CAND-')).toEqual(['CAND-HELD', 'CAND-OPEN-A', 'CAND-OPEN-B', 'CAND-PUBLIC']);
    const tier = forHolder.find((r) => r.id === candidateTier);
    expect(tier).toMatchObject({
      object: 'promotion_tier',
      name: 'candidates promotion tier',
      result: { discount: { type: 'AMOUNT', amount_off: 250 } },
    });
    // Another customer: not the holder's code, and their own (public, published to them) instead.
    const forOther = await qualifyAll({ customer: { source_id: 'cand-other' }, order: { amount: 1000 } }, 'CAND-');
    expect(ids(forOther, 'CAND-')).toEqual(['CAND-OPEN-A', 'CAND-OPEN-B', 'CAND-PUBLIC', 'CAND-PUBLIC-HELD']);
    // Nobody: the offers to anyone only.
    expect(ids(await qualifyAll({ order: { amount: 1000 } }, 'CAND-'), 'CAND-')).toEqual(['CAND-OPEN-A', 'CAND-OPEN-B', 'CAND-PUBLIC']);
  });

  it('the public mark is read and written with the voucher and the campaign', async () => {
    expect((await json(await api('GET', '/v1/vouchers/CAND-PUBLIC'))).public).toBe(true);
    expect((await json(await api('GET', '/v1/vouchers/CAND-PRIVATE'))).public).toBe(false);
    const updated = await json(await api('PUT', '/v1/vouchers/CAND-PRIVATE', { public: true }));
    expect(updated.public).toBe(true);
    expect(ids(await qualifyAll({}, 'CAND-PRIVATE'), 'CAND-')).toEqual(['CAND-PRIVATE']);
    await api('PUT', '/v1/vouchers/CAND-PRIVATE', { public: false });
    expect(await qualifyAll({}, 'CAND-PRIVATE')).toEqual([]);
    const campaign = (await json(await api('GET', '/v1/campaigns?limit=100'))).campaigns.find((c: any) => c.name === 'CAND-UNIQUE');
    expect(campaign.public).toBe(false);
    expect((await json(await api('PUT', `/v1/campaigns/${campaign.id}`, { public: true }))).public).toBe(true);
    expect(ids(await qualifyAll({}, 'CAND-UNIQUE'), 'CAND-')).toEqual(['CAND-UNIQUE-A', 'CAND-UNIQUE-B']);
    await api('PUT', `/v1/campaigns/${campaign.id}`, { public: false });
    expect(await qualifyAll({}, 'CAND-UNIQUE')).toEqual([]);
  });

  it('client key: the customer’s own codes only for a verified customer; the answer names nobody', async () => {
    const signed = { 'X-Vouchsafe-Identity-Signature': await signAs('source_id', 'cand-holder') };
    const body = { customer: { source_id: 'cand-holder' }, order: { amount: 1000 }, options: { limit: 50 } };
    const verified = await json(await clientQualify(body, signed));
    expect(ids(verified.redeemables.data, 'CAND-')).toEqual(['CAND-HELD', 'CAND-OPEN-A', 'CAND-OPEN-B', 'CAND-PUBLIC']);
    expect(verified.redeemables.data.map((r: { id: string }) => r.id)).toContain(candidateTier);
    // Unsigned, the claim is nobody's: the offers to anyone only.
    const unsigned = await json(await clientQualify(body));
    expect(ids(unsigned.redeemables.data, 'CAND-')).toEqual(['CAND-OPEN-A', 'CAND-OPEN-B', 'CAND-PUBLIC']);
    const holderId = (await json(await api('GET', '/v1/customers/cand-holder'))).id;
    for (const answer of [verified, unsigned]) {
      expect(JSON.stringify(answer)).not.toContain(holderId);
      expect(answer.order.customer_id).toBeNull();
    }
  });
});

/**
 * One judge: over a table of offers and of shoppers and carts, the codes and promotion tiers a
 * qualification lists are exactly those POST /v1/validations accepts for that shopper and cart
 * (a code as a `voucher` redeemable, a tier as a `promotion_tier` one), with the same discount.
 */
describe('one judge with validate', () => {
  const P = 'J-';
  /** The table's tiers by name, made through promotions.create (POST /v1/campaigns, campaign_type PROMOTION). */
  const tiers = new Map<string, string>();
  const carts = {
    small: { amount: 500 },
    big: { amount: 5000 },
    'with the product': { amount: 3000, items: [{ product_id: 'prod_judge', quantity: 1, price: 3000 }] },
  };
  const shoppers = {
    'a gold member who redeemed the limited code': { source_id: 'judge-gold' },
    'a plain customer': { source_id: 'judge-plain' },
    'an anonymous visitor': undefined,
  };

  beforeAll(async () => {
    await api('POST', '/v1/customers', { source_id: 'judge-gold', metadata: { tier: 'gold' } });
    await api('POST', '/v1/customers', { source_id: 'judge-plain' });
    const gold = await json(
      await api('POST', '/v1/segments', {
        name: 'judge gold',
        type: 'auto-update',
        filter: { 'metadata.tier': { conditions: { $is: ['gold'] } } },
      }),
    );
    await voucher(`${P}PLAIN`, { discount: { type: 'AMOUNT', amount_off: 200 } });
    await voucher(`${P}SEGMENT`, { discount: { type: 'PERCENT', percent_off: 20 } });
    await rule({ '1': { name: 'customer.segment', conditions: { $is: [gold.id] } } }, `${P}SEGMENT`);
    await voucher(`${P}BIG-ORDER`, { discount: { type: 'AMOUNT', amount_off: 700 } });
    await rule({ '1': { name: 'order.amount', conditions: { $more_than: [1000] } } }, `${P}BIG-ORDER`);
    await voucher(`${P}ITEM`, { discount: { type: 'AMOUNT', amount_off: 300 } });
    await rule({ '1': { name: 'order.items.any', conditions: { $is: [{ id: 'prod_judge', object: 'product' }] } } }, `${P}ITEM`);
    await voucher(`${P}ONCE`, { discount: { type: 'AMOUNT', amount_off: 100 } });
    await rule({ '1': { name: 'redemption.count.per_customer', conditions: { $less_than_or_equal: [1] } } }, `${P}ONCE`);
    await voucher(`${P}DISABLED`, { discount: { type: 'AMOUNT', amount_off: 100 }, active: false });
    await voucher(`${P}EXPIRED`, {
      discount: { type: 'AMOUNT', amount_off: 100 },
      start_date: new Date(Date.now() - 3 * DAY).toISOString(),
      expiration_date: new Date(Date.now() - DAY).toISOString(),
    });
    await voucher(`${P}LATER`, { discount: { type: 'AMOUNT', amount_off: 100 }, start_date: new Date(Date.now() + DAY).toISOString() });
    await voucher(`${P}USED-UP`, { discount: { type: 'AMOUNT', amount_off: 100 }, redemption: { quantity: 1 } });
    const today = new Date().getUTCDay();
    await voucher(`${P}NOT-TODAY`, { discount: { type: 'AMOUNT', amount_off: 100 }, validity_day_of_week: [(today + 3) % 7] });
    await voucher(`${P}TODAY`, { discount: { type: 'AMOUNT', amount_off: 100 }, validity_day_of_week: [today] });
    await voucher(`${P}ITEMS-OFF`, { discount: { type: 'PERCENT', percent_off: 50, effect: 'APPLY_TO_ITEMS' } });
    await rule({ '1': { name: 'order.items.any', conditions: { $is: [{ id: 'prod_judge', object: 'product' }] } } }, `${P}ITEMS-OFF`);
    const tierRule = async (rules: Record<string, unknown>) =>
      (await json(await api('POST', '/v1/validation-rules', { name: 'tier rule', rules }))).id as string;
    const promotion = async (name: string, list: Record<string, unknown>[], campaign: Record<string, unknown> = {}) => {
      const res = await api('POST', '/v1/campaigns', { name, campaign_type: 'PROMOTION', ...campaign, promotion: { tiers: list } });
      expect(res.status, name).toBe(200);
      for (const t of (await json(res)).promotion.tiers as { id: string; name: string }[]) tiers.set(t.name, t.id);
    };
    const off = (amount_off: number) => ({ discount: { type: 'AMOUNT', amount_off } });
    await promotion('judge promotion', [
      { name: 'plain', action: off(150) },
      {
        name: 'gold',
        action: { discount: { type: 'PERCENT', percent_off: 15 } },
        validation_rules: [await tierRule({ '1': { name: 'customer.segment', conditions: { $is: [gold.id] } } })],
      },
      {
        name: 'big order',
        action: off(400),
        validation_rules: [await tierRule({ '1': { name: 'order.amount', conditions: { $more_than: [1000] } } })],
      },
      {
        name: 'once',
        action: off(50),
        validation_rules: [await tierRule({ '1': { name: 'redemption.count.per_customer', conditions: { $less_than_or_equal: [1] } } })],
      },
      { name: 'disabled', active: false, action: off(50) },
    ]);
    await promotion('judge promotion ended', [{ name: 'campaign ended', action: off(50) }], {
      start_date: new Date(Date.now() - 3 * DAY).toISOString(),
      expiration_date: new Date(Date.now() - DAY).toISOString(),
    });
    const once = await api('POST', `/v1/promotions/tiers/${tiers.get('once')}/redemption`, {
      customer: { source_id: 'judge-gold' },
      order: { amount: 1000 },
    });
    expect(once.status).toBe(200);
    for (const [code, source] of [
      [`${P}ONCE`, 'judge-gold'],
      [`${P}USED-UP`, 'judge-plain'],
    ] as const) {
      const res = await api('POST', `/v1/vouchers/${code}/redemption`, { customer: { source_id: source }, order: { amount: 1000 } });
      expect(res.status, code).toBe(200);
    }
  });

  const cases = Object.entries(shoppers).flatMap(([who, customer]) =>
    Object.entries(carts).map(([cart, order]) => [who, cart, customer, order] as const),
  );

  it.each(cases)('%s, %s cart', async (_who, _cart, customer, order) => {
    const codes = (await json(await api('GET', '/v1/vouchers?limit=100'))).vouchers
      .map((v: { code: string }) => v.code)
      .filter((c: string) => c.startsWith(P));
    expect(codes.length).toBe(12);
    const context = { ...(customer ? { customer } : {}), order };
    const accepted = new Map<string, unknown>();
    for (const code of codes) {
      const res = await json(await api('POST', '/v1/validations', { ...context, redeemables: [{ object: 'voucher', id: code }] }));
      if (res.valid) accepted.set(code, res.redeemables[0].order);
    }
    expect(tiers.size).toBe(6);
    for (const id of tiers.values()) {
      const res = await json(await api('POST', '/v1/validations', { ...context, redeemables: [{ object: 'promotion_tier', id }] }));
      if (res.valid) accepted.set(id, res.redeemables[0].order);
    }
    const ours = new Set([...tiers.values()]);
    const qualified = [...(await qualifyAll(context, P)), ...(await qualifyAll(context, 'promo_')).filter((r) => ours.has(r.id))];
    expect(qualified.map((r) => r.id).sort()).toEqual([...accepted.keys()].sort());
    for (const r of qualified) expect(r.order, r.id).toEqual(accepted.get(r.id));
    // Each kind of refusal is in the table somewhere: none of these is listed for anyone.
    for (const never of ['DISABLED', 'EXPIRED', 'LATER', 'USED-UP', 'NOT-TODAY']) expect(accepted.has(`${P}${never}`)).toBe(false);
    for (const never of ['disabled', 'campaign ended']) expect(accepted.has(tiers.get(never)!)).toBe(false);
    expect(accepted.has(tiers.get('plain')!)).toBe(true);
  });

  it('the table holds both verdicts for the rules that depend on the shopper and the cart', async () => {
    const listed = async (customer: unknown, order: unknown) => ids(await qualifyAll({ ...(customer ? { customer } : {}), order }, P), P);
    const goldBig = await listed({ source_id: 'judge-gold' }, carts.big);
    const plainSmall = await listed({ source_id: 'judge-plain' }, carts.small);
    expect(goldBig).toContain(`${P}SEGMENT`);
    expect(plainSmall).not.toContain(`${P}SEGMENT`);
    expect(goldBig).toContain(`${P}BIG-ORDER`);
    expect(plainSmall).not.toContain(`${P}BIG-ORDER`);
    expect(goldBig).not.toContain(`${P}ONCE`);
    expect(plainSmall).toContain(`${P}ONCE`);
    expect(await listed({ source_id: 'judge-plain' }, carts['with the product'])).toEqual(
      expect.arrayContaining([`${P}ITEM`, `${P}ITEMS-OFF`, `${P}TODAY`]),
    );
    const listedTiers = async (customer: unknown, order: unknown) =>
      (await qualifyAll({ ...(customer ? { customer } : {}), order }, 'promo_')).map((r) => r.name);
    const tiersGoldBig = await listedTiers({ source_id: 'judge-gold' }, carts.big);
    const tiersPlainSmall = await listedTiers({ source_id: 'judge-plain' }, carts.small);
    expect(tiersGoldBig).toEqual(expect.arrayContaining(['gold', 'big order']));
    expect(tiersGoldBig).not.toContain('once');
    expect(tiersPlainSmall).toContain('once');
    expect(tiersPlainSmall).not.toContain('gold');
    expect(tiersPlainSmall).not.toContain('big order');
  });
});

describe('scenarios, filters, sorting and paging', () => {
  const P = 'S-';
  beforeAll(async () => {
    await api('POST', '/v1/customers', { source_id: 'scen-1' });
    await voucher(`${P}SMALL`, { discount: { type: 'AMOUNT', amount_off: 100 } });
    await voucher(`${P}LARGE`, { discount: { type: 'AMOUNT', amount_off: 900 } });
    await voucher(`${P}MEDIUM`, { discount: { type: 'AMOUNT', amount_off: 500 } });
    await voucher(`${P}BIG-CART`, { discount: { type: 'AMOUNT', amount_off: 50 } });
    await rule({ '1': { name: 'order.amount', conditions: { $more_than: [100_000] } } }, `${P}BIG-CART`);
    await voucher(`${P}MINE`, { discount: { type: 'AMOUNT', amount_off: 10 }, public: false });
    await setHolder(`${P}MINE`, 'scen-1');
  });
  const base = { customer: { source_id: 'scen-1' }, order: { amount: 2000 } };

  it('CUSTOMER_WALLET: the customer’s own codes only', async () => {
    const answer = await qualify({ ...base, scenario: 'CUSTOMER_WALLET', options: { limit: 50 } });
    expect(answer.redeemables.data.map((r: { id: string }) => r.id)).toEqual([`${P}MINE`]);
  });

  it('AUDIENCE_ONLY: the order rules are not judged, everything else is', async () => {
    const all = ids((await qualify({ ...base, options: { limit: 50 } })).redeemables.data, P);
    expect(all).not.toContain(`${P}BIG-CART`);
    const audience = ids((await qualify({ ...base, scenario: 'AUDIENCE_ONLY', options: { limit: 50 } })).redeemables.data, P);
    expect(audience).toEqual([...all, `${P}BIG-CART`].sort());
  });

  it('filters by resource type, code, voucher type, campaign and holder role, joined by and / or', async () => {
    const listed = async (filters: unknown) => ids((await qualify({ ...base, options: { limit: 50, filters } })).redeemables.data, '');
    expect(await listed({ resource_type: { conditions: { $in: ['promotion_tier'] } } })).toEqual(
      (await listed({})).filter((id) => id.startsWith('promo_')),
    );
    expect((await listed({ resource_type: { conditions: { $in: ['voucher'] } } })).filter((id) => id.startsWith('promo_'))).toEqual([]);
    expect(await listed({ code: { conditions: { $in: [`${P}SMALL`, `${P}LARGE`] } } })).toEqual([`${P}LARGE`, `${P}SMALL`]);
    expect(await listed({ holder_role: { conditions: { $is: ['OWNER'] } } })).toEqual([`${P}MINE`]);
    expect(await listed({ campaign_id: { conditions: { $is_unknown: true } }, code: { conditions: { $in: [`${P}SMALL`] } } })).toEqual([
      `${P}SMALL`,
    ]);
    expect(
      await listed({
        junction: 'or',
        code: { conditions: { $in: [`${P}SMALL`] } },
        holder_role: { conditions: { $is: ['OWNER'] } },
      }),
    ).toEqual([`${P}MINE`, `${P}SMALL`]);
    expect(await listed({ voucher_type: { conditions: { $in: ['GIFT_VOUCHERS'] } } })).toEqual([]);
  });

  it('BEST_DEAL and LEAST_DEAL order by the discount on this order', async () => {
    const order = async (sorting_rule: string) =>
      (
        await qualify({
          ...base,
          options: { limit: 50, sorting_rule, filters: { code: { conditions: { $in: [`${P}SMALL`, `${P}LARGE`, `${P}MEDIUM`] } } } },
        })
      ).redeemables.data.map((r: { id: string }) => r.id);
    expect(await order('BEST_DEAL')).toEqual([`${P}LARGE`, `${P}MEDIUM`, `${P}SMALL`]);
    expect(await order('LEAST_DEAL')).toEqual([`${P}SMALL`, `${P}MEDIUM`, `${P}LARGE`]);
    // DEFAULT: newest first (qualifications.json:L662 "Sorting descending by created_at").
    expect(await order('DEFAULT')).toEqual([`${P}MEDIUM`, `${P}LARGE`, `${P}SMALL`]);
  });

  it('pages by created_at: every offer once, newest first, has_more and the cursor while there are more', async () => {
    const everything = (await qualify({ ...base, options: { limit: 50 } })).redeemables.data.map((r: { id: string }) => r.id);
    const walked: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = (await qualify({ ...base, options: { limit: 2, ...(after ? { starting_after: after } : {}) } })).redeemables;
      // Longer than the limit only when one group made in the same millisecond fills it (a
      // promotion's tiers are made in one batch): the cursor cannot split such a group.
      if (page.data.length > 2) expect(new Set(page.data.map((r: { created_at: string }) => r.created_at)).size).toBe(1);
      expect(page.total).toBe(page.data.length);
      walked.push(...page.data.map((r: { id: string }) => r.id));
      if (!page.has_more) {
        expect(page).not.toHaveProperty('more_starting_after');
        break;
      }
      expect(page.more_starting_after).toBe(page.data[page.data.length - 1].created_at);
      after = page.more_starting_after;
    }
    expect(walked).toEqual(everything);
    expect(new Set(walked).size).toBe(walked.length);
  });

  it('a page never ends inside offers made in the same millisecond (the cursor could not tell them apart)', () => {
    const offer = (code: string, created_at: number) => ({ row: { code, created_at } as OfferRow, discountAmount: 0 }) as QualifiedOffer;
    const list = [offer('a', 9), offer('b', 8), offer('c', 8), offer('d', 8), offer('e', 7)];
    const options = { scenario: 'ALL' as const, limit: 2, startingAfter: null, filters: null, sortingRule: 'DEFAULT' as const };
    const first = pageOf(list, options);
    expect(first.data.map((q) => q.row.code)).toEqual(['a']);
    expect(first).toMatchObject({ hasMore: true, cursor: 9 });
    const second = pageOf(list, { ...options, startingAfter: 9 });
    // The group of three fills the page alone: shown whole rather than split.
    expect(second.data.map((q) => q.row.code)).toEqual(['b', 'c', 'd']);
    expect(second).toMatchObject({ hasMore: true, cursor: 8 });
    expect(pageOf(list, { ...options, startingAfter: 8 }).data.map((q) => q.row.code)).toEqual(['e']);
  });
});

describe('promotion tiers are judged as codes are', () => {
  it('a tier with a segment rule qualifies for a member and not for anyone else', async () => {
    await api('POST', '/v1/customers', { source_id: 'tier-vip', metadata: { vip: true } });
    await api('POST', '/v1/customers', { source_id: 'tier-plain' });
    const vip = await json(
      await api('POST', '/v1/segments', {
        name: 'tier vip',
        type: 'auto-update',
        filter: { 'metadata.vip': { conditions: { $is: [true] } } },
      }),
    );
    const r = await json(
      await api('POST', '/v1/validation-rules', {
        name: 'vip',
        rules: { '1': { name: 'customer.segment', conditions: { $is: [vip.id] } } },
      }),
    );
    const vipTier = await createTier('vip promotion', { type: 'PERCENT', percent_off: 10 }, r.id);
    const tiers = async (source_id: string) =>
      (await qualify({ customer: { source_id }, order: { amount: 4000 }, options: { limit: 50 } })).redeemables.data.filter(
        (x: { id: string }) => x.id === vipTier,
      );
    const [forVip] = await tiers('tier-vip');
    expect(forVip).toMatchObject({ object: 'promotion_tier', validation_rule_id: r.id, order: { total_discount_amount: 400 } });
    expect(await tiers('tier-plain')).toEqual([]);
  });
});

describe('cost and staleness', () => {
  const server = (body: unknown) =>
    counted('/v1/qualifications', {
      method: 'POST',
      headers: { 'X-App-Id': env.APP_ID, 'X-App-Token': env.APP_TOKEN, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  const client = (body: unknown, headers: Record<string, string> = {}) =>
    counted('/client/v1/qualifications', {
      method: 'POST',
      headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  it('warm, over every offer: one replica read, no KV, no primary, nothing sent', async () => {
    await api('POST', '/v1/customers', { source_id: 'cost-1', metadata: { tier: 'gold' } });
    for (let i = 0; i < 12; i++) await voucher(`COST-${i}`, { discount: { type: 'AMOUNT', amount_off: 10 * (i + 1) } });
    await voucher('COST-HELD', { discount: { type: 'AMOUNT', amount_off: 5 }, public: false });
    await setHolder('COST-HELD', 'cost-1');
    const body = { customer: { source_id: 'cost-1' }, order: { amount: 5000 }, tracking_id: 'track_CostCostCostCostCostCo00' };
    const cold = await server(body);
    expect(cold.res.status).toBe(200);
    // Cold: the offers' catalogue entry is missed in KV and written once.
    expect(cold.ops.kv_writes).toBeGreaterThanOrEqual(1);
    const warm = await server(body);
    expect(warm.ops).toEqual({ d1_primary: 0, d1_replica: 1, kv_reads: 0, kv_writes: 0, queue_sends: 0 });
    const listed = (await json(warm.res)).redeemables.data.map((r: { id: string }) => r.id);
    expect(listed).toContain('COST-HELD');
    // Filters, sorting and scenarios share the one entry: none of them costs a read of its own.
    for (const options of [
      { filters: { code: { conditions: { $in: ['COST-1'] } } } },
      { sorting_rule: 'BEST_DEAL', limit: 3 },
      { filters: { resource_type: { conditions: { $in: ['promotion_tier'] } } } },
    ]) {
      for (const scenario of ['ALL', 'AUDIENCE_ONLY']) {
        const filtered = await server({ ...body, scenario, options });
        expect(filtered.res.status).toBe(200);
        expect(filtered.ops, JSON.stringify({ scenario, options })).toEqual({
          d1_primary: 0,
          d1_replica: 1,
          kv_reads: 0,
          kv_writes: 0,
          queue_sends: 0,
        });
      }
    }
    // One offer changed: the next request reads the changed definition (D1, one KV write of its own)
    // and writes the new entry; the unchanged ones come from this isolate, not one KV read each.
    await api('PUT', '/v1/vouchers/COST-3', { discount: { type: 'AMOUNT', amount_off: 999 } });
    const changed = await server({ ...body, options: { limit: 50 } });
    expect((await json(changed.res)).redeemables.data.find((r: { id: string }) => r.id === 'COST-3').result.discount.amount_off).toBe(999);
    expect(changed.ops.d1_primary).toBe(0);
    expect(changed.ops.kv_reads).toBeLessThanOrEqual(2);
    expect(changed.ops.kv_writes).toBe(2);
    const signed = { 'X-Vouchsafe-Identity-Signature': await signAs('source_id', 'cost-1') };
    const warmClient = await client(body, signed);
    expect(warmClient.res.status).toBe(200);
    expect(warmClient.ops).toEqual({ d1_primary: 0, d1_replica: 1, kv_reads: 0, kv_writes: 0, queue_sends: 0 });
  });

  it('a change to an offer is seen by the very next request', async () => {
    await voucher('RACE', { discount: { type: 'AMOUNT', amount_off: 100 } });
    const listed = async () =>
      (await qualify({ order: { amount: 1000 }, options: { limit: 50, filters: { code: { conditions: { $in: ['RACE'] } } } } })).redeemables
        .data;
    expect((await listed())[0]).toMatchObject({ id: 'RACE', result: { discount: { amount_off: 100 } } });
    await api('PUT', '/v1/vouchers/RACE', { discount: { type: 'AMOUNT', amount_off: 250 } });
    expect((await listed())[0]).toMatchObject({ id: 'RACE', result: { discount: { amount_off: 250 } }, order: { discount_amount: 250 } });
    await api('POST', '/v1/vouchers/RACE/disable');
    expect(await listed()).toEqual([]);
    await api('POST', '/v1/vouchers/RACE/enable');
    expect((await listed()).map((r: { id: string }) => r.id)).toEqual(['RACE']);
    const r = await json(
      await api('POST', '/v1/validation-rules', {
        name: 'race',
        rules: { '1': { name: 'order.amount', conditions: { $more_than: [5000] } } },
      }),
    );
    await api('POST', `/v1/validation-rules/${r.id}/assignments`, { related_object_type: 'voucher', related_object_id: 'RACE' });
    expect(await listed()).toEqual([]);
    await api('DELETE', '/v1/vouchers/RACE');
    expect(await listed()).toEqual([]);
  });

  it('writes nothing: no customer, no validation attempt, no tracking profile', async () => {
    const count = async (table: string) => (await env.DB.prepare(`SELECT count(*) AS n FROM ${table}`).first<{ n: number }>())?.n ?? 0;
    await settled();
    const before = await Promise.all(['customers', 'validations', 'tracking_profiles'].map(count));
    await qualify({ customer: { source_id: 'never-stored', metadata: { a: 1 } }, tracking_id: 'track_NeverNeverNeverNeverNe00' });
    await clientQualify({ tracking_id: 'track_NeverNeverNeverNeverNe01' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await Promise.all(['customers', 'validations', 'tracking_profiles'].map(count))).toEqual(before);
  });
});

describe('client qualifications are rate-limited like the other client routes', () => {
  it('one token a request: a tracking id asking too often gets a 429 in the error shape', async () => {
    // The worker with its production default (RATE_LIMITS unset: limits on), as rate-limit.test.ts.
    const bindings = { ...env, RATE_LIMITS: undefined } as unknown as Env;
    const statuses: number[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 40 && !refused; i++) {
      const ctx = createExecutionContext();
      const res = await app.fetch(
        new Request('https://vouchsafe.test/client/v1/qualifications', {
          method: 'POST',
          headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json', 'CF-Connecting-IP': `10.9.0.${i}` },
          body: JSON.stringify({ tracking_id: 'track_QualifyLimitQualifyLi0', order: { amount: 100 } }),
        }),
        bindings,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      statuses.push(res.status);
      if (res.status === 429) refused = res;
      else await res.arrayBuffer();
    }
    expect(refused).toBeDefined();
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(30);
    expect(await json(refused as Response)).toMatchObject({ code: 429, key: 'too_many_requests' });
  });
});
