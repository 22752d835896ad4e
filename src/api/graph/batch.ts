// POST /$batch (JSON batching): up to 20 requests, each run through this same app as the batch's caller,
// in request order unless `dependsOn` says otherwise. A request whose dependency failed is answered 424
// without running. Requests run one at a time: simple, deterministic, and the same outcome Graph gives
// when the requests don't interfere.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DomainError } from '../../domain/errors.js';
import type { GraphContext } from './index.js';

/** Graph's bound on requests per batch. */
export const MAX_BATCH_REQUESTS = 20;

const invalid = (detail: string) => new DomainError('badRequest', 'BadRequest', `Invalid batch payload format. ${detail}`);

const batchSchema = z.object({
  requests: z.array(z.object({
    id: z.string().min(1).max(256),
    method: z.string().transform((m) => m.toUpperCase()).pipe(z.enum(['GET', 'POST', 'PATCH', 'PUT', 'DELETE'])),
    url: z.string().min(1).max(8192),
    headers: z.record(z.string(), z.string()).optional(),
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

/** The request's path under this API version. The version prefix the Graph JS SDK 3.0.7 leaves in is tolerated. */
function pathOf(r: BatchRequest, version: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(r.url)) throw invalid(`Request '${r.id}' has an absolute URL; use a URL relative to /${version}, e.g. '/users'.`);
  let path = r.url.startsWith('/') ? r.url : `/${r.url}`;
  if (path.toLowerCase().startsWith(`/${version.toLowerCase()}/`)) path = path.slice(version.length + 1);
  if (/^\/\$batch(?:[/?]|$)/i.test(path)) throw invalid(`Request '${r.id}' is a batch; batches can't be nested.`);
  return path;
}

const failedDependency = (id: string, dep: string): BatchResponse => ({
  id, status: 424, headers: { 'Content-Type': 'application/json' },
  body: { error: { code: 'FailedDependency', message: `The request depends on request '${dep}', which failed.` } },
});

// Per-request headers never replace who the caller is or how the transport frames the request.
const reservedHeaders = new Set(['authorization', 'host', 'content-length', 'transfer-encoding', 'connection']);

export function batchRoutes(ctx: GraphContext) {
  return async (app: FastifyInstance) => {
    app.post('/$batch', async (req: FastifyRequest) => {
      const requests = parseBatch(req.body);
      const paths = new Map(requests.map((r) => [r.id, pathOf(r, ctx.version)]));
      const outerOrigin = `${req.protocol}://${req.host}`;
      // Injected requests have no TLS socket, so the absolute links they render say http://; put the
      // caller's origin back on the few places links appear (context, paging links, Location).
      const innerOrigin = `http://${req.host}`;
      const fixOrigin = (s: string) => (s.startsWith(`${innerOrigin}/`) ? outerOrigin + s.slice(innerOrigin.length) : s);

      const results = new Map<string, BatchResponse>();
      const run = async (r: BatchRequest): Promise<BatchResponse> => {
        const failed = (r.dependsOn ?? []).find((d) => (results.get(d)?.status ?? 0) >= 400);
        if (failed) return failedDependency(r.id, failed);
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(r.headers ?? {})) if (!reservedHeaders.has(k.toLowerCase())) headers[k.toLowerCase()] = v;
        if (req.headers.authorization) headers.authorization = req.headers.authorization;
        headers.host = req.host;
        let payload: string | undefined;
        if (r.body !== undefined && r.method !== 'GET' && r.method !== 'DELETE') {
          payload = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
          headers['content-type'] ??= 'application/json';
        }
        const res = await app.inject({ method: r.method, url: `/${ctx.version}${paths.get(r.id)}`, headers, ...(payload !== undefined ? { payload } : {}) });
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
