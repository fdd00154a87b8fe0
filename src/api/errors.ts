// Stripe-shaped errors. Every failure a client can see goes through StripeError so that the
// status, `type`, `code`, `param` and message match what Stripe sends and what the official
// SDKs map to their error classes (400/404 InvalidRequestError, 401 AuthenticationError,
// 402 CardError, 403 PermissionError, 409 idempotency, 429 RateLimitError, 5xx APIError).

export type StripeErrorType =
  | 'api_error'
  | 'card_error'
  | 'idempotency_error'
  | 'invalid_request_error';

export interface StripeErrorFields {
  type: StripeErrorType;
  message: string;
  code?: string;
  param?: string;
  decline_code?: string;
  doc_url?: string;
  charge?: string;
  payment_intent?: unknown;
  payment_method?: unknown;
  setup_intent?: unknown;
  request_log_url?: string;
}

export class StripeError extends Error {
  readonly status: number;
  readonly fields: StripeErrorFields;
  /** Extra response headers (e.g. Stripe-Should-Retry). */
  readonly headers: Record<string, string>;

  /**
   * The request's state changes commit even though it answers with this error (a declined
   * card: the failed Charge, the PaymentIntent's new status and their Events are kept).
   */
  commit = false;

  constructor(status: number, fields: StripeErrorFields, headers: Record<string, string> = {}) {
    super(fields.message);
    this.status = status;
    this.fields = fields;
    this.headers = headers;
  }

  /** Marks the error as committing the transaction it ends (see `commit`). */
  committing(): this {
    this.commit = true;
    return this;
  }

  /** The JSON body Stripe sends: `{ error: { … } }`, with `doc_url` derived from `code`. */
  body(requestId?: string): { error: Record<string, unknown> } {
    const e: Record<string, unknown> = { ...this.fields };
    if (e.code && !e.doc_url) e.doc_url = `https://stripe.com/docs/error-codes/${String(e.code).replace(/_/g, '-')}`;
    if (requestId) e.request_log_url = `https://dashboard.stripe.com/test/logs/${requestId}`;
    for (const k of Object.keys(e)) if (e[k] === undefined) delete e[k];
    return { error: e };
  }
}

export function invalidRequest(message: string, param?: string, code?: string, status = 400): StripeError {
  return new StripeError(status, { type: 'invalid_request_error', message, param, code });
}

export function missingParam(param: string): StripeError {
  return invalidRequest(`Missing required param: ${param}.`, param, 'parameter_missing');
}

export function unknownParam(param: string): StripeError {
  return invalidRequest(`Received unknown parameter: ${param}`, param, 'parameter_unknown');
}

/**
 * `No such customer: 'cus_x'` — resource_missing: 404 for the object in the URL, 400 for an
 * object a parameter refers to.
 */
export function noSuchResource(objectName: string, id: string, param = 'id'): StripeError {
  return invalidRequest(`No such ${objectName}: '${id}'`, param, 'resource_missing', param === 'id' ? 404 : 400);
}

export function authenticationError(message: string, status = 401): StripeError {
  return new StripeError(status, { type: 'invalid_request_error', message });
}

export function permissionError(message: string): StripeError {
  return new StripeError(403, { type: 'invalid_request_error', message });
}

export function apiError(message = 'An unknown error occurred'): StripeError {
  return new StripeError(500, { type: 'api_error', message });
}

export function idempotencyError(message: string, status = 400): StripeError {
  return new StripeError(status, { type: 'idempotency_error', message });
}
