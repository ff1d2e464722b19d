import { z } from 'zod';
import { intParam } from './common';

const ruleFields = {
  name: z.string().min(1, 'must not be empty').max(200),
  rules: z.record(z.string(), z.unknown()),
  error: z.object({ message: z.string().max(500) }).optional(),
  applicable_to: z.unknown().optional(),
  type: z.string().optional(),
  context_type: z.string().optional(),
};

export const validationRuleCreateSchema = z.object(ruleFields);

/** PUT /v1/validation-rules/{id} (OA ValidationRulesUpdateRequestBody): what is given replaces; `error: null` removes the message. */
export const validationRuleUpdateSchema = z.object({
  name: ruleFields.name.optional(),
  rules: ruleFields.rules.optional(),
  error: ruleFields.error.unwrap().nullable().optional(),
  applicable_to: ruleFields.applicable_to,
  type: ruleFields.type,
  context_type: ruleFields.context_type,
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
