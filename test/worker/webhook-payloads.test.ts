import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { WEBHOOK_EVENT_TYPES } from '../../shared/webhook-events';
import type { OutboxRow } from '../../worker/src/db/webhook-outbox';
import { webhookPayload } from '../../worker/src/services/webhook-payloads';
import { api, json, ok } from './helpers';

// The body of each webhook event (services/webhook-payloads.ts), checked against the shapes of
// Voucherify's webhook reference. WH = reference/OpenAPIWebhooks.json of voucherifyio/voucherify-openapi: `webhooks["EVENTS.…"]`
// names each event's data schema, `components.schemas` the objects inside; the line of each is cited.

type Json = Record<string, any>;
const db = env.DB;

/** The subset of JSON Schema the WH schemas below use. */
interface Schema {
  type: 'object' | 'string' | 'integer' | 'boolean' | 'array';
  required?: string[];
  nullable?: boolean;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  /** An array's items (checked each). */
  items?: Schema;
}

const str: Schema = { type: 'string' };
const int: Schema = { type: 'integer' };
const bool: Schema = { type: 'boolean' };
const obj: Schema = { type: 'object' };
const arr: Schema = { type: 'array' };

// WH CustomerSummaryRedemptions (L1381), CustomerSummaryOrders (L1347), CustomerSummary (L1331),
// CustomerLoyalty (L1230), CustomerReferrals (L1273), CustomerBase (L1146) and
// CustomerWithSummaryLoyaltyReferrals (L1459, required summary, loyalty, referrals, object).
const customerWithSummary: Schema = {
  type: 'object',
  required: ['summary', 'loyalty', 'referrals', 'object'],
  properties: {
    id: str,
    source_id: str,
    name: str,
    description: str,
    email: str,
    phone: str,
    birthdate: str,
    address: { type: 'object', nullable: true },
    metadata: obj,
    system_metadata: obj,
    created_at: str,
    updated_at: str,
    summary: {
      type: 'object',
      nullable: true,
      required: ['orders', 'redemptions'],
      properties: {
        redemptions: {
          type: 'object',
          required: [
            'gift',
            'loyalty_card',
            'total_failed',
            'total_redeemed',
            'total_rollback_failed',
            'total_rollback_succeeded',
            'total_rolled_back',
            'total_succeeded',
          ],
          properties: {
            total_redeemed: int,
            total_failed: int,
            total_succeeded: int,
            total_rolled_back: int,
            total_rollback_failed: int,
            total_rollback_succeeded: int,
            gift: obj,
            loyalty_card: obj,
          },
        },
        orders: {
          type: 'object',
          required: ['average_amount', 'last_order_amount', 'total_amount', 'total_count'],
          properties: { total_amount: int, total_count: int, average_amount: int, last_order_amount: int, last_order_date: str },
        },
      },
    },
    loyalty: {
      type: 'object',
      nullable: true,
      required: ['campaigns', 'points', 'referred_customers'],
      properties: { points: int, referred_customers: int, campaigns: obj },
    },
    referrals: { type: 'object', nullable: true, required: ['campaigns', 'total'], properties: { total: int, campaigns: arr } },
    object: { type: 'string', enum: ['customer'] },
  },
};
// WH SimpleSegment (L10302).
const simpleSegment: Schema = {
  type: 'object',
  required: ['id', 'name', 'object'],
  properties: { id: str, name: str, object: { type: 'string', enum: ['segment'] } },
};
// WH SimpleCustomer (L9270).
const simpleCustomer: Schema = {
  type: 'object',
  nullable: true,
  properties: { id: str, name: str, email: str, source_id: str, metadata: obj, object: { type: 'string', enum: ['customer'] } },
};
// WH SimpleOrder (L9640).
const simpleOrder: Schema = {
  type: 'object',
  nullable: true,
  required: ['object'],
  properties: {
    id: str,
    source_id: str,
    status: { type: 'string', enum: ['CREATED', 'PAID', 'CANCELED', 'FULFILLED'] },
    customer_id: { type: 'string', nullable: true },
    referrer_id: { type: 'string', nullable: true },
    amount: int,
    discount_amount: int,
    applied_discount_amount: int,
    items_discount_amount: int,
    items_applied_discount_amount: int,
    total_discount_amount: int,
    total_applied_discount_amount: int,
    total_amount: int,
    items: arr,
    metadata: obj,
    object: { type: 'string', enum: ['order'] },
  },
};
// WH SimpleVoucher (L10373, required code, created_at, object, type).
const simpleVoucher: Schema = {
  type: 'object',
  nullable: true,
  required: ['code', 'created_at', 'object', 'type'],
  properties: {
    id: str,
    code: str,
    discount: obj,
    type: { type: 'string', enum: ['DISCOUNT_VOUCHER', 'LOYALTY_CARD', 'GIFT_VOUCHER'] },
    campaign: str,
    campaign_id: str,
    is_referral_code: bool,
    holder_id: str,
    category_id: { type: 'string', nullable: true },
    categories: arr,
    active: bool,
    created_at: str,
    updated_at: str,
    redemption: obj,
    start_date: str,
    expiration_date: str,
    metadata: obj,
    object: { type: 'string', enum: ['voucher'] },
  },
};
// WH BusValRuleAssignment (L495, required id, rule_id, related_object_id, related_object_type, object,
// validation_status, validation_omitted_rules).
const busValRuleAssignment: Schema = {
  type: 'object',
  required: ['id', 'rule_id', 'related_object_id', 'related_object_type', 'object', 'validation_status', 'validation_omitted_rules'],
  properties: {
    id: str,
    rule_id: str,
    related_object_id: str,
    related_object_type: { type: 'string', enum: ['campaign', 'voucher', 'earning_rule'] },
    created_at: str,
    object: { type: 'string', enum: ['validation_rules_assignment'] },
    validation_status: { type: 'string', enum: ['VALID', 'PARTIALLY_VALID', 'INVALID'] },
    validation_omitted_rules: { type: 'array', items: str },
  },
};
// WH Voucher (L11370).
const voucher: Schema = {
  type: 'object',
  properties: {
    id: str,
    code: str,
    campaign: str,
    campaign_id: str,
    category: str,
    category_id: str,
    categories: arr,
    type: { type: 'string', enum: ['GIFT_VOUCHER', 'DISCOUNT_VOUCHER', 'LOYALTY_CARD'] },
    discount: obj,
    gift: obj,
    loyalty_card: obj,
    start_date: str,
    expiration_date: str,
    validity_timeframe: obj,
    validity_day_of_week: arr,
    validity_hours: obj,
    active: { type: 'boolean', nullable: true },
    additional_info: str,
    metadata: obj,
    assets: obj,
    is_referral_code: { type: 'boolean', nullable: true },
    created_at: str,
    updated_at: str,
    holder_id: str,
    validation_rules_assignments: {
      type: 'object',
      properties: { data: { type: 'array', items: busValRuleAssignment } },
    },
    referrer_id: str,
    object: str,
    publish: obj,
    redemption: obj,
  },
};
// WH SimpleCampaign (L9081).
const simpleCampaign: Schema = {
  type: 'object',
  nullable: true,
  properties: {
    id: str,
    name: str,
    campaign_type: str,
    type: { type: 'string', enum: ['AUTO_UPDATE', 'STATIC', 'STANDALONE'] },
    is_referral_code: bool,
    // WH SimpleCampaignVoucher (L9187, required type, redemption {quantity, redeemed_quantity}, code_config).
    voucher: {
      type: 'object',
      required: ['type', 'redemption', 'code_config'],
      properties: {
        type: { type: 'string', enum: ['DISCOUNT_VOUCHER', 'LOYALTY_CARD', 'GIFT_VOUCHER'] },
        discount: obj,
        redemption: {
          type: 'object',
          required: ['quantity', 'redeemed_quantity'],
          properties: { quantity: { type: 'integer', nullable: true }, redeemed_quantity: int },
        },
        code_config: obj,
      },
    },
    auto_join: bool,
    join_once: bool,
    active: bool,
    category_id: { type: 'string', nullable: true },
    category: str,
    categories: arr,
    metadata: obj,
    start_date: str,
    expiration_date: str,
    description: str,
    created_at: str,
    updated_at: str,
    object: str,
  },
};
// WH SimpleRedemption (L10022, required date, id, metadata, object, status).
const simpleRedemption: Schema = {
  type: 'object',
  nullable: true,
  required: ['date', 'id', 'metadata', 'object', 'status'],
  properties: {
    id: str,
    customer_id: { type: 'string', nullable: true },
    tracking_id: str,
    date: str,
    amount: int,
    order: simpleOrder,
    customer: simpleCustomer,
    result: { type: 'string', enum: ['SUCCESS', 'FAILURE'] },
    status: { type: 'string', nullable: true, enum: ['SUCCEEDED', 'FAILED', 'ROLLED BACK'] },
    voucher: simpleVoucher,
    redemption: str,
    metadata: obj,
    failure_code: str,
    failure_message: str,
    reason: str,
    channel: obj,
    object: str,
  },
};
// WH EventCustomerRedemption (L4555): what redemption.* data holds.
const customerRedemption: Record<string, Schema> = {
  customer: simpleCustomer,
  order: simpleOrder,
  campaign: simpleCampaign,
  voucher: simpleVoucher,
  holder: simpleCustomer,
  redemption: simpleRedemption,
};

