import { z } from 'zod';
import { intParam, isoDateParam, stringFilters } from './common';
import { customerWriteFields, metadataSchema, toCustomerWrite } from './customers';
import { cleanCode, codeSchema } from './vouchers';

// Request schemas of checkout: validate and redeem bodies (server and client), the client validate
// query, stackable redeemables, rollbacks and the redemption list.
//
// Voucherify marks almost every field of these bodies nullable (OA RedemptionsRedeemRequestBody
// OA:L25457, Customer OA:L4614, Order/OrderItem): null is accepted everywhere. For the context and
// the order, null means "not given" and reads as undefined; for the customer's own fields null
// clears the stored value, as in the customers API.

/** Accepts null; null and absent both read as undefined. */
const absentIfNull = <T extends z.ZodType>(schema: T) =>
  schema
    .nullish()
    .transform((value) => value ?? undefined)
    .optional();

/** Cents (and quantities): JSON numbers in bodies, digit strings in the client query. */
type Int = (max: number) => z.ZodType<number, number> | z.ZodType<number, string>;
const jsonInt: Int = (max) => z.number().int('must be an integer').min(0, 'must be at least 0').max(max);
const queryInt: Int = (max) => intParam(0, max);

const CENTS_MAX = 1_000_000_000_000;
const text = (max = 255) => absentIfNull(z.string().max(max));

function contextSchemas(int: Int) {
  const item = z.object({
    sku_id: text(),
    product_id: text(),
    source_id: text(),
    related_object: absentIfNull(z.enum(['product', 'sku'])),
    quantity: absentIfNull(int(1_000_000)),
    price: absentIfNull(int(CENTS_MAX)),
    amount: absentIfNull(int(CENTS_MAX)),
    metadata: absentIfNull(metadataSchema),
    product: absentIfNull(z.record(z.string().max(100), z.unknown())),
    sku: absentIfNull(z.record(z.string().max(100), z.unknown())),
  });
  const order = z.object({
    id: text(),
    source_id: text(),
    status: absentIfNull(z.enum(['CREATED', 'PAID', 'CANCELED', 'FULFILLED'])),
    amount: absentIfNull(int(CENTS_MAX)),
    items: absentIfNull(z.array(item).max(500)),
    metadata: absentIfNull(metadataSchema),
  });
  return { item, order };
}

const json = contextSchemas(jsonInt);
const query = contextSchemas(queryInt);

export const orderSchema = json.order;
export type OrderInput = z.output<typeof orderSchema>;
export type OrderItemInput = z.output<typeof json.item>;
/** An order line of a JSON body (the orders API reuses it). */
export const orderItemSchema = json.item;
/** The most an amount may be, in cents. */
export const MAX_CENTS = CENTS_MAX;

/**
 * The customer of a validate or redeem call: every field the customers API accepts (written on a
 * server-side redeem, null clears), plus `id` to name an existing customer.
 */
export const contextCustomerSchema = z.object({
  ...customerWriteFields,
  id: absentIfNull(z.string().min(1).max(255)),
  source_id: absentIfNull(z.string().min(1, 'must not be empty').max(255)),
});
export type ContextCustomer = z.output<typeof contextCustomerSchema>;

/** The fields of a context customer to write, in the storage layer's shape (absent = unchanged). */
export const contextCustomerWrite = ({ id: _id, source_id: _sourceId, ...fields }: ContextCustomer) => toCustomerWrite(fields);

