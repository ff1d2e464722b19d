import { NO_REDEMPTIONS, type RedemptionCounts, redemptionWindowStarts } from '../../../shared/rules';
import type { CustomerRow } from './customers';
import { segmentsVersionOf, selectSegmentsVersion } from './segments';
import { selectStackExists, selectStackLiveVouchers } from './promotion-stacks';
import { selectLiveVouchers } from './vouchers';
import { eventCountsOf, mergeEventCounters, selectEventCounts } from './event-counters';
import { type HeldUnits, heldUnitsOf, selectHeldUnits } from './validation-sessions';
import { prepare, type Sql, sql } from './sql';

/** The fields a validation needs about its subject, read in one D1 batch (one round trip). */
export interface ValidationSubject {
  /** null when the call carried no tracking id (a server-side call may not). */
  profile: TrackingProfileRow | null;
  customer: CustomerRow | null;
  events: Record<string, { count: number }>;
  /** Stored memberships (static, auto-update) of the customer. */
  memberOf: Set<string>;
  /** The live state of the vouchers asked about, by code: counters, and the version of their definition. */
  vouchers: Map<string, LiveVoucher>;
  /** The version of the segment definitions, read with the rest: the customer-write pipeline's cache key. */
  segmentsVersion: string;
  /**
   * The customer's earlier successful, not rolled back redemptions of each voucher asked about, by
   * voucher id and window (redemption.count.per_customer rules); absent: none (or no customer).
   */
  redemptionCounts: Map<string, RedemptionCounts>;
  /** Per product or SKU id, how many of the customer's counting orders hold it (customer_products, migration 0028). */
  products: Record<string, { count: number }>;
  /** A stack named (SubjectQuery.stackId): its tier ids in the stack's order; null when no such stack. */
  stackTierIds?: string[] | null;
  /**
   * Live holds of validation sessions other than the request's own (migration 0033), by voucher id;
   * absent: none. They count as taken units, and those judged for this customer as its redemptions.
   */
  held?: Map<string, HeldUnits>;
}

/**
 * A customer's counts of one voucher, from the visitor read (all 0 when it found none): its
 * redemptions, and the live holds of its other sessions, which would be redemptions made now.
 */
export const redemptionCountsOf = (subject: ValidationSubject, voucherId: string): RedemptionCounts => {
  const counts = subject.redemptionCounts.get(voucherId) ?? NO_REDEMPTIONS;
  const held = subject.held?.get(voucherId)?.byCustomer ?? 0;
  return held === 0 ? counts : { total: counts.total + held, monthly: counts.monthly + held, daily: counts.daily + held };
};

/** Units of a voucher held by other sessions' live holds: taken, for this request. */
export const heldUnits = (subject: ValidationSubject, voucherId: string): number => subject.held?.get(voucherId)?.held ?? 0;

export interface LiveVoucher {
  id: string;
  code: string;
  quantity: number | null;
  redeemed_quantity: number;
  active: number;
  /** 'PROMOTION_TIER' for a promotion tier (migration 0030). */
  type?: string;
  definition_version: string;
  /** Migration 0016: the customer the voucher was published to, read live (a publication does not change the definition). */
  holder_id: string | null;
}

export interface TrackingProfileRow {
  id: string;
  customer_id: string | null;
  identity_hmac: string | null;
  first_seen: number;
  last_seen: number;
  validations_count: number;
  codes: string;
}

/** What a validation's customer is looked up by (see subjectCustomerId). */
export interface SubjectKeys {
  customerId: string | null;
  sourceId: string | null;
  trackingId: string | null;
  identityHmac: string | null;
}

/**
 * The customer a validation is about: the one named in the request, by the kind it was named as
 * (a customer id matches ids only, a source id matches source ids only, so a source id that
 * happens to equal another customer's id never finds that customer), else the one the tracking
 * profile was linked to by a redemption, else one linked to another tracking profile with the
 * same identity hash (the same person on another device).
 */
export const subjectCustomerId = (k: SubjectKeys): Sql => sql`coalesce(
    (SELECT id FROM customers WHERE id = ${k.customerId}),
    (SELECT id FROM customers WHERE source_id = ${k.sourceId}),
    (SELECT customer_id FROM tracking_profiles WHERE id = ${k.trackingId}),
    (SELECT customer_id FROM tracking_profiles WHERE identity_hmac = ${k.identityHmac} AND customer_id IS NOT NULL LIMIT 1))`;

