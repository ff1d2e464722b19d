import type { Context, MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { timingSafeEqual } from 'hono/utils/buffer';
import type { AppBindings } from '../env';
import { apiError, unauthorized } from '../errors';
import { decodeUtf8 } from '../lib/text';

/** True only when both headers are present and match a configured (non-empty) key pair. */
export async function keyPairMatches(
  id: string | undefined,
  token: string | undefined,
  expectedId: string | undefined,
  expectedToken: string | undefined,
): Promise<boolean> {
  // An unset secret must never match an empty header: fail closed.
  if (!expectedId || !expectedToken || id === undefined || token === undefined) return false;
  const [idOk, tokenOk] = await Promise.all([timingSafeEqual(id, expectedId), timingSafeEqual(token, expectedToken)]);
  return idOk && tokenOk;
}

/** /v1/*: the server key pair only. A client key never opens these routes. */
export const serverAuth: MiddlewareHandler<AppBindings> = async (c, next) => {
  const ok = await keyPairMatches(c.req.header('x-app-id'), c.req.header('x-app-token'), c.env.APP_ID, c.env.APP_TOKEN);
  if (!ok) throw unauthorized();
  await next();
};

/** A header value as the Voucherify (Actions) destination encodes it: base64 of the UTF-8 text. */
function fromBase64(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let binary: string;
  try {
    binary = atob(value.trim());
  } catch {
    return undefined;
  }
  const decoded = decodeUtf8(Uint8Array.from(binary, (ch) => ch.charCodeAt(0)));
  return 'text' in decoded ? decoded.text : undefined;
}

/**
 * /segmentio/*: the server key pair as Segment's Voucherify (Actions) destination sends it
 * (destinations/voucherify/index.ts extendRequest): `Authorization: Basic base64(Application ID)`,
 * which is not RFC 7617's `id:password`, and `secret-key: base64(Secret Key)`. Same pair, same
 * constant-time check as /v1/*; the client key never matches it.
 */
export const segmentAuth: MiddlewareHandler<AppBindings> = async (c, next) => {
  const basic = /^basic +(\S+)$/i.exec(c.req.header('authorization')?.trim() ?? '');
  const ok = await keyPairMatches(fromBase64(basic?.[1]), fromBase64(c.req.header('secret-key')), c.env.APP_ID, c.env.APP_TOKEN);
  if (!ok) throw unauthorized();
  await next();
};

export interface AllowedOrigins {
  /** `*` in the list: any origin, but then without credentials (a wildcard never carries them). */
  any: boolean;
  origins: Set<string>;
}

let parsed: { value: string | undefined; allowed: AllowedOrigins } | undefined;

/** ALLOWED_ORIGINS as a set, parsed once per value rather than on every request. */
export function allowedOrigins(value: string | undefined): AllowedOrigins {
  if (parsed && parsed.value === value) return parsed.allowed;
  const entries = (value ?? '')
    .split(',')
    .map((s) => s.trim().replace(/\/+$/, ''))
    .filter(Boolean);
  const allowed = { any: entries.includes('*'), origins: new Set(entries.filter((e) => e !== '*')) };
  parsed = { value, allowed };
  return allowed;
}

/**
 * The origin of a client request. Browsers send no Origin on a same-origin GET (a page served by
 * this worker, like the demo); Sec-Fetch-Site, which page scripts cannot set, says so, and the
 * origin is then our own.
 */
function requestOrigin(c: Context<AppBindings>): string | undefined {
  return c.req.header('origin') ?? (c.req.header('sec-fetch-site') === 'same-origin' ? new URL(c.req.url).origin : undefined);
}

/**
 * /client/v1/*, first: the request comes from an allowed origin, preflights included. `null`
 * (sandboxed frames, file: pages) is never an allowed origin, not even under `*`.
 */
export const requireAllowedOrigin: MiddlewareHandler<AppBindings> = async (c, next) => {
  const origin = requestOrigin(c);
  const allowed = allowedOrigins(c.env.ALLOWED_ORIGINS);
  const ok = origin !== undefined && origin !== 'null' && (allowed.any || allowed.origins.has(origin));
  if (!ok) {
    c.header('Vary', 'Origin', { append: true });
    throw apiError('forbidden', 'Origin is not allowed');
  }
  await next();
};

/** Headers the official client-side SDK, the legacy Voucherify.js and the Vouchsafe SDK send. */
export const CLIENT_ALLOW_HEADERS = [
  'X-Client-Application-Id',
  'X-Client-Token',
  'X-Voucherify-Channel',
  'X-Voucherify-Double-Opt-In',
  'X-Vouchsafe-Identity-Signature',
  // A bookmark the shop's backend handed the browser (middleware/d1-session.ts).
  'X-Vouchsafe-Bookmark',
  'Content-Type',
  'Accept',
];
// X-Vouchsafe-Identity: whether the request's identity claim was believed (middleware/identity-hint.ts).
const EXPOSED_HEADERS = ['X-Request-Id', 'Retry-After', 'X-Rate-Limit-Limit', 'X-Rate-Limit-Remaining', 'X-Vouchsafe-Identity'];
const CORS_COMMON = {
  allowMethods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
  allowHeaders: CLIENT_ALLOW_HEADERS,
  exposeHeaders: EXPOSED_HEADERS,
  maxAge: 86400,
};

/**
 * An allow-list echoes the (already checked) Origin with credentials, as the legacy client sends
 * cookies (withCredentials); `*` answers `*` without them, the only safe form of a wildcard.
 */
const listedCors = cors({ ...CORS_COMMON, origin: (origin) => origin || null, credentials: true });
const wildcardCors = cors({ ...CORS_COMMON, origin: '*', credentials: false });

/** /client/v1/*, second: CORS headers, and the answer to a preflight (which carries no key). */
export const clientCors: MiddlewareHandler<AppBindings> = (c, next) =>
  (allowedOrigins(c.env.ALLOWED_ORIGINS).any ? wildcardCors : listedCors)(c, next);

/** /client/v1/*, third: the client key pair. */
export const clientKeyAuth: MiddlewareHandler<AppBindings> = async (c, next) => {
  const ok = await keyPairMatches(
    c.req.header('x-client-application-id'),
    c.req.header('x-client-token'),
    c.env.CLIENT_APP_ID,
    c.env.CLIENT_TOKEN,
  );
  if (!ok) throw unauthorized();
  await next();
};
