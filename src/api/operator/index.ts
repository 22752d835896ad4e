// openmto's own operator API (outside Graph): tenants and app registrations, guarded by the operator
// key generated into the data directory on first start.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { editSharing, explainReadiness, getSharing, readinessCsv, readinessReport, type ShareContext } from '../../collaboration/index.js';
import { DomainError } from '../../domain/errors.js';
import { refusal } from '../../identity/throttle.js';
import { createApp, createTenant, deleteTenant } from '../../identity/tenants.js';
import { peopleIndexOf } from '../../store/people/cache.js';
import { tenantsRepo } from '../../store/repos/tenants.js';
import type { AppDeps } from '../app.js';

const tenantBody = z.object({ name: z.string().min(1).max(256), domain: z.string().max(253).optional() }).strict();
const appBody = z.object({
  name: z.string().min(1).max(256),
  permissions: z.array(z.string()).max(50).default([]),
  publicClient: z.boolean().optional(),
}).strict();

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new DomainError('badRequest', 'Request_BadRequest', `Invalid request body: ${issue?.path.join('.') || 'body'}: ${issue?.message}`);
  }
  return r.data;
}

/**
 * Checks `Authorization: Bearer <operator key>` through the sign-in guard: wrong keys lock the operator
 * key (a known-good key still passes, it is 256 random bits) and the caller's address, without a scrypt.
 */
export async function requireOperatorKey(deps: AppDeps, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const key = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  const verdict = key ? await deps.tokens.guard.verify('operatorKey', 'operator', key, deps.operatorKeyHash, req.ip) : undefined;
  if (verdict && !verdict.ok && verdict.reason !== 'wrong') {
    reply.header('Retry-After', String(verdict.retryAfterS));
    const e = refusal('operatorKey', verdict);
    throw new DomainError('tooManyRequests', 'TooManyRequests', e.message.replace(/^AADSTS\d+: /, ''));
  }
  if (!verdict?.ok) {
    throw new DomainError('unauthenticated', 'InvalidAuthenticationToken', 'A valid operator key is required (Authorization: Bearer <operator key>).');
  }
}

export function operatorRoutes(deps: AppDeps) {
  return async (app: FastifyInstance) => {
    app.addHook('onRequest', async (req: FastifyRequest, reply) => {
      await requireOperatorKey(deps, req, reply);
    });
    // The in-memory people index (store/people): per tenant building, ready (users held, change-log
    // sequence reflected) or off (over the budget); empty when the server runs without it.
    app.get('/people-index', async () => peopleIndexOf(deps.store.db)?.status() ?? { maxUsers: 0, heldUsers: 0, tenants: [] });
    app.get('/tenants', async () => ({
      value: (await tenantsRepo.list(deps.store.db)).map((t) => ({
        tenantId: t.id, displayName: t.displayName, domain: t.domain, createdDateTime: t.createdDateTime,
      })),
    }));
    app.post('/tenants', async (req, reply) => {
      const body = parse(tenantBody, req.body);
      return reply.status(201).send(await createTenant(deps.store, deps.clock, body));
    });
    app.delete('/tenants/:tenant', async (req: FastifyRequest<{ Params: { tenant: string } }>, reply) => {
      await deleteTenant(deps.store, req.params.tenant);
      return reply.status(204).send();
    });
    // Share users (docs/collaboration.md): the tenant's shared scope and its MTO_Sync_* configurations.
    const share = (): ShareContext => ({
      store: deps.store, clock: deps.clock, kick: (tenantId, jobIds) => { for (const id of jobIds) deps.hooks?.wake?.(`sync:${id}`, tenantId); },
    });
    app.get('/tenants/:tenant/sharing', async (req: FastifyRequest<{ Params: { tenant: string } }>) => getSharing(share(), req.params.tenant));
    app.put('/tenants/:tenant/sharing', async (req: FastifyRequest<{ Params: { tenant: string } }>) => editSharing(share(), req.params.tenant, req.body));
    // Readiness of an organization (docs/collaboration.md): by its id, or a member tenant's id or domain.
    type Org = FastifyRequest<{ Params: { mto: string }; Querystring: { searcher?: string; person?: string } }>;
    app.get('/organizations/:mto/readiness', async (req: Org) => readinessReport(deps.store.db, req.params.mto));
    app.get('/organizations/:mto/readiness.csv', async (req: Org, reply) =>
      reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="readiness.csv"').send(readinessCsv(await readinessReport(deps.store.db, req.params.mto))));
    app.get('/organizations/:mto/readiness/explain', async (req: Org) => {
      const { searcher, person } = req.query;
      if (typeof searcher !== 'string' || typeof person !== 'string' || !searcher || !person) throw new DomainError('badRequest', 'Request_BadRequest', 'Give ?searcher=<user id or UPN>&person=<user id or UPN>.');
      return explainReadiness(deps.store.db, req.params.mto, searcher, person);
    });
    app.post('/tenants/:tenant/apps', async (req: FastifyRequest<{ Params: { tenant: string } }>, reply) => {
      const body = parse(appBody, req.body);
      const tenant = await tenantsRepo.find(deps.store.db, req.params.tenant);
      if (!tenant) throw new DomainError('notFound', 'Request_ResourceNotFound', `Tenant '${req.params.tenant}' does not exist.`);
      const created = await createApp(deps.store, deps.clock, tenant.id, {
        name: body.name, permissions: body.permissions, ...(body.publicClient !== undefined ? { publicClient: body.publicClient } : {}),
      });
      return reply.status(201).send(created);
    });
  };
}
