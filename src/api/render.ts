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

// A client's own correlation id is echoed only when it is short printable ASCII: it goes back out in a
// header, and a header value Node refuses would turn any answer into a failure.
const echoable = /^[\x21-\x7e]{1,128}$/;

/**
 * The ids Graph puts on every answer: `request-id` is ours (one per request, also in the log line of a
 * failure); `client-request-id` echoes the client's when it sent one, else repeats ours, as Graph does.
 */
export function requestIds(req: FastifyRequest) {
  const client = req.headers['client-request-id'];
  const requestId = String(req.id);
  return { requestId, clientRequestId: typeof client === 'string' && echoable.test(client) ? client : requestId };
}

/** Sets `request-id` and `client-request-id` on a reply (idempotent; error paths call it too). */
export function setRequestIdHeaders(req: FastifyRequest, reply: FastifyReply): void {
  const { requestId, clientRequestId } = requestIds(req);
  reply.header('request-id', requestId).header('client-request-id', clientRequestId);
}

/** The OAuth endpoints (`/{tenant}/oauth2/…`) answer errors in OAuth's shape; everything else in Graph's. */
export const isOAuthPath = (url: string) => /^\/[^/?#]*\/oauth2\//.test(url);

/** Any error, rendered in the shape of the surface the request addressed. */
export function sendError(e: unknown, req: FastifyRequest, reply: FastifyReply, status?: number) {
  return isOAuthPath(req.url) ? sendOAuthError(e, req, reply, status) : sendGraphError(e, req, reply, status);
}

/**
 * Every 5xx is logged with its request id and stack, whatever the log level; 4xx are the client's and
 * not logged. The request serializer (app.ts) logs method and path only, never headers or the query.
 */
function logFailure(req: FastifyRequest, e: unknown) {
  req.log.error({ err: e, requestId: String(req.id) }, 'request failed');
}

/**
 * Errors raised by Node's HTTP parser before any request exists (oversized URL or headers: 431; a
 * malformed request line or header: 400), written straight to the socket in Graph's shape. The path is
 * unknown at that point, so the OAuth endpoints get Graph's shape here too.
 */
export function clientErrorResponse(err: { code?: string }): string {
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const reason = tooLarge ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request';
  const id = randomUUID();
  const body = JSON.stringify({
    error: {
      code: tooLarge ? 'Request_HeaderFieldsTooLarge' : status === 408 ? 'RequestTimeout' : 'BadRequest',
      message: tooLarge
        ? 'The request URL and headers are larger than this server accepts (16 KB).'
        : status === 408 ? 'The request was not received in time.' : 'The request is not valid HTTP.',
      innerError: { date: graphDate(), 'request-id': id, 'client-request-id': id },
    },
  });
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nrequest-id: ${id}\r\nclient-request-id: ${id}\r\nConnection: close\r\n\r\n${body}`;
}

const graphDate = () => new Date().toISOString().replace(/\.\d+Z$/, '');

export function graphErrorBody(e: DomainError, req: FastifyRequest) {
  const { requestId, clientRequestId } = requestIds(req);
  return {
    error: {
      code: e.code,
      message: e.message,
      ...(e.details ? { details: e.details } : {}),
      innerError: { date: graphDate(), 'request-id': requestId, 'client-request-id': clientRequestId },
    },
  };
}

/** `status` overrides the kind's status where HTTP has a closer one (405 for a known path, other method). */
export function sendGraphError(e: unknown, req: FastifyRequest, reply: FastifyReply, statusOverride?: number) {
  const err = toDomainError(e);
  if (err.kind === 'internal') logFailure(req, e);
  const status = statusOverride ?? statusOf[err.kind];
  setRequestIdHeaders(req, reply);
  if (status === 401) reply.header('WWW-Authenticate', 'Bearer realm="", authorization_uri="", error="invalid_token"');
  return reply.status(status).type('application/json').send(graphErrorBody(err, req));
}

export function sendOAuthError(e: unknown, req: FastifyRequest, reply: FastifyReply, statusOverride?: number) {
  const err = toDomainError(e);
  if (err.kind === 'internal') logFailure(req, e);
  setRequestIdHeaders(req, reply);
  const { requestId, clientRequestId } = requestIds(req);
  const aadsts = /^AADSTS(\d+)/.exec(err.message)?.[1];
  const code = err.kind === 'internal' ? 'server_error' : err.code.includes('_') && err.code === err.code.toLowerCase() ? err.code : 'invalid_request';
  return reply.status(statusOverride ?? statusOf[err.kind]).type('application/json').send({
    error: code,
    error_description: err.message,
    error_codes: aadsts ? [Number(aadsts)] : [],
    timestamp: new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
    trace_id: requestId,
    correlation_id: clientRequestId,
  });
}