/** The customer a request names, by kind; at most one of the two is set by a checkout request. */
export interface CustomerRef {
  id: string | null;
  sourceId: string | null;
}

export interface SubjectQuery {
  trackingId: string | null;
  customerRef: CustomerRef;
  identityHmac: string | null;
  /** The codes of the request: their live state and definition version are read with the visitor. */
  codes: string[];
  /** Writes that go first in the same batch, so the reads see them (a customer sent with a server validate). */
  writes?: D1PreparedStatement[];
  /**
   * Instead of `codes`: the query of the vouchers to read live, chosen in SQL about the visitor
   * (given the SQL of the customer's id), so that a qualification reads its candidates and their
   * counters in this same batch (db/qualifications.ts). Its rows may carry more columns than
   * LiveVoucher; the customer's redemption counts then cover every voucher they redeemed.
   */
  liveVouchers?: (customer: Sql) => Sql;
  /**
   * Instead of `codes`: a promotion stack named at checkout. Its tiers are read live in the stack's
   * order, and the stack itself, in this same batch (db/promotion-stacks.ts), so a stack costs no
   * read of its own before the visitor's.
   */
  stackId?: string;
  /** The request's validation session: its own holds are not counted against it. */
  sessionKey?: string | null;
  /** When the request is judged: where the daily and monthly redemption windows start. */
  now: number;
}

/**
 * One batch that only reads (a replica may serve it), unless `writes` go first: the tracking
 * profile, the customer, event counts, memberships, the vouchers' live counters and the segments'
 * version. What a validate records goes through the queue (queue/messages.ts).
 */
export async function readValidationSubject(db: D1Database, q: SubjectQuery): Promise<ValidationSubject> {
  const subject = subjectCustomerId({
    customerId: q.customerRef.id,
    sourceId: q.customerRef.sourceId,
    trackingId: q.trackingId,
    identityHmac: q.identityHmac,
  });
  const windows = redemptionWindowStarts(q.now);
  const profileStatement = db.prepare('SELECT * FROM tracking_profiles WHERE id = ?').bind(q.trackingId);
  const statements: D1PreparedStatement[] = [
    profileStatement,
    prepare(db, sql`SELECT * FROM customers WHERE id = ${subject}`),
    // The customer's event counters and the tracking profile's not yet merged into it.
    selectEventCounts(db, [subject, q.trackingId]),
    // Every stored membership: which segments matter is known only once the definitions are, and
    // those are read by the version this batch returns.
    prepare(db, sql`SELECT segment_id FROM segment_members WHERE customer_id = ${subject}`),
    q.liveVouchers
      ? prepare(db, q.liveVouchers(subject))
      : q.stackId !== undefined
        ? selectStackLiveVouchers(db, q.stackId)
        : selectLiveVouchers(db, q.codes),
    selectSegmentsVersion(db),
    // The customer's redemptions of these vouchers, for the per-customer rules: in this same batch,
    // so the limits cost validate no round trip of their own.
    prepare(
      db,
      sql`SELECT r.voucher_id, count(*) AS total, sum(r.created_at >= ${windows.monthly}) AS monthly, sum(r.created_at >= ${windows.daily}) AS daily
         FROM redemptions r
         WHERE r.customer_id = ${subject}
           AND ${
             q.liveVouchers
               ? sql.raw('1')
               : q.stackId !== undefined
                 ? sql`r.voucher_id IN (SELECT tier_id FROM promotion_stack_tiers WHERE stack_id = ${q.stackId})`
                 : sql`r.voucher_id IN (SELECT v.id FROM vouchers v WHERE v.code IN (SELECT value FROM json_each(${JSON.stringify(q.codes)})))`
           }
           AND r.object = 'redemption' AND r.result = 'SUCCESS' AND r.status = 'SUCCEEDED'
         GROUP BY r.voucher_id`,
    ),
    // What the customer bought, for filters on orders.products.<id>.count.
    prepare(db, sql`SELECT product, orders FROM customer_products WHERE customer_id = ${subject}`),
    // Live holds of validation sessions on these vouchers: in this same batch, so a validate
    // without a session costs no round trip more for them.
    selectHeldUnits(db, {
      vouchers: q.liveVouchers
        ? null
        : q.stackId !== undefined
          ? sql`SELECT tier_id FROM promotion_stack_tiers WHERE stack_id = ${q.stackId}`
          : sql`SELECT v.id FROM vouchers v WHERE v.code IN (SELECT value FROM json_each(${JSON.stringify(q.codes)}))`,
      customer: subject,
      ownKey: q.sessionKey ?? null,
      now: q.now,
    }),
    ...(q.stackId !== undefined ? [selectStackExists(db, q.stackId)] : []),
  ];
  const writes = q.writes ?? [];
  const results = await db.batch<Record<string, unknown>>([...writes, ...statements]);
  const [profile, customer, events, members, vouchers, version, counts, products, held, stack] = results.slice(writes.length);
  const liveVouchers = (vouchers?.results ?? []) as unknown as LiveVoucher[];
  return {
    profile: (profile?.results[0] as unknown as TrackingProfileRow | undefined) ?? null,
    customer: (customer?.results[0] as unknown as CustomerRow | undefined) ?? null,
    events: eventCountsOf(events),
    memberOf: new Set((members?.results ?? []).map((r) => String(r.segment_id))),
    vouchers: new Map(liveVouchers.map((v) => [v.code, v])),
    segmentsVersion: segmentsVersionOf(version),
    redemptionCounts: new Map(
      (counts?.results ?? []).map((r) => [
        String(r.voucher_id),
        { total: Number(r.total), monthly: Number(r.monthly), daily: Number(r.daily) },
      ]),
    ),
    products: Object.fromEntries((products?.results ?? []).map((r) => [String(r.product), { count: Number(r.orders) }])),
    held: heldUnitsOf(held),
    // The stack's tiers in its order (the live rows come ordered by position); null: no such stack.
    ...(q.stackId !== undefined ? { stackTierIds: stack?.results.length ? liveVouchers.map((v) => v.code) : null } : {}),
  };
}

