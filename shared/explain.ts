/**
 * @module Why a decision came out as it did: the trace of one segment filter or one validation,
 * as a tree. Our addition to the wire (server key only; the client key never gets one).
 *
 * Every node says what was tested and whether it passed; inner nodes say how their children were
 * combined (`logic`). The trace is produced by the same walk that decides (shared/filter/evaluate.ts,
 * shared/rules), so a root's `passed` is the decision itself, never a second opinion.
 */

export type ExplainKind =
  /** A whole segment filter; `logic` is its junction (`and` / `or`). */
  | 'filter'
  /** One field entry of a filter; its conditions must all hold (`logic: 'and'`). */
  | 'field'
  /** One operator of a field, or one condition of a validation rule. */
  | 'condition'
  /** A validation rule set; `logic` is its rule logic (`(1 and 2) or 3`). */
  | 'rules'
  /** One rule of a rule set. */
  | 'rule'
  /** A segment named by a rule (customer.segment): its own trace, or stored membership. */
  | 'segment'
  /** Any other check a validation makes (active, dates, quantity, limits, amounts). */
  | 'check'
  /** A whole validation of one voucher (the root of a validate's explanation). */
  | 'validation';

export interface ExplainNode {
  kind: ExplainKind;
  /** What was tested, for a person: `metadata.tier`, `start_date`, `rule 2`. */
  label: string;
  passed: boolean;
  /** The field path a condition read (`summary.orders.total_amount`, `events.viewed.count`). */
  field?: string;
  /** The operator as written in the filter or rule (`$is`, `$more_than`, `$in`). */
  operator?: string;
  /** The operand(s) the condition compared with, as written. */
  expected?: unknown;
  /** The value actually read from the profile, order or voucher (null when missing). */
  actual?: unknown;
  /** How the children were combined: `and`, `or`, or a rule logic expression. */
  logic?: string;
  /** Why, in words, when the node is a refusal (`voucher expired`, `not a member since 2026-01-02`). */
  detail?: string;
  children?: ExplainNode[];
}
