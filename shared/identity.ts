/**
 * Identities and their signatures, the same on every side: the browser SDK hashes an identity,
 * the shop's backend signs that hash with IDENTITY_SECRET, the worker checks the signature.
 * Pure WebCrypto (browsers, Workers, Node 20+); no I/O.
 *
 * signature = lower-case hex HMAC-SHA256(key = IDENTITY_SECRET, message = identity hash), where
 * identity hash = lower-case hex SHA-256 of the normalised identity (UTF-8). Any language with an
 * HMAC can compute it; see README "Identity verification".
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

/** HMAC-SHA256(secret, identityHash) in lower-case hex: the signature of an identity hash. */
export async function signIdentityHash(secret: string, identityHash: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return hex(await crypto.subtle.sign('HMAC', key, encoder.encode(identityHash)));
}

/**
 * The signature a shop's backend hands its page for the signed-in customer, to pass as
 * `Vouchsafe.setIdentity(email, { signature })` (or the `X-Vouchsafe-Identity-Signature` header).
 *
 * @example const signature = await signIdentity(env.IDENTITY_SECRET, 'alice@example.com')
 */
export async function signIdentity(secret: string, identity: string): Promise<string> {
  return signIdentityHash(secret, await hashIdentity(identity));
}
