import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ExplainNode } from '../../shared/explain';
import { app } from '../../worker/src/app';
import type { Env } from '../../worker/src/env';
import { traceInconsistencies, traceNodes } from '../explain-consistency';
import { SERVER_HEADERS, api, json, setHolder } from './helpers';

// `?explain=true` on server validate (our addition): the answer gains
// `explanation`, the checks the validation made in the order it made them, each with what it read.
// The trace is recorded by the judgement itself (services/validation.ts judgeCode), so its verdict
// is the answer's `valid`; without explain the answer is exactly what it was.

const TRACKING_ID = 'track_ExplainValidateExpl000';

async function rule(code: string, rules: Record<string, unknown>): Promise<void> {
  const created = await json(await api('POST', '/v1/validation-rules', { name: `explain ${code}`, rules }));
  expect(
    (await api('POST', `/v1/validation-rules/${created.id}/assignments`, { related_object_type: 'voucher', related_object_id: code }))
      .status,
  ).toBe(200);
}

const voucher = async (code: string, extra: Record<string, unknown> = {}) => {
  const res = await api('POST', `/v1/vouchers/${code}`, { discount: { type: 'AMOUNT', amount_off: 100 }, ...extra });
  expect(res.status).toBe(200);
};

/** The answer without what differs between two identical requests. */
function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k, v]) => k !== 'request_id' && k !== 'explanation' && !(k === 'id' && typeof v === 'string' && v.startsWith('valid_')))
        .map(([k, v]) => [k, stable(v)]),
    );
  }
  return value;
}

const validate = (code: string, body: Record<string, unknown>, query = '') =>
  api('POST', `/v1/vouchers/${code}/validate${query}`, { ...body, tracking_id: TRACKING_ID });

let goldSegment: string;
let storedSegment: string;

beforeAll(async () => {
  await api('POST', '/v1/customers', { source_id: 'ex-gold', metadata: { tier: 'gold' } });
  await api('POST', '/v1/customers', { source_id: 'ex-plain', metadata: { tier: 'silver' } });
  goldSegment = (
    await json(
      await api('POST', '/v1/segments', {
        name: 'ex gold now',
        type: 'passive',
        filter: { 'metadata.tier': { conditions: { $is: ['gold'] } } },
      }),
    )
  ).id;
  storedSegment = (
    await json(
      await api('POST', '/v1/segments', {
        name: 'ex gold stored',
        type: 'auto-update',
        filter: { 'metadata.tier': { conditions: { $is: ['gold'] } } },
      }),
    )
  ).id;

  await voucher('EX-PLAIN');
  await voucher('EX-OFF', { active: false });
  await voucher('EX-LATER', { start_date: '2099-01-01T00:00:00Z' });
  await voucher('EX-OLD', { expiration_date: '2020-01-01T00:00:00Z' });
  const today = new Date().getUTCDay();
  await voucher('EX-NOTTODAY', { validity_day_of_week: [0, 1, 2, 3, 4, 5, 6].filter((d) => d !== today) });
  await voucher('EX-EVERYDAY', {
    validity_day_of_week: [0, 1, 2, 3, 4, 5, 6],
    start_date: '2020-01-01T00:00:00Z',
    expiration_date: '2099-01-01T00:00:00Z',
  });
  await voucher('EX-ONE', { redemption: { quantity: 1 } });
  await voucher('EX-BIG');
  await rule('EX-BIG', { '1': { name: 'order.amount', conditions: { $more_than: [1000] } } });
  await voucher('EX-GOLD');
  await rule('EX-GOLD', { '1': { name: 'customer.segment', conditions: { $is: [goldSegment] } } });
  await voucher('EX-STORED');
  await rule('EX-STORED', { '1': { name: 'customer.segment', conditions: { $in: [storedSegment] } } });
  await voucher('EX-META');
  await rule('EX-META', {
    '1': { name: 'customer.metadata.tier', conditions: { $is: ['gold'] } },
    '2': { name: 'order.items.count', conditions: { $more_than_equal: [1] } },
    logic: '1 or 2',
  });
  await voucher('EX-ONCE');
  await rule('EX-ONCE', { '1': { name: 'redemption.count.per_customer', conditions: { $less_than_or_equal: [1] } } });
  await voucher('EX-HELD');
  await rule('EX-HELD', { '1': { name: 'publication.redeemable_by_linked_customer' } });
  await setHolder('EX-HELD', 'ex-gold');
  await voucher('EX-ITEMS');
  await rule('EX-ITEMS', { '1': { name: 'order.items.any', conditions: { $is: [{ object: 'product', id: 'mug' }] } } });
  await voucher('EX-MUG', { discount: { type: 'UNIT', unit_off: 1, unit_type: 'mug' } });

  for (const code of ['EX-ONE', 'EX-ONCE']) {
    expect(
      (await api('POST', `/v1/vouchers/${code}/redemption`, { customer: { source_id: 'ex-gold' }, order: { amount: 5000 } })).status,
    ).toBe(200);
  }
});

