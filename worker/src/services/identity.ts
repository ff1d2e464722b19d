/**
 * The client key is public: what a /client/v1/* request says about who it is counts only when the
 * shop's backend signed it (identity verification, as Intercom's), and what it says about a
 * customer's data never counts. This module is the one place that turns raw client input into what
 * may be believed (every client route goes through trustedClientContext), and strips stored
 * customer data and derived tracking ids from the answers.
 *
 * Signatures (shared/identity.ts): `<expiry>.<hex>`, hex = HMAC-SHA256 over `<kind>:<expiry>:<value>`,
 * so a signature covers one kind of claim (identity hash, source id, customer id, raw tracking id)
 * and one value, until its expiry. They travel in the X-Vouchsafe-Identity-Signature header (or the
 * identity_signature field of a JSON body), never in a URL, which proxies and logs keep.
 */
import { timingSafeEqual } from 'hono/utils/buffer';
import { claimMessage, hmacHex, type IdentityKind, SIGNATURE, TRACKING_ID } from '../../../shared/identity';
import type { Env } from '../env';
import { invalidQueryParams } from '../errors';
import type { ValidationContext } from '../schemas/checkout';

export const SIGNATURE_HEADER = 'X-Vouchsafe-Identity-Signature';

/**
 * What became of a client request's identity claims, told back to the caller in this header
 * (middleware/identity-hint.ts): `unverified` when some claim was ignored for want of a valid
 * signature (the request was judged as if it had not named that customer), `verified` when every
 * claim was signed; absent when the request claimed nobody (a device's own `track_…` id is not a
 * claim) or when IDENTITY_VERIFICATION=off believes every claim. An unchanged Voucherify storefront
 * names its customers unsigned: without this, it sees `customer_rules_violated` and cannot tell why.
 */
export const IDENTITY_HEADER = 'X-Vouchsafe-Identity';
export type IdentityOutcome = 'verified' | 'unverified';

/** Per request, what trustedClientContext made of its claims (a request may be judged more than once: any claim ignored wins). */
const outcomes = new WeakMap<Request, IdentityOutcome>();

/** What trustedClientContext made of the claims of `request`, if it claimed anyone. */
export const identityOutcomeOf = (request: Request): IdentityOutcome | undefined => outcomes.get(request);

function noteOutcome(request: Request, outcome: IdentityOutcome): void {
  if (outcomes.get(request) !== 'unverified') outcomes.set(request, outcome);
}

/** A request may carry a few signatures (one per kind it claims), comma-separated; more are ignored. */
const MAX_SIGNATURES = 4;

/** Judges identity claims of one request against the signatures it carries. */
export interface IdentityVerifier {
  /** Believe `value` claimed as `kind` (identity: the browser SDK's identity_hash). */
  trusts(kind: IdentityKind, value: string): Promise<boolean>;
}

/**
 * IDENTITY_VERIFICATION=off believes every claim (Voucherify's behaviour: knowing someone's email
 * is enough to be them). Otherwise a claim counts only when one of `signatures` is, for that kind
 * and value, the HMAC under IDENTITY_SECRET (or IDENTITY_SECRET_PREVIOUS, during a rotation) and
 * has not expired; with no secret configured, none does.
 */
export function identityVerifier(
  env: Pick<Env, 'IDENTITY_VERIFICATION' | 'IDENTITY_SECRET' | 'IDENTITY_SECRET_PREVIOUS'>,
  signatures: string[],
  now: number = Date.now(),
): IdentityVerifier {
  if (env.IDENTITY_VERIFICATION === 'off') return { trusts: async () => true };
  const secrets = [env.IDENTITY_SECRET, env.IDENTITY_SECRET_PREVIOUS].filter((s): s is string => !!s);
  const live = signatures.flatMap((signature) => {
    const parts = SIGNATURE.exec(signature);
    if (!parts) return [];
    const expiry = Number(parts[1]);
    return expiry === 0 || expiry * 1000 > now ? [{ expiry, mac: (parts[2] as string).toLowerCase() }] : [];
  });
  return {
    async trusts(kind, value) {
      for (const { expiry, mac } of live) {
        for (const secret of secrets) {
          if (await timingSafeEqual(await hmacHex(secret, claimMessage(kind, value, expiry)), mac)) return true;
        }
      }
      return false;
    },
  };
}

