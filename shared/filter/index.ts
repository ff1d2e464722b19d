/** @module Segment filters: parse once, then evaluate one profile or compile SQL for many. */

export type { Condition, FieldFilter, FilterAst, Junction, Scalar } from './ast';
export { FilterError, type FilterErrorCode } from './errors';
export { evaluate, explainFilter, type FilterProfile } from './evaluate';
export { EVENT_NAME_PATTERN, type Field, type FieldKind } from './fields';
export { MAX_CONDITIONS, MAX_STRING_LENGTH, MAX_VALUES, OPERATORS, type Operator } from './operators';
export { parseFilter, writtenOperands } from './parse';
export { isTimeRelative } from './time-relative';
export { packParams } from './json-params';
export { compileSql, MAX_SQL_PARAMS, type Sql, type SqlValue } from './sql';
