/** Tracking ids and identity hashes: the anonymous side of a visitor. */

import { TRACKING_ID } from '../../../shared/identity';

export { TRACKING_ID };

/** The cookie the browser SDK reads (client/cookie.ts default) and the worker may set. */
export const TRACKING_COOKIE = 'vs_tid';
/** Chrome's cap on cookie lifetime: 400 days. */
const COOKIE_MAX_AGE = 400 * 24 * 60 * 60;

const encoder = new TextEncoder();

const base64url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

const hex = (bytes: ArrayBuffer): string => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');

async function hmac(secret: string, message: string): Promise<ArrayBuffer> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return crypto.subtle.sign('HMAC', key, encoder.encode(message));
}

export function mintTrackingId(): string {
  return `track_${base64url(crypto.getRandomValues(new Uint8Array(16)))}`;
}

/**
 * The tracking id of a request. A `track_…` id is used as it is; any other value (the official
 * SDK sends the raw identity given to its setIdentity, e.g. an email) is turned into a stable
 * `track_…` id with an HMAC, so the raw value is never stored; none at all mints a new one.
 */
export async function resolveTrackingId(secret: string, given: string | undefined): Promise<{ id: string; minted: boolean }> {
  if (given === undefined || given === '') return { id: mintTrackingId(), minted: true };
  if (TRACKING_ID.test(given)) return { id: given, minted: false };
  const digest = new Uint8Array(await hmac(secret, `tracking-id:${given}`));
  return { id: `track_${base64url(digest.slice(0, 16))}`, minted: false };
}

/** What is stored of an identity hash: HMAC(TRACKING_SECRET, hash), hex. */
export async function identityHmac(secret: string, identityHash: string | undefined): Promise<string | null> {
  return identityHash ? hex(await hmac(secret, `identity:${identityHash}`)) : null;
}

/**
 * The tracking cookie to set on a validate response, or null. Only for same-origin or same-site
 * requests (Sec-Fetch-Site, sent by browsers): a cookie set by a same-site server response is not
 * capped by Safari's 7-day rule on script-written cookies. Its value is always the tracking id of
 * this response, which the client sent or now receives. Same-site but another host: the cookie
 * goes on the longest domain both hosts share, so the storefront's pages can read it.
 */
export function trackingCookie(trackingId: string, request: Request): string | null {
  const site = request.headers.get('sec-fetch-site');
  if (site !== 'same-origin' && site !== 'same-site') return null;
  const url = new URL(request.url);
  const parts = [`${TRACKING_COOKIE}=${trackingId}`, 'Path=/', `Max-Age=${COOKIE_MAX_AGE}`, 'SameSite=Lax'];
  if (url.protocol === 'https:') parts.push('Secure');
  const origin = request.headers.get('origin');
  if (site === 'same-site' && origin) {
    const shared = sharedDomain(new URL(origin).hostname, url.hostname);
    if (shared) parts.push(`Domain=${shared}`);
  }
  return parts.join('; ');
}

/** The longest dot-separated suffix of both hosts with at least two labels, or null. */
function sharedDomain(a: string, b: string): string | null {
  const la = a.split('.').reverse();
  const lb = b.split('.').reverse();
  const common: string[] = [];
  for (let i = 0; i < Math.min(la.length, lb.length) && la[i] === lb[i]; i++) common.push(la[i] as string);
  return common.length >= 2 ? common.reverse().join('.') : null;
}
