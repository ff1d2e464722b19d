// Wire types of the Voucherify-compatible API (the shapes of Voucherify's public API reference).
// Field names follow Voucherify exactly; where Vouchsafe goes further it adds fields, never renames.

import type { ExplainNode } from './explain';
import type { DayOfWeek, RedeemableStatus, ValidityHours, ValidityTimeframe } from './validity';

export interface ApiErrorBody {
  code: number;
  key: string;
  message: string;
  details?: string;
  request_id: string;
  resource_id?: string;
  resource_type?: string;
  error?: { message: string };
}

export interface Address {
  city: string | null;
  state: string | null;
  line_1: string | null;
  line_2: string | null;
  country: string | null;
  postal_code: string | null;
}

export type Metadata = Record<string, unknown>;

export interface CustomerSummary {
  redemptions: {
    total_redeemed: number;
    total_failed: number;
    total_succeeded: number;
    total_rolled_back: number;
    total_rollback_failed: number;
    total_rollback_succeeded: number;
    gift: { redeemed_amount: number; amount_to_go: number };
    loyalty_card: { redeemed_points: number; points_to_go: number };
  };
  orders: {
    total_amount: number;
    total_count: number;
    average_amount: number;
    last_order_amount: number;
    last_order_date?: string;
  };
}

export interface Customer {
  id: string;
  source_id: string | null;
  name: string | null;
  description: string | null;
  email: string | null;
  phone: string | null;
  birthdate: string | null;
  address: Address | null;
  summary: CustomerSummary;
  loyalty: { points: number; referred_customers: number; campaigns: Record<string, unknown> };
  referrals: { total: number; campaigns: unknown[] };
  metadata: Metadata;
  system_metadata: Metadata;
  created_at: string;
  updated_at?: string;
  object: 'customer';
}

export interface CustomerList {
  object: 'list';
  data_ref: 'customers';
  customers: Customer[];
  total: number;
  has_more: boolean;
}

export interface AsyncAction {
  id: string;
  type:
    | 'CUSTOMERS.BULK_UPDATE'
    | 'CUSTOMERS.METADATA_UPDATE'
    | 'CUSTOMERS.IMPORT_CSV'
    // OA AsyncActionBase.type of POST /v1/orders/import.
    | 'ORDERS.IMPORT'
    // OA AsyncActionBase.type values of campaigns (readOnly-openAPI.json, "CAMPAIGN.VOUCHERS_IMPORT" etc.).
    | 'CAMPAIGN.VOUCHERS_IMPORT'
    | 'CAMPAIGN.VOUCHERS_IMPORT_CSV'
    | 'CAMPAIGN.VOUCHERS_GENERATE'
    | 'CAMPAIGN.VOUCHERS_DELETE'
    // Ours (not in the OA enum): a campaign's codes published to a segment's members (POST /v1/publications/segment).
    | 'CAMPAIGN.VOUCHERS_PUBLISH';
  /** Bulk and metadata actions are DONE when answered; a CSV import moves IN_PROGRESS → DONE (or FAILED). */
  status: 'IN_PROGRESS' | 'DONE' | 'FAILED';
  /** The OA enum (AsyncActionBase.operation_status); UNKNOWN while the action is IN_PROGRESS. */
  operation_status?: 'SUCCESS' | 'FAILED' | 'UNKNOWN';
  result: BulkUpdateResult | MetadataUpdateResult | ImportCsvResult | DistributionResult;
  created_at: string;
  updated_at: string;
  request_id: string;
  /** 0-100; a CSV import advances it chunk by chunk. */
  progress: number;
  processing_time: number;
  object: 'async_action';
}

/** An entry of GET /v1/async-actions: the action without its result (OA AsyncActionBase). */
export type AsyncActionSummary = Omit<AsyncAction, 'result'>;

export interface AsyncActionList {
  object: 'list';
  data_ref: 'async_actions';
  async_actions: AsyncActionSummary[];
  has_more: boolean;
}

/** One record a bulk action could not apply (OA AsyncActionResultCustomersBulkUpdateResponseBody.errors). */
export interface AsyncActionError {
  message: string;
  details: string;
  key: string;
  /** The record's source_id; '' when the record has none (as the OA import example writes it). */
  source_id: string;
}

/** The result of CUSTOMERS.BULK_UPDATE (OA AsyncActionResultCustomersBulkUpdateResponseBody). */
export interface BulkUpdateResult {
  done_count: number;
  failed_count: number;
  errors: AsyncActionError[];
}

