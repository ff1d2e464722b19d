import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VoucherifyServerSide } from '@voucherify/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalWorker, startLocalWorker } from './support/local-worker';
import { serverSdk, loose } from './support/server-sdk';

/**
 * The official SDK drives campaigns and publications: campaigns.create / get /
 * update / list / addVoucher / importVouchers / delete (SDK voucherifysdk.esm.js:L252-L353, paths
 * /campaigns[/{name}][/vouchers|/import]), vouchers.list({campaign}), distributions.publications.create
 * (POST /publications with join_once in the body, Distributions.d.ts:L120-L130), then a validate and
 * a redeem of a published code under the holder rule and a per-customer limit assigned to the
 * campaign (SDK ValidationRules.d.ts:38 {campaign}).
 */

let worker: LocalWorker;
let server: ReturnType<typeof VoucherifyServerSide>;

beforeAll(async () => {
  worker = await startLocalWorker();
  server = serverSdk(worker);
});
afterAll(() => worker?.stop());

type Json = Record<string, unknown>;

async function untilGenerated(name: string): Promise<Json> {
  for (let i = 0; i < 300; i++) {
    const campaign = (await server.campaigns.get(name)) as unknown as Json;
    if (campaign.vouchers_generation_status !== 'IN_PROGRESS') return campaign;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name}: generation did not finish`);
}

async function untilDone(id: string): Promise<Json> {
  for (let i = 0; i < 300; i++) {
    const action = (await server.asyncActions.get(id)) as unknown as Json;
    if (action.status !== 'IN_PROGRESS') return action;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${id}: still in progress`);
}

