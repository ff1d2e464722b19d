import { z } from 'zod';
import { intParam, isoDateParam } from './common';

// Query parameters of the customer activity feed. Dates are inclusive bounds on created_at.

/** OA CustomerActivity.type values have this form (customer.custom_event, customer.segment.entered…). */
const activityType = z
  .string()
  .max(64)
  .regex(/^customer(\.[a-z_]+)+$/, 'must be a customer activity type such as customer.custom_event');

const CAMPAIGN_TYPES = ['LOYALTY_PROGRAM', 'PROMOTION', 'DISCOUNT_COUPONS', 'GIFT_VOUCHERS', 'REFERRAL_PROGRAM'] as const;

const common = {
  limit: intParam(1, 100).optional(),
  order: z.enum(['created_at', '-created_at']).optional(),
  starting_after_id: z.string().max(64).optional(),
  start_date: isoDateParam.optional(),
  end_date: isoDateParam.optional(),
  campaign_id: z.string().max(64).optional(),
  campaign_type: z.enum(CAMPAIGN_TYPES).optional(),
};

/**
 * Vouchsafe has no campaigns, so no activity relates to one: asking for a campaign's activities
 * answers an empty page rather than ignoring the filter.
 */
const toQuery = (q: z.infer<z.ZodObject<typeof common>>) => ({
  limit: q.limit ?? 10,
  order: q.order ?? ('-created_at' as const),
  startingAfterId: q.starting_after_id,
  startDate: q.start_date,
  endDate: q.end_date,
  campaignFilter: q.campaign_id !== undefined || q.campaign_type !== undefined,
});

/** GET /v1/customers/{id}/activity (OA list-customer-activity parameters). */
export const activityQuerySchema = z
  .object({
    ...common,
    type: activityType.optional(),
    // OA ParameterActivityCategory. Which activity is an ACTION and which an EFFECT is not defined
    // anywhere Vouchsafe could follow, so the filter is refused rather than guessed or ignored.
    category: z.never({ message: 'filtering by category (ACTION, EFFECT) is not supported' }).optional(),
  })
  .transform((q) => ({ ...toQuery(q), type: q.type }));

/** GET /v1/customers/{id}/activities, deprecated (OA24 list-customer-activities parameters). */
export const activitiesQuerySchema = z
  .object({ ...common, starting_after: isoDateParam.optional(), product_id: z.string().max(64).optional() })
  .transform((q) => ({
    ...toQuery(q),
    startingAfter: q.starting_after,
    campaignFilter: toQuery(q).campaignFilter || q.product_id !== undefined,
  }));

export type ActivityQueryInput = z.output<typeof activityQuerySchema>;
export type ActivitiesQueryInput = z.output<typeof activitiesQuerySchema>;
