import { describe, expect, it } from 'vitest';
import { api, json } from './helpers';

const createVoucher = async (body: unknown, code?: string) => {
  const res = await api('POST', code ? `/v1/vouchers/${encodeURIComponent(code)}` : '/v1/vouchers', body);
  expect(res.status).toBe(200);
  return json(res);
};

describe('vouchers', () => {
  it('creates with a generated code, in the Voucherify shape', async () => {
    const v = await createVoucher({
      type: 'DISCOUNT_VOUCHER',
      discount: { type: 'AMOUNT', amount_off: 1000 },
      redemption: { quantity: 5 },
    });
    expect(v.code).toMatch(/^[A-HJ-NP-Z2-9]{8}$/);
    expect(v.id).toMatch(/^v_/);
    expect(v).toMatchObject({
      type: 'DISCOUNT_VOUCHER',
      discount: { type: 'AMOUNT', amount_off: 1000 },
      active: true,
      redemption: { quantity: 5, redeemed_quantity: 0 },
      start_date: null,
      expiration_date: null,
      metadata: {},
      object: 'voucher',
    });
  });

  it('creates under a code given in the path or the body, cleaned as the SDK cleans codes', async () => {
    const a = await createVoucher({ discount: { type: 'PERCENT', percent_off: 10, amount_limit: 500 } }, 'SPRING 10');
    expect(a.code).toBe('SPRING 10');
    const b = await createVoucher({ code: ' SUMMER\t\n', discount: { type: 'FIXED', fixed_amount: 1999 } });
    expect(b.code).toBe('SUMMER');
    expect((await json(await api('GET', '/v1/vouchers/SPRING%2010'))).id).toBe(a.id);
  });

  it('refuses a duplicate code with 409', async () => {
    await createVoucher({ discount: { type: 'AMOUNT', amount_off: 1 } }, 'DUP');
    const res = await api('POST', '/v1/vouchers', { code: 'DUP', discount: { type: 'AMOUNT', amount_off: 1 } });
    expect(res.status).toBe(409);
    expect((await json(res)).key).toBe('duplicate_found');
  });

  it.each([
    ['no discount', {}, 'discount'],
    ['an unknown discount type', { discount: { type: 'GIFT', amount: 1 } }, 'discount.type'],
    ['a negative amount_off', { discount: { type: 'AMOUNT', amount_off: -5 } }, 'discount.amount_off'],
    ['cents that are not integers', { discount: { type: 'AMOUNT', amount_off: 9.99 } }, 'discount.amount_off'],
    ['percent over 100', { discount: { type: 'PERCENT', percent_off: 120 } }, 'discount.percent_off'],
    ['a bad date', { discount: { type: 'AMOUNT', amount_off: 1 }, expiration_date: 'soon' }, 'expiration_date'],
    [
      'expiry before start',
      { discount: { type: 'AMOUNT', amount_off: 1 }, start_date: '2030-01-02T00:00:00Z', expiration_date: '2030-01-01T00:00:00Z' },
      'expiration_date',
    ],
    ['a zero quantity', { discount: { type: 'AMOUNT', amount_off: 1 }, redemption: { quantity: 0 } }, 'redemption.quantity'],
  ])('refuses %s with 400 naming the field', async (_, body, field) => {
    const res = await api('POST', '/v1/vouchers', body);
    expect(res.status).toBe(400);
    expect((await json(res)).details.startsWith(`${field}:`)).toBe(true);
  });

  it('updates, disables, enables and deletes', async () => {
    await createVoucher({ discount: { type: 'AMOUNT', amount_off: 100 } }, 'LIFE');
    const updated = await json(
      await api('PUT', '/v1/vouchers/LIFE', { discount: { type: 'AMOUNT', amount_off: 200 }, metadata: { channel: 'mail' } }),
    );
    expect(updated).toMatchObject({ discount: { amount_off: 200 }, metadata: { channel: 'mail' } });
    expect(updated.updated_at).toBeDefined();
    expect((await json(await api('POST', '/v1/vouchers/LIFE/disable'))).active).toBe(false);
    expect((await json(await api('POST', '/v1/vouchers/LIFE/enable'))).active).toBe(true);
    expect((await api('DELETE', '/v1/vouchers/LIFE')).status).toBe(204);
    const gone = await api('GET', '/v1/vouchers/LIFE');
    expect(gone.status).toBe(404);
    expect(await json(gone)).toMatchObject({ key: 'not_found', resource_type: 'voucher' });
  });
});

