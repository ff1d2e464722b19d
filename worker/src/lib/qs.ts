/**
 * Parses a query string the way `qs.parse` reads what the official SDK's `qs.stringify` writes:
 * `item[0][sku_id]=x&order[metadata][k]=v&customer[source_id]=s` becomes nested objects and
 * arrays. Keys may start with a bracket (`[order][metadata][k]`, as in Voucherify's curl examples).
 * Values stay strings; the schema coerces them. Bounded so that a hostile query cannot build deep
 * or huge structures.
 */
export interface ParsedQuery {
  [key: string]: string | ParsedQuery | ParsedQuery[] | string[] | undefined;
}

const MAX_DEPTH = 5;
const MAX_ARRAY_INDEX = 499;
const MAX_PARAMS = 1000;

function keyPath(rawKey: string): string[] | null {
  const path: string[] = [];
  const head = /^[^[\]]*/.exec(rawKey)?.[0] ?? '';
  if (head) path.push(head);
  const rest = rawKey.slice(head.length);
  const segment = /\[([^[\]]*)\]/gy;
  let consumed = 0;
  for (let m = segment.exec(rest); m; m = segment.exec(rest)) {
    path.push(m[1] ?? '');
    consumed = segment.lastIndex;
  }
  if (consumed !== rest.length || path.length === 0 || path.length > MAX_DEPTH) return null;
  return path;
}

const isIndex = (key: string) => /^[0-9]{1,3}$/.test(key) && Number(key) <= MAX_ARRAY_INDEX;
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export function parseQuery(search: URLSearchParams): ParsedQuery {
  const root: Record<string, unknown> = {};
  let count = 0;
  for (const [rawKey, value] of search) {
    if (++count > MAX_PARAMS) break;
    const path = keyPath(rawKey);
    if (!path || path.some((k) => UNSAFE_KEYS.has(k))) continue;
    let node: Record<string, unknown> = root;
    path.forEach((key, i) => {
      const last = i === path.length - 1;
      if (last) {
        node[key] = value;
        return;
      }
      const next = node[key];
      if (typeof next !== 'object' || next === null) node[key] = isIndex(path[i + 1] ?? '') ? [] : {};
      node = node[key] as Record<string, unknown>;
    });
  }
  return compactArrays(root) as ParsedQuery;
}

/** Sparse arrays (item[3] without item[0..2]) close up, as qs does. */
function compactArrays(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((v) => v !== undefined).map(compactArrays);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, compactArrays(v)]));
  }
  return value;
}
