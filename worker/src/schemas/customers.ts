import { z } from 'zod';
import {
  ADDRESS_FIELDS,
  type AddressKey,
  TOP_LEVEL_WRITABLE_FIELDS,
  type TopLevelWritablePath,
  type Writable,
} from '../../../shared/customer-fields';
import { intParam, isoDateParam } from './common';

// Input schemas of the customers API. Unknown properties are dropped rather than refused, so that a
// customer object read from the API can be sent back as it is (the official SDK's update() does so).

const MAX_TEXT = 255;
/**
 * The size limit of a metadata object as JSON (UTF-8 bytes): of each request's metadata, and of a
 * customer's stored metadata after any merge (Segment identify/group, the metadata bulk update, a
 * CSV import's metadata cells), which the writes check in SQL (db/customers.ts metadataSizeCheck).
 */
export const MAX_METADATA_BYTES = 32 * 1024;

const isCalendarDate = (value: string): boolean => {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return false;
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
};

/** The rule of one writable catalogue field; `null` clears it, absence leaves it as it is. */
function fieldSchema(field: { path: string; write: Writable }) {
  const { max, format } = field.write;
  let text = z.string();
  if (field.path === 'source_id') text = text.min(1, 'must not be empty');
  if (format === 'calendar_date') {
    return text.refine(isCalendarDate, { message: 'must be a calendar date in the format YYYY-MM-DD' }).nullable().optional();
  }
  text = text.max(max);
  if (format === 'email') text = text.regex(/^[^\s@]+@[^\s@]+$/, 'must be an email address');
  return text.nullable().optional();
}
type FieldSchema = ReturnType<typeof fieldSchema>;

export const metadataSchema = z
  .record(z.string().min(1).max(100), z.unknown())
  .refine((value) => new TextEncoder().encode(JSON.stringify(value)).length <= MAX_METADATA_BYTES, {
    message: `must be at most ${MAX_METADATA_BYTES} bytes as JSON`,
  });

export const addressSchema = z.object(
  Object.fromEntries(ADDRESS_FIELDS.map((f) => [f.key, fieldSchema(f)])) as Record<AddressKey, FieldSchema>,
);

const sourceId = z.string().min(1, 'must not be empty').max(MAX_TEXT);

/**
 * The writable fields of a customer (shared/customer-fields.ts), as the customers API, bulk upsert,
 * the CSV import, events and the customer of validate/redeem bodies accept them.
 */
export const customerWriteFields = {
  ...(Object.fromEntries(TOP_LEVEL_WRITABLE_FIELDS.map((f) => [f.path, fieldSchema(f)])) as Record<TopLevelWritablePath, FieldSchema>),
  /** Deprecated Voucherify alias of birthdate. */
  birthday: fieldSchema({ path: 'birthday', write: { max: 10, format: 'calendar_date' } }),
  address: addressSchema.nullable().optional(),
  metadata: metadataSchema.nullable().optional(),
};

/** The customer fields in the shape the storage layer writes; `undefined` means "leave unchanged". */
export type CustomerWrite = { [P in TopLevelWritablePath]?: string | null } & {
  address?: { [K in AddressKey]?: string | null } | null;
  metadata?: Record<string, unknown> | null;
};

export const toCustomerWrite = ({ birthday, birthdate, ...rest }: z.output<z.ZodObject<typeof customerWriteFields>>): CustomerWrite => {
  const write: CustomerWrite = { ...rest };
  const date = birthdate !== undefined ? birthdate : birthday;
  if (date !== undefined) write.birthdate = date;
  return write;
};

/** POST /v1/customers: create, or upsert by `id` / `source_id`. */
export const customerCreateSchema = z
  .object({ id: z.string().min(1).max(MAX_TEXT).optional(), ...customerWriteFields })
  .transform(({ id, ...fields }) => ({ id, write: toCustomerWrite(fields) }));

/** PUT /v1/customers/{id}: a partial update. */
export const customerUpdateSchema = z.object(customerWriteFields).transform(toCustomerWrite);

