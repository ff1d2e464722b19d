import type { Context } from 'hono';
import type { z } from 'zod';
import { ApiError, invalidPayload } from '../errors';

/**
 * Reads the request body as JSON. An empty body reads as `undefined` so that the schema, not the
 * parser, says what was expected. Content-Type is not enforced: the official SDK sends
 * application/json on every call, and other clients are forgiven a missing header.
 */
export async function readJsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw invalidPayload('The request body is not valid JSON.');
  }
}

/** `address.city`, `[3].email`, `metadata.size`: where in the input an issue sits. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

/** Validates `value` against `schema`; the first issue becomes a 400 naming the field. */
export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  toError: (details: string) => ApiError = invalidPayload,
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw toError('Invalid input.');
  const where = formatPath(issue.path);
  throw toError(where === '' ? issue.message : `${where}: ${issue.message}`);
}

export async function parseJsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  return parseInput(schema, await readJsonBody(c));
}
