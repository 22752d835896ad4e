// /policies/crossTenantAccessPolicy/templates: the multi-tenant organization partner-configuration and
// identity-synchronization templates of the caller's tenant.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { MtoContext } from '../../mto/organization.js';
import { getTemplate, resetTemplate, type TemplateName, updateTemplate } from '../../mto/templates.js';
import type { GraphContext } from './index.js';
import { serviceRoot, tenantOf } from './index.js';

const BASE = '/policies/crossTenantAccessPolicy/templates';
const segments: Record<TemplateName, string> = {
  partner: 'multiTenantOrganizationPartnerConfiguration',
  identitySync: 'multiTenantOrganizationIdentitySynchronization',
};

export function templateRoutes(ctx: GraphContext) {
  const mto: MtoContext = { store: ctx.deps.store, clock: ctx.deps.clock };
  return async (app: FastifyInstance) => {
    for (const [name, segment] of Object.entries(segments) as [TemplateName, string][]) {
      const path = `${BASE}/${segment}`;
      app.get(path, async (req: FastifyRequest) => ({
        '@odata.context': `${serviceRoot(req, ctx.version)}/$metadata#policies/crossTenantAccessPolicy/templates/${segment}/$entity`,
        ...(await getTemplate(mto, tenantOf(req), req.actor, name)),
      }));
      app.patch(path, async (req: FastifyRequest, reply: FastifyReply) => {
        await updateTemplate(mto, tenantOf(req), req.actor, name, req.body);
        return reply.status(204).send();
      });
      app.post(`${path}/resetToDefaultSettings`, async (req: FastifyRequest, reply: FastifyReply) => {
        await resetTemplate(mto, tenantOf(req), req.actor, name);
        return reply.status(204).send();
      });
    }
  };
}
