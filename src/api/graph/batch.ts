// POST /$batch (JSON batching): up to 20 requests, each run through this same app as the batch's caller,
// in request order unless `dependsOn` says otherwise. A request whose dependency failed is answered 424
// without running. Requests run one at a time: simple, deterministic, and the same outcome Graph gives
// when the requests don't interfere.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DomainError } from '../../domain/errors.js';
import type { GraphContext } from './index.js';

/** Graph's bound on requests per batch. */
export const MAX_BATCH_REQUESTS = 20;

/**
 * Bound on the bodies of a batch's answers together. 20 list pages of 999 users fit (about 20 MB);
 * past the bound the remaining requests are not run and each is answered 413, so one request can't
 * make the server hold hundreds of MB. Inner requests can't be batches (pathOf, and the marker below).
 */
export const MAX_BATCH_RESPONSE_BYTES = 32 * 1024 * 1024;

/**
 * Inner requests carry this header with a per-process secret value: a `$batch` reached by any path
 * spelling is refused when it is present, so nesting is refused even where path checks would miss.
 */
const INNER_HEADER = 'x-openmto-batch-inner';
const innerMarker = randomBytes(16).toString('hex');

// Header names are RFC 9110 tokens; values printable, no CR/LF/NUL (they are replayed through inject).
const headerName = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;
const headerValue = /^[\t\x20-\x7e\x80-\xff]{0,8192}$/;
// A relative URL as a client writes it: printable ASCII without spaces (encoded, as on the wire).
const urlText = /^[\x21-\x7e]+$/;

const invalid = (detail: string) => new DomainError('badRequest', 'BadRequest', `Invalid batch payload format. ${detail}`);

const batchSchema = z.object({
  requests: z.array(z.object({
    id: z.string().min(1).max(256),
    method: z.string().transform((m) => m.toUpperCase()).pipe(z.enum(['GET', 'POST', 'PATCH', 'PUT', 'DELETE'])),
    url: z.string().min(1).max(8192).regex(urlText, 'must be a relative URL without spaces or control characters'),
    headers: z.record(z.string().regex(headerName), z.string().regex(headerValue)).optional(),
    body: z.unknown().optional(),
    dependsOn: z.array(z.string()).max(MAX_BATCH_REQUESTS).optional(),
  })),
});
type BatchRequest = z.infer<typeof batchSchema>['requests'][number];

export interface BatchResponse {
  id: string;
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

function parseBatch(body: unknown): BatchRequest[] {
  const parsed = batchSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(`${issue?.path.join('.') || 'body'}: ${issue?.message}`);
  }
  const requests = parsed.data.requests;
  if (requests.length === 0) throw invalid('The batch contains no requests.');
  if (requests.length > MAX_BATCH_REQUESTS) {
    throw new DomainError('badRequest', 'BadRequest', `A batch can contain at most ${MAX_BATCH_REQUESTS} requests; this one has ${requests.length}.`);
  }
  const ids = new Set<string>();
  for (const r of requests) {
    if (ids.has(r.id)) throw invalid(`Request id '${r.id}' is used more than once; ids must be unique within a batch.`);
    ids.add(r.id);
  }
  for (const r of requests) {
    for (const d of r.dependsOn ?? []) {
      if (!ids.has(d) || d === r.id) throw invalid(`Request '${r.id}' depends on '${d}', which is not another request of this batch.`);
    }
  }
  // A cycle would leave requests that can never run: refuse the batch up front.
  const state = new Map<string, 'visiting' | 'done'>();
  const byId = new Map(requests.map((r) => [r.id, r]));
  const visit = (id: string) => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') throw invalid(`The dependsOn chain through '${id}' is circular.`);
    state.set(id, 'visiting');
    for (const d of byId.get(id)?.dependsOn ?? []) visit(d);
    state.set(id, 'done');
  };
  for (const r of requests) visit(r.id);
  return requests;
}

/**
 * A path with its dot segments resolved and empty segments dropped, compared as the router reads it
 * (percent-decoded where that is safe): `/./$batch`, `/users/../$batch` and `/%24batch` are `/$batch`.
 */
export function normalizePath(path: string): string {
  const out: string[] = [];
  for (const raw of path.split('/')) {
    let seg = raw;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      // undecodable: compared as written
    }
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return `/${out.join('/')}`;
}

