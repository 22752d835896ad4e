// The Graph surface: every route authenticates with a bearer token of some tenant, and everything it
// touches is scoped to that token's tenant. No route takes a tenant id from the URL or the body.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Actor, resolveActor } from '../../directory/access.js';
import type { DirectoryContext } from '../../directory/users.js';
import type { AppDeps } from '../app.js';
import { applicationRoutes } from './applications.js';
import { appRoleAssignmentRoutes } from './appRoleAssignments.js';
import { batchRoutes } from './batch.js';
import { deltaRoutes } from './delta.js';
import { directoryRoutes } from './directory.js';
import { groupRoutes } from './groups.js';
import { invitationRoutes } from './invitations.js';
import { mtoRoutes } from './mto.js';
import { organizationRoutes } from './organization.js';
import { peopleRoutes } from './people.js';
import { policyRoutes } from './policies.js';
import { servicePrincipalRoutes } from './servicePrincipals.js';
import { checkQueryOptions } from './query.js';
import { synchronizationRoutes } from './synchronization.js';
import { userRoutes } from './users.js';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor;
  }
}

export type GraphVersion = 'v1.0' | 'beta';

export interface GraphContext {
  deps: AppDeps;
  version: GraphVersion;
  dir: DirectoryContext;
}

/** The caller's tenant: the only tenant any Graph route may read or write. */
export const tenantOf = (req: FastifyRequest) => req.actor.principal.tenantId;

/** Absolute base for `@odata.context` and `@odata.nextLink` (clients follow nextLink as is). */
export const serviceRoot = (req: FastifyRequest, version: GraphVersion) => `${req.protocol}://${req.host}/${version}`;

export function graphRoutes(deps: AppDeps, version: GraphVersion) {
  return async (app: FastifyInstance) => {
    app.decorateRequest('actor', null as unknown as Actor);
    // onRequest runs before the body is parsed: an unauthenticated caller learns nothing about its input.
    app.addHook('onRequest', async (req) => {
      const header = req.headers.authorization;
      const token = header && /^Bearer\s+(.+)$/i.exec(header)?.[1];
      const principal = await deps.tokens.verify(token || undefined);
      req.actor = await resolveActor(deps.store.db, principal);
      checkQueryOptions(req);
    });
    const ctx: GraphContext = { deps, version, dir: { store: deps.store, clock: deps.clock } };
    await app.register(userRoutes(ctx));
    await app.register(peopleRoutes(ctx));
    await app.register(deltaRoutes(ctx));
    await app.register(policyRoutes(ctx));
    await app.register(groupRoutes(ctx));
    await app.register(directoryRoutes(ctx));
    await app.register(organizationRoutes(ctx));
    await app.register(batchRoutes(ctx));
    await app.register(invitationRoutes(ctx));
    await app.register(mtoRoutes(ctx));
    await app.register(synchronizationRoutes(ctx));
    await app.register(applicationRoutes(ctx));
    await app.register(servicePrincipalRoutes(ctx));
    await app.register(appRoleAssignmentRoutes(ctx));
  };
}
