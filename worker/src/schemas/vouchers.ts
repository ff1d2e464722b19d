import { z } from 'zod';
import { intParam, isoDateParam, stringFilters } from './common';
import { metadataSchema } from './customers';
import type { Discount } from '../../../shared/types';
import { type DayOfWeek, parseIsoDuration, parseTimeOfDay } from '../../../shared/validity';

const cents = z.number().int('must be an integer number of cents').min(0).max(1_000_000_000_000);

/**
 * An object that refuses keys it does not know. A voucher field the spec defines but this service
 * does not implement must be a 400, never silently dropped: a dropped restriction fails open.
 */
export const strictObject = <T extends z.ZodRawShape>(shape: T) =>
  z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}` : undefined,
  });

/** A field of the spec that this service does not implement: accepted only empty (as it echoes it back). */
export const unsupported = (why: string) => z.null({ error: `not supported: ${why}` }).optional();

/** A field this service computes (counters, links, timestamps): accepted so that a voucher read from the API can be sent back, and ignored. */
export const readOnly = z.unknown().optional().describe('read-only; ignored');

const noFormula = unsupported('discount formulas');
const notDynamic = z.literal(false, { error: 'not supported: dynamic (formula) discounts' }).nullable().optional();

/** OA DiscountAmountVouchersEffectTypes (readOnly-openAPI.json:L6064). */
const AMOUNT_EFFECTS = [
  'APPLY_TO_ORDER',
  'APPLY_TO_ITEMS',
  'APPLY_TO_ITEMS_PROPORTIONALLY',
  'APPLY_TO_ITEMS_PROPORTIONALLY_BY_QUANTITY',
  'APPLY_TO_ITEMS_BY_QUANTITY',
] as const;
/** OA DiscountPercentVouchersEffectTypes (L6206) = DiscountFixedVouchersEffectTypes (L6149). */
const ORDER_OR_ITEMS = ['APPLY_TO_ORDER', 'APPLY_TO_ITEMS'] as const;
const effectOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `must be one of ${values.join(', ')}` }).default(values[0] as T[0]);

/**
 * aggregated_amount_limit caps the items' discounts together: OA24 names the effects it is
 * definable for (OpenAPI24.json:L6050, L6081). Elsewhere it would be silently meaningless: a 400.
 */
const aggregatedFor =
  (effects: readonly string[]) => (discount: { effect: string; aggregated_amount_limit?: number | null }, ctx: z.RefinementCtx) => {
    if (discount.aggregated_amount_limit != null && !effects.includes(discount.effect)) {
      ctx.addIssue({ code: 'custom', path: ['aggregated_amount_limit'], message: `only with effect ${effects.join(' or ')}` });
    }
  };

const unitRef = strictObject({
  id: z.string().max(255).nullable().optional(),
  source_id: z.string().max(255).nullable().optional(),
  name: z.string().max(255).nullable().optional(),
  // Our addition: what one unit costs, for a unit the order does not hold (no catalogue to ask).
  price: cents.nullable().optional(),
});
/** OA DiscountUnitMultipleOneUnit (L6303): unit_off units of unit_type (the product or SKU id of the order item) free. */
const unitGrant = {
  unit_off: z.number().int('must be a whole number of units').min(1).max(1000),
  unit_off_formula: noFormula,
  unit_type: z.string().min(1, 'must name the product or SKU id').max(255),
  product: unitRef.nullable().optional(),
  sku: unitRef.nullable().optional(),
};
const UNIT_EFFECTS = ['ADD_MISSING_ITEMS', 'ADD_NEW_ITEMS'] as const;

const unitDiscount = strictObject({
  type: z.literal('UNIT'),
  ...Object.fromEntries(Object.entries(unitGrant).map(([k, v]) => [k, v.optional()])),
  effect: z
    .enum([...UNIT_EFFECTS, 'ADD_MANY_ITEMS'], { error: 'must be ADD_MISSING_ITEMS, ADD_NEW_ITEMS or ADD_MANY_ITEMS' })
    .default('ADD_MISSING_ITEMS'),
  units: z
    .array(strictObject({ ...unitGrant, effect: effectOf(UNIT_EFFECTS) }))
    .min(1)
    .max(10)
    .optional(),
  is_dynamic: notDynamic,
}).superRefine((d, ctx) => {
  const record = d as Record<string, unknown>;
  if (d.effect === 'ADD_MANY_ITEMS') {
    if (!d.units) ctx.addIssue({ code: 'custom', path: ['units'], message: 'required with effect ADD_MANY_ITEMS' });
    for (const key of ['unit_off', 'unit_type'] as const) {
      if (record[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'goes inside units with effect ADD_MANY_ITEMS' });
    }
    return;
  }
  if (d.units) ctx.addIssue({ code: 'custom', path: ['units'], message: 'only with effect ADD_MANY_ITEMS' });
  for (const key of ['unit_off', 'unit_type'] as const) {
    if (record[key] === undefined)
      ctx.addIssue({ code: 'custom', path: [key], message: `required for a UNIT discount with effect ${d.effect}` });
  }
});

export const discountSchema = z
  .discriminatedUnion('type', [
    strictObject({
      type: z.literal('AMOUNT'),
      amount_off: cents,
      amount_off_formula: noFormula,
      aggregated_amount_limit: cents.nullable().optional(),
      effect: effectOf(AMOUNT_EFFECTS),
      is_dynamic: notDynamic,
    }).superRefine(aggregatedFor(['APPLY_TO_ITEMS', 'APPLY_TO_ITEMS_BY_QUANTITY'])),
    strictObject({
      type: z.literal('PERCENT'),
      percent_off: z.number().gt(0).max(100),
      amount_limit: cents.optional(),
      percent_off_formula: noFormula,
      aggregated_amount_limit: cents.nullable().optional(),
      effect: effectOf(ORDER_OR_ITEMS),
      is_dynamic: notDynamic,
    }).superRefine(aggregatedFor(['APPLY_TO_ITEMS'])),
    strictObject({
      type: z.literal('FIXED'),
      fixed_amount: cents,
      fixed_amount_formula: noFormula,
      aggregated_amount_limit: unsupported('aggregated_amount_limit on a FIXED discount'),
      effect: effectOf(ORDER_OR_ITEMS),
      is_dynamic: notDynamic,
    }),
    unitDiscount,
  ])
  // Stored as the engine reads it (shared/types Discount): absent rather than null limits.
  .transform(
    (d) =>
      Object.fromEntries(
        Object.entries(d).filter(([k, v]) => !(v === null && (k === 'aggregated_amount_limit' || k === 'product' || k === 'sku'))),
      ) as Discount,
  );

export const isoDate = isoDateParam.nullable();

/** Codes: what the official SDK sends after its clean-up, bounded and printable. */
export const codeSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(100)
  .refine((code) => !/[\u0000-\u001f\u007f]/.test(code), 'must not contain control characters');

/** The official SDK strips \r \n \t \f \v and trims; inner spaces survive. */
export const cleanCode = (code: string): string => code.replace(/[\r\n\t\f\v]/g, '').trim();

export const isoDuration = z
  .string()
  .max(40)
  .refine((text) => parseIsoDuration(text) !== null, 'must be a non-zero ISO-8601 duration in whole units, e.g. P2D or PT1H');

/** 0 Sunday … 6 Saturday (OA ValidityDayOfWeek); kept sorted and without repeats. */
export const daysOfWeek = z
  .array(z.number().int().min(0, 'must be 0 (Sunday) to 6 (Saturday)').max(6, 'must be 0 (Sunday) to 6 (Saturday)'))
  .min(1, 'must name at least one day (omit the field for every day)')
  .max(7)
  .transform((days) => [...new Set(days)].sort((a, b) => a - b) as DayOfWeek[]);

const timeOfDay = z.string().refine((text) => parseTimeOfDay(text) !== null, 'must be HH:mm (00:00 to 23:59)');

export const validityHoursSchema = strictObject({
  daily: z
    .array(
      strictObject({ start_time: timeOfDay, expiration_time: timeOfDay, days_of_week: daysOfWeek }).refine(
        (p) => p.start_time !== p.expiration_time,
        { message: 'must differ from start_time', path: ['expiration_time'] },
      ),
    )
    .min(1, 'must hold at least one period')
    .max(20),
});

/** When a code, a campaign or a promotion tier applies: its dates and recurring windows (OA validity fields). */
export const validityFields = {
  start_date: isoDate.optional(),
  expiration_date: isoDate.optional(),
  validity_timeframe: strictObject({ interval: isoDuration, duration: isoDuration }).nullable().optional(),
  validity_day_of_week: daysOfWeek.nullable().optional(),
  validity_hours: validityHoursSchema.nullable().optional(),
};

const voucherFields = {
  type: z.literal('DISCOUNT_VOUCHER', { error: 'only DISCOUNT_VOUCHER is supported' }).nullable().optional(),
  discount: discountSchema,
  ...validityFields,
  active: z.boolean().optional(),
  // Vouchsafe extension (migration 0031): offered to anyone by qualifications (docs/qualifications.md).
  public: z.boolean().optional(),
  additional_info: z.string().max(1000).nullable().optional(),
  // quantity is the one writable member; the others (redeemed_quantity, object, url) are counters and links.
  redemption: z.object({ quantity: z.number().int().min(1).nullable().optional() }).optional(),
  metadata: metadataSchema.nullable().optional(),
  // A code's campaign is set where the code is made (POST /v1/campaigns/{id}/vouchers, import) and
  // never moves: echoed back by an update, refused by a create (voucherCreateSchema).
  campaign: readOnly,
  campaign_id: readOnly,
  category: unsupported('categories'),
  category_id: unsupported('categories'),
  categories: z.array(z.unknown()).max(0, 'not supported: categories').optional(),
  gift: unsupported('gift cards (only DISCOUNT_VOUCHER)'),
  loyalty_card: unsupported('loyalty cards (only DISCOUNT_VOUCHER)'),
  is_referral_code: z.literal(false, { error: 'not supported: referral codes' }).optional(),
  // Set by a publication, never by a voucher route (not in OA24 VouchersCreateWithSpecificCodeRequestBody
  // nor VouchersUpdateRequestBody); accepted so that a voucher read from the API can be sent back.
  holder_id: readOnly,
  referrer_id: unsupported('referrals'),
  code_config: unsupported('code_config (generated codes are 8 characters without look-alikes; give code to choose one)'),
  id: readOnly,
  object: readOnly,
  created_at: readOnly,
  updated_at: readOnly,
  assets: readOnly,
  publish: readOnly,
  validation_rules_assignments: readOnly,
};

const datesInOrder = (v: { start_date?: number | null; expiration_date?: number | null }) =>
  !v.start_date || !v.expiration_date || v.start_date < v.expiration_date;

export const voucherCreateSchema = strictObject({
  code: z.string().max(200).transform(cleanCode).pipe(codeSchema).optional(),
  ...voucherFields,
  campaign: unsupported('campaign here; add codes to a campaign with POST /v1/campaigns/{id}/vouchers'),
  campaign_id: unsupported('campaign here; add codes to a campaign with POST /v1/campaigns/{id}/vouchers'),
  // Rules assigned in the same write as the voucher (SDK VouchersCreateParameters.validation_rules).
  validation_rules: z.array(z.string().min(1).max(100)).max(10).nullable().optional(),
})
  .refine(datesInOrder, { message: 'must be after start_date', path: ['expiration_date'] })
  // OA ValidityTimeframe: "start_date **required** when including the validity_timeframe".
  .refine((v) => !v.validity_timeframe || v.start_date, {
    message: 'required with validity_timeframe (its windows count from it)',
    path: ['start_date'],
  });
export type VoucherCreate = z.output<typeof voucherCreateSchema>;

export const voucherUpdateSchema = strictObject({
  ...voucherFields,
  discount: discountSchema.optional(),
  // The official SDK's vouchers.update sends the code it puts in the path (SDK Vouchers.d.ts VouchersUpdate).
  code: readOnly,
}).refine(datesInOrder, { message: 'must be after start_date', path: ['expiration_date'] });
export type VoucherUpdate = z.output<typeof voucherUpdateSchema>;

/**
 * OA GET /v1/vouchers `order` (created_at, updated_at, code), and the SDK's type, campaign and
 * category (VouchersListParams.order, SDK Vouchers.d.ts:166).
 */
const VOUCHER_LIST_ORDERS = [
  'created_at',
  '-created_at',
  'updated_at',
  '-updated_at',
  'code',
  '-code',
  'type',
  '-type',
  'campaign',
  '-campaign',
  'category',
  '-category',
] as const;

/**
 * The fields `filters` may name (OA GET /v1/vouchers `filters`: an object; SDK Vouchers.d.ts:167
 * `{junction, [field]: conditions}`), each with FilterConditionsString; another field is a 400
 * naming it, never ignored.
 */
export const VOUCHER_FILTER_FIELDS = ['code', 'id', 'campaign', 'campaign_id', 'category', 'holder_id', 'type'] as const;
export type VoucherFilterField = (typeof VOUCHER_FILTER_FIELDS)[number];
const voucherFilters = stringFilters(
  VOUCHER_FILTER_FIELDS,
  (keys) => `not supported: filter ${keys.map((k) => JSON.stringify(k)).join(', ')} (use ${VOUCHER_FILTER_FIELDS.join(', ')})`,
);
const beforeAfter = strictObject({ before: isoDateParam.optional(), after: isoDateParam.optional() });

/**
 * GET /v1/vouchers, after the qs-style query is parsed (OA GET /v1/vouchers parameters). A filter
 * this service cannot apply is a 400, never ignored: an ignored filter returns the wrong vouchers.
 */
export const voucherListQuerySchema = strictObject({
  limit: intParam(1, 100).optional(),
  page: intParam(1, 99).optional(),
  code: z.string().max(200).optional(),
  ids: z
    .union([
      z
        .string()
        .max(100)
        .transform((id) => [id]),
      z.array(z.string().max(100)).max(100),
    ])
    .optional(),
  // The holder of the vouchers (their holder_id), by id or source_id.
  customer: z.string().min(1).max(255).optional(),
  created_at: beforeAfter.optional(),
  updated_at: beforeAfter.optional(),
  order: z.enum(VOUCHER_LIST_ORDERS).optional(),
  // OA GET /v1/vouchers `campaign` (name) and `campaign_id` (readOnly-openAPI.json, /v1/vouchers parameters).
  campaign: z.string().min(1).max(255).optional(),
  campaign_id: z.string().min(1).max(100).optional(),
  // No voucher here has a category: a category filter matches none (OA GET /v1/vouchers `category`).
  category: z.string().min(1).max(255).optional(),
  filters: voucherFilters.optional(),
}).transform((q) => ({
  limit: q.limit ?? 10,
  page: q.page ?? 1,
  order: q.order ?? '-created_at',
  code: q.code,
  ids: q.ids,
  customer: q.customer,
  campaign: q.campaign,
  campaignId: q.campaign_id,
  createdBefore: q.created_at?.before,
  createdAfter: q.created_at?.after,
  updatedBefore: q.updated_at?.before,
  updatedAfter: q.updated_at?.after,
  category: q.category,
  filters: q.filters,
}));
export type VoucherListQuery = z.output<typeof voucherListQuerySchema>;
