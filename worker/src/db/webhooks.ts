// Webhooks: the outbox (migration 0020, filled by triggers), the endpoints (0020) and the
// deliveries (0021). Every statement the delivery engine runs on them is here.

import { prepare, sql } from './sql';

import type { WebhookFormat } from '../../../shared/webhook-events';
import type { OutboxRow } from './webhook-outbox';

/** A row of webhook_outbox: one event, written by a trigger in the same transaction as its write (db/webhook-outbox.ts). */
export type { OutboxRow };

export interface EndpointRow {
  id: string;
  url: string;
  description: string | null;
  /** JSON array of event types. */
  events: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: number | null;
  enabled: number;
  disabled_reason: string | null;
  failing_since: number | null;
  created_at: number;
  updated_at: number | null;
  /** How its deliveries are shaped and signed (migration 0034). */
  format: WebhookFormat;
}

export type DeliveryStatus = 'pending' | 'failed' | 'delivered' | 'dead';

export interface DeliveryRow {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  status: DeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  last_attempt_at: number | null;
  next_attempt_at: number | null;
  delivered_at: number | null;
  created_at: number;
}

// ---- outbox ----------------------------------------------------------------------------------

/**
 * An event written directly, not by a trigger: the tests' way to fill the outbox (the triggers of
 * migration 0022 are the writes' way). `id` defaults to a fresh evt_ id, made as the triggers do.
 */
export function insertOutboxEvent(
  db: D1Database,
  event: { id?: string; type: string; object_id?: string | null; snapshot?: unknown; created_at: number },
): D1PreparedStatement {
  return prepare(
    db,
    sql`INSERT INTO webhook_outbox (id, type, object_id, snapshot, created_at)
       VALUES (COALESCE(${event.id ?? null}, 'evt_' || lower(hex(randomblob(12)))), ${event.type}, ${event.object_id ?? null}, ${event.snapshot === undefined ? null : JSON.stringify(event.snapshot)}, ${event.created_at}) RETURNING *`,
  );
}

// ---- endpoints -------------------------------------------------------------------------------

export function insertEndpoint(db: D1Database, row: EndpointRow): D1PreparedStatement {
  return prepare(
    db,
    sql`INSERT INTO webhook_endpoints (id, url, description, events, secret, previous_secret, previous_secret_expires_at,
         enabled, disabled_reason, failing_since, created_at, updated_at, format)
       VALUES (${row.id}, ${row.url}, ${row.description}, ${row.events}, ${row.secret}, ${row.previous_secret}, ${row.previous_secret_expires_at}, ${row.enabled}, ${row.disabled_reason}, ${row.failing_since}, ${row.created_at}, ${row.updated_at}, ${row.format})`,
  );
}

export function findEndpoint(db: D1Database, id: string): Promise<EndpointRow | null> {
  return db.prepare('SELECT * FROM webhook_endpoints WHERE id = ?').bind(id).first<EndpointRow>();
}

export async function listEndpoints(db: D1Database): Promise<EndpointRow[]> {
  const { results } = await db.prepare('SELECT * FROM webhook_endpoints ORDER BY created_at, id').all<EndpointRow>();
  return results;
}

export async function countEndpoints(db: D1Database): Promise<number> {
  return (await db.prepare('SELECT count(*) AS n FROM webhook_endpoints').first<number>('n')) ?? 0;
}

/** Whether any endpoint receives events: what the dispatcher's wake-ups ask first. */
export async function anyEnabledEndpoint(db: D1Database): Promise<boolean> {
  return ((await db.prepare('SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled = 1) AS on_').first<number>('on_')) ?? 0) === 1;
}

/** The operator's change: the whole mutable state, as the service computed it. */
export function updateEndpoint(
  db: D1Database,
  id: string,
  change: Pick<EndpointRow, 'url' | 'description' | 'events' | 'enabled' | 'disabled_reason' | 'failing_since' | 'updated_at' | 'format'>,
): D1PreparedStatement {
  return prepare(
    db,
    sql`UPDATE webhook_endpoints SET url = ${change.url}, description = ${change.description}, events = ${change.events}, enabled = ${change.enabled}, disabled_reason = ${change.disabled_reason}, failing_since = ${change.failing_since}, updated_at = ${change.updated_at}, format = ${change.format}
       WHERE id = ${id} RETURNING *`,
  );
}

/** The current secret becomes the previous one (valid until `previousExpiresAt`); an older previous one is dropped. */
export function rotateEndpointSecret(
  db: D1Database,
  id: string,
  secret: string,
  previousExpiresAt: number,
  now: number,
): D1PreparedStatement {
  return prepare(
    db,
    sql`UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_expires_at = ${previousExpiresAt}, secret = ${secret}, updated_at = ${now}
       WHERE id = ${id} RETURNING *`,
  );
}