/**
 * Records in one POST /v1/customers/bulk/async. The OA bounds the request by size only (10 MB, see
 * MAX_BULK_BODY_BYTES); the count is bounded too because the valid records are written in one D1
 * batch, one upsert each, next to the membership refresh (7 statements whatever the number of
 * auto-update segments, a few more only when their filters' text passes 90 KB): 500 + the refresh
 * + the action stays under D1's 1,000 queries per Worker invocation even when every statement of a
 * batch counts as one.
 */
export const MAX_BULK_RECORDS = 500;
/** The OA's limit of a bulk request ("The request can include up to 10 MB of data"). */
export const MAX_BULK_BODY_BYTES = 10 * 1024 * 1024;
/** Source ids in one POST /v1/customers/metadata/async (one upsert statement each). */
export const MAX_METADATA_SOURCE_IDS = 100;

/** One record of POST /v1/customers/bulk/async: an upsert by source_id, which it must carry. */
export const customerBulkRecordSchema = z
  .object({ ...customerWriteFields, source_id: sourceId })
  .transform((record) => ({ ...toCustomerWrite(record), source_id: record.source_id }));

export type CustomerBulkRecord = z.output<typeof customerBulkRecordSchema>;

/**
 * POST /v1/customers/bulk/async as a whole. Records are checked one by one by the service, so a bad
 * record is reported in the async action's errors instead of refusing the batch.
 */
export const customerBulkSchema = z
  .array(z.unknown())
  .min(1, 'must hold at least one customer')
  .max(MAX_BULK_RECORDS, `must hold at most ${MAX_BULK_RECORDS} customers`);

/** POST /v1/customers/metadata/async. */
export const customerMetadataBulkSchema = z.object({
  source_ids: z.array(sourceId).max(MAX_METADATA_SOURCE_IDS, `must hold at most ${MAX_METADATA_SOURCE_IDS} source ids`),
  metadata: metadataSchema,
});

export const CUSTOMER_LIST_ORDERS = ['created_at', '-created_at', 'updated_at', '-updated_at', 'source_id', '-source_id'] as const;
export type CustomerListOrder = (typeof CUSTOMER_LIST_ORDERS)[number];

/** The deepest page offered; deeper walks use the `starting_after` cursor as scroll() does. */
export const MAX_LIST_PAGE = 99;

/** GET /v1/customers query (qs-style keys such as `created_at[before]` arrive flattened). */
export const customerListQuerySchema = z
  .object({
    limit: intParam(1, 100).optional(),
    page: intParam(1, MAX_LIST_PAGE).optional(),
    email: z.string().max(254).optional(),
    city: z.string().max(MAX_TEXT).optional(),
    name: z.string().max(MAX_TEXT).optional(),
    'created_at[before]': isoDateParam.optional(),
    'created_at[after]': isoDateParam.optional(),
    'updated_at[before]': isoDateParam.optional(),
    'updated_at[after]': isoDateParam.optional(),
    order: z.enum(CUSTOMER_LIST_ORDERS).optional(),
    starting_after: isoDateParam.optional(),
    segment_id: z.string().min(1).max(64).optional(),
  })
  .refine((q) => q.starting_after === undefined || q.order === undefined || q.order.endsWith('created_at'), {
    message: 'starting_after is a created_at cursor: order must be created_at or -created_at',
    path: ['starting_after'],
  })
  .transform((q) => ({
    limit: q.limit ?? 10,
    page: q.page ?? 1,
    order: q.order ?? '-created_at',
    email: q.email,
    city: q.city,
    name: q.name,
    createdBefore: q['created_at[before]'],
    createdAfter: q['created_at[after]'],
    updatedBefore: q['updated_at[before]'],
    updatedAfter: q['updated_at[after]'],
    startingAfter: q.starting_after,
    segmentId: q.segment_id,
  }));

export type CustomerListQuery = z.output<typeof customerListQuerySchema>;
