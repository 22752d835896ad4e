// /tenantRelationships/multiTenantOrganization: the organization, its member tenants and the caller's
// join request. The tenant is always the caller's; member tenant ids in the path address rows of the
// caller's own organization only.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors } from '../../domain/errors.js';
import type { Member } from '../../domain/mto.js';
import type { FilterNode, Literal } from '../../domain/odata.js';
import {
  addMember, changeRole, createOrganization, getJoinRequest, getMember, getOrganization, listMembers, type MtoAccess, type MtoContext,
  removeMember, requestJoin, updateOrganization,
} from '../../mto/organization.js';
import type { GraphContext } from './index.js';
import { serviceRoot, tenantOf } from './index.js';
import { parseFilter } from './odata/index.js';
import { parseSelectParam, project } from './query.js';
import { templateRoutes } from './templates.js';

const BASE = '/tenantRelationships/multiTenantOrganization';
const memberProperties = ['id', 'tenantId', 'displayName', 'addedByTenantId', 'addedDateTime', 'joinedDateTime', 'role', 'state', 'transitionDetails'];
const basicProperties = ['tenantId', 'displayName'];
const filterable = new Set(['tenantId', 'displayName', 'role', 'state']);

type TenantParams = { Params: { tenantId: string } };
type Query = Record<string, string | undefined>;

export function renderMember(m: Member): Record<string, unknown> {
  return {
    id: m.tenantId, tenantId: m.tenantId, displayName: m.displayName, addedByTenantId: m.addedByTenantId, addedDateTime: m.addedDateTime,
    joinedDateTime: m.joinedDateTime, role: m.role, state: m.state, transitionDetails: m.transition,
  };
}

const literalValue = (l: Literal) => ('value' in l ? String(l.value).toLowerCase() : null);

/** Member lists are small (bounded by the 100-tenant cap plus pending ones), so $filter runs in memory. */
function matches(node: FilterNode, m: Record<string, unknown>): boolean {
  const value = (path: readonly string[]) => {
    const name = path.join('/');
    if (path.length !== 1 || !filterable.has(name)) throw errors.unsupportedQuery(`Unsupported or invalid query filter clause specified for property '${name}' of resource 'MultiTenantOrganizationMember'.`);
    return m[name] === null || m[name] === undefined ? null : String(m[name]).toLowerCase();
  };
  switch (node.kind) {
    case 'and': return matches(node.left, m) && matches(node.right, m);
    case 'or': return matches(node.left, m) || matches(node.right, m);
    case 'not': return !matches(node.operand, m);
    case 'in': return node.values.some((v) => value(node.path) === literalValue(v));
    case 'compare':
      if (node.op === 'eq') return value(node.path) === literalValue(node.value);
      if (node.op === 'ne') return value(node.path) !== literalValue(node.value);
      break;
  }
  throw errors.unsupportedQuery("Unsupported query: only 'eq', 'ne', 'in', 'and', 'or' and 'not' are supported on multiTenantOrganization tenants.");
}

function selectFor(req: FastifyRequest, access: MtoAccess): { keys: string[]; select?: string[] } {
  const raw = (req.query as Query).$select;
  const select = parseSelectParam(raw, new Set(memberProperties), 'multiTenantOrganizationMember');
  const allowed = access === 'basic' ? basicProperties : memberProperties;
  // Basic readers get tenantId and displayName only, whatever $select asks for.
  const keys = (select ?? allowed).filter((k) => allowed.includes(k));
  return { keys, ...(select ? { select } : {}) };
}

export function mtoRoutes(ctx: GraphContext) {
  const mto: MtoContext = {
    store: ctx.deps.store, clock: ctx.deps.clock, ...(ctx.deps.hooks?.wake ? { wake: ctx.deps.hooks.wake } : {}),
  };
  return async (app: FastifyInstance) => {
    await app.register(templateRoutes(ctx));
    const entity = (req: FastifyRequest, path: string) => `${serviceRoot(req, ctx.version)}/$metadata#${path}`;

    app.get(BASE, async (req) => ({
      '@odata.context': entity(req, 'tenantRelationships/multiTenantOrganization/$entity'),
      ...(await getOrganization(mto, tenantOf(req), req.actor)),
    }));
    app.put(BASE, async (req, reply) => {
      const view = await createOrganization(mto, tenantOf(req), req.actor, req.body);
      return reply.status(201).send({ '@odata.context': entity(req, 'tenantRelationships/multiTenantOrganization/$entity'), ...view });
    });
    app.patch(BASE, async (req, reply: FastifyReply) => {
      await updateOrganization(mto, tenantOf(req), req.actor, req.body);
      return reply.status(204).send();
    });

    app.get(`${BASE}/tenants`, async (req) => {
      const { access, members } = await listMembers(mto, tenantOf(req), req.actor);
      const q = req.query as Query;
      const filter = q.$filter !== undefined ? parseFilter(q.$filter) : undefined;
      const { keys, select } = selectFor(req, access);
      const rows = members.map(renderMember).filter((m) => !filter || matches(filter, m));
      return {
        '@odata.context': entity(req, `tenantRelationships/multiTenantOrganization/tenants${select ? `(${select.join(',')})` : ''}`),
        value: rows.map((m) => project(m, keys, keys)),
      };
    });
    app.post(`${BASE}/tenants`, async (req, reply) => {
      const m = await addMember(mto, tenantOf(req), req.actor, req.body);
      return reply.status(201).send({ '@odata.context': entity(req, 'tenantRelationships/multiTenantOrganization/tenants/$entity'), ...renderMember(m) });
    });
    app.get(`${BASE}/tenants/:tenantId`, async (req: FastifyRequest<TenantParams>) => {
      const { access, member } = await getMember(mto, tenantOf(req), req.actor, req.params.tenantId);
      const { keys } = selectFor(req, access);
      return { '@odata.context': entity(req, 'tenantRelationships/multiTenantOrganization/tenants/$entity'), ...project(renderMember(member), keys, keys) };
    });
    app.patch(`${BASE}/tenants/:tenantId`, async (req: FastifyRequest<TenantParams>, reply: FastifyReply) => {
      await changeRole(mto, tenantOf(req), req.actor, req.params.tenantId, req.body);
      return reply.status(204).send();
    });
    app.delete(`${BASE}/tenants/:tenantId`, async (req: FastifyRequest<TenantParams>, reply: FastifyReply) => {
      await removeMember(mto, tenantOf(req), req.actor, req.params.tenantId);
      return reply.status(204).send();
    });

    app.get(`${BASE}/joinRequest`, async (req) => ({
      '@odata.context': entity(req, 'tenantRelationships/multiTenantOrganization/joinRequest/$entity'),
      ...(await getJoinRequest(mto, tenantOf(req), req.actor)),
    }));
    app.patch(`${BASE}/joinRequest`, async (req, reply: FastifyReply) => {
      await requestJoin(mto, tenantOf(req), req.actor, req.body);
      return reply.status(204).send();
    });
  };
}
