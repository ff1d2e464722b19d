/**
 * First contact: every URL a new user is shown (the README's http://127.0.0.1:8787/... and the
 * ready line `npm start` prints) works as printed, with the configuration `npm start` runs
 * (.dev.vars.example) on the host it prints. The lists are read from those files here, so a URL
 * added to them is walked too. Signed out, a console page may send the user to sign-in, and
 * signing in from that very page must land on a real page; signed in (the console's cookie and,
 * for the API, the README's server key), every URL answers a page or a document.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import devVarsExample from '../../.dev.vars.example?raw';
import readme from '../../README.md?raw';
import startScriptText from '../../scripts/start.js?raw';
import type { Env } from '../../worker/src/env';
import worker from '../../worker/src/index';

/**
 * scripts/start.js's text, each log( call's message on the line of its log( (Prettier moves a long
 * one to the next line), so the lines below find every message whatever the formatter did.
 */
const startScript = startScriptText.replace(/\blog\(\s*\n\s*/g, 'log(');

const ORIGIN = 'http://127.0.0.1:8787';
/** A printed URL (the bare origin too): up to a space, quote, backtick, Markdown bold or bracket, without trailing punctuation. */
const URLS = /http:\/\/127\.0\.0\.1:8787(?:\/[^\s`'"*<>()[\]]*)?/g;
const urlsIn = (text: string) => [...text.matchAll(URLS)].map((m) => m[0].replace(/[.,:;]+$/, ''));

/** The README's URLs, the bare origin (the SDK's apiUrl, and what a person opens first) included. */
const README_URLS = [...new Set(urlsIn(readme))];

/** The URLs of start.js's ready line, `${baseUrl}` being what it prints by default. */
function readyLineUrls(): string[] {
  expect(startScript).toMatch(/const port = Number\(process\.env\.PORT \?\? 8787\);/);
  expect(startScript).toMatch(/const host = '127\.0\.0\.1';/);
  expect(startScript).toMatch(/const baseUrl = `http:\/\/\$\{host\}:\$\{port\}`;/);
  const line = startScript.split('\n').find((l) => /log\(`ready/.test(l));
  expect(line, 'the ready line of scripts/start.js').toBeDefined();
  expect(line, 'every URL of the ready line has a path').not.toMatch(/\$\{baseUrl\}(?!\/)/);
  return urlsIn((line as string).replaceAll('${baseUrl}', ORIGIN));
}

/** .dev.vars.example's values, as `npm start` copies them to .dev.vars. */
function npmStartVars(): Partial<Env> {
  const vars: Record<string, string> = {};
  for (const line of devVarsExample.split('\n')) {
    const match = /^\s*([A-Z_][A-Z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (match) vars[match[1] as string] = (match[2] as string).replace(/^"(.*)"$/, '$1');
  }
  // The rate limits stay as the test pool has them (off): the walk signs in many times.
  return { ...vars, RATE_LIMITS: 'off' } as Partial<Env>;
}

const NPM_START = npmStartVars();
const SERVER_KEY = { 'X-App-Id': NPM_START.APP_ID as string, 'X-App-Token': NPM_START.APP_TOKEN as string };

async function fetchOnce(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const request = new Request(url, { method: init.method ?? 'GET', headers: init.headers ?? {}, body: init.body, redirect: 'manual' });
  const res = await worker.fetch(request, { ...env, ...NPM_START } as unknown as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

interface Landing {
  url: string;
  status: number;
  html: string;
  hops: string[];
}

/** GETs `url` and follows same-origin redirects, as a browser does. */
async function open(url: string, headers: Record<string, string> = {}): Promise<Landing> {
  const hops: string[] = [];
  let current = url;
  for (let i = 0; i < 6; i++) {
    const res = await fetchOnce(current, { headers });
    const location = res.headers.get('Location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.arrayBuffer();
      hops.push(`${res.status} ${current}`);
      const next = new URL(location, current);
      expect(next.origin, `${url} redirects off its origin`).toBe(ORIGIN);
      current = next.href;
      continue;
    }
    return { url: current, status: res.status, html: await res.text(), hops };
  }
  throw new Error(`${url}: more than 5 redirects (${hops.join(' -> ')})`);
}

const NO_SUCH_PAGE = 'There is no such console page.';

function expectWorks(landing: Landing, what: string): void {
  const trail = `${what} (${[...landing.hops, `${landing.status} ${landing.url}`].join(' -> ')})`;
  expect(landing.status, trail).not.toBe(404);
  expect(landing.status, trail).toBeLessThan(500);
  expect(landing.html, trail).not.toContain(NO_SUCH_PAGE);
}

/** Signs in from a sign-in page as its form does (its hidden `next` kept); returns the cookie and where it leads. */
async function signInFrom(page: Landing): Promise<{ cookie: string; location: string }> {
  const next = /<input type="hidden" name="next" value="([^"]*)"/.exec(page.html)?.[1];
  expect(next, `the sign-in form at ${page.url} carries where to go next`).toBeDefined();
  const body = new URLSearchParams({
    next: (next as string).replace(/&#x2F;|&#47;/g, '/'),
    app_id: NPM_START.APP_ID as string,
    secret_key: NPM_START.APP_TOKEN as string,
  });
  const res = await fetchOnce(`${ORIGIN}/console/sign-in`, {
    method: 'POST',
    headers: { Origin: ORIGIN, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: body.toString(),
  });
  expect(res.status, 'signing in with the demo key of .dev.vars.example').toBe(303);
  const cookie = (res.headers.get('Set-Cookie') ?? '').split(';')[0] as string;
  expect(cookie).toMatch(/^vs_console_session=/);
  return { cookie, location: new URL(res.headers.get('Location') as string, ORIGIN).href };
}

describe('every URL the README and npm start print works as printed', () => {
  const all = () => [...new Set([...README_URLS, ...readyLineUrls()])];

  it('finds the URLs it walks: the demo, the console, health and the API', () => {
    const readyUrls = readyLineUrls();
    for (const path of ['/demo/', '/console/', '/health']) {
      expect(README_URLS, `README prints ${path}`).toContain(`${ORIGIN}${path}`);
      expect(readyUrls, `the ready line prints ${path}`).toContain(`${ORIGIN}${path}`);
    }
    expect(README_URLS).toContain(`${ORIGIN}/v1/customers`);
    expect(README_URLS, 'the bare origin the README gives as the server and apiUrl').toContain(ORIGIN);
  });

  it('signed out: each answers, and a console page that asks for sign-in lands on a real page after it', async () => {
    for (const url of all()) {
      const landing = await open(url);
      expectWorks(landing, `signed out: ${url}`);
      if (new URL(landing.url).pathname !== '/console/sign-in') continue;
      const { cookie, location } = await signInFrom(landing);
      const after = await open(location, { Cookie: cookie });
      expectWorks(after, `after signing in from ${url}`);
      expect(after.status, `after signing in from ${url}`).toBe(200);
      expect(new URL(after.url).pathname).not.toBe('/console/sign-in');
    }
  });

  it('signed in: each answers 200 with a page or a document', async () => {
    const signInPage = await open(`${ORIGIN}/console/sign-in`);
    const { cookie } = await signInFrom(signInPage);
    for (const url of all()) {
      const landing = await open(url, { Cookie: cookie, ...(new URL(url).pathname.startsWith('/v1/') ? SERVER_KEY : {}) });
      expectWorks(landing, `signed in: ${url}`);
      expect(landing.status, `signed in: ${url}`).toBe(200);
    }
  });
});

describe('counts read in the right number', () => {
  const text = (markup: string) => markup.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

  it('one customer, one voucher and a segment of one say so in the singular; two in the plural', async () => {
    const { cookie } = await signInFrom(await open(`${ORIGIN}/console/sign-in`));
    const page = async (path: string) => text((await open(`${ORIGIN}${path}`, { Cookie: cookie })).html);
    const call = (method: string, path: string, body: unknown) =>
      fetchOnce(`${ORIGIN}${path}`, { method, headers: { ...SERVER_KEY, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

    const segment = await (
      await call('POST', '/v1/segments', { name: 'Only Ada', type: 'auto-update', filter: { name: { conditions: { $is: ['Ada'] } } } })
    ).json<{ id: string }>();
    expect((await call('POST', '/v1/customers', { source_id: 'ada@example.com', name: 'Ada' })).status).toBe(200);
    expect(
      (await call('POST', '/v1/vouchers', { code: 'ONE10', type: 'DISCOUNT_VOUCHER', discount: { type: 'PERCENT', percent_off: 10 } }))
        .status,
    ).toBe(200);

    expect(await page('/console/customers')).toContain('1 customer.');
    expect(await page('/console/vouchers')).toContain('1 voucher.');
    expect(await page(`/console/segments/${segment.id}/size`)).toMatch(/^ ?1 customer\b(?!s)/);

    expect((await call('POST', '/v1/customers', { source_id: 'bob@example.com', name: 'Bob' })).status).toBe(200);
    expect(
      (await call('POST', '/v1/vouchers', { code: 'TWO10', type: 'DISCOUNT_VOUCHER', discount: { type: 'PERCENT', percent_off: 10 } }))
        .status,
    ).toBe(200);
    expect(await page('/console/customers')).toContain('2 customers.');
    expect(await page('/console/vouchers')).toContain('2 vouchers.');
    expect(await page(`/console/segments/${segment.id}/size`)).toMatch(/^ ?1 customer\b(?!s)/);
  });

  it("npm start's messages put their counts through plural(), never before a fixed plural noun", () => {
    expect(startScript).toMatch(/const plural = \(n, one, many = `\$\{one\}s`\) => `\$\{n\} \$\{n === 1 \? one : many\}`;/);
    const logged = startScript.split('\n').filter((l) => /\blog\(/.test(l));
    expect(logged.some((l) => l.includes("plural(created.customers, 'customer')"))).toBe(true);
    for (const line of logged) expect(line).not.toMatch(/\$\{[^}]+\} [a-z]+s\b/);
  });
});
