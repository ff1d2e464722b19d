/**
 * Vouchsafe.qualifications() in a real Chromium against the running server (needs the route
 * POST /client/v1/qualifications): the request carries the visitor as validate() does (the
 * tracking cookie's id, the signed identity; nothing at all before consent), the answer is the
 * spec's list (voucherify-openapi documentation/openapi/client-side.json @65c33a7:
 * ClientQualificationsCheckEligibilityResponseBody L2289, QualificationsRedeemables L3142), and
 * each code it lists is one that client validate accepts for the same visitor and cart (one judge).
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Demo, TRACKING_ID, launchChromium, openDemo } from './helpers.ts';

let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

interface Answer {
  redeemables?: {
    object: string;
    data_ref: string;
    total: number;
    has_more: boolean;
    data: { id: string; object: string; result?: { discount?: Record<string, unknown> } }[];
  };
  error?: { message?: string };
}

const CART = {
  amount: 4700,
  items: [
    { sku_id: 'sku_mug', quantity: 1, price: 1800 },
    { sku_id: 'sku_tee', quantity: 1, price: 2900 },
  ],
};

/** Calls the page's SDK and returns its answer with the request it sent. Plain source text: the repo has no DOM lib. */
async function qualify(demo: Demo): Promise<{ answer: Answer; body: Record<string, unknown>; signature: string | undefined }> {
  const before = demo.to('/client/v1/qualifications', 'POST').length;
  const answer = (await demo.page.evaluate(`Vouchsafe.qualifications(${JSON.stringify(CART)})`)) as Answer;
  const request = demo.to('/client/v1/qualifications', 'POST')[before];
  if (!request) throw new Error('the qualifications request was not captured');
  return {
    answer,
    body: JSON.parse(request.body) as Record<string, unknown>,
    signature: request.request.headers()['x-vouchsafe-identity-signature'],
  };
}

/** Every voucher code listed is valid in client validate for the same visitor and cart. */
async function sameVerdicts(demo: Demo, answer: Answer): Promise<void> {
  for (const offer of answer.redeemables?.data ?? []) {
    if (offer.object !== 'voucher') continue;
    const valid = (await demo.page.evaluate(
      `Vouchsafe.validate(${JSON.stringify({ code: offer.id, ...CART })}).then((r) => r.valid)`,
    )) as boolean;
    expect(valid, offer.id).toBe(true);
  }
}

describe('Vouchsafe.qualifications() (needs POST /client/v1/qualifications)', () => {
  it("posts the cart with the visitor's tracking id and answers the spec's list, each code one validate accepts", async (t) => {
    const demo = await openDemo(browser, t);
    const cookie = await demo.trackingCookie();
    expect(cookie?.value).toMatch(TRACKING_ID);

    const { answer, body } = await qualify(demo);
    expect(body).toEqual({ order: CART, tracking_id: cookie?.value });
    expect(answer.error, JSON.stringify(answer)).toBeUndefined();
    expect(answer.redeemables).toMatchObject({ object: 'list', data_ref: 'data', has_more: expect.any(Boolean) });
    expect(answer.redeemables!.total).toBe(answer.redeemables!.data.length);
    for (const offer of answer.redeemables!.data) expect(['voucher', 'promotion_tier']).toContain(offer.object);
    await sameVerdicts(demo, answer);
  });

  it('carries the signed identity in the header, and nothing that identifies the visitor before consent', async (t) => {
    const demo = await openDemo(browser, t, '/demo/?consent=required');
    await demo.signIn('alice@example.com', 'Alice Morgan');
    const before = await qualify(demo);
    expect(before.body).toEqual({ order: CART });
    expect(before.signature).toBeUndefined();
    expect((await demo.context.cookies()).map((c) => c.name)).not.toContain('vs_tid');

    await demo.testId('consent-accept').click();
    const cookie = await demo.trackingCookie();
    expect(cookie?.value).toMatch(TRACKING_ID);
    const after = await qualify(demo);
    expect(after.body).toEqual({ order: CART, tracking_id: cookie?.value, identity_hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(after.signature).toMatch(/^\d+\.[0-9a-f]{64}$/);
    expect(before.answer.error, JSON.stringify(before.answer)).toBeUndefined();
    expect(after.answer.error, JSON.stringify(after.answer)).toBeUndefined();
    // A client answer names nobody: no stored customer id anywhere in it.
    expect(JSON.stringify(after.answer)).not.toMatch(/"customer_id":"cust_/);
    await sameVerdicts(demo, after.answer);
  });
});