const gold = { customer: { source_id: 'ex-gold' } };
const plain = { customer: { source_id: 'ex-plain' } };
const mug = { items: [{ product_id: 'mug', quantity: 1, price: 800 }] };

/** [name, code, request, the refusal's key (null: valid), the label of the check that refuses] */
const TABLE: [string, string, Record<string, unknown>, string | null, string | null][] = [
  ['a plain voucher', 'EX-PLAIN', { amount: 500 }, null, null],
  ['dates and every day of the week', 'EX-EVERYDAY', { amount: 500 }, null, null],
  ['an order big enough', 'EX-BIG', { amount: 5000 }, null, null],
  ['a passive segment member', 'EX-GOLD', { ...gold, amount: 500 }, null, null],
  ['a stored auto-update member', 'EX-STORED', { ...gold, amount: 500 }, null, null],
  ['metadata or items ("1 or 2")', 'EX-META', { ...plain, order: { amount: 500, ...mug } }, null, null],
  ['the holder', 'EX-HELD', { ...gold, amount: 500 }, null, null],
  ['the product in the order', 'EX-ITEMS', { order: { amount: 800, ...mug } }, null, null],
  ['a unit discount with items', 'EX-MUG', { order: { amount: 800, ...mug } }, null, null],
  ['no such code', 'EX-NOPE', {}, 'not_found', 'voucher exists'],
  ['disabled', 'EX-OFF', {}, 'voucher_disabled', 'active'],
  ['not started', 'EX-LATER', {}, 'voucher_not_active', 'start_date'],
  ['expired', 'EX-OLD', {}, 'voucher_expired', 'expiration_date'],
  ['not on this day of the week', 'EX-NOTTODAY', {}, 'voucher_not_active_now', 'validity_day_of_week'],
  ['quantity used up', 'EX-ONE', { amount: 500 }, 'quantity_exceeded', 'quantity'],
  ['an order too small', 'EX-BIG', { amount: 500 }, 'order_rules_violated', 'rules'],
  ['not in the passive segment', 'EX-GOLD', { ...plain, amount: 500 }, 'customer_rules_violated', 'rules'],
  ['not a stored member', 'EX-STORED', { ...plain, amount: 500 }, 'customer_rules_violated', 'rules'],
  ['an anonymous visitor, not in the segment', 'EX-GOLD', { amount: 500 }, 'customer_rules_violated', 'rules'],
  ['neither metadata nor items', 'EX-META', { ...plain, amount: 500 }, 'customer_rules_violated', 'rules'],
  ['used once already', 'EX-ONCE', { ...gold, amount: 500 }, 'redemption_rules_violated', 'rules'],
  ['not the holder', 'EX-HELD', { ...plain, amount: 500 }, 'customer_rules_violated', 'rules'],
  [
    'the product missing',
    'EX-ITEMS',
    { order: { amount: 800, items: [{ product_id: 'cup', quantity: 1, price: 800 }] } },
    'order_rules_violated',
    'rules',
  ],
  ['a unit discount without items', 'EX-MUG', { amount: 800 }, 'missing_order_items', 'order items'],
];

/** The check that refuses: the last one made (checks stop at the first refusal). */
function refusingCheck(explanation: ExplainNode): ExplainNode {
  const last = explanation.children?.at(-1);
  if (!last) throw new Error('an explanation without checks');
  return last;
}

