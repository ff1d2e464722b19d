/**
 * @module The webhook event types, one catalogue: what an endpoint may subscribe to (POST
 * /v1/webhooks `events`), what the outbox's `type` holds, and what the payload builder shapes.
 * Voucherify's names where Voucherify has the event (OpenAPIWebhooks.json `webhooks`, e.g.
 * EVENTS.CUSTOMER.SEGMENT.ENTERED; validation rules are `business_validation_rule.*`, the `type`
 * project-settings-webhooks.mdx lists for EVENTS.BUS_VAL_RULE.*); async_action.done is Vouchsafe's own.
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
  'redemption.rollback.failed',
  'voucher.created',
  'voucher.updated',
  'voucher.deleted',
  'voucher.enabled',
  'voucher.disabled',
  'voucher.published',
  'publication.succeeded',
  'campaign.created',
  'campaign.updated',
  'campaign.enabled',
  'campaign.disabled',
  'campaign.deleted',
  'business_validation_rule.created',
  'business_validation_rule.updated',
  'business_validation_rule.deleted',
  'async_action.done',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const isWebhookEventType = (value: string): value is WebhookEventType => (WEBHOOK_EVENT_TYPES as readonly string[]).includes(value);

/** How an endpoint's deliveries are shaped and signed (docs/webhooks.md "Two formats"). */
export const WEBHOOK_FORMATS = ['standard', 'voucherify'] as const;

export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];
