import { z } from 'zod';
import type { CodeConfig } from '../lib/codes';
import { intParam } from './common';
import { metadataSchema } from './customers';
import {
  cleanCode,
  codeSchema,
  daysOfWeek,
  discountSchema,
  isoDate,
  isoDuration,
  readOnly,
  strictObject,
  unsupported,
  validityFields,
  validityHoursSchema,
} from './vouchers';

/** Codes without look-alikes (0/O, 1/I), as standalone vouchers generate them: the default charset. */
export const DEFAULT_CHARSET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export const DEFAULT_CODE_LENGTH = 8;
/** Generated codes one campaign may ask for in one call (the bench's 100,000, with room). */
export const MAX_VOUCHERS_COUNT = 1_000_000;

/**
 * OA CodeConfig (readOnly-openAPI.json:L4479): `pattern` ("hashes (#) will be replaced with random
 * characters. Overrides length"), `length` (excluding prefix and postfix), `charset`, `prefix`,
 * `postfix`. Stored normalised: a pattern always (length L becomes L hashes).
 */
export const codeConfigSchema = strictObject({
  length: z.number().int('must be an integer').min(1).max(64).nullable().optional(),
  charset: z
    .string()
    .min(1, 'must hold at least one character')
    .max(256)
    .refine((c) => new Set(c).size === [...c].length, 'must not repeat a character')
    .refine((c) => !/[\s#\u0000-\u001f\u007f]/.test(c), 'must not contain whitespace, control characters or #')
    .nullable()
    .optional(),
  prefix: z
    .string()
    .max(50)
    .refine((t) => !/[\u0000-\u001f\u007f]/.test(t), 'must not contain control characters')
    .nullable()
    .optional(),
  postfix: z
    .string()
    .max(50)
    .refine((t) => !/[\u0000-\u001f\u007f]/.test(t), 'must not contain control characters')
    .nullable()
    .optional(),
  pattern: z
    .string()
    .max(100)
    .refine((p) => p.includes('#'), 'must contain at least one # (a random character)')
    .refine((p) => !/[\u0000-\u001f\u007f]/.test(p), 'must not contain control characters')
    .nullable()
    .optional(),
  // OA: "Internal value, does not change anything if provided."
  initial_count: readOnly,
});
export type CodeConfigInput = z.output<typeof codeConfigSchema>;

/** What generation reads (lib/codes.ts, the code generator, defines it): the full pattern and the charset. */
export type { CodeConfig };

export function normaliseCodeConfig(input: CodeConfigInput | null | undefined): CodeConfig {
  const length = input?.length ?? null;
  return {
    length,
    charset: input?.charset ?? DEFAULT_CHARSET,
    prefix: input?.prefix ?? null,
    postfix: input?.postfix ?? null,
    pattern: input?.pattern ?? '#'.repeat(length ?? DEFAULT_CODE_LENGTH),
  };
}

const redemptionSchema = z
  .object({ quantity: z.number().int().min(1).nullable().optional() })
  .nullable()
  .optional();

/** OA DiscountCouponsCampaignVoucher: the template of the campaign's codes. */
const campaignVoucherSchema = strictObject({
  type: z.literal('DISCOUNT_VOUCHER', { error: 'only DISCOUNT_VOUCHER is supported' }).nullable().optional(),
  discount: discountSchema,
  redemption: redemptionSchema,
  code_config: codeConfigSchema.nullable().optional(),
  is_referral_code: z.literal(false, { error: 'not supported: referral codes' }).nullable().optional(),
  gift: unsupported('gift cards (only DISCOUNT_VOUCHER)'),
  loyalty_card: unsupported('loyalty cards (only DISCOUNT_VOUCHER)'),
  // Accepted in the template as the OA CampaignVoucher allows; the campaign-level value wins.
  start_date: isoDate.optional(),
  expiration_date: isoDate.optional(),
  validity_timeframe: strictObject({ interval: isoDuration, duration: isoDuration }).nullable().optional(),
  validity_day_of_week: daysOfWeek.nullable().optional(),
  validity_hours: validityHoursSchema.nullable().optional(),
});

/** Fields of the spec this service does not implement for campaigns: accepted empty, else a 400. */
const campaignUnsupported = {
  category: unsupported('categories'),
  category_id: unsupported('categories'),
  access_settings: unsupported('access settings'),
  activity_duration_after_publishing: unsupported('activity_duration_after_publishing'),
  auto_join: z.literal(false, { error: 'not supported: auto_join (loyalty campaigns)' }).nullable().optional(),
  use_voucher_metadata_schema: z.boolean().nullable().optional().describe('accepted; no metadata schemas here'),
};

const datesInOrder = (v: { start_date?: number | null; expiration_date?: number | null }) =>
  !v.start_date || !v.expiration_date || v.start_date < v.expiration_date;

/**
 * POST /v1/campaigns for DISCOUNT_COUPONS (OA CampaignsCreateDiscountCouponsCampaign, and the SDK's
 * CampaignsCreateCampaign, Campaigns.d.ts).
 */
export const campaignCreateSchema = strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(200),
  description: z.string().max(1000).nullable().optional(),
  // PROMOTION bodies are read by schemas/promotions.ts promotionCampaignCreateSchema (routes/campaigns.ts picks).
  campaign_type: z.literal('DISCOUNT_COUPONS', { error: 'only DISCOUNT_COUPONS and PROMOTION are supported' }).optional(),
  type: z.enum(['AUTO_UPDATE', 'STATIC'], { error: 'must be AUTO_UPDATE or STATIC' }).nullable().optional(),
  join_once: z.boolean().nullable().optional(),
  vouchers_count: z.number().int('must be an integer').min(0).max(MAX_VOUCHERS_COUNT).nullable().optional(),
  ...validityFields,
  active: z.boolean().optional(),
  // Vouchsafe extension (migration 0031): its codes nobody holds are offered to anyone by qualifications (docs/qualifications.md).
  public: z.boolean().optional(),
  metadata: metadataSchema.nullable().optional(),
  validation_rules: z.array(z.string().min(1).max(100)).max(10).nullable().optional(),
  voucher: campaignVoucherSchema,
  ...campaignUnsupported,
})
  .refine(datesInOrder, { message: 'must be after start_date', path: ['expiration_date'] })
  .refine((v) => !(v.validity_timeframe ?? v.voucher.validity_timeframe) || (v.start_date ?? v.voucher.start_date), {
    message: 'required with validity_timeframe (its windows count from it)',
    path: ['start_date'],
  });