// WH Campaign (L579) = CampaignBase (L602, its required list) + promotion, validation_rules_assignments.
const fullCampaign: Schema = {
  type: 'object',
  nullable: true,
  required: [
    'id',
    'name',
    'campaign_type',
    'type',
    'auto_join',
    'join_once',
    'use_voucher_metadata_schema',
    'created_at',
    'creation_status',
    'vouchers_generation_status',
    'protected',
    'category_id',
    'categories',
    'object',
  ],
  properties: {
    id: str,
    name: str,
    description: str,
    campaign_type: { type: 'string', enum: ['LOYALTY_PROGRAM', 'GIFT_VOUCHERS', 'DISCOUNT_COUPONS', 'PROMOTION', 'REFERRAL_PROGRAM'] },
    type: { type: 'string', enum: ['AUTO_UPDATE', 'STATIC', 'STANDALONE'] },
    // WH CampaignVoucher (required type, redemption {quantity}, code_config, is_referral_code).
    voucher: {
      type: 'object',
      required: ['type', 'redemption', 'code_config', 'is_referral_code'],
      properties: {
        type: str,
        discount: obj,
        redemption: { type: 'object', required: ['quantity'] },
        code_config: obj,
        is_referral_code: bool,
      },
    },
    auto_join: bool,
    join_once: bool,
    use_voucher_metadata_schema: bool,
    validity_timeframe: obj,
    validity_day_of_week: arr,
    validity_hours: obj,
    vouchers_count: int,
    start_date: str,
    expiration_date: str,
    active: bool,
    metadata: obj,
    created_at: str,
    updated_at: str,
    category: str,
    creation_status: { type: 'string', enum: ['DONE', 'IN_PROGRESS', 'FAILED', 'DRAFT', 'MODIFYING'] },
    vouchers_generation_status: { type: 'string', enum: ['DONE', 'IN_PROGRESS', 'FAILED', 'DRAFT', 'MODIFYING'] },
    protected: bool,
    category_id: { type: 'string', nullable: true },
    categories: arr,
    object: str,
    promotion: obj,
    validation_rules_assignments: {
      type: 'object',
      required: ['object', 'data_ref', 'data', 'total'],
      properties: { data: { type: 'array', items: busValRuleAssignment }, total: int },
    },
  },
};
// WH ValidationRule (L10639, required id, name, rules, applicable_to, created_at, type, context_type, object).
const validationRule: Schema = {
  type: 'object',
  nullable: true,
  required: ['id', 'name', 'rules', 'applicable_to', 'created_at', 'type', 'context_type', 'object'],
  properties: {
    id: str,
    name: str,
    rules: obj,
    error: obj,
    applicable_to: obj,
    type: { type: 'string', enum: ['expression', 'basic', 'advanced', 'complex'] },
    context_type: str,
    created_at: str,
    updated_at: str,
    assignments_count: int,
    object: str,
  },
};
// WH ListPublicationsItemBase (L6787, required id, object, created_at, customer_id, metadata, channel,
// source_id, customer, vouchers_id); its customer is WH CustomerWithSummaryLoyaltyReferrals.
const publicationItem: Schema = {
  type: 'object',
  nullable: true,
  required: ['id', 'object', 'created_at', 'customer_id', 'metadata', 'channel', 'source_id', 'customer', 'vouchers_id'],
  properties: {
    id: str,
    object: { type: 'string', enum: ['publication'] },
    created_at: str,
    customer_id: str,
    tracking_id: str,
    metadata: obj,
    channel: str,
    source_id: { type: 'string', nullable: true },
    result: { type: 'string', enum: ['SUCCESS'] },
    customer: customerWithSummary,
    vouchers_id: { type: 'array', items: str },
  },
};
// WH EventPublicationBase (L5370): what voucher.published and publication.succeeded data hold.
const publicationBase: Record<string, Schema> = {
  customer: simpleCustomer,
  campaign: simpleCampaign,
  publication: publicationItem,
  voucher: simpleVoucher,
};

