// /policies/authorizationPolicy and /policies/crossTenantAccessPolicy (default, partners and their
// identitySynchronization). Reads need Policy.Read.All (members may read, guests may not); writes need
// Policy.ReadWrite.Authorization / Policy.ReadWrite.CrossTenantAccess, or an admin role for users.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { policyAdminRoles } from '../../identity/permissions.js';
import {
  authorizationPolicyAdminRoles, getAuthorizationPolicy, patchAuthorizationPolicy, requirePolicyRead, requirePolicyWrite,
} from '../../policy/authorization.js';
import {
  createPartner, deleteIdentitySync, deletePartner, getDefaultPolicy, getIdentitySync, getPartner, listPartners,
  patchDefaultPolicy, patchIdentitySync, patchPartner, putIdentitySync, resetDefaultPolicy,
} from '../../policy/partners.js';
import { partnerNotFound } from '../../domain/cross-tenant-policy.js';
import type { Db } from '../../store/store.js';
import type { GraphContext } from './index.js';
import { serviceRoot, tenantOf } from './index.js';

type PartnerParams = { Params: { tenantId: string } };

const CTAP = '/policies/crossTenantAccessPolicy';
const WRITE_CTAP = 'Policy.ReadWrite.CrossTenantAccess';

export function policyRoutes(ctx: GraphContext) {
  return async (app: FastifyInstance) => {
    const context = (req: FastifyRequest, path: string) => `${serviceRoot(req, ctx.version)}/$metadata#${path}`;
    /** One transaction per write; background work (sync checks, MTO) is woken after the commit. */
    const write = async <T>(req: FastifyRequest, fn: (db: Db, tenantId: string, at: string) => Promise<T>): Promise<T> => {
      const tenantId = tenantOf(req);
      const at = ctx.deps.clock.now().toISOString();
      const result = await ctx.deps.store.transaction((db) => fn(db, tenantId, at));
      ctx.deps.hooks?.wake?.('crossTenantAccessPolicy', tenantId);
      return result;
    };
    const readCtap = (req: FastifyRequest) => requirePolicyRead(req.actor);
    const writeCtap = (req: FastifyRequest) => requirePolicyWrite(req.actor, WRITE_CTAP, policyAdminRoles);

    // --- authorizationPolicy: a singleton in v1.0; beta still answers the collection form.
    const readAuthorization = async (req: FastifyRequest) => {
      requirePolicyRead(req.actor);
      return getAuthorizationPolicy(ctx.deps.store.db, tenantOf(req));
    };
    const patchAuthorization = async (req: FastifyRequest, reply: FastifyReply) => {
      requirePolicyWrite(req.actor, 'Policy.ReadWrite.Authorization', authorizationPolicyAdminRoles);
      const tenantId = tenantOf(req);
      await ctx.deps.store.transaction((db) => patchAuthorizationPolicy(db, tenantId, req.body, ctx.deps.clock.now().toISOString()));
      ctx.deps.hooks?.wake?.('authorizationPolicy', tenantId);
      return reply.status(204).send();
    };
    app.get('/policies/authorizationPolicy', async (req) => {
      const policy = await readAuthorization(req);
      if (ctx.version === 'beta') return { '@odata.context': context(req, 'policies/authorizationPolicy'), value: [policy] };
      return { '@odata.context': context(req, 'policies/authorizationPolicy/$entity'), ...policy };
    });
    app.get('/policies/authorizationPolicy/authorizationPolicy', async (req) => ({
      '@odata.context': context(req, 'policies/authorizationPolicy/$entity'), ...(await readAuthorization(req)),
    }));
    app.patch('/policies/authorizationPolicy', patchAuthorization);
    app.patch('/policies/authorizationPolicy/authorizationPolicy', patchAuthorization);

    // --- crossTenantAccessPolicy and its default.
    app.get(CTAP, async (req) => {
      readCtap(req);
      // Cross-cloud endpoints are not supported: this server hosts one cloud.
      return { '@odata.context': context(req, 'policies/crossTenantAccessPolicy/$entity'), displayName: 'CrossTenantAccessPolicy', allowedCloudEndpoints: [] };
    });
    app.get(`${CTAP}/default`, async (req) => {
      readCtap(req);
      const policy = await getDefaultPolicy(ctx.deps.store.db, tenantOf(req));
      return { '@odata.context': context(req, 'policies/crossTenantAccessPolicy/default/$entity'), ...policy };
    });
    app.patch(`${CTAP}/default`, async (req, reply) => {
      writeCtap(req);
      await write(req, (db, t, at) => patchDefaultPolicy(db, t, req.body, at));
      return reply.status(204).send();
    });
    app.post(`${CTAP}/default/resetToDefaultSettings`, async (req, reply) => {
      writeCtap(req);
      await write(req, (db, t) => resetDefaultPolicy(db, t));
      return reply.status(204).send();
    });

    // --- partners.
    const partnerContext = (req: FastifyRequest) => context(req, 'policies/crossTenantAccessPolicy/partners/$entity');
    app.get(`${CTAP}/partners`, async (req) => {
      readCtap(req);
      // Not paged: a tenant has one configuration per partner tenant, a few hundred at most in practice.
      const partners = await listPartners(ctx.deps.store.db, tenantOf(req));
      return { '@odata.context': context(req, 'policies/crossTenantAccessPolicy/partners'), value: partners };
    });
    app.post(`${CTAP}/partners`, async (req, reply) => {
      writeCtap(req);
      const partner = await write(req, (db, t, at) => createPartner(db, t, req.body, at));
      return reply.status(201).header('location', `${serviceRoot(req, ctx.version)}${CTAP}/partners/${partner.tenantId}`)
        .send({ '@odata.context': partnerContext(req), ...partner });
    });
    app.get(`${CTAP}/partners/:tenantId`, async (req: FastifyRequest<PartnerParams>) => {
      readCtap(req);
      const partner = await getPartner(ctx.deps.store.db, tenantOf(req), req.params.tenantId);
      if (!partner) throw partnerNotFound();
      return { '@odata.context': partnerContext(req), ...partner };
    });
    app.patch(`${CTAP}/partners/:tenantId`, async (req: FastifyRequest<PartnerParams>, reply) => {
      writeCtap(req);
      await write(req, (db, t, at) => patchPartner(db, t, req.params.tenantId, req.body, at));
      return reply.status(204).send();
    });
    app.delete(`${CTAP}/partners/:tenantId`, async (req: FastifyRequest<PartnerParams>, reply) => {
      writeCtap(req);
      await write(req, (db, t) => deletePartner(db, t, req.params.tenantId));
      return reply.status(204).send();
    });

    // --- a partner's identitySynchronization (inbound user sync).
    const syncPath = `${CTAP}/partners/:tenantId/identitySynchronization`;
    app.get(syncPath, async (req: FastifyRequest<PartnerParams>) => {
      readCtap(req);
      const policy = await getIdentitySync(ctx.deps.store.db, tenantOf(req), req.params.tenantId);
      if (!policy) throw partnerNotFound();
      const path = `policies/crossTenantAccessPolicy/partners('${policy.tenantId}')/identitySynchronization/$entity`;
      return { '@odata.context': context(req, path), ...policy };
    });
    app.put(syncPath, async (req: FastifyRequest<PartnerParams>, reply) => {
      writeCtap(req);
      await write(req, (db, t, at) => putIdentitySync(db, t, req.params.tenantId, req.body, at));
      return reply.status(204).send();
    });
    app.patch(syncPath, async (req: FastifyRequest<PartnerParams>, reply) => {
      writeCtap(req);
      await write(req, (db, t, at) => patchIdentitySync(db, t, req.params.tenantId, req.body, at));
      return reply.status(204).send();
    });
    app.delete(syncPath, async (req: FastifyRequest<PartnerParams>, reply) => {
      writeCtap(req);
      await write(req, (db, t) => deleteIdentitySync(db, t, req.params.tenantId));
      return reply.status(204).send();
    });
  };
}
