import { Hono } from 'hono';
import type { AppBindings } from '../env';
import { invalidPayload } from '../errors';
import { parseInput } from '../lib/validation';
import { customerImportFormSchema } from '../schemas/imports';
import { startCustomerImport } from '../services/customer-import';

/** The path whose body limit is MAX_IMPORT_BYTES instead of the app's 1 MiB (app.ts). */
export const CUSTOMER_IMPORT_PATH = '/v1/customers/importCSV';

/**
 * POST /v1/customers/importCSV (multipart/form-data, field `file`): 202 {async_action_id} once the
 * file is parsed and validated; the rows are written after the answer (GET /v1/async-actions/{id}).
 */
export const customerImportRoutes = new Hono<AppBindings>().post('/', async (c) => {
  let form: Record<string, unknown>;
  try {
    // Any other content type reads as no fields, so the schema names the missing file.
    form = await c.req.parseBody();
  } catch {
    throw invalidPayload('The request body is not valid multipart/form-data.');
  }
  const { file } = parseInput(customerImportFormSchema, form);
  // zod types the file structurally (type, size); at run time it is the request's File, a Blob.
  const text = await (file as unknown as Blob).text();
  const action = await startCustomerImport(c.env.DB, text, c.get('requestId'), (work) => c.executionCtx.waitUntil(work()));
  return c.json({ async_action_id: action.id }, 202);
});
