import { BOOKMARK_HEADER } from '../../shared/consistency';
import { z } from 'zod';
import {
  customerBulkRecordSchema,
  customerCreateSchema,
  customerListQuerySchema,
  customerMetadataBulkSchema,
  customerUpdateSchema,
  MAX_BULK_RECORDS,
} from './schemas/customers';
import { eventCreateSchema } from './schemas/events';
import { exportCreateSchema, exportDownloadQuerySchema, exportListQuerySchema } from './schemas/exports';
import { customerImportFormSchema } from './schemas/imports';
import { activitiesQuerySchema, activityQuerySchema } from './schemas/activity';
import { asyncActionListQuerySchema } from './schemas/async-actions';
import { segmentCreateSchema, segmentExplainSchema, segmentListQuerySchema, segmentPreviewSchema, segmentSizesQuerySchema, segmentUpdateSchema } from './schemas/segments';
import {
  assignmentCreateSchema,
  assignmentListQuerySchema,
  ruleAssignmentListQuerySchema,
  validationRuleCreateSchema,
  validationRuleListQuerySchema,
  validationRuleUpdateSchema,
} from './schemas/validation-rules';
import {
  clientStackableSchema,
  clientValidateQuerySchema,
  explainQueryFields,
  redemptionListQuerySchema,
  rollbackBodySchema,
  rollbackQuerySchema,
  stackableSchema,
  validationContextSchema,
  voucherRedemptionsQuerySchema,
} from './schemas/checkout';
import { voucherCreateSchema, voucherListQuerySchema, voucherUpdateSchema } from './schemas/vouchers';
import {
  campaignCreateSchema,
  campaignImportItemSchema,
  campaignListQuerySchema,
  campaignUpdateSchema,
  campaignVoucherAddQuerySchema,
  campaignVoucherAddSchema,
} from './schemas/campaigns';
import { distributionCreateSchema, publicationCreateQuerySchema, publicationCreateSchema, publicationListQuerySchema } from './schemas/publications';
import { segmentEventSchema, segmentGroupSchema, segmentIdentifySchema } from './schemas/cdp-segment';
import { deliveryListQuerySchema, webhookCreateSchema, webhookUpdateSchema } from './schemas/webhooks';

// The OpenAPI 3.1 description of every route the worker serves (GET /openapi.json). Request bodies
// and query parameters are generated from the zod schemas the routes validate with, in their
// input form (z.toJSONSchema io:'input': what a client sends, before transforms), so the document
// cannot drift from the validation. test/worker/openapi.test.ts checks that every route mounted
// in app.ts is listed here.

type Method = 'get' | 'post' | 'put' | 'delete';
type Auth = 'server' | 'client' | 'none' | 'download-token' | 'segment';
type Success = { status: 200 | 201 | 202 | 204 | 301; media?: 'application/json' | 'text/csv' | 'text/javascript' | 'text/html' };

export interface RouteDoc {
  method: Method;
  /** OpenAPI path, parameters in braces: /v1/customers/{id}. */
  path: string;
  tag: string;
  summary: string;
  auth: Auth;
  /** application/json body. */
  body?: z.ZodType;
  /** multipart/form-data body. */
  form?: z.ZodType;
  query?: z.ZodType;
  headers?: { name: string; description: string }[];
  success?: Success;
  /** Longer words than the summary: what the route adds to Voucherify's API. */
  description?: string;
  /** The JSON answer's schema, where one is documented (a $ref into components.schemas). */
  answer?: JsonSchema;
}

const trackingIdQuery = z.object({ tracking_id: z.string().max(255).optional() });

/** Our addition, shared/explain.ts: why a decision came out as it did. */
const EXPLAIN_NOTE = 'Our addition: with explain=true (server key only) each judgement carries `explanation` (ExplainNode), the checks it made in order with the values read; without it the answer is unchanged.';
const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const idempotencyKey = { name: 'Idempotency-Key', description: 'A retry with the same key and request returns the first answer and changes nothing; another request with the key is refused (409).' };
const clientIdempotencyKey = { ...idempotencyKey, description: `${idempotencyKey.description} Keys sent with the client key are a namespace of their own: they neither see nor take the server key's.` };

