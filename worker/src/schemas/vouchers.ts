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
