// /groups (security groups), their members and $ref links, and /users|groups/{id}/memberOf.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { groupCatalog } from '../../domain/catalog.js';
import { errors } from '../../domain/errors.js';
import { allUserProperties, defaultUserSelect } from '../../domain/user.js';
import { guestVisibleUserProperties } from '../../directory/access.js';
import {
  addGroupMember, allGroupProperties, countGroupMembers, createGroup, type DirectoryObject, defaultGroupSelect, deleteGroup,
  type Group, getGroup, listGroupMembers, listMemberOf, removeGroupMember, updateGroup,
} from '../../directory/groups.js';
import type { GraphContext } from './index.js';
import { serviceRoot, tenantOf } from './index.js';
import { decodeSkipToken, isEventual, nextLinkFor, parseSelectParam, parseTop, project, registerCollection } from './query.js';

type IdParams = { Params: { id: string } };
type Query = Record<string, string | undefined>;

const directoryObjectProperties = new Set([...allUserProperties, ...allGroupProperties]);

/** One user or group as an item of a directoryObject collection or entity, with its `@odata.type`. */
export function renderDirectoryObject(req: FastifyRequest, o: DirectoryObject, select?: readonly string[]) {
  const own = o.type === 'user' ? allUserProperties : allGroupProperties;
  let keys = select?.filter((k) => own.has(k) || k === 'id');
  // Same narrow window for default guests as GET /users/{id}; $select can't widen it.
  if (o.type === 'user' && req.actor.readLevel === 'byIdLimited' && req.actor.user?.user.id !== o.object.id) {
    keys = (keys ?? [...defaultUserSelect]).filter((k) => guestVisibleUserProperties.has(k));
  }
  const defaults = o.type === 'user' ? defaultUserSelect : defaultGroupSelect;
  return { '@odata.type': `#microsoft.graph.${o.type}`, ...project(o.object, keys, defaults) };
}

const originOf = (req: FastifyRequest) => `${req.protocol}://${req.host}`;

/** Navigation collections (members, memberOf) page by id; Graph's advanced query options are not offered on them here. */
function readNavigationQuery(req: FastifyRequest) {
  const q = req.query as Query;
  for (const option of ['$filter', '$search', '$orderby', '$expand', '$skip']) {
    if (q[option] !== undefined) throw errors.unsupportedQuery(`The query option '${option}' is not supported on this collection.`);
  }
  const cursor = q.$skiptoken !== undefined ? decodeSkipToken(q.$skiptoken) : undefined;
  if (cursor && cursor.kind !== 'after') throw errors.badRequest(`The value of the '$skiptoken' query parameter is invalid.`);
  return {
    top: parseTop(q.$top),
    after: cursor?.kind === 'after' ? cursor.id : '',
    select: parseSelectParam(q.$select, directoryObjectProperties, 'directoryObject'),
    // Like Graph, $count=true without ConsistencyLevel: eventual is ignored; the count is on the first page only.
    count: q.$count === 'true' && isEventual(req) && cursor === undefined,
  };
}

function page(req: FastifyRequest, context: string, value: unknown[], next?: string, count?: number) {
  return {
    '@odata.context': context,
    ...(count !== undefined ? { '@odata.count': count } : {}),
    value,
    // Navigation pages are keyed by member id alone: one branch, no driver key.
    ...(next ? { '@odata.nextLink': nextLinkFor(req, originOf(req), { kind: 'after', branch: 0, key: null, id: next }) } : {}),
  };
}

export function groupRoutes(ctx: GraphContext) {
  return async (app: FastifyInstance) => {
    const root = (req: FastifyRequest) => serviceRoot(req, ctx.version);
    const entity = (req: FastifyRequest, group: Group, select?: string[]) => ({
      '@odata.context': `${root(req)}/$metadata#groups${select ? `(${select.join(',')})` : ''}/$entity`,
      ...project(group, select, defaultGroupSelect),
    });

    registerCollection(app, ctx.deps.store.db, ctx.version, {
      entitySet: 'groups', catalog: groupCatalog, permission: 'Group.Read.All', allowedSelect: allGroupProperties,
      resource: 'group', defaultSelect: defaultGroupSelect,
    });

    app.post('/groups', async (req, reply) => {
      const group = await createGroup(ctx.dir, tenantOf(req), req.actor, req.body);
      return reply.status(201).send(entity(req, group));
    });

    app.get('/groups/:id', async (req: FastifyRequest<IdParams>) => {
      const select = parseSelectParam((req.query as Query).$select, allGroupProperties, 'group');
      return entity(req, await getGroup(ctx.dir, tenantOf(req), req.actor, req.params.id), select);
    });

    app.patch('/groups/:id', async (req: FastifyRequest<IdParams>, reply: FastifyReply) => {
      await updateGroup(ctx.dir, tenantOf(req), req.actor, req.params.id, req.body);
      return reply.status(204).send();
    });

    app.delete('/groups/:id', async (req: FastifyRequest<IdParams>, reply: FastifyReply) => {
      await deleteGroup(ctx.dir, tenantOf(req), req.actor, req.params.id);
      return reply.status(204).send();
    });

    app.get('/groups/:id/members', async (req: FastifyRequest<IdParams>) => {
      const q = readNavigationQuery(req);
      const tenantId = tenantOf(req);
      const result = await listGroupMembers(ctx.dir, tenantId, req.actor, req.params.id, q.after, q.top);
      const count = q.count ? await countGroupMembers(ctx.dir, tenantId, req.actor, req.params.id) : undefined;
      const select = q.select ? `(${q.select.join(',')})` : '';
      return page(req, `${root(req)}/$metadata#directoryObjects${select}`, result.items.map((o) => renderDirectoryObject(req, o, q.select)), result.next, count);
    });

    app.get('/groups/:id/members/$count', async (req: FastifyRequest<IdParams>, reply: FastifyReply) => {
      if (!isEventual(req)) throw errors.badRequest('$count is not currently supported.');
      const n = await countGroupMembers(ctx.dir, tenantOf(req), req.actor, req.params.id);
      return reply.type('text/plain').send(String(n));
    });

    app.post('/groups/:id/members/$ref', async (req: FastifyRequest<IdParams>, reply: FastifyReply) => {
      await addGroupMember(ctx.dir, tenantOf(req), req.actor, req.params.id, req.body);
      return reply.status(204).send();
    });

    app.delete('/groups/:id/members/:memberId/$ref', async (req: FastifyRequest<{ Params: { id: string; memberId: string } }>, reply: FastifyReply) => {
      await removeGroupMember(ctx.dir, tenantOf(req), req.actor, req.params.id, req.params.memberId);
      return reply.status(204).send();
    });

    for (const kind of ['user', 'group'] as const) {
      app.get(`/${kind}s/:id/memberOf`, async (req: FastifyRequest<IdParams>) => {
        const q = readNavigationQuery(req);
        const result = await listMemberOf(ctx.dir, tenantOf(req), req.actor, kind, req.params.id, q.after, q.top);
        const select = q.select ? `(${q.select.join(',')})` : '';
        const value = result.items.map((g) => renderDirectoryObject(req, { type: 'group', object: g }, q.select));
        return page(req, `${root(req)}/$metadata#directoryObjects${select}`, value, result.next);
      });
    }
  };
}
