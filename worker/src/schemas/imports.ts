import { z } from 'zod';
import { customerWriteFields, toCustomerWrite } from './customers';
import { csvUploadSchema } from './common';

/** Largest body POST /v1/customers/importCSV takes (counted by routes/imports.ts as it streams). */
export const MAX_IMPORT_BYTES = 25 * 1024 * 1024;
/**
 * Most data rows one import takes. The writes are queue work, a chunk per message, so no single
 * invocation has to hold them; this bounds the request's reading (and 25 MiB fits about this many
 * short rows).
 */
export const MAX_IMPORT_ROWS = 1_000_000;

/**
 * POST /v1/customers/importCSV: multipart/form-data with the CSV in the field `file`. The route reads
 * the body as a stream (lib/multipart.ts) with the same rules; this schema documents it (openapi.ts).
 */
export const customerImportFormSchema = csvUploadSchema(MAX_IMPORT_BYTES);

/**
 * One CSV row once its cells are mapped to customer fields: the same rules as the customers API
 * (customerWriteFields), plus the optional `Id` of an existing customer to update.
 */
export const customerImportRowSchema = z
  .object({ id: z.string().min(1).max(255).optional(), ...customerWriteFields })
  .transform(({ id, ...fields }) => ({ id, write: toCustomerWrite(fields) }));
