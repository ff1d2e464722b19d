import { z } from 'zod';
import { EVENT_NAME_PATTERN } from '../../../shared/filter';
import { isPrototypeKey, PROTOTYPE_KEY_RULE } from '../../../shared/prototype-keys';
import { parseIsoMs } from '../lib/time';
import { addressSchema, type CustomerWrite, customerWriteFields, metadataSchema } from './customers';
import type { EventCreate } from './events';

// The bodies Segment's "Voucherify (Actions)" destination posts to /segmentio/* after its mapping
// (segmentio/action-destinations, packages/destination-actions/src/destinations/voucherify/:
// upsertCustomer, addCustomEvent, assignCustomerToGroup), which PostHog runs unchanged as its
// "Voucherify" destination. Each field keeps the rule the customers and events APIs give it.
//
// null and "" mean "not sent": PostHog renders a property a person lacks as "" (nodejs/src/cdp/
// segment/coerce-inputs.ts, "An optional input that renders to nothing arrives as an empty
// string") and Segment maps a missing trait to nothing, so a feed never clears a stored field.
// Clearing one is the customers API's job (PUT /v1/customers/{id} with null).

// Typed wide (string | null | undefined): a pipe's target may take any part of what feeds it.
const blankToAbsent = <T>(value: T | null | undefined): T | null | undefined => (value === null || value === '' ? undefined : value);

/** A text field: string, null or "" (not sent), then `rule`. */
const text = <R extends z.ZodType<unknown, string | null | undefined>>(rule: R) =>
  z
    .string()
    .nullable()
    .optional()
    .transform(blankToAbsent<string>)
    .pipe(rule);

/** An object field (metadata, traits): null or "" is not sent, anything else must pass `rule`. */
const object = <R extends z.ZodType>(rule: R) =>
  z
    .unknown()
    .describe('an object; null or "" is not sent')
    .transform(blankToAbsent<unknown>)
    .pipe(rule)
    .optional();

const sourceId = z.string({ error: 'is required' }).min(1, 'is required').max(255);

/** The destination's `customer` of an event or a group call: who it is about. */
const customerRef = z.object(
  { source_id: sourceId, email: text(customerWriteFields.email) },
  { error: 'is required: an object with source_id' },
);

/**
 * Event names as the events API keeps them (EVENT_NAME_PATTERN: the names `events.<name>.count`
 * can count). Segment names events in words ("Order Completed", the page preset's
 * "Viewed {{name}} Page"), PostHog with a `$` ("$pageview"): every run of other characters becomes
 * one "_" ("Order_Completed", "_pageview"). A name that is already valid is kept as it is.
 */
export const normaliseEventName = (name: string): string => name.replace(/[^A-Za-z0-9_-]+/g, '_');

const eventName = text(
  z
    .string({ error: 'is required' })
    .transform(normaliseEventName)
    .pipe(
      z
        .string()
        .regex(
          EVENT_NAME_PATTERN,
          `must be 1 to 64 characters once each run of characters other than A-Z a-z 0-9 _ - is replaced by "_" (${PROTOTYPE_KEY_RULE})`,
        ),
    ),
).describe('required; each run of characters other than A-Z a-z 0-9 _ - becomes "_" ("Order Completed" is recorded as Order_Completed)');

/** Segment's birthdate field takes a date or an ISO 8601 date-time; the customer keeps the date as written. */
const birthdate = z
  .string()
  .nullable()
  .optional()
  .transform((value): string | null | undefined => {
    const present = blankToAbsent(value);
    return present && present.length > 10 && parseIsoMs(present) !== null ? present.slice(0, 10) : present;
  })
  .pipe(customerWriteFields.birthdate);

const address = z
  .object({
    city: text(addressSchema.shape.city),
    state: text(addressSchema.shape.state),
    postal_code: text(addressSchema.shape.postal_code),
    // Segment's trait is a street; the customer's first address line holds it.
    street: text(addressSchema.shape.line_1),
    country: text(addressSchema.shape.country),
  })
  .nullable()
  .optional()
  .transform((a) => {
    if (!a) return undefined;
    const { street, ...rest } = a;
    const set = Object.entries({ ...rest, line_1: street }).filter(([, v]) => v !== undefined);
    return set.length > 0 ? (Object.fromEntries(set) as NonNullable<CustomerWrite['address']>) : undefined;
  });

