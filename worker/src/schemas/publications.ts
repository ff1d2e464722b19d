import { z } from 'zod';
import { intParam, stringFilters } from './common';
import { customerCreateSchema, metadataSchema } from './customers';
import { strictObject } from './vouchers';

/**
 * POST /v1/publications (OA PublicationsCreateRequestBody, readOnly-openAPI.json:L23028: a campaign
 * `{name, count}` or a `voucher` code, a `customer`, `source_id`, `metadata`, `channel`). join_once
 * is a query parameter in the spec (OA /v1/publications post parameters) and a body field in the
 * official SDK (Distributions.d.ts DistributionsPublicationsCreateParams.join_once): both are read.
 */
export const publicationCreateSchema = strictObject({
  campaign: z
    .union([
      z
        .string()
        .min(1)
        .max(200)
        .transform((name) => ({ name, count: 1 })),
      strictObject({
        name: z.string().min(1).max(200),
        count: z.literal(1, { error: 'not supported: more than one code per publication' }).optional(),
      }),
    ])
    .optional(),
  voucher: z.string().min(1).max(200).optional(),
  customer: customerCreateSchema,
  source_id: z.string().min(1).max(255).nullable().optional(),
  metadata: metadataSchema.nullable().optional(),
  channel: z.string().min(1).max(100).nullable().optional(),
  join_once: z.boolean().optional(),
}).superRefine((body, ctx) => {
  if ((body.campaign === undefined) === (body.voucher === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['campaign'], message: 'give a campaign or a voucher (one of them)' });
  }
});
export type PublicationCreate = z.output<typeof publicationCreateSchema>;

export const publicationCreateQuerySchema = strictObject({
  join_once: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
});

/**
 * POST /v1/publications/segment (ours; the spec has no segment-wide publication): the campaign (id
 * or name, or `{name}` as POST /v1/publications takes it), the segment's id, and join_once (the
 * campaign's own join_once holds either way).
 */
export const distributionCreateSchema = strictObject({
  campaign: z.union([z.string().min(1).max(200), strictObject({ name: z.string().min(1).max(200) }).transform((c) => c.name)]),
  segment: z.union([z.string().min(1).max(64), strictObject({ id: z.string().min(1).max(64) }).transform((s) => s.id)]),
  join_once: z.boolean().optional(),
});
export type DistributionCreate = z.output<typeof distributionCreateSchema>;

/** OA GET /v1/publications `order` (readOnly-openAPI.json:L42716 parameters): six fields, each either way. */
export const PUBLICATION_LIST_ORDERS = [
  'id',
  '-id',
  'voucher_code',
  '-voucher_code',
  'tracking_id',
  '-tracking_id',
  'customer_id',
  '-customer_id',
  'created_at',
  '-created_at',
  'channel',
  '-channel',
] as const;

/** OA GET /v1/publications `filters` (readOnly-openAPI.json:L42716 parameters): its fields, each FilterConditionsString. */
export const PUBLICATION_FILTER_FIELDS = [
  'failure_code',
  'result',
  'customer_id',
  'campaign_name',
  'voucher_type',
  'is_referral_code',
  'parent_object_id',
  'related_object_id',
  'source_id',
] as const;
export type PublicationFilterField = (typeof PUBLICATION_FILTER_FIELDS)[number];

const publicationFilters = stringFilters(PUBLICATION_FILTER_FIELDS);

/**
 * GET /v1/publications (OA parameters, readOnly-openAPI.json:L42716: limit, page, order, campaign,
 * customer, voucher, result, voucher_type, is_referral_code, filters, source_id). Every code here
 * is a discount code and none is a referral code, so `voucher_type=loyalty` and
 * `is_referral_code=true` match nothing rather than being refused.
 */
export const publicationListQuerySchema = strictObject({
  limit: intParam(1, 100).optional(),
  page: intParam(1, 1000).optional(),
  order: z.enum(PUBLICATION_LIST_ORDERS).optional(),
  campaign: z.string().min(1).max(200).optional(),
  customer: z.string().min(1).max(255).optional(),
  voucher: z.string().min(1).max(200).optional(),
  result: z.enum(['SUCCESS', 'FAILURE']).optional(),
  source_id: z.string().min(1).max(255).optional(),
  // The spec's enum is lower-case (discount, loyalty); the SDK's type says DISCOUNT (Distributions.d.ts).
  voucher_type: z
    .string()
    .transform((t) => t.toLowerCase())
    .pipe(z.enum(['discount', 'loyalty'], { message: 'must be discount or loyalty' }))
    .optional(),
  is_referral_code: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
  filters: publicationFilters.optional(),
}).transform((q) => ({
  limit: q.limit ?? 10,
  page: q.page ?? 1,
  order: q.order ?? '-created_at',
  campaign: q.campaign,
  customer: q.customer,
  voucher: q.voucher,
  result: q.result,
  sourceId: q.source_id,
  // No loyalty cards and no referral codes are ever published here.
  matchesNone: q.voucher_type === 'loyalty' || q.is_referral_code === 'true',
  filters: q.filters,
}));
export type PublicationListQuery = z.output<typeof publicationListQuerySchema>;
