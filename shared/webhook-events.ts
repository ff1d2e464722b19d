/**
 * The one catalogue of webhook event types: what an endpoint may subscribe to (POST /v1/webhooks
 * `events`), what the outbox triggers write (webhook_outbox.type) and what the payloads are built
 * for (worker/src/services/webhook-payloads.ts). The names are Voucherify's where it has the event
 * (its project-settings webhooks, /work/spec/project-settings-webhooks.mdx).
 */
export const WEBHOOK_EVENT_TYPES = [
  'customer.segment.entered',
  'customer.segment.left',
  'customer.created',
  'customer.updated',
  'customer.deleted',
  'redemption.succeeded',
  'redemption.failed',
  'redemption.rollback.succeeded',
  'voucher.created',
  'voucher.updated',
  'voucher.deleted',
  'async_action.done',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const isWebhookEventType = (value: string): value is WebhookEventType => (WEBHOOK_EVENT_TYPES as readonly string[]).includes(value);
