/** @module Test helpers for the browser SDK: the happy-dom window, cookies, a fresh SDK, a fetch stub. */
import type { Window as HappyWindow } from 'happy-dom';
import { vi } from 'vitest';

/** The test's global is a happy-dom window; typed through happy-dom, as the repo has no DOM lib. */
export const win = globalThis as unknown as HappyWindow & { Vouchsafe?: unknown };

export const API_URL = 'https://api.vouchsafe.test';
export const KEYS = { clientApplicationId: 'cl_app_1', clientToken: 'cl_tok_1' };

/** Moves the page without navigating (cookies stay in the jar, scoped by their domain). */
export function setURL(url: string): void {
  win.happyDOM.setURL(url);
}

/** Expires every cookie visible from the current page, host-only and on every parent domain. */
export function clearCookies(): void {
  const host = win.location.hostname;
  const labels = host.split('.');
  const domains = labels.map((_, i) => labels.slice(i).join('.'));
  for (const pair of win.document.cookie.split('; ').filter(Boolean)) {
    const name = pair.split('=')[0]!;
    win.document.cookie = `${name}=; Max-Age=0; Path=/`;
    for (const d of domains) win.document.cookie = `${name}=; Max-Age=0; Path=/; Domain=${d}`;
  }
}

/** Cookies visible to scripts on the current page, by name. */
export function cookieJar(): Record<string, string> {
  const jar: Record<string, string> = {};
  for (const pair of win.document.cookie.split('; ').filter(Boolean)) {
    const i = pair.indexOf('=');
    jar[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return jar;
}

/** Records every `document.cookie = ...` string; the writes still happen unless `block` is set. */
export function spyCookieWrites(block = false): string[] {
  const writes: string[] = [];
  let proto: object | null = win.document;
  let setter: ((value: string) => void) | undefined;
  while (proto && !setter) {
    setter = Object.getOwnPropertyDescriptor(proto, 'cookie')?.set;
    proto = Object.getPrototypeOf(proto);
  }
  vi.spyOn(win.document, 'cookie', 'set').mockImplementation((value: string) => {
    writes.push(value);
    if (!block) setter!.call(win.document, value);
  });
  return writes;
}

/** A fresh copy of the SDK modules: the SDK keeps page-lifetime state in module scope. */
export async function freshSdk() {
  vi.resetModules();
  const sdk = await import('../../client/index');
  const loader = await import('../../client/loader');
  return { ...sdk, install: loader.install, api: loader.api };
}

export interface CapturedRequest {
  url: string;
  init: { method?: string; headers?: Record<string, string>; body?: string; credentials?: string; mode?: string };
}

/** Stubs global fetch; every call is captured and answered by `respond` (default: 200 `{valid:true}`). */
export function stubFetch(respond: (req: CapturedRequest) => Response | Promise<Response> = () => json(200, { valid: true })) {
  const requests: CapturedRequest[] = [];
  const fetchMock = vi.fn(async (url: string, init: CapturedRequest['init']) => {
    const req = { url: String(url), init };
    requests.push(req);
    return respond(req);
  });
  vi.stubGlobal('fetch', fetchMock);
  return { requests, fetchMock };
}

export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

/**
 * Undoes cookie spies: they live as an own `cookie` property of the document, and restoring a
 * getter spy and a setter spy of the same property one by one can leave either behind.
 */
export function restoreCookieAccess(): void {
  vi.restoreAllMocks();
  Reflect.deleteProperty(win.document, 'cookie');
}
