import { describe, expect, it } from 'vitest';
import { api, call, CLIENT_HEADERS, json } from './helpers';
import { consolePost, signIn } from './console-helpers';

/**
 * A campaign's switch: POST /v1/campaigns/{campaignId}/enable and /disable (readOnly-openAPI.json
 * of voucherify-openapi, L39906 and L39955: "Sets campaign state to inactive. The vouchers in this
 * campaign can no longer be redeemed"; both answer an empty JSON object, CampaignsEnableResponseBody
 * L2681 and CampaignsDisableResponseBody L2671, the campaign named by id or by name). A disabled
 * campaign's codes are refused with `voucher_disabled` and its promotion tiers with
 * `promotion_inactive` (documentation/api-reference/errors.mdx L104 and L97; OA24
 * reference/OpenAPI.json L65556 "Inactive Promotion"), by validate, redeem and qualifications,
 * from the very next request.
 */

type Json = Record<string, any>;
const fiveOff = { type: 'AMOUNT', amount_off: 500 };

async function ok(response: Promise<Response> | Response, status = 200): Promise<Json> {
  const res = await response;
  const body = res.status === 204 ? {} : await json(res);
  expect(res.status, JSON.stringify(body)).toBe(status);
  return body;
}

let seq = 0;
/** A code campaign with one code of our own, offered to anyone (public, so a qualification lists it). */
async function codeCampaign(extra: Json = {}) {
  seq++;
  const campaign = await ok(
    api('POST', '/v1/campaigns', {
      name: `sw-codes-${seq}`,
      campaign_type: 'DISCOUNT_COUPONS',
      public: true,
      voucher: { type: 'DISCOUNT_VOUCHER', discount: fiveOff },
      ...extra,
    }),
  );
  const code = `SW-${seq}`;
  await ok(api('POST', `/v1/campaigns/${campaign.id}/vouchers/${code}`, {}));
  return { campaign, code };
}

/** A promotion campaign with one tier open to everyone. */
async function promotion() {
  seq++;
  const campaign = await ok(
    api('POST', '/v1/campaigns', {
      name: `sw-promo-${seq}`,
      campaign_type: 'PROMOTION',
      promotion: { tiers: [{ name: `Everyone ${seq}`, action: { discount: fiveOff } }] },
    }),
  );
  const tiers = (await ok(api('GET', `/v1/promotions/${campaign.id}/tiers`))).tiers as Json[];
  return { campaign, tierId: tiers[0]?.id as string };
}

const order = { amount: 10_000 };
const validate = (code: string) => ok(api('POST', `/v1/vouchers/${code}/validate`, { order }));
const qualified = async (customer: string) => {
  const body = await ok(
    api('POST', '/v1/qualifications', { customer: { source_id: customer }, order, scenario: 'ALL', options: { limit: 50 } }),
  );
  return (body.redeemables.data as Json[]).map((r) => r.id as string);
};

