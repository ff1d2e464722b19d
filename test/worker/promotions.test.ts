import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../worker/src/lib/csv';
import { api, call, json, ok } from './helpers';

/**
 * Promotion tiers as rows of `vouchers` (migration 0030). Shapes from the spec
 * (production/readOnly-openAPI.json of voucherify-openapi): OA PromotionTier (L22449), the tier
 * lists (PromotionTiersList L22834; GET /v1/promotions/tiers L40413 with is_available, limit, page;
 * GET /v1/promotions/{campaignId}/tiers L40654), PUT / DELETE (204) /v1/promotions/tiers/{id}
 * (L40932), …/enable (L41146) and …/disable (L41246); a PROMOTION campaign's `promotion` (OA
 * Campaign L2058, example L38544); assignments with related_object_type 'promotion_tier' (the PUT
 * example's validation_rule_assignments). Through the official SDK: test/node/sdk-promotions.test.ts.
 */

type Json = Record<string, any>;
const amount = { type: 'AMOUNT', amount_off: 1000, effect: 'APPLY_TO_ORDER' };
const percent = { type: 'PERCENT', percent_off: 15, effect: 'APPLY_TO_ORDER' };

async function promotion(name: string, tiers: Json[], extra: Json = {}): Promise<Json> {
  return ok(api('POST', '/v1/campaigns', { name, campaign_type: 'PROMOTION', promotion: { tiers }, ...extra }));
}

/** The version validate reads for a redeemable (its own joined with its campaign's, db/vouchers.ts VOUCHER_VERSION_SQL). */
async function versionOf(id: string): Promise<string> {
  const row = await env.DB.prepare(
    `SELECT v.definition_version || coalesce((SELECT '.' || c.definition_version FROM campaigns c WHERE c.id = v.campaign_id), '') AS version
     FROM vouchers v WHERE v.id = ?`,
  )
    .bind(id)
    .first<{ version: string }>();
  if (!row) throw new Error(`no row ${id}`);
  return row.version;
}