describe('POST /v1/vouchers/{code}/validate?explain=true', () => {
  it('covers every refusal reason a validate can give', () => {
    // refusal() keys of services/validation.ts: each is reached by a row of the table.
    const keys = new Set(TABLE.map(([, , , key]) => key));
    for (const key of [
      'not_found',
      'voucher_disabled',
      'voucher_not_active',
      'voucher_expired',
      'voucher_not_active_now',
      'quantity_exceeded',
      'order_rules_violated',
      'customer_rules_violated',
      'redemption_rules_violated',
      'missing_order_items',
    ]) {
      expect(keys.has(key)).toBe(true);
    }
  });

  it.each(TABLE)('%s: the explanation decides as the answer does', async (_, code, request, key, failing) => {
    const explainedRes = await validate(code, request, '?explain=true');
    expect(explainedRes.status).toBe(200);
    const explained = await json(explainedRes);
    const before = await json(await validate(code, request));

    // Without explain: the answer as it was, with nothing added; with it: the same plus `explanation`.
    expect(before).not.toHaveProperty('explanation');
    expect(stable(explained)).toEqual(stable(before));
    expect(explained.valid).toBe(key === null);
    if (key !== null) expect(explained.error.key).toBe(key);

    const explanation: ExplainNode = explained.explanation;
    expect(explanation).toMatchObject({ kind: 'validation', label: code, logic: 'and' });
    expect(explanation.passed).toBe(explained.valid);
    expect(traceInconsistencies(explanation)).toEqual([]);
    expect(explanation.children?.[0]).toMatchObject({ kind: 'check', label: 'voucher exists', passed: key !== 'not_found' });

    if (key === null) {
      expect(explanation.children?.every((c) => c.passed)).toBe(true);
      return;
    }
    // The refusal names its failing check, with the value it read.
    const check = refusingCheck(explanation);
    expect(check.passed).toBe(false);
    expect(check.kind === 'rules' ? 'rules' : check.label).toBe(failing);
    const failedLeaves = traceNodes(check).filter((n) => !n.passed && (n.children ?? []).length === 0);
    expect(failedLeaves.length).toBeGreaterThan(0);
    for (const leaf of failedLeaves.filter((n) => n.kind !== 'segment')) expect(leaf).toHaveProperty('actual');
  });

  it('shows what each check read: the order amount, the segment filter, the per-customer count, the date', async () => {
    const small = (await json(await validate('EX-BIG', { amount: 500 }, '?explain=true'))).explanation as ExplainNode;
    const rules = refusingCheck(small);
    expect(rules).toMatchObject({ kind: 'rules', logic: '1', passed: false });
    expect(rules.label).toMatch(/^val_/);
    expect(rules.children?.[0]).toMatchObject({ kind: 'rule', label: 'rule 1: order.amount', passed: false });
    expect(rules.children?.[0]?.children?.[0]).toMatchObject({
      kind: 'condition',
      field: 'order.amount',
      operator: '$more_than',
      expected: [1000],
      actual: 500,
      passed: false,
    });

    // A passive segment is judged now: the segment node carries its filter's trace, which read the metadata.
    const notGold = (await json(await validate('EX-GOLD', { ...plain, amount: 500 }, '?explain=true'))).explanation as ExplainNode;
    const condition = refusingCheck(notGold).children?.[0]?.children?.[0];
    expect(condition).toMatchObject({
      field: 'customer.segment',
      operator: '$is',
      expected: [goldSegment],
      actual: [],
      logic: 'or',
      passed: false,
    });
    const segment = condition?.children?.[0];
    expect(segment).toMatchObject({ kind: 'segment', label: goldSegment, passed: false, detail: 'filter judged now' });
    expect(segment?.children?.[0]?.children?.[0]?.children?.[0]).toMatchObject({
      field: 'metadata.tier',
      operator: '$is',
      expected: ['gold'],
      actual: 'silver',
      passed: false,
    });
    // An auto-update segment of a stored customer: stored membership, no filter walk.
    const stored = (await json(await validate('EX-STORED', { ...gold, amount: 500 }, '?explain=true'))).explanation as ExplainNode;
    expect(refusingCheck(stored).children?.[0]?.children?.[0]?.children?.[0]).toEqual({
      kind: 'segment',
      label: storedSegment,
      passed: true,
      detail: 'stored member',
    });

    const twice = (await json(await validate('EX-ONCE', { ...gold, amount: 500 }, '?explain=true'))).explanation as ExplainNode;
    expect(refusingCheck(twice).children?.[0]?.children?.[0]).toMatchObject({
      field: 'redemption.count.per_customer',
      operator: '$less_than_or_equal',
      expected: [1],
      actual: 2,
      passed: false,
    });

    const expired = (await json(await validate('EX-OLD', {}, '?explain=true'))).explanation as ExplainNode;
    expect(refusingCheck(expired)).toMatchObject({
      kind: 'check',
      field: 'expiration_date',
      expected: '2020-01-01T00:00:00.000Z',
      passed: false,
      detail: 'voucher expired',
    });
    expect(Date.parse(refusingCheck(expired).actual as string)).toBeGreaterThan(Date.parse('2020-01-01'));

    const used = (await json(await validate('EX-ONE', { amount: 500 }, '?explain=true'))).explanation as ExplainNode;
    expect(refusingCheck(used)).toMatchObject({
      field: 'redeemed_quantity',
      operator: '$less_than',
      expected: [1],
      actual: 1,
      passed: false,
    });
  });

  it('refuses an explain that is not true or false, naming the parameter', async () => {
    const res = await validate('EX-PLAIN', {}, '?explain=yes');
    expect(res.status).toBe(400);
    const error = await json(res);
    expect(error).toMatchObject({ code: 400, key: 'invalid_query_params' });
    expect(error.details).toContain('explain');
    // explain=false is the answer without explanation.
    expect(await json(await validate('EX-PLAIN', {}, '?explain=false'))).not.toHaveProperty('explanation');
  });
});

