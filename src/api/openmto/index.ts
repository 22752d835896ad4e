// openmto's tenant API (`/openmto/v1`): what the admin console needs and Graph has no resource for — the
// caller tenant's sharing and the readiness of its multi-tenant organization. Bearer tokens of a tenant, as
// on Graph; every route works on the token's own tenant only (no tenant in the URL), errors in Graph's
// shape. The use cases are the operator API's (api/operator), behind tenant permissions instead of the key.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { editSharing, explainReadiness, getSharing, readinessCsv, readinessReport, type ShareContext } from '../../collaboration/index.js';
import { type Actor, requireAppPermission, resolveActor } from '../../directory/access.js';
import { DomainError, errors } from '../../domain/errors.js';
import { adminRoles, policyAdminRoles } from '../../identity/permissions.js';
import { mtoRepo } from '../../store/repos/mto.js';
import type { AppDeps } from '../app.js';

/** Reading: apps with `permission`; signed-in users holding an admin or policy-admin role. */
function requireAdminRead(actor: Actor, permission: string): void {
  if (actor.principal.kind === 'app') {
    requireAppPermission(actor, permission);
    return;
  }
  if (!actor.user?.roles.some((r) => adminRoles.has(r) || policyAdminRoles.has(r))) throw errors.denied();
}

/** Changing the sharing: apps with Policy.ReadWrite.CrossTenantAccess; users with a policy-admin role. */
function requireSharingWrite(actor: Actor): void {
  if (actor.principal.kind === 'app') {
    requireAppPermission(actor, 'Policy.ReadWrite.CrossTenantAccess');
    return;
  }
  if (!actor.user?.roles.some((r) => policyAdminRoles.has(r))) throw errors.denied();
}

export function tenantApiRoutes(deps: AppDeps) {
  return async (app: FastifyInstance) => {
    app.decorateRequest('actor', null as unknown as Actor);
    // Before the body is parsed, as on Graph: an unauthenticated caller learns nothing about its input.
    app.addHook('onRequest', async (req) => {
      const token = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
      req.actor = await resolveActor(deps.store.db, await deps.tokens.verify(token || undefined));
    });
    const tenantId = (req: FastifyRequest) => req.actor.principal.tenantId;
    const share = (): ShareContext => ({
      store: deps.store, clock: deps.clock, kick: (t, jobIds) => { for (const id of jobIds) deps.hooks?.wake?.(`sync:${id}`, t); },
    });
    /** The caller tenant's organization; 404 when it is an active member of none. */
    const organizationOf = async (req: FastifyRequest) => {
      const active = (await mtoRepo.memberships(deps.store.db, tenantId(req))).find((m) => m.state === 'active');
      if (!active) throw new DomainError('notFound', 'Request_ResourceNotFound', 'This tenant is not an active member of a multi-tenant organization.');
      return active.mtoId;
    };

    app.get('/sharing', async (req) => {
      requireAdminRead(req.actor, 'Policy.Read.All');
      return getSharing(share(), tenantId(req));
    });
    app.put('/sharing', async (req) => {
      requireSharingWrite(req.actor);
      return editSharing(share(), tenantId(req), req.body);
    });
    type Explain = FastifyRequest<{ Querystring: { searcher?: unknown; person?: unknown } }>;
    app.get('/readiness', async (req) => {
      requireAdminRead(req.actor, 'Directory.Read.All');
      return readinessReport(deps.store.db, await organizationOf(req));
    });
    app.get('/readiness.csv', async (req, reply) => {
      requireAdminRead(req.actor, 'Directory.Read.All');
      const csv = readinessCsv(await readinessReport(deps.store.db, await organizationOf(req)));
      return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="readiness.csv"').send(csv);
    });
    app.get('/readiness/explain', async (req: Explain) => {
      requireAdminRead(req.actor, 'Directory.Read.All');
      const { searcher, person } = req.query;
      if (typeof searcher !== 'string' || typeof person !== 'string' || !searcher || !person || searcher.length > 1024 || person.length > 1024) {
        throw errors.badRequest('Give ?searcher=<user id or UPN>&person=<user id or UPN>.');
      }
      return explainReadiness(deps.store.db, await organizationOf(req), searcher, person);
    });
  };
}
