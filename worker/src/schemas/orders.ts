import { z } from 'zod';
import { parseIsoMs } from '../lib/time';
import { contextCustomerSchema, MAX_CENTS, orderItemSchema } from './checkout';
import { csvUploadSchema, intParam } from './common';
import { MAX_LIST_PAGE, metadataSchema } from './customers';

// Request schemas of the orders API (voucherify-openapi production/readOnly-openAPI.json:
// OrdersCreateRequestBody, OrdersUpdateRequestBody, OrdersImportCreateRequestBody, the list's
// `limit`, `page` and `order` ParameterOrderListOrders). Voucherify marks every field nullable:
// null reads as "not given".

export const ORDER_STATUSES = ['CREATED', 'PAID', 'CANCELED', 'FULFILLED'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** OA ParameterOrderListOrders. */
export const ORDER_LIST_ORDERS = ['created_at', '-created_at', 'updated_at', '-updated_at'] as const;
export type OrderListOrder = (typeof ORDER_LIST_ORDERS)[number];

const absentIfNull = <T extends z.ZodType>(schema: T) =>
  schema
    .nullish()
    .transform((value) => value ?? undefined)
    .optional();

const cents = z.number().int('must be an integer').min(0, 'must be at least 0').max(MAX_CENTS);
const text = absentIfNull(z.string().min(1, 'must not be empty').max(255));

/** "It can include up to 500 items" (OA OrdersCreateRequestBody.items). */
export const MAX_ORDER_ITEMS = 500;
/**
 * What one order may store of its items as JSON. Items carry free-form product and sku records; the
 * body limit alone would let one order take a megabyte of the database.
 */
export const MAX_ORDER_ITEMS_BYTES = 256 * 1024;

const itemsSchema = z
  .array(orderItemSchema)
  .max(MAX_ORDER_ITEMS, `must hold at most ${MAX_ORDER_ITEMS} items`)
  .refine((items) => new TextEncoder().encode(JSON.stringify(items)).length <= MAX_ORDER_ITEMS_BYTES, {
    message: `must be at most ${MAX_ORDER_ITEMS_BYTES} bytes as JSON`,
  });

const isoDate = z.string().transform((value, ctx) => {
  const ms = parseIsoMs(value);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: 'must be an ISO-8601 date or date-time' });
    return z.NEVER;
  }
  return ms;
});

const orderFields = {
  source_id: text,
  status: absentIfNull(z.enum(ORDER_STATUSES)),
  amount: absentIfNull(cents),
  initial_amount: absentIfNull(cents),
  discount_amount: absentIfNull(cents),
  items: absentIfNull(itemsSchema),
  metadata: absentIfNull(metadataSchema),
  customer: absentIfNull(contextCustomerSchema),
  referrer_id: text,
  referrer: absentIfNull(z.object({ id: absentIfNull(z.string().min(1).max(255)) }).passthrough()),
  /**
   * Our addition: the browser's tracking id (or a raw identity), linked to the order's customer and
   * its anonymous history merged, as a redeem with a tracking_id does.
   */
  tracking_id: text,
};

/** POST /v1/orders: create, or upsert by id / source_id ("Upsert Mode", OA create-order). */
export const orderCreateSchema = z.object({
  id: text,
  ...orderFields,
  created_at: absentIfNull(isoDate),
});
export type OrderCreateInput = z.output<typeof orderCreateSchema>;

/** PUT /v1/orders/{orderId}: the fields given change, the others stay ("Any parameters not provided will be left unchanged"). */
export const orderUpdateSchema = z.object(orderFields);
export type OrderUpdateInput = z.output<typeof orderUpdateSchema>;

/** "There is a 2000 limit of orders per one request" (OA import-orders). */
export const MAX_IMPORT_ORDERS = 2000;
/** The import's body: up to 2,000 orders of up to a few KiB each. */
export const MAX_IMPORT_BODY_BYTES = 10 * 1024 * 1024;

/** POST /v1/orders/import: an array of orders; each one is checked alone (a bad one is reported, the others written). */
export const orderImportSchema = z
  .array(z.unknown())
  .min(1, 'must hold at least one order')
  .max(MAX_IMPORT_ORDERS, `must hold at most ${MAX_IMPORT_ORDERS} orders`);

/** Largest file POST /v1/orders/importCSV takes: it is read whole (the orders are then queue work). */
export const MAX_ORDER_CSV_BYTES = 10 * 1024 * 1024;
/** Most data rows (order lines) of one file. */
export const MAX_ORDER_CSV_ROWS = 50_000;

/** POST /v1/orders/importCSV: multipart/form-data with the CSV in the field `file`. */
export const orderCsvFormSchema = csvUploadSchema(MAX_ORDER_CSV_BYTES);

export const orderListQuerySchema = z.object({
  limit: intParam(1, 100).optional(),
  page: intParam(1, MAX_LIST_PAGE).optional(),
  order: z.enum(ORDER_LIST_ORDERS).optional(),
});
