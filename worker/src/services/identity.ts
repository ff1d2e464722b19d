/**
 * The client key is public: what a /client/v1/* request says about who it is counts only when the
 * shop's backend signed it (identity verification, as Intercom's), and what it says about a
 * customer's data never counts. This module turns raw client input into what may be believed, and
 * strips stored customer data from the answers.
 */
import { timingSafeEqual } from 'hono/utils/buffer';
import { hashIdentity, signIdentityHash, TRACKING_ID } from '../../../shared/identity';
import type { Env } from '../env';
import type { ValidationContext } from '../schemas/checkout';

export const SIGNATURE_HEADER = 'X-Vouchsafe-Identity-Signature';

/** Judges identity claims of one request against the signature it carries. */
export interface IdentityVerifier {
  /** Believe a claimed identity hash (the browser SDK's identity_hash). */
  trustsHash(identityHash: string): Promise<boolean>;
  /** Believe a claimed raw identity (customer.source_id, customer.id, the official SDK's tracking_id). */
  trustsIdentity(identity: string): Promise<boolean>;
}

/**
 * IDENTITY_VERIFICATION=off believes every claim (Voucherify's behaviour: knowing someone's email
 * is enough to be them). Otherwise a claim counts only when `signature` is the HMAC of its hash
 * with IDENTITY_SECRET; with no secret configured, none does.
 */
export function identityVerifier(env: Env, signature: string | undefined): IdentityVerifier {
  if (env.IDENTITY_VERIFICATION === 'off') {
    return { trustsHash: async () => true, trustsIdentity: async () => true };
  }
  const secret = env.IDENTITY_SECRET;
  const given = signature?.toLowerCase();
  const trustsHash = async (identityHash: string) =>
    !!secret && !!given && timingSafeEqual(await signIdentityHash(secret, identityHash), given);
  return { trustsHash, trustsIdentity: async (identity) => trustsHash(await hashIdentity(identity)) };
}

/** The signature of a request: its own field (query or body) or the header the official SDK can send. */
export function requestSignature(field: string | undefined, header: string | undefined): string | undefined {
  return field ?? (header || undefined);
}

const keepIf = async <T>(value: T | undefined, believed: (v: T) => Promise<boolean>): Promise<T | undefined> =>
  value !== undefined && (await believed(value)) ? value : undefined;

/**
 * The validation context a client request may be judged by:
 * - its own random `track_…` id always; any other tracking_id (the official SDK sends the raw
 *   identity given to its setIdentity) is an identity claim;
 * - identity claims (identity_hash, customer.id, customer.source_id) only when believed;
 * - none of the customer's fields or metadata: rules read the stored customer, never the browser.
 * Order facts (amount, items, order and request metadata) are what the caller asks about and stay.
 */
export async function trustedClientContext<T extends ValidationContext>(env: Env, input: T, signature: string | undefined): Promise<T> {
  const verifier = identityVerifier(env, signature);
  const { customer, tracking_id, identity_hash, ...rest } = input;
  const [trackingId, identityHash, id, sourceId] = await Promise.all([
    keepIf(tracking_id, async (t) => TRACKING_ID.test(t) || verifier.trustsIdentity(t)),
    keepIf(identity_hash, verifier.trustsHash),
    keepIf(customer?.id, verifier.trustsIdentity),
    keepIf(customer?.source_id, verifier.trustsIdentity),
  ]);
  const trusted = { ...rest } as T;
  if (trackingId !== undefined) trusted.tracking_id = trackingId;
  if (identityHash !== undefined) trusted.identity_hash = identityHash;
  if (id !== undefined || sourceId !== undefined) {
    trusted.customer = { ...(id !== undefined ? { id } : {}), ...(sourceId !== undefined ? { source_id: sourceId } : {}) };
  }
  return trusted;
}

type WithOrder = { order?: unknown; redeemables?: unknown };

const dropCustomerId = (order: unknown) => {
  if (order && typeof order === 'object' && 'customer_id' in order) (order as { customer_id: unknown }).customer_id = null;
};

/**
 * A validate or validations answer for the browser: the customer it was judged as stays unnamed
 * (order.customer_id is null at every level), so an answer says nothing about whether a claimed
 * customer exists beyond the verdict itself.
 */
export function withoutCustomerIds<T extends object>(body: T): T {
  const answer = body as WithOrder;
  dropCustomerId(answer.order);
  if (Array.isArray(answer.redeemables)) for (const r of answer.redeemables) dropCustomerId((r as WithOrder).order);
  return body;
}
