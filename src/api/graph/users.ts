// /users and /me.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { userCatalog } from '../../domain/catalog.js';
import { errors } from '../../domain/errors.js';
import { allUserProperties, defaultUserSelect, type User } from '../../domain/user.js';
import { guestVisibleUserProperties } from '../../directory/access.js';
import { createUser, deleteUser, getUser, updateUser } from '../../directory/users.js';
import type { GraphContext } from './index.js';
import { serviceRoot, tenantOf } from './index.js';
import { parseSelectParam, project, registerCollection } from './query.js';

type IdParams = { Params: { id: string } };

export function renderUser(req: FastifyRequest, ctx: GraphContext, user: User, select?: string[]) {
  // A default guest sees other users through a narrow window; $select can't widen it.
  const limited = req.actor.readLevel === 'byIdLimited' && req.actor.user?.user.id !== user.id;
  let keys = select;
  if (limited) keys = (select ?? [...defaultUserSelect]).filter((k) => guestVisibleUserProperties.has(k));
  const context = `${serviceRoot(req, ctx.version)}/$metadata#users${select ? `(${select.join(',')})` : ''}/$entity`;
  return { '@odata.context': context, ...project(user, keys, defaultUserSelect) };
}

export function userRoutes(ctx: GraphContext) {
  return async (app: FastifyInstance) => {
    registerCollection(app, ctx.deps.store.db, ctx.version, {
      entitySet: 'users', catalog: userCatalog, permission: 'User.Read.All', allowedSelect: allUserProperties,
      resource: 'user', defaultSelect: defaultUserSelect,
    });

    app.post('/users', async (req, reply) => {
      const user = await createUser(ctx.dir, tenantOf(req), req.actor, req.body);
      return reply.status(201).send({ ...renderUser(req, ctx, user, Object.keys(user).filter((k) => allUserProperties.has(k))) });
    });

    app.get('/users/:id', async (req: FastifyRequest<IdParams>) => {
      const select = parseSelectParam((req.query as Record<string, string>).$select, allUserProperties, 'user');
      const user = await getUser(ctx.dir, tenantOf(req), req.actor, req.params.id);
      return renderUser(req, ctx, user, select);
    });

    app.patch('/users/:id', async (req: FastifyRequest<IdParams>, reply: FastifyReply) => {
      await updateUser(ctx.dir, tenantOf(req), req.actor, req.params.id, req.body);
      return reply.status(204).send();
    });

    app.delete('/users/:id', async (req: FastifyRequest<IdParams>, reply: FastifyReply) => {
      await deleteUser(ctx.dir, tenantOf(req), req.actor, req.params.id);
      return reply.status(204).send();
    });

    const me = (req: FastifyRequest) => {
      const user = req.actor.user;
      if (!user) throw errors.badRequest('/me request is only valid with delegated authentication flow.');
      return user;
    };
    app.get('/me', async (req) => {
      const select = parseSelectParam((req.query as Record<string, string>).$select, allUserProperties, 'user');
      return renderUser(req, ctx, me(req).user, select);
    });
    app.patch('/me', async (req, reply) => {
      await updateUser(ctx.dir, tenantOf(req), req.actor, me(req).user.id, req.body);
      return reply.status(204).send();
    });
  };
}
