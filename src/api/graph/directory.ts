// /directory/deletedItems (the recycle bin: soft-deleted users; security groups never land here because
// they are deleted permanently) and /directoryObjects/{id}.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { userCatalog } from '../../domain/catalog.js';
import { errors } from '../../domain/errors.js';
import { allUserProperties, defaultUserSelect } from '../../domain/user.js';
import { type Actor, requireEnumerate } from '../../directory/access.js';
import { allGroupProperties, getDirectoryObject } from '../../directory/groups.js';
import { getDeletedUser, purgeUser, restoreUser } from '../../directory/users.js';
import { renderDirectoryObject } from './groups.js';
import type { GraphContext } from './index.js';
import { serviceRoot, tenantOf } from './index.js';
import { collectionJson, countCollection, JSON_TYPE, parseSelectParam, project, readCollectionQuery, renderKeys, runCollectionQuery } from './query.js';

type IdParams = { Params: { id: string } };
type Query = Record<string, string | undefined>;

/** Deleted items show when each object was deleted, beside the user's default properties. */
const deletedUserSelect = [...defaultUserSelect, 'deletedDateTime'];

const directoryObjectProperties = new Set([...allUserProperties, ...allGroupProperties]);

/** Casts Graph accepts on deletedItems; only users can be soft-deleted on this server, the rest are always empty. */
const emptyCasts = new Set(['microsoft.graph.group', 'microsoft.graph.application', 'microsoft.graph.servicePrincipal',
  'microsoft.graph.administrativeUnit', 'microsoft.graph.device']);

/** The recycle bin holds whole objects: default guests and restricted users don't read it. */
function requireRecycleBinRead(actor: Actor): void {
  if (actor.principal.kind === 'user' && actor.readLevel !== 'all') throw errors.denied();
}

export function directoryRoutes(ctx: GraphContext) {
  return async (app: FastifyInstance) => {
    // Restore is documented without a body, and clients send `Content-Type: application/json` with none;
    // within this module an empty JSON body reads as no body instead of a 400.
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
      const text = String(body);
      if (text.trim() === '') return done(null, undefined);
      try {
        done(null, JSON.parse(text));
      } catch {
        done(errors.badRequest('Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.', 'BadRequest'), undefined);
      }
    });

    const root = (req: FastifyRequest) => serviceRoot(req, ctx.version);

    app.get('/directory/deletedItems', async () => {
      throw errors.unsupportedQuery('Searches against this resource are not supported. Only specific instances can be queried.');
    });

    app.get('/directory/deletedItems/microsoft.graph.user', async (req, reply) => {
      requireEnumerate(req.actor, 'User.Read.All');
      requireRecycleBinRead(req.actor);
      const query = readCollectionQuery(req, allUserProperties, 'user');
      const keys = renderKeys(query.select, deletedUserSelect);
      const result = await runCollectionQuery(ctx.deps.store.db, userCatalog, tenantOf(req), query, true, keys);
      const body = collectionJson(req, ctx.version, 'directoryObjects/microsoft.graph.user', query.select, result.data, result.count, result.next);
      return reply.type(JSON_TYPE).send(body);
    });

    app.get('/directory/deletedItems/microsoft.graph.user/$count', async (req, reply) => {
      requireEnumerate(req.actor, 'User.Read.All');
      requireRecycleBinRead(req.actor);
      const n = await countCollection(req, ctx.deps.store.db, userCatalog, tenantOf(req), true);
      return reply.type('text/plain').send(String(n));
    });

    app.get('/directory/deletedItems/:id', async (req: FastifyRequest<IdParams>) => {
      const id = req.params.id;
      if (emptyCasts.has(id)) {
        requireEnumerate(req.actor, id === 'microsoft.graph.group' ? 'Group.Read.All' : 'Directory.Read.All');
        requireRecycleBinRead(req.actor);
        // Still validate the query, so a request that would fail on Graph fails here too.
        readCollectionQuery(req, allUserProperties, 'directoryObject');
        return { '@odata.context': `${root(req)}/$metadata#directoryObjects/${id}`, value: [] };
      }
      if (id.startsWith('microsoft.graph.')) throw errors.badRequest(`Resource not found for the segment '${id}'.`, 'BadRequest');
      requireRecycleBinRead(req.actor);
      const select = parseSelectParam((req.query as Query).$select, allUserProperties, 'user');
      const user = await getDeletedUser(ctx.dir, tenantOf(req), req.actor, id);
      return {
        '@odata.context': `${root(req)}/$metadata#directoryObjects/$entity`,
        '@odata.type': '#microsoft.graph.user',
        ...project(user, select, deletedUserSelect),
      };
    });

    app.post('/directory/deletedItems/:id/restore', async (req: FastifyRequest<IdParams>) => {
      const user = await restoreUser(ctx.dir, tenantOf(req), req.actor, req.params.id);
      return {
        '@odata.context': `${root(req)}/$metadata#directoryObjects/$entity`,
        '@odata.type': '#microsoft.graph.user',
        ...project(user, undefined, deletedUserSelect),
      };
    });

    app.delete('/directory/deletedItems/:id', async (req: FastifyRequest<IdParams>, reply: FastifyReply) => {
      await purgeUser(ctx.dir, tenantOf(req), req.actor, req.params.id);
      return reply.status(204).send();
    });

    app.get('/directoryObjects/:id', async (req: FastifyRequest<IdParams>) => {
      const select = parseSelectParam((req.query as Query).$select, directoryObjectProperties, 'directoryObject');
      const o = await getDirectoryObject(ctx.dir, tenantOf(req), req.actor, req.params.id);
      return { '@odata.context': `${root(req)}/$metadata#directoryObjects/$entity`, ...renderDirectoryObject(req, o, select) };
    });
  };
}
