import type { MiddlewareHandler } from 'hono';
import type { AppBindings } from '../env';
import { ApiError, unauthorized } from '../errors';

const encoder = new TextEncoder();

/**
 * Compares two secrets in constant time. Both are hashed first so that neither the length nor the
 * position of the first difference shows in the timing.
 */
export async function secretsEqual(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest('SHA-256', encoder.encode(given)),
    crypto.subtle.digest('SHA-256', encoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}

/** True only when both headers are present and match a configured (non-empty) key pair. */
async function keyPairMatches(
  id: string | undefined,
  token: string | undefined,
  expectedId: string | undefined,
  expectedToken: string | undefined,
): Promise<boolean> {
  // An unset secret must never match an empty header: fail closed.
  if (!expectedId || !expectedToken || id === undefined || token === undefined) return false;
  const [idOk, tokenOk] = await Promise.all([secretsEqual(id, expectedId), secretsEqual(token, expectedToken)]);
  return idOk && tokenOk;
}

/** /v1/*: the server key pair only. A client key never opens these routes. */
export const serverAuth: MiddlewareHandler<AppBindings> = async (c, next) => {
  const ok = await keyPairMatches(c.req.header('x-app-id'), c.req.header('x-app-token'), c.env.APP_ID, c.env.APP_TOKEN);
  if (!ok) throw unauthorized();
  await next();
};

export function parseAllowedOrigins(value: string | undefined): { any: boolean; origins: Set<string> } {
  const entries = (value ?? '')
    .split(',')
    .map((s) => s.trim().replace(/\/+$/, ''))
    .filter(Boolean);
  return { any: entries.includes('*'), origins: new Set(entries.filter((e) => e !== '*')) };
}

export function originAllowed(origin: string | undefined, allowedOrigins: string | undefined): boolean {
  if (!origin) return false;
  const allowed = parseAllowedOrigins(allowedOrigins);
  return allowed.any || allowed.origins.has(origin);
}

/** Headers the official client-side SDK and the legacy Voucherify.js client send. */
const CLIENT_ALLOW_HEADERS = [
  'X-Client-Application-Id',
  'X-Client-Token',
  'X-Voucherify-Channel',
  'X-Voucherify-Double-Opt-In',
  'Content-Type',
  'Accept',
].join(', ');

/**
 * /client/v1/*: CORS for the allowed origins plus the client key pair. The exact Origin is echoed
 * with credentials allowed, as the legacy client sends cookies (withCredentials).
 */
export const clientAuth: MiddlewareHandler<AppBindings> = async (c, next) => {
  // Browsers send no Origin on a same-origin GET (a page served by this worker, like the demo);
  // Sec-Fetch-Site, which page scripts cannot set, says so, and the origin is then our own.
  const origin =
    c.req.header('origin') ?? (c.req.header('sec-fetch-site') === 'same-origin' ? new URL(c.req.url).origin : undefined);
  const allowed = originAllowed(origin, c.env.ALLOWED_ORIGINS);
  if (allowed && origin) {
    c.header('Access-Control-Allow-Origin', origin);
    c.header('Access-Control-Allow-Credentials', 'true');
    c.header('Access-Control-Expose-Headers', 'X-Request-Id, Retry-After, X-Rate-Limit-Limit, X-Rate-Limit-Remaining');
  }
  c.header('Vary', 'Origin', { append: true });

  if (c.req.method === 'OPTIONS') {
    if (!allowed) throw new ApiError(403, 'forbidden', 'Forbidden', 'Origin is not allowed');
    c.header('Access-Control-Allow-Methods', 'GET, POST, PUT, DELETE, OPTIONS');
    c.header('Access-Control-Allow-Headers', CLIENT_ALLOW_HEADERS);
    c.header('Access-Control-Max-Age', '86400');
    return c.body(null, 204);
  }

  const ok = await keyPairMatches(
    c.req.header('x-client-application-id'),
    c.req.header('x-client-token'),
    c.env.CLIENT_APP_ID,
    c.env.CLIENT_TOKEN,
  );
  if (!ok) throw unauthorized();
  if (!allowed) throw new ApiError(403, 'forbidden', 'Forbidden', 'Origin is not allowed');
  await next();
};
