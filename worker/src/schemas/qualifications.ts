import { z } from 'zod';
import { isoDateParam } from './common';
import { validationContextSchema } from './checkout';
import { strictObject } from './vouchers';

// POST /v1/qualifications and /client/v1/qualifications (voucherify-openapi
// documentation/openapi/qualifications.json: QualificationsCheckEligibilityRequestBody L332,
// QualificationsOption L479). What this service cannot do is a 400 that names it, never ignored: an
// ignored filter lists offers the caller asked not to see.

/** The scenarios this service answers; the spec's others (L360-L369) are refused by name. */
export const SCENARIOS = ['ALL', 'CUSTOMER_WALLET', 'AUDIENCE_ONLY'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** The spec's scenarios this service does not answer, and why (a 400 names both). */
const REFUSED_SCENARIOS: Record<string, string> = {
  PRODUCTS: 'product-level qualification needs a product catalogue, which this service does not keep',
  PRODUCTS_DISCOUNT: 'product-level qualification needs a product catalogue, which this service does not keep',
  PRODUCTS_BY_CUSTOMER: 'product-level qualification needs a product catalogue, which this service does not keep',
  PRODUCTS_DISCOUNT_BY_CUSTOMER: 'product-level qualification needs a product catalogue, which this service does not keep',
  PROMOTION_STACKS: 'stacks are not qualified as a whole here: the scenario ALL judges and lists each of their tiers',
};

const scenarioSchema = z.string().transform((value, ctx) => {
  if ((SCENARIOS as readonly string[]).includes(value)) return value as Scenario;
  const why = REFUSED_SCENARIOS[value];
  ctx.addIssue({
    code: 'custom',
    message: why ? `scenario ${value} is not supported: ${why}` : `must be one of ${SCENARIOS.join(', ')}`,
  });
  return z.NEVER;
});

/** The fields a filter may name (QualificationsOption.filters, L494-L651; SDK QualificationsFiltersFields). */
export const FILTER_FIELDS = [
  'resource_type',
  'resource_id',
  'campaign_id',
  'campaign_type',
  'voucher_type',
  'code',
  'holder_role',
  'category_id',
] as const;
export type FilterField = (typeof FILTER_FIELDS)[number];

const values = z.array(z.string().max(255)).max(100);
/** QualificationsFiltersCondition: $in, $not_in, $is, $is_not (lists), $has_value, $is_unknown (presence). */
const conditionsSchema = strictObject({
  $in: values.optional(),
  $not_in: values.optional(),
  $is: z
    .union([
      values,
      z
        .string()
        .max(255)
        .transform((v) => [v]),
    ])
    .optional(),
  $is_not: z
    .union([
      values,
      z
        .string()
        .max(255)
        .transform((v) => [v]),
    ])
    .optional(),
  $has_value: z.unknown().optional(),
  $is_unknown: z.unknown().optional(),
});
export type FilterConditions = z.output<typeof conditionsSchema>;

const filtersSchema = strictObject({
  junction: z.enum(['and', 'AND', 'or', 'OR']).optional(),
  ...Object.fromEntries(FILTER_FIELDS.map((field) => [field, strictObject({ conditions: conditionsSchema.optional() }).optional()])),
}) as unknown as z.ZodType<{ junction?: string } & Partial<Record<FilterField, { conditions?: FilterConditions }>>>;

/** QualificationsOption.limit: "The default value is set to 5", maximum 50 (L483-L487). */
export const DEFAULT_LIMIT = 5;
export const MAX_LIMIT = 50;

export const SORTING_RULES = ['DEFAULT', 'BEST_DEAL', 'LEAST_DEAL'] as const;
export type SortingRule = (typeof SORTING_RULES)[number];

const optionsSchema = strictObject({
  limit: z.number().int('must be an integer').min(1, 'must be at least 1').max(MAX_LIMIT, `must be at most ${MAX_LIMIT}`).optional(),
  starting_after: isoDateParam.nullish(),
  filters: filtersSchema.nullish(),
  // Accepted; nothing here has categories, and validation rules are named by validation_rule_id.
  expand: z
    .array(z.enum(['redeemable', 'category', 'validation_rules']))
    .max(3)
    .optional(),
  sorting_rule: z.enum(SORTING_RULES, { error: `must be one of ${SORTING_RULES.join(', ')}` }).optional(),
});

export const qualificationSchema = validationContextSchema.extend({
  scenario: scenarioSchema.optional(),
  options: optionsSchema.nullish(),
});
export type QualificationInput = z.output<typeof qualificationSchema>;

/** The options as the service uses them, defaults filled in. */
export const qualificationOptions = (input: QualificationInput) => ({
  scenario: input.scenario ?? ('ALL' as Scenario),
  limit: input.options?.limit ?? DEFAULT_LIMIT,
  startingAfter: input.options?.starting_after ?? null,
  filters: input.options?.filters ?? null,
  sortingRule: input.options?.sorting_rule ?? ('DEFAULT' as SortingRule),
});
export type QualificationOptions = ReturnType<typeof qualificationOptions>;
