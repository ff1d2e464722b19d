import type { OfferRow } from '../db/qualifications';
import { definitionAt, load, type LoadedDefinition, type VoucherDefinition } from './definitions';

/**
 * The definitions of a qualification's candidates, as ONE cache entry: the offers nobody holds
 * (promotion tiers, codes marked public) are the same for every shopper, so their definitions are
 * kept together under the digest of every candidate's `code:version` pair, read live by the
 * visitor batch. The key names exactly the definitions it holds: a change of any offer (its
 * terms, rules, segments, campaign, or whether it is offered at all) changes the set the next
 * request reads, so that request asks for another key. Nothing is invalidated, so nothing can be
 * missed; a late fill of an old set lands under a key nobody asks for again, as with single codes
 * (shared/voucher-definition.ts).
 *
 * A warm isolate answers from memory (no KV read), a cold one with one KV read for all of them;
 * a new set is filled from the per-code definitions (isolate, KV, else D1) and written once.
 * The customer's own codes differ per customer: each comes from its per-code definition.
 */
// v2: the per-code definitions it holds are of their v4 shape (services/definitions.ts).
const kvKey = (digest: string) => `offers:v2:${digest}`;
const CACHE_TTL_SECONDS = 86_400;

/** Catalogues parsed in this isolate, by digest; a few, since a new set replaces the old at once. */
const parsed = new Map<string, Map<string, LoadedDefinition>>();
const MAX_PARSED = 4;
const filling = new Map<string, Promise<Map<string, LoadedDefinition>>>();

type Stored = Record<string, { version: string; definition: VoucherDefinition }>;

async function digestOf(rows: OfferRow[]): Promise<string> {
  const text = rows
    .map((r) => `${r.code}\u0000${r.definition_version}`)
    .sort()
    .join('\n');
  const bytes = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function remember(digest: string, catalogue: Map<string, LoadedDefinition>) {
  if (!parsed.has(digest) && parsed.size >= MAX_PARSED) parsed.delete(parsed.keys().next().value as string);
  parsed.set(digest, catalogue);
  return catalogue;
}

async function fill(env: { DB: D1Database; CACHE: KVNamespace }, digest: string, rows: OfferRow[]) {
  const cached = await env.CACHE.get(kvKey(digest), 'text');
  if (cached !== null) {
    const stored = JSON.parse(cached) as Stored;
    return remember(digest, new Map(Object.entries(stored).map(([code, e]) => [code, load(e.version, e.definition)])));
  }
  // A new set is mostly the last one with one offer changed: what this isolate already parsed at the
  // same version is taken from its earlier entries, the rest from the per-code definitions.
  const known = (r: OfferRow) => {
    for (const entry of parsed.values()) {
      const d = entry.get(r.code);
      if (d?.version === r.definition_version) return d;
    }
    return null;
  };
  const definitions = await Promise.all(rows.map((r) => known(r) ?? definitionAt(env, r.code, r.definition_version)));
  const catalogue = new Map<string, LoadedDefinition>();
  definitions.forEach((d, i) => {
    if (d) catalogue.set((rows[i] as OfferRow).code, d);
  });
  // Only a set whose every member is the version the digest names is stored under it: a code
  // changed (or deleted) between the live read and this fill serves this request and is read again
  // by the next one, under the new digest.
  const exact = definitions.every((d, i) => d !== null && d.version === (rows[i] as OfferRow).definition_version);
  if (!exact) return catalogue;
  const stored: Stored = {};
  for (const [code, d] of catalogue) {
    const { version, ruleSets: _r, segmentFilters: _s, segmentIds: _i, scope: _c, ...definition } = d;
    stored[code] = { version, definition };
  }
  await env.CACHE.put(kvKey(digest), JSON.stringify(stored), { expirationTtl: CACHE_TTL_SECONDS });
  return remember(digest, catalogue);
}

/**
 * The definitions of the candidates read live, by code (a code deleted since is absent). The shared
 * entry always covers every offer nobody holds, whatever the request filters, so that filters and
 * scenarios share one entry instead of each making its own; `wanted` picks the customer's own codes
 * to load (each is a read of its own when not in this isolate).
 */
export async function offerDefinitions(
  env: { DB: D1Database; CACHE: KVNamespace },
  rows: OfferRow[],
  wanted: (row: OfferRow) => boolean,
): Promise<Map<string, LoadedDefinition>> {
  const shared = rows.filter((r) => r.holder_id === null);
  const held = rows.filter((r) => r.holder_id !== null && wanted(r));
  const [catalogue, own] = await Promise.all([
    sharedCatalogue(env, shared),
    Promise.all(held.map((r) => definitionAt(env, r.code, r.definition_version))),
  ]);
  const all = new Map(catalogue);
  own.forEach((d, i) => {
    if (d) all.set((held[i] as OfferRow).code, d);
  });
  return all;
}

async function sharedCatalogue(env: { DB: D1Database; CACHE: KVNamespace }, rows: OfferRow[]): Promise<Map<string, LoadedDefinition>> {
  if (rows.length === 0) return new Map();
  const digest = await digestOf(rows);
  const known = parsed.get(digest);
  if (known) return known;
  let pending = filling.get(digest);
  if (!pending) {
    pending = fill(env, digest, rows).finally(() => filling.delete(digest));
    filling.set(digest, pending);
  }
  return pending;
}
