import { z } from 'zod';
import { customerWriteFields, metadataSchema, toCustomerWrite } from './customers';

/** Event types under this prefix are written by Vouchsafe itself (segment transitions). */
export const RESERVED_EVENT_PREFIX = 'customer.';

export const eventCreateSchema = z.object({
  event: z
    .string()
    .min(1, 'must not be empty')
    .max(100)
    .refine((name) => !name.startsWith(RESERVED_EVENT_PREFIX), {
      message: `names starting with "${RESERVED_EVENT_PREFIX}" are reserved`,
    }),
  customer: z
    .object({ id: z.string().min(1).max(255).optional(), ...customerWriteFields })
    .transform(({ id, ...fields }) => ({ id, ...toCustomerWrite(fields) })),
  metadata: metadataSchema.nullable().optional(),
  referral: z.unknown().optional(),
  loyalty: z.unknown().optional(),
});

export type EventCreate = z.output<typeof eventCreateSchema>;