/** Each event's data schema, as `webhooks["EVENTS.…"]` gives it. */
const DATA: Record<string, Schema> = {
  // WH EVENTS.CUSTOMER.CREATED (L13115) → EventCustomerCreatedData (L4015); UPDATED (L13200) → L4069; DELETED (L13293) → L4202.
  'customer.created': { type: 'object', required: ['customer'], properties: { customer: customerWithSummary } },
  'customer.updated': { type: 'object', required: ['customer'], properties: { customer: customerWithSummary } },
  'customer.deleted': { type: 'object', required: ['customer'], properties: { customer: customerWithSummary } },
  // WH EVENTS.CUSTOMER.SEGMENT.ENTERED (L16218) → EventCustomerSegmentEnteredData (L4983, required customer, segment); LEFT (L16307) → L5013.
  'customer.segment.entered': {
    type: 'object',
    required: ['customer', 'segment'],
    properties: { customer: customerWithSummary, segment: simpleSegment },
  },
  'customer.segment.left': {
    type: 'object',
    required: ['customer', 'segment'],
    properties: { customer: customerWithSummary, segment: simpleSegment },
  },
  // WH EVENTS.REDEMPTION.SUCCEEDED (L12395) → EventRedemptionSucceededData (L5700); FAILED (L12617) → L5511: EventCustomerRedemption + created_at.
  'redemption.succeeded': { type: 'object', required: ['redemption'], properties: { ...customerRedemption, created_at: str } },
  'redemption.failed': { type: 'object', required: ['redemption'], properties: { ...customerRedemption, created_at: str } },
  // WH EVENTS.REDEMPTION.ROLLBACK.SUCCEEDED (L12691) → EventRedemptionRollbackSucceededData (L5638): + redemption_rollback.
  'redemption.rollback.succeeded': {
    type: 'object',
    required: ['redemption', 'redemption_rollback'],
    properties: { ...customerRedemption, redemption_rollback: simpleRedemption },
  },
  // WH EVENTS.REDEMPTION.ROLLBACK.FAILED (L12916) → EventRedemptionRollbackFailedData (L5576): the same shape.
  // Its `redemption` is the one rolled back already: the example's status is "ROLLED_BACK" (L13040),
  // as OA24 spells it (OpenAPI.json blob ae6b585 L18107), where WH SimpleRedemption's enum (L10076)
  // says "ROLLED BACK"; the example is taken.
  'redemption.rollback.failed': {
    type: 'object',
    required: ['redemption', 'redemption_rollback'],
    properties: {
      ...customerRedemption,
      redemption: {
        ...simpleRedemption,
        properties: {
          ...simpleRedemption.properties,
          status: { type: 'string', nullable: true, enum: ['SUCCEEDED', 'FAILED', 'ROLLED BACK', 'ROLLED_BACK'] },
        },
      },
      redemption_rollback: simpleRedemption,
    },
  },
  // WH EVENTS.VOUCHER.CREATED (L17996) → EventVoucherCreatedData (L5819); UPDATED (L18351) → L6732; DELETED (L20307) → L5880.
  'voucher.created': { type: 'object', required: ['voucher'], properties: { voucher, campaign: simpleCampaign } },
  'voucher.updated': { type: 'object', required: ['voucher'], properties: { voucher, campaign: simpleCampaign } },
  'voucher.deleted': { type: 'object', required: ['voucher'], properties: { voucher, campaign: simpleCampaign } },
  // WH EVENTS.VOUCHER.ENABLED (L18236) → EventVoucherEnabledData (L6002); DISABLED (L18121) → L5941: `{voucher, campaign}`.
  'voucher.enabled': { type: 'object', required: ['voucher'], properties: { voucher, campaign: simpleCampaign } },
  'voucher.disabled': { type: 'object', required: ['voucher'], properties: { voucher, campaign: simpleCampaign } },
  // WH EVENTS.VOUCHER.PUBLISHED (L18440) → EventVoucherPublishedData (L6667): EventPublicationBase + created_at.
  'voucher.published': { type: 'object', required: ['voucher', 'publication'], properties: { ...publicationBase, created_at: str } },
  // WH EVENTS.PUBLICATION.SUCCEEDED (L17857) → EventPublicationSucceededData (L5441): EventPublicationBase + user.
  'publication.succeeded': {
    type: 'object',
    required: ['voucher', 'publication', 'user'],
    properties: { ...publicationBase, user: { type: 'object', nullable: true } },
  },
  // WH EVENTS.CAMPAIGN.CREATED (L20446) → EventCampaignCreatedData (L3561, + created_at); UPDATED (L20720) →
  // L3895; ENABLED (L20665) → L3738; DISABLED (L20610) → L3683; DELETED (L20775) → L3622 (+ deleted_at).
  'campaign.created': { type: 'object', required: ['campaign', 'created_at'], properties: { campaign: fullCampaign, created_at: str } },
  'campaign.updated': { type: 'object', required: ['campaign'], properties: { campaign: fullCampaign } },
  'campaign.enabled': { type: 'object', required: ['campaign'], properties: { campaign: fullCampaign } },
  'campaign.disabled': { type: 'object', required: ['campaign'], properties: { campaign: fullCampaign } },
  'campaign.deleted': { type: 'object', required: ['campaign', 'deleted_at'], properties: { campaign: fullCampaign, deleted_at: str } },
  // WH EVENTS.BUS_VAL_RULE.CREATED (L21609) → EventBusValRuleCreatedData (L3378, + created_at); UPDATED
  // (L21697) → L3500 (+ updated_at); DELETED (L22020) → L3439 (+ deleted_at).
  'business_validation_rule.created': {
    type: 'object',
    required: ['rule', 'created_at'],
    properties: { rule: validationRule, created_at: str },
  },
  'business_validation_rule.updated': {
    type: 'object',
    required: ['rule', 'updated_at'],
    properties: { rule: validationRule, updated_at: str },
  },
  'business_validation_rule.deleted': {
    type: 'object',
    required: ['rule', 'deleted_at'],
    properties: { rule: validationRule, deleted_at: str },
  },
};

