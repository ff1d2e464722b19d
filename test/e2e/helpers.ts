/** The browser side of the e2e tests: Chromium, one fresh context per test, and the demo page driven like a person would. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Cookie, type Page, type Request, type Response, chromium } from 'playwright-core';
import { ARTIFACTS, BASE_URL, CHROMIUM_PATH } from './config.ts';

export const TRACKING_ID = /^track_[A-Za-z0-9_-]{22}$/;

export function launchChromium(): Promise<Browser> {
  // Playwright gives every launch a fresh temporary --user-data-dir of its own (and refuses one in args).
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Records every write to document.cookie, before any script of the page runs: the way to see that
 * the SDK leaves an existing tracking cookie alone (a rewrite within the same second would not
 * show in the cookie's expiry). Plain source text: the repo type-checks without the DOM lib.
 */
const COOKIE_WRITE_SPY = `(() => {
  const native = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
  const writes = [];
  Object.defineProperty(window, '__cookieWrites', { value: writes });
  Object.defineProperty(Document.prototype, 'cookie', {
    configurable: true,
    enumerable: native.enumerable,
    get() { return native.get.call(this); },
    set(value) { writes.push(String(value)); native.set.call(this, value); },
  });
})();`;

export interface Captured {
  method: string;
  url: URL;
  /** The request body as sent, or '' for none. */
  body: string;
  request: Request;
}

/** Test hooks of the Vitest test context that `openDemo` uses. */
interface TestHooks {
  task: { name: string; result?: { state: string } };
  onTestFinished(fn: () => unknown): void;
}

/** A fresh browser context (no cookies) on /demo/ (or `path`), with every request the page makes captured. */
export async function openDemo(browser: Browser, test: TestHooks, path = '/demo/'): Promise<Demo> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(20_000);
  await context.addInitScript({ content: COOKIE_WRITE_SPY });
  const page = await context.newPage();
  const demo = new Demo(context, page, path);
  // Vitest runs onTestFinished before onTestFailed: the failure screenshot is taken here.
  test.onTestFinished(async () => {
    if (test.task.result?.state === 'fail') {
      mkdirSync(ARTIFACTS, { recursive: true });
      const name = test.task.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
      await page.screenshot({ path: join(ARTIFACTS, `failed-${name}.png`), fullPage: true }).catch(() => undefined);
    }
    await context.close();
  });
  await demo.load();
  return demo;
}

export class Demo {
  readonly requests: Captured[] = [];

  constructor(
    readonly context: BrowserContext,
    readonly page: Page,
    readonly path = '/demo/',
  ) {
    page.on('request', (request) => {
      this.requests.push({ method: request.method(), url: new URL(request.url()), body: request.postData() ?? '', request });
    });
  }

  /** Opens (or reopens) the page and waits until the SDK is initialised. */
  async load(): Promise<void> {
    await this.loaded(await this.page.goto(`${BASE_URL}${this.path}`));
  }

  /** Reloads like the browser's button: the page is revalidated (If-None-Match), not refetched. */
  async reload(): Promise<void> {
    await this.loaded(await this.page.reload());
  }

  private async loaded(res: Response | null): Promise<void> {
    if (!res || (!res.ok() && res.status() !== 304)) {
      throw new Error(`GET /demo/ answered ${res?.status() ?? 'nothing'}: ${(await res?.text().catch(() => '')) ?? ''}`);
    }
    await this.page.locator('body[data-ready="true"]').waitFor();
  }

  testId(id: string) {
    return this.page.getByTestId(id);
  }

  async text(id: string): Promise<string> {
    return ((await this.testId(id).textContent()) ?? '').trim();
  }

  /** The `vs_tid` cookie of the demo's origin. */
  async trackingCookie(): Promise<Cookie | undefined> {
    return (await this.context.cookies(BASE_URL)).find((c) => c.name === 'vs_tid');
  }

  /** Every `document.cookie = …` of the page since it was last loaded. */
  cookieWrites(): Promise<string[]> {
    return this.page.evaluate('window.__cookieWrites') as Promise<string[]>;
  }