describe('promotion tiers: the model and its API', () => {
  it('lists every tier page by page, and only the available ones with is_available=true', async () => {
    const now = Date.now();
    const past = new Date(now - 86_400_000 * 10).toISOString();
    const yesterday = new Date(now - 86_400_000).toISOString();
    const later = new Date(now + 86_400_000 * 10).toISOString();
    const a = await promotion('List A', [
      { name: 'A1', action: { discount: amount } },
      { name: 'A2 off', action: { discount: amount }, active: false },
      { name: 'A3 expired', action: { discount: amount }, start_date: past, expiration_date: yesterday },
      { name: 'A4 future', action: { discount: amount }, start_date: later },
    ]);
    await promotion('List B off', [{ name: 'B1', action: { discount: percent } }], { active: false });
    const all = await ok(api('GET', '/v1/promotions/tiers?limit=3'));
    expect(all).toMatchObject({ object: 'list', data_ref: 'tiers', total: 5, has_more: true });
    expect(all.tiers.map((t: Json) => t.name)).toEqual(['A1', 'A2 off', 'A3 expired']);
    const rest = await ok(api('GET', '/v1/promotions/tiers?limit=3&page=2'));
    expect(rest).toMatchObject({ total: 5, has_more: false });
    expect(rest.tiers.map((t: Json) => t.name)).toEqual(['A4 future', 'B1']);
    // OA is_available: "only non-expired and active promotions" (the campaign's state counts too).
    const available = await ok(api('GET', '/v1/promotions/tiers?is_available=true'));
    expect(available.tiers.map((t: Json) => t.name)).toEqual(['A1']);
    expect(available.total).toBe(1);
    const ofCampaign = await ok(api('GET', `/v1/promotions/${a.id}/tiers`));
    expect(ofCampaign).toMatchObject({ object: 'list', data_ref: 'tiers', total: 4, has_more: false });
    expect(ofCampaign.tiers.map((t: Json) => t.hierarchy)).toEqual([1, 2, 3, 4]);
    // By name too, as every campaign path takes it.
    expect((await ok(api('GET', `/v1/promotions/${encodeURIComponent('List A')}/tiers`))).total).toBe(4);
    for (const bad of ['is_available=yes', 'limit=0', 'limit=101', 'page=0', 'order=name', 'unknown=1']) {
      expect((await api('GET', `/v1/promotions/tiers?${bad}`)).status, bad).toBe(400);
    }
  });

  it('the campaign list filters by campaign_type, and shows a promotion with its tiers', async () => {
    await promotion('Typed promotion', [{ name: 'T1', action: { discount: amount } }]);
    await ok(api('POST', '/v1/campaigns', { name: 'Typed coupons', voucher: { type: 'DISCOUNT_VOUCHER', discount: amount } }));
    const promotions = await ok(api('GET', '/v1/campaigns?campaign_type=PROMOTION&limit=100'));
    expect(promotions.campaigns.every((c: Json) => c.campaign_type === 'PROMOTION')).toBe(true);
    expect(promotions.total).toBe(promotions.campaigns.length);
    const typed = promotions.campaigns.find((c: Json) => c.name === 'Typed promotion');
    expect(typed.promotion).toMatchObject({
      object: 'list',
      data_ref: 'tiers',
      total: 1,
      tiers: [{ name: 'T1', object: 'promotion_tier' }],
    });
    expect(typed.vouchers_count).toBe(0);
    const coupons = await ok(api('GET', '/v1/campaigns?campaign_type=DISCOUNT_COUPONS&limit=100'));
    expect(coupons.campaigns.map((c: Json) => c.name)).toContain('Typed coupons');
    expect(coupons.campaigns.every((c: Json) => c.campaign_type === 'DISCOUNT_COUPONS' && c.voucher)).toBe(true);
    expect((await api('GET', '/v1/campaigns?campaign_type=LOYALTY_PROGRAM')).status).toBe(400);
  });

  it('an update, enable and disable take effect through the definition version; a delete answers 204, then 404', async () => {
    const rule = await ok(
      api('POST', '/v1/validation-rules', {
        name: 'tier rule',
        rules: { '1': { name: 'order.amount', conditions: { $more_than: [100] } } },
      }),
    );
    const c = await promotion('Versioned', [{ name: 'V1', banner: 'old', action: { discount: amount }, metadata: { a: 1 } }]);
    const id = c.promotion.tiers[0].id as string;
    let version = await versionOf(id);
    const moved = async () => {
      const next = await versionOf(id);
      const changed = next !== version;
      version = next;
      return changed;
    };
    const updated = await ok(
      api('PUT', `/v1/promotions/tiers/${id}`, { id, name: 'V1 renamed', action: { discount: percent }, metadata: { b: 2 } }),
    );
    expect(updated).toMatchObject({ id, name: 'V1 renamed', banner: 'old', action: { discount: percent }, metadata: { b: 2 } });
    expect(updated.updated_at).toMatch(/Z$/);
    expect(await moved()).toBe(true);
    // Each field a validate answer shows about a tier moves its version on its own.
    for (const body of [{ banner: 'new' }, { hierarchy: 9 }, { name: 'again' }, { validity_day_of_week: [0, 6] }]) {
      await ok(api('PUT', `/v1/promotions/tiers/${id}`, body));
      expect(await moved(), JSON.stringify(body)).toBe(true);
    }
    expect(await ok(api('POST', `/v1/promotions/tiers/${id}/disable`))).toMatchObject({ id, active: false });
    expect(await moved()).toBe(true);
    expect(await ok(api('POST', `/v1/promotions/tiers/${id}/enable`))).toMatchObject({ id, active: true });
    expect(await moved()).toBe(true);
    // A rule assigned to the tier (OA related_object_type 'promotion_tier'), and the campaign's dates.
    const assignment = await ok(
      api('POST', `/v1/validation-rules/${rule.id}/assignments`, { related_object_type: 'promotion_tier', related_object_id: id }),
    );
    expect(assignment).toMatchObject({ rule_id: rule.id, related_object_id: id, related_object_type: 'promotion_tier' });
    expect(await moved()).toBe(true);
    expect((await ok(api('GET', `/v1/promotions/tiers/${id}`))).validation_rule_assignments).toMatchObject({
      total: 1,
      data: [{ id: assignment.id, related_object_type: 'promotion_tier' }],
    });
    expect((await api('POST', `/v1/validation-rules/${rule.id}/assignments`, { promotion_tier: id })).status).toBe(409);
    expect((await api('POST', `/v1/validation-rules/${rule.id}/assignments`, { promotion_tier: 'promo_missing' })).status).toBe(404);
    const listed = await ok(api('GET', `/v1/validation-rules-assignments?related_object_id=${id}`));
    expect(listed.data.map((a: Json) => a.id)).toEqual([assignment.id]);
    await ok(api('PUT', `/v1/campaigns/${c.id}`, { expiration_date: '2099-01-01T00:00:00.000Z' }));
    expect(await moved()).toBe(true);
    // A campaign's dates are the campaign's: never written over the tier's own.
    const tier = await ok(api('GET', `/v1/promotions/tiers/${id}`));
    expect(tier).toMatchObject({ expiration_date: null, campaign: { expiration_date: '2099-01-01T00:00:00.000Z' } });

    for (const [body, details] of [
      [{ action: { discount: { type: 'AMOUNT' } } }, 'action.discount'],
      [{ hierarchy: 0 }, 'hierarchy'],
      [{ start_date: '2030-01-02T00:00:00Z', expiration_date: '2030-01-01T00:00:00Z' }, 'expiration_date'],
      [{ validity_timeframe: { interval: 'P2D', duration: 'P1D' } }, 'start_date'],
      [{ category: 'x' }, 'category'],
      [{ gift: {} }, 'unknown field'],
    ] as const) {
      const res = await api('PUT', `/v1/promotions/tiers/${id}`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((await json(res)).details).toContain(details);
    }
    expect(await moved()).toBe(false);

    await ok(api('DELETE', `/v1/promotions/tiers/${id}`), 204);
    for (const [method, path] of [
      ['GET', `/v1/promotions/tiers/${id}`],
      ['PUT', `/v1/promotions/tiers/${id}`],
      ['DELETE', `/v1/promotions/tiers/${id}`],
      ['POST', `/v1/promotions/tiers/${id}/enable`],
    ] as const) {
      const res = await api(method, path, method === 'PUT' ? { name: 'x' } : undefined);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(await json(res)).toMatchObject({ key: 'not_found', details: `Cannot find promotion_tier with id ${id}` });
    }
    // Its rule assignment went with it.
    expect((await ok(api('GET', `/v1/validation-rules/${rule.id}/assignments`))).total).toBe(0);
  });

  it('tiers only belong to PROMOTION campaigns, and a PROMOTION campaign holds no codes', async () => {
    const coupons = await ok(api('POST', '/v1/campaigns', { name: 'Codes only', voucher: { type: 'DISCOUNT_VOUCHER', discount: amount } }));
    const res = await api('POST', `/v1/promotions/${coupons.id}/tiers`, { name: 'x', action: { discount: amount } });
    expect(res.status).toBe(400);
    expect((await json(res)).details).toContain('only a PROMOTION campaign holds promotion tiers');
    expect((await api('GET', `/v1/promotions/${coupons.id}/tiers`)).status).toBe(400);
    expect((await api('GET', '/v1/promotions/camp_missing/tiers')).status).toBe(404);

    const p = await promotion('No codes', [{ name: 'N1', action: { discount: amount } }]);
    for (const [path, body] of [
      [`/v1/campaigns/${p.id}/vouchers`, {}],
      [`/v1/campaigns/${p.id}/vouchers/MYCODE`, {}],
      [`/v1/campaigns/${p.id}/import`, [{ code: 'IMPORTED' }]],
    ] as const) {
      const r = await api('POST', path, body);
      expect(r.status, path).toBe(400);
      expect((await json(r)).details).toContain('PROMOTION campaign');
    }
    const discount = await api('PUT', `/v1/campaigns/${p.id}`, { discount: percent });
    expect(discount.status).toBe(400);
    expect((await json(discount)).details).toContain('discount');
    const autoUpdate = await api('PUT', `/v1/campaigns/${p.id}`, { type: 'AUTO_UPDATE' });
    expect(autoUpdate.status).toBe(400);
    expect((await json(autoUpdate)).details).toContain('type: a PROMOTION campaign is STATIC');
    // A promotion campaign is STATIC (the SDK's PromotionsCreateResponse), and its tiers are refused by field.
    expect((await api('POST', '/v1/campaigns', { name: 'Bad type', campaign_type: 'PROMOTION', type: 'AUTO_UPDATE' })).status).toBe(400);
    const voucherField = await api('POST', '/v1/campaigns', {
      name: 'Bad voucher',
      campaign_type: 'PROMOTION',
      voucher: { type: 'DISCOUNT_VOUCHER', discount: amount },
    });
    expect(voucherField.status).toBe(400);
    expect((await json(voucherField)).details).toContain('unknown field "voucher"');
    const dup = await api('POST', '/v1/campaigns', { name: 'No codes', campaign_type: 'PROMOTION' });
    expect(dup.status).toBe(409);
  });

  it('deleting the campaign deletes its tiers and their rule assignments, in one statement', async () => {
    const rule = await ok(
      api('POST', '/v1/validation-rules', { name: 'gone rule', rules: { '1': { name: 'order.amount', conditions: { $more_than: [1] } } } }),
    );
    const p = await promotion('Deleted promotion', [
      { name: 'D1', action: { discount: amount }, validation_rules: [rule.id] },
      { name: 'D2', action: { discount: amount } },
    ]);
    const ids = p.promotion.tiers.map((t: Json) => t.id as string);
    expect((await ok(api('GET', `/v1/validation-rules/${rule.id}/assignments`))).total).toBe(1);
    await ok(api('DELETE', `/v1/campaigns/${p.id}`), 202);
    for (const id of ids) expect((await api('GET', `/v1/promotions/tiers/${id}`)).status).toBe(404);
    expect((await ok(api('GET', `/v1/validation-rules/${rule.id}/assignments`))).total).toBe(0);
    const left = await env.DB.prepare('SELECT count(*) AS n FROM vouchers WHERE id IN (SELECT value FROM json_each(?))')
      .bind(JSON.stringify(ids))
      .first<{ n: number }>();
    expect(left?.n).toBe(0);
  });
});

describe('a tier is never a voucher on the wire', () => {
  it('voucher routes, lists, publications, exports and webhooks leave tiers out', async () => {
    await ok(
      api('POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['voucher.created', 'voucher.updated', 'voucher.deleted'] }),
    );
    await ok(api('POST', '/v1/vouchers/PLAIN-CODE', { type: 'DISCOUNT_VOUCHER', discount: amount }));
    const p = await promotion('Hidden tiers', [{ name: 'H1', action: { discount: amount } }]);
    const id = p.promotion.tiers[0].id as string;
    const tierCampaignId = p.id as string;

    // GET /v1/vouchers never lists a tier, whatever the filter.
    for (const query of ['limit=100', `campaign_id=${tierCampaignId}`, 'campaign=Hidden%20tiers', `code=${id}`, `ids=${id}`]) {
      const list = await ok(api('GET', `/v1/vouchers?${query}`));
      expect(
        list.vouchers.map((v: Json) => v.id),
        query,
      ).not.toContain(id);
      if (query !== 'limit=100') expect(list.total, query).toBe(0);
    }
    // Every voucher route by code or id is a 404 for a tier id.
    for (const [method, path, body] of [
      ['GET', `/v1/vouchers/${id}`, undefined],
      ['PUT', `/v1/vouchers/${id}`, { active: false }],
      ['DELETE', `/v1/vouchers/${id}`, undefined],
      ['POST', `/v1/vouchers/${id}/enable`, undefined],
      ['POST', `/v1/vouchers/${id}/disable`, undefined],
      ['GET', `/v1/vouchers/${id}/redemptions`, undefined],
      ['POST', '/v1/publications', { voucher: id, customer: { source_id: 'tier-holder' } }],
      ['POST', `/v1/validation-rules/val_x/assignments`, { voucher: id }],
    ] as const) {
      const res = await api(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    // A promotion's tiers are never handed out, by a publication or a segment distribution.
    const byCampaign = await api('POST', '/v1/publications', { campaign: tierCampaignId, customer: { source_id: 'promo-holder' } });
    expect(byCampaign.status).toBe(400);
    expect((await json(byCampaign)).details).toContain('is a PROMOTION campaign; its tiers are not published');
    // Refused before anything is written: the customer it named was not created.
    expect((await api('GET', '/v1/customers/promo-holder')).status).toBe(404);
    const member = await ok(api('GET', '/v1/customers/tier-holder'));
    const segment = await ok(api('POST', '/v1/segments', { name: 'tier segment', type: 'static', customers: [member.id] }));
    const distribution = await api('POST', '/v1/publications/segment', { campaign: tierCampaignId, segment: segment.id });
    expect(distribution.status).toBe(400);
    expect((await json(distribution)).details).toContain('is a PROMOTION campaign');
    expect((await ok(api('GET', `/v1/promotions/tiers/${id}`))).active).toBe(true);
    const row = await env.DB.prepare('SELECT holder_id, publish_count FROM vouchers WHERE id = ?').bind(id).first();
    expect(row).toEqual({ holder_id: null, publish_count: 0 });

    // An export of all vouchers holds the plain code and no tier.
    const exp = await ok(api('POST', '/v1/exports', { exported_object: 'voucher', parameters: { fields: ['code', 'campaign'] } }));
    const { pathname, search } = new URL(exp.result.url as string);
    const codes = [...parseCsv(await (await call(pathname + search)).text())].slice(1).map((r) => (r.fields as string[])[0]);
    expect(codes).toContain('PLAIN-CODE');
    expect(codes).not.toContain(id);

    // Voucher webhooks are about codes: the tier's create, update and delete left none.
    await ok(api('PUT', `/v1/promotions/tiers/${id}`, { banner: 'changed' }));
    await ok(api('DELETE', `/v1/promotions/tiers/${id}`), 204);
    const { results } = await env.DB.prepare("SELECT type, object_id FROM webhook_outbox WHERE type LIKE 'voucher.%'").all<Json>();
    expect(results.map((r) => r.object_id)).not.toContain(id);
    expect(results).toContainEqual({ type: 'voucher.created', object_id: expect.stringMatching(/^v_/) });
  });
});
