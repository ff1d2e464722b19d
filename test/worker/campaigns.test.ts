import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { checkVoucherVersion, selectLiveVouchers } from '../../worker/src/db/vouchers';
import { parseCsv } from '../../worker/src/lib/csv';
import { api, call, json, SERVER_HEADERS } from './helpers';

/**
 * Campaigns of unique codes. Shapes from the spec: the campaign object OA
 * CampaignBase (readOnly-openAPI.json:L2068) with `vouchers_count` and `vouchers_generation_status`
 * (enum DONE | IN_PROGRESS | FAILED …), CodeConfig (L4479: length, charset, prefix, postfix, pattern
 * whose # are random characters), POST /v1/campaigns (L38033), /v1/campaigns/{campaignId} by id or
 * name (L39179; DELETE answers 202 with async_action_id), …/vouchers (L39438: vouchers_count query,
 * 202 with an async action for more than one), …/import (L39660, 202 async_action_id), …/importCSV
 * (L39846: `Code` required, other columns to metadata).
 */

type Json = Record<string, unknown>;
const discount = { type: 'AMOUNT', amount_off: 500 };

async function createCampaign(body: Json): Promise<Json> {
  const res = await api('POST', '/v1/campaigns', {
    campaign_type: 'DISCOUNT_COUPONS',
    voucher: { type: 'DISCOUNT_VOUCHER', discount },
    ...body,
  });
  expect(res.status).toBe(200);
  return json(res);
}

