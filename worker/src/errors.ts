import type { ApiErrorBody } from '../../shared/types';

type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 429 | 500;

/**
 * The one error type of the service. Whatever throws it, the app's onError turns it into the
 * Voucherify error object ({code, key, message, details, request_id, resource_id?, resource_type?}).
 */
export class ApiError extends Error {
  constructor(
    readonly status: ErrorStatus,
    readonly key: string,
    message: string,
    readonly details?: string,
    readonly resource?: { id: string; type: string },
    /** A custom (validation-rule) message, answered as error.message beside the generic one (ERR line 113). */
    readonly customMessage?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toBody(requestId: string): ApiErrorBody {
    const body: ApiErrorBody = { code: this.status, key: this.key, message: this.message, request_id: requestId };
    if (this.details !== undefined) body.details = this.details;
    if (this.resource) {
      body.resource_id = this.resource.id;
      body.resource_type = this.resource.type;
    }
    if (this.customMessage !== undefined) body.error = { message: this.customMessage };
    return body;
  }
}

/**
 * Every error key this service answers with, its status and its generic message: the error
 * documentation of the wire contract in one place. The keys and messages are Voucherify's where it
 * has them (errors.mdx, the OA examples); the refusals of a voucher (voucher_expired, …) are the
 * validation's own catalogue (services/validation.ts), since their message is their reason.
 */
export const ERRORS = {
  invalid_payload: [400, 'Invalid payload'],
  invalid_query_params: [400, 'Invalid query params'],
  invalid_export_params: [400, 'Invalid export params'],
  invalid_export_fields: [400, 'Invalid export fields'],
  missing_customer: [400, 'Missing customer'],
  not_enough_source_ids: [400, 'Not enough source_ids'],
  limit_exceeded: [400, 'Limit exceeded'],
  already_rolled_back: [400, 'Already rolled back'],
  invalid_redemption: [400, 'Invalid redemption'],
  invalid_redemption_parent: [400, 'Invalid redemption parent'],
  invalid_customer: [400, 'Invalid customer'],
  invalid_rollback_params: [400, 'Invalid rollback'],
  ambiguous_tracking_id: [400, 'Ambiguous tracking id'],
  // OA24 POST /v1/publications 400 examples (OpenAPI24.json:L66933).
  no_voucher_suitable_for_publication: [400, "Couldn't find any voucher suitable for publication"],
  voucher_already_published: [400, 'Voucher already published'],
  unauthorized: [401, 'Unauthorized'],
  forbidden: [403, 'Forbidden'],
  not_found: [404, 'Resource not found'],
  // errors.mdx:L12-L14, L39: a known path asked with a method it does not serve.
  method_not_allowed: [405, 'HTTP Method Not Allowed'],
  duplicate_found: [409, 'Duplicated resource found'],
  duplicate_source_id: [409, 'Duplicate source_id'],
  idempotency_key_conflict: [409, 'Idempotency key conflict'],
  voucher_changed: [409, 'Voucher changed'],
  // Our webhooks API (no Voucherify counterpart): a state that refuses the request.
  webhook_disabled: [409, 'Webhook disabled'],
  delivery_not_retryable: [409, 'Delivery not retryable'],
  request_too_large: [413, 'Request too large'],
  unsupported_media_type: [415, 'Unsupported media type'],
  too_many_requests: [429, 'Too many requests hit the API too quickly.'],
  internal_error: [500, 'Internal Server Error'],
} as const satisfies Record<string, readonly [ErrorStatus, string]>;
export type ErrorKey = keyof typeof ERRORS;

/** An error of the catalogue: its status and generic message come with the key. */
export function apiError(key: ErrorKey, details?: string, resource?: { id: string; type: string }, customMessage?: string): ApiError {
  const [status, message] = ERRORS[key];
  return new ApiError(status, key, message, details, resource, customMessage);
}

export const invalidPayload = (details: string): ApiError => apiError('invalid_payload', details);

export const invalidQueryParams = (details: string): ApiError => apiError('invalid_query_params', details);

export const notFound = (resourceType: string, id: string): ApiError =>
  apiError('not_found', `Cannot find ${resourceType} with id ${id}`, { id, type: resourceType });

export const unauthorized = (): ApiError => apiError('unauthorized');

export const requestTooLarge = (maxBytes: number): ApiError =>
  apiError('request_too_large', `The request body must be at most ${maxBytes} bytes.`);

export const internalError = (): ApiError =>
  apiError('internal_error', 'An unexpected error occurred; quote the request_id when reporting it.');
