import { combine, lineMatches, type Pricing } from '../../../shared/discount';
import type { ExplainNode } from '../../../shared/explain';
import type { ApplicableTo } from '../../../shared/types';
import { toIso } from '../lib/time';
import type { ValidationContext } from '../schemas/checkout';
import type { LoadedDefinition } from '../../../shared/voucher-definition';
import { orderSummary } from './redemption';
import type { CommitChecks } from '../../../shared/rules';
import type { ValidateFailure } from '../../../shared/types';

/**
 * Why a voucher cannot be used: the `reason` and `error` of a valid:false answer. A validation
 * rule's own message (errors.mdx, "Custom error messages") is kept apart: validate shows it as
 * `error.message`, a refused redeem as the nested `error.message` under its generic message.
 */
export interface Refusal {
  reason: string;
  error: ValidateFailure & { details: string };
  customMessage?: string;
}

/** What judging a voucher for one visitor and order concludes, as the answers show it. */
export type Judgement =
  | {
      valid: true;
      orderAmount: number | null;
      discountAmount: number;
      itemsCount: number;
      pricing: Pricing;
      /** What a redemption of this judgement must find still true when it commits (the redeem batch's guards). */
      commit: CommitChecks;
    }
  | ({ valid: false } & Refusal);

// The JSON of validate answers (one code, and stackable), in Voucherify's shapes, built from what
// services/validation judged.

/** OA ApplicableToResultList (readOnly-openAPI.json:L1170). */
const resultList = (data: ApplicableTo[]) => ({ object: 'list' as const, data_ref: 'data' as const, data, total: data.length });

/**
 * The `applicable_to` / `inapplicable_to` of a valid answer: the products and SKUs the voucher's
 * rules include and exclude (as the OA24 stackable example lists them, OpenAPI24.json:L47218-L47248),
 * each with the `order_item_indices` of the order lines it matched (OA ApplicableTo.order_item_indices).
 */
export function applicability(definition: LoadedDefinition, context: ValidationContext) {
  const lines = context.order?.items ?? [];
  const withIndices = (ref: ApplicableTo): ApplicableTo => ({
    ...ref,
    order_item_indices: lines.flatMap((line, i) => (lineMatches(line, ref) ? [i] : [])),
  });
  const scope = definition.scope;
  return {
    applicable_to: resultList(scope ? scope.included.map(withIndices) : []),
    inapplicable_to: resultList(scope ? scope.excluded.map(withIndices) : []),
  };
}

/**
 * How this service stacks redeemables, in the words of Voucherify's stacking rules (OA
 * production/readOnly-openAPI.json StackingRules, SDK Validations.d.ts:94): every redeemable of a
 * request applies or none does (ALL), in the order sent, each percent discount on the initial
 * amount. One object for stackable validate and redeem.
 */
export const STACKING_RULES = {
  redeemables_limit: 30,
  applicable_redeemables_limit: 30,
  applicable_redeemables_per_category_limit: 30,
  applicable_exclusive_redeemables_limit: 1,
  applicable_exclusive_redeemables_per_category_limit: 1,
  applicable_redeemables_category_limits: {},
  exclusive_categories: [],
  joint_categories: [],
  redeemables_application_mode: 'ALL',
  redeemables_sorting_rule: 'REQUESTED_ORDER',
  redeemables_no_effect_rule: 'REDEEM_ANYWAY',
  no_effect_skip_categories: [],
  no_effect_redeem_anyway_categories: [],
  redeemables_products_application_mode: 'STACK',
  redeemables_rollback_order_mode: 'WITHOUT_ORDER',
} as const;

/** The error of a refusal as a validate answer shows it: the rule's own message, when it has one, as `message`. */
const validateError = (failure: Refusal, requestId: string) => ({
  ...failure.error,
  ...(failure.customMessage ? { message: failure.customMessage } : {}),
  request_id: requestId,
});

/** True when the request says anything about an order: only then does the answer carry one. */
const hasOrder = (context: ValidationContext): boolean => context.order != null || context.amount != null;

/** What one code's validation came to: the voucher and its pricing, or why it cannot be used. */
export type ValidateAnswer = { definition: LoadedDefinition; pricing: Pricing } | { failure: Refusal };

