/**
 * The demo storefront in a real Chromium against a real local server (npm start): the tracking
 * cookie, validate in the official query format, identity hashing, segments of anonymous
 * visitors, and the merge of a visitor's tracking history into the customer at checkout.
 */
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, BASE_URL } from './config.ts';
import { TRACKING_ID, launchChromium, openDemo } from './helpers.ts';

const DAY_S = 24 * 60 * 60;
/** Unique per run: a reused server keeps the customers of earlier runs. */
const RUN = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** `a=1&b%5B0%5D=2` as its raw (still encoded) pairs. */
const rawPairs = (search: string): string[] => search.replace(/^\?/, '').split('&').filter(Boolean);

let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

describe('the tracking cookie', () => {
  it('is set on first load with the right attributes and never rewritten on reload', async (t) => {
    const demo = await openDemo(browser, t);
    const cookie = await demo.trackingCookie();
    expect(cookie).toBeDefined();
    if (!cookie) return;
    expect(cookie.value).toMatch(TRACKING_ID);
    expect(cookie.path).toBe('/');
    expect(cookie.sameSite).toBe('Lax');
    expect(cookie.secure).toBe(false); // http page
    expect(cookie.httpOnly).toBe(false); // written by the SDK, readable by it
    expect(cookie.domain).toBe('127.0.0.1'); // host-only: no Domain attribute on an IP address
    const expectedExpiry = Date.now() / 1000 + 400 * DAY_S;
    expect(Math.abs(cookie.expires - expectedExpiry)).toBeLessThan(DAY_S / 24);
    // The SDK wrote it, once (no domain probing on an IP address).
    const writes = await demo.cookieWrites();
    expect(writes.filter((w) => w.startsWith('vs_tid='))).toHaveLength(1);
    // The page shows the id it uses.
    expect(await demo.text('tracking-id')).toBe(cookie.value);

    await demo.reload();
    const again = await demo.trackingCookie();
    expect(again?.value).toBe(cookie.value);
    expect(again?.expires).toBe(cookie.expires);
    expect(await demo.cookieWrites()).toEqual([]);
    expect(await demo.text('tracking-id')).toBe(cookie.value);
  });
});

describe('validate', () => {
  it('applies WELCOME10 with a GET /client/v1/validate in the official query format and the tracking id', async (t) => {
    const demo = await openDemo(browser, t);
    const trackingId = (await demo.trackingCookie())?.value;
    expect(trackingId).toMatch(TRACKING_ID);
    await demo.addToCart('sku_mug'); // $18.00
    await demo.addToCart('sku_tee'); // $29.00
    await demo.addToCart('sku_tee');
    expect(await demo.text('cart-subtotal')).toBe('$76.00');

    const { request, response, body } = await demo.applyVoucher('WELCOME10');
    expect(request.method).toBe('GET');
    expect(request.url.origin).toBe(BASE_URL);
    expect(request.url.pathname).toBe('/client/v1/validate');
    expect(request.body).toBe('');
    // Exactly what @voucherify/sdk sends (qs: brackets percent-encoded), plus the tracking id.
    expect(rawPairs(request.url.search).sort()).toEqual(
      [
        'code=WELCOME10',
        'amount=7600',
        'item%5B0%5D%5Bsku_id%5D=sku_mug',
        'item%5B0%5D%5Bquantity%5D=1',
        'item%5B0%5D%5Bprice%5D=1800',
        'item%5B1%5D%5Bsku_id%5D=sku_tee',
        'item%5B1%5D%5Bquantity%5D=2',
        'item%5B1%5D%5Bprice%5D=2900',
        `tracking_id=${trackingId}`,
      ].sort(),
    );
    const headers = await request.request.allHeaders();
    expect(headers['x-client-application-id']).toBe('demo-client-app-id');
    expect(headers['x-client-token']).toBe('demo-client-token');

    expect(response.status(), JSON.stringify(body)).toBe(200);
    expect(body.valid).toBe(true);
    expect(body.tracking_id).toBe(trackingId);
    expect(body.order).toMatchObject({ amount: 7600, discount_amount: 760, total_amount: 6840 });
    // A same-origin validate answer sets the server-side cookie, with the same id.
    const setCookie = (await response.headerValue('set-cookie')) ?? '';
    expect(setCookie).toMatch(new RegExp(`^vs_tid=${trackingId};`));
    expect((await demo.trackingCookie())?.value).toBe(trackingId);

    expect(await demo.text('voucher-discount')).toBe('$7.60');
    expect(await demo.text('voucher-total')).toBe('$68.40');
    expect(await demo.text('cart-discount')).toBe('−$7.60');
    expect(await demo.text('cart-total')).toBe('$68.40');
  });
});