const JSON_OK: Success = { status: 200 };
const NO_CONTENT: Success = { status: 204 };
const ACCEPTED: Success = { status: 202 };

export const ROUTES: RouteDoc[] = [
  { method: 'get', path: '/', tag: 'meta', summary: 'What this server is, with links to the demo, console, health, this document and the SDK', auth: 'none' },
  { method: 'get', path: '/health', tag: 'meta', summary: 'Liveness: {"ok":true}', auth: 'none' },
  { method: 'get', path: '/openapi.json', tag: 'meta', summary: 'This document', auth: 'none' },
  { method: 'get', path: '/sdk/v1.js', tag: 'meta', summary: 'The browser SDK (script tag)', auth: 'none', success: { status: 200, media: 'text/javascript' } },
  { method: 'get', path: '/demo/', tag: 'demo', summary: 'The demo storefront (DEMO=on only)', auth: 'none', success: { status: 200, media: 'text/html' } },
  { method: 'get', path: '/demo/api/config', tag: 'demo', summary: 'The client key of the demo page (DEMO=on only)', auth: 'none' },
  { method: 'post', path: '/demo/api/session', tag: 'demo', summary: "The demo shop's sign-in: a session cookie and the identity signature (DEMO=on only, same-origin JSON)", auth: 'none' },
  { method: 'delete', path: '/demo/api/session', tag: 'demo', summary: "The demo shop's sign-out (DEMO=on only)", auth: 'none', success: { status: 204 } },
  { method: 'post', path: '/demo/api/checkout', tag: 'demo', summary: "The demo shop's backend: redeems with the server key for the signed-in shopper (DEMO=on only, same-origin JSON)", auth: 'none' },

  // Customers
  { method: 'post', path: '/v1/customers', tag: 'customers', summary: 'Create, or upsert by id / source_id', auth: 'server', body: customerCreateSchema },
  { method: 'get', path: '/v1/customers', tag: 'customers', summary: 'List customers (page or starting_after cursor; segment_id for members)', auth: 'server', query: customerListQuerySchema },
  {
    method: 'post',
    path: '/v1/customers/bulk/async',
    tag: 'customers',
    summary: `Upsert 1-${MAX_BULK_RECORDS} customers by source_id (up to 10 MiB); a bad record is reported in the action's errors, the valid ones are written`,
    auth: 'server',
    body: z.array(customerBulkRecordSchema).min(1).max(MAX_BULK_RECORDS),
    success: ACCEPTED,
  },
  { method: 'post', path: '/v1/customers/metadata/async', tag: 'customers', summary: 'Merge metadata into customers by source_id (unknown source ids are upserted)', auth: 'server', body: customerMetadataBulkSchema, success: ACCEPTED },
  {
    method: 'post',
    path: '/v1/customers/importCSV',
    tag: 'customers',
    summary: 'Import customers from a CSV file (header row; upsert by Source_id; other columns go to metadata); up to 25 MiB, UTF-8 or UTF-16 with a BOM',
    auth: 'server',
    form: customerImportFormSchema,
    success: ACCEPTED,
  },
  { method: 'get', path: '/v1/customers/{id}', tag: 'customers', summary: 'Get a customer by id or source_id', auth: 'server' },
  { method: 'put', path: '/v1/customers/{id}', tag: 'customers', summary: 'Update a customer (partial; null clears)', auth: 'server', body: customerUpdateSchema },
  { method: 'delete', path: '/v1/customers/{id}', tag: 'customers', summary: 'Delete a customer', auth: 'server', success: NO_CONTENT },
  { method: 'post', path: '/v1/customers/{id}/permanent-deletion', tag: 'customers', summary: 'Delete every row about the customer', auth: 'server' },
  { method: 'get', path: '/v1/customers/{id}/segments', tag: 'segments', summary: "The customer's segments", auth: 'server' },
  { method: 'get', path: '/v1/customers/{id}/activity', tag: 'customers', summary: 'Activity: customer.created, custom events, segment entered/left, redemptions and rollbacks', auth: 'server', query: activityQuerySchema },
  { method: 'get', path: '/v1/customers/{id}/activities', tag: 'customers', summary: 'The same activity in the deprecated envelope with total (SDK listActivities)', auth: 'server', query: activitiesQuerySchema },
  { method: 'get', path: '/v1/async-actions', tag: 'customers', summary: 'Async actions, newest first, without their results', auth: 'server', query: asyncActionListQuerySchema },
  { method: 'get', path: '/v1/async-actions/{id}', tag: 'customers', summary: 'An async action (bulk, metadata, CSV import) and its report', auth: 'server' },

  // Segments
  { method: 'post', path: '/v1/segments', tag: 'segments', summary: 'Create a static, auto-update or passive segment', auth: 'server', body: segmentCreateSchema },
  { method: 'get', path: '/v1/segments', tag: 'segments', summary: 'List segments', auth: 'server', query: segmentListQuerySchema },
  { method: 'get', path: '/v1/segments/{id}', tag: 'segments', summary: 'Get a segment', auth: 'server' },
  {
    method: 'post',
    path: '/v1/segments/{id}/explain',
    tag: 'segments',
    summary: 'Explain why a customer or visitor is or is not in a segment',
    description: 'Our addition. `member` as GET /v1/customers/{id}/segments reports it (stored members; the filter now for a passive segment), and the filter\'s trace now. A customer reference naming nobody is judged as an empty profile.',
    auth: 'server',
    body: segmentExplainSchema,
    answer: ref('SegmentExplanation'),
  },
  { method: 'delete', path: '/v1/segments/{id}', tag: 'segments', summary: 'Delete a segment', auth: 'server', success: NO_CONTENT },
  {
    method: 'post',
    path: '/v1/segments/preview',
    tag: 'segments',
    summary:
      "Our addition: who a filter (the grammar of POST /v1/segments) matches now, `count` and the first `limit` (0-100, default 10) by created_at, and with `against: seg_…` who would enter and leave that segment (its stored members; a passive one's stored filter); writes nothing, may be answered by a read replica",
    auth: 'server',
    body: segmentPreviewSchema,
  },
  {
    method: 'put',
    path: '/v1/segments/{id}',
    tag: 'segments',
    summary: "Our addition: rename a segment; a passive segment's filter may change too (vouchers whose rules name it judge with the new one at once); an auto-update segment's filter is fixed",
    auth: 'server',
    body: segmentUpdateSchema,
  },
  {
    method: 'get',
    path: '/v1/segments/{id}/sizes',
    tag: 'segments',
    summary: "Our addition: the segment's size per UTC day as the cron recorded it (stored members; a passive segment's filter count), the last `days` (1-365, default 30), oldest first",
    auth: 'server',
    query: segmentSizesQuerySchema,
  },

  // Events
  { method: 'post', path: '/v1/events', tag: 'events', summary: 'Track a custom event (customer upserted by source_id)', auth: 'server', body: eventCreateSchema },
  { method: 'post', path: '/client/v1/events', tag: 'client', summary: 'Track a custom event with the client key', auth: 'client', body: eventCreateSchema },

  // Vouchers and rules
  { method: 'post', path: '/v1/vouchers', tag: 'vouchers', summary: 'Create a voucher (code generated when absent)', auth: 'server', body: voucherCreateSchema },
  { method: 'post', path: '/v1/vouchers/{code}', tag: 'vouchers', summary: 'Create a voucher with this code', auth: 'server', body: voucherCreateSchema },
  { method: 'get', path: '/v1/vouchers', tag: 'vouchers', summary: 'List vouchers (code, ids, customer, campaign name or campaign_id, created_at/updated_at before|after, order; category filters refused)', auth: 'server', query: voucherListQuerySchema },
  { method: 'get', path: '/v1/vouchers/{code}', tag: 'vouchers', summary: 'Get a voucher', auth: 'server' },
  { method: 'put', path: '/v1/vouchers/{code}', tag: 'vouchers', summary: 'Update a voucher', auth: 'server', body: voucherUpdateSchema },
  { method: 'delete', path: '/v1/vouchers/{code}', tag: 'vouchers', summary: 'Delete a voucher', auth: 'server', success: NO_CONTENT },
  { method: 'post', path: '/v1/vouchers/{code}/enable', tag: 'vouchers', summary: 'Enable a voucher', auth: 'server' },
  { method: 'post', path: '/v1/vouchers/{code}/disable', tag: 'vouchers', summary: 'Disable a voucher', auth: 'server' },
  { method: 'post', path: '/v1/vouchers/{code}/validate', tag: 'validation', summary: 'Validate a voucher (always 200 with valid)', auth: 'server', body: validationContextSchema, query: trackingIdQuery.extend(explainQueryFields.shape), description: EXPLAIN_NOTE },
  {
    method: 'post',
    path: '/v1/vouchers/{code}/redemption',
    tag: 'redemptions',
    summary: 'Redeem a voucher; merges the tracking profile into the customer',
    auth: 'server',
    body: validationContextSchema,
    query: trackingIdQuery,
    headers: [idempotencyKey],
  },
  // Campaigns (DISCOUNT_COUPONS) and publications
  { method: 'post', path: '/v1/campaigns', tag: 'campaigns', summary: 'Create a campaign; its vouchers_count codes are generated by the queue (vouchers_generation_status)', auth: 'server', body: campaignCreateSchema },
  { method: 'get', path: '/v1/campaigns', tag: 'campaigns', summary: 'List campaigns', auth: 'server', query: campaignListQuerySchema },
  { method: 'get', path: '/v1/campaigns/{id}', tag: 'campaigns', summary: 'Get a campaign by id or name (generation status and progress)', auth: 'server' },
  { method: 'put', path: '/v1/campaigns/{id}', tag: 'campaigns', summary: 'Update a campaign (dates, validity, discount written through to its codes)', auth: 'server', body: campaignUpdateSchema },
  { method: 'delete', path: '/v1/campaigns/{id}', tag: 'campaigns', summary: 'Delete a campaign and its codes', auth: 'server', success: ACCEPTED },
  { method: 'post', path: '/v1/campaigns/{id}/vouchers', tag: 'campaigns', summary: 'Add a code (generated), or vouchers_count codes (202, async action)', auth: 'server', body: campaignVoucherAddSchema, query: campaignVoucherAddQuerySchema },
  { method: 'post', path: '/v1/campaigns/{id}/vouchers/{code}', tag: 'campaigns', summary: 'Add a code of your own', auth: 'server', body: campaignVoucherAddSchema },
  { method: 'post', path: '/v1/campaigns/{id}/import', tag: 'campaigns', summary: 'Import codes (JSON array); a duplicate code fails its row alone', auth: 'server', body: z.array(campaignImportItemSchema), success: ACCEPTED },
  {
    method: 'post',
    path: '/v1/campaigns/{id}/importCSV',
    tag: 'campaigns',
    summary: 'Import codes from a CSV file (Code, Active; other columns go to metadata); up to 1 MiB',
    auth: 'server',
    form: z.object({ file: z.string().describe('the CSV file') }),
  },
  { method: 'post', path: '/v1/publications', tag: 'campaigns', summary: "Publish a campaign's free code (or a given code) to a customer, who becomes its holder (join_once: the same code again)", auth: 'server', body: publicationCreateSchema, query: publicationCreateQuerySchema },
  {
    method: 'post',
    path: '/v1/publications/segment',
    tag: 'campaigns',
    summary:
      "Our addition (the spec has no segment-wide publication): one code of the campaign to every member of the segment, as the async action CAMPAIGN.VOUCHERS_PUBLISH (done/skipped/failed counts; who got which code: POST /v1/exports with exported_object 'publication')",
    auth: 'server',
    body: distributionCreateSchema,
    success: ACCEPTED,
  },
  { method: 'get', path: '/v1/publications', tag: 'campaigns', summary: 'List publications (customer, campaign, voucher, source_id)', auth: 'server', query: publicationListQuerySchema },

  { method: 'post', path: '/v1/validation-rules', tag: 'vouchers', summary: 'Create a validation rule', auth: 'server', body: validationRuleCreateSchema },
  { method: 'get', path: '/v1/validation-rules', tag: 'vouchers', summary: 'List validation rules', auth: 'server', query: validationRuleListQuerySchema },
  { method: 'get', path: '/v1/validation-rules/{id}', tag: 'vouchers', summary: 'Get a validation rule', auth: 'server' },
  { method: 'put', path: '/v1/validation-rules/{id}', tag: 'vouchers', summary: 'Update a validation rule (the vouchers it is assigned to see the change at once)', auth: 'server', body: validationRuleUpdateSchema },
  { method: 'delete', path: '/v1/validation-rules/{id}', tag: 'vouchers', summary: 'Delete a validation rule', auth: 'server', success: NO_CONTENT },
  { method: 'post', path: '/v1/validation-rules/{id}/assignments', tag: 'vouchers', summary: 'Assign a rule to a voucher ({voucher} or {related_object_type, related_object_id})', auth: 'server', body: assignmentCreateSchema },
  { method: 'get', path: '/v1/validation-rules/{id}/assignments', tag: 'vouchers', summary: "A rule's assignments", auth: 'server', query: ruleAssignmentListQuerySchema },
  { method: 'delete', path: '/v1/validation-rules/{id}/assignments/{assignmentId}', tag: 'vouchers', summary: 'Remove an assignment', auth: 'server', success: NO_CONTENT },
  { method: 'get', path: '/v1/validation-rules-assignments', tag: 'vouchers', summary: 'Assignments of every rule (rule, related_object_id)', auth: 'server', query: assignmentListQuerySchema },
  { method: 'post', path: '/v1/validations', tag: 'validation', summary: 'Stackable validate', auth: 'server', body: stackableSchema, query: explainQueryFields, description: `${EXPLAIN_NOTE} Each redeemable carries its own.` },
  { method: 'post', path: '/v1/redemptions', tag: 'redemptions', summary: 'Stackable redeem (all or nothing): {redemptions, parent_redemption, order}', auth: 'server', body: stackableSchema, query: trackingIdQuery, headers: [idempotencyKey] },
  { method: 'get', path: '/v1/redemptions', tag: 'redemptions', summary: 'List redemptions and rollbacks (result, customer, created_at, order, filters)', auth: 'server', query: redemptionListQuerySchema },
  { method: 'get', path: '/v1/redemptions/{id}', tag: 'redemptions', summary: 'Get a redemption or rollback', auth: 'server' },
  { method: 'post', path: '/v1/redemptions/{id}/rollback', tag: 'redemptions', summary: 'Roll back a redemption that is not stacked', auth: 'server', query: rollbackQuerySchema, body: rollbackBodySchema },
  { method: 'post', path: '/v1/redemptions/{id}/rollbacks', tag: 'redemptions', summary: 'Roll back a stacked redemption (parent id) with all its children', auth: 'server', query: rollbackQuerySchema, body: rollbackBodySchema },
  { method: 'get', path: '/v1/vouchers/{code}/redemption', tag: 'redemptions', summary: "A voucher's redemption entries", auth: 'server', query: voucherRedemptionsQuerySchema },

  // Exports
  { method: 'post', path: '/v1/exports', tag: 'exports', summary: 'Create a customer export (fields, order, filters incl. segment_id; formulas neutralised unless parameters.raw_values)', auth: 'server', body: exportCreateSchema },
  { method: 'get', path: '/v1/exports', tag: 'exports', summary: 'List exports', auth: 'server', query: exportListQuerySchema },
  { method: 'get', path: '/v1/exports/{id}', tag: 'exports', summary: 'Get an export; result.url is a fresh signed download URL (1 hour)', auth: 'server' },
  { method: 'delete', path: '/v1/exports/{id}', tag: 'exports', summary: 'Delete an export', auth: 'server', success: NO_CONTENT },
  {
    method: 'get',
    path: '/v1/exports/{id}/download',
    tag: 'exports',
    summary: 'The CSV, streamed (no key: the signed token of result.url)',
    auth: 'download-token',
    query: exportDownloadQuerySchema,
    success: { status: 200, media: 'text/csv' },
  },

  // Segment (Actions) destination compatibility: our addition, the routes Segment's (and PostHog's)
  // "Voucherify (Actions)" destination posts to its Custom URL, with the server key pair in its headers.
  { method: 'get', path: '/segmentio/test-authentication', tag: 'segmentio', summary: "Segment (Actions) destination compatibility: the destination's key check (200, or 401)", auth: 'segment' },
  {
    method: 'post',
    path: '/segmentio/customer-processing',
    tag: 'segmentio',
    summary: 'Segment (Actions) destination compatibility: identify → the customer upserted by source_id (first_name + last_name → name, street → address.line_1, metadata merged; null and "" leave a field as it is)',
    auth: 'segment',
    body: segmentIdentifySchema,
  },
  {
    method: 'post',
    path: '/segmentio/event-processing',
    tag: 'segmentio',
    summary: 'Segment (Actions) destination compatibility: track / page / screen → a custom event as POST /v1/events records it; each run of characters outside A-Z a-z 0-9 _ - in the name becomes "_" ("Order Completed" → Order_Completed)',
    auth: 'segment',
    body: segmentEventSchema,
  },
  {
    method: 'post',
    path: '/segmentio/group-processing',
    tag: 'segmentio',
    summary: 'Segment (Actions) destination compatibility: group → the group\'s traits merged into the customer\'s metadata.groups.<group_id> (customer upserted by source_id)',
    auth: 'segment',
    body: segmentGroupSchema,
  },
  // Webhooks (our addition: Voucherify configures them in its dashboard). README "Webhooks".
  { method: 'post', path: '/v1/webhooks', tag: 'webhooks', summary: 'Create a webhook endpoint (https URL, event types); the answer carries its signing secret (whsec_…), shown once', auth: 'server', body: webhookCreateSchema },
  { method: 'get', path: '/v1/webhooks', tag: 'webhooks', summary: 'List webhook endpoints (secrets masked)', auth: 'server' },
  { method: 'get', path: '/v1/webhooks/{id}', tag: 'webhooks', summary: 'Get a webhook endpoint (secret masked; disabled_reason when Vouchsafe disabled it)', auth: 'server' },
  { method: 'put', path: '/v1/webhooks/{id}', tag: 'webhooks', summary: 'Update url, events, description or enabled (re-enabling clears disabled_reason and failing_since)', auth: 'server', body: webhookUpdateSchema },
  { method: 'delete', path: '/v1/webhooks/{id}', tag: 'webhooks', summary: 'Delete a webhook endpoint and its delivery log', auth: 'server', success: NO_CONTENT },
  { method: 'post', path: '/v1/webhooks/{id}/secret/rotate', tag: 'webhooks', summary: 'A new signing secret; deliveries are signed with the old one too for 24 hours', auth: 'server' },
  { method: 'get', path: '/v1/webhooks/{id}/deliveries', tag: 'webhooks', summary: 'The delivery log, newest first (status, attempts, last response code and time)', auth: 'server', query: deliveryListQuerySchema },
  { method: 'post', path: '/v1/webhooks/{id}/deliveries/{deliveryId}/retry', tag: 'webhooks', summary: 'Attempt a dead or failed delivery again now (same webhook-id)', auth: 'server', success: ACCEPTED },

  // Client side (browser key + allowed Origin)
  { method: 'get', path: '/client/v1/validate', tag: 'client', summary: "Validate with the client key, in the official client SDK's query format", auth: 'client', query: clientValidateQuerySchema },
  { method: 'post', path: '/client/v1/validations', tag: 'client', summary: 'Stackable validate with the client key', auth: 'client', body: stackableSchema },
  { method: 'post', path: '/client/v1/redemptions', tag: 'client', summary: 'Stackable redeem with the client key (CLIENT_REDEMPTIONS=on only; names existing customers, writes none; metadata, items and order bounded)', auth: 'client', body: clientStackableSchema, headers: [clientIdempotencyKey] },
];

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
  'download-token': [{ downloadToken: [] }],
  segment: [{ segmentApplicationId: [], segmentSecretKey: [] }],
  none: [],
};

