/**
 * @module Rules over the order's items: `order.items.any`, `order.items.every`, `order.items.none`
 * (OA24 ValidationRuleRules name table, OpenAPI24.json:L29769 "Order items"), with the condition
 * shape of the spec's examples: `conditions: {$is: [{object: 'product'|'sku', id, source_id?}]}`
 * (OA24 POST /v1/validation-rules example, OpenAPI24.json:L81336-L81350).
 *
 * - any: the order holds at least one of the listed products/SKUs;
 * - every: the order holds every one of them;
 * - none: the order holds none of them.
 */
import { lineMatches, type ItemRef, type OrderLine } from '../discount';

export type ItemsQuantifier = 'any' | 'every' | 'none';

export const ITEMS_RULES: Readonly<Record<string, ItemsQuantifier>> = {
  'order.items.any': 'any',
  'order.items.every': 'every',
  'order.items.none': 'none',
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const optionalId = (v: unknown) => v === undefined || v === null || (typeof v === 'string' && v.length > 0 && v.length <= 255);

/** One product/SKU reference, or the reason it is refused (no product catalogue: collections cannot be resolved). */
export function parseItemRef(input: unknown): ItemRef | string {
  if (!isObject(input)) return 'must be an object {object, id}';
  const { object, id, source_id } = input;
  if (object === 'products_collection')
    return 'object: products_collection is not supported (there is no product catalogue); name products or SKUs';
  if (object !== 'product' && object !== 'sku') return 'object: must be product or sku';
  if (!optionalId(id) || !optionalId(source_id)) return 'id and source_id: must be strings of 1 to 255 characters';
  if (typeof id !== 'string' && typeof source_id !== 'string') return 'needs id or source_id';
  if (input.effect !== undefined && input.effect !== null && input.effect !== 'APPLY_TO_EVERY')
    return 'effect: only APPLY_TO_EVERY is supported';
  return { object, id: (id as string | null | undefined) ?? null, source_id: (source_id as string | null | undefined) ?? null };
}

/** The refs of an order.items.* rule's conditions, or the path and reason of the refusal. */
export function parseItemsConditions(conditions: Record<string, unknown>): ItemRef[] | { path: string; message: string } {
  const entries = Object.entries(conditions);
  const [op, raw] = entries[0] as [string, unknown];
  if (entries.length !== 1 || (op !== '$is' && op !== '$in'))
    return { path: op, message: 'takes one operator, $is (or $in), with a list of products or SKUs' };
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0 || list.length > 50) return { path: op, message: 'must list 1 to 50 products or SKUs' };
  const refs: ItemRef[] = [];
  for (const [i, item] of list.entries()) {
    const ref = parseItemRef(item);
    if (typeof ref === 'string') return { path: `${op}.${i}`, message: ref };
    refs.push(ref);
  }
  return refs;
}

export function itemsRuleHolds(quantifier: ItemsQuantifier, refs: ItemRef[], lines: OrderLine[]): boolean {
  const inOrder = (ref: ItemRef) => lines.some((line) => (line.quantity ?? 1) > 0 && lineMatches(line, ref));
  switch (quantifier) {
    case 'any':
      return refs.some(inOrder);
    case 'every':
      return refs.every(inOrder);
    case 'none':
      return !refs.some(inOrder);
  }
}
