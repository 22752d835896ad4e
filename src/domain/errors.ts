// One domain error for the whole product. Rooms throw it; each protocol edge renders it in its own
// shape (Graph: {error:{code,message,innerError}}, OAuth: {error,error_description}).

export type ErrorKind =
  | 'badRequest'
  | 'unauthenticated'
  | 'forbidden'
  | 'notFound'
  | 'conflict'
  | 'preconditionFailed'
  | 'tooLarge'
  | 'unsupportedMediaType'
  | 'notImplemented'
  | 'tooManyRequests'
  | 'internal';

export interface ErrorDetail {
  code: string;
  message: string;
  target?: string;
}

export class DomainError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly details?: ErrorDetail[];

  constructor(kind: ErrorKind, code: string, message: string, details?: ErrorDetail[]) {
    super(message);
    this.name = 'DomainError';
    this.kind = kind;
    this.code = code;
    if (details) this.details = details;
  }
}

export const isDomainError = (e: unknown): e is DomainError => e instanceof DomainError;

// Graph's own codes and messages, used across rooms so the wording stays the same everywhere.
export const errors = {
  badRequest: (message: string, code = 'Request_BadRequest') => new DomainError('badRequest', code, message),
  unsupportedQuery: (message: string) => new DomainError('badRequest', 'Request_UnsupportedQuery', message),
  notFound: (id: string) =>
    new DomainError(
      'notFound',
      'Request_ResourceNotFound',
      `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
    ),
  denied: () =>
    new DomainError('forbidden', 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.'),
  conflict: (property: string) =>
    new DomainError(
      'conflict',
      'Request_MultipleObjectsWithSameKeyValue',
      `Another object with the same value for property ${property} already exists.`,
    ),
  unauthenticated: (message: string) => new DomainError('unauthenticated', 'InvalidAuthenticationToken', message),
  /** Graph's 400 for a unique property already held by another object (a create or an update). */
  sameKeyValue: (property: string) =>
    new DomainError(
      'badRequest',
      'Request_MultipleObjectsWithSameKeyValue',
      `Another object with the same value for property ${property} already exists.`,
      [{ code: 'ObjectConflict', message: property, target: property }],
    ),
  /** Graph's 400 for adding a reference (a member) that is already there. */
  referenceExists: (property: string) =>
    errors.badRequest(`One or more added object references already exist for the following modified properties: '${property}'.`),
};