/**
 * Where `value` departs from `schema`: a required key missing (or null while not nullable), a value
 * of another type or outside the enum. null passes for a key that is neither required nor
 * nullable: Voucherify's own examples send it so (the rollback example at L12691 has customer
 * `email: null`, the voucher.created example `updated_at: null`).
 */
function violations(value: unknown, schema: Schema, at: string): string[] {
  if (value === null) return schema.nullable ? [] : [`${at}: null`];
  const actual = Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value;
  if (actual !== schema.type) return [`${at}: ${actual}, not ${schema.type}`];
  if (schema.enum && !schema.enum.includes(value)) return [`${at}: ${JSON.stringify(value)} not in ${JSON.stringify(schema.enum)}`];
  if (schema.type === 'array')
    return (value as unknown[]).flatMap((item, i) => (schema.items ? violations(item, schema.items, `${at}[${i}]`) : []));
  if (schema.type !== 'object') return [];
  const record = value as Record<string, unknown>;
  const out: string[] = [];
  for (const key of schema.required ?? []) {
    if (!(key in record)) out.push(`${at}.${key}: missing`);
  }
  for (const [key, sub] of Object.entries(schema.properties ?? {})) {
    if (!(key in record)) continue;
    if (record[key] === null && !(schema.required ?? []).includes(key)) continue;
    out.push(...violations(record[key], sub, `${at}.${key}`));
  }
  return out;
}

/** The events about an object, oldest first. */
async function outboxAbout(objectId: string, type?: string): Promise<OutboxRow[]> {
  const { results } = await db
    .prepare('SELECT * FROM webhook_outbox WHERE object_id = ? AND (?2 IS NULL OR type = ?2) ORDER BY seq')
    .bind(objectId, type ?? null)
    .all<OutboxRow>();
  return results;
}

/** The payload of the one event of `type` about the object, checked against its WH data schema and the envelope. */
async function payloadOf(objectId: string, type: string): Promise<Json> {
  const rows = await outboxAbout(objectId, type);
  expect(rows, `${type} about ${objectId}`).toHaveLength(1);
  const row = rows[0] as OutboxRow;
  const payload = await webhookPayload(db, row);
  expect(payload).toEqual({
    id: row.id,
    type,
    created_at: new Date(row.created_at).toISOString(),
    object: 'event',
    data: expect.any(Object),
  });
  expect(payload.id).toMatch(/^evt_[0-9a-f]{24}$/);
  const schema = DATA[type];
  if (schema) expect(violations(payload.data, schema, 'data')).toEqual([]);
  return payload.data;
}

