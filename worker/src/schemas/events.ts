import { z } from 'zod';
import { EVENT_NAME_PATTERN } from '../../../shared/filter';
import { customerWriteFields, metadataSchema, toCustomerWrite } from './customers';

export const eventCreateSchema = z.object({
  // Only names a segment filter can count (events.<name>.count); this also keeps custom events
  // apart from the dotted types Vouchsafe writes itself (customer.segment.entered).
  event: z.string().regex(EVENT_NAME_PATTERN, 'must be 1 to 64 of A-Z a-z 0-9 _ - (the names events.<name>.count can use)'),
  customer: z
    .object({ id: z.string().min(1).max(255).optional(), ...customerWriteFields })
    .transform(({ id, ...fields }) => ({ id, ...toCustomerWrite(fields) })),
  metadata: metadataSchema.nullable().optional(),
  referral: z.unknown().optional(),
  loyalty: z.unknown().optional(),
});

export type EventCreate = z.output<typeof eventCreateSchema>;
