import { z } from 'zod';
import { WEBHOOK_EVENT_TYPES, WEBHOOK_FORMATS } from '../../../shared/webhook-events';
import { intParam } from './common';

const url = z.string().min(1, 'must not be empty').max(2048, 'must be at most 2048 characters');
const events = z
  .array(z.enum(WEBHOOK_EVENT_TYPES, { error: `must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}` }))
  .min(1, 'name at least one event type')
  // A subscription is a set: the same type twice is the same subscription.
  .transform((types) => [...new Set(types)]);
const description = z.string().max(500, 'must be at most 500 characters').nullable();
/** 'standard' (Standard Webhooks, the default) or 'voucherify' (Voucherify's envelope and x-voucherify-signature). */
const format = z.enum(WEBHOOK_FORMATS, { error: `must be one of ${WEBHOOK_FORMATS.join(', ')}` });

export const webhookCreateSchema = z.object({ url, events, description: description.optional(), format: format.optional() }).strict();
export type WebhookCreate = z.output<typeof webhookCreateSchema>;

/** Partial: what is absent stays. `enabled: true` on a disabled webhook clears disabled_reason and failing_since. */
export const webhookUpdateSchema = z
  .object({
    url: url.optional(),
    events: events.optional(),
    description: description.optional(),
    enabled: z.boolean().optional(),
    format: format.optional(),
  })
  .strict();
export type WebhookUpdate = z.output<typeof webhookUpdateSchema>;

export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'failed', 'delivered', 'dead'] as const;

export const deliveryListQuerySchema = z
  .object({
    limit: intParam(1, 100).optional(),
    status: z.enum(WEBHOOK_DELIVERY_STATUSES, { error: `must be one of ${WEBHOOK_DELIVERY_STATUSES.join(', ')}` }).optional(),
    starting_after: z.string().min(1).max(64).optional(),
  })
  .strict()
  .transform((q) => ({ limit: q.limit ?? 10, status: q.status, startingAfter: q.starting_after }));
export type DeliveryListQuery = z.output<typeof deliveryListQuerySchema>;
