import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { definitionAt } from '../../worker/src/services/definitions';
import { api, call, CLIENT_HEADERS, json } from './helpers';

// A redemption is judged on two reads: the voucher's live state (active, quantity, holder), read with
// the visitor, and its definition (terms, rules), from the isolate cache, KV or D1. When the
// definition is not cached, it is read from D1 after the live state, so a disable, delete or PUT that
// commits between the two reads used to pair the old live state ("active") with the new definition,
// whose version the write batch's guard then accepted: the redemption committed after the disable.
// Half the races start the redemptions on a voucher no request has loaded yet, which is when that
// window is open; the other half on a cached one, where redemptions commit on both sides of the
// change. Every successful answer is checked against the order in which D1 committed the writes.

/** 14 rounds of every change × route × cold/warm (6 × 3 × 2). */
const TRIALS = 504;
const REDEMPTIONS = 8;
/** A bound for the trials on a loaded shared machine, not a speed claim (bench/ measures speed). */
const RACE_TIMEOUT_MS = 300_000;
const PAST = '2020-01-01T00:00:00.000Z';

type Change = 'disable' | 'deactivate' | 'delete' | 'expire' | 'discount';
type Route = 'voucher' | 'stackable' | 'client';
const CHANGES: Change[] = ['disable', 'delete', 'disable', 'expire', 'deactivate', 'discount'];
const ROUTES: Route[] = ['voucher', 'stackable', 'client'];
/** The answer of a redemption that commits after the change (a discount change refuses nobody). */
const REFUSAL: Record<Change, string> = {
  disable: '400 voucher_disabled',
  deactivate: '400 voucher_disabled',
  delete: '404 not_found',
  expire: '400 voucher_expired',
  discount: 'none',
};

const change = (kind: Change, code: string) => {
  switch (kind) {
    case 'disable':
      return api('POST', `/v1/vouchers/${code}/disable`);
    case 'deactivate':
      return api('PUT', `/v1/vouchers/${code}`, { active: false });
    case 'delete':
      return api('DELETE', `/v1/vouchers/${code}`);
    case 'expire':
      return api('PUT', `/v1/vouchers/${code}`, { expiration_date: PAST });
    case 'discount':
      return api('PUT', `/v1/vouchers/${code}`, { discount: { type: 'AMOUNT', amount_off: 1 } });
  }
};

