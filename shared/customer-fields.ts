/**
 * @module The customer model: every field of Voucherify's customer object that has a column of its
 * own, in one list. The customers API, the customer sent with validate and redeem, events, the CSV
 * import, the export, the segment filter index, the D1 row type and the wire object all read this
 * list; adding a field is one line here plus a migration.
 *
 * `metadata` and `system_metadata` are JSON columns with their own rules (merge patch, key paths in
 * filters) and are not listed; nor are `id` and `object`.
 */

/**
 * How a field is stored and compared:
 * - `text`: a TEXT column; the wire holds a string or null.
 * - `number`: an INTEGER column that is never NULL (a counter); the wire holds a number.
 * - `timestamp`: an INTEGER column of epoch ms, NULL allowed; the wire holds an ISO string.
 * - `calendar_date`: a TEXT column `YYYY-MM-DD`; the wire holds the same string or null.
 */
export type CustomerFieldKind = 'text' | 'number' | 'timestamp' | 'calendar_date';

/** What a client may write into a field: its longest value, and a format the value must have. */
export interface Writable {
  max: number;
  format?: 'email' | 'calendar_date';
}

export interface CustomerField {
  /** Dot path in the wire object (`address.city`), also the field name of segment filters. */
  readonly path: string;
  /** The column of the customers table. */
  readonly column: string;
  readonly kind: CustomerFieldKind;
  /** Settable through the customers API, validate/redeem bodies, events and the CSV import. */
  readonly write?: Writable;
  /** Filters compare it ignoring ASCII case (e-mail addresses are typed in any case). */
  readonly foldCase?: true;
  /** Absent from the wire object while NULL, as Voucherify omits it (otherwise it is `null`). */
  readonly omitWhenNull?: true;
}

const MAX_TEXT = 255;

export const CUSTOMER_FIELDS = [
  { path: 'source_id', column: 'source_id', kind: 'text', write: { max: MAX_TEXT } },
  { path: 'name', column: 'name', kind: 'text', write: { max: MAX_TEXT } },
  { path: 'description', column: 'description', kind: 'text', write: { max: 1024 } },
  { path: 'email', column: 'email', kind: 'text', write: { max: 254, format: 'email' }, foldCase: true },
  { path: 'phone', column: 'phone', kind: 'text', write: { max: 64 } },
  { path: 'birthdate', column: 'birthdate', kind: 'calendar_date', write: { max: 10, format: 'calendar_date' } },
  { path: 'address.city', column: 'address_city', kind: 'text', write: { max: MAX_TEXT } },
  { path: 'address.state', column: 'address_state', kind: 'text', write: { max: MAX_TEXT } },
  { path: 'address.line_1', column: 'address_line_1', kind: 'text', write: { max: MAX_TEXT } },
  { path: 'address.line_2', column: 'address_line_2', kind: 'text', write: { max: MAX_TEXT } },
  { path: 'address.country', column: 'address_country', kind: 'text', write: { max: MAX_TEXT } },
  { path: 'address.postal_code', column: 'address_postal_code', kind: 'text', write: { max: 64 } },
  { path: 'summary.redemptions.total_redeemed', column: 'redemptions_total_redeemed', kind: 'number' },
  { path: 'summary.redemptions.total_failed', column: 'redemptions_total_failed', kind: 'number' },
  { path: 'summary.redemptions.total_succeeded', column: 'redemptions_total_succeeded', kind: 'number' },
  { path: 'summary.redemptions.total_rolled_back', column: 'redemptions_total_rolled_back', kind: 'number' },
  { path: 'summary.redemptions.total_rollback_failed', column: 'redemptions_total_rollback_failed', kind: 'number' },
  { path: 'summary.redemptions.total_rollback_succeeded', column: 'redemptions_total_rollback_succeeded', kind: 'number' },
  { path: 'summary.redemptions.gift.redeemed_amount', column: 'redemptions_gift_redeemed_amount', kind: 'number' },
  { path: 'summary.redemptions.gift.amount_to_go', column: 'redemptions_gift_amount_to_go', kind: 'number' },
  { path: 'summary.redemptions.loyalty_card.redeemed_points', column: 'redemptions_loyalty_redeemed_points', kind: 'number' },
  { path: 'summary.redemptions.loyalty_card.points_to_go', column: 'redemptions_loyalty_points_to_go', kind: 'number' },
  { path: 'summary.orders.total_amount', column: 'orders_total_amount', kind: 'number' },
  { path: 'summary.orders.total_count', column: 'orders_total_count', kind: 'number' },
  { path: 'summary.orders.average_amount', column: 'orders_average_amount', kind: 'number' },
  { path: 'summary.orders.last_order_amount', column: 'orders_last_order_amount', kind: 'number' },
  { path: 'summary.orders.last_order_date', column: 'orders_last_order_date', kind: 'timestamp', omitWhenNull: true },
  { path: 'loyalty.points', column: 'loyalty_points', kind: 'number' },
  { path: 'loyalty.referred_customers', column: 'loyalty_referred_customers', kind: 'number' },
  { path: 'created_at', column: 'created_at', kind: 'timestamp' },
  { path: 'updated_at', column: 'updated_at', kind: 'timestamp', omitWhenNull: true },
] as const satisfies readonly CustomerField[];

type Fields = (typeof CUSTOMER_FIELDS)[number];
type WritableFields = Extract<Fields, { write: Writable }>;

/** The column names of the catalogue. */
export type CustomerFieldColumn = Fields['column'];
/** Wire paths a client may write, e.g. `name`, `address.city`. */
export type WritablePath = WritableFields['path'];
/** The writable fields at the top level of the wire object (not inside `address`). */
export type TopLevelWritablePath = Exclude<WritablePath, `${string}.${string}`>;
/** The keys of the wire `address` object. */
export type AddressKey = WritablePath extends infer P ? (P extends `address.${infer K}` ? K : never) : never;
/** The columns a client may write, `source_id` included. */
export type WritableColumn = WritableFields['column'];

export const WRITABLE_FIELDS: readonly WritableFields[] = CUSTOMER_FIELDS.filter((f): f is WritableFields => 'write' in f);

/** The writable fields inside the wire `address` object, with their key there. */
export const ADDRESS_FIELDS = WRITABLE_FIELDS.filter((f) => f.path.startsWith('address.')).map((f) => ({
  ...f,
  key: f.path.slice('address.'.length) as AddressKey,
}));

/** The writable fields at the top level of the wire object. */
export const TOP_LEVEL_WRITABLE_FIELDS = WRITABLE_FIELDS.filter(
  (f): f is Extract<WritableFields, { path: TopLevelWritablePath }> => !f.path.includes('.'),
);

/** The value of a column as D1 returns it, by the field's kind. */
export type ColumnValue<K extends CustomerFieldKind> = K extends 'number' ? number : K extends 'timestamp' ? number | null : string | null;

export const fieldByPath: ReadonlyMap<string, CustomerField> = new Map(CUSTOMER_FIELDS.map((f) => [f.path, f]));