const STACK = {
  redeemables: ['EX-PLAIN', 'EX-OLD', 'EX-NOPE', 'EX-BIG'].map((id) => ({ object: 'voucher', id })),
  order: { amount: 500 },
  tracking_id: TRACKING_ID,
};

describe('POST /v1/validations?explain=true', () => {
  it('gives every redeemable the explanation of its own judgement, and changes nothing else', async () => {
    const explained = await json(await api('POST', '/v1/validations?explain=true', STACK));
    const before = await json(await api('POST', '/v1/validations', STACK));
    expect(JSON.stringify(before)).not.toContain('"explanation"');
    expect(stable(explained)).toEqual(stable(before));
    expect(
      explained.redeemables.map((r: { id: string; status: string; explanation: ExplainNode }) => [r.id, r.status, r.explanation.passed]),
    ).toEqual([
      ['EX-PLAIN', 'SKIPPED', true],
      ['EX-OLD', 'INAPPLICABLE', false],
      ['EX-NOPE', 'INAPPLICABLE', false],
      ['EX-BIG', 'INAPPLICABLE', false],
    ]);
    for (const r of explained.redeemables as { id: string; explanation: ExplainNode; result: { error?: { key: string } } }[]) {
      expect(r.explanation.label).toBe(r.id);
      expect(traceInconsistencies(r.explanation)).toEqual([]);
    }
    const lastChecks = explained.redeemables.map((r: { explanation: ExplainNode }) => refusingCheck(r.explanation));
    expect(lastChecks.map((c: ExplainNode) => [c.kind, c.passed])).toEqual([
      ['check', true],
      ['check', false],
      ['check', false],
      ['rules', false],
    ]);
    expect(lastChecks.slice(1, 3).map((c: ExplainNode) => c.label)).toEqual(['expiration_date', 'voucher exists']);
    expect(explained.inapplicable_redeemables.every((r: { explanation?: ExplainNode }) => r.explanation?.passed === false)).toBe(true);
  });
});

describe('what explain costs', () => {
  /** A request with COUNT_OPS=on, as hot-path.test.ts counts: the X-Vouchsafe-Ops header. */
  async function counted(path: string, payload: unknown) {
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request(`https://vouchsafe.test${path}`, {
        method: 'POST',
        headers: { ...SERVER_HEADERS, 'Content-Type': 'application/json' },
        body: JSON.stringify(payload),
      }),
      { ...env, COUNT_OPS: 'on' } as unknown as Env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(200);
    return res.headers.get('X-Vouchsafe-Ops');
  }

  it('adds no storage operation: the trace is recorded by the judgement already made', async () => {
    for (const [path, payload] of [
      ['/v1/vouchers/EX-GOLD/validate', { ...plain, amount: 500, tracking_id: TRACKING_ID }],
      ['/v1/validations', { ...STACK, customer: { source_id: 'ex-gold' } }],
    ] as const) {
      await counted(path, payload); // warm: the definitions in this isolate
      const off = await counted(path, payload);
      const on = await counted(`${path}?explain=true`, payload);
      expect(off).toMatch(/d1_primary=\d+/);
      expect(on).toBe(off);
    }
  });
});
