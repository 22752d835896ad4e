// Rendering the one domain error per protocol. Graph: {error:{code,message,innerError}}; OAuth:
// {error,error_description,error_codes,…}. Framework errors (bad JSON, body too large, wrong media type)
// become domain errors first, so a client never sees Fastify's own shape or a 5xx for bad input.
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, type ErrorKind, isDomainError } from '../domain/errors.js';

export const statusOf: Record<ErrorKind, number> = {
  badRequest: 400,
  unauthenticated: 401,
  forbidden: 403,
  notFound: 404,
  conflict: 409,
  preconditionFailed: 412,
  tooLarge: 413,
  unsupportedMediaType: 415,
  tooManyRequests: 429,
  notImplemented: 501,
  internal: 500,
};

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message?: string;
  validation?: unknown;
}

/** Turns anything thrown into a DomainError; unknown errors become `internal` (and are logged by the caller). */
export function toDomainError(e: unknown): DomainError {
  if (isDomainError(e)) return e;
  const f = e as FastifyLikeError;
  switch (f?.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new DomainError('badRequest', 'BadRequest', 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new DomainError('tooLarge', 'Request_EntityTooLarge', 'The request body is larger than the 4 MB this API accepts.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new DomainError('unsupportedMediaType', 'UnsupportedMediaType', 'The content type of the request is not supported; send application/json.');
  }
  if (f?.statusCode && f.statusCode >= 400 && f.statusCode < 500) {
    return new DomainError('badRequest', 'BadRequest', f.message ?? 'Bad request.');
  }
  return new DomainError('internal', 'InternalServerError', 'An internal server error occurred.');
}

export function requestIds(req: FastifyRequest) {
  const client = req.headers['client-request-id'];
  return { requestId: String(req.id), clientRequestId: typeof client === 'string' ? client : randomUUID() };
}

export function graphErrorBody(e: DomainError, req: FastifyRequest) {
  const { requestId, clientRequestId } = requestIds(req);
  return {
    error: {
      code: e.code,
      message: e.message,
      ...(e.details ? { details: e.details } : {}),
      innerError: { date: new Date().toISOString().replace(/\.\d+Z$/, ''), 'request-id': requestId, 'client-request-id': clientRequestId },
    },
  };
}

export function sendGraphError(e: unknown, req: FastifyRequest, reply: FastifyReply) {
  const err = toDomainError(e);
  if (err.kind === 'internal') req.log.error({ err: e }, 'unhandled error');
  const status = statusOf[err.kind];
  if (status === 401) reply.header('WWW-Authenticate', 'Bearer realm="", authorization_uri="", error="invalid_token"');
  return reply.status(status).type('application/json').send(graphErrorBody(err, req));
}

export function sendOAuthError(e: unknown, req: FastifyRequest, reply: FastifyReply) {
  const err = toDomainError(e);
  if (err.kind === 'internal') req.log.error({ err: e }, 'unhandled error');
  const { requestId, clientRequestId } = requestIds(req);
  const aadsts = /^AADSTS(\d+)/.exec(err.message)?.[1];
  const code = err.kind === 'internal' ? 'server_error' : err.code.includes('_') && err.code === err.code.toLowerCase() ? err.code : 'invalid_request';
  return reply.status(statusOf[err.kind]).send({
    error: code,
    error_description: err.message,
    error_codes: aadsts ? [Number(aadsts)] : [],
    timestamp: new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
    trace_id: requestId,
    correlation_id: clientRequestId,
  });
}
