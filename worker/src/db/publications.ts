import type { StringConditions } from '../schemas/common';
import type { PublicationFilterField, PublicationListQuery } from '../schemas/publications';
import { conditionsSql } from './redemptions';
import { prepare, type Sql, sql } from './sql';
import { NOT_A_TIER, type VoucherRow } from './vouchers';

export interface PublicationRow {
  id: string;
  voucher_id: string;
  customer_id: string;
  campaign_id: string | null;
  source_id: string | null;
  channel: string;
  metadata: string;
  created_at: number;
}

/** Which code a publication hands out: a free code of a campaign, or one given code. */
export type PublicationTarget = { campaignId: string; joinOnce: boolean } | { voucher: string; joinOnceCampaignId?: string };

export interface PublicationWrite {
  id: string;
  customerId: string;
  sourceId: string | null;
  channel: string;
  metadata: string;
  now: number;
}

/**
 * A publication in one batch of two statements, so that no code is ever handed to two customers:
 *
 * 1. the publication's insert chooses the code: a campaign's code that nobody holds (and, with
 *    join_once, only while the customer holds none of the campaign's), or the given code when nobody
 *    else holds it;
 * 2. the conditional setVoucherHolder (claimVoucherHolder) makes the customer its holder.
 *
 * D1 runs a batch's statements in one transaction and batches one after another, so between the
 * choice and the claim no other publication runs: two concurrent publications can never choose the
 * same free code. RETURNING: the publication (none chosen: no code suitable) and the voucher.
 */
export function publishStatements(db: D1Database, target: PublicationTarget, p: PublicationWrite): D1PreparedStatement[] {
  const insert =
    'campaignId' in target
      ? prepare(
          db,
          sql`INSERT INTO publications (id, voucher_id, customer_id, campaign_id, source_id, channel, metadata, created_at)
             SELECT ${p.id}, v.id, ${p.customerId}, v.campaign_id, ${p.sourceId}, ${p.channel}, ${p.metadata}, ${p.now} FROM vouchers v
             WHERE v.campaign_id = ${target.campaignId} AND v.holder_id IS NULL AND ${sql.raw(NOT_A_TIER('v'))}
               AND (${target.joinOnce ? 1 : 0} = 0 OR NOT EXISTS (SELECT 1 FROM vouchers h WHERE h.campaign_id = ${target.campaignId} AND h.holder_id = ${p.customerId}))
             LIMIT 1
             RETURNING *`,
        )
      : prepare(
          db,
          sql`INSERT INTO publications (id, voucher_id, customer_id, campaign_id, source_id, channel, metadata, created_at)
             SELECT ${p.id}, v.id, ${p.customerId}, v.campaign_id, ${p.sourceId}, ${p.channel}, ${p.metadata}, ${p.now} FROM vouchers v
             WHERE v.id = (SELECT id FROM vouchers WHERE (code = ${target.voucher} OR id = ${target.voucher}) AND ${sql.raw(NOT_A_TIER())} ORDER BY code = ${target.voucher} DESC LIMIT 1)
               AND (v.holder_id IS NULL OR v.holder_id = ${p.customerId})
               AND (${target.joinOnceCampaignId ?? null} IS NULL OR NOT EXISTS (SELECT 1 FROM vouchers h WHERE h.campaign_id = ${target.joinOnceCampaignId ?? null} AND h.holder_id = ${p.customerId}))
             RETURNING *`,
        );
  return [insert, claimVoucherHolder(db, p.id, p.customerId, p.now)];
}

/**
 * setVoucherHolder's conditional variant (db/vouchers.ts): the voucher the publication chose gets
 * its holder only if it has none yet (or already is this customer's). RETURNING the voucher.
 */
export function claimVoucherHolder(db: D1Database, publicationId: string, customerId: string, now: number): D1PreparedStatement {
  return prepare(
    db,
    sql`UPDATE vouchers SET holder_id = ${customerId}, updated_at = ${now}, publish_count = publish_count + 1
       WHERE id = (SELECT voucher_id FROM publications WHERE id = ${publicationId}) AND (holder_id IS NULL OR holder_id = ${customerId})
       RETURNING *`,
  );
}

/** The customer's first publication of a campaign and its voucher (join_once hands it out again). */
export async function publicationOfCustomer(
  db: D1Database,
  customerId: string,
  campaignId: string,
): Promise<{ publication: PublicationRow; voucher: VoucherRow } | null> {
  const [pub, voucher] = await db.batch<Record<string, unknown>>([
    db
      .prepare('SELECT * FROM publications WHERE customer_id = ? AND campaign_id = ? ORDER BY created_at, id LIMIT 1')
      .bind(customerId, campaignId),
    db
      .prepare(
        `SELECT * FROM vouchers WHERE id = (SELECT voucher_id FROM publications WHERE customer_id = ? AND campaign_id = ? ORDER BY created_at, id LIMIT 1)`,
      )
      .bind(customerId, campaignId),
  ]);
  const publication = pub?.results[0] as unknown as PublicationRow | undefined;
  const v = voucher?.results[0] as unknown as VoucherRow | undefined;
  return publication && v ? { publication, voucher: v } : null;
}

