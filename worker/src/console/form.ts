import type { Context } from 'hono';
import type { AppBindings } from '../env';
import { invalidPayload } from '../errors';

/**
 * A console form's fields (`c.req.parseBody`), or a 400 when the body cannot be read as a form: a
 * multipart body without its boundary, or cut short, makes the runtime's formData() throw, which
 * would otherwise be a 500. Console pages post url-encoded forms, so only a hand-made request gets here.
 */
export async function readForm(
  c: Context<AppBindings>,
  options: { all?: boolean } = {},
): Promise<Record<string, string | File | (string | File)[]>> {
  try {
    return await c.req.parseBody(options);
  } catch {
    throw invalidPayload('The request body is not a readable form (application/x-www-form-urlencoded or multipart/form-data).');
  }
}
