// HTTP assembly: one Fastify instance serving the per-tenant identity endpoints, Microsoft Graph
// (v1.0 and beta) and the operator API, with every error rendered in its protocol's shape.
import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Clock } from '../domain/clock.js';
import { DomainError } from '../domain/errors.js';
import type { TokenService } from '../identity/tokens.js';
import type { Store } from '../store/store.js';
import { graphRoutes } from './graph/index.js';
import { identityRoutes } from './identity.js';
import { operatorRoutes } from './operator/index.js';
import { redeemRoutes } from './redeem.js';
import { graphErrorBody, sendGraphError, sendOAuthError } from './render.js';

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
    logger: options.logger
      ? {
          level: 'info',
          redact: ['req.headers.authorization', 'req.headers.cookie'],
          // Query strings can carry secrets (redemption tickets, delta/skip tokens); log the path only.
          serializers: {
            req: (req: { method: string; url: string; id: string }) => ({ id: req.id, method: req.method, path: req.url.split('?')[0] }),
          },
        }
      : false,
    // Graph paths carry `$` segments and UPNs with '@'; keep them as written.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1024 },
    genReqId: () => crypto.randomUUID(),
    // Undecodable URLs are refused by the router before any handler; render them as Graph errors too.
    frameworkErrors: (error, req, reply) => sendGraphError(error, req, reply),
  });
  await app.register(formbody);
  // Fastify reads text/plain bodies as strings by default; every openmto body is JSON or a form, so a
  // text/plain body is refused as 415 (rendered by render.ts) instead of reaching a handler as a string.
  app.removeContentTypeParser('text/plain');
  // Every registered route, so cross-cutting tests (the tenant-isolation sweep) cover routes added later.
  const routeTable: { method: string; url: string }[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routeTable.push({ method, url: r.url });
  });

  app.setErrorHandler((error, req, reply) => {
    if (req.url.includes('/oauth2/')) return sendOAuthError(error, req, reply);
    return sendGraphError(error, req, reply);
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    // A known path with another method is Graph's 405, not an unknown segment.
    if (routeTable.some((r) => r.method !== req.method && routePattern(r.url).test(path))) {
      const e = new DomainError('badRequest', 'BadRequest', 'Specified HTTP method is not allowed for the request uri.');
      return reply.status(405).type('application/json').send(graphErrorBody(e, req));
    }
    const segment = path.split('/').filter(Boolean).at(-1) ?? '';
    const e = new DomainError('badRequest', 'BadRequest', `Resource not found for the segment '${decodeURIComponent(segment)}'.`);
    return sendGraphError(e, req, reply);
  });

  await app.register(identityRoutes(deps));
  for (const prefix of ['/v1.0', '/beta']) {
    await app.register(graphRoutes(deps, prefix === '/beta' ? 'beta' : 'v1.0'), { prefix });
  }
  await app.register(operatorRoutes(deps), { prefix: '/operator/v1' });
  await app.register(redeemRoutes(deps));
  return app;
}
