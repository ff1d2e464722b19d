/** @module The one error type of the segment filter: bad input, with where it is and why. */

/** What kind of mistake a filter has; lets the API choose a message without parsing text. */
export type FilterErrorCode = 'bad_shape' | 'unknown_field' | 'unknown_operator' | 'bad_value' | 'too_large';

/**
 * A filter that cannot be accepted. `path` points into the submitted filter object, e.g.
 * `metadata.age.conditions.$in[2]`; it is `''` when the whole filter is at fault.
 */
export class FilterError extends Error {
  override readonly name = 'FilterError';
  readonly code: FilterErrorCode;
  readonly path: string;

  constructor(code: FilterErrorCode, path: string, message: string) {
    super(message);
    this.code = code;
    this.path = path;
  }
}
