import { z } from 'zod';
import {
  customerBulkRecordSchema,
  customerCreateSchema,
  customerListQuerySchema,
  customerMetadataBulkSchema,
  customerUpdateSchema,
  MAX_BULK_BODY_BYTES,
  MAX_BULK_RECORDS,
} from './schemas/customers';
import { eventCreateSchema } from './schemas/events';
import {
  MAX_IMPORT_BODY_BYTES as MAX_ORDER_IMPORT_BODY_BYTES,
  MAX_IMPORT_ORDERS,
  MAX_ORDER_CSV_BYTES,
  orderCreateSchema,
  orderCsvFormSchema,
  orderListQuerySchema,
  orderUpdateSchema,
} from './schemas/orders';
import { exportCreateSchema, exportDownloadQuerySchema, exportListQuerySchema } from './schemas/exports';
import { customerImportFormSchema } from './schemas/imports';
import { walletQuerySchema } from './schemas/wallet';
import { activitiesQuerySchema, activityQuerySchema } from './schemas/activity';
import { asyncActionListQuerySchema } from './schemas/async-actions';
import {
  segmentCreateSchema,
  segmentExplainSchema,
  segmentListQuerySchema,
  segmentPreviewSchema,
  segmentSizesQuerySchema,
  segmentUpdateSchema,
} from './schemas/segments';
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
import { qualificationSchema } from './schemas/qualifications';
import {
  campaignCreateSchema,
  campaignImportItemSchema,
  campaignListQuerySchema,
  campaignUpdateSchema,
  campaignVoucherAddQuerySchema,
  campaignVoucherAddSchema,
} from './schemas/campaigns';
import { stackCreateSchema, stackListQuerySchema, stackUpdateSchema } from './schemas/promotion-stacks';
import { promotionCampaignCreateSchema, tierCreateSchema, tierListQuerySchema, tierUpdateSchema } from './schemas/promotions';
import {
  distributionCreateSchema,
  publicationCreateQuerySchema,
  publicationCreateSchema,
  publicationListQuerySchema,
} from './schemas/publications';
import { segmentEventSchema, segmentGroupSchema, segmentIdentifySchema } from './schemas/cdp-segment';
import { deliveryListQuerySchema, webhookCreateSchema, webhookUpdateSchema } from './schemas/webhooks';

/**
 * Every route the worker serves, declared once: method, path as mounted, who may call it, the zod
 * schemas its input is validated with, whether it writes, its body limit, and its OpenAPI words.
 * The rest is derived from this list, so that a route added here is documented, limited and
 * fuzzed without anyone remembering the other places:
 * - GET /openapi.json (openapi.ts builds the document from the entries outside the console);
 * - the POSTs that write nothing (isReadOnlyPost below: the D1 session may start them on a
 *   replica, and they wake no webhook dispatcher);
 * - the body limit of each path (app.ts: 1 MiB unless an entry says otherwise);
 * - the fuzz suite's routes (test/worker/fuzz-routes.ts).
 * Mounting stays in app.ts (each sub-app brings its own middleware); test/worker/openapi.test.ts
 * fails when a route app.ts mounts is missing here, or an entry here is not mounted.
 */

export type Method = 'get' | 'post' | 'put' | 'delete';

/**
 * Who may call a route, i.e. the middleware app.ts puts in front of it:
 * - none: anyone (the landing page, health, this catalogue as OpenAPI, the SDK);
 * - server: the server key pair (X-App-Id / X-App-Token), every /v1/* route but the download;
 * - client: the public client key and an allowed Origin, /client/v1/*;
 * - segment: the server key pair as Segment's Voucherify (Actions) destination sends it, /segmentio/*;
 * - console: the operator console's own sign-in and session cookie, /console/* (not in OpenAPI:
 *   its pages are a client of this API rather than a part of it);
 * - export-token: the signed, expiring token of an export's result.url;
 * - demo: the demo storefront's routes, DEMO=on and loopback only.
 */
export type Auth = 'none' | 'server' | 'client' | 'segment' | 'console' | 'export-token' | 'demo';

export type Success = {
  status: 200 | 201 | 202 | 204 | 301 | 303;
  media?: 'application/json' | 'text/csv' | 'text/javascript' | 'text/html';
};

/** The body limit of every path without one of its own. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface Route {
  method: Method;
  /** The path as app.ts mounts it, in Hono's form: /v1/customers/:id, /sdk/*. */
  path: string;
  /** Where `path` is a wildcard, the path OpenAPI documents (/sdk/v1.js). */
  docPath?: string;
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
  /** The name of the JSON answer's schema in the document's components.schemas, where one is documented. */
  answer?: string;
  /**
   * false on a POST that writes nothing to D1 itself: what it records goes through the WRITES
   * queue (validations, events), or it records nothing (a segment preview or explanation). Such a
   * request may start its D1 session on a replica, and wakes no webhook dispatcher. Every other
   * POST, PUT and DELETE is taken to write.
   */
  writes?: false;
  /**
   * The most bytes its body may have, when not MAX_BODY_BYTES; 'streamed' when the route reads its
   * body as a stream and counts the bytes itself (a body limit would buffer a body sent without
   * Content-Length whole). Only on paths without parameters: app.ts looks the limit up by path.
   */
  bodyLimit?: number | 'streamed';
}

const trackingIdQuery = z.object({ tracking_id: z.string().max(255).optional() });

/** Our addition, shared/explain.ts: why a decision came out as it did. */
const EXPLAIN_NOTE =
  'Our addition: with explain=true (server key only) each judgement carries `explanation` (ExplainNode), the checks it made in order with the values read; without it the answer is unchanged.';
