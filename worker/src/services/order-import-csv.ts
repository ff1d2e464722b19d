import { isPrototypeKey, PROTOTYPE_KEY_RULE } from '../../../shared/prototype-keys';
import type { AsyncAction } from '../../../shared/types';
import type { Env } from '../env';
import { invalidPayload } from '../errors';
import { CsvEncodingError, type CsvRecord, decodeCsv, parseCsv } from '../lib/csv';
import { readMultipartFile } from '../lib/multipart';
import { MAX_ORDER_CSV_BYTES, MAX_ORDER_CSV_ROWS } from '../schemas/orders';
import { typedCell } from './customer-import-rows';
import { startOrderImport } from './order-import';

// POST /v1/orders/importCSV (our addition: Voucherify imports orders as JSON only). One row per
// order line; the rows of one order (the same Order_Source_Id, else the same Order_Id) make one
// order, its fields from the first row that gives each, one item per row that names a product.
// Columns (header names in any case; spaces and dashes read as underscores):
//   order:    Order_Id, Order_Source_Id, Status, Amount, Discount_Amount, Created_At
//   customer: Customer_Id, Customer_Source_Id, Customer_Email, Customer_Name
//   item:     Product_Id, Sku_Id, Item_Source_Id, Quantity, Price, Item_Amount
//   any other column: order metadata (numbers and true/false typed, as the customers CSV does).
// Amounts are in cents. The orders then go the way of POST /v1/orders/import: each checked alone (a
// bad one reported with its first row), the valid ones written by the queue consumer.

type OrderColumn =
  | 'order_id'
  | 'order_source_id'
  | 'status'
  | 'amount'
  | 'discount_amount'
  | 'created_at'
  | 'customer_id'
  | 'customer_source_id'
  | 'customer_email'
  | 'customer_name'
  | 'product_id'
  | 'sku_id'
  | 'item_source_id'
  | 'quantity'
  | 'price'
  | 'item_amount';

const COLUMNS: ReadonlySet<string> = new Set<OrderColumn>([
  'order_id',
  'order_source_id',
  'status',
  'amount',
  'discount_amount',
  'created_at',
  'customer_id',
  'customer_source_id',
  'customer_email',
  'customer_name',
  'product_id',
  'sku_id',
  'item_source_id',
  'quantity',
  'price',
  'item_amount',
]);
const ITEM_COLUMNS: readonly OrderColumn[] = ['product_id', 'sku_id', 'item_source_id', 'quantity', 'price', 'item_amount'];

const headerName = (cell: string) =>
  cell
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');

/** A cell of a number column: digits become a number; anything else stays text, for the order's check to name. */
const numberCell = (value: string): string | number => (/^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value);

interface Building {
  firstRow: number;
  order: Record<string, unknown> & { items?: Record<string, unknown>[]; metadata?: Record<string, unknown> };
}

/** The orders of a parsed file, in the order of their first rows, each labelled with that row. */
function ordersOf(records: Iterable<CsvRecord>): { orders: unknown[]; labels: string[] } {
  let header: string[] | null = null;
  const byKey = new Map<string, Building>();
  const all: Building[] = [];
  let rows = 0;
  for (const record of records) {
    if (record.error !== undefined) throw invalidPayload(`file: line ${record.line}: ${record.error}`);
    if (header === null) {
      header = record.fields.map(headerName);
      const seen = new Set<string>();
      for (const name of header) {
        if (name === '') throw invalidPayload('file: the header row has an empty column name');
        if (isPrototypeKey(name)) throw invalidPayload(`file: the header row names ${name}: ${PROTOTYPE_KEY_RULE}`);
        if (seen.has(name)) throw invalidPayload(`file: the header row names ${name} twice`);
        seen.add(name);
      }
      if (!header.includes('order_source_id') && !header.includes('order_id'))
        throw invalidPayload('file: the header row must name Order_Source_Id or Order_Id');
      continue;
    }
    if (record.fields.every((cell) => cell === '')) continue;
    rows += 1;
    if (rows > MAX_ORDER_CSV_ROWS) throw invalidPayload(`file: at most ${MAX_ORDER_CSV_ROWS} data rows`);
    const cells = new Map<string, string>();
    header.forEach((name, i) => {
      const value = record.fields[i] ?? '';
      if (value !== '') cells.set(name, value);
    });
    const key = cells.has('order_source_id')
      ? `s:${cells.get('order_source_id')}`
      : cells.has('order_id')
        ? `i:${cells.get('order_id')}`
        : null;
    let building = key === null ? undefined : byKey.get(key);
    if (!building) {
      building = { firstRow: rows, order: {} };
      all.push(building);
      if (key !== null) byKey.set(key, building);
    }
    const { order } = building;
    const set = (field: string, value: unknown) => {
      if (order[field] === undefined) order[field] = value;
    };
    const customer = (field: string, value: string) => {
      const c = (order.customer ??= {}) as Record<string, unknown>;
      if (c[field] === undefined) c[field] = value;
    };
    for (const [name, value] of cells) {
      switch (name) {
        case 'order_id':
          set('id', value);
          break;
        case 'order_source_id':
          set('source_id', value);
          break;
        case 'status':
          set('status', value.toUpperCase());
          break;
        case 'amount':
        case 'discount_amount':
          set(name, numberCell(value));
          break;
        case 'created_at':
          set('created_at', value);
          break;
        case 'customer_id':
          customer('id', value);
          break;
        case 'customer_source_id':
          customer('source_id', value);
          break;
        case 'customer_email':
          customer('email', value);
          break;
        case 'customer_name':
          customer('name', value);
          break;
        default:
          if (!COLUMNS.has(name)) (order.metadata ??= {})[name] ??= typedCell(value);
      }
    }
    if (ITEM_COLUMNS.some((c) => cells.has(c))) {
      const item: Record<string, unknown> = {};
      if (cells.has('product_id')) item.product_id = cells.get('product_id');
      if (cells.has('sku_id')) item.sku_id = cells.get('sku_id');
      if (cells.has('item_source_id')) item.source_id = cells.get('item_source_id');
      for (const [column, field] of [
        ['quantity', 'quantity'],
        ['price', 'price'],
        ['item_amount', 'amount'],
      ] as const) {
        const value = cells.get(column);
        if (value !== undefined) item[field] = numberCell(value);
      }
      (order.items ??= []).push(item);
    }
  }
  if (header === null) throw invalidPayload('file: the file is empty; it needs a header row');
  return { orders: all.map((b) => b.order), labels: all.map((b) => `row ${b.firstRow}`) };
}

/** Reads the file of the form field `file`, turns its rows into orders and starts their import. */
export async function startOrderCsvImport(env: Pick<Env, 'DB' | 'WRITES'>, request: Request, requestId: string): Promise<AsyncAction> {
  const file = await readMultipartFile(request, 'file', MAX_ORDER_CSV_BYTES);
  if (!file) throw invalidPayload('file: must be a file (multipart/form-data field "file")');
  let text = '';
  try {
    for (const piece of decodeCsv(file.chunks)) text += piece;
  } catch (error) {
    if (error instanceof CsvEncodingError) throw invalidPayload(`file: ${error.message}`);
    throw error;
  }
  const { orders, labels } = ordersOf(parseCsv(text));
  return startOrderImport(env, orders, requestId, labels);
}
