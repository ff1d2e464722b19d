/** @module Public types of the browser SDK, self-contained so that `dist/client/index.d.ts` needs nothing else. */

/** Options of `init()`. The same values can come from `data-` attributes of the SDK's script tag. */
export interface InitOptions {
  /** Base URL of the Vouchsafe worker, e.g. `https://api.shop.example` (a trailing slash is dropped). */
  apiUrl: string;
  clientApplicationId: string;
  clientToken: string;
  /** Name of the tracking cookie. Default `vs_tid`. */
  cookieName?: string;
  /** Cookie domain; by default the registrable domain found by probing, host-only on IPs and `localhost`. */
  cookieDomain?: string;
  /** When true, no cookie is written or sent, and no tracking id or identity is sent, until `consent(true)`. */
  requireConsent?: boolean;
}

/** Options of `setIdentity()`. */
export interface IdentityOptions {
  /**
   * The signature of the identity hash (`<expiry>.<hex>`, docs/identity.md, "Identity verification"), computed
   * by the shop's backend for the signed-in customer; sent in the X-Vouchsafe-Identity-Signature
   * header. Without it (or once it expires) the API treats the visitor as anonymous.
   */
  signature?: string;
}

/** One order line, sent as `item[i][key]` like the official SDK does. */
export interface ValidateItem {
  source_id?: string;
  related_object?: 'product' | 'sku';
  product_id?: string;
  sku_id?: string;
  quantity?: number;
  price?: number;
  amount?: number;
  [key: string]: unknown;
}

/** The official SDK's `ClientSideValidateParams`, minus `tracking_id`: the SDK always sends its own. */
export interface ValidateParams {
  code: string;
  amount?: number;
  items?: ValidateItem[];
  metadata?: Record<string, unknown>;
  orderMetadata?: Record<string, unknown>;
  customer?: { source_id?: string; metadata?: Record<string, unknown> };
  session_type?: 'LOCK';
  session_key?: string;
  session_ttl?: number;
  session_ttl_unit?: 'MILLISECONDS' | 'SECONDS' | 'MINUTES' | 'HOURS' | 'DAYS';
}

/** Voucherify's error object; `message` is always there (filled in when the server sent none). */
export interface ApiError {
  message: string;
  code?: number;
  key?: string;
  details?: string;
  request_id?: string;
  [key: string]: unknown;
}

/** Body of a 2xx `GET /client/v1/validate`: `valid` says whether the code applies. */
export interface ValidateResponse {
  valid: boolean;
  code?: string;
  tracking_id?: string;
  reason?: string;
  error?: ApiError;
  discount?: Record<string, unknown>;
  order?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  [key: string]: unknown;
}

/** What `validate()` resolves to when no validation happened (bad input, HTTP error, network error). */
export interface ValidateFailure {
  valid: false;
  error: ApiError;
}

/** Body of a 2xx `POST /client/v1/events`. No index signature, so `'error' in result` narrows. */
export interface EventResponse {
  object: 'event';
  type: string;
  customer: { id?: string; source_id?: string | null; object?: 'customer'; [key: string]: unknown };
  referral?: unknown;
  loyalty?: unknown;
}

/** What `track()` resolves to when the event was not recorded. */
export interface TrackFailure {
  error: ApiError;
}

/**
 * What `qualifications()` asks about. The cart goes out as the spec's `order`
 * (`ClientQualificationsCheckEligibilityRequestBody`); the SDK adds its own `tracking_id` and identity.
 */
export interface QualificationsParams {
  amount?: number;
  items?: ValidateItem[];
  /** Default `ALL` on the server. Scenarios the server does not support answer an error naming them. */
  scenario?: 'ALL' | 'CUSTOMER_WALLET' | 'AUDIENCE_ONLY' | 'PRODUCTS' | 'PRODUCTS_DISCOUNT' | (string & {});
  /** `limit` (up to 50), `starting_after`, `filters`, `expand`, `sorting_rule`, as the spec's `QualificationsOption`. */
  options?: {
    limit?: number;
    starting_after?: string;
    filters?: Record<string, unknown>;
    expand?: string[];
    sorting_rule?: string;
    [key: string]: unknown;
  };
  metadata?: Record<string, unknown>;
  orderMetadata?: Record<string, unknown>;
  /** As on `validate()`: the API believes `source_id` only with the shop backend's signature of it. */
  customer?: { source_id?: string; metadata?: Record<string, unknown> };
}

/** One offer the visitor qualifies for: a voucher code or a promotion tier (`id` is the code or the tier id). */
export interface QualifiedRedeemable {
  id: string;
  object: 'voucher' | 'promotion_tier' | 'campaign' | 'promotion_stack';
  created_at?: string;
  /** `discount` as validate would compute it for this cart. */
  result?: { discount?: Record<string, unknown>; error?: ApiError; [key: string]: unknown };
  order?: Record<string, unknown>;
  applicable_to?: Record<string, unknown>;
  inapplicable_to?: Record<string, unknown>;
  name?: string;
  banner?: string;
  campaign_id?: string;
  campaign_name?: string;
  metadata?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Body of a 2xx `POST /client/v1/qualifications` (`ClientQualificationsCheckEligibilityResponseBody`). */
export interface QualificationsResponse {
  redeemables: {
    object: 'list';
    data_ref: 'data';
    data: QualifiedRedeemable[];
    total: number;
    has_more: boolean;
    more_starting_after?: string;
  };
  tracking_id?: string;
  order?: Record<string, unknown>;
  stacking_rules?: Record<string, unknown>;
}

/** What `qualifications()` resolves to when no answer came (HTTP error, network error, before `init()`). */
export interface QualificationsFailure {
  error: ApiError;
}