describe('setIdentity', () => {
  it('sends a SHA-256 identity_hash and never the email itself', async (t) => {
    const demo = await openDemo(browser, t);
    const local = `Ada.Lovelace+${RUN}`;
    const email = `${local}@Example.com`;
    const hash = sha256(email.toLowerCase());
    await demo.signIn(email, 'Ada Lovelace');
    expect(await demo.text('signed-in-name')).toBe('Ada Lovelace');
    expect(await demo.text('signed-in-email')).toBe(email);

    const event = await demo.viewProduct('sku_cap', 1);
    expect(event.status()).toBe(200);
    const track = demo.to('/client/v1/events', 'POST')[0];
    const trackBody = JSON.parse(track?.body ?? '{}') as {
      identity_hash?: string;
      identity_signature?: string;
      customer?: { source_id?: string };
    };
    expect(trackBody.identity_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(trackBody.identity_hash).toBe(hash);
    expect(trackBody.customer?.source_id).toBe((await demo.trackingCookie())?.value);

    await demo.addToCart('sku_cap');
    const { request, body } = await demo.applyVoucher('WELCOME10');
    expect(request.url.searchParams.get('identity_hash')).toBe(hash);
    expect(body.valid, JSON.stringify(body)).toBe(true);

    // The shop's backend signed the identity at sign-in; the page passes the signature along.
    // It travels in the X-Vouchsafe-Identity-Signature header, never in a URL or a body.
    const signature = request.request.headers()['x-vouchsafe-identity-signature'];
    expect(signature).toMatch(/^\d+\.[0-9a-f]{64}$/);
    expect(request.url.searchParams.has('identity_signature')).toBe(false);
    expect(trackBody.identity_signature).toBeUndefined();
    expect(track?.request.headers()['x-vouchsafe-identity-signature']).toBe(signature);

    // Nothing the page sent to the API carries the email: URLs (raw and decoded), bodies, headers.
    // (Only the shop's own backend, /demo/api/session, learns it at sign-in.)
    const needles = [email.toLowerCase(), local.toLowerCase(), encodeURIComponent(email).toLowerCase()];
    const toApi = demo.requests.filter((r) => r.url.pathname.startsWith('/client/'));
    expect(toApi.length).toBeGreaterThanOrEqual(2);
    for (const captured of toApi) {
      const headers = await captured.request.allHeaders();
      const haystack = [captured.url.href, decodeURIComponent(captured.url.href), captured.body, ...Object.values(headers)]
        .join('\n')
        .toLowerCase();
      for (const needle of needles) expect(haystack, `${captured.method} ${captured.url.pathname}`).not.toContain(needle);
    }

    // Sign out: a new tracking id, in the cookie too, and no identity any more.
    const before = (await demo.trackingCookie())?.value;
    await demo.page.getByRole('button', { name: 'Sign out' }).click();
    await demo.page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    const after = (await demo.trackingCookie())?.value;
    expect(after).toMatch(TRACKING_ID);
    expect(after).not.toBe(before);
    expect(await demo.text('tracking-id')).toBe(after);
    await demo.viewProduct('sku_mug', 2);
    const anonymous = JSON.parse(demo.to('/client/v1/events', 'POST')[1]?.body ?? '{}') as Record<string, unknown>;
    expect(anonymous).not.toHaveProperty('identity_hash');
    expect(anonymous.customer).toEqual({ source_id: after });
  });
});

describe('segments of anonymous visitors', () => {
  it('accepts BROWSE5 once the visitor has viewed 3 products, judged by its tracking profile', async (t) => {
    const demo = await openDemo(browser, t);
    const trackingId = (await demo.trackingCookie())?.value;
    await demo.addToCart('sku_tote'); // $15.00

    const refused = await demo.applyVoucher('BROWSE5');
    expect(refused.response.status(), JSON.stringify(refused.body)).toBe(200);
    expect(refused.body.valid).toBe(false);
    expect(refused.body.reason).toBe('customer does not match segment rules');
    expect(refused.body.error?.message).toBe('This code is for engaged visitors only.');
    expect(await demo.text('voucher-message')).toBe('This code is for engaged visitors only.');
    expect(await demo.text('cart-total')).toBe('$15.00');

    for (const [i, sku] of ['sku_mug', 'sku_tee', 'sku_tote'].entries()) {
      const res = await demo.viewProduct(sku, i + 1);
      expect(res.status()).toBe(200);
    }
    const events = demo.to('/client/v1/events', 'POST').map((r) => JSON.parse(r.body) as Record<string, unknown>);
    expect(events).toEqual(
      ['sku_mug', 'sku_tee', 'sku_tote'].map((sku) => ({
        event: 'viewed_product',
        customer: { source_id: trackingId },
        metadata: { sku },
      })),
    );

    const accepted = await demo.applyVoucherOnceCounted('BROWSE5');
    expect(accepted.request.url.searchParams.get('tracking_id')).toBe(trackingId);
    expect(accepted.body.valid, JSON.stringify(accepted.body)).toBe(true);
    expect(accepted.body.order).toMatchObject({ amount: 1500, discount_amount: 500, total_amount: 1000 });
    expect(await demo.text('voucher-discount')).toBe('$5.00');
    expect(await demo.text('cart-total')).toBe('$10.00');
  });
});

describe('checkout', () => {
  it('merges the anonymous history into the customer: events, order, segments', async (t) => {
    const demo = await openDemo(browser, t);
    const trackingId = (await demo.trackingCookie())?.value;
    expect(trackingId).toMatch(TRACKING_ID);
    const viewed = ['sku_mug', 'sku_tee', 'sku_cap'];
    for (const [i, sku] of viewed.entries()) await demo.viewProduct(sku, i + 1);
    const signedInAt = Date.now();

    const email = `grace.${RUN}@example.com`;
    await demo.signIn(email, 'Grace Hopper');
    await demo.addToCart('sku_tote');
    await demo.addToCart('sku_mug');
    const applied = await demo.applyVoucherOnceCounted('BROWSE5');
    expect(applied.body.valid, JSON.stringify(applied.body)).toBe(true);
    await demo.page.getByRole('button', { name: 'Checkout', exact: true }).and(demo.page.locator(':enabled')).waitFor();

    const { request, response, body } = await demo.checkout();
    // The backend redeems for the shopper signed in on this page: the body names no customer.
    expect(JSON.parse(request.body)).toEqual({
      code: 'BROWSE5',
      amount: 3300,
      items: [
        { sku_id: 'sku_tote', quantity: 1, price: 1500 },
        { sku_id: 'sku_mug', quantity: 1, price: 1800 },
      ],
      tracking_id: trackingId,
    });
    expect(response.status()).toBe(200);
    expect(body.redeemed, JSON.stringify(body.redemption)).toBe(true);
    expect(body.customer?.email).toBe(email);
    expect(body.customer?.name).toBe('Grace Hopper');
    expect(body.customer?.summary.orders.total_count).toBe(1);
    expect(body.segments.map((s) => s.name)).toContain('Engaged visitors');
    const views = body.activity.filter((a) => a.type === 'viewed_product');
    expect(views.map((a) => a.data.sku).sort()).toEqual([...viewed].sort());
    for (const view of views) expect(Date.parse(view.created_at)).toBeLessThanOrEqual(signedInAt);

    // What the page shows of it.
    expect(await demo.text('order-result')).toContain('Order placed with BROWSE5');
    expect(await demo.text('profile-name')).toBe('Grace Hopper');
    expect(await demo.text('profile-email')).toBe(email);
    expect(await demo.text('profile-orders')).toBe('1');
    expect(await demo.listTexts('[data-testid="profile-segments"] > li')).toContain('Engaged visitors');
    const shownViews = await demo.listTexts('[data-testid="profile-activity"] > li[data-type="viewed_product"]');
    expect(shownViews).toHaveLength(3);
    for (const name of ['Enamel mug', 'Organic tee', 'Field cap']) {
      expect(shownViews.some((text) => text.includes(`Viewed ${name}`))).toBe(true);
    }
    expect(await demo.text('cart-total')).toBe('$0.00');

    await demo.page.screenshot({ path: join(ARTIFACTS, 'demo-after-checkout.png'), fullPage: true });
  });
});
