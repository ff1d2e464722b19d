import { z } from 'zod';
import { intParam } from './common';
import { metadataSchema } from './customers';

/** The documented cap of a static segment. */
export const MAX_STATIC_SEGMENT_CUSTOMERS = 20_000;
/** The documented cap of filter-based (auto-update plus passive) segments. */
export const MAX_FILTER_SEGMENTS = 100;

export const segmentCreateSchema = z
  .object({
    name: z.string().min(1, 'must not be empty').max(200),
    type: z.enum(['static', 'auto-update', 'passive']).optional(),
    filter: z.record(z.string(), z.unknown()).nullable().optional(),
    customers: z
      .array(z.string().min(1).max(255))
      .max(MAX_STATIC_SEGMENT_CUSTOMERS, `a static segment holds at most ${MAX_STATIC_SEGMENT_CUSTOMERS} customers`)
      .nullable()
      .optional(),
    metadata: metadataSchema.nullable().optional(),
  })
  // Voucherify's own example creates a filter segment without `type`; it is then auto-update.
  .transform((s) => ({ ...s, type: s.type ?? (s.customers ? 'static' : 'auto-update') }))
  .superRefine((s, ctx) => {
    if (s.type === 'static') {
      if (!s.customers || s.customers.length === 0) {
        ctx.addIssue({ code: 'custom', path: ['customers'], message: 'a static segment needs at least one customer' });
      }
      if (s.filter) ctx.addIssue({ code: 'custom', path: ['filter'], message: 'a static segment has no filter' });
    } else {
      if (!s.filter) ctx.addIssue({ code: 'custom', path: ['filter'], message: `a ${s.type} segment needs a filter` });
      if (s.customers) ctx.addIssue({ code: 'custom', path: ['customers'], message: `a ${s.type} segment takes no customer list` });
    }
  });

export type SegmentCreate = z.output<typeof segmentCreateSchema>;

export const segmentListQuerySchema = z
  .object({ limit: intParam(1, 100).optional(), page: intParam(1, 99).optional() })
  .transform((q) => ({ limit: q.limit ?? 10, page: q.page ?? 1 }));

/** The sample a preview returns at most (POST /v1/segments/preview `limit`). */
export const MAX_PREVIEW_SAMPLE = 100;

/** POST /v1/segments/preview (our addition): a filter in the grammar of POST /v1/segments, checked by parseSegmentFilter. */
export const segmentPreviewSchema = z
  .object({
    filter: z.record(z.string(), z.unknown()),
    against: z.string().min(1).max(255).optional(),
    limit: z.number().int().min(0).max(MAX_PREVIEW_SAMPLE).optional(),
  })
  .transform((p) => ({ ...p, limit: p.limit ?? 10 }));

export type SegmentPreviewInput = z.output<typeof segmentPreviewSchema>;

/**
 * PUT /v1/segments/{id} (our addition): a new name for any segment, a new filter for a passive one.
 * `type` may be sent back as it is (a client PUTting the object it read) but never changes.
 */
export const segmentUpdateSchema = z
  .object({
    name: z.string().min(1, 'must not be empty').max(200).optional(),
    filter: z.record(z.string(), z.unknown()).nullable().optional(),
    type: z.enum(['static', 'auto-update', 'passive']).optional(),
  })
  .superRefine((s, ctx) => {
    if (s.name === undefined && s.filter === undefined) {
      ctx.addIssue({ code: 'custom', path: ['name'], message: 'give a new name or filter' });
    }
  });

export type SegmentUpdate = z.output<typeof segmentUpdateSchema>;

/** The longest size history GET /v1/segments/{id}/sizes serves, in days (the cron keeps that long). */
export const MAX_SIZE_HISTORY_DAYS = 365;

export const segmentSizesQuerySchema = z
  .object({ days: intParam(1, MAX_SIZE_HISTORY_DAYS).optional() })
  .transform((q) => ({ days: q.days ?? 30 }));
const subjectRef = z.string().min(1, 'must not be empty').max(255);

/** POST /v1/segments/{id}/explain: whom to explain, a customer (id or source_id) or a tracking id, never both. */
export const segmentExplainSchema = z
  .strictObject({ customer: subjectRef.optional(), tracking_id: subjectRef.optional() })
  .superRefine((body, ctx) => {
    if (body.customer === undefined && body.tracking_id === undefined) {
      ctx.addIssue({ code: 'custom', path: ['customer'], message: 'give customer (an id or source_id) or tracking_id' });
    } else if (body.customer !== undefined && body.tracking_id !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['tracking_id'], message: 'give customer or tracking_id, not both' });
    }
  })
  .transform((body) => (body.customer !== undefined ? { customer: body.customer } : { tracking_id: body.tracking_id as string }));