const BOOKMARK_PARAMETER = {
  name: BOOKMARK_HEADER,
  in: 'header',
  required: false,
  description: 'A bookmark from an earlier server response: this request reads at least the state it names (read-your-writes across read replicas). Malformed ones are ignored.',
  schema: { type: 'string', maxLength: 128 },
};
const BOOKMARK_RESPONSE_HEADER = {
  description: "The D1 session bookmark after this request's reads and writes; send it back to read your own writes. Never on client-key responses.",
  schema: { type: 'string' },
};

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });

function operation(route: RouteDoc): JsonSchema {
  const parameters: JsonSchema[] = [...route.path.matchAll(/\{([^}]+)\}/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  if (route.query) parameters.push(...queryParameters(route.query));
  for (const header of route.headers ?? []) parameters.push({ name: header.name, in: 'header', required: false, description: header.description, schema: { type: 'string', maxLength: 255 } });
  // Our addition on every keyed route (README "Consistency"; middleware/d1-session.ts).
  if (route.auth === 'server' || route.auth === 'client') parameters.push(BOOKMARK_PARAMETER);

  const success = route.success ?? JSON_OK;
  const media = success.media ?? 'application/json';
  const responses: JsonSchema = {
    [success.status]: success.status === 204 ? { description: 'No content' } : { description: 'Success', content: { [media]: { schema: media === 'application/json' ? { type: 'object' } : { type: 'string' } } } },
  };
  if (route.auth === 'server') (responses[success.status] as JsonSchema).headers = { [BOOKMARK_HEADER]: BOOKMARK_RESPONSE_HEADER };
  if (route.body || route.form || route.query) responses['400'] = errorResponse('Invalid input; details names the field');
  if (route.auth === 'server' || route.auth === 'client' || route.auth === 'segment') responses['401'] = errorResponse('Missing or wrong key');
  if (route.auth === 'download-token') responses['401'] = errorResponse('No token');
  if (route.auth === 'client' || route.auth === 'download-token') responses['403'] = errorResponse(route.auth === 'client' ? 'Origin not allowed' : 'Token wrong or expired');
  if (route.path.includes('{')) responses['404'] = errorResponse('Not found');
  if (route.body || route.form) responses['413'] = errorResponse('Body too large');

  if (route.answer) (responses[success.status] as JsonSchema).content = { 'application/json': { schema: route.answer } };
  const op: JsonSchema = {
    operationId: `${route.method}${route.path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_, ch: string | undefined) => (ch ?? '').toUpperCase())}`,
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
  for (const route of ROUTES) {
    const item = (paths[route.path] ??= {});
    if (item[route.method]) throw new Error(`openapi: ${route.method.toUpperCase()} ${route.path} is listed twice`);
    item[route.method] = operation(route);
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
        segmentApplicationId: { type: 'apiKey', in: 'header', name: 'Authorization', description: '"Basic " and base64 of APP_ID alone (not RFC 7617 id:password)' },
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
            segment: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, type: { enum: ['static', 'auto-update', 'passive'] } } },
            customer: { anyOf: [{ type: 'object', properties: { id: { type: 'string' }, source_id: { type: ['string', 'null'] } } }, { type: 'null' }] },
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
