import { z } from 'zod';
import { intParam, isoDateParam } from './common';
import { metadataSchema } from './customers';

const cents = z.number().int('must be an integer number of cents').min(0).max(1_000_000_000_000);

const discountSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('AMOUNT'), amount_off: cents, effect: z.string().max(64).optional() }),
  z.object({
    type: z.literal('PERCENT'),
    percent_off: z.number().gt(0).max(100),
    amount_limit: cents.optional(),
    effect: z.string().max(64).optional(),
  }),
  z.object({ type: z.literal('FIXED'), fixed_amount: cents, effect: z.string().max(64).optional() }),
]);

const isoDate = isoDateParam.nullable();

/** Codes: what the official SDK sends after its clean-up, bounded and printable. */
export const codeSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(100)
  .refine((code) => !/[\u0000-\u001f\u007f]/.test(code), 'must not contain control characters');

/** The official SDK strips \r \n \t \f \v and trims; inner spaces survive. */
export const cleanCode = (code: string): string => code.replace(/[\r\n\t\f\v]/g, '').trim();

const voucherFields = {
  type: z.literal('DISCOUNT_VOUCHER').optional(),
  discount: discountSchema,
  start_date: isoDate.optional(),
  expiration_date: isoDate.optional(),
  active: z.boolean().optional(),
  redemption: z.object({ quantity: z.number().int().min(1).nullable().optional() }).optional(),
  metadata: metadataSchema.nullable().optional(),
};

export const voucherCreateSchema = z
  .object({ code: z.string().max(200).transform(cleanCode).pipe(codeSchema).optional(), ...voucherFields })
  .refine((v) => !v.start_date || !v.expiration_date || v.start_date < v.expiration_date, {
    message: 'must be after start_date',
    path: ['expiration_date'],
  });
export type VoucherCreate = z.output<typeof voucherCreateSchema>;

export const voucherUpdateSchema = z
  .object({ ...voucherFields, discount: discountSchema.optional() })
  .refine((v) => !v.start_date || !v.expiration_date || v.start_date < v.expiration_date, {
    message: 'must be after start_date',
    path: ['expiration_date'],
  });
export type VoucherUpdate = z.output<typeof voucherUpdateSchema>;

export const validationRuleCreateSchema = z.object({
  name: z.string().min(1, 'must not be empty').max(200),
  rules: z.record(z.string(), z.unknown()),
  error: z.object({ message: z.string().max(500) }).optional(),
  applicable_to: z.unknown().optional(),
  type: z.string().optional(),
  context_type: z.string().optional(),
});

export const assignmentCreateSchema = z.object({
  related_object_type: z.literal('voucher', { message: 'only voucher assignments are supported' }),
  related_object_id: z.string().min(1).max(100),
});

const itemSchema = z.object({
  sku_id: z.string().max(255).optional(),
  product_id: z.string().max(255).optional(),
  source_id: z.string().max(255).optional(),
  related_object: z.enum(['product', 'sku']).optional(),
  quantity: z.coerce.number().int().min(0).max(1_000_000).optional(),
  price: z.coerce.number().int().min(0).optional(),
  amount: z.coerce.number().int().min(0).optional(),
});

export const orderSchema = z.object({
  id: z.string().max(255).optional(),
  source_id: z.string().max(255).optional(),
  amount: z.coerce.number().int('must be an integer number of cents').min(0).optional(),
  items: z.array(itemSchema).max(500).optional(),
  metadata: metadataSchema.optional(),
});
export type OrderInput = z.output<typeof orderSchema>;

export const contextCustomerSchema = z.object({
  id: z.string().min(1).max(255).optional(),
  source_id: z.string().min(1).max(255).optional(),
  name: z.string().max(255).optional(),
  email: z.string().max(254).optional(),
  metadata: metadataSchema.optional(),
});

const trackingIdField = z.string().min(1).max(255).optional();
const identityHashField = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex characters (SHA-256)').optional();

/** The body of server validate / redeem, and the query of client validate once parsed. */
export const validationContextSchema = z.object({
  customer: contextCustomerSchema.optional(),
  order: orderSchema.optional(),
  amount: z.coerce.number().int().min(0).optional(),
  metadata: metadataSchema.optional(),
  tracking_id: trackingIdField,
  identity_hash: identityHashField,
  session: z.unknown().optional(),
  gift: z.unknown().optional(),
  reward: z.unknown().optional(),
  options: z.unknown().optional(),
});
export type ValidationContext = z.output<typeof validationContextSchema>;

/** GET /client/v1/validate, after the qs-style query is parsed into an object. */
export const clientValidateQuerySchema = validationContextSchema.extend({
  code: z.string().max(200).transform(cleanCode).pipe(codeSchema),
  item: z.array(itemSchema).max(500).optional(),
  // The string shortcut customer=<source id> of Voucherify's own examples.
  customer: z.union([contextCustomerSchema, z.string().min(1).max(255).transform((source_id) => ({ source_id }))]).optional(),
});

const redeemableSchema = z.object({
  object: z.literal('voucher', { message: 'only vouchers are supported' }),
  id: codeSchema,
});

export const stackableSchema = validationContextSchema.extend({
  redeemables: z.array(redeemableSchema).min(1, 'must hold at least one redeemable').max(30),
});
export type StackableInput = z.output<typeof stackableSchema>;

/** GET /v1/redemptions. */
export const redemptionListQuerySchema = z
  .object({ limit: intParam(1, 100).optional(), page: intParam(1, 99).optional(), customer: z.string().max(255).optional() })
  .transform((q) => ({ limit: q.limit ?? 10, page: q.page ?? 1, customer: q.customer }));
