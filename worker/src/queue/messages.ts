import type { CustomerWrite } from '../schemas/customers';

/**
 * What goes through the WRITES queue: the one catalogue of message kinds. Every message has an id,
 * made when it is sent, that the consumer records with its effects (migration 0013), so a message
 * delivered twice is applied once; and `at`, the time of the request it comes from, so its rows
 * carry when things happened, not when they were written.
 */
interface Envelope<Kind extends string> {
  kind: Kind;
  id: string;
  at: number;
}

/** A validate call (client or server): the attempt of each code with its outcome, and the visit on the tracking profile. */
export interface ValidationAttemptMessage extends Envelope<'validation'> {
  tracking_id: string | null;
  /** customer.id or customer.source_id as the request named it (server key, or a believed claim). */
  customer_ref: string | null;
  identity_hmac: string | null;
  amount: number | null;
  attempts: { id: string; code: string; result: 'VALID' | 'INVALID'; reason: string | null }[];
}

export interface QueuedEvent {
  id: string;
  type: string;
  metadata: Record<string, unknown>;
}

/** An event of a visitor known only by a tracking id: on its profile, at most `cap.max` since `cap.since`. */
export interface ProfileEventMessage extends Envelope<'profile_event'> {
  tracking_id: string;
  identity_hmac: string | null;
  event: QueuedEvent;
  cap: { since: number; max: number } | null;
}

/**
 * An event of a customer, through the customer-write pipeline (memberships refreshed, entered/left
 * recorded once). `customer`: by id (a missing one records nothing), or by source id, created with
 * `new_id` when missing; `fields`, when given, are written as the customers API would.
 */
export interface CustomerEventMessage extends Envelope<'customer_event'> {
  customer: { id: string; fields?: CustomerWrite } | { source_id: string; new_id: string; fields?: CustomerWrite };
  event: QueuedEvent;
  /** The tracking profile the event came with (a linked visitor, server key): its visit is noted. */
  touch_tracking_id?: string;
}

export type WriteMessage = ValidationAttemptMessage | ProfileEventMessage | CustomerEventMessage;
export type WriteKind = WriteMessage['kind'];
export type MessageOf<K extends WriteKind> = Extract<WriteMessage, { kind: K }>;

/** Sends a message (as JSON, readable in the dead-letter table and across deploys). */
export const enqueue = (queue: Queue<WriteMessage>, message: WriteMessage): Promise<unknown> => queue.send(message, { contentType: 'json' });