const nameLimit = customerWriteFields.name;

/** POST /segmentio/customer-processing: the identify call (upsertCustomer/index.ts fields). */
export const segmentIdentifySchema = z
  .object({
    source_id: sourceId,
    name: text(nameLimit),
    first_name: text(nameLimit),
    last_name: text(nameLimit),
    description: text(customerWriteFields.description),
    email: text(customerWriteFields.email),
    phone: text(customerWriteFields.phone),
    birthdate,
    address,
    metadata: object(metadataSchema.optional()),
    type: z.string().nullable().optional(),
  })
  .transform((p, ctx) => {
    // The destination's field docs: first_name and last_name "will be merged ... to create the name field".
    const joined = [p.first_name, p.last_name].filter((part) => part !== undefined).join(' ');
    const name = p.name ?? (joined === '' ? undefined : joined);
    if (name !== undefined && name.length > 255) {
      ctx.addIssue({ code: 'custom', path: ['first_name'], message: 'first_name and last_name together must be at most 255 characters' });
      return z.NEVER;
    }
    const fields: CustomerWrite = {
      name,
      description: p.description,
      email: p.email,
      phone: p.phone,
      birthdate: p.birthdate,
      address: p.address,
    };
    const write = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as CustomerWrite;
    return { sourceId: p.source_id, write, metadata: p.metadata };
  });

export type SegmentIdentify = z.output<typeof segmentIdentifySchema>;

/** POST /segmentio/event-processing: a track, page or screen call (addCustomEvent/index.ts fields). */
export const segmentEventSchema = z
  .object({
    customer: customerRef,
    event: eventName,
    metadata: object(metadataSchema.optional()),
    referral: z.unknown().optional(),
    loyalty: z.unknown().optional(),
    type: z.string().nullable().optional(),
  })
  .transform((p): EventCreate => ({
    event: p.event,
    customer: { id: undefined, source_id: p.customer.source_id, ...(p.customer.email !== undefined ? { email: p.customer.email } : {}) },
    metadata: p.metadata,
    referral: p.referral,
    loyalty: p.loyalty,
  }));

/** POST /segmentio/group-processing: a group call (assignCustomerToGroup/index.ts fields). */
export const segmentGroupSchema = z
  .object({
    customer: customerRef,
    group_id: text(
      z
        .string({ error: 'is required' })
        .max(255)
        .refine((id) => !isPrototypeKey(id), PROTOTYPE_KEY_RULE),
    ).describe('required'),
    traits: object(metadataSchema.optional()),
    type: z.string().nullable().optional(),
  })
  .transform((p) => ({ sourceId: p.customer.source_id, email: p.customer.email, groupId: p.group_id, traits: p.traits ?? {} }));

export type SegmentGroup = z.output<typeof segmentGroupSchema>;

/** The track event of Segment's e-commerce spec that is an order (its name once normalised). */
export const ORDER_COMPLETED = normaliseEventName('Order Completed');

/** Segment's money is in currency units (27.5); Voucherify's in cents (2750). */
const money = z
  .number()
  .finite()
  .min(0, 'must be at least 0')
  .max(10_000_000_000, 'must be at most 10,000,000,000')
  .transform((units) => Math.round(units * 100));
const segmentId = z.union([z.string().min(1).max(255), z.number().finite().transform(String)]);

/**
 * The properties of an `Order Completed` track (Segment's e-commerce spec, "Order Completed":
 * order_id, total, revenue, products[] with product_id, sku, price, quantity), as the destination
 * sends them in `metadata`. Other properties stay in the event; these make the order.
 */
export const segmentOrderCompletedSchema = z.object({
  metadata: z.object({
    order_id: segmentId,
    total: money.nullish(),
    revenue: money.nullish(),
    products: z
      .array(
        z.object({
          product_id: segmentId.nullish(),
          sku: segmentId.nullish(),
          price: money.nullish(),
          quantity: z.number().int('must be an integer').min(0).max(1_000_000).nullish(),
        }),
      )
      .max(500, 'must hold at most 500 products')
      .nullish(),
  }),
});