// Subscribed to every type: the triggers record a type only while an enabled endpoint subscribes to it.
beforeAll(async () => {
  await db
    .prepare(
      `INSERT INTO webhook_endpoints (id, url, events, secret, enabled, created_at) VALUES ('wh_p', 'https://hooks.example/in', ?, 'whsec_dGVzdA==', 1, ?)`,
    )
    .bind(JSON.stringify(WEBHOOK_EVENT_TYPES), Date.now())
    .run();
});

describe('the checker follows the schemas', () => {
  it('finds a missing required key, a wrong type, a value outside an enum and a null where none is allowed', () => {
    expect(violations({ id: 'seg_1', name: 'n', object: 'segment' }, simpleSegment, 'x')).toEqual([]);
    expect(violations({ id: 'seg_1', object: 'segmnt' }, simpleSegment, 'x')).toEqual([
      'x.name: missing',
      'x.object: "segmnt" not in ["segment"]',
    ]);
    expect(violations({ id: 1, name: null, object: 'segment' }, simpleSegment, 'x')).toEqual(['x.id: integer, not string', 'x.name: null']);
  });
});

describe('customer events', () => {
  it('customer.created, .updated and .deleted: the customer as our API answers it, as each write left it (the snapshot), also once it is gone', async () => {
    const created = await ok(
      api('POST', '/v1/customers', {
        source_id: 'pl-c',
        name: 'Ada',
        email: 'ada@example.com',
        address: { city: 'London' },
        metadata: { tier: 'gold' },
      }),
    );
    const updated = await ok(api('PUT', `/v1/customers/${created.id}`, { name: 'Ada Lovelace' }));
    expect((await api('DELETE', `/v1/customers/${created.id}`)).status).toBe(204);

    // Delivered after all three writes: each event still says what its own write did.
    expect(await payloadOf(created.id, 'customer.created')).toEqual({ customer: created });
    expect(await payloadOf(created.id, 'customer.updated')).toEqual({ customer: updated });
    expect(await payloadOf(created.id, 'customer.deleted')).toEqual({ customer: updated });
  });

  it('customer.segment.entered and .left: the customer as it was when it moved, the segment as WH SimpleSegment', async () => {
    const seg = await ok(
      api('POST', '/v1/segments', {
        name: 'pl big spenders',
        type: 'auto-update',
        filter: { 'metadata.score': { conditions: { $more_than: [10] } } },
      }),
    );
    const { id } = await ok(api('POST', '/v1/customers', { source_id: 'pl-seg', metadata: { score: 1 } }));
    const entered = await ok(api('PUT', `/v1/customers/${id}`, { metadata: { score: 50 } }));
    const left = await ok(api('PUT', `/v1/customers/${id}`, { metadata: { score: 2 } }));
    expect(await payloadOf(id, 'customer.segment.entered')).toEqual({
      customer: entered,
      segment: { id: seg.id, name: 'pl big spenders', object: 'segment' },
    });
    expect(await payloadOf(id, 'customer.segment.left')).toEqual({
      customer: left,
      segment: { id: seg.id, name: 'pl big spenders', object: 'segment' },
    });
  });
});

