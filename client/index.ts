/**
 * @module Public API of the browser SDK. The script-tag global `Vouchsafe` exposes the same functions.
 * None of them throws into the host page: failures resolve to a value and, at most, a console.warn.
 */
import { mintTrackingId, readCookie, removeCookie, writeCookie } from './cookie';
import { hashIdentity } from './identity';
import { isObject, replyError, send, toQuery, type Target } from './transport';
import type {
  ApiError,
  EventResponse,
  InitOptions,
  TrackFailure,
  ValidateFailure,
  ValidateParams,
  ValidateResponse,
} from './types';

export type * from './types';

interface Config extends Target {
  cookieName: string;
  cookieDomain?: string;
  requireConsent?: boolean;
}

let config: Config | undefined;
let trackingId: string | null = null;
/** Whether `trackingId` lives in a cookie (ours or the server's) rather than in memory only. */
let stored = false;
/** The last `consent()` answer; undefined until one is given. */
let granted: boolean | undefined;
let identityHash: string | null = null;
/** The last `setIdentity()` in flight: requests wait for it, so call order is send order. */
let identityReady: Promise<void> = Promise.resolve();
/** Bumped by `setIdentity()`/`reset()`, so that a hash finishing late cannot undo a later call. */
let identityEpoch = 0;

const NOT_INITIALISED = 'Vouchsafe.init() has not been called';

const warn = (message: string, error?: unknown): void => console.warn('[vouchsafe] ' + message, error ?? '');

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Cookies may be written and sent: consent given, or not required and not refused. */
const mayStore = (): boolean => granted ?? !config?.requireConsent;

/**
 * Adopts the tracking cookie if there is one, never rewriting it: a server-set cookie must stay
 * server-set, as Safari caps cookies written by scripts at 7 days. Otherwise keeps the id (minting
 * one if needed) and writes it when allowed, falling back to memory when the write does not stick.
 */
function settle(c: Config): void {
  const found = readCookie(c.cookieName);
  if (found) {
    trackingId = found;
    stored = true;
    return;
  }
  trackingId ??= mintTrackingId();
  stored = mayStore() && writeCookie(c.cookieName, trackingId, c.cookieDomain);
}

/**
 * Configures the SDK and reads (or mints and stores) the tracking id.
 *
 * @example init({ apiUrl: 'https://api.shop.example', clientApplicationId: 'cl_app', clientToken: 'cl_tok' })
 */
export function init(options: InitOptions): void {
  try {
    if (!options?.apiUrl || !options.clientApplicationId || !options.clientToken) {
      return warn('init() needs apiUrl, clientApplicationId and clientToken');
    }
    config = {
      ...options,
      apiUrl: String(options.apiUrl).replace(/\/+$/, ''),
      cookieName: options.cookieName || 'vs_tid',
    };
    settle(config);
  } catch (e) {
    warn('init() failed', e);
  }
}

/** The tracking id sent as `tracking_id`, or `null` before `init()`. */
export function getTrackingId(): string | null {
  return trackingId;
}

/**
 * Records consent for the tracking cookie. `true` stores the current id; `false` removes the
 * cookie and switches to a fresh memory-only id, so later requests are not linked to the stored one.
 *
 * @example cmp.onChange((ok) => consent(ok))
 */
export function consent(ok: boolean): void {
  try {
    granted = !!ok;
    if (!config) return;
    if (granted) {
      if (!stored) settle(config);
    } else {
      removeCookie(config.cookieName, config.cookieDomain);
      if (stored) trackingId = mintTrackingId();
      stored = false;
    }
  } catch (e) {
    warn('consent() failed', e);
  }
}

/**
 * Sets who the visitor is, as a SHA-256 of the normalised id (trimmed, emails lowercased). The
 * raw value is never sent. Resolves without an identity where WebCrypto is missing (http pages).
 *
 * @example await setIdentity('Alice@Example.com')
 */
export function setIdentity(id: string): Promise<void> {
  const epoch = ++identityEpoch;
  const keep = (hash: string | null): void => {
    if (epoch === identityEpoch) identityHash = hash;
  };
  identityReady = hashIdentity(id).then(keep, (e) => {
    keep(null);
    warn('setIdentity() failed', e);
  });
  return identityReady;
}

/** Logout: forgets the identity and replaces the tracking id (and its cookie) with a new one. */
export function reset(): void {
  try {
    identityEpoch++;
    identityHash = null;
    identityReady = Promise.resolve();
    if (!config) return;
    trackingId = mintTrackingId();
    stored = false;
    removeCookie(config.cookieName, config.cookieDomain);
    settle(config);
  } catch (e) {
    warn('reset() failed', e);
  }
}

const validateFailure = (error: ApiError): ValidateFailure => ({ valid: false, error });

/**
 * Validates a voucher code for this visitor: `GET /client/v1/validate` in the official SDK's query
 * format, plus `tracking_id` and, after `setIdentity()`, `identity_hash`. Never rejects.
 *
 * @example
 * const r = await validate({ code: 'SUMMER-10', amount: 5000, items: [{ sku_id: 'sku_1', quantity: 2 }] })
 * if (r.valid) showDiscount(r.discount)
 */
export async function validate(input: string | ValidateParams): Promise<ValidateResponse | ValidateFailure> {
  try {
    await identityReady;
    if (!config) return validateFailure({ message: NOT_INITIALISED });
    const p: ValidateParams = typeof input === 'string' ? { code: input } : input;
    // Same cleanup as the official SDK: stray control whitespace goes, inner spaces stay.
    const code = String(p?.code ?? '')
      .replace(/[\r\n\t\f\v]/g, '')
      .trim();
    if (!code) return validateFailure({ message: 'A voucher code is required' });
    const query = toQuery({
      code,
      item: p.items,
      amount: p.amount,
      metadata: p.metadata,
      order: { metadata: p.orderMetadata },
      customer: p.customer,
      tracking_id: trackingId,
      identity_hash: identityHash ?? undefined,
      session_type: p.session_type,
      session_key: p.session_key,
      session_ttl: p.session_ttl,
      session_ttl_unit: p.session_ttl_unit,
    });
    const reply = await send(config, '/client/v1/validate?' + query, undefined, mayStore());
    return reply?.ok && isObject(reply.body) ? (reply.body as ValidateResponse) : validateFailure(replyError(reply));
  } catch (e) {
    warn('validate() failed', e);
    return validateFailure({ message: messageOf(e) });
  }
}

/**
 * Records a custom event for this visitor: `POST /client/v1/events` with the tracking id as
 * `customer.source_id`. Never rejects.
 *
 * @example await track('newsletter_signup', { list: 'weekly' })
 */
export async function track(
  event: string,
  metadata?: Record<string, unknown>
): Promise<EventResponse | TrackFailure> {
  try {
    await identityReady;
    if (!config) return { error: { message: NOT_INITIALISED } };
    if (!event || typeof event !== 'string') return { error: { message: 'An event name is required' } };
    const body = {
      event,
      customer: { source_id: trackingId },
      metadata: metadata ?? {},
      identity_hash: identityHash ?? undefined,
    };
    const reply = await send(config, '/client/v1/events', body, mayStore());
    return reply?.ok && isObject(reply.body) ? (reply.body as unknown as EventResponse) : { error: replyError(reply) };
  } catch (e) {
    warn('track() failed', e);
    return { error: { message: messageOf(e) } };
  }
}
