import type { Customer } from '../../../shared/types';
import * as campaignsDb from '../db/campaigns';
import * as customersDb from '../db/customers';
import * as publicationsDb from '../db/publications';
import * as vouchersDb from '../db/vouchers';
import type { Env } from '../env';
import { apiError, notFound } from '../errors';
import { promotionNotPublished } from './promotions';
import { randomId } from '../lib/ids';
import { generateCodes } from '../lib/codes';
import { toIso } from '../lib/time';
import type { PublicationCreate, PublicationListQuery } from '../schemas/publications';
import { createOrUpsertCustomer, getCustomer } from './customers';
import { rowToVoucher } from '../views/voucher';
import { rowToCustomer } from '../views/customer';

type Bindings = Pick<Env, 'DB'>;

/** The customer as a publication embeds it (OA PublicationsCreateVoucherResponseBody example). */
const publicationCustomer = (c: Pick<Customer, 'id' | 'name' | 'email' | 'source_id' | 'metadata'>) => ({
  id: c.id,
  name: c.name ?? null,
  email: c.email ?? null,
  source_id: c.source_id ?? null,
  metadata: c.metadata ?? {},
  object: 'customer' as const,
});

function publicationJson(p: publicationsDb.PublicationRow, customer: ReturnType<typeof publicationCustomer>, voucher: unknown) {
  return {
    id: p.id,
    object: 'publication' as const,
    created_at: toIso(p.created_at),
    customer_id: p.customer_id,
    // OA example: the customer's source id ("tracking_id": "pub_source_customer_5").
    tracking_id: customer.source_id,
    metadata: JSON.parse(p.metadata) as Record<string, unknown>,
    channel: p.channel,
    source_id: p.source_id,
    result: 'SUCCESS' as const,
    customer,
    vouchers_id: [p.voucher_id],
    voucher,
  };
}

async function voucherJson(db: D1Database, row: vouchersDb.VoucherRow) {
  const { results } = await vouchersDb.assignmentsOfVoucher(db, row.id).all<vouchersDb.AssignmentRow>();
  return rowToVoucher(row, results);
}

/**
 * POST /v1/publications: the customer (found by id, or created / upserted by source_id as POST
 * /v1/customers does) is handed a free code of the campaign, or the given code, and becomes its
 * holder, in one batch (db/publications.ts). With join_once (the campaign's, the query's or the
 * SDK's body field) a customer who holds a code of the campaign gets that publication again.
 */
export async function createPublication(env: Bindings, input: PublicationCreate, joinOnceQuery: boolean | undefined) {
  const db = env.DB;
  let campaign: campaignsDb.CampaignRead | null = null;
  if (input.campaign) {
    campaign = await campaignsDb.findCampaign(db, input.campaign.name).first<campaignsDb.CampaignRead>();
    if (!campaign) throw notFound('campaign', input.campaign.name);
    // Refused before the customer is written: a promotion's tiers are never handed out.
    if (campaign.campaign_type === 'PROMOTION') throw promotionNotPublished(campaign.id);
  }
  const { id, write } = input.customer;
  const customer =
    id !== undefined && Object.keys(write).length === 0 ? await getCustomer(db, id) : await createOrUpsertCustomer(db, id, write);
  const joinOnce = campaign !== null && (campaign.join_once === 1 || input.join_once === true || joinOnceQuery === true);
  const again = async () => {
    if (!campaign) return null;
    const held = await publicationsDb.publicationOfCustomer(db, customer.id, campaign.id);
    return held && publicationJson(held.publication, publicationCustomer(customer), await voucherJson(db, held.voucher));
  };
  if (joinOnce) {
    const earlier = await again();
    if (earlier) return earlier;
  }
  const attempt = async (target: publicationsDb.PublicationTarget) => {
    const now = Date.now();
    const write: publicationsDb.PublicationWrite = {
      id: randomId('pub_'),
      customerId: customer.id,
      sourceId: input.source_id ?? null,
      channel: input.channel ?? 'API',
      metadata: JSON.stringify(input.metadata ?? {}),
      now,
    };
    const [published, claimed] = await db.batch<Record<string, unknown>>(publicationsDb.publishStatements(db, target, write));
    const publication = published?.results[0] as unknown as publicationsDb.PublicationRow | undefined;
    const voucher = claimed?.results[0] as unknown as vouchersDb.VoucherRow | undefined;
    return publication && voucher ? publicationJson(publication, publicationCustomer(customer), await voucherJson(db, voucher)) : null;
  };
  if (!campaign) {
    const done = await attempt({ voucher: input.voucher as string });
    if (done) return done;
    const exists = await vouchersDb.findVoucher(db, input.voucher as string).first<vouchersDb.VoucherRow>();
    if (!exists) throw notFound('voucher', input.voucher as string);
    throw apiError('voucher_already_published', `Voucher '${exists.id}' has already been published`);
  }
  const done = await attempt({ campaignId: campaign.id, joinOnce });
  if (done) return done;
  // join_once: a concurrent publication gave this customer a code between the look and the batch.
  const earlier = joinOnce ? await again() : null;
  if (earlier) return earlier;
  // OA CampaignBase.type AUTO_UPDATE: "vouchers will generate based on set criteria": a new code
  // for this publication (STATIC: "vouchers need to be manually published", none is made).
  if (campaign.type === 'AUTO_UPDATE') {
    const config = campaignsDb.templateOf(campaign).code_config;
    for (let tries = 0; tries < 3; tries++) {
      const [code] = generateCodes(config, 1) as [string];
      const { results } = await campaignsDb.insertCampaignCodes(db, campaign, [{ code }], Date.now()).all<{ code: string }>();
      // A concurrent publication may take the new code first: then another one.
      const made = results.length === 1 ? await attempt({ voucher: code, ...(joinOnce ? { joinOnceCampaignId: campaign.id } : {}) }) : null;
      if (made) return made;
      const raced = joinOnce ? await again() : null;
      if (raced) return raced;
    }
  }
  // OA24 POST /v1/publications 400 (OpenAPI24.json:L66933).
  throw apiError('no_voucher_suitable_for_publication', "Couldn't create new vouchers for publication");
}

/** GET /v1/publications (OA PublicationsListResponseBody: data_ref 'publications'), newest first. */
export async function listPublications(db: D1Database, query: PublicationListQuery) {
  const { rows, total } = await publicationsDb.listPublications(db, query);
  const customers = new Map(
    (await customersDb.customersByIds(db, [...new Set(rows.map((r) => r.customer_id))])).map((c) => [c.id, rowToCustomer(c)]),
  );
  return {
    object: 'list' as const,
    data_ref: 'publications' as const,
    publications: rows.map((row) => {
      const c = customers.get(row.customer_id);
      const customer = publicationCustomer(c ?? { id: row.customer_id, name: null, email: null, source_id: null, metadata: {} });
      // The list's short voucher (OA GET /v1/publications example): code, object, campaign, discount.
      const voucher = {
        code: row.code,
        object: 'voucher' as const,
        campaign: row.campaign,
        discount: vouchersDb.parseDiscount(row.discount),
        is_referral_code: false,
      };
      return publicationJson(row, customer, voucher);
    }),
    total,
  };
}
