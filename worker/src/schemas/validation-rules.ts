import { z } from 'zod';
import type { ApplicableTo, ApplicableToRules } from '../../../shared/types';
import { intParam } from './common';

const readOnly = z.unknown().optional().describe('read-only; ignored');
const unsupported = (what: string) => z.null({ error: `not supported: ${what}` }).optional();
const ref = z.string().min(1, 'must not be empty').max(255);

/**
 * An entry of applicable_to (OA ApplicableTo, readOnly-openAPI.json:L949): a product or SKU, named
 * by id and/or source_id as the order items name them. The per-item limits and other effects of the
 * spec are not built: refused by name rather than stored and ignored (a larger discount than set).
 */
const applicableToEntry = z
  .strictObject(
    {
      object: z.enum(['product', 'sku', 'products_collection'], { error: 'must be product or sku' }),
      id: ref.nullable().optional(),
      source_id: ref.nullable().optional(),
      product_id: ref.nullable().optional(),
      product_source_id: ref.nullable().optional(),
      strict: z.boolean().nullable().optional(),
      effect: z.literal('APPLY_TO_EVERY', { error: 'only APPLY_TO_EVERY is supported' }).nullable().optional(),
      quantity_limit: unsupported('quantity_limit'),
      aggregated_quantity_limit: unsupported('aggregated_quantity_limit'),
      amount_limit: unsupported('amount_limit per item (set it on the discount)'),
      aggregated_amount_limit: unsupported('aggregated_amount_limit per item (set it on the discount)'),
      price: unsupported('price (use a FIXED discount with effect APPLY_TO_ITEMS)'),
      price_formula: unsupported('price_formula'),
      repeat: unsupported('repeat'),
      skip_initially: unsupported('skip_initially'),
      target: z.literal('ITEM', { error: 'only ITEM is supported' }).nullable().optional(),
      order_item_indices: readOnly,
      order_item_units: readOnly,
    },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}` : undefined,
    },
  )
  .superRefine((entry, ctx) => {
    if (entry.object === 'products_collection') {
      ctx.addIssue({
        code: 'custom',
        path: ['object'],
        message: 'not supported: products_collection (there is no product catalogue); name products or SKUs',
      });
    } else if (!entry.id && !entry.source_id) {
      ctx.addIssue({ code: 'custom', path: ['id'], message: 'required (or source_id): the product or SKU id the order items carry' });
    }
  })
  .transform((entry): ApplicableTo => ({
    object: entry.object as ApplicableTo['object'],
    id: entry.id ?? null,
    ...(entry.source_id ? { source_id: entry.source_id } : {}),
    ...(entry.product_id ? { product_id: entry.product_id } : {}),
    ...(entry.product_source_id ? { product_source_id: entry.product_source_id } : {}),
    strict: entry.strict ?? false,
    effect: 'APPLY_TO_EVERY',
  }));

/** OA ValidationRuleBase.applicable_to; stored normalised, answered as stored. null: no items scoped. */
const applicableTo = z
  .object({
    included: z.array(applicableToEntry).max(100).nullable().optional(),
    excluded: z.array(applicableToEntry).max(100).nullable().optional(),
    included_all: z.boolean().nullable().optional(),
  })
  .nullable()
  .optional()
  .transform((value): ApplicableToRules | null | undefined =>
    value == null ? value : { included: value.included ?? [], excluded: value.excluded ?? [], included_all: value.included_all ?? false },
  );

const ruleFields = {
  name: z.string().min(1, 'must not be empty').max(200),
  // Optional (OA ValidationRuleBase, readOnly-openAPI.json:L29530; SDK ValidationRules.d.ts:7
  // `rules?`): a rule with only applicable_to scopes the discount. Stored as Voucherify shows such a
  // rule, `{logic: ''}` (OA GET /v1/validation-rules example, L61415).
  rules: z
    .record(z.string(), z.unknown())
    .nullable()
    .optional()
    .transform((rules) => rules ?? { logic: '' }),
  error: z.object({ message: z.string().max(500) }).optional(),
  applicable_to: applicableTo,
  bundle_rules: z.null({ error: 'not supported: bundle rules' }).optional(),
  // Descriptive in the spec (ValidationRuleBase); the rules themselves say what is checked.
  type: z.string().max(64).nullable().optional(),
  context_type: z.string().max(200).nullable().optional(),
  // What GET returns, so that a rule read from the API can be sent back.
  id: readOnly,
  object: readOnly,
  created_at: readOnly,
  updated_at: readOnly,
  assignments_count: readOnly,
};

/** A rule body refuses keys it does not know (OA ValidationRuleBase lists them all). */
const ruleObject = <T extends z.ZodRawShape>(shape: T) =>
  z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}` : undefined,
  });

export const validationRuleCreateSchema = ruleObject(ruleFields);

/** PUT /v1/validation-rules/{id} (OA ValidationRulesUpdateRequestBody): what is given replaces; `error: null` removes the message. */
export const validationRuleUpdateSchema = ruleObject({
  ...ruleFields,
  name: ruleFields.name.optional(),
  rules: z.record(z.string(), z.unknown()).nullable().optional(),
  error: ruleFields.error.unwrap().nullable().optional(),
});
export type ValidationRuleUpdate = z.output<typeof validationRuleUpdateSchema>;

