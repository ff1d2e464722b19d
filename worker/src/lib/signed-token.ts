/**
 * Short-lived capability tokens: `<expiry in epoch seconds>.<base64url HMAC-SHA256>` over a purpose,
 * a subject (e.g. an export id) and the expiry, keyed by a server secret. Whoever holds the URL may
 * use it until it expires; no key is needed, and the secret never leaves the worker. Rotating the
 * secret revokes every token at once.
 */

const encoder = new TextEncoder();
const TOKEN_PATTERN = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/;

async function hmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

/** Purpose and subject are framed so that no (purpose, subject, expiry) reads as another. */
const message = (purpose: string, subject: string, expiresAt: number) =>
  encoder.encode(`vouchsafe-token:v1\n${purpose}\n${subject}\n${expiresAt}`);

function base64url(bytes: ArrayBuffer): string {
  let binary = '';
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64url(text: string): Uint8Array {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
}

export async function signToken(secret: string, purpose: string, subject: string, expiresAt: number): Promise<string> {
  if (!secret) throw new Error('signToken: the signing secret is not configured');
  const signature = await crypto.subtle.sign('HMAC', await hmacKey(secret), message(purpose, subject, expiresAt));
  return `${expiresAt}.${base64url(signature)}`;
}

export type TokenCheck = 'valid' | 'invalid' | 'expired';

/**
 * Checks the signature first (in constant time, crypto.subtle.verify), then the expiry: only a
 * genuine token can be told apart as expired. An unset secret accepts nothing.
 */
export async function verifyToken(
  secret: string | undefined,
  purpose: string,
  subject: string,
  token: string | undefined,
  nowMs: number,
): Promise<TokenCheck> {
  const match = token === undefined ? null : TOKEN_PATTERN.exec(token);
  if (!secret || !match) return 'invalid';
  const expiresAt = Number(match[1]);
  const signature = fromBase64url(match[2] as string);
  // The last of 43 characters carries 2 unused bits: refuse spellings other than the canonical one,
  // so that one signature has one token.
  if (base64url(signature.buffer as ArrayBuffer) !== match[2]) return 'invalid';
  const ok = await crypto.subtle.verify('HMAC', await hmacKey(secret), signature, message(purpose, subject, expiresAt));
  if (!ok) return 'invalid';
  return expiresAt * 1000 > nowMs ? 'valid' : 'expired';
}