/** The endpoint and its delivery log, in one batch. */
export function deleteEndpoint(db: D1Database, id: string): D1PreparedStatement[] {
  return [
    db.prepare('DELETE FROM webhook_deliveries WHERE endpoint_id = ?').bind(id),
    db.prepare('DELETE FROM webhook_endpoints WHERE id = ?').bind(id),
  ];
}

// ---- dispatch --------------------------------------------------------------------------------

/**
 * The dispatcher's one batch (one transaction): a delivery row per (pending event, enabled endpoint
 * subscribed to its type), then the same events claimed. D1 runs a batch as one transaction and
 * one at a time, so both statements see the same first `limit` unclaimed events and no other
 * dispatcher can claim them in between; the UNIQUE (endpoint_id, event_id) makes a delivery
 * twice impossible even so. Results: [the new deliveries' ids, the claimed events' seqs].
 */
export function dispatchStatements(db: D1Database, limit: number, now: number): [D1PreparedStatement, D1PreparedStatement] {
  return [
    prepare(
      db,
      sql`INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, status, attempts, next_attempt_at, created_at)
         SELECT 'whd_' || lower(hex(randomblob(12))), e.id, o.id, o.type, 'pending', 0, ${now}, ${now}
         FROM (SELECT seq, id, type FROM webhook_outbox WHERE dispatched_at IS NULL ORDER BY seq LIMIT ${limit}) AS o
         JOIN webhook_endpoints AS e ON e.enabled = 1 AND EXISTS (SELECT 1 FROM json_each(e.events) WHERE value = o.type)
         WHERE true
         ORDER BY o.seq
         ON CONFLICT (endpoint_id, event_id) DO NOTHING
         RETURNING id`,
    ),
    prepare(
      db,
      sql`UPDATE webhook_outbox SET dispatched_at = ${now}
         WHERE seq IN (SELECT seq FROM webhook_outbox WHERE dispatched_at IS NULL ORDER BY seq LIMIT ${limit})
         RETURNING seq`,
    ),
  ];
}

// ---- attempts --------------------------------------------------------------------------------

/** What an attempt needs: the delivery, its endpoint's url, secrets and format, and its event. */
export interface AttemptRow {
  id: string;
  endpoint_id: string;
  format: WebhookFormat;
  status: DeliveryStatus;
  attempts: number;
  last_attempt_at: number | null;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: number | null;
  enabled: number;
  /** The outbox row's columns, prefixed: null when the event is gone (past the log's retention). */
  event_seq: number | null;
  event_id: string;
  event_type: string;
  event_object_id: string | null;
  event_snapshot: string | null;
  event_created_at: number | null;
  event_dispatched_at: number | null;
}

/** A queue message's claim: the delivery, and how many attempts it had when the message was sent. */
export type AttemptClaim = [deliveryId: string, attempts: number];

/**
 * One batch for a whole queue delivery of attempt messages: (1) claims the attempts that are
 * still owed (same attempt count as the message says, not delivered or dead, endpoint enabled):
 * attempts + 1, and next_attempt_at pushed to `leaseUntil`, after which the sweeper may try again
 * if no outcome was recorded; (2) marks dead, without an attempt, those owed to a disabled
 * endpoint; (3) reads every claimed delivery with its endpoint and event. A message whose claim
 * does not match (a redelivery, a stale retry after a manual one) claims nothing: it attempts nothing.
 */