/**
 * The result of CAMPAIGN.VOUCHERS_PUBLISH (ours): done_count members got a code, skipped_count
 * already held one of the campaign (join_once), failed_count found no free code (one error, the
 * OA's no_voucher_suitable_for_publication, with the count). Who got which code: the publication
 * export (exported_object 'publication', filtered by the campaign) or GET /v1/publications.
 */
export interface DistributionResult extends BulkUpdateResult {
  skipped_count: number;
  campaign_id: string;
  segment_id: string;
}

/**
 * The result of CUSTOMERS.METADATA_UPDATE (OA AsyncActionResultCustomersMetadataUpdateResponseBody,
 * with the counts of its example). Unknown source ids are upserted, as the OA describes.
 */
export interface MetadataUpdateResult {
  done_count: number;
  failed_count: number;
  errors: AsyncActionError[];
}

/** The result of a CUSTOMERS.IMPORT_CSV action (OA 17_res_obj_get_async_action_result_customers_import_csv). */
export interface ImportCsvResult {
  /** "N customer(s) imported successfully, M failed.", as the OA example words it. */
  message?: string;
  /** Data rows in the file (the header excluded, blank lines skipped). */
  total_count: number;
  /** Rows applied: created + updated + unchanged. */
  done_count: number;
  failed_count: number;
  created_count: number;
  updated_count: number;
  /** Rows that matched a customer already holding exactly these values: nothing was written. */
  unchanged_count: number;
  /**
   * The first failures (at most 1,000); failed_count counts all of them. `row` counts data rows
   * from 1, the header excluded (OA: "The row counter excludes the file headers row").
   */
  failed: { row: number; source_id: string | null; reason: string }[];
  /** Set when more rows failed than `failed` lists. */
  failed_truncated?: true;
  /** Why the import stopped, when status is FAILED. */
  error?: string;
}

export interface CustomerDeletion {
  id: string;
  created_at: string;
  related_object_id: string;
  related_object: 'customer';
  status: 'DONE';
  data_json: Record<string, number>;
  /** Spelled as the Voucherify API spells it. */
  object: 'pernament_deletion';
}

export type SegmentType = 'static' | 'auto-update' | 'passive';

export interface Segment {
  id: string;
  name: string;
  created_at: string;
  updated_at?: string;
  type: SegmentType;
  /** The filter as submitted; null for a static segment. */
  filter: Record<string, unknown> | null;
  initial_sync_status: 'DONE' | 'IN_PROGRESS';
  metadata: Record<string, unknown>;
  object: 'segment';
}

/**
 * An entry of GET /v1/customers/{id}/activity (OA CustomerActivity): `data.data` holds the event
 * data object of the type (OA CustomerActivityData, e.g. EventCustomerCustomEvent).
 */
/** A customer as a segment preview samples it. */
export interface SegmentPreviewCustomer {
  id: string;
  source_id: string | null;
  name: string | null;
  email: string | null;
}

/** Who a filter matches, or would add and drop, without saving (POST /v1/segments/preview). */
export interface SegmentPreview {
  object: 'segment_preview';
  count: number;
  sample: SegmentPreviewCustomer[];
  took_ms: number;
  /** With `against: seg_…`: who would enter and who would leave that segment if it had this filter. */
  against?: {
    segment_id: string;
    entering: { count: number; sample: SegmentPreviewCustomer[] };
    leaving: { count: number; sample: SegmentPreviewCustomer[] };
  };
}

/** POST /v1/segments/{id}/explain: why a customer is or is not in a segment. */
export interface SegmentExplanation {
  object: 'segment_explanation';
  segment: { id: string; name: string; type: SegmentType };
  /** null when the reference names no stored customer (judged as an empty profile). */
  customer: { id: string; source_id: string | null } | null;
  /** Membership as the API reports it (stored members; the live filter for a passive segment). */
  member: boolean;
  /** `stored`: member comes from the stored member list; `filter`: from judging the filter now. */
  basis: 'stored' | 'filter';
  /** The filter's trace now (null for a static segment, which has no filter). */
  explanation: ExplainNode | null;
}

/** One day of a segment's size history (kept by the cron). */
export interface SegmentSize {
  day: string;
  size: number;
}