/** Notes a visit of a tracking id, creating its profile on first sight. */
export function touchTrackingProfile(db: D1Database, id: string, now: number): D1PreparedStatement {
  return prepare(
    db,
    sql`INSERT INTO tracking_profiles (id, first_seen, last_seen) VALUES (${id}, ${now}, ${now})
       ON CONFLICT (id) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)`,
  );
}

/** When each of these tracking profiles was last linked to its customer (queue consumer: late anonymous events). */
export async function profileLinks(db: D1Database, ids: string[]): Promise<Map<string, { customer_id: string; linked_at: number }>> {
  if (ids.length === 0) return new Map();
  const { results } = await db
    .prepare(
      'SELECT id, customer_id, linked_at FROM tracking_profiles WHERE id IN (SELECT value FROM json_each(?)) AND customer_id IS NOT NULL AND linked_at IS NOT NULL',
    )
    .bind(JSON.stringify(ids))
    .all<{ id: string; customer_id: string; linked_at: number }>();
  return new Map(results.map((r) => [r.id, { customer_id: r.customer_id, linked_at: r.linked_at }]));
}

export function findTrackingProfile(db: D1Database, id: string): Promise<TrackingProfileRow | null> {
  return db.prepare('SELECT * FROM tracking_profiles WHERE id = ?').bind(id).first<TrackingProfileRow>();
}

/**
 * Links the tracking profile to the customer selected by `customerSql` (creating the profile if it
 * was never seen) and moves its events, event counters and validations onto the customer. The
 * trigger of migration 0003 aborts the batch when the profile already belongs to another customer.
 * The raw events move for the activity feed; the counters are merged rather than recounted from
 * them, because retention may have deleted raw events the counters still hold.
 */
export function linkAndMerge(db: D1Database, trackingId: string, customer: Sql, now: number): D1PreparedStatement[] {
  const customerId = sql`(SELECT c.id FROM customers c WHERE ${customer} LIMIT 1)`;
  return [
    prepare(
      db,
      sql`INSERT INTO tracking_profiles (id, customer_id, first_seen, last_seen, linked_at) VALUES (${trackingId}, ${customerId}, ${now}, ${now}, ${now})
          ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id, last_seen = max(last_seen, excluded.last_seen), linked_at = excluded.linked_at`,
    ),
    prepare(db, sql`UPDATE events SET profile_id = ${customerId} WHERE profile_id = ${trackingId}`),
    ...mergeEventCounters(db, trackingId, customerId),
    prepare(db, sql`UPDATE validations SET customer_id = ${customerId} WHERE tracking_id = ${trackingId} AND customer_id IS NULL`),
  ];
}