export type PublicationListRow = PublicationRow & { code: string; campaign: string | null; discount: string };

/**
 * The filterable fields of GET /v1/publications as SQL over `publications p JOIN vouchers v`, as
 * the publication object shows them: every stored publication succeeded (result SUCCESS, no
 * failure_code), of a discount code that is no referral code; its parent object is the campaign,
 * its related object the voucher.
 */
const FILTER_COLUMNS: Record<PublicationFilterField, string> = {
  failure_code: 'NULL',
  result: "'SUCCESS'",
  customer_id: 'p.customer_id',
  campaign_name: '(SELECT c.name FROM campaigns c WHERE c.id = p.campaign_id)',
  voucher_type: "'discount'",
  is_referral_code: "'false'",
  parent_object_id: 'p.campaign_id',
  related_object_id: 'v.id',
  source_id: 'p.source_id',
};

/** OA `order` of the list; `tracking_id` is the customer's source id, as the publication shows it. */
const ORDER_BY: Record<PublicationListQuery['order'], string> = {
  id: 'p.id ASC',
  '-id': 'p.id DESC',
  voucher_code: 'v.code ASC, p.id ASC',
  '-voucher_code': 'v.code DESC, p.id DESC',
  tracking_id: '(SELECT source_id FROM customers WHERE id = p.customer_id) ASC NULLS LAST, p.created_at ASC, p.id ASC',
  '-tracking_id': '(SELECT source_id FROM customers WHERE id = p.customer_id) DESC NULLS LAST, p.created_at DESC, p.id DESC',
  customer_id: 'p.customer_id ASC, p.created_at ASC, p.id ASC',
  '-customer_id': 'p.customer_id DESC, p.created_at DESC, p.id DESC',
  created_at: 'p.created_at ASC, p.id ASC',
  '-created_at': 'p.created_at DESC, p.id DESC',
  channel: 'p.channel ASC, p.created_at ASC, p.id ASC',
  '-channel': 'p.channel DESC, p.created_at DESC, p.id DESC',
};

/** One page of publications with their codes, and the total: one batch. */
export async function listPublications(db: D1Database, q: PublicationListQuery): Promise<{ rows: PublicationListRow[]; total: number }> {
  const where: Sql[] = [];
  if (q.customer !== undefined)
    where.push(sql`p.customer_id IN (SELECT id FROM customers WHERE id = ${q.customer} OR source_id = ${q.customer})`);
  if (q.campaign !== undefined)
    where.push(sql`p.campaign_id IN (SELECT id FROM campaigns WHERE id = ${q.campaign} OR name = ${q.campaign})`);
  if (q.voucher !== undefined) where.push(sql`v.code = ${q.voucher}`);
  if (q.sourceId !== undefined) where.push(sql`p.source_id = ${q.sourceId}`);
  // Every stored publication succeeded; a FAILURE filter matches none.
  if (q.result === 'FAILURE' || q.matchesNone) where.push(sql.raw('0'));
  if (q.filters) {
    const { junction, ...fields } = q.filters;
    const filters = Object.entries(fields).map(([field, filter]) =>
      conditionsSql(FILTER_COLUMNS[field as PublicationFilterField], (filter as { conditions: StringConditions }).conditions),
    );
    if (filters.length > 0) where.push(sql`(${sql.join(filters, junction === 'or' ? 'OR' : 'AND')})`);
  }
  const filter = where.length ? sql`WHERE ${sql.join(where, 'AND')}` : sql.raw('');
  const from = sql.raw('FROM publications p JOIN vouchers v ON v.id = p.voucher_id');
  const order = sql.raw(ORDER_BY[q.order]);
  const [page, count] = await db.batch<Record<string, unknown>>([
    prepare(
      db,
      sql`SELECT p.*, v.code, v.campaign, v.discount ${from} ${filter} ORDER BY ${order} LIMIT ${q.limit} OFFSET ${(q.page - 1) * q.limit}`,
    ),
    prepare(db, sql`SELECT count(*) AS total ${from} ${filter}`),
  ]);
  return { rows: (page?.results ?? []) as unknown as PublicationListRow[], total: Number(count?.results[0]?.total ?? 0) };
}