const trackingIdField = absentIfNull(z.string().min(1).max(255));
const identityHashField = absentIfNull(z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex characters (SHA-256)'));

/** OA Session.ttl_unit (readOnly-openAPI.json:L27017-L27027). */
export const SESSION_TTL_UNITS = ['DAYS', 'HOURS', 'MICROSECONDS', 'MILLISECONDS', 'MINUTES', 'NANOSECONDS', 'SECONDS'] as const;
export type SessionTtlUnit = (typeof SESSION_TTL_UNITS)[number];

/** Milliseconds per unit of a session's ttl. */
export const TTL_UNIT_MS: Record<SessionTtlUnit, number> = {
  DAYS: 86_400_000,
  HOURS: 3_600_000,
  MINUTES: 60_000,
  SECONDS: 1000,
  MILLISECONDS: 1,
  MICROSECONDS: 0.001,
  NANOSECONDS: 0.000001,
};

/** The longest hold a session may ask for: a year (the spec's default is 7 days). */
export const SESSION_MAX_MS = 366 * 86_400_000;

/** A session's key: ours are ssn_ + 32 base62; a caller's own may be any printable text. */
const sessionKeySchema = z
  .string()
  .min(1, 'must not be empty')
  .max(200)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

const sessionTtlFits = (s: { ttl?: number | undefined; ttl_unit?: SessionTtlUnit | undefined }) =>
  s.ttl === undefined || s.ttl * TTL_UNIT_MS[s.ttl_unit ?? 'DAYS'] <= SESSION_MAX_MS;
const TTL_TOO_LONG = { message: 'must be at most 366 days', path: ['ttl'] };

/**
 * OA Session (readOnly-openAPI.json:L26995): a LOCK session holds one unit of each redeemable
 * judged valid until it expires (services/validation-sessions.ts). On a redeem, `key` names the
 * session whose holds it consumes (OA RedemptionsRedeemRequestBody, SDK ValidationSessionReleaseParams).
 */
export const sessionSchema = z
  .object({
    type: absentIfNull(z.literal('LOCK', { message: 'LOCK is the only session type' })),
    key: absentIfNull(sessionKeySchema),
    ttl: absentIfNull(z.number().positive('must be more than 0').finite()),
    ttl_unit: absentIfNull(z.enum(SESSION_TTL_UNITS)),
  })
  .refine(sessionTtlFits, TTL_TOO_LONG);
export type SessionInput = z.output<typeof sessionSchema>;

function validationContext(order: z.ZodType<OrderInput, unknown>, int: Int) {
  return z.object({
    customer: absentIfNull(contextCustomerSchema),
    order: absentIfNull(order),
    amount: absentIfNull(int(CENTS_MAX)),
    metadata: absentIfNull(metadataSchema),
    tracking_id: trackingIdField,
    identity_hash: identityHashField,
    session: absentIfNull(sessionSchema),
    gift: z.unknown().optional(),
    reward: z.unknown().optional(),
    options: z.unknown().optional(),
  });
}

/** The body of server validate / redeem. */
export const validationContextSchema = validationContext(json.order, jsonInt);
export type ValidationContext = z.output<typeof validationContextSchema>;

/** GET /client/v1/validate, after the qs-style query is parsed into an object (values are strings). */
export const clientValidateQuerySchema = validationContext(query.order, queryInt).extend({
  code: z.string().max(200).transform(cleanCode).pipe(codeSchema),
  // The client SDK's session parameters (ClientSide.d.ts:27-30), flat in the query: the route turns
  // them into `session`.
  session_type: z.literal('LOCK', { message: 'LOCK is the only session type' }).optional(),
  session_key: sessionKeySchema.optional(),
  session_ttl: z
    .string()
    .regex(/^\d+(\.\d+)?$/, 'must be a number')
    .transform(Number)
    .pipe(z.number().positive('must be more than 0'))
    .optional(),
  session_ttl_unit: z.enum(SESSION_TTL_UNITS).optional(),
  item: z.array(query.item).max(500).optional(),
  // The string shortcut customer=<source id> of Voucherify's own examples.
  customer: z
    .union([
      contextCustomerSchema,
      z
        .string()
        .min(1)
        .max(255)
        .transform((source_id) => ({ source_id })),
    ])
    .optional(),
});

// A code, a promotion tier or a promotion stack (OA StackableValidateRedeemBase.redeemables:
// "object": voucher | promotion_tier | promotion_stack | …); gift cards and loyalty cards are
// refused by name.
const redeemableSchema = z.object({
  object: z.enum(['voucher', 'promotion_tier', 'promotion_stack'], {
    message: 'only voucher, promotion_tier and promotion_stack redeemables are supported',
  }),
  id: codeSchema,
});

/**
 * POST /v1/validations, /v1/redemptions and their client twins. "Each unique redeemable can be sent
 * in one request only once" (OA StackableValidateRedeemBase.redeemables): a code sent twice is
 * refused rather than discounted twice. "Alternatively, send one unique promotion_stack in the
 * array" (the same field, readOnly-openAPI.json:L28540): a stack comes alone, and is judged as its
 * tiers (services/promotion-stacks.ts).
 */
export const stackableSchema = validationContextSchema.extend({
  redeemables: z
    .array(redeemableSchema)
    .min(1, 'must hold at least one redeemable')
    .max(30)
    .superRefine((redeemables, ctx) => {
      const seen = new Set<string>();
      redeemables.forEach((r, i) => {
        if (seen.has(r.id))
          ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `${r.id} is given more than once; each redeemable may be sent once` });
        seen.add(r.id);
      });
      const stack = redeemables.findIndex((r) => r.object === 'promotion_stack');
      if (stack !== -1 && redeemables.length > 1)
        ctx.addIssue({
          code: 'custom',
          path: [stack, 'object'],
          message: 'a promotion_stack is sent alone: its tiers are the redeemables of the request',
        });
    }),
});
export type StackableInput = z.output<typeof stackableSchema>;

/**
 * What POST /client/v1/redemptions may store. The client key is public, and a redemption stores its
 * request's metadata and order on every row it writes (the stacked parent and each voucher's row)
 * for as long as the row lives: so the public key gets the bounds of client events (2 KiB of
 * metadata, CLIENT_EVENT_METADATA_BYTES) and a small order, each refused with a 400 naming the field.
 */
export const CLIENT_REDEMPTION_LIMITS = {
  /** The request's, the order's and each item's metadata, as JSON. */
  metadataBytes: 2048,
  /** Items of the order: a large real cart, far from the 500 of the server key. */
  items: 100,
  /** Each item's free-form `product` and `sku` records, as JSON. */
  recordBytes: 1024,
  /** The whole order, as JSON. */
  orderBytes: 16_384,
} as const;

const jsonBytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)).length;
const atMostBytes = <T extends z.ZodType>(schema: T, max: number) =>
  schema.refine((value) => jsonBytes(value) <= max, { message: `must be at most ${max} bytes as JSON with the client key` });

const clientMetadata = absentIfNull(atMostBytes(metadataSchema, CLIENT_REDEMPTION_LIMITS.metadataBytes));
const clientRecord = absentIfNull(atMostBytes(z.record(z.string().max(100), z.unknown()), CLIENT_REDEMPTION_LIMITS.recordBytes));
const clientItem = json.item.extend({ metadata: clientMetadata, product: clientRecord, sku: clientRecord });
const clientOrder = atMostBytes(
  json.order.extend({
    items: absentIfNull(
      z
        .array(clientItem)
        .max(CLIENT_REDEMPTION_LIMITS.items, `must hold at most ${CLIENT_REDEMPTION_LIMITS.items} items with the client key`),
    ),
    metadata: clientMetadata,
  }),
  CLIENT_REDEMPTION_LIMITS.orderBytes,
);

/** What a client redemption's context may hold of metadata and order (CLIENT_REDEMPTION_LIMITS). */
export const clientRedemptionBoundsSchema = z.object({ metadata: clientMetadata, order: absentIfNull(clientOrder) });

/** The body of POST /client/v1/redemptions, as documented: the stackable body within CLIENT_REDEMPTION_LIMITS. */
export const clientStackableSchema = stackableSchema.extend(clientRedemptionBoundsSchema.shape);

/**
 * POST /v1/redemptions/{id}/rollback and /rollbacks: the body the official SDK sends
 * ({customer}, with reason and tracking_id in the query) or the spec's body
 * (OA RedemptionsRollbackCreateRequestBody: reason, tracking_id, customer, order, metadata).
 */
export const rollbackBodySchema = z
  .object({
    reason: text(1000),
    tracking_id: trackingIdField,
    customer: absentIfNull(contextCustomerSchema),
    order: absentIfNull(orderSchema),
    metadata: absentIfNull(metadataSchema),
  })
  .default({});
export type RollbackBody = z.output<typeof rollbackBodySchema>;

/**
 * `?explain=true` on server validate (our addition, server key only): the answer gains the trace of
 * each judgement (shared/explain.ts). Anything but true / false is refused, naming the parameter.
 */
export const explainQueryFields = z.object({
  explain: z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .optional()
    .describe(
      'Our addition (server key only): true adds `explanation`, the trace of each judgement (ExplainNode). The client key never gets one.',
    ),
});
export const explainQuerySchema = explainQueryFields.transform((q) => q.explain === 'true');

export const rollbackQuerySchema = z.object({ reason: z.string().max(1000).optional(), tracking_id: z.string().max(255).optional() });

/** Filterable fields of GET /v1/redemptions (OA ParameterFiltersListRedemptions). */
export const REDEMPTION_FILTER_FIELDS = [
  'voucher_code',
  'related_object_id',
  'related_object_parent_id',
  'parent_redemption_id',
  'failure_code',
  'result',
  'object',
  'customer_id',
  'campaign_name',
  'user_login',
] as const;
export type RedemptionFilterField = (typeof REDEMPTION_FILTER_FIELDS)[number];

const filtersSchema = stringFilters(REDEMPTION_FILTER_FIELDS);

export const REDEMPTION_LIST_ORDERS = [
  'created_at',
  '-created_at',
  'id',
  '-id',
  'voucher_code',
  '-voucher_code',
  'tracking_id',
  '-tracking_id',
  'customer_id',
  '-customer_id',
] as const;

const resultValue = z.enum(['SUCCESS', 'FAILURE']);

/** GET /v1/redemptions (OA:L33796; SDK RedemptionsListParams Redemptions.d.ts:44), parsed qs-style. */
export const redemptionListQuerySchema = z
  .object({
    limit: intParam(1, 100).optional(),
    page: intParam(1, 99).optional(),
    // "You can provide multiple values by repeating the param" (OA).
    result: z.union([resultValue.transform((r) => [r]), z.array(resultValue).max(2)]).optional(),
    campaign: z.string().max(255).optional(),
    customer: z.string().max(255).optional(),
    order: z.enum(REDEMPTION_LIST_ORDERS).optional(),
    created_at: z.strictObject({ before: isoDateParam.optional(), after: isoDateParam.optional() }).optional(),
    filters: filtersSchema.optional(),
  })
  .transform((q) => ({
    limit: q.limit ?? 10,
    page: q.page ?? 1,
    result: q.result,
    campaign: q.campaign,
    customer: q.customer,
    order: q.order ?? '-created_at',
    createdBefore: q.created_at?.before,
    createdAfter: q.created_at?.after,
    filters: q.filters,
  }));
export type RedemptionListQuery = z.output<typeof redemptionListQuerySchema>;

/** GET /v1/vouchers/{code}/redemption: the spec has no parameters; limit/page bound the entries. */
export const voucherRedemptionsQuerySchema = z
  .object({ limit: intParam(1, 100).optional(), page: intParam(1, 99).optional() })
  .transform((q) => ({ limit: q.limit ?? 10, page: q.page ?? 1 }));
