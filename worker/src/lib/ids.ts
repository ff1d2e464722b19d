const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * `prefix` + `length` uniformly random base62 characters (rejection sampling keeps every character
 * equally likely: 24 characters carry ~143 bits).
 */
export function randomId(prefix: string, length = 24): string {
  let out = prefix;
  while (out.length < prefix.length + length) {
    const bytes = crypto.getRandomValues(new Uint8Array(length * 2));
    for (const byte of bytes) {
      // 248 = 4 * 62: bytes at or above it would bias the first characters.
      if (byte < 248) out += BASE62[byte % 62];
      if (out.length === prefix.length + length) break;
    }
  }
  return out;
}

/** Voucherify-style request id, e.g. v-0be548ae620abb0a73. */
export function requestId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(9));
  return 'v-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