/** Where a client request may prove who it is. */
export interface ClientProof {
  /** The request: its X-Vouchsafe-Identity-Signature header, and its URL, which must carry no signature. */
  request: Request;
  /** The identity_signature field of a JSON body (already checked by clientIdentitySchema). */
  bodySignature?: string;
}

/** The signatures a request carries: its body field, then its header; comma-separated lists allowed. */
export function requestSignatures(proof: ClientProof): string[] {
  // A signature is a credential: in a URL it lands in proxy, CDN and platform logs. Refused, so a
  // shop that sends one there finds out at once instead of leaking it quietly.
  if (new URL(proof.request.url).searchParams.has('identity_signature')) {
    throw invalidQueryParams(`identity_signature: never send it in a URL; send it in the ${SIGNATURE_HEADER} header`);
  }
  const all = [proof.bodySignature, proof.request.headers.get(SIGNATURE_HEADER) ?? undefined]
    .filter((s): s is string => !!s)
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  return all.slice(0, MAX_SIGNATURES);
}

const keepIf = async <T>(value: T | undefined, believed: (v: T) => Promise<boolean>): Promise<T | undefined> =>
  value !== undefined && (await believed(value)) ? value : undefined;

/**
 * The one judge of what a client request may claim: the validation context it may be judged by.
 * Every client route (validate, validations, events, redemptions) passes every identity it read,
 * from wherever it read it (body or query), through here; nothing else of a client request names a
 * visitor (no header or cookie is read as one).
 * - its own random `track_…` id always (the device's id is not an identity claim); any other
 *   tracking_id (the official SDK sends the raw identity given to its setIdentity) only when
 *   signed as kind `tracking_id`;
 * - identity_hash only signed as kind `identity`, customer.id as `id`, customer.source_id as
 *   `source_id`: a signature never covers another kind than the one it was made for;
 * - none of the customer's fields or metadata: rules read the stored customer, never the browser.
 * Order facts (amount, items, order and request metadata) are what the caller asks about and stay.
 */
export async function trustedClientContext<T extends ValidationContext>(env: Env, input: T, proof: ClientProof): Promise<T> {
  const verifier = identityVerifier(env, requestSignatures(proof));
  const { customer, tracking_id, identity_hash, ...rest } = input;
  const [trackingId, identityHash, id, sourceId] = await Promise.all([
    keepIf(tracking_id, async (t) => TRACKING_ID.test(t) || verifier.trusts('tracking_id', t)),
    keepIf(identity_hash, (h) => verifier.trusts('identity', h)),
    keepIf(customer?.id, (v) => verifier.trusts('id', v)),
    keepIf(customer?.source_id ?? undefined, (v) => verifier.trusts('source_id', v)),
  ]);
  if (env.IDENTITY_VERIFICATION !== 'off') {
    const claimed = [
      tracking_id !== undefined && !TRACKING_ID.test(tracking_id),
      identity_hash !== undefined,
      customer?.id !== undefined,
      (customer?.source_id ?? undefined) !== undefined,
    ];
    const kept = [
      trackingId !== undefined && !TRACKING_ID.test(trackingId),
      identityHash !== undefined,
      id !== undefined,
      sourceId !== undefined,
    ];
    if (claimed.some(Boolean)) noteOutcome(proof.request, claimed.every((c, i) => !c || kept[i]) ? 'verified' : 'unverified');
  }
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

/**
 * A client answer names only the tracking id the request carried, verbatim: every `tracking_id`
 * in it becomes `shown`. The worker stores a raw identity's tracking id as an HMAC-derived
 * `track_…` id, which looks like any device's random id and so is accepted unsigned: handed to a
 * browser it would be a permanent bearer credential of whoever that profile is linked to.
 */
export function withTrackingIdShown<T>(body: T, shown: string | null): T {
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node === null || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    for (const [key, value] of Object.entries(record)) {
      if (key === 'tracking_id' && (typeof value === 'string' || value === null)) record[key] = shown;
      else walk(value);
    }
  };
  walk(body);
  return body;
}