export interface CustomerActivity {
  id: string;
  type: string;
  data: { data: Record<string, unknown> };
  created_at: string;
}

/** GET /v1/customers/{id}/activity (OA CustomersActivityListResponseBody). */
export interface CustomerActivityList {
  object: 'list';
  data_ref: 'data';
  data: CustomerActivity[];
  has_more: boolean;
  more_starting_after?: string;
}

/** One code in a customer's wallet (OA CustomerRedeemable). */
export interface CustomerRedeemable {
  id: string;
  created_at: string;
  redeemable_id: string;
  redeemable_object: 'voucher';
  customer_id: string;
  holder_role: 'OWNER';
  campaign_id: string | null;
  campaign_type: 'DISCOUNT_COUPONS' | null;
  voucher_type: 'DISCOUNT_VOUCHER';
  redeemable: { type: 'voucher'; voucher: Voucher; status: RedeemableStatus };
}

/** GET /v1/customers/{id}/redeemables (OA CustomerRedeemablesList). */
export interface CustomerRedeemableList {
  object: 'list';
  data_ref: 'data';
  data: CustomerRedeemable[];
  total: number;
  has_more: boolean;
  more_starting_after?: string;
}

/** GET /v1/customers/{id}/activities, deprecated (OA24 CustomersActivitiesListResponseBody). */
export interface CustomerActivitiesList {
  object: 'list';
  data_ref: 'data';
  data: CustomerActivity[];
  total: number;
}

/** The response of POST /v1/events and /client/v1/events. */
export interface EventResponse {
  object: 'event';
  type: string;
  /** id is null while the event belongs to an anonymous tracking profile (source_id: the tracking id). */
  customer: {
    id: string | null;
    source_id: string | null;
    name: string | null;
    email: string | null;
    metadata: Metadata;
    object: 'customer';
  };
  referral: null;
  loyalty: null;
  /** The event's metadata as sent (OA24 EventsCreateResponseBody requires it, OpenAPI24.json:L42146). */
  metadata: Metadata;
}

/** OA DiscountAmountVouchersEffectTypes (readOnly-openAPI.json:L6064). */
export type AmountEffect =
  | 'APPLY_TO_ORDER'
  | 'APPLY_TO_ITEMS'
  | 'APPLY_TO_ITEMS_PROPORTIONALLY'
  | 'APPLY_TO_ITEMS_PROPORTIONALLY_BY_QUANTITY'
  | 'APPLY_TO_ITEMS_BY_QUANTITY';
/** OA DiscountPercentVouchersEffectTypes (L6206) and DiscountFixedVouchersEffectTypes (L6149). */
export type PercentOrFixedEffect = 'APPLY_TO_ORDER' | 'APPLY_TO_ITEMS';
/** OA DiscountUnitMultipleOneUnit.effect: how the free units join the order. */
export type UnitEffect = 'ADD_MISSING_ITEMS' | 'ADD_NEW_ITEMS';
export type DiscountEffect = AmountEffect | PercentOrFixedEffect | UnitEffect | 'ADD_MANY_ITEMS';

/** One free-unit grant (OA DiscountUnit / DiscountUnitMultipleOneUnit): unit_off units of unit_type (a product or SKU id). */
export interface DiscountUnitGrant {
  unit_off: number;
  unit_type: string;
  effect: UnitEffect;
  product?: DiscountUnitRef;
  sku?: DiscountUnitRef;
}

/**
 * The product or SKU of a free unit (OA SimpleProductDiscountUnit L27637, SimpleSkuDiscountUnit
 * L28156). `price` is this service's addition: there is no catalogue, so a unit the order does
 * not hold is priced by it (shared/discount.ts).
 */
export interface DiscountUnitRef {
  id?: string | null;
  source_id?: string | null;
  name?: string | null;
  price?: number | null;
}

export type Discount =
  | { type: 'AMOUNT'; amount_off: number; aggregated_amount_limit?: number; effect?: AmountEffect }
  | { type: 'PERCENT'; percent_off: number; amount_limit?: number; aggregated_amount_limit?: number; effect?: PercentOrFixedEffect }
  | { type: 'FIXED'; fixed_amount: number; effect?: PercentOrFixedEffect }
  | ({ type: 'UNIT' } & DiscountUnitGrant)
  | { type: 'UNIT'; effect: 'ADD_MANY_ITEMS'; units: DiscountUnitGrant[] };

