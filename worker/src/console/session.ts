/**
 * @module The console's session: sign-in with the server key pair (rate-limited per IP, refused
 * while APP_TOKEN is guessable), a signed expiring cookie that sign-out revokes on the server, and
 * the checks every console request passes (same origin for state changes, security headers).
 *
 * The cookie holds no key, only `<session id>.<expiry>.<HMAC>` (lib/signed-token.ts) over the
 * application id and a random session id, keyed by APP_TOKEN: rotating the secret key ends every
 * session at once, and nothing a browser can read tells anyone the key. The session id is what
 * sign-out revokes (db/console-sessions.ts): without it every session minted in the same second
 * would be the same token, and a copied cookie would outlive "Sign out" by up to 8 hours.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { isConsoleSessionRevoked, revokeConsoleSession } from '../db/console-sessions';
import type { AppBindings, Env } from '../env';
import { randomId } from '../lib/ids';
import { signToken, verifyToken } from '../lib/signed-token';
import { keyPairMatches } from '../middleware/auth';

/**
 * The cookie's name on plain http (a local `npm start`), with Path=/console. On https it is
 * `__Host-vs_console_session`: the browser then accepts it only Secure, with Path=/ and no Domain,
 * so neither a sibling subdomain nor a plain-http response can plant or overwrite it.
 */
export const SESSION_COOKIE = 'vs_console_session';
export const SESSION_SECONDS = 8 * 60 * 60;
export const CONSOLE_PATH = '/console';
const PURPOSE = 'console-session';
/** 22 base62 characters: about 131 random bits, so no two sign-ins share a session. */
const SESSION_ID_LENGTH = 22;
const SESSION_TOKEN = new RegExp(`^([0-9A-Za-z]{${SESSION_ID_LENGTH}})\\.(\\d{1,12}\\.[A-Za-z0-9_-]{43})$`);

/** The key pair typed into the sign-in form, compared in constant time like serverAuth. */
export const signInMatches = (env: Env, appId: string, secretKey: string): Promise<boolean> =>
  keyPairMatches(appId, secretKey, env.APP_ID, env.APP_TOKEN);

const isHttps = (c: Context) => new URL(c.req.url).protocol === 'https:';

/** The signed subject: the session id has a fixed length and no dot, so no pair reads as another. */
const subject = (env: Env, sessionId: string) => `${sessionId}.${env.APP_ID}`;

function writeCookie(c: Context<AppBindings>, value: string, maxAge: number): void {
  if (isHttps(c)) {
    setCookie(c, SESSION_COOKIE, value, { prefix: 'host', path: '/', httpOnly: true, sameSite: 'Strict', secure: true, maxAge });
  } else {
    setCookie(c, SESSION_COOKIE, value, { path: CONSOLE_PATH, httpOnly: true, sameSite: 'Strict', maxAge });
  }
}

/** On https only the `__Host-` cookie counts: a plain one there may have been planted. */
const readCookie = (c: Context<AppBindings>): string | undefined =>
  isHttps(c) ? getCookie(c, SESSION_COOKIE, 'host') : getCookie(c, SESSION_COOKIE);

export async function startSession(c: Context<AppBindings>, nowMs = Date.now()): Promise<void> {
  const expiresAt = Math.floor(nowMs / 1000) + SESSION_SECONDS;
  const sessionId = randomId('', SESSION_ID_LENGTH);
  const token = await signToken(c.env.APP_TOKEN, PURPOSE, subject(c.env, sessionId), expiresAt);
  writeCookie(c, `${sessionId}.${token}`, SESSION_SECONDS);
}

/** The genuine, unexpired session the request carries (revoked or not), or null. */
async function readSession(c: Context<AppBindings>, nowMs: number): Promise<{ id: string; expiresAt: number } | null> {
  if (!c.env.APP_ID || !c.env.APP_TOKEN) return null;
  const match = SESSION_TOKEN.exec(readCookie(c) ?? '');
  if (!match) return null;
  const [, id, token] = match as unknown as [string, string, string];
  const check = await verifyToken(c.env.APP_TOKEN, PURPOSE, subject(c.env, id), token, nowMs);
  return check === 'valid' ? { id, expiresAt: Number(token.split('.')[0]) } : null;
}