export type CampaignCreate = z.output<typeof campaignCreateSchema>;

/** PUT /v1/campaigns/{id} (OA CampaignsUpdateDiscountCouponsCampaign): written through to the codes. */
export const campaignUpdateSchema = strictObject({
  description: z.string().max(1000).nullable().optional(),
  type: z.enum(['AUTO_UPDATE', 'STATIC'], { error: 'must be AUTO_UPDATE or STATIC' }).nullable().optional(),
  join_once: z.boolean().nullable().optional(),
  ...validityFields,
  discount: discountSchema.optional(),
  // Vouchsafe extension (migration 0031): its codes nobody holds are offered to anyone by qualifications (docs/qualifications.md).
  public: z.boolean().optional(),
  metadata: metadataSchema.nullable().optional(),
  unset_metadata_fields: z.array(z.string().max(100)).max(100).optional(),
  ...campaignUnsupported,
}).refine(datesInOrder, { message: 'must be after start_date', path: ['expiration_date'] });
export type CampaignUpdate = z.output<typeof campaignUpdateSchema>;

/** GET /v1/campaigns (OA parameters; the SDK's CampaignsListParams). */
export const campaignListQuerySchema = strictObject({
  limit: intParam(1, 100).optional(),
  page: intParam(1, 1000).optional(),
  campaign_type: z
    .enum(['DISCOUNT_COUPONS', 'PROMOTION'], { error: 'only DISCOUNT_COUPONS and PROMOTION campaigns exist here' })
    .optional(),
  order: z.enum(['created_at', '-created_at', 'updated_at', '-updated_at', 'name', '-name']).optional(),
  expand: z.literal('category').optional(),
  // OA GET /v1/campaigns `campaign_status` (DONE, IN_PROGRESS, FAILED, DRAFT, MODIFYING): the codes'
  // generation status here; no campaign is ever a DRAFT or MODIFYING, so those match none.
  campaign_status: z
    .enum(['DONE', 'IN_PROGRESS', 'FAILED', 'DRAFT', 'MODIFYING'], { error: 'must be DONE, IN_PROGRESS, FAILED, DRAFT or MODIFYING' })
    .optional(),
  // OA `is_referral_code`: no campaign here has referral codes.
  is_referral_code: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
  filters: z.never({ error: 'not supported: advanced filters' }).optional(),
}).transform((q) => ({
  limit: q.limit ?? 10,
  page: q.page ?? 1,
  order: q.order ?? '-created_at',
  typeFilter: q.campaign_type,
  status: q.campaign_status,
  matchesNone: q.is_referral_code === 'true',
}));
export type CampaignListQuery = z.output<typeof campaignListQuerySchema>;

/** POST /v1/campaigns/{id}/vouchers (OA CampaignsVouchersCreateInBulkRequestBody) and …/vouchers/{code}. */
export const campaignVoucherAddSchema = strictObject({
  code: z.string().max(200).transform(cleanCode).pipe(codeSchema).nullable().optional(),
  code_config: codeConfigSchema.nullable().optional(),
  redemption: redemptionSchema,
  metadata: metadataSchema.nullable().optional(),
  additional_info: z.string().max(1000).nullable().optional(),
  start_date: isoDate.optional(),
  expiration_date: isoDate.optional(),
  category: unsupported('categories'),
  category_id: unsupported('categories'),
});
export type CampaignVoucherAdd = z.output<typeof campaignVoucherAddSchema>;

export const campaignVoucherAddQuerySchema = strictObject({ vouchers_count: intParam(1, MAX_VOUCHERS_COUNT).optional() });

/** One code of POST /v1/campaigns/{id}/import (OA VoucherImportDiscount; SDK CampaignsImportVouchers). */
export const campaignImportItemSchema = strictObject({
  code: z.string().max(200).transform(cleanCode).pipe(codeSchema),
  type: z.literal('DISCOUNT_VOUCHER', { error: 'only DISCOUNT_VOUCHER is supported' }).nullable().optional(),
  // OA: "Discount type, expiration date and the remaining attributes will be taken from the Campaign settings."
  discount: readOnly,
  redemption: redemptionSchema,
  active: z.boolean().nullable().optional(),
  metadata: metadataSchema.nullable().optional(),
  additional_info: z.string().max(1000).nullable().optional(),
  start_date: isoDate.optional(),
  expiration_date: isoDate.optional(),
  category: unsupported('categories'),
});
export type CampaignImportItem = z.output<typeof campaignImportItemSchema>;

/** Rows of one import call (JSON or CSV): written in the request, a duplicate code failing its row alone. */
export const MAX_IMPORT_CODES = 5000;
