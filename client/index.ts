/**
 * @module Public API of the browser SDK. The script-tag global `Vouchsafe` exposes the same functions.
 * None of them throws into the host page: failures resolve to a value and, at most, a console.warn.
 */
import { TRACKING_ID } from '../shared/identity';
import { mintTrackingId, readCookie, removeCookie, writeCookie } from './cookie';
import { hashIdentity } from './identity';
import { isObject, replyError, send, toQuery, type Target } from './transport';
import type {
  ApiError,
  EventResponse,
  IdentityOptions,
  InitOptions,
  QualificationsFailure,
  QualificationsParams,
  QualificationsResponse,
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
/** null while tracking is not allowed: consent required and not given, or refused. */
let trackingId: string | null = null;
/** Whether `trackingId` lives in a cookie (ours or the server's) rather than in memory only. */
let stored = false;
/** The last `consent()` answer; undefined until one is given. */
let granted: boolean | undefined;
let identityHash: string | undefined;
/** The shop backend's signature of `identityHash` (IDENTITY_SECRET), when it gave one. */
let identitySignature: string | undefined;
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
 * Once tracking is allowed: adopts the tracking cookie if it holds a well-formed id, never
 * rewriting it (a server-set cookie must stay server-set, as Safari caps cookies written by
 * scripts at 7 days); a value of another shape may have been planted by a sibling subdomain, and
 * is replaced. Otherwise keeps the id (minting one if needed) and writes it, falling back to
 * memory when the write does not stick. Before that, there is no id at all.
 */
function settle(c: Config): void {
  if (!mayStore()) {
    trackingId = null;
    stored = false;
    return;
  }
  const found = readCookie(c.cookieName);
  if (found && TRACKING_ID.test(found)) {
    trackingId = found;
    stored = true;
    return;
  }
  trackingId ??= mintTrackingId();
  stored = writeCookie(c.cookieName, trackingId, c.cookieDomain);
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

/** The tracking id sent as `tracking_id`, or `null` before `init()` and while tracking is not allowed. */
export function getTrackingId(): string | null {
  return trackingId;
}

/**
 * Records consent for tracking. `true` adopts or stores the tracking id; `false` removes the
 * cookie and the id: later requests carry neither a tracking id nor an identity, and track()
 * sends nothing.
 *
 * @example cmp.onChange((ok) => consent(ok))
 */
export function consent(ok: boolean): void {
  try {
    granted = !!ok;
    if (!config) return;
    if (!granted) removeCookie(config.cookieName, config.cookieDomain);
    if (!granted || !stored) settle(config);
  } catch (e) {
    warn('consent() failed', e);
  }
}

/**
 * Sets who the visitor is, as a SHA-256 of the normalised id (trimmed, emails lowercased). The
 * raw value is never sent. Resolves without an identity where WebCrypto is missing (http pages).
 * `signature` is what the shop's backend computed for this visitor with IDENTITY_SECRET
 * (docs/identity.md, "Identity verification"); without it the API judges the visitor as anonymous.
 *
 * @example await setIdentity('Alice@Example.com', { signature: signatureFromMyBackend })
 */
export function setIdentity(id: string, options?: IdentityOptions): Promise<void> {
  const epoch = ++identityEpoch;
  const keep = (hash: string | null): void => {
    if (epoch !== identityEpoch) return;
    identityHash = hash ?? undefined;
    identitySignature = hash ? options?.signature : undefined;
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
    identityHash = identitySignature = undefined;
    identityReady = Promise.resolve();
    if (!config) return;
    trackingId = null;
    removeCookie(config.cookieName, config.cookieDomain);
    settle(config);
  } catch (e) {
    warn('reset() failed', e);
  }
}

const validateFailure = (error: ApiError): ValidateFailure => ({ valid: false, error });

/**
 * What identifies this visitor on a request: nothing at all while tracking is not allowed (no
 * consent), else the tracking id and, after `setIdentity()`, the identity hash. Its signature
 * travels in a header (`signed()`), never in the URL.
 */
const visitor = () => (trackingId ? { tracking_id: trackingId, identity_hash: identityHash } : {});

/** The identity signature a request carries (X-Vouchsafe-Identity-Signature), with its identity only. */
const signed = () => (trackingId ? identitySignature : undefined);

/**
 * The one way a request goes out: after the last `setIdentity()` settled, with the client key,
 * the visitor's cookies only while tracking is allowed, and the identity signature only with its
 * identity. `make` gives the path and the JSON body (none for a GET), or the message of an input
 * error (nothing is sent). Resolves to the 2xx JSON object, else to `fail(error)`; never rejects.
 */
async function call<T>(name: string, fail: (error: ApiError) => T, make: () => string | [string, unknown?]): Promise<T> {
  try {
    await identityReady;
    const r = config ? make() : NOT_INITIALISED;
    if (typeof r == 'string') return fail({ message: r });
    const reply = await send(config!, r[0], r[1], !!trackingId, signed());
    return reply?.ok && isObject(reply.body) ? (reply.body as T) : fail(replyError(reply));
  } catch (e) {
    warn(name + '() failed', e);
    return fail({ message: messageOf(e) });
  }
}

const failure = (error: ApiError) => ({ error });

/**
 * Validates a voucher code for this visitor: `GET /client/v1/validate` in the official SDK's query
 * format, plus `tracking_id` and, after `setIdentity()`, `identity_hash` (its signature in the
 * X-Vouchsafe-Identity-Signature header), unless tracking is not allowed. Never rejects.
 *
 * @example
 * const r = await validate({ code: 'SUMMER-10', amount: 5000, items: [{ sku_id: 'sku_1', quantity: 2 }] })
 * if (r.valid) showDiscount(r.discount)
 */
export function validate(input: string | ValidateParams): Promise<ValidateResponse | ValidateFailure> {
  return call('validate', validateFailure, () => {
    const p: ValidateParams = typeof input === 'string' ? { code: input } : input;
    // Same cleanup as the official SDK: stray control whitespace goes, inner spaces stay.
    const code = String(p?.code ?? '')
      .replace(/[\r\n\t\f\v]/g, '')
      .trim();
    if (!code) return 'A voucher code is required';
    const query = toQuery({
      code,
      item: p.items,
      amount: p.amount,
      metadata: p.metadata,
      order: { metadata: p.orderMetadata },
      customer: p.customer,
      ...visitor(),
      session_type: p.session_type,
      session_key: p.session_key,
      session_ttl: p.session_ttl,
      session_ttl_unit: p.session_ttl_unit,
    });
    return ['/client/v1/validate?' + query];
  });
}

/**
 * Asks which offers this visitor can use with this cart: `POST /client/v1/qualifications` with
 * the spec's body (`order` built from `amount`, `items` and `orderMetadata`; `scenario`,
 * `options`, `metadata` and `customer` as given, the customer counting only when signed, as on
 * validate) plus the same `tracking_id` and `identity_hash` as `validate()` sends, and neither
 * while tracking is not allowed. Resolves to the answer (`redeemables.data`, each with its `result.discount`) or to
 * `{ error }`. Never rejects.
 *
 * @example
 * const r = await qualifications({ amount: 5000, items: [{ sku_id: 'sku_1', quantity: 2 }] })
 * if (!('error' in r)) showOffers(r.redeemables.data)
 */
export function qualifications(p: QualificationsParams = {}): Promise<QualificationsResponse | QualificationsFailure> {
  return call('qualifications', failure, () => [
    '/client/v1/qualifications',
    {
      customer: p.customer,
      order: { amount: p.amount, items: p.items, metadata: p.orderMetadata },
      scenario: p.scenario,
      options: p.options,
      metadata: p.metadata,
      ...visitor(),
    },
  ]);
}

/**
 * Records a custom event for this visitor: `POST /client/v1/events` with the tracking id as
 * `customer.source_id`. Sends nothing while tracking is not allowed. Never rejects.
 *
 * @example await track('newsletter_signup', { list: 'weekly' })
 */
export function track(event: string, metadata?: Record<string, unknown>): Promise<EventResponse | TrackFailure> {
  return call('track', failure, () => {
    if (!event || typeof event !== 'string') return 'An event name is required';
    if (!trackingId) return 'No consent';
    return ['/client/v1/events', { event, customer: { source_id: trackingId }, metadata: metadata ?? {}, identity_hash: identityHash }];
  });
}