describe('redemption events', () => {
  it('redemption.succeeded of a promotion tier names the tier and no voucher (WH EventCustomerRedemption.promotion_tier)', async () => {
    const promotion = await ok(
      api('POST', '/v1/campaigns', {
        name: 'pl promotion',
        campaign_type: 'PROMOTION',
        promotion: { tiers: [{ name: 'pl tier', banner: 'Five off', action: { discount: { type: 'AMOUNT', amount_off: 500 } } }] },
      }),
    );
    const tierId = promotion.promotion.tiers[0].id;
    const redemption = await ok(
      api('POST', `/v1/promotions/tiers/${tierId}/redemption`, { customer: { source_id: 'pl-tier' }, order: { amount: 4000 } }),
    );
    const data = await payloadOf(redemption.id, 'redemption.succeeded');
    expect(data.voucher).toBeNull();
    expect(data.promotion_tier).toEqual(redemption.promotion_tier);
    expect(data.promotion_tier).toMatchObject({ id: tierId, name: 'pl tier', object: 'promotion_tier' });
    expect(data.redemption).toEqual(redemption);
  });

  it('redemption.succeeded: EventCustomerRedemption whose redemption is the redeem answer', async () => {
    await ok(api('POST', '/v1/vouchers/PL-R', { discount: { type: 'AMOUNT', amount_off: 500 }, redemption: { quantity: 5 } }));
    const redemption = await ok(
      api('POST', '/v1/vouchers/PL-R/redemption', {
        customer: { source_id: 'pl-r', name: 'Rae' },
        order: { amount: 4000 },
        metadata: { channel: 'web' },
      }),
    );
    const data = await payloadOf(redemption.id, 'redemption.succeeded');
    expect(data).toEqual({
      customer: redemption.customer,
      order: redemption.order,
      campaign: null,
      voucher: redemption.voucher,
      holder: null,
      promotion_tier: null,
      redemption,
      created_at: redemption.date,
    });
    // As Voucherify's example (WH L12395): the voucher as the redemption left it, its unit taken.
    expect(data.voucher.redemption.redeemed_quantity).toBe(1);
    expect(data.order).toMatchObject({ status: 'PAID', amount: 4000, total_discount_amount: 500, object: 'order' });
  });

  it('redemption.failed: no order (the WH example at L12617 has order null), the failure in the redemption', async () => {
    await ok(api('POST', '/v1/vouchers/PL-OFF', { discount: { type: 'AMOUNT', amount_off: 500 }, active: false }));
    const refused = await ok(
      api('POST', '/v1/vouchers/PL-OFF/redemption', { customer: { source_id: 'pl-f' }, order: { amount: 1000 } }),
      400,
    );
    const data = await payloadOf(refused.resource_id, 'redemption.failed');
    expect(data.order).toBeNull();
    expect(data.redemption).toMatchObject({
      id: refused.resource_id,
      result: 'FAILURE',
      status: 'FAILED',
      failure_code: refused.key,
      object: 'redemption',
    });
    expect(data.customer).toMatchObject({ source_id: 'pl-f', object: 'customer' });
  });

  it('redemption.rollback.succeeded: the redemption as it was (SUCCEEDED, PAID, as WH L12691 shows it), the rollback and its CANCELED order', async () => {
    await ok(api('POST', '/v1/vouchers/PL-RB', { discount: { type: 'AMOUNT', amount_off: 500 } }));
    const redemption = await ok(
      api('POST', '/v1/vouchers/PL-RB/redemption', { customer: { source_id: 'pl-rb' }, order: { amount: 2000 } }),
    );
    const rollback = await ok(api('POST', `/v1/redemptions/${redemption.id}/rollback?reason=refund`, {}));
    const data = await payloadOf(rollback.id, 'redemption.rollback.succeeded');
    expect(data.redemption).toMatchObject({
      id: redemption.id,
      status: 'SUCCEEDED',
      result: 'SUCCESS',
      order: { status: 'PAID' },
      object: 'redemption',
    });
    expect(data.redemption_rollback).toEqual(rollback);
    expect(data.redemption_rollback).toMatchObject({
      object: 'redemption_rollback',
      reason: 'refund',
      redemption: redemption.id,
      order: { status: 'CANCELED' },
    });
    expect(data.order).toEqual(rollback.order);
    // The succeeded event, delivered after the rollback, still says what happened then.
    expect((await payloadOf(redemption.id, 'redemption.succeeded')).redemption).toEqual(redemption);
  });

  it('redemption.rollback.failed: the redemption as already rolled back (ROLLED_BACK, WH L13040), the failed rollback (FAILURE, already_rolled_back), no order (WH L12942)', async () => {
    await ok(api('POST', '/v1/vouchers/PL-RBF', { discount: { type: 'AMOUNT', amount_off: 500 } }));
    const redemption = await ok(
      api('POST', '/v1/vouchers/PL-RBF/redemption', { customer: { source_id: 'pl-rbf' }, order: { amount: 2000 } }),
    );
    await ok(api('POST', `/v1/redemptions/${redemption.id}/rollback`, {}));
    const refused = await ok(api('POST', `/v1/redemptions/${redemption.id}/rollback?reason=again`, {}), 400);
    const failure = await ok(api('GET', `/v1/redemptions/${refused.resource_id}`));
    const data = await payloadOf(failure.id, 'redemption.rollback.failed');
    expect(data.order).toBeNull();
    expect(data.redemption).toMatchObject({ id: redemption.id, result: 'SUCCESS', status: 'ROLLED_BACK', object: 'redemption' });
    expect(data.redemption_rollback).toEqual(failure);
    expect(data.redemption_rollback).toMatchObject({
      object: 'redemption_rollback',
      result: 'FAILURE',
      status: 'FAILED',
      failure_code: 'already_rolled_back',
      failure_message: 'Already rolled back',
      redemption: redemption.id,
      reason: 'again',
      order: null,
    });
    expect(data.voucher).toMatchObject({ code: 'PL-RBF', object: 'voucher' });
    expect(data.customer).toMatchObject({ source_id: 'pl-rbf', object: 'customer' });
  });

  it('a campaign code held by a customer: campaign as WH SimpleCampaign, holder as WH SimpleCustomer', async () => {
    const campaign = await ok(
      api('POST', '/v1/campaigns', {
        name: 'pl held',
        campaign_type: 'DISCOUNT_COUPONS',
        voucher: { type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 100 } },
      }),
    );
    const code = await ok(api('POST', `/v1/campaigns/${campaign.id}/vouchers/PL-HELD`, {}));
    const holder = await ok(api('POST', '/v1/customers', { source_id: 'pl-holder', name: 'Holder', email: 'h@example.com' }));
    await ok(api('POST', '/v1/publications', { voucher: 'PL-HELD', customer: { source_id: 'pl-holder' } }));
    const redemption = await ok(
      api('POST', '/v1/vouchers/PL-HELD/redemption', { customer: { source_id: 'pl-holder' }, order: { amount: 1000 } }),
    );
    const data = await payloadOf(redemption.id, 'redemption.succeeded');
    expect(data.holder).toEqual({
      id: holder.id,
      name: 'Holder',
      email: 'h@example.com',
      source_id: 'pl-holder',
      metadata: {},
      object: 'customer',
    });
    expect(data.campaign).toMatchObject({
      id: campaign.id,
      name: 'pl held',
      campaign_type: 'DISCOUNT_COUPONS',
      type: 'AUTO_UPDATE',
      active: true,
      object: 'campaign',
    });
    expect(data.campaign).not.toHaveProperty('vouchers_count');
    expect(data.voucher).toMatchObject({
      id: code.id,
      code: 'PL-HELD',
      campaign: 'pl held',
      campaign_id: campaign.id,
      holder_id: holder.id,
    });
  });
});

