/** What generation reads: the full pattern (prefix and postfix included) and the charset. */
export interface CodeConfig {
  length: number | null;
  charset: string;
  prefix: string | null;
  postfix: string | null;
  pattern: string;
}

/** Random characters a pattern holds (its #s). */
export const randomSlots = (config: CodeConfig): number => [...config.pattern].filter((c) => c === '#').length;

/** How many distinct codes the config can make (capped, so a huge space stays a finite number). */
export function codeSpace(config: CodeConfig): number {
  return Math.min(Number.MAX_SAFE_INTEGER, [...config.charset].length ** randomSlots(config));
}

/**
 * Codes drawn uniformly from the config: each # of the pattern a random character of the charset,
 * between the prefix and the postfix. Uniform by rejection: bytes past the last whole multiple of
 * the charset's size are drawn again, so no character is likelier than another.
 */
export function generateCodes(config: CodeConfig, count: number): string[] {
  const chars = [...config.charset];
  const pattern = [...config.pattern];
  const slots = randomSlots(config);
  const limit = 65536 - (65536 % chars.length);
  const codes: string[] = [];
  let pool = new Uint16Array(0);
  let at = 0;
  const next = (): number => {
    for (;;) {
      if (at >= pool.length) {
        pool = crypto.getRandomValues(new Uint16Array(Math.max(64, Math.min(16384, count * slots * 2))));
        at = 0;
      }
      const v = pool[at++] as number;
      if (v < limit) return v % chars.length;
    }
  };
  for (let n = 0; n < count; n++) {
    let body = '';
    for (const c of pattern) body += c === '#' ? chars[next()] : c;
    codes.push(`${config.prefix ?? ''}${body}${config.postfix ?? ''}`);
  }
  return codes;
}