const redeem = (route: Route, code: string, customer: string) => {
  const stackable = { redeemables: [{ object: 'voucher', id: code }], order: { amount: 1000 } };
  switch (route) {
    case 'voucher':
      return api('POST', `/v1/vouchers/${code}/redemption`, { customer: { source_id: customer }, order: { amount: 1000 } });
    case 'stackable':
      return api('POST', '/v1/redemptions', { ...stackable, customer: { source_id: customer } });
    case 'client':
      // A guest checkout: the client key names no customer it has not been given.
      return call(
        '/client/v1/redemptions',
        { method: 'POST', headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json' }, body: JSON.stringify(stackable) },
        { CLIENT_REDEMPTIONS: 'on', RATE_LIMITS: 'off' },
      );
  }
};

interface Redeemed {
  /** The voucher as the redemption's own batch read it back, after its write. */
  voucher: {
    active: boolean;
    expiration_date: string | null;
    discount: { amount_off: number };
    redemption: { redeemed_quantity: number };
  } | null;
  discount: number;
}

/** The successful answer's redemption of the voucher, on any of the three routes. */
function redeemed(route: Route, body: Record<string, any>): Redeemed {
  const one = route === 'voucher' ? body : body.redemptions?.[0];
  return { voucher: one?.voucher ?? null, discount: one?.order?.discount_amount };
}

describe('a change to a voucher that commits before a redemption applies to it', () => {
  it(
    `${TRIALS} races of ${REDEMPTIONS} redemptions against a disable, delete or PUT: no success after the change, on any route`,
    async () => {
      const wrong: string[] = [];
      let successes = 0;
      let refusals = 0;
      let split = 0;
      for (let i = 0; i < TRIALS; i++) {
        const code = `RACE-${i}`;
        const kind = CHANGES[i % CHANGES.length] as Change;
        const route = ROUTES[Math.floor(i / CHANGES.length) % ROUTES.length] as Route;
        expect((await api('POST', `/v1/vouchers/${code}`, { discount: { type: 'AMOUNT', amount_off: 100 } })).status).toBe(200);
        // Half the trials start cold (no request has loaded the definition: the redemptions read it
        // from D1 while the change commits), half warm (a validation cached it: the redemptions go
        // straight to their batch and some commit before the change).
        const warm = Math.floor(i / (CHANGES.length * ROUTES.length)) % 2 === 1;
        if (warm) expect((await json(await api('POST', `/v1/vouchers/${code}/validate`, { order: { amount: 1000 } }))).valid).toBe(true);
        // The change starts at every position among the redemptions, so it commits before all, some or none of them.
        const at = i % (REDEMPTIONS + 1);
        const requests: Promise<Response>[] = [];
        for (let j = 0; j <= REDEMPTIONS; j++) {
          // Warm trials start the change once one of the redemptions before it has answered, so the
          // others in flight commit on either side of it.
          if (warm && j === at && at > 0) await Promise.race(requests);
          requests.push(j === at ? change(kind, code) : redeem(route, code, `race-${i}-${j}`));
        }
        const responses = await Promise.all(requests);
        const bodies: Record<string, any>[] = await Promise.all(responses.map((r) => (r.status === 204 ? {} : json(r))));
        const changeRes = responses[at] as Response;
        expect(changeRes.status, `${kind} of ${code}`).toBeLessThan(300);
        // The change's own answer is the voucher as it committed: how many units had been taken before it.
        const unitsBefore: number | null = kind === 'delete' ? null : bodies[at]?.redemption.redeemed_quantity;

        let succeeded = 0;
        for (const [k, res] of responses.entries()) {
          if (k === at) continue;
          if (res.status !== 200) {
            // Refused for what the change did: one change is one retry at most, never a conflict.
            expect(`${res.status} ${bodies[k]?.key}`, `${route} redemption of ${code} after ${kind}`).toBe(REFUSAL[kind]);
            refusals++;
            continue;
          }
          succeeded++;
          const { voucher, discount } = redeemed(route, bodies[k] as Record<string, any>);
          const problem = (what: string) => wrong.push(`${code} ${route} vs ${kind}: ${what}`);
          // Read in the redemption's own batch, so this is the voucher its write committed against.
          if (!voucher) {
            problem('answered without the voucher (it was gone when the batch committed)');
            continue;
          }
          if (!voucher.active) problem('succeeded while its own batch read the voucher disabled');
          if (voucher.expiration_date !== null)
            problem(`succeeded while its own batch read the voucher expired (${voucher.expiration_date})`);
          // The order in which D1 committed: the redemption's unit came before the change.
          if (unitsBefore !== null && kind !== 'discount' && voucher.redemption.redeemed_quantity > unitsBefore) {
            problem(`unit ${voucher.redemption.redeemed_quantity} taken after the change, which saw ${unitsBefore}`);
          }
          // Judged by the definition current when its batch committed.
          if (discount !== voucher.discount.amount_off)
            problem(`discount ${discount} applied while the voucher granted ${voucher.discount.amount_off}`);
          if (kind === 'discount' && unitsBefore !== null) {
            const expected = voucher.redemption.redeemed_quantity > unitsBefore ? 1 : 100;
            if (discount !== expected)
              problem(
                `discount ${discount}, but the voucher granted ${expected} when unit ${voucher.redemption.redeemed_quantity} was taken`,
              );
          }
        }
        successes += succeeded;
        if (succeeded > 0 && succeeded < REDEMPTIONS) split++;
        if (kind === 'delete') {
          // Gone: the code is unknown, whatever committed before.
          expect((await redeem('voucher', code, `race-${i}-after`)).status).toBe(404);
        } else {
          const after = await json(await api('GET', `/v1/vouchers/${code}`));
          // Every unit taken belongs to a successful answer; a refused redemption took none.
          expect(after.redemption.redeemed_quantity, `units of ${code}`).toBe(succeeded);
          if (kind !== 'discount' && succeeded !== unitsBefore) {
            wrong.push(`${code} ${route} vs ${kind}: ${succeeded} successes, ${unitsBefore} units taken before the change`);
          }
        }
      }
      expect(wrong).toEqual([]);
      // Both outcomes happened, also within one race, so the order checks above ran on successes
      // on both sides of a change as well as on refusals.
      expect(successes).toBeGreaterThan(0);
      expect(refusals).toBeGreaterThan(0);
      expect(split).toBeGreaterThan(0);
    },
    RACE_TIMEOUT_MS,
  );
});

describe('a definition read while its voucher keeps changing', () => {
  const liveVersion = async (code: string) =>
    (await env.DB.prepare('SELECT definition_version FROM vouchers WHERE code = ?').bind(code).first<{ definition_version: string }>())
      ?.definition_version as string;
  /** The real database, with the voucher changed (its version replaced) before every `every`-th batch. */
  const churning = (code: string, every: number) => {
    let batches = 0;
    const db = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === 'batch') {
          return async (statements: D1PreparedStatement[]) => {
            batches++;
            if (every > 0 && batches % every === 0) {
              await target
                .prepare('UPDATE vouchers SET metadata = ? WHERE code = ?')
                .bind(JSON.stringify({ change: batches }), code)
                .run();
            }
            return target.batch(statements);
          };
        }
        const value = Reflect.get(target, prop);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    return { db, batches: () => batches };
  };

  it('serves the request that read it but is never cached under a version its parts do not share', async () => {
    await api('POST', '/v1/vouchers/CHURN', { discount: { type: 'AMOUNT', amount_off: 100 } });
    const asked = await liveVersion('CHURN');
    // Every second batch is the fill's second read (segments and the version again): the version
    // moves between the two reads of each of the fill's attempts.
    const churn = churning('CHURN', 2);
    const definition = await definitionAt({ DB: churn.db, CACHE: env.CACHE }, 'CHURN', asked);
    expect(churn.batches()).toBe(6);
    expect(definition?.voucher.code).toBe('CHURN');
    const label = definition?.version as string;
    expect(label).not.toBe(await liveVersion('CHURN'));
    // Not in KV, under any version, and not in this isolate: asking for that version reads D1 again.
    expect((await env.CACHE.list({ prefix: 'voucher-def:v4:CHURN:' })).keys).toEqual([]);
    const quiet = churning('CHURN', 0);
    const again = await definitionAt({ DB: quiet.db, CACHE: env.CACHE }, 'CHURN', label);
    expect(quiet.batches()).toBe(2);
    // Once the voucher holds still, the read is consistent and cached under the version it found.
    expect(again?.version).toBe(await liveVersion('CHURN'));
    expect((await env.CACHE.list({ prefix: 'voucher-def:v4:CHURN:' })).keys.map((k) => k.name)).toEqual([
      `voucher-def:v4:CHURN:${again?.version}`,
    ]);
  });
});