describe('voucher events', () => {
  it('voucher.created, .updated and .deleted: the voucher as our API answers it, as each write left it', async () => {
    const created = await ok(api('POST', '/v1/vouchers/PL-V', { discount: { type: 'PERCENT', percent_off: 10 }, metadata: { a: 1 } }));
    const updated = await ok(api('PUT', '/v1/vouchers/PL-V', { metadata: { a: 2 }, expiration_date: '2099-01-01T00:00:00.000Z' }));
    expect((await api('DELETE', '/v1/vouchers/PL-V')).status).toBe(204);
    expect(await payloadOf(created.id, 'voucher.created')).toEqual({ voucher: created, campaign: null });
    expect(await payloadOf(created.id, 'voucher.updated')).toEqual({ voucher: updated, campaign: null });
    expect(await payloadOf(created.id, 'voucher.deleted')).toEqual({ voucher: updated, campaign: null });
  });

  it('a campaign code: the campaign beside it; once the campaign is deleted, named by what the code kept of it', async () => {
    const campaign = await ok(
      api('POST', '/v1/campaigns', {
        name: 'pl gone',
        campaign_type: 'DISCOUNT_COUPONS',
        voucher: { type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 100 } },
      }),
    );
    const code = await ok(api('POST', `/v1/campaigns/${campaign.id}/vouchers/PL-GONE`, {}));
    expect(await payloadOf(code.id, 'voucher.created')).toMatchObject({
      voucher: code,
      campaign: { id: campaign.id, name: 'pl gone', object: 'campaign' },
    });
    await ok(api('DELETE', `/v1/campaigns/${campaign.id}`), 202);
    expect(await payloadOf(code.id, 'voucher.deleted')).toEqual({
      voucher: code,
      campaign: { id: campaign.id, name: 'pl gone', object: 'campaign' },
    });
  });
});

