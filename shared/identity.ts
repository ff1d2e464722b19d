/**
 * Identities and their signatures, the same on every side: the browser SDK hashes an identity,
 * the shop's backend signs what a page may claim with IDENTITY_SECRET, the worker checks it.
 * Pure WebCrypto (browsers, Workers, Node 20+); no I/O.
 *
 *   signature = "<expiry>.<hex>"
 *   hex       = lower-case hex HMAC-SHA256(key = IDENTITY_SECRET, message = "<kind>:<expiry>:<value>")
 *   expiry    = Unix time in seconds after which the signature is not believed; 0 = never expires
 *   kind      = what the value is claimed as, and the only thing the signature covers:
 *     identity     value = identity hash, lower-case hex SHA-256 of the normalised identity (the
 *                  browser SDK's setIdentity sends this hash as identity_hash)
 *     source_id    value = customer.source_id, the exact string (looked up byte for byte)
 *     id           value = customer.id, the exact string
 *     tracking_id  value = a raw tracking_id (the official SDK's setIdentity), the exact string
 *
 * A signature for one kind never covers another: a source id signed for one user is never taken
 * as a customer id, nor a tracking id. Only the identity hash normalises (trim; e-mails lowercased)
 * because both the browser and the backend compute it; every other kind is signed exactly as the
 * request names it and matched exactly, so signing and lookup always agree. Any language with an
 * HMAC can compute it; see docs/identity.md, "Identity verification".
 */

/** `track_` + 128 bits in base64url (22 characters), as the browser SDK and the worker mint them. */
export const TRACKING_ID = /^track_[A-Za-z0-9_-]{22}$/;

/**
 * Trims, and lowercases emails only: the case of other ids (database keys, usernames) may be
 * significant, while email domains are case-insensitive and mailboxes are in practice.
 */
export function normalizeIdentity(id: string): string {
  const s = String(id).trim();
  return s.includes('@') ? s.toLowerCase() : s;
}

const encoder = new TextEncoder();

const hex = (bytes: ArrayBuffer): string => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');

/** Lower-case hex SHA-256 of a UTF-8 string. */
export async function sha256Hex(text: string): Promise<string> {
  return hex(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
}

/** Lower-case hex SHA-256 of the normalised identity: what `setIdentity()` sends as `identity_hash`. */
export const hashIdentity = (id: string): Promise<string> => sha256Hex(normalizeIdentity(id));

/** What a signed value is claimed as; a signature covers exactly one kind (see the module comment). */
export type IdentityKind = 'identity' | 'source_id' | 'id' | 'tracking_id';

/** How long a signature made by `signIdentity`/`signClaim` is believed unless told otherwise: a day. */
export const DEFAULT_SIGNATURE_SECONDS = 86_400;

/** `<expiry>.<64 hex>`; expiry in Unix seconds, 0 for none. */
export const SIGNATURE = /^(\d{1,12})\.([0-9a-fA-F]{64})$/;

/** The message a signature's HMAC covers. */
export const claimMessage = (kind: IdentityKind, value: string, expiry: number): string => `${kind}:${expiry}:${value}`;

/** Lower-case hex HMAC-SHA256(secret, message). */
export async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return hex(await crypto.subtle.sign('HMAC', key, encoder.encode(message)));
}

export interface SignOptions {
  /** Unix seconds after which the signature is refused; null never expires. Default: a day from now. */
  expiresAt?: number | null;
}

const expiryOf = (options: SignOptions | undefined): number =>
  options?.expiresAt === null ? 0 : Math.floor(options?.expiresAt ?? Date.now() / 1000 + DEFAULT_SIGNATURE_SECONDS);

/**
 * The signature of a claim of one kind, e.g. the customer.source_id the official client SDK names.
 *
 * @example const signature = await signClaim(env.IDENTITY_SECRET, 'source_id', customer.source_id)
 */
export async function signClaim(secret: string, kind: IdentityKind, value: string, options?: SignOptions): Promise<string> {
  const expiry = expiryOf(options);
  return `${expiry}.${await hmacHex(secret, claimMessage(kind, value, expiry))}`;
}

/** The signature of an identity hash (kind `identity`): what the browser SDK's identity_hash needs. */
export const signIdentityHash = (secret: string, identityHash: string, options?: SignOptions): Promise<string> =>
  signClaim(secret, 'identity', identityHash, options);

/**
 * The signature a shop's backend hands its page for the signed-in customer, to pass as
 * `Vouchsafe.setIdentity(email, { signature })`: it covers the identity hash of `identity` only.
 *
 * @example const signature = await signIdentity(env.IDENTITY_SECRET, 'alice@example.com')
 */
export async function signIdentity(secret: string, identity: string, options?: SignOptions): Promise<string> {
  return signIdentityHash(secret, await hashIdentity(identity), options);
}
