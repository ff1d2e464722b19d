/** @module Requests to the client API: the official SDK's query format, headers, and never a rejection. */
import { BOOKMARK_COOKIE, BOOKMARK_HEADER } from '../shared/consistency';
import { readCookie } from './cookie';
import type { ApiError } from './types';

/** Where requests go and the client key they carry. */
export interface Target {
  apiUrl: string;
  clientApplicationId: string;
  clientToken: string;
}

/** An HTTP answer, or `null` when none came (network error, CORS refusal, blocked by an extension). */
export type Reply = { ok: boolean; status: number; body: unknown } | null;

// qs encodes RFC 3986 unreserved characters only; encodeURIComponent also keeps !'()*.
const encode = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

/**
 * `qs.stringify` with qs 6.9 defaults (what `@voucherify/sdk` sends) for JSON-like values:
 * nested keys as `a[b][0][c]`, keys and values percent-encoded, `undefined` skipped, `null` as
 * an empty value, dates as ISO strings, empty objects and arrays omitted.
 *
 * @example toQuery({ code: 'AB C', item: [{ sku_id: 'sku_1' }] }) // 'code=AB%20C&item%5B0%5D%5Bsku_id%5D=sku_1'
 */
export function toQuery(params: Record<string, unknown>): string {
  const pairs: string[] = [];
  const walk = (key: string, value: unknown): void => {
    if (value === undefined) return;
    if (value instanceof Date) value = value.toISOString();
    if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(key ? `${key}[${k}]` : k, v);
    } else {
      pairs.push(encode(key) + '=' + encode(value === null ? '' : String(value)));
    }
  };
  walk('', params);
  return pairs.join('&');
}

/**
 * Sends a GET (no body) or a JSON POST. `withCookies` decides `credentials`: 'include' lets a
 * server-set tracking cookie flow to (and be renewed by) the API; 'omit' keeps the browser from
 * sending or storing any cookie, which is what a refused or pending consent needs. An identity
 * `signature` goes in a header, never in the URL: URLs are kept by proxies and logs.
 */
export async function send(t: Target, path: string, body: unknown, withCookies: boolean, signature?: string): Promise<Reply> {
  const headers: Record<string, string> = {
    'X-Client-Application-Id': t.clientApplicationId,
    'X-Client-Token': t.clientToken,
    'X-Voucherify-Channel': 'Vouchsafe.js',
  };
  if (signature) headers['X-Vouchsafe-Identity-Signature'] = signature;
  // A bookmark the shop's backend left after a write (a redemption): this read sees that write.
  const bookmark = withCookies ? readCookie(BOOKMARK_COOKIE) : undefined;
  if (bookmark) headers[BOOKMARK_HEADER] = bookmark;
  const init: Record<string, unknown> = {
    method: 'GET',
    headers,
    credentials: withCookies ? 'include' : 'omit',
    mode: 'cors',
  };
  if (body !== undefined) {
    init.method = 'POST';
    init.body = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  let res: Response;
  try {
    res = await fetch(t.apiUrl + path, init as RequestInit);
  } catch {
    return null;
  }
  let data: unknown;
  try {
    data = await res.json();
  } catch {
    // A body that is not JSON is reported through the status alone.
  }
  return { ok: res.ok, status: res.status, body: data };
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The error to hand back for a reply that is not a usable 2xx JSON object. */
export function replyError(r: Reply): ApiError {
  if (!r) return { message: 'network error' };
  const fallback = r.ok ? 'Invalid response body' : `Unexpected status code: ${r.status}`;
  return { message: fallback, ...(r.ok || !isObject(r.body) ? {} : r.body) };
}
