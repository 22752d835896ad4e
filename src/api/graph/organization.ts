// /organization: the caller's tenant, as a one-item collection or by its id.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors } from '../../domain/errors.js';
import { allOrganizationProperties, getOrganization, updateOrganization } from '../../directory/organization.js';
import type { GraphContext } from './index.js';
import { serviceRoot, tenantOf } from './index.js';
import { parseSelectParam, project } from './query.js';

type IdParams = { Params: { id: string } };

const selectOf = (req: FastifyRequest) =>
  parseSelectParam((req.query as Record<string, string | undefined>).$select, allOrganizationProperties, 'organization');

export function organizationRoutes(ctx: GraphContext) {
  return async (app: FastifyInstance) => {
    const context = (req: FastifyRequest, select: string[] | undefined, suffix = '') =>
      `${serviceRoot(req, ctx.version)}/$metadata#organization${select ? `(${select.join(',')})` : ''}${suffix}`;

    app.get('/organization', async (req) => {
      const select = selectOf(req);
      const org = await getOrganization(ctx.dir, tenantOf(req), req.actor);
      return { '@odata.context': context(req, select), value: [project(org, select, [...allOrganizationProperties])] };
    });

    app.get('/organization/:id', async (req: FastifyRequest<IdParams>) => {
      const select = selectOf(req);
      const org = await getOrganization(ctx.dir, tenantOf(req), req.actor);
      // Another tenant's organization is as invisible as a missing one.
      if (req.params.id.toLowerCase() !== org.id.toLowerCase()) throw errors.notFound(req.params.id);
      return { '@odata.context': context(req, select, '/$entity'), ...project(org, select, [...allOrganizationProperties]) };
    });

    app.patch('/organization/:id', async (req: FastifyRequest<IdParams>, reply: FastifyReply) => {
      await updateOrganization(ctx.dir, tenantOf(req), req.actor, req.params.id, req.body);
      return reply.status(204).send();
    });
  };
}