type AssignmentTarget = 'voucher' | 'campaign' | 'promotion_tier';

/**
 * POST /v1/validation-rules/{id}/assignments in both of its spellings: the spec's
 * `{related_object_type ('voucher' by default, 'campaign' or 'promotion_tier'), related_object_id}`
 * (OA ValidationRulesAssignmentsCreateRequestBody, readOnly-openAPI.json:L29673) and the official
 * SDK's `{voucher}` / `{campaign}` / `{promotion_tier}` (SDK ValidationRules.d.ts:38). A voucher by
 * code or id, a campaign by id or name, a tier by id; a campaign's rules judge every code and tier
 * of it (migrations 0017, 0030).
 */
export const assignmentCreateSchema = z
  .strictObject({
    related_object_type: z
      .enum(['voucher', 'campaign', 'promotion_tier'], { error: 'must be voucher, campaign or promotion_tier' })
      .nullable()
      .optional(),
    related_object_id: z.string().min(1).max(200).optional(),
    voucher: z.string().min(1).max(100).optional(),
    campaign: z.string().min(1).max(200).optional(),
    promotion_tier: z.string().min(1).max(100).optional(),
  })
  .superRefine((body, ctx) => {
    const named = [body.voucher, body.campaign, body.promotion_tier].filter((v) => v !== undefined).length;
    if (named > 1)
      ctx.addIssue({ code: 'custom', path: ['campaign'], message: 'give one of a voucher, a campaign or a promotion_tier, not two' });
    const shortcut: AssignmentTarget | undefined =
      body.voucher !== undefined
        ? 'voucher'
        : body.campaign !== undefined
          ? 'campaign'
          : body.promotion_tier !== undefined
            ? 'promotion_tier'
            : undefined;
    const shortcutId = body.voucher ?? body.campaign ?? body.promotion_tier;
    if (named > 1) return;
    if (shortcut && body.related_object_type && body.related_object_type !== shortcut) {
      ctx.addIssue({
        code: 'custom',
        path: ['related_object_type'],
        message: `is ${body.related_object_type} but the body names a ${shortcut}`,
      });
    } else if (shortcutId !== undefined && body.related_object_id !== undefined && shortcutId !== body.related_object_id) {
      ctx.addIssue({
        code: 'custom',
        path: [shortcut as string],
        message: 'names another object than related_object_id; give one of them',
      });
    } else if (shortcutId === undefined && body.related_object_id === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['related_object_id'],
        message:
          'required (or voucher / campaign / promotion_tier): the code or id of the voucher, the id or name of the campaign, or the id of the tier',
      });
    }
  })
  .transform((body) => ({
    type: (body.campaign !== undefined
      ? 'campaign'
      : body.voucher !== undefined
        ? 'voucher'
        : body.promotion_tier !== undefined
          ? 'promotion_tier'
          : (body.related_object_type ?? 'voucher')) as AssignmentTarget,
    ref: (body.voucher ?? body.campaign ?? body.promotion_tier ?? body.related_object_id) as string,
  }));

const pageFields = { limit: intParam(1, 100).optional(), page: intParam(1, 100).optional() };

/** GET /v1/validation-rules (OA list-validation-rules: limit, page 1-100, order). */
export const validationRuleListQuerySchema = z
  .strictObject({
    ...pageFields,
    order: z.enum(['created_at', '-created_at', 'updated_at', '-updated_at', 'name', '-name']).optional(),
  })
  .transform((q) => ({ limit: q.limit ?? 10, page: q.page ?? 1, order: q.order ?? '-created_at' }));
export type ValidationRuleListQuery = z.output<typeof validationRuleListQuerySchema>;

const assignmentPage = { ...pageFields, order: z.enum(['created_at', '-created_at']).optional() };

/** GET /v1/validation-rules/{id}/assignments (OA list-validation-rule-assignments: limit, page, order). */
export const ruleAssignmentListQuerySchema = z
  .strictObject(assignmentPage)
  .transform((q) => ({ limit: q.limit ?? 10, page: q.page ?? 1, order: q.order ?? '-created_at' }));

/** GET /v1/validation-rules-assignments (OA list-validation-rules-assignments: also related_object_id and rule). */
export const assignmentListQuerySchema = z
  .strictObject({
    ...assignmentPage,
    related_object_id: z.string().min(1).max(100).optional(),
    rule: z.string().min(1).max(100).optional(),
  })
  .transform((q) => ({
    limit: q.limit ?? 10,
    page: q.page ?? 1,
    order: q.order ?? '-created_at',
    relatedObjectId: q.related_object_id,
    ruleId: q.rule,
  }));
/** Either list: one rule's assignments, or all of them by rule and voucher. */
export interface AssignmentListQuery {
  limit: number;
  page: number;
  order: 'created_at' | '-created_at';
  ruleId?: string | undefined;
  relatedObjectId?: string | undefined;
}
