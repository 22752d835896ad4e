// /applicationTemplates (the Azure2Azure gallery entry and its instantiate action) and /applications.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  allApplicationProperties, azure2AzureTemplate, defaultApplicationSelect, defaultServicePrincipalSelect,
  deleteApplication, getApplication, getApplicationTemplate, instantiateTemplate, listApplications, updateApplication,
} from '../../apps/index.js';
import type { GraphContext } from './index.js';
import { serviceRoot, tenantOf } from './index.js';
import { JSON_TYPE, parseSelectParam, project, type Query } from './query.js';
import { appsContextOf, objectPageJson, readObjectListQuery } from './servicePrincipals.js';

type IdParams = { Params: { id: string } };

export function applicationRoutes(ctx: GraphContext) {
  const apps = appsContextOf(ctx);
  return async (app: FastifyInstance) => {
    const root = (req: FastifyRequest) => serviceRoot(req, ctx.version);

    app.get('/applicationTemplates', async (req: FastifyRequest) => ({
      '@odata.context': `${root(req)}/$metadata#applicationTemplates`, value: [azure2AzureTemplate],
    }));

    app.get('/applicationTemplates/:id', async (req: FastifyRequest<IdParams>) => ({
      '@odata.context': `${root(req)}/$metadata#applicationTemplates/$entity`, ...getApplicationTemplate(req.params.id),
    }));

    app.post('/applicationTemplates/:id/instantiate', async (req: FastifyRequest<IdParams>, reply: FastifyReply) => {
      const created = await instantiateTemplate(apps, tenantOf(req), req.actor, req.params.id, req.body);
      return reply.status(201).send({
        '@odata.context': `${root(req)}/$metadata#microsoft.graph.applicationServicePrincipal`,
        application: project(created.application, undefined, defaultApplicationSelect),
        servicePrincipal: project(created.servicePrincipal, undefined, defaultServicePrincipalSelect),
      });
    });

    app.get('/applications', async (req, reply) => {
      const q = readObjectListQuery(req, allApplicationProperties, 'application');
      const page = await listApplications(apps, tenantOf(req), req.actor, q);
      return reply.type(JSON_TYPE).send(objectPageJson(req, ctx.version, 'applications', q.select, defaultApplicationSelect, page));
    });

    app.get('/applications/:id', async (req: FastifyRequest<IdParams>) => {
      const select = parseSelectParam((req.query as Query).$select, allApplicationProperties, 'application');
      const application = await getApplication(apps, tenantOf(req), req.actor, req.params.id);
      return {
        '@odata.context': `${root(req)}/$metadata#applications${select ? `(${select.join(',')})` : ''}/$entity`,
        ...project(application, select, defaultApplicationSelect),
      };
    });

    app.patch('/applications/:id', async (req: FastifyRequest<IdParams>, reply: FastifyReply) => {
      await updateApplication(apps, tenantOf(req), req.actor, req.params.id, req.body);
      return reply.status(204).send();
    });

    app.delete('/applications/:id', async (req: FastifyRequest<IdParams>, reply: FastifyReply) => {
      await deleteApplication(apps, tenantOf(req), req.actor, req.params.id);
      return reply.status(204).send();
    });
  };
}
