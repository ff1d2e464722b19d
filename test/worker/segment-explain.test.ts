import { beforeAll, describe, expect, it } from 'vitest';
import type { ExplainNode } from '../../shared/explain';
import type { SegmentExplanation } from '../../shared/types';
import { traceInconsistencies } from '../explain-consistency';
import { CLIENT_HEADERS, api, call, json, settled } from './helpers';

// POST /v1/segments/{id}/explain (our addition): why a customer or a
// visitor is or is not in a segment. `member` is what the API reports (GET
// /v1/customers/{id}/segments), `explanation` the filter's trace now.

const ANON = 'track_SegExplainAnonymous000';
const LINKED = 'track_SegExplainLinkedProf00';

const ids: Record<string, string> = {};

const explain = (segment: string, body: unknown) => api('POST', `/v1/segments/${segment}/explain`, body);
const explained = async (segment: string, body: unknown): Promise<SegmentExplanation> => {
  const res = await explain(segment, body);
  expect(res.status).toBe(200);
  return json(res);
};

/** The segments GET /v1/customers/{ref}/segments lists for the reference. */
const listed = async (ref: string): Promise<string[]> =>
  (await json(await api('GET', `/v1/customers/${encodeURIComponent(ref)}/segments`))).data.map((s: { id: string }) => s.id);

const conditionsOf = (trace: ExplainNode | null) => (trace?.children ?? []).flatMap((f) => f.children ?? []);

beforeAll(async () => {
  const gold = await json(await api('POST', '/v1/customers', { source_id: 'se-gold', name: 'Gold', metadata: { tier: 'gold' } }));
  ids.goldCustomer = gold.id;
  await api('POST', '/v1/customers', { source_id: 'se-plain', metadata: { tier: 'silver' } });
  const make = async (name: string, body: Record<string, unknown>) =>
    (ids[name] = (await json(await api('POST', '/v1/segments', { name, ...body }))).id);
  await make('passive-gold', {
    type: 'passive',
    filter: { junction: 'or', 'metadata.tier': { conditions: { $is: ['gold'] } }, name: { conditions: { $is: ['Nobody'] } } },
  });
  await make('auto-gold', { type: 'auto-update', filter: { 'metadata.tier': { conditions: { $is: ['gold'] } } } });
  await make('static', { type: 'static', customers: ['se-gold'] });
  await make('unknown-tier', { type: 'passive', filter: { 'metadata.tier': { conditions: { $is_unknown: true } } } });
  await make('viewers', { type: 'passive', filter: { 'events.viewed_product.count': { conditions: { $more_than: [0] } } } });
  // An anonymous visitor who viewed a product, and a tracking profile a redemption linked to se-gold.
  expect(
    (
      await call('/client/v1/events', {
        method: 'POST',
        headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json' },
        body: JSON.stringify({ event: 'viewed_product', customer: { source_id: ANON } }),
      })
    ).status,
  ).toBe(200);
  await api('POST', '/v1/vouchers/SE-LINK', { discount: { type: 'AMOUNT', amount_off: 1 } });
  expect(
    (
      await api('POST', '/v1/vouchers/SE-LINK/redemption', {
        customer: { source_id: 'se-gold' },
        tracking_id: LINKED,
        order: { amount: 100 },
      })
    ).status,
  ).toBe(200);
  await settled();
});