describe('@voucherify/sdk: campaigns and publications', () => {
  it('creates, reads, updates, lists, adds and imports codes, lists them, publishes, validates, redeems and deletes', async () => {
    const created = await server.campaigns.create(
      loose({
        name: 'SDK Lapsed buyers',
        campaign_type: 'DISCOUNT_COUPONS',
        type: 'AUTO_UPDATE',
        join_once: true,
        vouchers_count: 25,
        voucher: {
          type: 'DISCOUNT_VOUCHER',
          discount: { type: 'PERCENT', percent_off: 15 },
          redemption: { quantity: null },
          code_config: { length: 10, charset: 'ABCDEFGHJKLMNPQRSTUVWXYZ', prefix: 'LB-' },
        },
      }),
    );
    // SDK Campaigns.d.ts CampaignResponse: id, name, campaign_type, vouchers_generation_status, object 'campaign'.
    expect(created).toMatchObject({ name: 'SDK Lapsed buyers', campaign_type: 'DISCOUNT_COUPONS', join_once: true, object: 'campaign' });
    expect((await untilGenerated('SDK Lapsed buyers')).vouchers_count).toBe(25);

    const updated = await server.campaigns.update('SDK Lapsed buyers', loose({ description: 'e-mail wave 1', metadata: { wave: 1 } }));
    expect(updated).toMatchObject({ id: created.id, description: 'e-mail wave 1', metadata: { wave: 1 } });
    const list = await server.campaigns.list({ limit: 10 });
    expect(list).toMatchObject({ object: 'list', data_ref: 'campaigns' });
    expect(list.campaigns.map((c) => c.id)).toContain(created.id);

    const one = (await server.campaigns.addVoucher('SDK Lapsed buyers')) as { code: string };
    expect(one).toMatchObject({ campaign: 'SDK Lapsed buyers', object: 'voucher' });
    expect(one.code).toMatch(/^LB-[A-HJ-NP-Z]{10}$/);
    const more = (await server.campaigns.addVoucher('SDK Lapsed buyers', {}, { vouchers_count: 4 })) as unknown as {
      async_action_id: string;
    };
    expect(await untilDone(more.async_action_id)).toMatchObject({ status: 'DONE' });
    const imported = await server.campaigns.importVouchers(
      'SDK Lapsed buyers',
      loose([{ code: 'LB-OWN-1' }, { code: 'LB-OWN-2', metadata: { crm: true } }]),
    );
    expect(await untilDone(imported.async_action_id)).toMatchObject({ status: 'DONE', result: { done_count: 2, failed_count: 0 } });

    // importVouchersCSV (SDK voucherifysdk.esm.js L324-L337: multipart field `file`, by campaign id).
    const dir = await mkdtemp(join(tmpdir(), 'sdk-campaign-csv-'));
    try {
      const file = join(dir, 'codes.csv');
      await writeFile(file, 'Code,Active,segment\nLB-CSV-1,true,vip\nLB-OWN-1,true,dup\n');
      const csv = await server.campaigns.importVouchersCSV(created.id, file);
      expect(await untilDone((csv as unknown as { async_action_id: string }).async_action_id)).toMatchObject({
        type: 'CAMPAIGN.VOUCHERS_IMPORT_CSV',
        result: { done_count: 1, failed_count: 1 },
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }

    const codes = await server.vouchers.list({ campaign: 'SDK Lapsed buyers', limit: 100 } as never);
    expect(codes.total).toBe(25 + 1 + 4 + 2 + 1);
    expect(new Set(codes.vouchers.map((v) => v.code)).size).toBe(33);

    // Rules on the campaign: only the holder, once per customer.
    const holderOnly = await server.validationRules.create({
      name: 'holder only',
      rules: { '1': { name: 'publication.redeemable_by_linked_customer', conditions: { $is: [true] } }, logic: '1' },
    } as never);
    const once = await server.validationRules.create({
      name: 'once',
      rules: { '1': { name: 'redemption.count.per_customer', conditions: { $less_than_or_equal: [1] } }, logic: '1' },
    } as never);
    await server.validationRules.createAssignment(holderOnly.id, { campaign: 'SDK Lapsed buyers' });
    await server.validationRules.createAssignment(once.id, { campaign: 'SDK Lapsed buyers' });

    const pub = await server.distributions.publications.create({
      campaign: { name: 'SDK Lapsed buyers' },
      customer: { source_id: 'sdk-lapsed-1', email: 'lapsed1@example.com' },
      channel: 'Email',
    });
    // OA PublicationsCreateVoucherResponseBody; SDK DistributionsPublicationsCreateResponse.
    expect(pub).toMatchObject({ object: 'publication', result: 'SUCCESS', channel: 'Email', voucher: { campaign: 'SDK Lapsed buyers' } });
    expect(pub.id).toMatch(/^pub_/);
    const code = pub.voucher.code;
    // join_once (the campaign's, and the SDK's body field): the same code again.
    const again = await server.distributions.publications.create({
      campaign: { name: 'SDK Lapsed buyers' },
      customer: { source_id: 'sdk-lapsed-1' },
      join_once: true,
    });
    expect(again.voucher.code).toBe(code);
    const other = await server.distributions.publications.create({
      campaign: { name: 'SDK Lapsed buyers' },
      customer: { source_id: 'sdk-lapsed-2' },
    });
    expect(other.voucher.code).not.toBe(code);
    const listed = await server.distributions.publications.list({ customer: 'sdk-lapsed-1' });
    expect(listed).toMatchObject({ object: 'list', data_ref: 'publications', total: 1 });

    const as = (source_id: string) => loose({ customer: { source_id }, order: { amount: 10_000 } });
    expect(await server.validations.validateVoucher(code, as('sdk-lapsed-2'))).toMatchObject({
      valid: false,
      error: { key: 'customer_rules_violated' },
    });
    expect(await server.validations.validateVoucher(code, as('sdk-lapsed-1'))).toMatchObject({
      valid: true,
      discount: { type: 'PERCENT', percent_off: 15 },
    });
    expect(await server.redemptions.redeem(code, as('sdk-lapsed-1'))).toMatchObject({
      result: 'SUCCESS',
      voucher: { code, campaign: 'SDK Lapsed buyers' },
      order: { discount_amount: 1500 },
    });
    await expect(server.redemptions.redeem(code, as('sdk-lapsed-1'))).rejects.toMatchObject({
      code: 400,
      key: 'redemption_rules_violated',
    });

    await server.campaigns.delete('SDK Lapsed buyers');
    await expect(server.campaigns.get('SDK Lapsed buyers')).rejects.toMatchObject({ code: 404 });
    await expect(server.vouchers.get(code)).rejects.toMatchObject({ code: 404 });
  });

  // SDK Campaigns.d.ts:52,56 enable/disable(campaignId): Promise<{}>, POST /campaigns/{id}/enable|disable
  // (readOnly-openAPI.json L39906, L39955: "Returns an empty json `{}`").
  it('campaigns.disable and campaigns.enable switch every code of a campaign off and on again', async () => {
    const campaign = await server.campaigns.create(
      loose({
        name: 'SDK Switched',
        campaign_type: 'DISCOUNT_COUPONS',
        voucher: { type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 300 } },
      }),
    );
    await server.campaigns.addVoucher('SDK Switched', loose({}), undefined);
    const [code] = (await server.vouchers.list({ campaign: 'SDK Switched', limit: 10 } as never)).vouchers.map((v) => v.code);
    const order = { order: { amount: 2000 } };
    expect(await server.validations.validateVoucher(code as string, order)).toMatchObject({ valid: true });

    expect(await server.campaigns.disable(campaign.id)).toEqual({});
    expect(await server.campaigns.get(campaign.id)).toMatchObject({ active: false });
    expect(await server.validations.validateVoucher(code as string, order)).toMatchObject({
      valid: false,
      error: { key: 'voucher_disabled' },
    });
    await expect(server.redemptions.redeem(code as string, order)).rejects.toMatchObject({ code: 400, key: 'voucher_disabled' });

    expect(await server.campaigns.enable(campaign.id)).toEqual({});
    expect(await server.campaigns.get(campaign.id)).toMatchObject({ active: true });
    expect(await server.redemptions.redeem(code as string, order)).toMatchObject({ result: 'SUCCESS', voucher: { code } });
    await expect(server.campaigns.disable('camp_no_such_campaign')).rejects.toMatchObject({ code: 404 });
  });
});
