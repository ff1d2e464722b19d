import { isPrototypeKey, PROTOTYPE_KEY_RULE } from '../../../shared/prototype-keys';
import { invalidQueryParams } from '../errors';
import { hexByte, validUtf8Length } from './text';

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

/** Bracket levels a key may nest (`a[b][c]` is 2): a deeper key is a 400 on every route (checkQueryString). */
export const MAX_QUERY_NESTING = 8;
/** Parameters a query string may carry: more is a 400 on every route (checkQueryString). */
export const MAX_QUERY_PARAMS = 1000;
/** A key's path: its head and one name per bracket level. */
const MAX_DEPTH = 1 + MAX_QUERY_NESTING;
const MAX_ARRAY_INDEX = 499;

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

/** The names inside a key: `a[b][c]` → a, b, c (whether or not the brackets are well formed). */
const keyNames = (rawKey: string): string[] => rawKey.match(/[^[\]]+/g) ?? [];

/**
 * Refuses (400, naming the parameter) a query string that percent-encodes bytes that are not UTF-8
 * (URLSearchParams would read them as U+FFFD: a silent change), whose keys use a prototype key at
 * any level, which the parsers would otherwise drop without a word, whose keys nest deeper than
 * MAX_QUERY_NESTING brackets, or that carries more than MAX_QUERY_PARAMS parameters: bounds that
 * keep a hostile query from building deep or huge structures in any route's parser, and that are
 * said rather than applied by silently dropping what is past them. Runs for every request
 * (app.ts), before any route reads its query.
 */
export function checkQueryString(search: string): void {
  const query = search.startsWith('?') ? search.slice(1) : search;
  if (query === '') return;
  query.split('&').forEach((pair, i) => {
    for (const run of pair.matchAll(/(?:%[0-9A-Fa-f]{2})+/g)) {
      const bytes = Uint8Array.from(run[0].match(/%[0-9A-Fa-f]{2}/g) ?? [], (escape) => parseInt(escape.slice(1), 16));
      const valid = validUtf8Length(bytes);
      if (valid !== bytes.length) {
        const eq = pair.indexOf('=');
        const inKey = eq === -1 || (run.index ?? 0) < eq;
        const name = inKey ? `query parameter ${i + 1}` : `query parameter "${safeDecode(pair.slice(0, eq))}"`;
        throw invalidQueryParams(`${name}: percent-encodes byte ${hexByte(bytes[valid])}, which is not UTF-8 there; encode text as UTF-8.`);
      }
    }
  });
  let count = 0;
  for (const [rawKey] of new URLSearchParams(query)) {
    if (++count > MAX_QUERY_PARAMS)
      throw invalidQueryParams(`query parameter ${count}: a query string carries at most ${MAX_QUERY_PARAMS} parameters.`);
    if (keyNames(rawKey).some(isPrototypeKey)) throw invalidQueryParams(`query parameter "${rawKey}": ${PROTOTYPE_KEY_RULE}.`);
    const nesting = rawKey.split('[').length - 1;
    if (nesting > MAX_QUERY_NESTING) {
      throw invalidQueryParams(
        `query parameter "${rawKey.length > 200 ? `${rawKey.slice(0, 200)}…` : rawKey}": nests ${nesting} brackets deep; at most ${MAX_QUERY_NESTING} (a[b][c] is 2).`,
      );
    }
  }
}

const safeDecode = (text: string): string => {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return text;
  }
};

export function parseQuery(search: URLSearchParams): ParsedQuery {
  const root: Record<string, unknown> = {};
  let count = 0;
  for (const [rawKey, value] of search) {
    if (++count > MAX_QUERY_PARAMS) break;
    const path = keyPath(rawKey);
    if (path?.some(isPrototypeKey)) throw invalidQueryParams(`query parameter "${rawKey}": ${PROTOTYPE_KEY_RULE}.`);
    if (!path) continue;
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