describe('POST /v1/campaigns/{id}/enable and /disable', () => {
  it('answer {} (OA L39906, L39955) and flip the campaign, by id or by name; an unknown campaign is a 404', async () => {
    const { campaign } = await codeCampaign();
    expect(await ok(api('POST', `/v1/campaigns/${campaign.id}/disable`))).toEqual({});
    expect(await ok(api('GET', `/v1/campaigns/${campaign.id}`))).toMatchObject({ id: campaign.id, active: false });
    // Again: still {} and still off.
    expect(await ok(api('POST', `/v1/campaigns/${campaign.id}/disable`))).toEqual({});
    expect(await ok(api('POST', `/v1/campaigns/${encodeURIComponent(campaign.name)}/enable`))).toEqual({});
    expect(await ok(api('GET', `/v1/campaigns/${campaign.id}`))).toMatchObject({ active: true });
    const missing = await api('POST', '/v1/campaigns/camp_no_such_campaign/enable');
    expect(missing.status).toBe(404);
    expect(await json(missing)).toMatchObject({ code: 404, key: 'not_found', resource_type: 'campaign' });
  });

  it("a disabled campaign's code is refused by validate, redeem, the client and qualifications, from the next request; enabling it gives it back", async () => {
    const { campaign, code } = await codeCampaign();
    const customer = `sw-shopper-${seq}`;
    // Warm: the code's definition is cached in this isolate and in KV at its current version.
    expect((await validate(code)).valid).toBe(true);
    expect(await qualified(customer)).toContain(code);

    await ok(api('POST', `/v1/campaigns/${campaign.id}/disable`));
    expect(await validate(code)).toMatchObject({ valid: false, error: { key: 'voucher_disabled', details: code } });
    const redeem = await api('POST', `/v1/vouchers/${code}/redemption`, { customer: { source_id: customer }, order });
    expect(redeem.status).toBe(400);
    expect(await json(redeem)).toMatchObject({ code: 400, key: 'voucher_disabled' });
    const client = await ok(call(`/client/v1/validate?code=${code}&amount=10000`, { headers: CLIENT_HEADERS }));
    expect(client).toMatchObject({ valid: false, error: { key: 'voucher_disabled' } });
    expect(await qualified(customer)).not.toContain(code);
    // The code's own switch is untouched: GET shows it on, the campaign off.
    expect(await ok(api('GET', `/v1/vouchers/${code}`))).toMatchObject({ active: true });

    await ok(api('POST', `/v1/campaigns/${campaign.id}/enable`));
    expect((await validate(code)).valid).toBe(true);
    expect(await qualified(customer)).toContain(code);
    const redeemed = await ok(api('POST', `/v1/vouchers/${code}/redemption`, { customer: { source_id: customer }, order }));
    expect(redeemed).toMatchObject({ result: 'SUCCESS', voucher: { code } });
  });

  it("enabling a campaign does not enable a code switched off on its own; the campaign's refusal comes first", async () => {
    const { campaign, code } = await codeCampaign();
    await ok(api('POST', `/v1/vouchers/${code}/disable`));
    await ok(api('POST', `/v1/campaigns/${campaign.id}/disable`));
    const explained = await ok(api('POST', `/v1/vouchers/${code}/validate?explain=true`, { order }));
    expect(explained).toMatchObject({ valid: false, error: { key: 'voucher_disabled' } });
    expect(JSON.stringify(explained.explanation)).toContain('the campaign is disabled');
    await ok(api('POST', `/v1/campaigns/${campaign.id}/enable`));
    expect(await validate(code)).toMatchObject({ valid: false, error: { key: 'voucher_disabled' } });
    await ok(api('POST', `/v1/vouchers/${code}/enable`));
    expect((await validate(code)).valid).toBe(true);
  });

  it("a held code of a disabled campaign shows DISABLED in its holder's wallet, ACTIVE again once enabled", async () => {
    const { campaign } = await codeCampaign();
    const holder = `sw-holder-${seq}`;
    const published = await ok(api('POST', '/v1/publications', { campaign: { name: campaign.name }, customer: { source_id: holder } }));
    const wallet = async () =>
      ((await ok(api('GET', `/v1/customers/${holder}/redeemables`))).data as Json[]).find((r) => r.redeemable_id === published.voucher.id);
    // The wallet's status enum (customers.json of voucherify-openapi, CustomerRedeemable.redeemable.status).
    expect((await wallet())?.redeemable.status).toBe('ACTIVE');
    await ok(api('POST', `/v1/campaigns/${campaign.id}/disable`));
    expect((await wallet())?.redeemable.status).toBe('DISABLED');
    await ok(api('POST', `/v1/campaigns/${campaign.id}/enable`));
    expect((await wallet())?.redeemable.status).toBe('ACTIVE');
  });

  it('a campaign created disabled refuses its codes until enabled (codes keep their own switch on)', async () => {
    const { campaign, code } = await codeCampaign({ active: false });
    expect(await ok(api('GET', `/v1/vouchers/${code}`))).toMatchObject({ active: true });
    expect(await validate(code)).toMatchObject({ valid: false, error: { key: 'voucher_disabled' } });
    await ok(api('POST', `/v1/campaigns/${campaign.id}/enable`));
    expect((await validate(code)).valid).toBe(true);
  });

  it("a disabled promotion's tier is refused (promotion_inactive) in stackable validate and redeem, and leaves qualifications", async () => {
    const { campaign, tierId } = await promotion();
    const customer = `sw-promo-shopper-${seq}`;
    const redeemables = [{ object: 'promotion_tier', id: tierId }];
    const on = await ok(api('POST', '/v1/validations', { redeemables, order }));
    expect(on.redeemables[0]).toMatchObject({ status: 'APPLICABLE', id: tierId });
    expect(await qualified(customer)).toContain(tierId);

    await ok(api('POST', `/v1/campaigns/${campaign.id}/disable`));
    const off = await ok(api('POST', '/v1/validations', { redeemables, order }));
    expect(off).toMatchObject({ valid: false });
    expect(off.redeemables[0]).toMatchObject({
      status: 'INAPPLICABLE',
      id: tierId,
      result: { error: { code: 400, key: 'promotion_inactive', details: tierId } },
    });
    const refused = await api('POST', '/v1/redemptions', { redeemables, customer: { source_id: customer }, order });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(await json(refused))).toContain('promotion_inactive');
    expect(await qualified(customer)).not.toContain(tierId);
    const promotions = await ok(api('POST', '/v1/promotions/validation', { customer: { source_id: customer }, order }));
    expect((promotions.promotions as Json[]).map((p) => p.id)).not.toContain(tierId);

    await ok(api('POST', `/v1/campaigns/${campaign.id}/enable`));
    const back = await ok(api('POST', '/v1/redemptions', { redeemables, customer: { source_id: customer }, order }));
    expect(back.redemptions[0]).toMatchObject({ result: 'SUCCESS' });
  });
});

describe('the console switch', () => {
  it('disables and enables a campaign from the campaign list, through the API', async () => {
    const cookie = await signIn();
    const { campaign, code } = await codeCampaign();
    const off = await consolePost(`/console/campaigns/${campaign.id}/disable`, {}, { cookie });
    expect(off.status).toBe(200);
    const markup = await off.text();
    expect(markup).toContain('Campaign disabled.');
    expect(markup).toContain(`/console/campaigns/${campaign.id}/enable`);
    expect(await ok(api('GET', `/v1/campaigns/${campaign.id}`))).toMatchObject({ active: false });
    expect(await validate(code)).toMatchObject({ valid: false, error: { key: 'voucher_disabled' } });
    const on = await consolePost(`/console/campaigns/${campaign.id}/enable`, {}, { cookie });
    expect(on.status).toBe(200);
    expect(await on.text()).toContain(`/console/campaigns/${campaign.id}/disable`);
    expect(await ok(api('GET', `/v1/campaigns/${campaign.id}`))).toMatchObject({ active: true });
    const unknown = await consolePost('/console/campaigns/camp_nope/enable', {}, { cookie });
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toContain('role="alert"');
  });
});
