// /servicePrincipals: list ($filter on id/appId/displayName, $select, $top, paging), get, update, delete.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  type AppsContext, allServicePrincipalProperties, defaultServicePrincipalSelect, deleteServicePrincipal, getServicePrincipal,
  type ListInput, listServicePrincipals, updateServicePrincipal,
} from '../../apps/index.js';
import { errors } from '../../domain/errors.js';
import { deleteSynchronizationOf } from '../../sync/index.js';
import type { GraphContext } from './index.js';
import { serviceRoot, tenantOf } from './index.js';
import { collectionJson, JSON_TYPE, parseSelectParam, project, type Query, readCollectionQuery } from './query.js';

type IdParams = { Params: { id: string } };

/** The apps room's context as the Graph routes run it. */
export function appsContextOf(ctx: GraphContext): AppsContext {
  return {
    store: ctx.deps.store, clock: ctx.deps.clock,
    ...(ctx.deps.hooks?.wake ? { wake: ctx.deps.hooks.wake } : {}),
    // A deleted service principal takes its synchronization (jobs, secrets) with it, in the same transaction.
    onDelete: deleteSynchronizationOf,
  };
}

/** Reads a list query of applications or service principals: $filter, $select, $top, $skiptoken, $count. */
export function readObjectListQuery(req: FastifyRequest, allowedSelect: ReadonlySet<string>, resource: string): ListInput & { select?: string[] } {
  const q = req.query as Query;
  if (q.$expand !== undefined) throw errors.unsupportedQuery(`The query option '$expand' is not supported on ${resource} collections here.`);
  const query = readCollectionQuery(req, allowedSelect, resource);
  if (query.search || query.orderBy) throw errors.unsupportedQuery(`'$search' and '$orderby' are not supported on ${resource} collections here.`);
  if (query.cursor && query.cursor.kind !== 'after') throw errors.badRequest(`The value of the '$skiptoken' query parameter is invalid.`);
  return {
    ...(query.filter ? { filter: query.filter } : {}),
    ...(query.select ? { select: query.select } : {}),
    afterId: query.cursor?.kind === 'after' ? query.cursor.id : '',
    top: query.top,
    count: query.count && query.cursor === undefined,
  };
}

/** A page of objects in Graph's collection shape; ids continue through an opaque $skiptoken. */
export function objectPageJson(
  req: FastifyRequest, version: string, entitySet: string, select: string[] | undefined, defaults: readonly string[],
  page: { items: Record<string, unknown>[]; next?: string; count?: number },
): string {
  const items = page.items.map((o) => JSON.stringify(project(o, select, defaults)));
  const next = page.next ? { kind: 'after' as const, branch: 0, key: null, id: page.next } : undefined;
  return collectionJson(req, version, entitySet, select, items, page.count, next);
}

export function servicePrincipalRoutes(ctx: GraphContext) {
  const apps = appsContextOf(ctx);
  return async (app: FastifyInstance) => {
    app.get('/servicePrincipals', async (req, reply) => {
      const q = readObjectListQuery(req, allServicePrincipalProperties, 'servicePrincipal');
      const page = await listServicePrincipals(apps, tenantOf(req), req.actor, q);
      return reply.type(JSON_TYPE).send(objectPageJson(req, ctx.version, 'servicePrincipals', q.select, defaultServicePrincipalSelect, page));
    });

    app.get('/servicePrincipals/:id', async (req: FastifyRequest<IdParams>) => {
      const select = parseSelectParam((req.query as Query).$select, allServicePrincipalProperties, 'servicePrincipal');
      const sp = await getServicePrincipal(apps, tenantOf(req), req.actor, req.params.id);
      return {
        '@odata.context': `${serviceRoot(req, ctx.version)}/$metadata#servicePrincipals${select ? `(${select.join(',')})` : ''}/$entity`,
        ...project(sp, select, defaultServicePrincipalSelect),
      };
    });

    app.patch('/servicePrincipals/:id', async (req: FastifyRequest<IdParams>, reply: FastifyReply) => {
      await updateServicePrincipal(apps, tenantOf(req), req.actor, req.params.id, req.body);
      return reply.status(204).send();
    });

    app.delete('/servicePrincipals/:id', async (req: FastifyRequest<IdParams>, reply: FastifyReply) => {
      await deleteServicePrincipal(apps, tenantOf(req), req.actor, req.params.id);
      return reply.status(204).send();
    });
  };
}
