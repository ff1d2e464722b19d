/**
 * Text from bytes, refused rather than repaired: a decoder that replaced bad bytes with U+FFFD
 * would store something other than what the client meant (an id it can no longer find, a name
 * with holes), so every decode here is fatal and says where the first bad byte is.
 */

/** Matches a UTF-16 surrogate that is not half of a pair (the `u` flag reads pairs as one code point). */
const LONE_SURROGATE = /\p{Cs}/u;

export const hasLoneSurrogate = (text: string): boolean => LONE_SURROGATE.test(text);

/**
 * How many bytes at the start of `bytes` are well-formed UTF-8 (the Unicode standard's table 3-7:
 * no overlong forms, no surrogates, nothing past U+10FFFF). A sequence cut off by the end counts
 * as not well-formed.
 */
export function validUtf8Length(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const lead = bytes[i] as number;
    if (lead < 0x80) {
      i += 1;
      continue;
    }
    let length: number;
    let low = 0x80;
    let high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) length = 2;
    else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      if (lead === 0xe0) low = 0xa0;
      if (lead === 0xed) high = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      if (lead === 0xf0) low = 0x90;
      if (lead === 0xf4) high = 0x8f;
    } else return i;
    if (i + length > n) return i;
    const second = bytes[i + 1] as number;
    if (second < low || second > high) return i;
    for (let k = 2; k < length; k++) {
      const next = bytes[i + k] as number;
      if (next < 0x80 || next > 0xbf) return i;
    }
    i += length;
  }
  return n;
}

/** `0xE9`: a byte as the refusals quote it. */
export const hexByte = (byte: number | undefined): string =>
  byte === undefined ? 'the end of the data' : `0x${byte.toString(16).toUpperCase().padStart(2, '0')}`;

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * The bytes as UTF-8 text (a leading BOM dropped), or `{ offset, byte }` of the first byte that is
 * not well-formed UTF-8.
 */
export function decodeUtf8(bytes: Uint8Array): { text: string } | { offset: number; byte: number | undefined } {
  try {
    return { text: fatalUtf8.decode(bytes) };
  } catch {
    const offset = validUtf8Length(bytes);
    return { offset, byte: bytes[offset] };
  }
}
