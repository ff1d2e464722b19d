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

/** OA FilterConditionsString; qs may send a one-value list as an object {0: v} or an array. */
const filterValue = z.string().max(255);
const filterList = z.union([z.array(filterValue).max(100), filterValue.transform((v) => [v])]);
export const stringConditions = z.strictObject({
  $in: filterList.optional(),
  $not_in: filterList.optional(),
  $is: filterValue.optional(),
  $is_not: filterValue.optional(),
  $has_value: z.string().max(10).optional(),
  $is_unknown: z.string().max(10).optional(),
  $starts_with: filterValue.optional(),
  $ends_with: filterValue.optional(),
  $contains: filterValue.optional(),
  $not_contain: filterValue.optional(),
});
export type StringConditions = z.output<typeof stringConditions>;

/**
 * A list's `filters` over string fields, in Voucherify's shape (`{junction, [field]: {conditions}}`,
 * OA FilterConditionsString per field): only the fields given; another field is a 400 naming it
 * (the message from `unknownField`, else zod's), never ignored.
 */
export function stringFilters<F extends string>(fields: readonly F[], unknownField?: (keys: string[]) => string) {
  return z.strictObject(
    {
      junction: z
        .string()
        .transform((j) => j.toLowerCase())
        .pipe(z.enum(['and', 'or'], { message: 'must be and or or' }))
        .optional(),
      ...Object.fromEntries(fields.map((field) => [field, z.strictObject({ conditions: stringConditions }).optional()])),
    },
    unknownField ? { error: (issue) => (issue.code === 'unrecognized_keys' ? unknownField(issue.keys) : undefined) } : undefined,
  ) as unknown as z.ZodType<{ junction?: 'and' | 'or' } & Partial<Record<F, { conditions: StringConditions }>>>;
}
