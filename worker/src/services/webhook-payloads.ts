import type { OutboxRow } from '../db/webhooks';
import { toIso } from '../lib/time';

// Placeholder owned by the payload engineer (issue 16): at merge their version, with Voucherify's
// payload shape per event type, replaces this file. The signature is the contract.

/** The JSON body sent for an outbox event: the same for every attempt and every endpoint. */
export async function webhookPayload(
  _db: D1Database,
  event: OutboxRow,
): Promise<{ id: string; type: string; created_at: string; object: 'event'; data: Record<string, unknown> }> {
  return {
    id: event.id,
    type: event.type,
    created_at: toIso(event.created_at),
    object: 'event',
    data: (event.snapshot === null ? null : (JSON.parse(event.snapshot) as Record<string, unknown> | null)) ?? {},
  };
}
