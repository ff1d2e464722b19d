/** @module Script-tag start-up: auto-init from `data-` attributes, then take over the snippet's queue. */
import type { Browser, ScriptTag } from './env';
import { consent, getTrackingId, init, qualifications, reset, setIdentity, track, validate } from './index';
import type { InitOptions } from './types';

/** A call made before the SDK loaded, as the loader snippet queues it in `Vouchsafe._q`. */
export type QueuedCall = [method: string, args: unknown[], resolve: (v: unknown) => void, reject: (e: unknown) => void];

/** The script-tag global: the same functions as the ESM entry. */
export const api = { init, getTrackingId, setIdentity, validate, qualifications, track, consent, reset };

/**
 * `init()` options from the script tag's `data-` attributes (`data-api-url`,
 * `data-client-application-id`, `data-client-token`, `data-cookie-name`, `data-cookie-domain`,
 * `data-require-consent`), or undefined when the key is not there. `apiUrl` defaults to the
 * origin the script was served from, which is the worker itself when it serves the SDK.
 */
export function scriptOptions(script: ScriptTag | null | undefined): InitOptions | undefined {
  if (!script) return;
  const data = (name: string): string | undefined => script.getAttribute('data-' + name) || undefined;
  const clientApplicationId = data('client-application-id');
  const clientToken = data('client-token');
  if (!clientApplicationId || !clientToken) return;
  let apiUrl = data('api-url');
  if (!apiUrl) {
    try {
      apiUrl = new URL(script.src ?? '').origin;
    } catch {
      // An inline or SVG script has no src to take an origin from; init() then warns about apiUrl.
    }
  }
  // A bare `data-require-consent` attribute counts as true, like a boolean HTML attribute.
  const requireConsent = script.getAttribute('data-require-consent');
  return {
    apiUrl: apiUrl ?? '',
    clientApplicationId,
    clientToken,
    cookieName: data('cookie-name'),
    cookieDomain: data('cookie-domain'),
    requireConsent: requireConsent !== null && requireConsent !== 'false',
  };
}

/**
 * Installs `api` as `w.Vouchsafe`, then replays the calls queued by the loader snippet one after
 * the other, so that their promises settle in call order.
 */
export function install(w: Browser, script: ScriptTag | null | undefined): void {
  const stub = w.Vouchsafe as { _q?: QueuedCall[] } | undefined;
  // Another copy of the SDK already runs on the page; replacing it would drop its state.
  if (stub && !stub._q) return;
  const options = scriptOptions(script);
  if (options) init(options);
  w.Vouchsafe = api;
  const methods = api as unknown as Record<string, (...args: unknown[]) => unknown>;
  let chain: Promise<unknown> = Promise.resolve();
  for (const [method, args, resolve, reject] of stub?._q ?? []) {
    chain = chain.then(() => methods[method]!(...args)).then(resolve, reject);
  }
}
