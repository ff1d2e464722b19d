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

export const invalidPayload = (details: string): ApiError =>
  new ApiError(400, 'invalid_payload', 'Invalid payload', details);

export const invalidQueryParams = (details: string): ApiError =>
  new ApiError(400, 'invalid_query_params', 'Invalid query params', details);

export const notFound = (resourceType: string, id: string): ApiError =>
  new ApiError(404, 'not_found', 'Resource not found', `Cannot find ${resourceType} with id ${id}`, {
    id,
    type: resourceType,
  });

export const unauthorized = (): ApiError => new ApiError(401, 'unauthorized', 'Unauthorized');

export const internalError = (): ApiError =>
  new ApiError(500, 'internal_error', 'Internal Server Error', 'An unexpected error occurred; quote the request_id when reporting it.');
