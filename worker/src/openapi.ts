import { BOOKMARK_HEADER } from '../../shared/consistency';
import { z } from 'zod';
import { type Auth, CATALOGUE, type Route, type Success } from './catalogue';

// The OpenAPI 3.1 description of every route the worker serves (GET /openapi.json), built from the
// route catalogue (catalogue.ts) without the console's pages. Request bodies and query
// parameters are generated from the zod schemas the routes validate with, in their input form
// (z.toJSONSchema io:'input': what a client sends, before transforms), so the document cannot
// drift from the validation.

const JSON_OK: Success = { status: 200 };

/** The routes the document lists: all but the operator console's pages, which are a client of this API. */
export const documentedRoutes = (): Route[] => CATALOGUE.filter((route) => route.auth !== 'console');

/** The path as OpenAPI writes it: the documented one for a wildcard, parameters in braces (/v1/customers/{id}). */
export const openApiPath = (route: Route): string => route.docPath ?? route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

type JsonSchema = Record<string, unknown>;

/** The input side of a schema (before transforms) as JSON Schema 2020-12, the dialect of OpenAPI 3.1. */
function jsonSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' }) as JsonSchema;
  return rest;
}

function queryParameters(schema: z.ZodType): JsonSchema[] {
  const object = jsonSchema(schema);
  const properties = (object.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((object.required as string[] | undefined) ?? []);
  return Object.entries(properties).map(([name, property]) => {
    const nested = property.type === 'object' || property.type === 'array' || 'anyOf' in property;
    // Objects and lists travel qs-style (item[0][sku_id]=…), as the official SDK writes them.
    return { name, in: 'query', required: required.has(name), schema: property, ...(nested ? { style: 'deepObject', explode: true } : {}) };
  });
}

const SECURITY: Record<Auth, JsonSchema[]> = {
  server: [{ appId: [], appToken: [] }],
  client: [{ clientApplicationId: [], clientToken: [] }],
  'export-token': [{ downloadToken: [] }],
  segment: [{ segmentApplicationId: [], segmentSecretKey: [] }],
  none: [],
  demo: [],
  // Never in the document (documentedRoutes).
  console: [],
};

const BOOKMARK_PARAMETER = {
  name: BOOKMARK_HEADER,
  in: 'header',
  required: false,
  description:
    'A bookmark from an earlier server response: this request reads at least the state it names (read-your-writes across read replicas). Malformed ones are ignored.',
  schema: { type: 'string', maxLength: 128 },
};
const BOOKMARK_RESPONSE_HEADER = {
  description:
    "The D1 session bookmark after this request's reads and writes; send it back to read your own writes. Never on client-key responses.",
  schema: { type: 'string' },
};

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

function operation(route: Route, path: string): JsonSchema {
  const parameters: JsonSchema[] = [...path.matchAll(/\{([^}]+)\}/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  if (route.query) parameters.push(...queryParameters(route.query));
  for (const header of route.headers ?? [])
    parameters.push({
      name: header.name,
      in: 'header',
      required: false,
      description: header.description,
      schema: { type: 'string', maxLength: 255 },
    });
  // Our addition on every keyed route (docs/architecture.md, "Consistency"; middleware/d1-session.ts).
  if (route.auth === 'server' || route.auth === 'client') parameters.push(BOOKMARK_PARAMETER);

  const success = route.success ?? JSON_OK;
  const media = success.media ?? 'application/json';
  const responses: JsonSchema = {
    [success.status]:
      success.status === 204
        ? { description: 'No content' }
        : {
            description: 'Success',
            content: { [media]: { schema: media === 'application/json' ? { type: 'object' } : { type: 'string' } } },
          },
  };
  if (route.auth === 'server') (responses[success.status] as JsonSchema).headers = { [BOOKMARK_HEADER]: BOOKMARK_RESPONSE_HEADER };
  if (route.body || route.form || route.query) responses['400'] = errorResponse('Invalid input; details names the field');
  if (route.auth === 'server' || route.auth === 'client' || route.auth === 'segment')
    responses['401'] = errorResponse('Missing or wrong key');
  if (route.auth === 'export-token') responses['401'] = errorResponse('No token');
  if (route.auth === 'client' || route.auth === 'export-token')
    responses['403'] = errorResponse(route.auth === 'client' ? 'Origin not allowed' : 'Token wrong or expired');
  if (path.includes('{')) responses['404'] = errorResponse('Not found');
  if (route.body || route.form) responses['413'] = errorResponse('Body too large');

  if (route.answer) (responses[success.status] as JsonSchema).content = { 'application/json': { schema: ref(route.answer) } };
  const op: JsonSchema = {
    operationId: `${route.method}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_, ch: string | undefined) => (ch ?? '').toUpperCase())}`,
    tags: [route.tag],
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    security: SECURITY[route.auth],
    responses,
  };
  if (parameters.length > 0) op.parameters = parameters;
  if (route.body) op.requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(route.body) } } };
  if (route.form) op.requestBody = { required: true, content: { 'multipart/form-data': { schema: jsonSchema(route.form) } } };
  return op;
}

