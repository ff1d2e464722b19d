/** @module The tracking id and its cookie: mint, read, write once on the registrable domain, remove. */
import Cookies from 'js-cookie';
import { browser } from './env';

/** Chrome caps cookie lifetimes at 400 days (M104+); js-cookie counts `expires` in days. */
export const COOKIE_DAYS = 400;

const PROBE = 'vs_probe';

/** `track_` + 128 random bits as base64url (22 characters). */
export function mintTrackingId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return (
    'track_' +
    btoa(String.fromCharCode(...bytes))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '')
  );
}

/**
 * Cookie domains to try for `host`, shortest first: `a.example.co.uk` gives `co.uk`,
 * `example.co.uk`, `a.example.co.uk`. None for IP addresses, `localhost` and single-label hosts,
 * which can only hold host-only cookies.
 */
export function domainLevels(host: string): string[] {
  const levels: string[] = [];
  if (host.includes(':') || /^[\d.]+$/.test(host) || /(^|\.)localhost$/.test(host)) return levels;
  const labels = host.split('.');
  for (let i = labels.length - 2; i >= 0; i--) levels.push(labels.slice(i).join('.'));
  return levels;
}

let memo: [host: string, domain: string | undefined] | undefined;

/**
 * The registrable domain of `host` (`undefined` = host-only), found without shipping a Public
 * Suffix List: browsers refuse cookies on public suffixes such as `co.uk`, so the first level that
 * takes a probe cookie is the one. Memoized, as one transient failure must not flip the domain
 * between writes (segmentio/analytics-next#1397).
 */
export function findDomain(host: string): string | undefined {
  if (memo?.[0] === host) return memo[1];
  let found: string | undefined;
  // A random value, so that a probe left over from an interrupted run cannot pass for this one.
  const value = String(Math.random());
  for (const domain of domainLevels(host)) {
    const attrs = { domain, path: '/' };
    Cookies.set(PROBE, value, attrs);
    if (Cookies.get(PROBE) === value) {
      Cookies.remove(PROBE, attrs);
      found = domain;
      break;
    }
  }
  memo = [host, found];
  return found;
}

/** The tracking cookie's value; an empty cookie counts as none. */
export function readCookie(name: string): string | undefined {
  try {
    return Cookies.get(name) || undefined;
  } catch {
    // document.cookie throws in sandboxed iframes: there is no cookie to read.
  }
}

/**
 * Writes the tracking cookie and says whether it reads back: it does not when cookies are
 * blocked, or when an HttpOnly cookie of that name exists (browsers refuse to let scripts
 * overwrite one), and then the caller keeps the id in memory only.
 */
export function writeCookie(name: string, id: string, domain?: string): boolean {
  const loc = browser.location;
  try {
    Cookies.set(name, id, {
      domain: domain ?? findDomain(loc?.hostname ?? ''),
      path: '/',
      sameSite: 'Lax',
      secure: loc?.protocol === 'https:',
      expires: COOKIE_DAYS,
    });
    return Cookies.get(name) === id;
  } catch {
    // document.cookie throws in sandboxed iframes: same as blocked.
    return false;
  }
}

/** Removes the cookie wherever it may have been set: host-only, the configured domain, every level. */
export function removeCookie(name: string, domain?: string): void {
  try {
    for (const d of [undefined, domain, ...domainLevels(browser.location?.hostname ?? '')]) {
      Cookies.remove(name, { path: '/', domain: d });
    }
  } catch {
    // document.cookie throws in sandboxed iframes: nothing can have been stored.
  }
}
