/**
 * Consent and identity verification in a real Chromium: with consent required nothing identifies
 * the visitor before consent(true) (no tracking id, no identity hash, no cookie), and afterwards
 * only an identity the shop's backend signed counts (knowing an e-mail is not being its customer).
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Captured, TRACKING_ID, launchChromium, openDemo } from './helpers.ts';

let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

/** What in a request could identify the visitor to the API. */
const identifying = (r: Captured) =>
  [
    ...r.url.searchParams.keys(),
    ...Object.keys((JSON.parse(r.body || '{}') as Record<string, unknown>) ?? {}),
    ...(r.request.headers()['x-vouchsafe-identity-signature'] ? ['identity_signature'] : []),
  ].filter((k) => ['tracking_id', 'identity_hash', 'identity_signature'].includes(k));

describe('consent required (/demo/?consent=required)', () => {
  it('sends nothing that identifies the visitor before consent; after it a signed identity counts and an unsigned one does not', async (t) => {
    // Alice's usual device: she signs in and orders once, which links her (signed) identity.
    const usual = await openDemo(browser, t);
    await usual.signIn('alice@example.com', 'Alice Morgan');
    await usual.addToCart('sku_mug');
    expect((await usual.applyVoucher('WELCOME10')).body.valid).toBe(true);
    expect((await usual.checkout()).body.redeemed).toBe(true);

    // A new device, on a page that asks for consent.
    const demo = await openDemo(browser, t, '/demo/?consent=required');
    await demo.testId('consent-banner').waitFor();
    expect(await demo.text('tracking-id')).toBe('none');

    // Before consent: a product view is not sent, and there is no cookie at all.
    await demo.testId('view-sku_cap').click();
    await demo.testId('views-count').filter({ hasText: 'No consent' }).waitFor();
    expect(demo.to('/client/v1/events')).toHaveLength(0);
    await demo.addToCart('sku_tee');
    expect(await demo.context.cookies()).toEqual([]);
    // Signed in before consent: the page holds a signed identity and still sends none of it, nor a
    // tracking id: the validation is anonymous.
    await demo.signIn('alice@example.com', 'Alice Morgan');
    const signedBefore = await demo.applyVoucher('GOLD20');
    expect(signedBefore.body.valid).toBe(false);
    const clientRequests = demo.requests.filter((r) => r.url.pathname.startsWith('/client/'));
    expect(clientRequests.map((r) => r.url.pathname)).toEqual(['/client/v1/validate']);
    for (const r of clientRequests) expect(identifying(r), `${r.method} ${r.url.pathname}${r.url.search}`).toEqual([]);
    // The shop's own sign-in cookie (HttpOnly) is the only cookie; no tracking cookie.
    expect((await demo.context.cookies()).map((c) => c.name)).toEqual(['vs_demo_session']);

    // Consent: a tracking cookie, and the signed identity is Alice (linked on her usual device).
    await demo.testId('consent-accept').click();
    const cookie = (await demo.context.cookies()).find((c) => c.name === 'vs_tid');
    expect(cookie?.value).toMatch(TRACKING_ID);
    // The usual device's identity is written with its visit by the queue consumer about a second
    // after that visit (docs/architecture.md, "Consistency"); under load it may not be there yet.
    const signed = await demo.applyVoucherOnceCounted('GOLD20');
    expect(signed.request.url.searchParams.get('tracking_id')).toBe(cookie?.value);
    // The signature travels in a header, never in the URL (which logs keep).
    expect(signed.request.url.searchParams.has('identity_signature')).toBe(false);
    expect(signed.request.request.headers()['x-vouchsafe-identity-signature']).toMatch(/^\d+\.[0-9a-f]{64}$/);
    expect(signed.body.valid, JSON.stringify(signed.body)).toBe(true);

    // The same identity without the backend's signature: an anonymous visitor again.
    await demo.page.evaluate("Vouchsafe.setIdentity('alice@example.com')");
    const unsigned = await demo.applyVoucher('GOLD20');
    expect(unsigned.request.url.searchParams.get('identity_hash')).toMatch(/^[0-9a-f]{64}$/);
    expect(unsigned.request.url.searchParams.has('identity_signature')).toBe(false);
    expect(unsigned.request.request.headers()['x-vouchsafe-identity-signature']).toBeUndefined();
    expect(unsigned.body.valid).toBe(false);
    expect(unsigned.body.error?.message).toBe('This code is for gold customers only.');
  });
});
