/** @module The parsed, validated form of a segment filter that both back ends consume. */

import type { Field } from './fields';
import type { Operator } from './operators';

export type Junction = 'and' | 'or';

/** One operand value. Which types occur depends on the operator (see `ValueClass` in operators.ts). */
export type Scalar = string | number | boolean;

/** One operator of a field's `conditions`, with its operand normalised to an array. */
export interface Condition {
  readonly op: Operator;
  readonly values: readonly Scalar[];
}

/** One field entry of the filter; its conditions must all hold. */
export interface FieldFilter {
  readonly field: Field;
  readonly conditions: readonly Condition[];
}

export interface FilterAst {
  readonly junction: Junction;
  readonly fields: readonly FieldFilter[];
}