/** The OpenAPI 3.1 document (built once per isolate; it depends on the code only). */
export function openApiDocument(): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of documentedRoutes()) {
    const path = openApiPath(route);
    const item = (paths[path] ??= {});
    if (item[route.method]) throw new Error(`openapi: ${route.method.toUpperCase()} ${path} is listed twice`);
    item[route.method] = operation(route, path);
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Vouchsafe',
      version: '0.1.0',
      description:
        "Customer tracking, segments and voucher validation at the edge, wire-compatible with Voucherify's public API. Errors are Voucherify's error object.",
      license: { name: 'MIT', identifier: 'MIT' },
    },
    paths,
    components: {
      securitySchemes: {
        appId: { type: 'apiKey', in: 'header', name: 'X-App-Id' },
        appToken: { type: 'apiKey', in: 'header', name: 'X-App-Token' },
        clientApplicationId: { type: 'apiKey', in: 'header', name: 'X-Client-Application-Id' },
        clientToken: { type: 'apiKey', in: 'header', name: 'X-Client-Token' },
        downloadToken: { type: 'apiKey', in: 'query', name: 'token' },
        // The Voucherify (Actions) destination's encoding of the server key pair (its index.ts extendRequest).
        segmentApplicationId: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description: '"Basic " and base64 of APP_ID alone (not RFC 7617 id:password)',
        },
        segmentSecretKey: { type: 'apiKey', in: 'header', name: 'secret-key', description: 'base64 of APP_TOKEN' },
      },
      schemas: {
        // Our additions (shared/explain.ts, shared/types.ts SegmentExplanation).
        ExplainNode: {
          type: 'object',
          required: ['kind', 'label', 'passed'],
          properties: {
            kind: { enum: ['filter', 'field', 'condition', 'rules', 'rule', 'segment', 'check', 'validation'] },
            label: { type: 'string' },
            passed: { type: 'boolean' },
            field: { type: 'string', description: 'The field path a condition read.' },
            operator: { type: 'string', description: 'The operator as written ($is, $more_than).' },
            expected: { description: 'The operand(s) as written.' },
            actual: { description: 'The value actually read (null when missing; an event count for events.<type>.count).' },
            logic: { type: 'string', description: 'How the children combine: and, or, none, or a rule logic expression.' },
            detail: { type: 'string' },
            children: { type: 'array', items: { $ref: '#/components/schemas/ExplainNode' } },
          },
        },
        SegmentExplanation: {
          type: 'object',
          required: ['object', 'segment', 'customer', 'member', 'basis', 'explanation'],
          properties: {
            object: { const: 'segment_explanation' },
            segment: {
              type: 'object',
              properties: { id: { type: 'string' }, name: { type: 'string' }, type: { enum: ['static', 'auto-update', 'passive'] } },
            },
            customer: {
              anyOf: [
                { type: 'object', properties: { id: { type: 'string' }, source_id: { type: ['string', 'null'] } } },
                { type: 'null' },
              ],
            },
            member: { type: 'boolean' },
            basis: { enum: ['stored', 'filter'] },
            explanation: { anyOf: [{ $ref: '#/components/schemas/ExplainNode' }, { type: 'null' }] },
          },
        },
        Error: {
          type: 'object',
          required: ['code', 'key', 'message', 'request_id'],
          properties: {
            code: { type: 'integer' },
            key: { type: 'string' },
            message: { type: 'string' },
            details: { type: 'string' },
            request_id: { type: 'string' },
            resource_id: { type: 'string' },
            resource_type: { type: 'string' },
          },
        },
      },
    },
  };
}
