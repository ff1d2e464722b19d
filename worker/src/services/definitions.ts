import { type FilterAst, parseFilter } from '../../../shared/filter';
import { parseRuleSet, type RuleSet, ruleSetSegmentIds } from '../../../shared/rules';
import type { Discount, SegmentType } from '../../../shared/types';
import type { DayOfWeek, ValidityHours, ValidityTimeframe } from '../../../shared/validity';
import * as segmentsDb from '../db/segments';
import * as vouchersDb from '../db/vouchers';

/**
 * What validating a voucher needs besides the visitor: the voucher's terms, its rules and the
 * definitions of the segments those rules name. Cached in KV per code, so the hot path reads it
 * with one KV get; every write that changes any part deletes the entry (invalidate*).
 */
export interface VoucherDefinition {
  voucher: {
    id: string;
    code: string;
    discount: Discount;
    start_date: number | null;
    expiration_date: number | null;
    validity_timeframe: ValidityTimeframe | null;
    validity_day_of_week: DayOfWeek[] | null;
    validity_hours: ValidityHours | null;
    metadata: Record<string, unknown>;
  };
  /** Raw rule sets as stored (parsed again on use; parsing is cheap and keeps the cache plain JSON). */
  rules: { id: string; rules: unknown; error: unknown }[];
  segments: { id: string; type: SegmentType; filter: unknown }[];
}

/** The definition, ready to judge with. */
export interface LoadedDefinition extends VoucherDefinition {
  ruleSets: RuleSet[];
  segmentFilters: Map<string, { type: SegmentType; ast: FilterAst | null }>;
  segmentIds: string[];
}

// v2: the voucher carries its validity windows (a v1 entry lacks them and would judge them absent).
const cacheKey = (code: string) => `voucher-def:v2:${code}`;
/** A safety net only: writes delete entries; this bounds the life of one whose delete was lost. */
const CACHE_TTL_SECONDS = 3600;

async function readDefinition(db: D1Database, code: string): Promise<VoucherDefinition | null> {
  const row = await vouchersDb.findVoucher(db, code).first<vouchersDb.VoucherRow>();
  if (!row || row.code !== code) return null;
  const rules = await vouchersDb.rulesOfVoucher(db, row.id);
  const parsed = rules.map((r) => parseRuleSet(JSON.parse(r.rules), r.error === null ? undefined : JSON.parse(r.error)));
  const ids = [...new Set(parsed.flatMap(ruleSetSegmentIds))];
  const segments = (await Promise.all(ids.map((id) => segmentsDb.findSegment(db, id)))).filter((s) => s !== null);
  return {
    voucher: {
      id: row.id,
      code: row.code,
      discount: vouchersDb.parseDiscount(row.discount),
      start_date: row.start_date,
      expiration_date: row.expiration_date,
      ...vouchersDb.rowValidity(row),
      metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    },
    rules: rules.map((r) => ({ id: r.id, rules: JSON.parse(r.rules), error: r.error === null ? null : JSON.parse(r.error) })),
    segments: segments.map((s) => ({ id: s.id, type: s.type, filter: s.filter === null ? null : JSON.parse(s.filter) })),
  };
}

function load(definition: VoucherDefinition): LoadedDefinition {
  const ruleSets = definition.rules.map((r) => parseRuleSet(r.rules, r.error ?? undefined));
  const segmentFilters = new Map(
    definition.segments.map((s) => [s.id, { type: s.type, ast: s.filter === null ? null : parseFilter(s.filter) }]),
  );
  return { ...definition, ruleSets, segmentFilters, segmentIds: [...new Set(ruleSets.flatMap(ruleSetSegmentIds))] };
}

/**
 * Parsed definitions of this isolate, keyed by the exact cached text: a hot voucher is parsed once
 * per isolate, not once per request, and a changed KV value is a different key.
 */
const parsed = new Map<string, LoadedDefinition | null>();
const MAX_PARSED = 200;

function parseCached(text: string): LoadedDefinition | null {
  let entry = parsed.get(text);
  if (entry === undefined) {
    const { definition } = JSON.parse(text) as { definition: VoucherDefinition | null };
    entry = definition ? load(definition) : null;
    if (parsed.size >= MAX_PARSED) parsed.delete(parsed.keys().next().value as string);
    parsed.set(text, entry);
  }
  return entry;
}

/**
 * One KV read when warm; on a miss, D1 reads and a KV write. null: no such voucher. Unknown codes
 * are not cached: a guessed code would otherwise cost a KV write each (billed, and limited to one
 * write per second per key), so a stream of guesses costs one indexed D1 read each instead.
 */
export async function loadVoucherDefinition(env: { DB: D1Database; CACHE: KVNamespace }, code: string): Promise<LoadedDefinition | null> {
  const cached = await env.CACHE.get(cacheKey(code), 'text');
  if (cached !== null) return parseCached(cached);
  const definition = await readDefinition(env.DB, code);
  if (!definition) return null;
  const text = JSON.stringify({ definition });
  await env.CACHE.put(cacheKey(code), text, { expirationTtl: CACHE_TTL_SECONDS });
  return parseCached(text);
}

export async function invalidateVoucherCodes(cache: KVNamespace, codes: string[]): Promise<void> {
  await Promise.all([...new Set(codes)].map((code) => cache.delete(cacheKey(code))));
}

export async function invalidateRule(env: { DB: D1Database; CACHE: KVNamespace }, ruleId: string): Promise<void> {
  await invalidateVoucherCodes(env.CACHE, await vouchersDb.voucherCodesOfRule(env.DB, ruleId));
}

export async function invalidateSegment(env: { DB: D1Database; CACHE: KVNamespace }, segmentId: string): Promise<void> {
  await invalidateVoucherCodes(env.CACHE, await vouchersDb.voucherCodesUsingSegment(env.DB, segmentId));
}