/** The request's path under this API version. The version prefix the Graph JS SDK 3.0.7 leaves in is tolerated. */
function pathOf(r: BatchRequest, version: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(r.url) || r.url.startsWith('//')) {
    throw invalid(`Request '${r.id}' has an absolute URL; use a URL relative to /${version}, e.g. '/users'.`);
  }
  const q = r.url.search(/[?#]/);
  const rawPath = q < 0 ? r.url : r.url.slice(0, q);
  const query = q < 0 ? '' : r.url.slice(q).replace(/#.*$/, '');
  let path = normalizePath(rawPath);
  if (path.toLowerCase() === `/${version.toLowerCase()}` || path.toLowerCase().startsWith(`/${version.toLowerCase()}/`)) {
    path = path.slice(version.length + 1) || '/';
  }
  if (path.toLowerCase() === '/$batch') throw invalid(`Request '${r.id}' is a batch; batches can't be nested.`);
  // Segments are re-encoded as the router decodes them; the query stays as the client encoded it.
  const encoded = path.split('/').map((s) => encodeURIComponent(s).replace(/%24/g, '$').replace(/%40/g, '@').replace(/%3A/gi, ':').replace(/%27/g, "'").replace(/%3D/gi, '=').replace(/%2C/gi, ','));
  return `${encoded.join('/')}${query}`;
}

const failedDependency = (id: string, dep: string): BatchResponse => ({
  id, status: 424, headers: { 'Content-Type': 'application/json' },
  body: { error: { code: 'FailedDependency', message: `The request depends on request '${dep}', which failed.` } },
});

const responseTooLarge = (id: string): BatchResponse => ({
  id, status: 413, headers: { 'Content-Type': 'application/json' },
  body: { error: { code: 'ResponseTooLarge', message: `The batch's earlier responses reached ${MAX_BATCH_RESPONSE_BYTES / 1024 / 1024} MB; this request was not run.` } },
});

// Per-request headers never replace who the caller is or how the transport frames the request.
const reservedHeaders = new Set(['authorization', 'host', 'content-length', 'transfer-encoding', 'connection', INNER_HEADER]);

export function batchRoutes(ctx: GraphContext) {
  return async (app: FastifyInstance) => {
    app.post('/$batch', async (req: FastifyRequest) => {
      if (req.headers[INNER_HEADER] === innerMarker) throw invalid("A batch can't contain another batch.");
      const requests = parseBatch(req.body);
      const paths = new Map(requests.map((r) => [r.id, pathOf(r, ctx.version)]));
      const outerOrigin = `${req.protocol}://${req.host}`;
      // Injected requests have no TLS socket, so the absolute links they render say http://; put the
      // caller's origin back on the few places links appear (context, paging links, Location).
      const innerOrigin = `http://${req.host}`;
      const fixOrigin = (s: string) => (s.startsWith(`${innerOrigin}/`) ? outerOrigin + s.slice(innerOrigin.length) : s);

      const results = new Map<string, BatchResponse>();
      let responseBytes = 0;
      const run = async (r: BatchRequest): Promise<BatchResponse> => {
        const failed = (r.dependsOn ?? []).find((d) => (results.get(d)?.status ?? 0) >= 400);
        if (failed) return failedDependency(r.id, failed);
        if (responseBytes > MAX_BATCH_RESPONSE_BYTES) return responseTooLarge(r.id);
        const headers: Record<string, string> = Object.create(null);
        for (const [k, v] of Object.entries(r.headers ?? {})) if (!reservedHeaders.has(k.toLowerCase())) headers[k.toLowerCase()] = v;
        if (req.headers.authorization) headers.authorization = req.headers.authorization;
        headers.host = req.host;
        headers[INNER_HEADER] = innerMarker;
        let payload: string | undefined;
        if (r.body !== undefined && r.method !== 'GET' && r.method !== 'DELETE') {
          payload = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
          headers['content-type'] ??= 'application/json';
        }
        const res = await app.inject({ method: r.method, url: `/${ctx.version}${paths.get(r.id)}`, headers, ...(payload !== undefined ? { payload } : {}) });
        responseBytes += res.rawPayload.length;
        const out: BatchResponse = { id: r.id, status: res.statusCode, headers: {} };
        const type = res.headers['content-type'];
        if (typeof type === 'string') out.headers['Content-Type'] = type;
        const location = res.headers.location;
        if (typeof location === 'string') out.headers.Location = fixOrigin(location);
        const retryAfter = res.headers['retry-after'];
        if (retryAfter !== undefined) out.headers['Retry-After'] = String(retryAfter);
        if (res.payload !== '') {
          if (typeof type === 'string' && type.startsWith('application/json')) {
            const json = JSON.parse(res.payload) as Record<string, unknown>;
            for (const k of ['@odata.context', '@odata.nextLink', '@odata.deltaLink']) {
              if (typeof json[k] === 'string') json[k] = fixOrigin(json[k]);
            }
            out.body = json;
          } else {
            out.body = res.payload;
          }
        }
        return out;
      };

      // Run in request order, each as soon as its dependencies have answered (the graph is acyclic).
      while (results.size < requests.length) {
        for (const r of requests) {
          if (results.has(r.id) || !(r.dependsOn ?? []).every((d) => results.has(d))) continue;
          results.set(r.id, await run(r));
        }
      }
      return { responses: requests.map((r) => results.get(r.id)) };
    });
  };
}