/** The answer of a validate call, valid or not (always HTTP 200), in Voucherify's shape. */
export function validateView(
  code: string,
  answer: ValidateAnswer,
  context: ValidationContext,
  trackingId: string,
  customerId: string | null,
  requestId: string,
  session: object | null = null,
) {
  if ('failure' in answer) {
    const { failure } = answer;
    return { valid: false, reason: failure.reason, error: validateError(failure, requestId), tracking_id: trackingId, code, metadata: {} };
  }
  const { definition } = answer;
  const { voucher } = definition;
  return {
    valid: true,
    code: voucher.code,
    ...applicability(definition, context),
    tracking_id: trackingId,
    // The validation session that holds the code (OA24 VouchersValidateValidResponseBody.session, OpenAPI24.json:L3759).
    ...(session ? { session } : {}),
    ...(hasOrder(context) ? { order: orderSummary(context.order, answer.pricing, customerId) } : {}),
    discount: voucher.discount,
    metadata: voucher.metadata,
    start_date: voucher.start_date === null ? null : toIso(voucher.start_date),
    expiration_date: voucher.expiration_date === null ? null : toIso(voucher.expiration_date),
    // The OA24 validate response's campaign name and id (null for a standalone voucher).
    campaign: voucher.campaign ?? null,
    campaign_id: voucher.campaign_id ?? null,
  };
}

/** One redeemable of a stackable validate, judged. */
export interface StackedResult {
  code: string;
  /** What the request named it as: a code or a promotion tier (OA ValidationsRedeemableInapplicable.object). */
  kind: 'voucher' | 'promotion_tier';
  definition: LoadedDefinition | null;
  judgement: Judgement;
  /** With explain: the trace of the judgement. */
  explanation: ExplainNode | null;
}

/** SKIPPED under the ALL mode: this one would apply, another of the request does not (OA ValidationsRedeemableSkippedResultPrecedingValidationFailed). */
const PRECEDING_VALIDATION_FAILED = {
  key: 'preceding_validation_failed',
  message: 'Redeemable cannot be applied due to preceding validation failure',
} as const;

/**
 * The answer of POST /v1/validations and /client/v1/validations, in the shape of OA
 * ValidationsValidateResponseBody (production/readOnly-openAPI.json:L30305): `redeemables` lists
 * every redeemable in the order sent, APPLICABLE, INAPPLICABLE or SKIPPED; when one is
 * inapplicable nothing applies (STACK l.40-41), so the others are SKIPPED and the order carries no
 * discount. Each APPLICABLE redeemable's order shows the running total up to it, from `base` (the
 * order before any discount).
 */
export function stackableValidateView(
  id: string,
  results: StackedResult[],
  base: Pricing,
  context: ValidationContext,
  trackingId: string,
  customerId: string | null,
  requestId: string,
  session: object | null = null,
) {
  const valid = results.every((r) => r.judgement.valid);
  const applied: Pricing[] = [];
  const redeemables = results.map(({ code, kind, definition, judgement, explanation }) => {
    const common = {
      id: code,
      object: kind,
      metadata: definition?.voucher.metadata ?? {},
      categories: [],
      ...(explanation ? { explanation } : {}),
    };
    if (!judgement.valid) {
      return {
        status: 'INAPPLICABLE' as const,
        ...common,
        result: {
          error: validateError(judgement, requestId),
          details: { message: judgement.customMessage ?? judgement.error.message, key: judgement.error.key },
        },
      };
    }
    if (!valid) return { status: 'SKIPPED' as const, ...common, result: { details: PRECEDING_VALIDATION_FAILED } };
    applied.push(judgement.pricing);
    return {
      status: 'APPLICABLE' as const,
      ...common,
      order: orderSummary(context.order, combine(base, applied), customerId),
      ...(definition ? applicability(definition, context) : {}),
      result: { discount: definition?.voucher.discount },
    };
  });
  return {
    id,
    valid,
    redeemables,
    skipped_redeemables: redeemables.filter((r) => r.status === 'SKIPPED'),
    inapplicable_redeemables: redeemables.filter((r) => r.status === 'INAPPLICABLE'),
    ...(hasOrder(context) ? { order: orderSummary(context.order, valid ? combine(base, applied) : base, customerId) } : {}),
    tracking_id: trackingId,
    // The validation session holding every redeemable (OA ValidationsValidateResponseBody.session, readOnly-openAPI.json:L30402).
    ...(session ? { session } : {}),
    stacking_rules: STACKING_RULES,
  };
}
