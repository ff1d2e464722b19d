import type { LiveVoucher } from './tracking';
import { type Sql, sql } from './sql';
import { VOUCHER_VERSION_SQL } from './vouchers';

/** A candidate of a qualification as the visitor batch reads it live: the voucher's counters and what the filters and sorting need. */
export interface OfferRow extends LiveVoucher {
  /** DISCOUNT_VOUCHER for a code, PROMOTION_TIER for a promotion tier (the shared model: a tier is a row of `vouchers`). */
  type: string;
  campaign_id: string | null;
  created_at: number;
  /** A promotion tier's name and banner (migration 0030); null for a code. */
  name: string | null;
  banner: string | null;
}

/** Which offers are read live (docs/qualifications.md, "Which offers are candidates"). */
export interface OfferScope {
  /** Every promotion tier (all a promotions validation reads). */
  tiers: boolean;
  /** The codes nobody holds that the shop marked public, on the code or its campaign. */
  publicCodes: boolean;
  /** The customer's own codes (server key; client key only for a verified customer). */
  wallet: boolean;
}

/**
 * More candidates than this are not judged (the newest are): a shop that marks more codes public
 * than a storefront can show has marked a campaign of unique codes, which is a mistake to notice in
 * the docs, not a reason to read ten thousand rows on every cart change.
 */
export const MAX_CANDIDATES = 2000;

/**
 * The live rows of a qualification's candidates, for the visitor batch (db/tracking.ts
 * `liveVouchers`: one round trip with the visitor): every promotion tier, every code nobody holds
 * that is marked public (itself or by its campaign, migration 0031), and the codes the customer
 * holds. A campaign's unpublished codes are no one's offer unless the shop marked them. Each row's
 * definition version is the one validate reads (VOUCHER_VERSION_SQL), so the definitions judged are
 * the ones validate would judge.
 */
export const offerRows =
  (scope: OfferScope) =>
  (customer: Sql): Sql => {
    const sources: Sql[] = [];
    if (scope.tiers) sources.push(sql`SELECT id FROM vouchers WHERE type = 'PROMOTION_TIER'`);
    if (scope.publicCodes)
      sources.push(
        sql`SELECT id FROM vouchers WHERE public = 1 AND holder_id IS NULL`,
        sql`SELECT id FROM vouchers WHERE holder_id IS NULL AND campaign_id IN (SELECT id FROM campaigns WHERE public = 1)`,
      );
    if (scope.wallet) sources.push(sql`SELECT id FROM vouchers WHERE holder_id = ${customer}`);
    const ids =
      sources.length === 0
        ? sql`SELECT NULL WHERE 0`
        : { sql: sources.map((s) => s.sql).join(' UNION '), params: sources.flatMap((s) => s.params) };
    return sql`SELECT v.id, v.code, v.type, v.quantity, v.redeemed_quantity, v.active, ${sql.raw(VOUCHER_VERSION_SQL('v'))} AS definition_version,
        v.holder_id, v.campaign_id, v.created_at, v.name, v.banner
      FROM vouchers v WHERE v.id IN (${ids})
      ORDER BY v.created_at DESC, v.id DESC LIMIT ${MAX_CANDIDATES}`;
  };