export interface ValidationRuleAssignment {
  id: string;
  rule_id: string;
  related_object_id: string;
  /** 'promotion_tier': a rule of a promotion tier (migration 0030), OA ValidationRulesAssignment. */
  related_object_type: 'voucher' | 'campaign' | 'promotion_tier';
  created_at: string;
  object: 'validation_rules_assignment';
}

/** The voucher object (OA GET /v1/vouchers/{code} example, readOnly-openAPI.json:L35147; SDK VouchersResponse). */
export interface Voucher {
  id: string;
  code: string;
  /** The campaign's name and id; null for a standalone voucher. */
  campaign: string | null;
  campaign_id: string | null;
  category: null;
  category_id: null;
  categories: [];
  type: 'DISCOUNT_VOUCHER';
  discount: Discount;
  gift: null;
  loyalty_card: null;
  start_date: string | null;
  expiration_date: string | null;
  validity_timeframe: ValidityTimeframe | null;
  validity_day_of_week: DayOfWeek[] | null;
  validity_hours: ValidityHours | null;
  active: boolean;
  /** Vouchsafe extension (migration 0031): the shop offers the code to anyone (qualifications). */
  public?: boolean;
  additional_info: string | null;
  metadata: Metadata;
  /** No images are rendered here: the ids name the assets, the urls are null. */
  assets: { qr: { id: string; url: null }; barcode: { id: string; url: null } };
  is_referral_code: false;
  created_at: string;
  updated_at: string | null;
  /** The customer the voucher was published to (OA24 Voucher.holder_id). */
  holder_id: string | null;
  referrer_id: null;
  validation_rules_assignments: { object: 'list'; data_ref: 'data'; data: ValidationRuleAssignment[]; total: number };
  redemption: { quantity: number | null; redeemed_quantity: number; object: 'list'; url: string };
  publish: { object: 'list'; count: number; url: string };
  object: 'voucher';
}

export interface VoucherList {
  object: 'list';
  data_ref: 'vouchers';
  vouchers: Voucher[];
  total: number;
}

export interface RuleCondition {
  name: string;
  conditions: Record<string, unknown>;
  error?: { message: string };
  rules?: Record<string, unknown>;
  property?: string | null;
}

/**
 * A product or SKU a rule's discount may (or may not) touch: OA ApplicableTo (readOnly-openAPI.json:L949;
 * OA24 requires object, id, strict, effect: OpenAPI24.json:L40046). Only APPLY_TO_EVERY is built.
 * `order_item_indices` appears in validate answers: the order lines the entry matched.
 */
export interface ApplicableTo {
  object: 'product' | 'sku';
  id: string | null;
  source_id?: string | null;
  product_id?: string | null;
  product_source_id?: string | null;
  strict: boolean;
  effect: 'APPLY_TO_EVERY';
  order_item_indices?: number[];
}

/** OA ValidationRuleBase.applicable_to (readOnly-openAPI.json:L29530). */
export interface ApplicableToRules {
  excluded: ApplicableTo[];
  included: ApplicableTo[];
  included_all: boolean;
}

export interface ValidationRule {
  id: string;
  name: string;
  rules: Record<string, RuleCondition | string>;
  error?: { message: string };
  applicable_to: ApplicableToRules;
  type: 'expression';
  context_type: 'global';
  created_at: string;
  updated_at?: string;
  assignments_count: number;
  object: 'validation_rules';
}

export interface ValidateFailure {
  code?: number;
  key: string;
  message: string;
  details?: string;
  request_id?: string;
  resource_id?: string;
  resource_type?: string;
}

export type ExportStatus = 'SCHEDULED' | 'IN_PROGRESS' | 'DONE' | 'ERROR';

/** An export (POST /v1/exports); the CSV is generated when result.url is fetched. */
export interface Export {
  id: string;
  object: 'export';
  created_at: string;
  status: ExportStatus;
  channel: 'API';
  exported_object: 'customer' | 'voucher' | 'publication';
  parameters: {
    /** Absent when the export was created without one. */
    order?: string;
    fields: string[];
    filters: Record<string, unknown>;
    response_format: 'CSV';
  };
  /** A signed download URL served by the worker; a fresh one, valid for an hour, on every read. */
  result: { url: string } | null;
  user_id: null;
}

export interface ExportList {
  object: 'list';
  data_ref: 'exports';
  exports: Export[];
  total: number;
}
