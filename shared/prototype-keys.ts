/**
 * Keys that name an object's prototype machinery rather than data. Anything read from outside (a
 * JSON body, a query string, a CSV header, a filter path) that uses one as a key is refused: in a
 * plain object `__proto__` replaces the prototype instead of holding a value (zod's records drop
 * it silently), and `constructor` / `prototype` read as inherited functions wherever a lookup is
 * not own-property only.
 */
export const PROTOTYPE_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype'];

const PROTOTYPE_KEY_SET: ReadonlySet<string> = new Set(PROTOTYPE_KEYS);

export const isPrototypeKey = (key: string): boolean => PROTOTYPE_KEY_SET.has(key);

/** The sentence every refusal ends with, so all of them read alike. */
export const PROTOTYPE_KEY_RULE = `${PROTOTYPE_KEYS.map((k) => `"${k}"`).join(', ')} cannot be used as keys`;