/**
 * Sign-out: the session id is revoked on the server (until the token's own expiry), then the
 * browser is told to drop the cookie. A copy of the cookie kept elsewhere is refused from now on.
 */
export async function endSession(c: Context<AppBindings>, nowMs = Date.now()): Promise<void> {
  const session = await readSession(c, nowMs);
  if (session) await revokeConsoleSession(c.env.DB, session.id, session.expiresAt, Math.floor(nowMs / 1000));
  if (isHttps(c)) deleteCookie(c, SESSION_COOKIE, { prefix: 'host', path: '/', httpOnly: true, sameSite: 'Strict', secure: true });
  else deleteCookie(c, SESSION_COOKIE, { path: CONSOLE_PATH, httpOnly: true, sameSite: 'Strict' });
}

/**
 * True when the request carries a genuine, unexpired session of the current key pair that was not
 * signed out. The revocation is read on the D1 primary (a session of its own, whatever this
 * request's), so a sign-out counts at once everywhere: a read replica, or KV, could go on
 * answering "not revoked" for a while in another location. The console is not the hot path; one
 * primary read per console request is its price.
 */
export async function hasSession(c: Context<AppBindings>, nowMs = Date.now()): Promise<boolean> {
  const session = await readSession(c, nowMs);
  if (!session) return false;
  return !(await isConsoleSessionRevoked(c.env.DB.withSession('first-primary'), session.id));
}

// ---- Sign-in guessing

/** The value .dev.vars.example ships: published, so it opens nothing beyond the local demo. */
export const DEMO_APP_TOKEN = 'demo-app-token-change-me';
/** A shorter secret key is refused for the console on any host but this machine's. */
export const MIN_APP_TOKEN_LENGTH = 24;

/**
 * Loopback hosts: the local demo (`npm start` on 127.0.0.1). Cloudflare's edge routes a request to
 * the worker by its hostname, so a deployed worker never sees one of these as its own host.
 */
const isLoopback = (hostname: string) => hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);

/**
 * Why the console refuses to sign anyone in with this APP_TOKEN here, or null when it may: the
 * console turns the server key into a password typed in a public form, so a published or short
 * one is as good as none. Only the local demo, on a loopback host, may keep the demo value.
 */
export function weakAppTokenProblem(env: Env, url: string): string | null {
  if (isLoopback(new URL(url).hostname)) return null;
  const token = env.APP_TOKEN ?? '';
  if (token === DEMO_APP_TOKEN) return 'its APP_TOKEN is the demo value that .dev.vars.example publishes';
  if (token.length < MIN_APP_TOKEN_LENGTH) return `its APP_TOKEN is shorter than ${MIN_APP_TOKEN_LENGTH} characters`;
  return null;
}

/** Sign-in refusals wait this long: CONSOLE_SIGNIN_BY_IP counts per minute (wrangler.toml). */
export const SIGN_IN_RETRY_AFTER_SECONDS = 60;

/** The caller's address as Cloudflare's edge gives it; without one (never the case behind it) all share one bucket. */
export const callerIp = (c: Context): string => c.req.header('cf-connecting-ip') ?? 'unknown';

/**
 * Takes one sign-in attempt from the caller's IP bucket; false when it is empty. Every attempt
 * counts, right or wrong, and it is taken before the key is compared: past the limit, not even the
 * right key is told apart, so guessing gets a few tries a minute instead of 150 a second.
 * RATE_LIMITS=off (local benchmarks only) lets every attempt through.
 */
export async function takeSignInAttempt(c: Context<AppBindings>): Promise<boolean> {
  if (c.env.RATE_LIMITS === 'off') return true;
  const { success } = await c.env.CONSOLE_SIGNIN_BY_IP.limit({ key: `console-sign-in:${callerIp(c)}` });
  return success;
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
