import type { DeliveryRow, EndpointRow } from '../db/webhooks';
import { maskSecret } from '../lib/standard-webhooks';
import { toIso } from '../lib/time';

// The webhook endpoint and delivery objects (our addition to Voucherify's API), built from their rows.

export interface WebhookView {
  id: string;
  object: 'webhook';
  url: string;
  events: string[];
  /** How deliveries are shaped and signed: 'standard' (Standard Webhooks) or 'voucherify'. */
  format: EndpointRow['format'];
  description: string | null;
  enabled: boolean;
  /** Why Vouchsafe disabled it (failing for 24 h, or 410 Gone); null when enabled or disabled by an operator. */
  disabled_reason: string | null;
  /** The first failed attempt since the last success; null when the last attempt succeeded. */
  failing_since: string | null;
  /** The secret in full: only in the answers to create and rotate. */
  secret?: string;
  secret_masked: string;
  /** Until when the secret before the last rotation still signs deliveries beside the current one. */
  previous_secret_expires_at: string | null;
  created_at: string;
  updated_at: string | null;
}

export interface DeliveryView {
  id: string;
  object: 'webhook_delivery';
  webhook_id: string;
  /** The event delivered; its id is the `webhook-id` header of every attempt. */
  event: { id: string; type: string };
  status: DeliveryRow['status'];
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  last_attempt_at: string | null;
  next_attempt_at: string | null;
  delivered_at: string | null;
  created_at: string;
}

const isoOrNull = (ms: number | null): string | null => (ms === null ? null : toIso(ms));

export function toView(row: EndpointRow, now: number, withSecret = false): WebhookView {
  const previousValid = row.previous_secret !== null && row.previous_secret_expires_at !== null && row.previous_secret_expires_at > now;
  return {
    id: row.id,
    object: 'webhook',
    url: row.url,
    events: JSON.parse(row.events) as string[],
    format: row.format,
    description: row.description,
    enabled: row.enabled === 1,
    disabled_reason: row.disabled_reason,
    failing_since: isoOrNull(row.failing_since),
    ...(withSecret ? { secret: row.secret } : {}),
    secret_masked: maskSecret(row.secret),
    previous_secret_expires_at: previousValid ? isoOrNull(row.previous_secret_expires_at) : null,
    created_at: toIso(row.created_at),
    updated_at: isoOrNull(row.updated_at),
  };
}

export function toDeliveryView(row: DeliveryRow): DeliveryView {
  return {
    id: row.id,
    object: 'webhook_delivery',
    webhook_id: row.endpoint_id,
    event: { id: row.event_id, type: row.event_type },
    status: row.status,
    attempts: row.attempts,
    last_status_code: row.last_status_code,
    last_error: row.last_error,
    last_attempt_at: isoOrNull(row.last_attempt_at),
    next_attempt_at: isoOrNull(row.next_attempt_at),
    delivered_at: isoOrNull(row.delivered_at),
    created_at: toIso(row.created_at),
  };
}

/** GET /v1/webhooks. */
export const webhookListView = (webhooks: WebhookView[]) => ({
  object: 'list' as const,
  data_ref: 'webhooks' as const,
  webhooks,
  total: webhooks.length,
});

/** GET /v1/webhooks/{id}/deliveries. */
export const deliveryListView = (deliveries: DeliveryView[], hasMore: boolean) => ({
  object: 'list' as const,
  data_ref: 'deliveries' as const,
  deliveries,
  has_more: hasMore,
});