describe('validation rules', () => {
  it('creates, reads, assigns and deletes a rule', async () => {
    const v = await createVoucher({ discount: { type: 'AMOUNT', amount_off: 100 } }, 'RULED');
    const res = await api('POST', '/v1/validation-rules', {
      name: 'big orders of VIPs',
      error: { message: 'Not for you' },
      rules: {
        '1': { name: 'order.amount', conditions: { $more_than: [5000] }, error: { message: 'Spend more than 50' } },
        '2': { name: 'customer.metadata.vip', conditions: { $is: [true] } },
        logic: '1 and 2',
      },
    });
    expect(res.status).toBe(200);
    const rule = await json(res);
    expect(rule.id).toMatch(/^val_/);
    expect(rule).toMatchObject({ name: 'big orders of VIPs', object: 'validation_rules', assignments_count: 0 });
    const assignment = await json(
      await api('POST', `/v1/validation-rules/${rule.id}/assignments`, { related_object_type: 'voucher', related_object_id: 'RULED' }),
    );
    expect(assignment).toMatchObject({ rule_id: rule.id, related_object_id: v.id, object: 'validation_rules_assignment' });
    expect((await json(await api('GET', `/v1/validation-rules/${rule.id}`))).assignments_count).toBe(1);
    expect((await json(await api('GET', '/v1/vouchers/RULED'))).validation_rules_assignments.total).toBe(1);
    const again = await api('POST', `/v1/validation-rules/${rule.id}/assignments`, {
      related_object_type: 'voucher',
      related_object_id: v.id,
    });
    expect(again.status).toBe(409);
    expect((await api('DELETE', `/v1/validation-rules/${rule.id}`)).status).toBe(204);
    expect((await api('GET', `/v1/validation-rules/${rule.id}`)).status).toBe(404);
    expect((await json(await api('GET', '/v1/vouchers/RULED'))).validation_rules_assignments.total).toBe(0);
  });

  it.each([
    ['an unknown rule name', { '1': { name: 'order.colour', conditions: { $is: ['red'] } } }, 'rules.1.name'],
    ['a logic naming a missing rule', { '1': { name: 'order.amount', conditions: { $more_than: [1] } }, logic: '1 and 2' }, 'rules.logic'],
    ['a broken logic', { '1': { name: 'order.amount', conditions: { $more_than: [1] } }, logic: '1 and (' }, 'rules.logic'],
    ['a non-numeric amount', { '1': { name: 'order.amount', conditions: { $more_than: ['lots'] } } }, 'rules.1.conditions.$more_than'],
    [
      'a segment rule with an unknown operator',
      { '1': { name: 'customer.segment', conditions: { $contains: ['seg_x'] } } },
      'rules.1.conditions.$contains',
    ],
    // No rules at all is a rule that only scopes items (accepted); a logic over rules it lacks is not.
    ['a logic naming rules the set does not hold', { logic: '1 or 2' }, 'rules.logic'],
    [
      'more than 20 rules',
      Object.fromEntries(Array.from({ length: 21 }, (_, i) => [String(i + 1), { name: 'order.amount', conditions: { $more_than: [1] } }])),
      'rules',
    ],
  ])('refuses %s with 400 naming the path', async (_, rules, path) => {
    const res = await api('POST', '/v1/validation-rules', { name: 'bad', rules });
    expect(res.status).toBe(400);
    expect((await json(res)).details.startsWith(path)).toBe(true);
  });

  it('refuses an assignment to an unknown voucher or of an unknown rule', async () => {
    const rule = await json(
      await api('POST', '/v1/validation-rules', { name: 'r', rules: { '1': { name: 'order.amount', conditions: { $more_than: [1] } } } }),
    );
    expect(
      (await api('POST', `/v1/validation-rules/${rule.id}/assignments`, { related_object_type: 'voucher', related_object_id: 'NOPE' }))
        .status,
    ).toBe(404);
    expect(
      (await api('POST', '/v1/validation-rules/val_nope/assignments', { related_object_type: 'voucher', related_object_id: 'NOPE' }))
        .status,
    ).toBe(404);
    // Campaigns take rules too (test/worker/campaigns.test.ts): an unknown one is a 404.
    const campaign = await api('POST', `/v1/validation-rules/${rule.id}/assignments`, {
      related_object_type: 'campaign',
      related_object_id: 'camp_1',
    });
    expect(campaign.status).toBe(404);
    expect(
      (
        await api('POST', `/v1/validation-rules/${rule.id}/assignments`, {
          related_object_type: 'promotion_tier',
          related_object_id: 'p_1',
        })
      ).status,
    ).toBe(404);
  });
});

/**
 * Voucherify's own operations under /v1/vouchers that share the shape of POST /v1/vouchers/{code}:
 * import (readOnly-openAPI.json of voucherify-openapi, L37521), importCSV (L37798) and the old
 * qualification (OA24 reference/OpenAPI.json L84501). Not served here: each is the 404 "No such
 * route" of any unknown route, and never creates a voucher under that code.
 */
describe('operations that are not voucher codes', () => {
  it('POST /v1/vouchers/import, /importCSV and /qualification answer 404 No such route and create nothing', async () => {
    const bodies: Record<string, unknown> = {
      import: [{ code: 'IMPORTED-1', discount: { type: 'AMOUNT', amount_off: 100 } }],
      importCSV: undefined,
      qualification: { discount: { type: 'AMOUNT', amount_off: 1 } },
    };
    for (const [operation, body] of Object.entries(bodies)) {
      const res = await api('POST', `/v1/vouchers/${operation}`, body);
      expect(res.status, operation).toBe(404);
      expect(await json(res)).toMatchObject({ code: 404, key: 'not_found', details: 'No such route' });
      expect((await api('GET', `/v1/vouchers/${operation}`)).status, operation).toBe(404);
    }
    expect((await api('GET', '/v1/vouchers/IMPORTED-1')).status).toBe(404);
  });
});