const idempotencyKey = {
  name: 'Idempotency-Key',
  description:
    'A retry with the same key and request returns the first answer and changes nothing; another request with the key is refused (409).',
};
const clientIdempotencyKey = {
  ...idempotencyKey,
  description: `${idempotencyKey.description} Keys sent with the client key are a namespace of their own: they neither see nor take the server key's.`,
};

const NO_CONTENT: Success = { status: 204 };
const ACCEPTED: Success = { status: 202 };
const HTML: Success = { status: 200, media: 'text/html' };
const REDIRECT: Success = { status: 303, media: 'text/html' };

export const CATALOGUE: readonly Route[] = [
  {
    method: 'get',
    path: '/',
    tag: 'meta',
    summary: 'What this server is, with links to the demo, console, health, this document and the SDK',
    auth: 'none',
  },
  { method: 'get', path: '/health', tag: 'meta', summary: 'Liveness: {"ok":true}', auth: 'none' },
  { method: 'get', path: '/openapi.json', tag: 'meta', summary: 'This document', auth: 'none' },
  {
    method: 'get',
    path: '/sdk/*',
    docPath: '/sdk/v1.js',
    tag: 'meta',
    summary: 'The browser SDK (script tag)',
    auth: 'none',
    success: { status: 200, media: 'text/javascript' },
  },
  {
    method: 'get',
    path: '/demo/*',
    docPath: '/demo/',
    tag: 'demo',
    summary: 'The demo storefront (DEMO=on only)',
    auth: 'demo',
    success: { status: 200, media: 'text/html' },
  },
  { method: 'get', path: '/demo/api/config', tag: 'demo', summary: 'The client key of the demo page (DEMO=on only)', auth: 'demo' },
  {
    method: 'post',
    path: '/demo/api/session',
    tag: 'demo',
    summary: "The demo shop's sign-in: a session cookie and the identity signature (DEMO=on only, same-origin JSON)",
    auth: 'demo',
  },
  {
    method: 'delete',
    path: '/demo/api/session',
    tag: 'demo',
    summary: "The demo shop's sign-out (DEMO=on only)",
    auth: 'demo',
    success: { status: 204 },
  },
  {
    method: 'post',
    path: '/demo/api/checkout',
    tag: 'demo',
    summary: "The demo shop's backend: redeems with the server key for the signed-in shopper (DEMO=on only, same-origin JSON)",
    auth: 'demo',
  },

  // Customers
  {
    method: 'post',
    path: '/v1/customers',
    tag: 'customers',
    summary: 'Create, or upsert by id / source_id',
    auth: 'server',
    body: customerCreateSchema,
  },
  {
    method: 'get',
    path: '/v1/customers',
    tag: 'customers',
    summary: 'List customers (page or starting_after cursor; segment_id for members)',
    auth: 'server',
    query: customerListQuerySchema,
  },
  {
    method: 'post',
    path: '/v1/customers/bulk/async',
    bodyLimit: MAX_BULK_BODY_BYTES,
    tag: 'customers',
    summary: `Upsert 1-${MAX_BULK_RECORDS} customers by source_id (up to 10 MiB); a bad record is reported in the action's errors, the valid ones are written`,
    auth: 'server',
    body: z.array(customerBulkRecordSchema).min(1).max(MAX_BULK_RECORDS),
    success: ACCEPTED,
  },
  {
    method: 'post',
    path: '/v1/customers/metadata/async',
    tag: 'customers',
    summary: 'Merge metadata into customers by source_id (unknown source ids are upserted)',
    auth: 'server',
    body: customerMetadataBulkSchema,
    success: ACCEPTED,
  },
  {
    method: 'post',
    path: '/v1/customers/importCSV',
    // The import streams its body and counts the bytes itself (routes/imports.ts): hono's limit
    // would buffer a body sent without Content-Length whole.
    bodyLimit: 'streamed',
    tag: 'customers',
    summary:
      'Import customers from a CSV file (header row; upsert by Source_id; other columns go to metadata); up to 25 MiB, UTF-8 or UTF-16 with a BOM',
    auth: 'server',
    form: customerImportFormSchema,
    success: ACCEPTED,
  },
  {
    method: 'post',
    path: '/v1/orders',
    tag: 'orders',
    summary: "Create an order, or upsert by id / source_id; moves the customer's summary.orders.* (PAID and FULFILLED orders count)",
    auth: 'server',
    body: orderCreateSchema,
  },
  {
    method: 'get',
    path: '/v1/orders',
    tag: 'orders',
    summary: 'List orders (limit, page; order by created_at or updated_at)',
    auth: 'server',
    query: orderListQuerySchema,
  },
  {
    method: 'post',
    path: '/v1/orders/import',
    bodyLimit: MAX_ORDER_IMPORT_BODY_BYTES,
    tag: 'orders',
    summary: `Import 1-${MAX_IMPORT_ORDERS} orders as an async action; a bad order is reported in the action's errors, the valid ones are written`,
    auth: 'server',
    body: z.array(orderCreateSchema).min(1).max(MAX_IMPORT_ORDERS),
  },
  {
    method: 'post',
    path: '/v1/orders/importCSV',
    bodyLimit: MAX_ORDER_CSV_BYTES,
    tag: 'orders',
    summary: 'Import orders from a CSV file (one row per order line; columns in docs/imports-and-exports.md) as an async action',
    description: 'Our addition: Voucherify imports orders as JSON only (POST /v1/orders/import).',
    auth: 'server',
    form: orderCsvFormSchema,
  },
  { method: 'get', path: '/v1/orders/:id', tag: 'orders', summary: 'Get an order by id or source_id', auth: 'server' },
  {
    method: 'put',
    path: '/v1/orders/:id',
    tag: 'orders',
    summary: 'Update an order by id or source_id (the fields given change)',
    auth: 'server',
    body: orderUpdateSchema,
  },
  { method: 'get', path: '/v1/customers/:id', tag: 'customers', summary: 'Get a customer by id or source_id', auth: 'server' },
  {
    method: 'put',
    path: '/v1/customers/:id',
    tag: 'customers',
    summary: 'Update a customer (partial; null clears)',
    auth: 'server',
    body: customerUpdateSchema,
  },
  { method: 'delete', path: '/v1/customers/:id', tag: 'customers', summary: 'Delete a customer', auth: 'server', success: NO_CONTENT },
  {
    method: 'post',
    path: '/v1/customers/:id/permanent-deletion',
    tag: 'customers',
    summary: 'Delete every row about the customer',
    auth: 'server',
  },
  { method: 'get', path: '/v1/customers/:id/segments', tag: 'segments', summary: "The customer's segments", auth: 'server' },
  {
    method: 'get',
    path: '/v1/customers/:id/activity',
    tag: 'customers',
    summary: 'Activity: customer.created, custom events, segment entered/left, redemptions and rollbacks',
    auth: 'server',
    query: activityQuerySchema,
  },
  {
    method: 'get',
    path: '/v1/customers/:id/activities',
    tag: 'customers',
    summary: 'The same activity in the deprecated envelope with total (SDK listActivities)',
    auth: 'server',
    query: activitiesQuerySchema,
  },
  {
    method: 'get',
    path: '/v1/customers/:id/redeemables',
    tag: 'customers',
    summary: "The customer's wallet: codes published to or held by the customer, each with its status (SDK listRedeemables)",
    auth: 'server',
    query: walletQuerySchema,
  },
  {
    method: 'get',
    path: '/v1/async-actions',
    tag: 'customers',
    summary: 'Async actions, newest first, without their results',
    auth: 'server',
    query: asyncActionListQuerySchema,
  },
  {
    method: 'get',
    path: '/v1/async-actions/:id',
    tag: 'customers',
    summary: 'An async action (bulk, metadata, CSV import) and its report',
    auth: 'server',
  },

  // Segments
  {
    method: 'post',
    path: '/v1/segments',
    tag: 'segments',
    summary: 'Create a static, auto-update or passive segment',
    auth: 'server',
    body: segmentCreateSchema,
  },
  { method: 'get', path: '/v1/segments', tag: 'segments', summary: 'List segments', auth: 'server', query: segmentListQuerySchema },
  { method: 'get', path: '/v1/segments/:id', tag: 'segments', summary: 'Get a segment', auth: 'server' },
  {
    method: 'post',
    path: '/v1/segments/:id/explain',
    writes: false,
    tag: 'segments',
    summary: 'Explain why a customer or visitor is or is not in a segment',
    description:
      "Our addition. `member` as GET /v1/customers/{id}/segments reports it (stored members; the filter now for a passive segment), and the filter's trace now. A customer reference naming nobody is judged as an empty profile.",
    auth: 'server',
    body: segmentExplainSchema,
    answer: 'SegmentExplanation',
  },
  { method: 'delete', path: '/v1/segments/:id', tag: 'segments', summary: 'Delete a segment', auth: 'server', success: NO_CONTENT },
  {
    method: 'post',
    path: '/v1/segments/preview',
    writes: false,
    tag: 'segments',
    summary:
      "Our addition: who a filter (the grammar of POST /v1/segments) matches now, `count` and the first `limit` (0-100, default 10) by created_at, and with `against: seg_…` who would enter and leave that segment (its stored members; a passive one's stored filter); writes nothing, may be answered by a read replica",
    auth: 'server',
    body: segmentPreviewSchema,
  },
  {
    method: 'put',
    path: '/v1/segments/:id',
    tag: 'segments',
    summary:
      "Our addition: rename a segment; a passive segment's filter may change too (vouchers whose rules name it judge with the new one at once); an auto-update segment's filter is fixed",
    auth: 'server',
    body: segmentUpdateSchema,
  },
  {
    method: 'get',
    path: '/v1/segments/:id/sizes',
    tag: 'segments',
    summary:
      "Our addition: the segment's size per UTC day as the cron recorded it (stored members; a passive segment's filter count), the last `days` (1-365, default 30), oldest first",
    auth: 'server',
    query: segmentSizesQuerySchema,
  },

  // Events
  {
    method: 'post',
    path: '/v1/events',
    writes: false,
    tag: 'events',
    summary: 'Track a custom event (customer upserted by source_id)',
    auth: 'server',
    body: eventCreateSchema,
  },
  {
    method: 'post',
    path: '/client/v1/events',
    writes: false,
    tag: 'client',
    summary: 'Track a custom event with the client key',
    auth: 'client',
    body: eventCreateSchema,
  },

  // Vouchers and rules
  {
    method: 'post',
    path: '/v1/vouchers',
    tag: 'vouchers',
    summary: 'Create a voucher (code generated when absent)',
    auth: 'server',
    body: voucherCreateSchema,
  },
  {
    method: 'post',
    path: '/v1/vouchers/:code',
    tag: 'vouchers',
    summary: 'Create a voucher with this code',
    auth: 'server',
    body: voucherCreateSchema,
  },
  {
    method: 'get',
    path: '/v1/vouchers',
    tag: 'vouchers',
    summary:
      'List vouchers (code, ids, customer, campaign name or campaign_id, created_at/updated_at before|after, order; category filters refused)',
    auth: 'server',
    query: voucherListQuerySchema,
  },
  { method: 'get', path: '/v1/vouchers/:code', tag: 'vouchers', summary: 'Get a voucher', auth: 'server' },
  { method: 'put', path: '/v1/vouchers/:code', tag: 'vouchers', summary: 'Update a voucher', auth: 'server', body: voucherUpdateSchema },
  { method: 'delete', path: '/v1/vouchers/:code', tag: 'vouchers', summary: 'Delete a voucher', auth: 'server', success: NO_CONTENT },
  { method: 'post', path: '/v1/vouchers/:code/enable', tag: 'vouchers', summary: 'Enable a voucher', auth: 'server' },
  { method: 'post', path: '/v1/vouchers/:code/disable', tag: 'vouchers', summary: 'Disable a voucher', auth: 'server' },
  {
    method: 'delete',
    path: '/v1/vouchers/:code/sessions/:key',
    tag: 'validation',
    summary: 'Release a validation session: the unit it holds of this code is free again (404 when it holds none)',
    auth: 'server',
    success: NO_CONTENT,
  },
  {
    method: 'post',
    path: '/v1/vouchers/:code/validate',
    writes: false,
    tag: 'validation',
    summary: 'Validate a voucher (always 200 with valid)',
    auth: 'server',
    body: validationContextSchema,
    query: trackingIdQuery.extend(explainQueryFields.shape),
    description: EXPLAIN_NOTE,
  },
  {
    method: 'post',
    path: '/v1/vouchers/:code/redemption',
    tag: 'redemptions',
    summary: 'Redeem a voucher; merges the tracking profile into the customer',
    auth: 'server',
    body: validationContextSchema,
    query: trackingIdQuery,
    headers: [idempotencyKey],
  },
  // Campaigns (DISCOUNT_COUPONS) and publications
  {
    method: 'post',
    path: '/v1/campaigns',
    tag: 'campaigns',
    summary:
      'Create a campaign: DISCOUNT_COUPONS (its vouchers_count codes are generated by the queue) or PROMOTION (its tiers in promotion.tiers)',
    auth: 'server',
    body: z.union([campaignCreateSchema, promotionCampaignCreateSchema]),
  },
  { method: 'get', path: '/v1/campaigns', tag: 'campaigns', summary: 'List campaigns', auth: 'server', query: campaignListQuerySchema },
  {
    method: 'get',
    path: '/v1/campaigns/:id',
    tag: 'campaigns',
    summary: 'Get a campaign by id or name (generation status and progress)',
    auth: 'server',
  },
  {
    method: 'put',
    path: '/v1/campaigns/:id',
    tag: 'campaigns',
    summary: 'Update a campaign (dates, validity, discount written through to its codes)',
    auth: 'server',
    body: campaignUpdateSchema,
  },
  {
    method: 'delete',
    path: '/v1/campaigns/:id',
    tag: 'campaigns',
    summary: 'Delete a campaign and its codes',
    auth: 'server',
    success: ACCEPTED,
  },
  {
    method: 'post',
    path: '/v1/campaigns/:id/enable',
    tag: 'campaigns',
    summary: 'Enable a campaign: its codes and tiers are judged on their own again, from the next request',
    auth: 'server',
  },
  {
    method: 'post',
    path: '/v1/campaigns/:id/disable',
    tag: 'campaigns',
    summary: 'Disable a campaign: every code and tier of it is refused, from the next request',
    auth: 'server',
  },
  {
    method: 'post',
    path: '/v1/campaigns/:id/vouchers',
    tag: 'campaigns',
    summary: 'Add a code (generated), or vouchers_count codes (202, async action)',
    auth: 'server',
    body: campaignVoucherAddSchema,
    query: campaignVoucherAddQuerySchema,
  },
  {
    method: 'post',
    path: '/v1/campaigns/:id/vouchers/:code',
    tag: 'campaigns',
    summary: 'Add a code of your own',
    auth: 'server',
    body: campaignVoucherAddSchema,
  },
  {
    method: 'post',
    path: '/v1/campaigns/:id/import',
    tag: 'campaigns',
    summary: 'Import codes (JSON array); a duplicate code fails its row alone',
    auth: 'server',
    body: z.array(campaignImportItemSchema),
    success: ACCEPTED,
  },
  {
    method: 'post',
    path: '/v1/campaigns/:id/importCSV',
    tag: 'campaigns',
    summary: 'Import codes from a CSV file (Code, Active; other columns go to metadata); up to 1 MiB',
    auth: 'server',
    form: z.object({ file: z.string().describe('the CSV file') }),
  },
  // Promotions: PROMOTION campaigns' tiers (code-less redeemables sharing the voucher ledger)
  {
    method: 'get',
    path: '/v1/promotions/tiers',
    tag: 'promotions',
    summary: 'List promotion tiers of every campaign (is_available: active and within their dates now)',
    auth: 'server',
    query: tierListQuerySchema,
  },
  { method: 'get', path: '/v1/promotions/tiers/:id', tag: 'promotions', summary: 'Get a promotion tier', auth: 'server' },
  {
    method: 'put',
    path: '/v1/promotions/tiers/:id',
    tag: 'promotions',
    summary: 'Update a promotion tier (the next validate judges the new terms)',
    auth: 'server',
    body: tierUpdateSchema,
  },
  {
    method: 'delete',
    path: '/v1/promotions/tiers/:id',
    tag: 'promotions',
    summary: 'Delete a promotion tier (its redemptions stay)',
    auth: 'server',
    success: NO_CONTENT,
  },
  { method: 'post', path: '/v1/promotions/tiers/:id/enable', tag: 'promotions', summary: 'Enable a promotion tier', auth: 'server' },
  { method: 'post', path: '/v1/promotions/tiers/:id/disable', tag: 'promotions', summary: 'Disable a promotion tier', auth: 'server' },
  {
    method: 'get',
    path: '/v1/promotions/:campaignId/tiers',
    tag: 'promotions',
    summary: "List a PROMOTION campaign's tiers in hierarchy order",
    auth: 'server',
  },
  {
    method: 'post',
    path: '/v1/promotions/:campaignId/tiers',
    tag: 'promotions',
    summary: 'Add a promotion tier to a PROMOTION campaign',
    auth: 'server',
    body: tierCreateSchema,
  },
  // Promotion stacks: a named, ordered group of one PROMOTION campaign's tiers, sent as one promotion_stack redeemable
  {
    method: 'get',
    path: '/v1/promotions/stacks',
    tag: 'promotions',
    summary: "List every campaign's promotion stacks (newest first by default)",
    auth: 'server',
    query: stackListQuerySchema,
  },
  {
    method: 'get',
    path: '/v1/promotions/:campaignId/stacks',
    tag: 'promotions',
    summary: "List a PROMOTION campaign's stacks",
    auth: 'server',
  },
  {
    method: 'post',
    path: '/v1/promotions/:campaignId/stacks',
    tag: 'promotions',
    summary: "Create a promotion stack: up to 30 of the campaign's tiers, in the order their discounts apply",
    auth: 'server',
    body: stackCreateSchema,
  },
  {
    method: 'get',
    path: '/v1/promotions/:campaignId/stacks/:stackId',
    tag: 'promotions',
    summary: 'Get a promotion stack',
    auth: 'server',
  },
  {
    method: 'put',
    path: '/v1/promotions/:campaignId/stacks/:stackId',
    tag: 'promotions',
    summary: 'Update a promotion stack (its name; its tiers replaced when given); the next validate uses it',
    auth: 'server',
    body: stackUpdateSchema,
  },
  {
    method: 'delete',
    path: '/v1/promotions/:campaignId/stacks/:stackId',
    tag: 'promotions',
    summary: 'Delete a promotion stack (its tiers stay)',
    auth: 'server',
    success: NO_CONTENT,
  },
  {
    method: 'post',
    path: '/v1/publications',
    tag: 'campaigns',
    summary: "Publish a campaign's free code (or a given code) to a customer, who becomes its holder (join_once: the same code again)",
    auth: 'server',
    body: publicationCreateSchema,
    query: publicationCreateQuerySchema,
  },
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
  {
    method: 'get',
    path: '/v1/publications',
    tag: 'campaigns',
    summary: 'List publications (customer, campaign, voucher, source_id)',
    auth: 'server',
    query: publicationListQuerySchema,
  },

  {
    method: 'post',
    path: '/v1/validation-rules',
    tag: 'vouchers',
    summary: 'Create a validation rule',
    auth: 'server',
    body: validationRuleCreateSchema,
  },
  {
    method: 'get',
    path: '/v1/validation-rules',
    tag: 'vouchers',
    summary: 'List validation rules',
    auth: 'server',
    query: validationRuleListQuerySchema,
  },
  { method: 'get', path: '/v1/validation-rules/:id', tag: 'vouchers', summary: 'Get a validation rule', auth: 'server' },
  {
    method: 'put',
    path: '/v1/validation-rules/:id',
    tag: 'vouchers',
    summary: 'Update a validation rule (the vouchers it is assigned to see the change at once)',
    auth: 'server',
    body: validationRuleUpdateSchema,
  },
  {
    method: 'delete',
    path: '/v1/validation-rules/:id',
    tag: 'vouchers',
    summary: 'Delete a validation rule',
    auth: 'server',
    success: NO_CONTENT,
  },
  {
    method: 'post',
    path: '/v1/validation-rules/:id/assignments',
    tag: 'vouchers',
    summary: 'Assign a rule to a voucher ({voucher} or {related_object_type, related_object_id})',
    auth: 'server',
    body: assignmentCreateSchema,
  },
  {
    method: 'get',
    path: '/v1/validation-rules/:id/assignments',
    tag: 'vouchers',
    summary: "A rule's assignments",
    auth: 'server',
    query: ruleAssignmentListQuerySchema,
  },
  {
    method: 'delete',
    path: '/v1/validation-rules/:id/assignments/:assignmentId',
    tag: 'vouchers',
    summary: 'Remove an assignment',
    auth: 'server',
    success: NO_CONTENT,
  },
  {
    method: 'get',
    path: '/v1/validation-rules-assignments',
    tag: 'vouchers',
    summary: 'Assignments of every rule (rule, related_object_id)',
    auth: 'server',
    query: assignmentListQuerySchema,
  },
  {
    method: 'post',
    path: '/v1/validations',
    writes: false,
    tag: 'validation',
    summary: 'Stackable validate',
    auth: 'server',
    body: stackableSchema,
    query: explainQueryFields,
    description: `${EXPLAIN_NOTE} Each redeemable carries its own.`,
  },
  // Qualifications (docs/qualifications.md): read-only, like validate.
  {
    method: 'post',
    path: '/v1/qualifications',
    writes: false,
    tag: 'validation',
    summary: "Qualifications: the offers (promotion tiers, public codes, the customer's codes) this customer and order qualify for",
    auth: 'server',
    body: qualificationSchema,
    description:
      'Scenarios ALL, CUSTOMER_WALLET and AUDIENCE_ONLY; each offer judged as validate judges it. Writes nothing, not even the customer sent.',
  },
  // Promotion tiers at checkout (routes/promotion-checkout.ts)
  {
    method: 'post',
    path: '/v1/promotions/validation',
    writes: false,
    tag: 'promotions',
    summary: 'The active promotion tiers that apply to a customer and an order, most important hierarchy first',
    auth: 'server',
    body: validationContextSchema,
  },
  {
    method: 'post',
    path: '/v1/promotions/tiers/:id/redemption',
    tag: 'promotions',
    summary: 'Redeem a promotion tier; merges the tracking profile into the customer',
    auth: 'server',
    body: validationContextSchema,
    query: trackingIdQuery,
    headers: [idempotencyKey],
  },
  {
    method: 'post',
    path: '/v1/redemptions',
    tag: 'redemptions',
    summary: 'Stackable redeem (all or nothing): {redemptions, parent_redemption, order}',
    auth: 'server',
    body: stackableSchema,
    query: trackingIdQuery,
    headers: [idempotencyKey],
  },
  {
    method: 'get',
    path: '/v1/redemptions',
    tag: 'redemptions',
    summary: 'List redemptions and rollbacks (result, customer, created_at, order, filters)',
    auth: 'server',
    query: redemptionListQuerySchema,
  },
  { method: 'get', path: '/v1/redemptions/:id', tag: 'redemptions', summary: 'Get a redemption or rollback', auth: 'server' },
  {
    method: 'post',
    path: '/v1/redemptions/:id/rollback',
    tag: 'redemptions',
    summary: 'Roll back a redemption that is not stacked',
    auth: 'server',
    query: rollbackQuerySchema,
    body: rollbackBodySchema,
  },
  {
    method: 'post',
    path: '/v1/redemptions/:id/rollbacks',
    tag: 'redemptions',
    summary: 'Roll back a stacked redemption (parent id) with all its children',
    auth: 'server',
    query: rollbackQuerySchema,
    body: rollbackBodySchema,
  },
  {
    method: 'get',
    path: '/v1/vouchers/:code/redemption',
    tag: 'redemptions',
    summary: "A voucher's redemption entries",
    auth: 'server',
    query: voucherRedemptionsQuerySchema,
  },

  // Exports
  {
    method: 'post',
    path: '/v1/exports',
    tag: 'exports',
    summary: 'Create a customer export (fields, order, filters incl. segment_id; formulas neutralised unless parameters.raw_values)',
    auth: 'server',
    body: exportCreateSchema,
  },
  { method: 'get', path: '/v1/exports', tag: 'exports', summary: 'List exports', auth: 'server', query: exportListQuerySchema },
  {
    method: 'get',
    path: '/v1/exports/:id',
    tag: 'exports',
    summary: 'Get an export; result.url is a fresh signed download URL (1 hour)',
    auth: 'server',
  },
  { method: 'delete', path: '/v1/exports/:id', tag: 'exports', summary: 'Delete an export', auth: 'server', success: NO_CONTENT },
  {
    method: 'get',
    path: '/v1/exports/:id/download',
    tag: 'exports',
    summary: 'The CSV, streamed (no key: the signed token of result.url)',
    auth: 'export-token',
    query: exportDownloadQuerySchema,
    success: { status: 200, media: 'text/csv' },
  },

  // Segment (Actions) destination compatibility: our addition, the routes Segment's (and PostHog's)
  // "Voucherify (Actions)" destination posts to its Custom URL, with the server key pair in its headers.
  {
    method: 'get',
    path: '/segmentio/test-authentication',
    tag: 'segmentio',
    summary: "Segment (Actions) destination compatibility: the destination's key check (200, or 401)",
    auth: 'segment',
  },
  {
    method: 'post',
    path: '/segmentio/customer-processing',
    tag: 'segmentio',
    summary:
      'Segment (Actions) destination compatibility: identify → the customer upserted by source_id (first_name + last_name → name, street → address.line_1, metadata merged; null and "" leave a field as it is)',
    auth: 'segment',
    body: segmentIdentifySchema,
  },
  {
    method: 'post',
    path: '/segmentio/event-processing',
    writes: false,
    tag: 'segmentio',
    summary:
      'Segment (Actions) destination compatibility: track / page / screen → a custom event as POST /v1/events records it; each run of characters outside A-Z a-z 0-9 _ - in the name becomes "_" ("Order Completed" → Order_Completed)',
    auth: 'segment',
    body: segmentEventSchema,
  },
  {
    method: 'post',
    path: '/segmentio/group-processing',
    tag: 'segmentio',
    summary:
      "Segment (Actions) destination compatibility: group → the group's traits merged into the customer's metadata.groups.<group_id> (customer upserted by source_id)",
    auth: 'segment',
    body: segmentGroupSchema,
  },
  // Webhooks (our addition: Voucherify configures them in its dashboard). docs/webhooks.md.
  {
    method: 'post',
    path: '/v1/webhooks',
    tag: 'webhooks',
    summary:
      'Create a webhook endpoint (https URL, event types, format standard or voucherify); the answer carries its signing secret (whsec_…), shown once',
    auth: 'server',
    body: webhookCreateSchema,
  },
  { method: 'get', path: '/v1/webhooks', tag: 'webhooks', summary: 'List webhook endpoints (secrets masked)', auth: 'server' },
  {
    method: 'get',
    path: '/v1/webhooks/:id',
    tag: 'webhooks',
    summary: 'Get a webhook endpoint (secret masked; disabled_reason when Vouchsafe disabled it)',
    auth: 'server',
  },
  {
    method: 'put',
    path: '/v1/webhooks/:id',
    tag: 'webhooks',
    summary: 'Update url, events, description or enabled (re-enabling clears disabled_reason and failing_since)',
    auth: 'server',
    body: webhookUpdateSchema,
  },
  {
    method: 'delete',
    path: '/v1/webhooks/:id',
    tag: 'webhooks',
    summary: 'Delete a webhook endpoint and its delivery log',
    auth: 'server',
    success: NO_CONTENT,
  },
  {
    method: 'post',
    path: '/v1/webhooks/:id/secret/rotate',
    tag: 'webhooks',
    summary: 'A new signing secret; deliveries are signed with the old one too for 24 hours',
    auth: 'server',
  },
  {
    method: 'get',
    path: '/v1/webhooks/:id/deliveries',
    tag: 'webhooks',
    summary: 'The delivery log, newest first (status, attempts, last response code and time)',
    auth: 'server',
    query: deliveryListQuerySchema,
  },
  {
    method: 'post',
    path: '/v1/webhooks/:id/deliveries/:deliveryId/retry',
    tag: 'webhooks',
    summary: 'Attempt a dead or failed delivery again now (same webhook-id)',
    auth: 'server',
    success: ACCEPTED,
  },

  // Client side (browser key + allowed Origin)
  {
    method: 'get',
    path: '/client/v1/validate',
    tag: 'client',
    summary: "Validate with the client key, in the official client SDK's query format",
    auth: 'client',
    query: clientValidateQuerySchema,
  },
  {
    method: 'post',
    path: '/client/v1/validations',
    writes: false,
    tag: 'client',
    summary: 'Stackable validate with the client key',
    auth: 'client',
    body: stackableSchema,
  },
  // Qualifications with the client key (docs/qualifications.md): stored data only, no customer named.
  {
    method: 'post',
    path: '/client/v1/qualifications',
    writes: false,
    tag: 'client',
    summary: "Qualifications with the client key: promotion tiers and public codes; the customer's own codes for a verified customer",
    auth: 'client',
    body: qualificationSchema,
  },
  {
    method: 'get',
    path: '/client/v1/promotions/validation',
    tag: 'client',
    summary: "The promotion tiers that apply, with the client key (the official client SDK's validate without a code)",
    auth: 'client',
    query: clientValidateQuerySchema.omit({ code: true }),
  },
  {
    method: 'post',
    path: '/client/v1/redemptions',
    tag: 'client',
    summary:
      'Stackable redeem with the client key (CLIENT_REDEMPTIONS=on only; names existing customers, writes none; metadata, items and order bounded)',
    auth: 'client',
    body: clientStackableSchema,
    headers: [clientIdempotencyKey],
  },

  // The operator console (docs/console.md): HTML pages and htmx fragments that call this
  // API in-process with the server key. Forms, not JSON; not in OpenAPI.
  { method: 'get', path: '/console/assets/*', tag: 'console', summary: 'The stylesheet and htmx (no session needed)', auth: 'console' },
  { method: 'get', path: '/console', tag: 'console', summary: 'Redirect to the first page', auth: 'console', success: REDIRECT },
  { method: 'get', path: '/console/sign-in', tag: 'console', summary: 'The sign-in page', auth: 'console', success: HTML },
  {
    method: 'post',
    path: '/console/sign-in',
    tag: 'console',
    summary: 'Sign in with the server token: a session cookie',
    auth: 'console',
    success: REDIRECT,
  },
  { method: 'post', path: '/console/sign-out', tag: 'console', summary: 'End the session', auth: 'console', success: REDIRECT },
  { method: 'get', path: '/console/segments', tag: 'console', summary: 'Segments, with their sizes', auth: 'console', success: HTML },
  { method: 'get', path: '/console/segments/new', tag: 'console', summary: 'The segment builder', auth: 'console', success: HTML },
  {
    method: 'post',
    path: '/console/segments/preview',
    tag: 'console',
    summary: "The builder's live preview (a fragment)",
    auth: 'console',
    success: HTML,
  },
  {
    method: 'post',
    path: '/console/segments/builder',
    tag: 'console',
    summary: "The builder's rows after a row is added, removed or changed (a fragment)",
    auth: 'console',
    success: HTML,
  },
  { method: 'post', path: '/console/segments', tag: 'console', summary: 'Save a new segment', auth: 'console', success: HTML },
  {
    method: 'get',
    path: '/console/segments/:id/size',
    tag: 'console',
    summary: "A segment's size and its history (a fragment)",
    auth: 'console',
    success: HTML,
  },
  { method: 'get', path: '/console/segments/:id', tag: 'console', summary: 'A segment', auth: 'console', success: HTML },
  { method: 'post', path: '/console/segments/:id', tag: 'console', summary: 'Change a segment', auth: 'console', success: HTML },
  { method: 'get', path: '/console/customers', tag: 'console', summary: 'Customers', auth: 'console', success: HTML },
  {
    method: 'get',
    path: '/console/customers/open',
    tag: 'console',
    summary: 'Open a customer by id or source_id',
    auth: 'console',
    success: REDIRECT,
  },
  {
    method: 'get',
    path: '/console/customers/:id',
    tag: 'console',
    summary: 'A customer: profile, segments, activity, redemptions',
    auth: 'console',
    success: HTML,
  },
  {
    method: 'get',
    path: '/console/customers/:id/why/:segmentId',
    tag: 'console',
    summary: 'Why the customer is or is not in a segment (a fragment)',
    auth: 'console',
    success: HTML,
  },
  {
    method: 'post',
    path: '/console/customers/:id/redemptions/:redemptionId/rollback',
    tag: 'console',
    summary: "Roll back one of the customer's redemptions",
    auth: 'console',
    success: HTML,
  },
  { method: 'get', path: '/console/vouchers', tag: 'console', summary: 'Vouchers', auth: 'console', success: HTML },
  { method: 'post', path: '/console/vouchers', tag: 'console', summary: 'Create a voucher', auth: 'console', success: HTML },
  {
    method: 'post',
    path: '/console/vouchers/:code/enable',
    tag: 'console',
    summary: 'Enable a voucher (a fragment)',
    auth: 'console',
    success: HTML,
  },
  {
    method: 'post',
    path: '/console/vouchers/:code/disable',
    tag: 'console',
    summary: 'Disable a voucher (a fragment)',
    auth: 'console',
    success: HTML,
  },
  { method: 'get', path: '/console/campaigns', tag: 'console', summary: 'Campaigns', auth: 'console', success: HTML },
  { method: 'post', path: '/console/campaigns', tag: 'console', summary: 'Create a campaign', auth: 'console', success: HTML },
  {
    method: 'post',
    path: '/console/campaigns/:id/enable',
    tag: 'console',
    summary: 'Enable a campaign',
    auth: 'console',
    success: HTML,
  },
  {
    method: 'post',
    path: '/console/campaigns/:id/disable',
    tag: 'console',
    summary: 'Disable a campaign',
    auth: 'console',
    success: HTML,
  },
  { method: 'get', path: '/console/promotions', tag: 'console', summary: 'Promotions and their tiers', auth: 'console', success: HTML },
  {
    method: 'post',
    path: '/console/promotions',
    tag: 'console',
    summary: 'Create a promotion with its first tier',
    auth: 'console',
    success: HTML,
  },
  { method: 'get', path: '/console/promotions/tiers/:id', tag: 'console', summary: 'A promotion tier', auth: 'console', success: HTML },
  {
    method: 'post',
    path: '/console/promotions/tiers/:id',
    tag: 'console',
    summary: 'Change a promotion tier',
    auth: 'console',
    success: HTML,
  },
  {
    method: 'post',
    path: '/console/promotions/tiers/:id/enable',
    tag: 'console',
    summary: 'Enable a promotion tier (a fragment)',
    auth: 'console',
    success: HTML,
  },
  {
    method: 'post',
    path: '/console/promotions/tiers/:id/disable',
    tag: 'console',
    summary: 'Disable a promotion tier (a fragment)',
    auth: 'console',
    success: HTML,
  },
  {
    method: 'post',
    path: '/console/promotions/tiers/:id/delete',
    tag: 'console',
    summary: 'Delete a promotion tier (a fragment)',
    auth: 'console',
    success: HTML,
  },
  { method: 'get', path: '/console/simulator', tag: 'console', summary: 'The checkout simulator', auth: 'console', success: HTML },
  {
    method: 'post',
    path: '/console/simulator',
    tag: 'console',
    summary: "The simulator's verdict, explained, or the offers that qualify",
    auth: 'console',
    success: HTML,
  },
  { method: 'get', path: '/console/imports', tag: 'console', summary: 'Imports and exports', auth: 'console', success: HTML },
  {
    method: 'post',
    path: '/console/imports/customers',
    tag: 'console',
    summary: 'Upload a customer CSV',
    auth: 'console',
    success: REDIRECT,
    // Passed on to POST /v1/customers/importCSV as it streams; that route counts the bytes.
    bodyLimit: 'streamed',
  },
  {
    method: 'get',
    path: '/console/imports/actions/:id',
    tag: 'console',
    summary: 'An import and its report',
    auth: 'console',
    success: HTML,
  },
  {
    method: 'get',
    path: '/console/imports/actions/:id/progress',
    tag: 'console',
    summary: "An import's progress (a fragment)",
    auth: 'console',
    success: HTML,
  },
  { method: 'post', path: '/console/imports/exports', tag: 'console', summary: 'Start an export', auth: 'console', success: HTML },
];

