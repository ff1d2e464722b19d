import * as webhooksDb from '../db/webhooks';
import type { DeliveryRow, EndpointRow } from '../db/webhooks';
import type { Env } from '../env';
import { apiError, invalidPayload, invalidQueryParams, notFound } from '../errors';
import { classifyHost } from '../lib/hosts';
import { randomId } from '../lib/ids';
import { maskSecret, newWebhookSecret } from '../lib/standard-webhooks';
import { toIso } from '../lib/time';
import { sendWebhookMessages, type WebhookQueue } from '../queue/webhook-messages';
import type { DeliveryListQuery, WebhookCreate, WebhookUpdate } from '../schemas/webhooks';
import { noteEndpointsChanged } from './webhook-wake';

// Webhook endpoints (our addition to Voucherify's API: it configures webhooks in its dashboard):
// POST/GET/PUT/DELETE /v1/webhooks, secret rotation, and each endpoint's delivery log.

/** Endpoints a project may have: each event is delivered to every subscribed one. */
export const MAX_WEBHOOK_ENDPOINTS = 50;
/** How long a rotated-out secret keeps signing deliveries beside the new one. */
export const PREVIOUS_SECRET_VALID_MS = 24 * 3600_000;

export interface WebhookView {
  id: string;
  object: 'webhook';
  url: string;
  events: string[];
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

function toView(row: EndpointRow, now: number, withSecret = false): WebhookView {
  const previousValid = row.previous_secret !== null && row.previous_secret_expires_at !== null && row.previous_secret_expires_at > now;
  return {
    id: row.id,
    object: 'webhook',
    url: row.url,
    events: JSON.parse(row.events) as string[],
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

function toDeliveryView(row: DeliveryRow): DeliveryView {
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

/**
 * Why a URL cannot receive webhooks, or null when it can: https to a public host (lib/hosts.ts: no
 * loopback, private, link-local, CGNAT or unique-local address in any of its spellings, no
 * localhost, no metadata name); no credentials in it (they would show in every list). The one
 * exception, for local development and tests: with DEMO=on or WEBHOOK_ALLOW_HTTP_LOOPBACK=on, a
 * loopback IP literal (127.0.0.0/8, [::1]), over http or https. Checked on create and update, and
 * again before each attempt, so an endpoint stored before a rule tightened is not called either.
 */
export function webhookUrlProblem(raw: string, env: Partial<Pick<Env, 'DEMO' | 'WEBHOOK_ALLOW_HTTP_LOOPBACK'>>): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute URL (https://…)';
  }
  if (url.username || url.password) return 'must not carry credentials (user:password@)';
  const loopbackAllowed = env.DEMO === 'on' || env.WEBHOOK_ALLOW_HTTP_LOOPBACK === 'on';
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return loopbackAllowed ? 'must be https (http only to a loopback address: 127.0.0.1 or [::1])' : 'must be https';
  const host = classifyHost(url);
  if (host.kind === 'loopback' && loopbackAllowed) return null;
  if (url.protocol === 'http:') return loopbackAllowed ? 'must be https (http only to a loopback address: 127.0.0.1 or [::1])' : 'must be https';
  if (host.kind !== 'public') return `must name a public host: ${url.hostname} is ${host.what}`;
  return null;
}

function checkUrl(url: string, env: Partial<Env>): void {
  const problem = webhookUrlProblem(url, env);
  if (problem) throw invalidPayload(`url: ${problem}`);
}

async function existing(db: D1Database, id: string): Promise<EndpointRow> {
  const row = await webhooksDb.findEndpoint(db, id);
  if (!row) throw notFound('webhook', id);
  return row;
}

export async function createWebhook(env: Env, input: WebhookCreate, now = Date.now()): Promise<WebhookView> {
  checkUrl(input.url, env);
  if ((await webhooksDb.countEndpoints(env.DB)) >= MAX_WEBHOOK_ENDPOINTS) {
    throw apiError('limit_exceeded', `A project has at most ${MAX_WEBHOOK_ENDPOINTS} webhooks; delete one first.`);
  }
  const row: EndpointRow = {
    id: randomId('wh_'),
    url: input.url,
    description: input.description ?? null,
    events: JSON.stringify(input.events),
    secret: newWebhookSecret(),
    previous_secret: null,
    previous_secret_expires_at: null,
    enabled: 1,
    disabled_reason: null,
    failing_since: null,
    created_at: now,
    updated_at: null,
  };
  await webhooksDb.insertEndpoint(env.DB, row).run();
  noteEndpointsChanged(true);
  return toView(row, now, true);
}

export async function listWebhooks(db: D1Database, now = Date.now()): Promise<{ object: 'list'; data_ref: 'webhooks'; webhooks: WebhookView[]; total: number }> {
  const rows = await webhooksDb.listEndpoints(db);
  return { object: 'list', data_ref: 'webhooks', webhooks: rows.map((r) => toView(r, now)), total: rows.length };
}

export async function getWebhook(db: D1Database, id: string, now = Date.now()): Promise<WebhookView> {
  return toView(await existing(db, id), now);
}

export async function updateWebhook(env: Env, id: string, input: WebhookUpdate, now = Date.now()): Promise<WebhookView> {
  const row = await existing(env.DB, id);
  if (input.url !== undefined) checkUrl(input.url, env);
  const enabled = input.enabled ?? row.enabled === 1;
  // Re-enabling starts afresh: the reason it was disabled and its failing streak are history.
  const reenabled = enabled && row.enabled !== 1;
  const updated = await webhooksDb
    .updateEndpoint(env.DB, id, {
      url: input.url ?? row.url,
      description: input.description === undefined ? row.description : input.description,
      events: input.events ? JSON.stringify(input.events) : row.events,
      enabled: enabled ? 1 : 0,
      disabled_reason: enabled ? null : row.disabled_reason,
      failing_since: reenabled ? null : row.failing_since,
      updated_at: now,
    })
    .first<EndpointRow>();
  if (!updated) throw notFound('webhook', id);
  if (enabled) noteEndpointsChanged(true);
  else noteEndpointsChanged();
  return toView(updated, now);
}

export async function deleteWebhook(db: D1Database, id: string): Promise<void> {
  await existing(db, id);
  await db.batch(webhooksDb.deleteEndpoint(db, id));
  noteEndpointsChanged();
}

/** A new secret; the one it replaces keeps signing, beside it, for PREVIOUS_SECRET_VALID_MS. */
export async function rotateWebhookSecret(db: D1Database, id: string, now = Date.now()): Promise<WebhookView> {
  await existing(db, id);
  const row = await webhooksDb.rotateEndpointSecret(db, id, newWebhookSecret(), now + PREVIOUS_SECRET_VALID_MS, now).first<EndpointRow>();
  if (!row) throw notFound('webhook', id);
  return toView(row, now, true);
}

export async function listDeliveries(
  db: D1Database,
  id: string,
  query: DeliveryListQuery,
): Promise<{ object: 'list'; data_ref: 'deliveries'; deliveries: DeliveryView[]; has_more: boolean }> {
  await existing(db, id);
  let startingAfter: { created_at: number; id: string } | undefined;
  if (query.startingAfter) {
    const after = await webhooksDb.findDelivery(db, id, query.startingAfter);
    if (!after) throw invalidQueryParams(`starting_after: no delivery ${query.startingAfter} of webhook ${id}`);
    startingAfter = { created_at: after.created_at, id: after.id };
  }
  const { rows, hasMore } = await webhooksDb.listDeliveries(db, id, { limit: query.limit, status: query.status, startingAfter });
  return { object: 'list', data_ref: 'deliveries', deliveries: rows.map(toDeliveryView), has_more: hasMore };
}

/**
 * A dead or failed delivery is attempted again now, with the same `webhook-id`. A failure then
 * continues the schedule where the delivery stood (a dead one is dead again at once).
 */
export async function retryDelivery(env: Pick<Env, 'DB'>, queue: WebhookQueue, id: string, deliveryId: string, now = Date.now()): Promise<DeliveryView> {
  const endpoint = await existing(env.DB, id);
  if (endpoint.enabled !== 1) throw apiError('webhook_disabled', `Webhook ${id} is disabled; enable it (PUT /v1/webhooks/${id} {"enabled": true}) before retrying its deliveries.`);
  const row = await webhooksDb.retryDelivery(env.DB, id, deliveryId, now);
  if (!row) {
    const delivery = await webhooksDb.findDelivery(env.DB, id, deliveryId);
    if (!delivery) throw notFound('webhook_delivery', deliveryId);
    throw apiError('delivery_not_retryable', `Delivery ${deliveryId} is ${delivery.status}: only a dead or failed delivery is retried.`);
  }
  await sendWebhookMessages(queue, [{ body: { kind: 'attempt', delivery_id: row.id, attempts: row.attempts } }]);
  return toDeliveryView(row);
}
