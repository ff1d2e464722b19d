/** Drives the operator console like a browser does: form posts with Origin, the session cookie sent back. */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import worker from '../../worker/src/index';
import type { Env } from '../../worker/src/env';
import { TEST_ENV } from '../test-env';

export const HTTPS_ORIGIN = 'https://vouchsafe.test';

export interface ConsoleInit {
  cookie?: string;
  /** The Origin header; null sends none. Default: the console's own origin. */
  origin?: string | null;
  fetchSite?: string;
  scheme?: 'https' | 'http';
  /** The host (and port) the request is sent to. Default: vouchsafe.test, a deployed worker's. */
  host?: string;
  headers?: Record<string, string>;
}

async function send(
  method: string,
  path: string,
  body: BodyInit | undefined,
  init: ConsoleInit,
  bindings: Partial<Env>,
): Promise<Response> {
  const base = `${init.scheme ?? 'https'}://${init.host ?? 'vouchsafe.test'}`;
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  if (init.cookie) headers.Cookie = init.cookie;
  const origin = init.origin === undefined ? (method === 'GET' ? null : base) : init.origin;
  if (origin) headers.Origin = origin;
  if (init.fetchSite) headers['Sec-Fetch-Site'] = init.fetchSite;
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`${base}${path}`, { method, headers, body, redirect: 'manual' }),
    { ...env, ...bindings } as unknown as Env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

export function consoleGet(path: string, init: ConsoleInit = {}, bindings: Partial<Env> = {}): Promise<Response> {
  return send('GET', path, undefined, init, bindings);
}

/** A form post (application/x-www-form-urlencoded), as a console page sends it. */
export function consolePost(
  path: string,
  form: Record<string, string | string[]>,
  init: ConsoleInit = {},
  bindings: Partial<Env> = {},
): Promise<Response> {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
  return send(
    'POST',
    path,
    body.toString(),
    { ...init, headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...(init.headers ?? {}) } },
    bindings,
  );
}

/** The `name=value` of the session cookie a response sets. */
export const sessionCookieOf = (res: Response): string => (res.headers.get('Set-Cookie') ?? '').split(';')[0] ?? '';

/** A multipart post (the CSV upload). */
export function consoleUpload(path: string, form: FormData, init: ConsoleInit = {}): Promise<Response> {
  return send('POST', path, form, init, {});
}

/** Signs in with the test server key; returns the `name=value` of the session cookie. */
export async function signIn(): Promise<string> {
  const res = await consolePost('/console/sign-in', { app_id: TEST_ENV.APP_ID, secret_key: TEST_ENV.APP_TOKEN });
  if (res.status !== 303) throw new Error(`sign-in answered ${res.status}`);
  const cookie = (res.headers.get('Set-Cookie') ?? '').split(';')[0];
  if (!cookie) throw new Error('sign-in set no cookie');
  return cookie;
}

/** A page's HTML, signed in; fails on anything but `status`. */
export async function html(path: string, cookie: string, status = 200): Promise<string> {
  const res = await consoleGet(path, { cookie });
  const text = await res.text();
  if (res.status !== status) throw new Error(`GET ${path} answered ${res.status}, not ${status}: ${text.slice(0, 500)}`);
  return text;
}
