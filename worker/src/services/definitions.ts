import { type FilterAst, parseFilter } from '../../../shared/filter';
import { parseRuleSet, type RuleSet, ruleSetSegmentIds } from '../../../shared/rules';
import { type ItemScope, mergeScopes } from '../../../shared/discount';
import type { ApplicableTo, ApplicableToRules, Discount, SegmentType } from '../../../shared/types';
import type { DayOfWeek, ValidityHours, ValidityTimeframe } from '../../../shared/validity';
import * as segmentsDb from '../db/segments';
import * as vouchersDb from '../db/vouchers';

export type { LoadedDefinition, VoucherDefinition } from '../../../shared/voucher-definition';
import type { LoadedDefinition, VoucherDefinition } from '../../../shared/voucher-definition';

// v4: keyed by version (v2 entries, keyed by code alone, are never read again). A tier's entry says
// it is one (`tier`); every entry carries its campaign's switch (`campaign_active`), which v3
// entries held for tiers only, so none of them is read again either.
const kvKey = (code: string, version: string) => `voucher-def:v4:${code}:${version}`;
/** Old versions are never read again; this only bounds how long they occupy KV. */
const CACHE_TTL_SECONDS = 86_400;
/** Reads of a definition that a concurrent change interrupted are retried this often. */
const MAX_READ_ATTEMPTS = 3;

/**
 * The definition of a code and the version it belongs to, read consistently: the voucher and its
 * rules in one batch, then the segments the rules name together with the voucher's version again;
 * if the version moved in between, the read starts over. null: no such voucher (deleted since).
 * `consistent` is false when the version still moved on the last attempt: the segments may be of a
 * later version than the rest, so the definition serves the request that read it but is never
 * cached under a version its parts do not share.
 */
async function readDefinition(
  db: D1Database,
  code: string,
): Promise<{ version: string; definition: VoucherDefinition; consistent: boolean } | null> {
  for (let attempt = 1; ; attempt++) {
    const first = await vouchersDb.definitionRows(db, code);
    if (!first) return null;
    const { row, rules } = first;
    const parsed = rules.map((r) => parseRuleSet(JSON.parse(r.rules), r.error === null ? undefined : JSON.parse(r.error)));
    const ids = [...new Set(parsed.flatMap(ruleSetSegmentIds))];
    const { segments, version } = await segmentsDb.segmentsWithVoucherVersion(db, ids, row.id);
    const consistent = version === row.definition_version;
    if (!consistent && attempt < MAX_READ_ATTEMPTS) continue;
    return {
      version: row.definition_version,
      consistent,
      definition: {
        voucher: {
          id: row.id,
          code: row.code,
          discount: vouchersDb.parseDiscount(row.discount),
          start_date: row.start_date,
          expiration_date: row.expiration_date,
          ...vouchersDb.rowValidity(row),
          metadata: JSON.parse(row.metadata) as Record<string, unknown>,
          campaign_id: row.campaign_id,
          campaign: row.campaign,
          ...(row.campaign_id ? { campaign_active: row.campaign_active !== 0 } : {}),
          ...(row.type === vouchersDb.TIER_TYPE
            ? {
                tier: {
                  name: row.name ?? null,
                  banner: row.banner ?? null,
                  hierarchy: row.hierarchy ?? null,
                  campaign_start_date: row.campaign_start_date ?? null,
                  campaign_expiration_date: row.campaign_expiration_date ?? null,
                },
              }
            : {}),
        },
        rules: rules.map((r) => ({
          id: r.id,
          rules: JSON.parse(r.rules),
          error: r.error === null ? null : JSON.parse(r.error),
          applicable_to: r.applicable_to == null ? null : vouchersDb.ruleApplicableTo(r),
        })),
        segments: segments.map((s) => ({ id: s.id, type: s.type, filter: s.filter === null ? null : JSON.parse(s.filter) })),
      },
    };
  }
}

/** A definition parsed once for judging (its rule sets, segment filters and item scope); pure, so benches build them too. */
export function load(version: string, definition: VoucherDefinition): LoadedDefinition {
  const ruleSets = definition.rules.map((r) => parseRuleSet(r.rules, r.error ?? undefined));
  const segmentFilters = new Map(
    definition.segments.map((s) => [s.id, { type: s.type, ast: s.filter === null ? null : parseFilter(s.filter) }]),
  );
  // Entries cached before migration 0015 have no applicable_to: no rule could scope items then.
  const scope = mergeScopes(definition.rules.flatMap((r) => (r.applicable_to ? [r.applicable_to] : [])));
  return { ...definition, version, ruleSets, segmentFilters, segmentIds: [...new Set(ruleSets.flatMap(ruleSetSegmentIds))], scope };
}

/** Parsed definitions of this isolate by `code:version`: a hot voucher costs no KV read at all. */
const parsed = new Map<string, LoadedDefinition>();
const MAX_PARSED = 200;
/** Fills in flight in this isolate: concurrent misses of one version share one D1 read and one KV write. */
const filling = new Map<string, Promise<LoadedDefinition | null>>();

function remember(definition: LoadedDefinition): LoadedDefinition {
  const key = `${definition.voucher.code}:${definition.version}`;
  if (!parsed.has(key) && parsed.size >= MAX_PARSED) parsed.delete(parsed.keys().next().value as string);
  parsed.set(key, definition);
  return definition;
}

async function fill(env: { DB: D1Database; CACHE: KVNamespace }, code: string, version: string): Promise<LoadedDefinition | null> {
  const cached = await env.CACHE.get(kvKey(code, version), 'text');
  if (cached !== null) return remember(load(version, JSON.parse(cached) as VoucherDefinition));
  const read = await readDefinition(env.DB, code);
  if (!read) return null;
  if (!read.consistent) return load(read.version, read.definition);
  // The read may have found a newer version than the one asked for (a change just committed): that
  // one is cached under its own key and returned with its own version. It is not the definition of
  // the live state the caller read at the version it asked for, so a caller that writes on the
  // strength of both (redeem) compares the versions and reads again when they differ.
  await env.CACHE.put(kvKey(code, read.version), JSON.stringify(read.definition), { expirationTtl: CACHE_TTL_SECONDS });
  return remember(load(read.version, read.definition));
}

/**
 * The definition of `code` at `version` (read live by the caller): from this isolate, else one KV
 * read, else D1 and one KV write per isolate however many requests miss at once. null: the voucher
 * is gone. Unknown codes never get here (the live read found no voucher): guesses cost no KV.
 * When the version asked for was replaced before D1 was read, the answer is the newer definition,
 * its `version` says so: compare it with the version read live before relying on the two together.
 */
export async function definitionAt(
  env: { DB: D1Database; CACHE: KVNamespace },
  code: string,
  version: string,
): Promise<LoadedDefinition | null> {
  const key = `${code}:${version}`;
  const known = parsed.get(key);
  if (known) return known;
  let pending = filling.get(key);
  if (!pending) {
    pending = fill(env, code, version).finally(() => filling.delete(key));
    filling.set(key, pending);
  }
  return pending;
}