  /** Captured requests to a path of the server. */
  to(pathname: string, method?: string): Captured[] {
    return this.requests.filter((r) => r.url.pathname === pathname && (!method || r.method === method));
  }

  private waitFor(pathname: string, method: string): Promise<Response> {
    return this.page.waitForResponse((res) => {
      const url = new URL(res.url());
      return url.pathname === pathname && res.request().method() === method;
    });
  }

  /** Clicks "View" and waits for the recorded event and the count on the page. */
  async viewProduct(sku: string, expectedViews: number): Promise<Response> {
    const [response] = await Promise.all([this.waitFor('/client/v1/events', 'POST'), this.testId(`view-${sku}`).click()]);
    await this.testId('views-count')
      .filter({ hasText: new RegExp(`^${expectedViews} product views? recorded`) })
      .waitFor();
    return response;
  }

  async addToCart(sku: string): Promise<void> {
    await this.testId(`add-${sku}`).click();
    await this.testId(`cart-line-${sku}`).waitFor();
  }

  /** Types a code, clicks Apply, and waits for the validate answer to be shown. */
  /**
   * Applies a code until it is valid, for at most `withinMs`: what the page sent just before (product
   * views) is written by the queue consumer about a second later (docs/architecture.md, "Consistency"), as a
   * shopper who applies the code right after browsing would see. Resolves to the last answer.
   */
  async applyVoucherOnceCounted(code: string, withinMs = 15_000): Promise<{ request: Captured; response: Response; body: ValidateBody }> {
    let answer = await this.applyVoucher(code);
    for (const deadline = Date.now() + withinMs; !answer.body.valid && Date.now() < deadline;) answer = await this.applyVoucher(code);
    return answer;
  }

  async applyVoucher(code: string): Promise<{ request: Captured; response: Response; body: ValidateBody }> {
    await this.page.locator('#voucher-code').fill(code);
    const before = this.to('/client/v1/validate').length;
    const [response] = await Promise.all([
      this.waitFor('/client/v1/validate', 'GET'),
      this.page.getByRole('button', { name: 'Apply', exact: true }).click(),
    ]);
    await this.page.locator('[data-testid="voucher-result"]:not([hidden]):not([aria-busy])').waitFor();
    const request = this.to('/client/v1/validate')[before];
    if (!request) throw new Error('the validate request was not captured');
    return { request, response, body: (await response.json()) as ValidateBody };
  }

  async signIn(email: string, name: string): Promise<void> {
    await this.page.locator('#signin-email').fill(email);
    await this.page.locator('#signin-name').fill(name);
    await this.page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await this.testId('signed-in').waitFor();
  }

  async checkout(): Promise<{ request: Captured; response: Response; body: CheckoutBody }> {
    const [response] = await Promise.all([
      this.waitFor('/demo/api/checkout', 'POST'),
      this.page.getByRole('button', { name: 'Checkout', exact: true }).click(),
    ]);
    await this.page.locator('[data-testid="order-result"][data-redeemed]').waitFor();
    const request = this.to('/demo/api/checkout', 'POST').at(-1);
    if (!request) throw new Error('the checkout request was not captured');
    return { request, response, body: (await response.json()) as CheckoutBody };
  }

  /** The texts of the items of a list on the page. */
  async listTexts(selector: string): Promise<string[]> {
    return (await this.page.locator(selector).allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim());
  }
}

export interface ValidateBody {
  valid: boolean;
  code?: string;
  tracking_id?: string;
  reason?: string;
  error?: { message?: string; key?: string };
  order?: { amount: number; discount_amount: number; total_amount: number };
  discount?: Record<string, unknown>;
}

export interface CheckoutBody {
  redeemed: boolean;
  redemption: Record<string, unknown>;
  customer: {
    id: string;
    name: string | null;
    email: string | null;
    summary: { orders: { total_count: number; total_amount: number } };
  } | null;
  segments: { id: string; name: string }[];
  activity: { id: string; type: string; data: Record<string, unknown>; created_at: string }[];
}
