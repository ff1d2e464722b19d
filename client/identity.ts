/** @module Identity hashing: the raw identifier never leaves the browser, only its SHA-256. */
import { normalizeIdentity, sha256Hex } from '../shared/identity';

/**
 * Lower-case hex SHA-256 of the normalised id, or `null` when there is nothing to hash or no
 * WebCrypto: `crypto.subtle` only exists in secure contexts, and on a plain http page sending
 * nothing is the only way to keep the promise that the raw value stays in the browser.
 */
export async function hashIdentity(id: string): Promise<string | null> {
  const s = normalizeIdentity(id);
  // "undefined"/"null" come from String(missingValue) in host code; hashing them would merge people.
  if (!s || s === 'undefined' || s === 'null' || !(crypto as Partial<Crypto>).subtle) return null;
  return sha256Hex(s);
}
