// HTTP assembly: one Fastify instance serving the per-tenant identity endpoints, Microsoft Graph
// (v1.0 and beta) and the operator API, with every error rendered in its protocol's shape.
import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance, type FastifyRequest, LogController } from 'fastify';
import type { Clock } from '../domain/clock.js';
import { DomainError } from '../domain/errors.js';
import type { TokenService } from '../identity/tokens.js';
import type { Store } from '../store/store.js';
import { consoleFallback, consoleRoutes } from './console.js';
import { graphRoutes } from './graph/index.js';
import { identityRoutes } from './identity.js';
import { operatorRoutes } from './operator/index.js';
import { tenantApiRoutes } from './openmto/index.js';
import { registerOps } from './ops.js';
import { redeemRoutes } from './redeem.js';
import { nulRefused, parseFormBody, parseJsonBody } from './body.js';
import { clientErrorResponse, sendError, setRequestIdHeaders } from './render.js';
import { isWarmUp } from './warmup.js';

declare module 'fastify' {
  interface FastifyInstance {
    routeTable: readonly { method: string; url: string }[];
  }
}

export interface AppDeps {
  store: Store;
  clock: Clock;
  tokens: TokenService;
  /** scrypt hash of the operator key; the operator API is off without it. */
  operatorKeyHash?: string;
  /** Background work (MTO transitions, sync) is woken through this after commits. */
  hooks?: AppHooks;
}

export interface AppHooks {
  /** Called after a committed change that background workers may want to act on. */
  wake?: (topic: string, tenantId: string) => void;
}

export interface AppOptions {
  https?: { key: string; cert: string };
  logger?: boolean;
  /** Where log lines go (default stdout); tests read the error log from here. */
  logStream?: NodeJS.WritableStream;
  /** Behind a reverse proxy: trust its X-Forwarded-For (true, or the proxies' addresses), so per-address lockouts see clients. */
  trustProxy?: boolean | string;
}

/** A route URL (`/v1.0/users/:id`) as a regex over request paths. */
const routePattern = (url: string) =>
  new RegExp(`^${url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[^/]+/g, '[^/]+')}/?$`);

// Graph caps request bodies at 4 MB; a larger body is refused before it is parsed.
const BODY_LIMIT = 4 * 1024 * 1024;

export async function buildApp(deps: AppDeps, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.https ? { https: options.https } : {}),
    bodyLimit: BODY_LIMIT,
    trustProxy: options.trustProxy ?? false,
    // Always a logger: without one a 5xx would leave no trace. By default it logs errors only (every 5xx,
    // with its request id and stack, render.ts); `logger: true` adds a line per request.
    logger: {
      level: options.logger ? 'info' : 'error',
      ...(options.logStream ? { stream: options.logStream } : {}),
      redact: ['req.headers.authorization', 'req.headers.cookie'],
      // Query strings can carry secrets (redemption tickets, delta/skip tokens); log the path only.
      serializers: {
        req: (req: { method: string; url: string; id: string }) => ({ id: req.id, method: req.method, path: req.url.split('?')[0] }),
      },
    },
    // Graph paths carry `$` segments and UPNs with '@'; keep them as written.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1024 },
    genReqId: () => crypto.randomUUID(),
    // The start's synthetic people searches (warmup.ts) leave no log lines.
    logController: new LogController({ disableRequestLogging: (req: FastifyRequest) => isWarmUp(req) }),
    // Undecodable URLs are refused by the router before any handler; render them as Graph errors too.
    frameworkErrors: (error, req, reply) => sendError(error, req, reply),
    // Oversized URLs and headers (431) and malformed requests (400) fail in Node's parser, before there
    // is a request to route; they still get a body in Graph's shape rather than the framework's.
    clientErrorHandler: (err, socket) => {
      if ((err as { code?: string }).code === 'ECONNRESET' || socket.destroyed) return;
      if (socket.writable) socket.write(clientErrorResponse(err as { code?: string }));
      socket.destroy();
    },
  });
  // Our own parsers for every JSON and form body: depth, Object.prototype names and NUL are refused
  // before any room sees the body (body.ts).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
  await app.register(formbody, { parser: parseFormBody });
  app.addHook('onRequest', async (req, reply) => {
    setRequestIdHeaders(req, reply);
    // PostgreSQL text can't hold U+0000; an id or literal carrying one is refused here on both stores.
    if (/%00/i.test(req.url)) throw nulRefused();
  });
  // Fastify reads text/plain bodies as strings by default; every openmto body is JSON or a form, so a
  // text/plain body is refused as 415 (rendered by render.ts) instead of reaching a handler as a string.
  app.removeContentTypeParser('text/plain');
  // Every registered route, so cross-cutting tests (the tenant-isolation sweep) cover routes added later.
  const routeTable: { method: string; url: string }[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routeTable.push({ method, url: r.url });
  });

  app.setErrorHandler((error, req, reply) => sendError(error, req, reply));
  app.setNotFoundHandler((req, reply) => {
    if (consoleFallback(req, reply)) return;
    const path = req.url.split('?')[0] ?? '';
    // A known path with another method is Graph's 405, not an unknown segment.
    if (routeTable.some((r) => r.method !== req.method && routePattern(r.url).test(path))) {
      const e = new DomainError('badRequest', 'BadRequest', 'Specified HTTP method is not allowed for the request uri.');
      return sendError(e, req, reply, 405);
    }
    const raw = path.split('/').filter(Boolean).at(-1) ?? '';
    let segment = raw;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      // an undecodable segment is named as the client wrote it
    }
    const e = new DomainError('badRequest', 'BadRequest', `Resource not found for the segment '${segment}'.`);
    return sendError(e, req, reply);
  });

  await registerOps(app, deps);
  await app.register(identityRoutes(deps));
  for (const prefix of ['/v1.0', '/beta']) {
    await app.register(graphRoutes(deps, prefix === '/beta' ? 'beta' : 'v1.0'), { prefix });
  }
  await app.register(operatorRoutes(deps), { prefix: '/operator/v1' });
  await app.register(tenantApiRoutes(deps), { prefix: '/openmto/v1' });
  await app.register(redeemRoutes(deps));
  await app.register(consoleRoutes);
  return app;
}