describe('POST /v1/segments/{id}/explain', () => {
  it("explains a passive segment: the filter judged now, with what it read, agreeing with the customer's segments", async () => {
    for (const [ref, member] of [
      ['se-gold', true],
      ['se-plain', false],
    ] as const) {
      const answer = await explained(ids['passive-gold']!, { customer: ref });
      expect(answer).toMatchObject({
        object: 'segment_explanation',
        segment: { id: ids['passive-gold'], name: 'passive-gold', type: 'passive' },
        customer: { source_id: ref },
        member,
        basis: 'filter',
        explanation: { kind: 'filter', logic: 'or', passed: member },
      });
      expect(traceInconsistencies(answer.explanation!)).toEqual([]);
      expect(conditionsOf(answer.explanation).map((c) => [c.field, c.operator, c.expected, c.actual, c.passed])).toEqual([
        ['metadata.tier', '$is', ['gold'], member ? 'gold' : 'silver', member],
        ['name', '$is', ['Nobody'], member ? 'Gold' : null, false],
      ]);
      expect((await listed(ref)).includes(ids['passive-gold']!)).toBe(member);
    }
    // By customer id, the same.
    expect(await explained(ids['passive-gold']!, { customer: ids.goldCustomer })).toMatchObject({
      customer: { id: ids.goldCustomer, source_id: 'se-gold' },
      member: true,
    });
  });

  it("explains an auto-update segment by its stored members, with the filter's trace beside them", async () => {
    const answer = await explained(ids['auto-gold']!, { customer: 'se-gold' });
    expect(answer).toMatchObject({ member: true, basis: 'stored', explanation: { passed: true } });
    expect((await explained(ids['auto-gold']!, { customer: 'se-plain' })).member).toBe(false);
    expect(await listed('se-gold')).toContain(ids['auto-gold']);
  });

  it('explains a static segment by its member list, with no filter to trace', async () => {
    expect(await explained(ids.static!, { customer: 'se-gold' })).toMatchObject({ member: true, basis: 'stored', explanation: null });
    expect(await explained(ids.static!, { customer: 'se-plain' })).toMatchObject({ member: false, basis: 'stored', explanation: null });
  });

  it('judges a customer reference naming nobody as an empty profile, as GET /v1/customers/{id}/segments does', async () => {
    for (const segment of ['unknown-tier', 'auto-gold', 'static', 'passive-gold']) {
      const answer = await explained(ids[segment]!, { customer: 'se-nobody' });
      expect(answer.customer).toBeNull();
      expect([segment, answer.member]).toEqual([segment, (await listed('se-nobody')).includes(ids[segment]!)]);
    }
    const unknownTier = await explained(ids['unknown-tier']!, { customer: 'se-nobody' });
    expect(unknownTier).toMatchObject({ member: true, basis: 'filter' });
    expect(conditionsOf(unknownTier.explanation)[0]).toMatchObject({
      field: 'metadata.tier',
      operator: '$is_unknown',
      actual: null,
      passed: true,
    });
  });

  it('resolves a tracking id as validate does: the anonymous visitor with its events, or the customer it was linked to', async () => {
    const anonymous = await explained(ids.viewers!, { tracking_id: ANON });
    expect(anonymous).toMatchObject({ customer: null, member: true, basis: 'filter' });
    expect(conditionsOf(anonymous.explanation)[0]).toMatchObject({
      field: 'events.viewed_product.count',
      operator: '$more_than',
      expected: [0],
      actual: 1,
      passed: true,
    });
    // An anonymous visitor is never a stored member: an auto-update segment is judged by its filter.
    expect(await explained(ids['auto-gold']!, { tracking_id: ANON })).toMatchObject({ customer: null, member: false, basis: 'filter' });

    const linked = await explained(ids['auto-gold']!, { tracking_id: LINKED });
    expect(linked).toMatchObject({ customer: { id: ids.goldCustomer, source_id: 'se-gold' }, member: true, basis: 'stored' });
    // A tracking id never seen: an empty visitor.
    expect(await explained(ids.viewers!, { tracking_id: 'track_SegExplainNeverSeen000' })).toMatchObject({ customer: null, member: false });
  });

  it('answers 404 in the Voucherify error shape for an unknown segment', async () => {
    const res = await explain('seg_nope', { customer: 'se-gold' });
    expect(res.status).toBe(404);
    const error = await json(res);
    // errors.mdx: {code, key, message, details, request_id}.
    expect(error).toMatchObject({ code: 404, key: 'not_found', details: expect.stringContaining('seg_nope') });
    expect(typeof error.message).toBe('string');
    expect(typeof error.request_id).toBe('string');
  });

  it.each([
    ['no subject', {}, 'customer'],
    ['both subjects', { customer: 'se-gold', tracking_id: ANON }, 'tracking_id'],
    ['a customer that is not a string', { customer: 5 }, 'customer'],
    ['an empty tracking id', { tracking_id: '' }, 'tracking_id'],
    ['an unknown field', { customer_id: 'se-gold' }, 'customer_id'],
  ])('answers 400 naming the field for %s', async (_, body, field) => {
    const res = await explain(ids['passive-gold']!, body);
    expect(res.status).toBe(400);
    const error = await json(res);
    expect(error).toMatchObject({ code: 400, key: 'invalid_payload' });
    expect(error.details).toContain(field);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const res = await api('POST', `/v1/segments/${ids['passive-gold']}/explain`, 'not json');
    expect(res.status).toBe(400);
  });

  it('needs the server key', async () => {
    const res = await call(`/v1/segments/${ids['passive-gold']}/explain`, {
      method: 'POST',
      headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json' },
      body: JSON.stringify({ customer: 'se-gold' }),
    });
    expect(res.status).toBe(401);
  });
});
