import { beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_HEADERS, api, call, json, signAs } from './helpers';

// The client key is public (it ships in every storefront page): a trace would tell a guesser why a
// code fails (expired, "spend €8 more", which segment). So /client/v1/validate and
// /client/v1/validations ignore `explain`: the answer with ?explain=true is the answer without it.

const TRACKING_ID = 'track_ExplainClientExplainC0';

/** Every key anywhere in a JSON value. */
function keysOf(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) keysOf(v, into);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      into.add(k);
      keysOf(v, into);
    }
  }
  return into;
}

/** The answer without what differs between two identical requests (the validation id, the request id). */
function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k, v]) => k !== 'request_id' && !(k === 'id' && typeof v === 'string' && v.startsWith('valid_')))
        .map(([k, v]) => [k, stable(v)]),
    );
  }
  return value;
}

let signed: Record<string, string>;

beforeAll(async () => {
  const seg = await json(
    await api('POST', '/v1/segments', {
      name: 'explain-client gold',
      type: 'passive',
      filter: { 'metadata.tier': { conditions: { $is: ['gold'] } } },
    }),
  );
  await api('POST', '/v1/vouchers/XC-RULED', { discount: { type: 'AMOUNT', amount_off: 100 } });
  const rule = await json(
    await api('POST', '/v1/validation-rules', {
      name: 'gold and big',
      rules: {
        '1': { name: 'customer.segment', conditions: { $is: [seg.id] } },
        '2': { name: 'order.amount', conditions: { $more_than: [1000] } },
      },
    }),
  );
  await api('POST', `/v1/validation-rules/${rule.id}/assignments`, { related_object_type: 'voucher', related_object_id: 'XC-RULED' });
  await api('POST', '/v1/vouchers/XC-EXPIRED', { discount: { type: 'AMOUNT', amount_off: 100 }, expiration_date: '2020-01-01T00:00:00Z' });
  await api('POST', '/v1/customers', { source_id: 'xc-gold', metadata: { tier: 'gold' } });
  signed = { 'X-Vouchsafe-Identity-Signature': await signAs('source_id', 'xc-gold') };
});

describe('the client key never gets a trace', () => {
  const queries = [
    ['valid', 'code=XC-RULED&amount=5000&customer%5Bsource_id%5D=xc-gold'],
    ['refused by a rule', 'code=XC-RULED&amount=500&customer%5Bsource_id%5D=xc-gold'],
    ['expired', 'code=XC-EXPIRED&amount=500'],
    ['unknown code', 'code=XC-NOPE'],
  ] as const;

  it.each(queries)('GET /client/v1/validate ignores explain=true (%s)', async (_, query) => {
    const get = (extra: string) =>
      call(`/client/v1/validate?${query}&tracking_id=${TRACKING_ID}${extra}`, { headers: { ...CLIENT_HEADERS, ...signed } });
    const explained = await get('&explain=true');
    const plain = await get('');
    expect(explained.status).toBe(200);
    const body = await json(explained);
    expect(keysOf(body).has('explanation')).toBe(false);
    expect(stable(body)).toEqual(stable(await json(plain)));
  });

  it('POST /client/v1/validations ignores explain=true, in the query and in the body', async () => {
    const body = {
      redeemables: [
        { object: 'voucher', id: 'XC-RULED' },
        { object: 'voucher', id: 'XC-EXPIRED' },
        { object: 'voucher', id: 'XC-NOPE' },
      ],
      order: { amount: 5000 },
      customer: { source_id: 'xc-gold' },
      tracking_id: TRACKING_ID,
    };
    const post = (path: string, payload: unknown) =>
      call(path, {
        method: 'POST',
        headers: { ...CLIENT_HEADERS, ...signed, 'Content-Type': 'application/json' },
        body: JSON.stringify(payload),
      });
    const plain = stable(await json(await post('/client/v1/validations', body)));
    for (const [path, payload] of [
      ['/client/v1/validations?explain=true', body],
      ['/client/v1/validations', { ...body, explain: true }],
    ] as const) {
      const res = await post(path, payload);
      expect(res.status).toBe(200);
      const answer = await json(res);
      expect(answer.valid).toBe(false);
      expect(keysOf(answer).has('explanation')).toBe(false);
      expect(stable(answer)).toEqual(plain);
    }
  });
});