export function claimAttemptStatements(
  db: D1Database,
  claims: AttemptClaim[],
  now: number,
  leaseUntil: number,
  disabledError: string,
): D1PreparedStatement[] {
  const json = JSON.stringify(claims);
  const matching = sql`(SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS attempts FROM json_each(${json})) AS m`;
  return [
    prepare(
      db,
      sql`UPDATE webhook_deliveries SET attempts = webhook_deliveries.attempts + 1, status = 'pending', last_attempt_at = ${now}, next_attempt_at = ${leaseUntil}
         FROM ${matching}
         WHERE webhook_deliveries.id = m.id AND webhook_deliveries.attempts = m.attempts
           AND webhook_deliveries.status IN ('pending', 'failed')
           AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = webhook_deliveries.endpoint_id AND e.enabled = 1)
         RETURNING webhook_deliveries.id`,
    ),
    prepare(
      db,
      sql`UPDATE webhook_deliveries SET status = 'dead', last_error = ${disabledError}, next_attempt_at = NULL
         FROM ${matching}
         WHERE webhook_deliveries.id = m.id AND webhook_deliveries.attempts = m.attempts
           AND webhook_deliveries.status IN ('pending', 'failed')
           AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = webhook_deliveries.endpoint_id AND e.enabled = 0)`,
    ),
    prepare(
      db,
      sql`SELECT d.id, d.endpoint_id, d.status, d.attempts, d.last_attempt_at,
                e.url, e.secret, e.previous_secret, e.previous_secret_expires_at, e.enabled, e.format,
                o.seq AS event_seq, d.event_id, d.event_type, o.object_id AS event_object_id, o.snapshot AS event_snapshot,
                o.created_at AS event_created_at, o.dispatched_at AS event_dispatched_at
         FROM webhook_deliveries d
         JOIN webhook_endpoints e ON e.id = d.endpoint_id
         LEFT JOIN webhook_outbox o ON o.id = d.event_id
         WHERE d.id IN (SELECT json_extract(value, '$[0]') FROM json_each(${json})) AND d.last_attempt_at = ${now} AND d.status = 'pending'`,
    ),
  ];
}

/** How an attempt ended, as recorded on its delivery. */
export interface AttemptOutcome {
  id: string;
  /** The attempt count the claim set: the outcome is recorded only if no later attempt started. */
  attempts: number;
  status: Exclude<DeliveryStatus, 'pending'>;
  code: number | null;
  error: string | null;
  next_attempt_at: number | null;
  delivered_at: number | null;
}

/** The outcomes of a delivery's attempts, and what they say of their endpoints, in one batch. */
export function recordOutcomeStatements(
  db: D1Database,
  outcomes: AttemptOutcome[],
  endpoints: { succeeded: string[]; failing: [id: string, since: number][]; gone: string[] },
  now: number,
  failingCutoff: number,
  goneReason: string,
): D1PreparedStatement[] {
  return [
    // Results [0]: the deliveries whose outcome was recorded (their retries may be sent).
    prepare(
      db,
      sql`UPDATE webhook_deliveries SET status = o.status, last_status_code = o.code, last_error = o.error,
           next_attempt_at = o.next_at, delivered_at = o.delivered_at
         FROM (SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.attempts') AS attempts,
                      json_extract(value, '$.status') AS status, json_extract(value, '$.code') AS code,
                      json_extract(value, '$.error') AS error, json_extract(value, '$.next_attempt_at') AS next_at,
                      json_extract(value, '$.delivered_at') AS delivered_at
               FROM json_each(${JSON.stringify(outcomes)})) AS o
         WHERE webhook_deliveries.id = o.id AND webhook_deliveries.attempts = o.attempts AND webhook_deliveries.status = 'pending'
         RETURNING webhook_deliveries.id`,
    ),
    // A success ends the endpoint's failing streak.
    prepare(
      db,
      sql`UPDATE webhook_endpoints SET failing_since = NULL WHERE id IN (SELECT value FROM json_each(${JSON.stringify(endpoints.succeeded)})) AND failing_since IS NOT NULL`,
    ),
    // A failure starts one, unless one is running.
    prepare(
      db,
      sql`UPDATE webhook_endpoints SET failing_since = f.since
         FROM (SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS since FROM json_each(${JSON.stringify(endpoints.failing)})) AS f
         WHERE webhook_endpoints.id = f.id AND webhook_endpoints.failing_since IS NULL`,
    ),
    // Results [3]: endpoints failing for 24 h, disabled now.
    prepare(
      db,
      sql`UPDATE webhook_endpoints SET enabled = 0, updated_at = ${now},
           disabled_reason = 'Disabled by Vouchsafe: every delivery attempt failed for 24 hours (since '
             || strftime('%Y-%m-%dT%H:%M:%SZ', failing_since / 1000, 'unixepoch') || '). Fix the receiver, then enable the webhook again.'
         WHERE id IN (SELECT json_extract(value, '$[0]') FROM json_each(${JSON.stringify(endpoints.failing)})) AND enabled = 1 AND failing_since <= ${failingCutoff}
         RETURNING id`,
    ),
    // Results [4]: endpoints that answered 410 Gone, disabled now (Standard Webhooks: the receiver wants no more).
    prepare(
      db,
      sql`UPDATE webhook_endpoints SET enabled = 0, updated_at = ${now}, disabled_reason = ${goneReason} WHERE id IN (SELECT value FROM json_each(${JSON.stringify(endpoints.gone)})) AND enabled = 1 RETURNING id`,
    ),
  ];
}

