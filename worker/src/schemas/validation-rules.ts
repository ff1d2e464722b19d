import { z } from 'zod';
import { intParam } from './common';

/**
 * Item targeting (which products a discount applies to) is not implemented: discounts apply to the
 * whole order. A rule that names items is refused rather than stored and ignored, which would give
 * a larger discount than the shop set.
 */
const applicableTo = z
  .object({
    included: z.array(z.unknown()).max(0, 'not supported: item-level targeting (discounts apply to the whole order)').nullable().optional(),
    excluded: z.array(z.unknown()).max(0, 'not supported: item-level targeting (discounts apply to the whole order)').nullable().optional(),
    included_all: z.boolean().nullable().optional(),
  })
  .nullable()
  .optional();

const readOnly = z.unknown().optional().describe('read-only; ignored');

const ruleFields = {
  name: z.string().min(1, 'must not be empty').max(200),
  rules: z.record(z.string(), z.unknown()),
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
    error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}` : undefined),
  });

export const validationRuleCreateSchema = ruleObject(ruleFields);

/** PUT /v1/validation-rules/{id} (OA ValidationRulesUpdateRequestBody): what is given replaces; `error: null` removes the message. */
export const validationRuleUpdateSchema = ruleObject({
  ...ruleFields,
  name: ruleFields.name.optional(),
  rules: ruleFields.rules.optional(),
  error: ruleFields.error.unwrap().nullable().optional(),
});
export type ValidationRuleUpdate = z.output<typeof validationRuleUpdateSchema>;

const onlyVouchers = 'not supported: only vouchers can have validation rules here';

/**
 * POST /v1/validation-rules/{id}/assignments in both of its spellings: the spec's
 * `{related_object_type (default 'voucher'), related_object_id}` (OA
 * ValidationRulesAssignmentsCreateRequestBody, readOnly-openAPI.json:L29673) and the official SDK's
 * `{voucher}` (SDK ValidationRules.d.ts:38). Either names a voucher by code or id.
 */
export const assignmentCreateSchema = z
  .strictObject({
    related_object_type: z.literal('voucher', { error: onlyVouchers }).nullable().optional(),
    related_object_id: z.string().min(1).max(100).optional(),
    voucher: z.string().min(1).max(100).optional(),
    campaign: z.never({ error: onlyVouchers }).optional(),
    promotion_tier: z.never({ error: onlyVouchers }).optional(),
  })
  .superRefine((body, ctx) => {
    if (body.voucher !== undefined && body.related_object_id !== undefined && body.voucher !== body.related_object_id) {
      ctx.addIssue({ code: 'custom', path: ['voucher'], message: 'names another voucher than related_object_id; give one of them' });
    } else if (body.voucher === undefined && body.related_object_id === undefined) {
      ctx.addIssue({ code: 'custom', path: ['related_object_id'], message: 'required (or voucher): the code or id of the voucher' });
    }
  })
  .transform((body) => ({ voucher: (body.voucher ?? body.related_object_id) as string }));

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
  .strictObject({ ...assignmentPage, related_object_id: z.string().min(1).max(100).optional(), rule: z.string().min(1).max(100).optional() })
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
