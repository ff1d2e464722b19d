import type { Context } from 'hono';
import type { z } from 'zod';
import { isPrototypeKey, PROTOTYPE_KEY_RULE } from '../../../shared/prototype-keys';
import { ApiError, invalidPayload } from '../errors';
import { decodeUtf8, hasLoneSurrogate, hexByte } from './text';

/** Containers (objects and arrays) a JSON body may nest, the body itself being the first. */
export const MAX_JSON_DEPTH = 32;

/**
 * Reads the request body as JSON. An empty body reads as `undefined` so that the schema, not the
 * parser, says what was expected. Content-Type is not enforced: the official SDK sends
 * application/json on every call, and other clients are forgiven a missing header.
 *
 * What no schema can see is refused here, for every route at once, with a 400 naming the place:
 * bytes that are not UTF-8, nesting deeper than MAX_JSON_DEPTH (SQLite's json_valid stops at 1,000,
 * which was a 500), prototype keys, and lone surrogates (D1 would store U+FFFD in their place).
 */
export async function readJsonBody(c: Context): Promise<unknown> {
  const decoded = decodeUtf8(new Uint8Array(await c.req.arrayBuffer()));
  if (!('text' in decoded)) {
    throw invalidPayload(`The request body is not valid UTF-8: byte ${hexByte(decoded.byte)} at byte offset ${decoded.offset}.`);
  }
  const { text } = decoded;
  if (text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalidPayload('The request body is not valid JSON.');
  }
  checkJsonValue(value, [], 1);
  return value;
}

/** Walks the parsed body once; depth bounds the walk, so it cannot run away on hostile input. */
function checkJsonValue(value: unknown, path: PropertyKey[], depth: number): void {
  const where = () => formatPath(path) || 'The request body';
  if (typeof value === 'string') {
    if (hasLoneSurrogate(value))
      throw invalidPayload(`${where()}: contains a lone UTF-16 surrogate, which is not text; send valid Unicode.`);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  if (depth > MAX_JSON_DEPTH) throw invalidPayload(`${where()}: JSON may nest at most ${MAX_JSON_DEPTH} levels of objects and arrays.`);
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      path.push(i);
      checkJsonValue(item, path, depth + 1);
      path.pop();
    });
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    path.push(key);
    if (isPrototypeKey(key)) throw invalidPayload(`${where()}: ${PROTOTYPE_KEY_RULE}.`);
    if (hasLoneSurrogate(key))
      throw invalidPayload(`${where()}: the key contains a lone UTF-16 surrogate, which is not text; send valid Unicode.`);
    checkJsonValue(item, path, depth + 1);
    path.pop();
  }
}

/** `address.city`, `[3].email`, `metadata.size`: where in the input an issue sits. */
export function formatPath(path: readonly PropertyKey[]): string {
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
