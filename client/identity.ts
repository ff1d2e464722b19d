/** @module Identity hashing: the raw identifier never leaves the browser, only its SHA-256. */

/**
 * Trims, and lowercases emails only: the case of other ids (database keys, usernames) may be
 * significant, while email domains are case-insensitive and mailboxes are in practice.
 */
export function normalizeIdentity(id: string): string {
  const s = String(id).trim();
  return s.includes('@') ? s.toLowerCase() : s;
}

/**
 * Lower-case hex SHA-256 of the normalised id, or `null` when there is nothing to hash or no
 * WebCrypto: `crypto.subtle` only exists in secure contexts, and on a plain http page sending
 * nothing is the only way to keep the promise that the raw value stays in the browser.
 */
export async function hashIdentity(id: string): Promise<string | null> {
  const s = normalizeIdentity(id);
  const subtle = (crypto as Partial<Crypto>).subtle;
  // "undefined"/"null" come from String(missingValue) in host code; hashing them would merge people.
  if (!s || s === 'undefined' || s === 'null' || !subtle) return null;
  const digest = await subtle.digest('SHA-256', new TextEncoder().encode(s));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
