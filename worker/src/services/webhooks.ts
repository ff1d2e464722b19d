import * as webhooksDb from '../db/webhooks';
import type { EndpointRow } from '../db/webhooks';
import type { Env } from '../env';
import { apiError, invalidPayload, invalidQueryParams, notFound } from '../errors';
import { classifyHost } from '../lib/hosts';
import { randomId } from '../lib/ids';
import { newWebhookSecret } from '../lib/standard-webhooks';
import { sendWebhookMessages, type WebhookQueue } from '../queue/webhook-messages';
import type { DeliveryListQuery, WebhookCreate, WebhookUpdate } from '../schemas/webhooks';
import { deliveryListView, type DeliveryView, toDeliveryView, toView, webhookListView, type WebhookView } from '../views/webhook';
import { noteEndpointsChanged } from './webhook-wake';

// Webhook endpoints (our addition to Voucherify's API: it configures webhooks in its dashboard):
// POST/GET/PUT/DELETE /v1/webhooks, secret rotation, and each endpoint's delivery log.

/** Endpoints a project may have: each event is delivered to every subscribed one. */
export const MAX_WEBHOOK_ENDPOINTS = 50;
/** How long a rotated-out secret keeps signing deliveries beside the new one. */
export const PREVIOUS_SECRET_VALID_MS = 24 * 3600_000;

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
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return loopbackAllowed ? 'must be https (http only to a loopback address: 127.0.0.1 or [::1])' : 'must be https';
  const host = classifyHost(url);
  if (host.kind === 'loopback' && loopbackAllowed) return null;
  if (url.protocol === 'http:')
    return loopbackAllowed ? 'must be https (http only to a loopback address: 127.0.0.1 or [::1])' : 'must be https';
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
    format: input.format ?? 'standard',
  };
  await webhooksDb.insertEndpoint(env.DB, row).run();
  noteEndpointsChanged(true);
  return toView(row, now, true);
}

export async function listWebhooks(
  db: D1Database,
  now = Date.now(),
): Promise<{ object: 'list'; data_ref: 'webhooks'; webhooks: WebhookView[]; total: number }> {
  const rows = await webhooksDb.listEndpoints(db);
  return webhookListView(rows.map((r) => toView(r, now)));
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
      format: input.format ?? row.format,
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
  return deliveryListView(rows.map(toDeliveryView), hasMore);
}

/**
 * A dead or failed delivery is attempted again now, with the same `webhook-id`. A failure then
 * continues the schedule where the delivery stood (a dead one is dead again at once).
 */
export async function retryDelivery(
  env: Pick<Env, 'DB'>,
  queue: WebhookQueue,
  id: string,
  deliveryId: string,
  now = Date.now(),
): Promise<DeliveryView> {
  const endpoint = await existing(env.DB, id);
  if (endpoint.enabled !== 1)
    throw apiError(
      'webhook_disabled',
      `Webhook ${id} is disabled; enable it (PUT /v1/webhooks/${id} {"enabled": true}) before retrying its deliveries.`,
    );
  const row = await webhooksDb.retryDelivery(env.DB, id, deliveryId, now);
  if (!row) {
    const delivery = await webhooksDb.findDelivery(env.DB, id, deliveryId);
    if (!delivery) throw notFound('webhook_delivery', deliveryId);
    throw apiError('delivery_not_retryable', `Delivery ${deliveryId} is ${delivery.status}: only a dead or failed delivery is retried.`);
  }
  await sendWebhookMessages(queue, [{ body: { kind: 'attempt', delivery_id: row.id, attempts: row.attempts } }]);
  return toDeliveryView(row);
}
