// /me/people and /users/{id}/people: people search for the signed-in user (collaboration/people.ts).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DEFAULT_PEOPLE_TOP, MAX_PEOPLE_TOP, MAX_PEOPLE_WINDOW, personPropertySet, searchPeople } from '../../collaboration/index.js';
import { DomainError, errors } from '../../domain/errors.js';
import type { GraphContext } from './index.js';
import { serviceRoot, tenantOf } from './index.js';
import { JSON_TYPE, parseSelectParam, type Query } from './query.js';

const count = (raw: string | undefined, name: string, fallback: number, min: number, max: number): number => {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) throw errors.badRequest(`Invalid value for ${name}: '${raw}'. Must be between ${min} and ${max} inclusive.`);
  return n;
};

export function peopleRoutes(ctx: GraphContext) {
  return async (app: FastifyInstance) => {
    const list = async (req: FastifyRequest, userId: string) => {
      const q = req.query as Query;
      // People are ranked for the search; other query options of Graph's people API are not offered.
      for (const unsupported of ['$filter', '$orderby', '$expand', '$count', '$skiptoken']) {
        if (q[unsupported] !== undefined) throw errors.badRequest(`The query option '${unsupported}' is not supported on people.`, 'Request_UnsupportedQuery');
      }
      const select = parseSelectParam(q.$select, personPropertySet, 'person');
      const top = count(q.$top, '$top', DEFAULT_PEOPLE_TOP, 1, MAX_PEOPLE_TOP);
      const skip = count(q.$skip, '$skip', 0, 0, MAX_PEOPLE_WINDOW);
      const page = await searchPeople(ctx.deps.store.db, tenantOf(req), req.actor, { ...(q.$search !== undefined ? { search: q.$search } : {}), top, skip, ...(select ? { select } : {}) });
      const root = serviceRoot(req, ctx.version);
      const body: Record<string, unknown> = { '@odata.context': `${root}/$metadata#users('${userId}')/people${select ? `(${select.join(',')})` : ''}`, value: page.value };
      if (page.more && skip + 2 * top <= MAX_PEOPLE_WINDOW) {
        const next = new URLSearchParams(req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '');
        next.set('$skip', String(skip + top));
        next.set('$top', String(top));
        body['@odata.nextLink'] = `${req.protocol}://${req.host}${req.url.split('?')[0]}?${next.toString()}`;
      }
      return body;
    };
    app.get('/me/people', async (req, reply) => {
      if (!req.actor.user) throw errors.badRequest('/me request is only valid with delegated authentication flow.');
      return reply.type(JSON_TYPE).send(await list(req, req.actor.user.user.id));
    });
    app.get('/users/:id/people', async (req: FastifyRequest<{ Params: { id: string } }>, reply) => {
      const me = req.actor.user?.user;
      if (!me) throw new DomainError('forbidden', 'Authorization_RequestDenied', 'People search is offered to signed-in users (delegated tokens) only.');
      const ref = req.params.id.toLowerCase();
      if (ref !== me.id && ref !== me.userPrincipalName.toLowerCase()) throw errors.denied();
      return reply.type(JSON_TYPE).send(await list(req, me.id));
    });
  };
}
