import { Hono } from 'hono';
import type { AppBindings } from '../env';
import { invalidPayload } from '../errors';
import { streamMultipartFile } from '../lib/multipart';
import { MAX_IMPORT_BYTES } from '../schemas/imports';
import { startCustomerImport } from '../services/customer-import';

/** The path whose body this route limits itself, to MAX_IMPORT_BYTES (app.ts skips it). */
export const CUSTOMER_IMPORT_PATH = '/v1/customers/importCSV';

/**
 * POST /v1/customers/importCSV (multipart/form-data, field `file`): 202 {async_action_id} once the
 * file is read and every row validated; the rows are written by the WRITES queue's consumer (GET
 * /v1/async-actions/{id}). The body is read as a stream, and its rows sent as they are read.
 */
export const customerImportRoutes = new Hono<AppBindings>().post('/', async (c) => {
  const notAFile = () => invalidPayload('file: must be a file (multipart/form-data field "file")');
  const file = streamMultipartFile(c.req.raw, 'file', MAX_IMPORT_BYTES, notAFile);
  if (!file) throw notAFile();
  const action = await startCustomerImport(c.env.DB, c.env.WRITES, file, c.get('requestId'));
  return c.json({ async_action_id: action.id }, 202);
});
