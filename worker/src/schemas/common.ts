import { z } from 'zod';
import { parseIsoMs } from '../lib/time';

// Parameters that arrive as strings (query strings, ISO dates in bodies): these parse and bound them.

export const isoDateParam = z.string().transform((value, ctx) => {
  const ms = parseIsoMs(value);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: 'must be an ISO-8601 date or date-time' });
    return z.NEVER;
  }
  return ms;
});

export const intParam = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be an integer')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

/** A CSV upload: multipart/form-data with the file in the field `file`, of at most `maxBytes`. */
export const csvUploadSchema = (maxBytes: number) =>
  z.object({
    file: z.file({ message: 'must be a file (multipart/form-data field "file")' }).max(maxBytes, `must be at most ${maxBytes} bytes`),
  });