describe('the events added for Voucherify integrations', () => {
  it('every type of the catalogue but our own async_action.done has its WH data schema here', () => {
    expect(WEBHOOK_EVENT_TYPES.filter((t) => !DATA[t])).toEqual(['async_action.done']);
  });

  it('voucher.disabled and .enabled: {voucher, campaign} as the flip left it; assignments as WH BusValRuleAssignment', async () => {
    const created = await ok(api('POST', '/v1/vouchers/PL-SW', { discount: { type: 'AMOUNT', amount_off: 100 } }));
    const rule = await ok(
      api('POST', '/v1/validation-rules', {
        name: 'pl sw',
        rules: { '1': { name: 'order.amount', conditions: { $more_than: [1] } }, logic: '1' },
      }),
    );
    await ok(api('POST', `/v1/validation-rules/${rule.id}/assignments`, { related_object_type: 'voucher', related_object_id: 'PL-SW' }));
    const disabled = await ok(api('POST', '/v1/vouchers/PL-SW/disable'));
    const enabled = await ok(api('POST', '/v1/vouchers/PL-SW/enable'));
    const off = await payloadOf(created.id, 'voucher.disabled');
    const on = await payloadOf(created.id, 'voucher.enabled');
    expect(off.voucher).toMatchObject({ code: 'PL-SW', active: false, updated_at: disabled.updated_at });
    expect(on.voucher).toMatchObject({ code: 'PL-SW', active: true, updated_at: enabled.updated_at });
    // The audit's gap: WH BusValRuleAssignment (L495) requires validation_status and validation_omitted_rules.
    expect(on.voucher.validation_rules_assignments.data).toEqual([
      {
        ...enabled.validation_rules_assignments.data[0],
        validation_status: 'VALID',
        validation_omitted_rules: [],
      },
    ]);
    expect(on.campaign).toBeNull();
  });

  it('voucher.published and publication.succeeded: EventPublicationBase, the voucher as published, the publication as POST /v1/publications answers it', async () => {
    const campaign = await ok(
      api('POST', '/v1/campaigns', {
        name: 'pl pub',
        campaign_type: 'DISCOUNT_COUPONS',
        voucher: { type: 'DISCOUNT_VOUCHER', discount: { type: 'AMOUNT', amount_off: 100 }, redemption: { quantity: 3 } },
      }),
    );
    await ok(api('POST', `/v1/campaigns/${campaign.id}/vouchers/PL-PUB`, {}));
    const customer = await ok(api('POST', '/v1/customers', { source_id: 'pl-pub', name: 'Pub', email: 'pub@example.com' }));
    const publication = await ok(
      api('POST', '/v1/publications', { campaign: { name: 'pl pub' }, customer: { source_id: 'pl-pub' }, metadata: { via: 'mail' } }),
    );
    const published = await payloadOf(publication.voucher.id, 'voucher.published');
    const { voucher: _voucher, ...item } = publication;
    const expected = {
      customer: { id: customer.id, name: 'Pub', email: 'pub@example.com', source_id: 'pl-pub', metadata: {}, object: 'customer' },
      publication: { ...item, customer },
      voucher: { ...publication.voucher, validation_rules_assignments: publication.voucher.validation_rules_assignments },
    };
    expect(published).toMatchObject({ ...expected, created_at: publication.created_at });
    expect(published.voucher).toMatchObject({ code: 'PL-PUB', holder_id: customer.id, publish: { count: 1 } });
    // WH SimpleCampaignVoucher (L9187): the campaign's template with redemption.redeemed_quantity.
    expect(published.campaign).toMatchObject({
      id: campaign.id,
      name: 'pl pub',
      voucher: { type: 'DISCOUNT_VOUCHER', redemption: { quantity: 3, redeemed_quantity: 0 } },
      object: 'campaign',
    });
    const succeeded = await payloadOf(publication.id, 'publication.succeeded');
    expect(succeeded).toEqual({ ...published, created_at: undefined, user: null });
  });

  it('campaign.created, .updated, .disabled, .enabled and .deleted: {campaign} as GET /v1/campaigns/{id} answers it after each write', async () => {
    const created = await ok(
      api('POST', '/v1/campaigns', {
        name: 'pl camp',
        campaign_type: 'DISCOUNT_COUPONS',
        voucher: { type: 'DISCOUNT_VOUCHER', discount: { type: 'PERCENT', percent_off: 5 } },
      }),
    );
    const rule = await ok(
      api('POST', '/v1/validation-rules', {
        name: 'pl camp',
        rules: { '1': { name: 'order.amount', conditions: { $more_than: [1] } }, logic: '1' },
      }),
    );
    await ok(
      api('POST', `/v1/validation-rules/${rule.id}/assignments`, { related_object_type: 'campaign', related_object_id: created.id }),
    );
    const updated = await ok(api('PUT', `/v1/campaigns/${created.id}`, { description: 'five off' }));
    const withAssignment = (c: Json) => ({
      ...c,
      validation_rules_assignments: {
        ...c.validation_rules_assignments,
        data: c.validation_rules_assignments.data.map((a: Json) => ({ ...a, validation_status: 'VALID', validation_omitted_rules: [] })),
      },
    });
    const createdData = await payloadOf(created.id, 'campaign.created');
    // The campaign as its write left it; its assignments as they are when delivered.
    expect(createdData).toEqual({
      campaign: withAssignment({ ...created, validation_rules_assignments: updated.validation_rules_assignments }),
      created_at: created.created_at,
    });
    expect(await payloadOf(created.id, 'campaign.updated')).toEqual({ campaign: withAssignment(updated) });

    await db.prepare('UPDATE campaigns SET active = 0 WHERE id = ?').bind(created.id).run();
    const disabled = await ok(api('GET', `/v1/campaigns/${created.id}`));
    await db.prepare('UPDATE campaigns SET active = 1 WHERE id = ?').bind(created.id).run();
    expect(await payloadOf(created.id, 'campaign.disabled')).toEqual({ campaign: withAssignment(disabled) });
    expect((await payloadOf(created.id, 'campaign.enabled')).campaign).toMatchObject({ id: created.id, active: true });

    await ok(api('DELETE', `/v1/campaigns/${created.id}`), 202);
    const deleted = await payloadOf(created.id, 'campaign.deleted');
    expect(deleted.campaign).toMatchObject({ id: created.id, name: 'pl camp', description: 'five off', active: true, object: 'campaign' });
    expect(deleted.deleted_at).toEqual(expect.any(String));
  });

  it('a promotion campaign: campaign.created holds its tiers in `promotion`, and its tiers send no voucher.* event', async () => {
    const promotion = await ok(
      api('POST', '/v1/campaigns', {
        name: 'pl promo camp',
        campaign_type: 'PROMOTION',
        promotion: { tiers: [{ name: 'pl t1', action: { discount: { type: 'AMOUNT', amount_off: 100 } } }] },
      }),
    );
    const data = await payloadOf(promotion.id, 'campaign.created');
    expect(data.campaign.promotion).toEqual(promotion.promotion);
    const tierId = promotion.promotion.tiers[0].id;
    await ok(api('PUT', `/v1/promotions/tiers/${tierId}`, { name: 'pl t1 renamed', active: false }));
    expect(await outboxAbout(tierId)).toEqual([]);
  });

  it('business_validation_rule.created, .updated and .deleted: {rule} as GET /v1/validation-rules/{id} answers it, and the time of the change', async () => {
    const created = await ok(
      api('POST', '/v1/validation-rules', {
        name: 'pl rule',
        rules: { '1': { name: 'order.amount', conditions: { $more_than: [1000] } }, logic: '1' },
        error: { message: 'Spend more' },
      }),
    );
    const updated = await ok(api('PUT', `/v1/validation-rules/${created.id}`, { name: 'pl rule 2' }));
    expect((await api('DELETE', `/v1/validation-rules/${created.id}`)).status).toBe(204);
    expect(await payloadOf(created.id, 'business_validation_rule.created')).toEqual({ rule: created, created_at: created.created_at });
    expect(await payloadOf(created.id, 'business_validation_rule.updated')).toEqual({ rule: updated, updated_at: updated.updated_at });
    const deleted = await payloadOf(created.id, 'business_validation_rule.deleted');
    expect(deleted).toEqual({ rule: updated, deleted_at: expect.any(String) });
  });
});

describe('async_action.done (written by the delivery branch; shaped here)', () => {
  it('is the action as GET /v1/async-actions/{id} answers it', async () => {
    const { async_action_id } = await ok(api('POST', '/v1/customers/metadata/async', { source_ids: ['pl-aa'], metadata: { x: 1 } }), 202);
    const row: OutboxRow = {
      seq: 0,
      id: 'evt_000000000000000000000001',
      type: 'async_action.done',
      object_id: async_action_id,
      snapshot: null,
      created_at: 1_700_000_000_000,
      dispatched_at: null,
    };
    expect(await webhookPayload(db, row)).toEqual({
      id: row.id,
      type: 'async_action.done',
      created_at: '2023-11-14T22:13:20.000Z',
      object: 'event',
      data: { async_action: await ok(api('GET', `/v1/async-actions/${async_action_id}`)) },
    });
  });

  it('an unknown type is refused, not shaped', async () => {
    const row: OutboxRow = {
      seq: 0,
      id: 'evt_x',
      type: 'customer.rewarded',
      object_id: null,
      snapshot: null,
      created_at: 0,
      dispatched_at: null,
    };
    await expect(webhookPayload(db, row)).rejects.toThrow(/unknown type customer.rewarded/);
  });
});