/**
 * The sweeper's claim: pending or failed deliveries due before `overdueBefore` (their queue
 * message is lost), at most `limit`, get a new lease and are returned to be sent again. One
 * statement, so two sweepers never send the same delivery twice in one lease.
 */
export async function claimOverdueDeliveries(
  db: D1Database,
  overdueBefore: number,
  leaseUntil: number,
  limit: number,
): Promise<{ id: string; attempts: number }[]> {
  const { results } = await prepare(
    db,
    sql`UPDATE webhook_deliveries SET next_attempt_at = ${leaseUntil}
       WHERE id IN (SELECT id FROM webhook_deliveries WHERE status IN ('pending', 'failed') AND next_attempt_at < ${overdueBefore} ORDER BY next_attempt_at LIMIT ${limit})
       RETURNING id, attempts`,
  ).all<{ id: string; attempts: number }>();
  return results;
}

/** An operator's retry: a dead or failed delivery is owed an attempt now. */
export function retryDelivery(db: D1Database, endpointId: string, deliveryId: string, now: number): Promise<DeliveryRow | null> {
  return prepare(
    db,
    sql`UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ${now}
       WHERE id = ${deliveryId} AND endpoint_id = ${endpointId} AND status IN ('dead', 'failed') RETURNING *`,
  ).first<DeliveryRow>();
}

export function findDelivery(db: D1Database, endpointId: string, deliveryId: string): Promise<DeliveryRow | null> {
  return db.prepare('SELECT * FROM webhook_deliveries WHERE id = ? AND endpoint_id = ?').bind(deliveryId, endpointId).first<DeliveryRow>();
}

/** An endpoint's deliveries, newest first, after the `startingAfter` delivery when given. */
export async function listDeliveries(
  db: D1Database,
  endpointId: string,
  q: { limit: number; status?: DeliveryStatus; startingAfter?: { created_at: number; id: string } },
): Promise<{ rows: DeliveryRow[]; hasMore: boolean }> {
  const { results } = await prepare(
    db,
    sql`SELECT * FROM webhook_deliveries
       WHERE endpoint_id = ${endpointId} AND (${q.status ?? null} IS NULL OR status = ${q.status ?? null})
         AND (${q.startingAfter?.created_at ?? null} IS NULL OR created_at < ${q.startingAfter?.created_at ?? null} OR (created_at = ${q.startingAfter?.created_at ?? null} AND id < ${q.startingAfter?.id ?? ''}))
       ORDER BY created_at DESC, id DESC LIMIT ${q.limit + 1}`,
  ).all<DeliveryRow>();
  return { rows: results.slice(0, q.limit), hasMore: results.length > q.limit };
}

/**
 * The log's retention: of the oldest `window` deliveries and events (rowid order is insertion
 * order), those finished before `before` are deleted. Bounded work per call, whatever the size.
 */
export function retentionStatements(db: D1Database, before: number, window: number): D1PreparedStatement[] {
  return [
    prepare(
      db,
      sql`DELETE FROM webhook_deliveries WHERE rowid IN (
           SELECT rowid FROM (SELECT rowid, status, created_at FROM webhook_deliveries ORDER BY rowid LIMIT ${window})
           WHERE created_at < ${before} AND status IN ('delivered', 'dead'))`,
    ),
    prepare(
      db,
      sql`DELETE FROM webhook_outbox WHERE seq IN (
           SELECT seq FROM (SELECT seq, created_at, dispatched_at FROM webhook_outbox ORDER BY seq LIMIT ${window})
           WHERE created_at < ${before} AND dispatched_at IS NOT NULL)`,
    ),
  ];
}

/** Deliveries still owed an attempt that will get none (their message was dead-lettered). */
export function markDeliveriesDead(db: D1Database, ids: string[], error: string): D1PreparedStatement {
  return prepare(
    db,
    sql`UPDATE webhook_deliveries SET status = 'dead', last_error = ${error}, next_attempt_at = NULL
       WHERE id IN (SELECT value FROM json_each(${JSON.stringify(ids)})) AND status IN ('pending', 'failed')`,
  );
}

/**
 * Deliveries dispatched and not yet attempted (their first attempt is in the queue), counted up
 * to `cap`: the dispatcher's backpressure.
 */
export async function countUnattempted(db: D1Database, cap: number): Promise<number> {
  return (
    (await db
      .prepare(
        `SELECT count(*) AS n FROM (SELECT 1 FROM webhook_deliveries WHERE status IN ('pending', 'failed') AND status = 'pending' AND attempts = 0 LIMIT ?)`,
      )
      .bind(cap)
      .first<number>('n')) ?? 0
  );
}