/** Waits for the queue's campaign_codes job to finish generating. */
async function generated(idOrName: string, timeoutMs = 30_000): Promise<Json> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const campaign = await json(await api('GET', `/v1/campaigns/${encodeURIComponent(idOrName)}`));
    if (campaign.vouchers_generation_status !== 'IN_PROGRESS') return campaign;
    if (Date.now() > deadline)
      throw new Error(`generation of ${idOrName} not done: ${JSON.stringify(campaign.vouchers_generation_progress)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function campaignCodes(name: string): Promise<Json[]> {
  const all: Json[] = [];
  for (let page = 1; ; page++) {
    const res = await api('GET', `/v1/vouchers?campaign=${encodeURIComponent(name)}&limit=100&page=${page}`);
    expect(res.status).toBe(200);
    const body = await json(res);
    all.push(...(body.vouchers as Json[]));
    if ((body.vouchers as Json[]).length < 100) return all;
  }
}

async function waitAction(id: string): Promise<Json> {
  for (let i = 0; i < 300; i++) {
    const action = await json(await api('GET', `/v1/async-actions/${id}`));
    if (action.status !== 'IN_PROGRESS') return action;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`async action ${id} still in progress`);
}

describe('campaigns', () => {
  it('creates a DISCOUNT_COUPONS campaign and generates its unique codes through the queue', async () => {
    const created = await createCampaign({
      name: 'Spring coupons',
      vouchers_count: 300,
      expiration_date: '2099-01-01T00:00:00.000Z',
      voucher: {
        type: 'DISCOUNT_VOUCHER',
        discount,
        redemption: { quantity: 1 },
        code_config: { pattern: 'SP-####-##', charset: 'ABCDEF12345' },
      },
    });
    // OA CampaignBase fields, as the spec names them.
    expect(created).toMatchObject({
      name: 'Spring coupons',
      campaign_type: 'DISCOUNT_COUPONS',
      type: 'AUTO_UPDATE',
      join_once: false,
      active: true,
      object: 'campaign',
      voucher: {
        type: 'DISCOUNT_VOUCHER',
        discount,
        redemption: { quantity: 1 },
        code_config: { pattern: 'SP-####-##', charset: 'ABCDEF12345' },
      },
    });
    expect(created.id).toMatch(/^camp_/);
    expect(['IN_PROGRESS', 'DONE']).toContain(created.vouchers_generation_status);

    const done = await generated(created.id as string);
    expect(done).toMatchObject({ vouchers_generation_status: 'DONE', vouchers_count: 300 });
    // By name, as the SDK's campaigns.get(name) asks (OA: "the campaign ID … or the name").
    expect(await json(await api('GET', '/v1/campaigns/Spring%20coupons'))).toMatchObject({ id: created.id, vouchers_count: 300 });

    const codes = await campaignCodes('Spring coupons');
    expect(codes).toHaveLength(300);
    expect(new Set(codes.map((v) => v.code)).size).toBe(300);
    for (const v of codes) {
      expect(v.code).toMatch(/^SP-[A-F1-5]{4}-[A-F1-5]{2}$/);
      // The voucher object's campaign / campaign_id (OA Voucher, readOnly-openAPI.json:L35147 example).
      expect(v).toMatchObject({
        campaign: 'Spring coupons',
        campaign_id: created.id,
        discount,
        redemption: { quantity: 1 },
        expiration_date: '2099-01-01T00:00:00.000Z',
      });
    }
    // campaign_id filter too (OA GET /v1/vouchers `campaign_id`).
    const byId = await json(await api('GET', `/v1/vouchers?campaign_id=${created.id}&limit=5`));
    expect(byId.total).toBe(300);
  });

  it('refuses a code config that cannot make vouchers_count distinct codes, before any work', async () => {
    const res = await api('POST', '/v1/campaigns', {
      name: 'Too small',
      vouchers_count: 5,
      voucher: { discount, code_config: { pattern: 'X##', charset: 'AB' } },
    });
    expect(res.status).toBe(400);
    const error = await json(res);
    expect(error).toMatchObject({ code: 400, key: 'invalid_payload' });
    expect(error.details).toMatch(/voucher\.code_config.*at most 4 distinct codes/);
    expect((await api('GET', '/v1/campaigns/Too%20small')).status).toBe(404);

    const length = await api('POST', '/v1/campaigns', {
      name: 'Short',
      vouchers_count: 11,
      voucher: { discount, code_config: { length: 1, charset: '0123456789' } },
    });
    expect(length.status).toBe(400);
    // A campaign of exactly the space's size is fine.
    const exact = await createCampaign({
      name: 'Exact',
      vouchers_count: 10,
      voucher: { discount, code_config: { length: 1, charset: '0123456789' } },
    });
    expect(await generated(exact.id as string)).toMatchObject({ vouchers_generation_status: 'DONE', vouchers_count: 10 });
  });

  it('adds codes: a generated one, one of your own (a duplicate is a 409), and vouchers_count more through the queue', async () => {
    const c = await createCampaign({ name: 'Adds', voucher: { discount, code_config: { prefix: 'ADD-', length: 6 } } });
    const one = await api('POST', '/v1/campaigns/Adds/vouchers', {});
    expect(one.status).toBe(200);
    expect(await json(one)).toMatchObject({ campaign: 'Adds', campaign_id: c.id, object: 'voucher' });

    const own = await api('POST', '/v1/campaigns/Adds/vouchers/MY-OWN-1', { redemption: { quantity: 3 }, metadata: { batch: 'a' } });
    expect(own.status).toBe(200);
    expect(await json(own)).toMatchObject({ code: 'MY-OWN-1', campaign: 'Adds', redemption: { quantity: 3 }, metadata: { batch: 'a' } });
    const dup = await api('POST', '/v1/campaigns/Adds/vouchers/MY-OWN-1', {});
    expect(dup.status).toBe(409);
    expect(await json(dup)).toMatchObject({ key: 'duplicate_found' });

    const more = await api('POST', `/v1/campaigns/${c.id}/vouchers?vouchers_count=40`, {});
    expect(more.status).toBe(202);
    const { async_action_id } = await json(more);
    const action = await waitAction(async_action_id as string);
    expect(action).toMatchObject({ type: 'CAMPAIGN.VOUCHERS_GENERATE', status: 'DONE', result: { done_count: 40 } });
    const codes = await campaignCodes('Adds');
    expect(codes).toHaveLength(42);
    expect(codes.filter((v) => /^ADD-[A-HJ-NP-Z2-9]{6}$/.test(v.code as string))).toHaveLength(41);
  });

  it("imports a shop's own codes (JSON and CSV): a duplicate code fails its row alone", async () => {
    await createCampaign({ name: 'Imports', voucher: { discount, redemption: { quantity: 2 } } });
    expect((await api('POST', '/v1/vouchers/TAKEN-1', { discount })).status).toBe(200);
    const res = await api('POST', '/v1/campaigns/Imports/import', [
      { code: 'IMP-1', metadata: { source: 'crm' } },
      { code: 'TAKEN-1' },
      { code: 'IMP-2', redemption: { quantity: 9 }, active: false },
      { code: 'IMP-1' },
    ]);
    // OA: 202 with async_action_id (readOnly-openAPI.json:L39660).
    expect(res.status).toBe(202);
    const action = await waitAction((await json(res)).async_action_id as string);
    expect(action).toMatchObject({ type: 'CAMPAIGN.VOUCHERS_IMPORT', status: 'DONE', result: { done_count: 2, failed_count: 2 } });
    expect(((action.result as Json).errors as Json[]).map((e) => e.source_id).sort()).toEqual(['IMP-1', 'TAKEN-1']);
    expect(await json(await api('GET', '/v1/vouchers/IMP-1'))).toMatchObject({
      campaign: 'Imports',
      redemption: { quantity: 2 },
      metadata: { source: 'crm' },
      discount,
    });
    expect(await json(await api('GET', '/v1/vouchers/IMP-2'))).toMatchObject({ active: false, redemption: { quantity: 9 } });
    // The code outside the campaign stays as it was.
    expect(await json(await api('GET', '/v1/vouchers/TAKEN-1'))).toMatchObject({ campaign: null, campaign_id: null });

    const form = new FormData();
    form.append(
      'file',
      new Blob(['Code,Active,region\nCSV-1,true,north\nIMP-2,,south\nCSV-2,false,\n'], { type: 'text/csv' }),
      'codes.csv',
    );
    const csv = await call('/v1/campaigns/Imports/importCSV', { method: 'POST', headers: SERVER_HEADERS, body: form });
    expect(csv.status).toBe(200);
    const csvAction = await waitAction((await json(csv)).async_action_id as string);
    expect(csvAction).toMatchObject({ type: 'CAMPAIGN.VOUCHERS_IMPORT_CSV', result: { done_count: 2, failed_count: 1 } });
    expect(await json(await api('GET', '/v1/vouchers/CSV-1'))).toMatchObject({
      campaign: 'Imports',
      active: true,
      metadata: { region: 'north' },
    });
    expect(await json(await api('GET', '/v1/vouchers/CSV-2'))).toMatchObject({ active: false, metadata: {} });
  });

  it('updates a campaign through to its codes, lists campaigns, and deletes a campaign with its codes', async () => {
    const c = await createCampaign({ name: 'Lifecycle', vouchers_count: 5, metadata: { a: 1 } });
    await generated(c.id as string);
    const put = await api('PUT', '/v1/campaigns/Lifecycle', {
      expiration_date: '2098-06-01T00:00:00.000Z',
      discount: { type: 'PERCENT', percent_off: 15 },
      join_once: true,
      metadata: { b: 2 },
      description: 'summer',
    });
    expect(put.status).toBe(200);
    expect(await json(put)).toMatchObject({
      join_once: true,
      description: 'summer',
      metadata: { a: 1, b: 2 },
      expiration_date: '2098-06-01T00:00:00.000Z',
      voucher: { discount: { type: 'PERCENT', percent_off: 15 } },
    });
    for (const v of await campaignCodes('Lifecycle')) {
      expect(v).toMatchObject({ expiration_date: '2098-06-01T00:00:00.000Z', discount: { type: 'PERCENT', percent_off: 15 } });
    }
    // OA ValidityTimeframe: start_date required with validity_timeframe, on update as on create.
    const timeframe = await api('PUT', '/v1/campaigns/Lifecycle', { validity_timeframe: { interval: 'P1D', duration: 'PT1H' } });
    expect(timeframe.status).toBe(400);
    expect((await json(timeframe)).details).toMatch(/start_date/);
    // The name is not updatable (OA CampaignsUpdateDiscountCouponsCampaign has none): a 400, not ignored.
    expect((await api('PUT', '/v1/campaigns/Lifecycle', { name: 'Renamed' })).status).toBe(400);

    const list = await json(await api('GET', '/v1/campaigns?limit=100'));
    // OA CampaignsListResponseBody: {object:'list', data_ref:'campaigns', campaigns, total}.
    expect(list).toMatchObject({ object: 'list', data_ref: 'campaigns' });
    expect((list.campaigns as Json[]).map((x) => x.name)).toContain('Lifecycle');

    const del = await api('DELETE', '/v1/campaigns/Lifecycle');
    expect(del.status).toBe(202);
    expect((await json(del)).async_action_id).toMatch(/^aa_/);
    expect((await api('GET', `/v1/campaigns/${c.id}`)).status).toBe(404);
    expect((await json(await api('GET', `/v1/vouchers?campaign_id=${c.id}`))).total).toBe(0);
  });

  it("applies the campaign's validation rules to its codes, and a rule's change at once", async () => {
    const rule = await json(
      await api('POST', '/v1/validation-rules', {
        name: 'big orders',
        rules: { '1': { name: 'order.amount', conditions: { $more_than: [5000] } }, logic: '1' },
      }),
    );
    const c = await createCampaign({ name: 'Ruled', vouchers_count: 3, validation_rules: [rule.id] });
    expect(c.validation_rules_assignments).toMatchObject({
      total: 1,
      data: [{ rule_id: rule.id, related_object_id: c.id, related_object_type: 'campaign' }],
    });
    await generated(c.id as string);
    const [code] = (await campaignCodes('Ruled')).map((v) => v.code as string);
    const validate = (amount: number) => api('POST', `/v1/vouchers/${code}/validate`, { order: { amount } }).then(json);
    expect(await validate(3000)).toMatchObject({ valid: false });
    expect(await validate(6000)).toMatchObject({ valid: true });
    // The rule changes: the code's definition version moves on through its campaign's (migration 0017).
    expect(
      (
        await api('PUT', `/v1/validation-rules/${rule.id}`, {
          rules: { '1': { name: 'order.amount', conditions: { $more_than: [1000] } }, logic: '1' },
        })
      ).status,
    ).toBe(200);
    expect(await validate(3000)).toMatchObject({ valid: true });
  });

  it('refuses what it does not implement with a 400 naming the field', async () => {
    const gift = await api('POST', '/v1/campaigns', { name: 'Gift', campaign_type: 'GIFT_VOUCHERS', voucher: { discount } });
    expect(gift.status).toBe(400);
    expect((await json(gift)).details).toMatch(/campaign_type/);
    const charset = await api('POST', '/v1/campaigns', { name: 'Dup chars', voucher: { discount, code_config: { charset: 'AAB' } } });
    expect(charset.status).toBe(400);
    expect((await json(charset)).details).toMatch(/voucher\.code_config\.charset/);
    expect((await api('POST', '/v1/campaigns', { name: 'Dup', voucher: { discount } })).status).toBe(200);
    expect((await api('POST', '/v1/campaigns', { name: 'Dup', voucher: { discount } })).status).toBe(409);
  });
});

describe('validation rules assigned to a campaign', () => {
  it('assigns with the spec body and the SDK body {campaign}, lists and removes the assignment; its codes follow', async () => {
    const c = await createCampaign({ name: 'Assigned', vouchers_count: 2 });
    await generated(c.id as string);
    const [code] = (await campaignCodes('Assigned')).map((v) => v.code as string);
    const rule = await json(
      await api('POST', '/v1/validation-rules', {
        name: 'min 50',
        rules: { '1': { name: 'order.amount', conditions: { $more_than: [5000] } }, logic: '1' },
      }),
    );
    const validate = () => api('POST', `/v1/vouchers/${code}/validate`, { order: { amount: 1000 } }).then(json);
    expect(await validate()).toMatchObject({ valid: true });

    // OA ValidationRulesAssignmentsCreateRequestBody (readOnly-openAPI.json:L29673): related_object_type 'campaign'.
    const res = await api('POST', `/v1/validation-rules/${rule.id}/assignments`, {
      related_object_type: 'campaign',
      related_object_id: c.id,
    });
    expect(res.status).toBe(200);
    const assignment = await json(res);
    expect(assignment).toMatchObject({
      rule_id: rule.id,
      related_object_id: c.id,
      related_object_type: 'campaign',
      object: 'validation_rules_assignment',
    });
    expect(await validate()).toMatchObject({ valid: false });
    // SDK ValidationRules.d.ts:38 {campaign}: the same assignment again is a 409.
    expect((await api('POST', `/v1/validation-rules/${rule.id}/assignments`, { campaign: 'Assigned' })).status).toBe(409);

    expect(await json(await api('GET', `/v1/validation-rules/${rule.id}`))).toMatchObject({ assignments_count: 1 });
    expect(await json(await api('GET', `/v1/validation-rules-assignments?related_object_id=Assigned`))).toMatchObject({
      total: 1,
      data: [{ id: assignment.id }],
    });
    expect(await json(await api('GET', '/v1/campaigns/Assigned'))).toMatchObject({ validation_rules_assignments: { total: 1 } });

    expect((await api('DELETE', `/v1/validation-rules/${rule.id}/assignments/${assignment.id}`)).status).toBe(204);
    expect(await validate()).toMatchObject({ valid: true });
  });

  it("moves the codes' definition version with the campaign's rules, so the redeem guard refuses a judgement made before", async () => {
    const db = env.DB as D1Database;
    const c = await createCampaign({ name: 'Versioned', vouchers_count: 1 });
    await generated(c.id as string);
    const [code] = (await campaignCodes('Versioned')).map((v) => v.code as string) as [string];
    const live = async () =>
      (await selectLiveVouchers(db, [code]).first<{ id: string; definition_version: string }>()) as {
        id: string;
        definition_version: string;
      };
    const before = await live();
    const rule = await json(
      await api('POST', '/v1/validation-rules', {
        name: 'v',
        rules: { '1': { name: 'order.amount', conditions: { $more_than: [1] } }, logic: '1' },
      }),
    );
    await api('POST', `/v1/validation-rules/${rule.id}/assignments`, { campaign: 'Versioned' });
    const after = await live();
    expect(after.definition_version).not.toBe(before.definition_version);
    // migration 0017's voucher_version_check: the joined version judged before the change aborts the batch.
    await expect(checkVoucherVersion(db, before.id, before.definition_version).run()).rejects.toThrow(/voucher_definition_changed/);
    await checkVoucherVersion(db, after.id, after.definition_version).run();
  });
});

describe("exporting a campaign's codes", () => {
  it("exports exported_object 'voucher' for one campaign, every code once, with its holder", async () => {
    const c = await createCampaign({ name: 'Exported', vouchers_count: 1500 });
    await createCampaign({ name: 'Not exported', vouchers_count: 7 });
    await generated(c.id as string);
    await generated('Not exported');
    const pub = await json(await api('POST', '/v1/publications', { campaign: 'Exported', customer: { source_id: 'export-holder' } }));
    // OA ExportVoucherBase (readOnly-openAPI.json "Export Vouchers"): parameters.campaign_id, fields of ExportVoucherFields.
    const res = await api('POST', '/v1/exports', {
      exported_object: 'voucher',
      parameters: { campaign_id: c.id, fields: ['code', 'campaign', 'value', 'discount_type', 'customer_source_id', 'redemption_count'] },
    });
    expect(res.status).toBe(200);
    const exp = await json(res);
    // Created: SCHEDULED (readOnly-openAPI.json L10527 ExportScheduledBase.status enum); the URL works at once.
    expect(exp).toMatchObject({ object: 'export', exported_object: 'voucher', status: 'SCHEDULED' });
    const { pathname, search } = new URL((exp.result as { url: string }).url);
    const csv = await call(pathname + search);
    expect(csv.status).toBe(200);
    const lines = [...parseCsv(await csv.text())].map((r) => r.fields as string[]);
    expect(lines[0]).toEqual(['code', 'campaign', 'value', 'discount_type', 'customer_source_id', 'redemption_count']);
    const body = lines.slice(1);
    expect(body).toHaveLength(1500);
    expect(new Set(body.map((l) => l[0])).size).toBe(1500);
    expect(body.every((l) => l[1] === 'Exported' && l[2] === '500' && l[3] === 'AMOUNT' && l[5] === '0')).toBe(true);
    expect(body.filter((l) => l[4] === 'export-holder').map((l) => l[0])).toEqual([(pub.voucher as Json).code]);

    const bad = await api('POST', '/v1/exports', { exported_object: 'voucher', parameters: { fields: ['code', 'gift_balance'] } });
    expect(bad.status).toBe(400);
    expect(await json(bad)).toMatchObject({ key: 'invalid_export_fields' });
  });
});
