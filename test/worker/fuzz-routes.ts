import { app } from '../../worker/src/app';
import { type Auth, CATALOGUE } from '../../worker/src/catalogue';

/**
 * The routes the fuzz suite (fuzz.test.ts) sends malformed requests to: every route of the route
 * catalogue (worker/src/catalogue.ts: the API, the client routes, Segment's destination,
 * the console, the demo and the static files), so that a route added later is fuzzed without
 * anyone remembering to list it, and the middleware and catch-alls the app mounts (Hono's
 * `app.routes`, method ALL), which are no route of their own. openapi.test.ts checks that the
 * catalogue is what the app mounts.
 */

export type RouteFamily = 'server' | 'client' | 'segmentio' | 'console' | 'demo' | 'public';

export interface FuzzRoute {
  /** As mounted: GET, POST, PUT, PATCH, DELETE, or ALL for middleware and catch-alls. */
  method: string;
  /** The mounted path, with its `:param` and `*` placeholders. */
  pattern: string;
  /** The pattern with every placeholder replaced by a value (URL-encoded). */
  path: string;
  /** Which credentials the route is called with. */
  family: RouteFamily;
}

/**
 * Mounted routes the fuzz does not send requests to (`METHOD /pattern`), each with the reason.
 * Empty today: every route, middleware and catch-alls included, is fuzzed. Keep it short: a route
 * here is a route no test checks for 5xx answers to malformed input.
 */
export const NOT_FUZZED: Readonly<Record<string, string>> = {};

/** The key of a route in NOT_FUZZED and in the coverage check: `METHOD /pattern`. */
export const routeKey = (method: string, pattern: string): string => `${method} ${pattern}`;

/** Every route of the catalogue, then every distinct middleware and catch-all the app mounts (method ALL). */
export function mountedRoutes(): { method: string; pattern: string; family: RouteFamily }[] {
  const seen = new Map<string, { method: string; pattern: string; family: RouteFamily }>();
  for (const r of CATALOGUE)
    seen.set(routeKey(r.method.toUpperCase(), r.path), { method: r.method.toUpperCase(), pattern: r.path, family: FAMILY[r.auth] });
  for (const r of app.routes) {
    if (r.method === 'ALL') seen.set(routeKey(r.method, r.path), { method: r.method, pattern: r.path, family: familyOf(r.path) });
  }
  return [...seen.values()];
}

/**
 * The credentials a route is called with, by its auth class. The export download is sent with the
 * server key, as every /v1 route: it reads its own token and nothing else.
 */
const FAMILY: Record<Auth, RouteFamily> = {
  none: 'public',
  server: 'server',
  client: 'client',
  segment: 'segmentio',
  console: 'console',
  'export-token': 'server',
  demo: 'demo',
};

/** A middleware's or catch-all's credentials, by the prefix it is mounted under. */
function familyOf(pattern: string): RouteFamily {
  if (pattern.startsWith('/client/v1')) return 'client';
  if (pattern.startsWith('/v1')) return 'server';
  if (pattern.startsWith('/segmentio')) return 'segmentio';
  if (pattern.startsWith('/console')) return 'console';
  if (pattern.startsWith('/demo')) return 'demo';
  return 'public';
}

/**
 * A path parameter's value: one string for all of them, or chosen by the collection the parameter
 * follows (`/v1/segments/:id` → "segments", `/console/customers/:id/why/:segmentId` → "why"), so
 * that a request can reach a real object rather than stop at its 404.
 */
export type ParamValue = string | ((collection: string, name: string) => string);

/** The pattern with each `:name` and `*` replaced by its value, URL-encoded as a path segment. */
export function fillPath(pattern: string, param: ParamValue): string {
  const parts = pattern.split('/');
  return parts
    .map((part, i) => {
      const name = /^:([A-Za-z_][A-Za-z0-9_]*)/.exec(part)?.[1] ?? (part === '*' ? '*' : undefined);
      if (name === undefined) return part;
      return encodeURIComponent(typeof param === 'string' ? param : param(parts[i - 1] ?? '', name));
    })
    .join('/');
}

/** The routes to fuzz, path parameters filled with `param`. ALL (middleware, catch-alls) is fuzzed as GET and as POST. */
export function fuzzRoutes(param: ParamValue = 'fz-1'): FuzzRoute[] {
  return mountedRoutes()
    .filter((r) => !(routeKey(r.method, r.pattern) in NOT_FUZZED))
    .map((r) => ({ method: r.method, pattern: r.pattern, path: fillPath(r.pattern, param), family: r.family }));
}

/** Routes that take a body: every method but GET (ALL is sent as POST). */
export const bodyRoutes = (param?: ParamValue): FuzzRoute[] =>
  fuzzRoutes(param)
    .filter((r) => r.method !== 'GET')
    .map((r) => (r.method === 'ALL' ? { ...r, method: 'POST' } : r));

/** Routes that read a query string: GET (ALL is sent as GET too). */
export const queryRoutes = (param?: ParamValue): FuzzRoute[] =>
  fuzzRoutes(param)
    .filter((r) => r.method === 'GET' || r.method === 'ALL')
    .map((r) => ({ ...r, method: 'GET' }));
