/**
 * A voucher's definition as the worker caches and judges it: plain types over the other shared
 * modules, so that services (which load it) and views (which render a judgement of it) share one
 * description without importing each other.
 */
import type { ItemScope } from './discount';
import type { FilterAst } from './filter';
import type { RuleSet } from './rules';
import type { ApplicableTo, ApplicableToRules, Discount, SegmentType } from './types';
import type { DayOfWeek, ValidityHours, ValidityTimeframe } from './validity';

/**
 * What validating a voucher needs besides the visitor: the voucher's terms, its rules and the
 * definitions of the segments those rules name, as they stood at one version of the voucher
 * (migration 0012: triggers replace `definition_version` on every change to any part).
 *
 * Staleness: the hot path reads the live version with the counters (the visitor read) and asks for
 * the definition AT that version. The isolate and KV keep definitions under `code:version`, so an
 * entry of another version is never used and a late fill of an old version lands under a key that
 * nobody asks for again; no invalidation exists to be lost. A change applies from the very next
 * request that reads the new version, in every location: KV's eventual consistency only decides
 * whether that request finds the entry cached (one D1 read when not), never what it grants.
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
    /** The code's campaign (migration 0017; never changes). Absent in entries cached before it. */
    campaign_id?: string | null;
    campaign?: string | null;
    /**
     * Its campaign's switch (POST /v1/campaigns/{id}/enable|disable): false refuses the code or
     * tier whatever its own flag says. The campaign's version is part of the definition version
     * (db/vouchers.ts VOUCHER_VERSION_SQL), so a flip reaches every code and tier of it on the
     * next request. Absent: no campaign.
     */
    campaign_active?: boolean;
    /**
     * A promotion tier's row (migration 0030) is judged like a code: what sets it apart is its type,
     * its name and banner (shown by the promotions validation answer), its hierarchy (the order of
     * that answer), and its campaign's dates, which a tier does not copy (a tier has dates of its
     * own beside them). Absent: a code.
     */
    tier?: {
      name: string | null;
      banner: string | null;
      hierarchy: number | null;
      campaign_start_date: number | null;
      campaign_expiration_date: number | null;
    };
  };
  /** Raw rule sets as stored (parsed again on use; parsing is cheap and keeps the cache plain JSON). */
  rules: { id: string; rules: unknown; error: unknown; applicable_to?: ApplicableToRules | null }[];
  segments: { id: string; type: SegmentType; filter: unknown }[];
}

/** The definition at one version, ready to judge with. */
export interface LoadedDefinition extends VoucherDefinition {
  version: string;
  ruleSets: RuleSet[];
  segmentFilters: Map<string, { type: SegmentType; ast: FilterAst | null }>;
  segmentIds: string[];
  /** The items the discount may touch, merged over the rules (null: the whole order). */
  scope: ItemScope<ApplicableTo> | null;
}
