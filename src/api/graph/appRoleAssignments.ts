// /servicePrincipals/{id}/appRoleAssignedTo (assign, list, remove) and /users|groups/{id}/appRoleAssignments.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createAssignment, deleteAssignment, type ListPage, listAssignedTo, listAssignmentsOf } from '../../apps/index.js';
import { errors } from '../../domain/errors.js';
import type { GraphContext } from './index.js';
import { serviceRoot, tenantOf } from './index.js';
import { decodeSkipToken, JSON_TYPE, parseSelectParam, parseTop, type Query } from './query.js';
import { appsContextOf, objectPageJson } from './servicePrincipals.js';

type IdParams = { Params: { id: string } };

const assignmentProperties = [
  'id', 'deletedDateTime', 'appRoleId', 'createdDateTime', 'principalDisplayName', 'principalId', 'principalType', 'resourceDisplayName', 'resourceId',
] as const;
const allAssignmentProperties = new Set<string>(assignmentProperties);

/** Assignment collections page by id with $top and $select; Graph's other options are not offered on them here. */
function readPageQuery(req: FastifyRequest) {
  const q = req.query as Query;
  for (const option of ['$filter', '$search', '$orderby', '$expand', '$skip', '$count']) {
    if (q[option] !== undefined) throw errors.unsupportedQuery(`The query option '${option}' is not supported on this collection.`);
  }
  const cursor = q.$skiptoken !== undefined ? decodeSkipToken(q.$skiptoken) : undefined;
  if (cursor && cursor.kind !== 'after') throw errors.badRequest(`The value of the '$skiptoken' query parameter is invalid.`);
  return {
    top: parseTop(q.$top),
    after: cursor?.kind === 'after' ? cursor.id : '',
    select: parseSelectParam(q.$select, allAssignmentProperties, 'appRoleAssignment'),
  };
}

export function appRoleAssignmentRoutes(ctx: GraphContext) {
  const apps = appsContextOf(ctx);
  return async (app: FastifyInstance) => {
    const send = (req: FastifyRequest, reply: FastifyReply, set: string, select: string[] | undefined, page: ListPage<object>) =>
      reply.type(JSON_TYPE).send(objectPageJson(req, ctx.version, set, select, assignmentProperties, page as ListPage<Record<string, unknown>>));

    app.post('/servicePrincipals/:id/appRoleAssignedTo', async (req: FastifyRequest<IdParams>, reply: FastifyReply) => {
      const created = await createAssignment(apps, tenantOf(req), req.actor, req.params.id, req.body);
      return reply.status(201).send({
        '@odata.context': `${serviceRoot(req, ctx.version)}/$metadata#servicePrincipals('${created.resourceId}')/appRoleAssignedTo/$entity`,
        ...created,
      });
    });

    app.get('/servicePrincipals/:id/appRoleAssignedTo', async (req: FastifyRequest<IdParams>, reply: FastifyReply) => {
      const q = readPageQuery(req);
      const page = await listAssignedTo(apps, tenantOf(req), req.actor, req.params.id, q.after, q.top);
      return send(req, reply, `servicePrincipals('${encodeURIComponent(req.params.id)}')/appRoleAssignedTo`, q.select, page);
    });

    app.delete('/servicePrincipals/:id/appRoleAssignedTo/:assignmentId', async (
      req: FastifyRequest<{ Params: { id: string; assignmentId: string } }>, reply: FastifyReply,
    ) => {
      await deleteAssignment(apps, tenantOf(req), req.actor, req.params.id, req.params.assignmentId);
      return reply.status(204).send();
    });

    for (const kind of ['user', 'group'] as const) {
      app.get(`/${kind}s/:id/appRoleAssignments`, async (req: FastifyRequest<IdParams>, reply: FastifyReply) => {
        const q = readPageQuery(req);
        const page = await listAssignmentsOf(apps, tenantOf(req), req.actor, kind, req.params.id, q.after, q.top);
        return send(req, reply, `${kind}s('${encodeURIComponent(req.params.id)}')/appRoleAssignments`, q.select, page);
      });
    }
  };
}
