import { Hono } from 'hono';
import type { AppBindings } from '../env';
import { invalidPayload } from '../errors';
import { readMultipartFile } from '../lib/multipart';
import { MAX_IMPORT_BYTES } from '../schemas/imports';
import { startCustomerImport } from '../services/customer-import';

/** The path whose body this route limits itself, to MAX_IMPORT_BYTES (app.ts skips it). */
export const CUSTOMER_IMPORT_PATH = '/v1/customers/importCSV';

/**
 * POST /v1/customers/importCSV (multipart/form-data, field `file`): 202 {async_action_id} once the
 * file is read and every row validated; the rows are written after the answer (GET
 * /v1/async-actions/{id}). The body is read as a stream, keeping only the file's bytes.
 */
export const customerImportRoutes = new Hono<AppBindings>().post('/', async (c) => {
  const file = await readMultipartFile(c.req.raw, 'file', MAX_IMPORT_BYTES);
  if (!file) throw invalidPayload('file: must be a file (multipart/form-data field "file")');
  const action = await startCustomerImport(c.env.DB, file.chunks, c.get('requestId'), (work) => c.executionCtx.waitUntil(work()));
  return c.json({ async_action_id: action.id }, 202);
});