/** The paths with a body limit of their own (app.ts applies MAX_BODY_BYTES to every other path). */
export const BODY_LIMITS: ReadonlyMap<string, number | 'streamed'> = new Map(
  CATALOGUE.flatMap((route) => {
    if (route.bodyLimit === undefined) return [];
    // app.ts looks the limit up by the request's path, which only a path without parameters equals.
    if (/[:*]/.test(route.path)) throw new Error(`catalogue: ${route.path} has parameters and cannot have a body limit of its own`);
    return [[route.path, route.bodyLimit] as const];
  }),
);

/** A catalogue path as a pattern: a parameter is one path segment, a wildcard anything; a trailing slash is the same route. */
const pathPattern = (path: string): RegExp =>
  new RegExp(
    `^${path
      .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
      .replace(/:[A-Za-z0-9_]+/g, '[^/]+')
      .replace(/\*/g, '.*')}/?$`,
  );

/**
 * POST routes that write nothing to D1 themselves (`writes: false` above): what they record goes
 * through the WRITES queue (validations, events), or they record nothing (a segment preview or
 * explanation). Read by the D1 session (such a request may start on a replica:
 * middleware/d1-session.ts) and by the webhook wake-up (such a request wrote no event itself:
 * services/webhook-wake.ts).
 */
const READ_ONLY_POSTS: readonly RegExp[] = CATALOGUE.filter((route) => route.method === 'post' && route.writes === false).map((route) =>
  pathPattern(route.path),
);

export const isReadOnlyPost = (path: string): boolean => READ_ONLY_POSTS.some((route) => route.test(path));

const ROUTE_PATTERNS: readonly { pattern: RegExp; method: Method }[] = CATALOGUE.map((route) => ({
  pattern: pathPattern(route.path),
  method: route.method,
}));

/**
 * The methods the catalogue serves on a path, upper case, in a fixed order (none: no such path).
 * app.ts answers a known path asked with another method 405 with these in `Allow`, as Voucherify
 * does (documentation/api-reference/errors.mdx:L39: "Error details include a hint on which methods
 * are allowed"), derived from this list so that it can never disagree with the routes mounted.
 */
export function allowedMethods(path: string): string[] {
  const methods = new Set<Method>();
  for (const { pattern, method } of ROUTE_PATTERNS) if (pattern.test(path)) methods.add(method);
  return (['get', 'post', 'put', 'delete'] as const).filter((m) => methods.has(m)).map((m) => m.toUpperCase());
}
