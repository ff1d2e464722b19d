import { z } from 'zod';
import { intParam } from './common';
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

/** GET /v1/publications (OA parameters: limit, page, order, campaign, customer, voucher, result, source_id). */
export const publicationListQuerySchema = strictObject({
  limit: intParam(1, 100).optional(),
  page: intParam(1, 1000).optional(),
  order: z.enum(['created_at', '-created_at']).optional(),
  campaign: z.string().min(1).max(200).optional(),
  customer: z.string().min(1).max(255).optional(),
  voucher: z.string().min(1).max(200).optional(),
  result: z.enum(['SUCCESS', 'FAILURE']).optional(),
  source_id: z.string().min(1).max(255).optional(),
  voucher_type: z.literal('DISCOUNT', { error: 'only DISCOUNT vouchers exist here' }).optional(),
  is_referral_code: z.literal('false', { error: 'no referral codes exist here' }).optional(),
  filters: z.never({ error: 'not supported: advanced filters' }).optional(),
}).transform((q) => ({
  limit: q.limit ?? 10,
  page: q.page ?? 1,
  order: q.order ?? '-created_at',
  campaign: q.campaign,
  customer: q.customer,
  voucher: q.voucher,
  result: q.result,
  sourceId: q.source_id,
}));
export type PublicationListQuery = z.output<typeof publicationListQuerySchema>;
