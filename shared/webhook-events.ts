/**
 * @module The webhook event types, one catalogue: what an endpoint may subscribe to (POST
 * /v1/webhooks `events`), what the outbox's `type` holds, and what the payload builder shapes.
 * Voucherify's names where Voucherify has the event (OpenAPIWebhooks.json `webhooks`, e.g.
 * EVENTS.CUSTOMER.SEGMENT.ENTERED); async_action.done is Vouchsafe's own.
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
