/**
 * @module The console's session: sign-in with the server key pair, a signed expiring cookie, and
 * the checks every console request passes (same origin for state changes, security headers).
 *
 * The cookie holds no key, only `<expiry>.<HMAC>` (lib/signed-token.ts) over the application id,
 * keyed by APP_TOKEN: rotating the secret key ends every session at once, and nothing a browser
 * can read tells anyone the key.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { AppBindings, Env } from '../env';
import { signToken, verifyToken } from '../lib/signed-token';
import { keyPairMatches } from '../middleware/auth';

export const SESSION_COOKIE = 'vs_console_session';
export const SESSION_SECONDS = 8 * 60 * 60;
export const CONSOLE_PATH = '/console';
const PURPOSE = 'console-session';

/** The key pair typed into the sign-in form, compared in constant time like serverAuth. */
export const signInMatches = (env: Env, appId: string, secretKey: string): Promise<boolean> =>
  keyPairMatches(appId, secretKey, env.APP_ID, env.APP_TOKEN);

const isHttps = (c: Context) => new URL(c.req.url).protocol === 'https:';

export async function startSession(c: Context<AppBindings>, nowMs = Date.now()): Promise<void> {
  const expiresAt = Math.floor(nowMs / 1000) + SESSION_SECONDS;
  const token = await signToken(c.env.APP_TOKEN, PURPOSE, c.env.APP_ID, expiresAt);
  setCookie(c, SESSION_COOKIE, token, {
    path: CONSOLE_PATH,
    httpOnly: true,
    sameSite: 'Strict',
    secure: isHttps(c),
    maxAge: SESSION_SECONDS,
  });
}

export function endSession(c: Context<AppBindings>): void {
  deleteCookie(c, SESSION_COOKIE, { path: CONSOLE_PATH, httpOnly: true, sameSite: 'Strict', secure: isHttps(c) });
}

/** True when the request carries a genuine, unexpired session of the current key pair. */
export async function hasSession(c: Context<AppBindings>, nowMs = Date.now()): Promise<boolean> {
  if (!c.env.APP_ID || !c.env.APP_TOKEN) return false;
  const check = await verifyToken(c.env.APP_TOKEN, PURPOSE, c.env.APP_ID, getCookie(c, SESSION_COOKIE), nowMs);
  return check === 'valid';
}

/**
 * A state change must come from a console page itself: Origin equal to ours or, when a browser
 * sends none, Sec-Fetch-Site `same-origin` (neither can be set by a page's script). A form on
 * another site, even with the SameSite cookie sent by an older browser, is refused.
 */
export function isSameOrigin(c: Context): boolean {
  const origin = c.req.header('origin');
  if (origin !== undefined) return origin === new URL(c.req.url).origin;
  return c.req.header('sec-fetch-site') === 'same-origin';
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

// Scripts and styles from this origin only (htmx and the stylesheet are files, never inline); no
// framing; forms post back here only.
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "object-src 'none'",
].join('; ');

function secure(headers: Headers): void {
  headers.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  headers.set('X-Frame-Options', 'DENY');
  headers.set('X-Content-Type-Options', 'nosniff');
  headers.set('Referrer-Policy', 'same-origin');
  if (!headers.has('Cache-Control')) headers.set('Cache-Control', 'no-store');
}

/** Every /console response: security headers; every state change: the same-origin check first. */
export const consoleGuard =
  (forbidden: (c: Context<AppBindings>) => Response | Promise<Response>): MiddlewareHandler<AppBindings> =>
  async (c, next) => {
    if (STATE_CHANGING.has(c.req.method) && !isSameOrigin(c)) {
      const res = await forbidden(c);
      secure(res.headers);
      return res;
    }
    await next();
    secure(c.res.headers);
  };
