// GET /users/delta and /groups/delta: the first call takes $select, $filter (ids) and Prefer
// odata.maxpagesize; every later call follows an opaque @odata.nextLink ($skiptoken) or
// @odata.deltaLink ($deltatoken) that carries them. Planning is in directory/delta.ts; this module
// parses, reads the changes and objects of the caller's tenant (directory/changes.ts), and renders.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors } from '../../domain/errors.js';
import type { FilterNode } from '../../domain/odata.js';
import { allUserProperties, defaultUserSelect } from '../../domain/user.js';
import { requireEnumerate } from '../../directory/access.js';
import { defaultGroupSelect } from '../../directory/groups.js';
import {
  checkFresh, type DeltaObject, type DeltaResource, type DeltaState, decodeDeltaToken, encodeDeltaToken, type Entry,
  MAX_DELTA_IDS, type MemberRef, memberIdsIn, planChanges, planInitial, type ResourceShape,
} from '../../directory/delta.js';
import { changeReader } from '../../directory/changes.js';
import { userFromData } from '../../store/repos/users.js';
import type { Db } from '../../store/store.js';
import type { GraphContext } from './index.js';
import { serviceRoot, tenantOf } from './index.js';
import { DEFAULT_TOP, MAX_TOP, parseSelectParam, type Query } from './query.js';
import { parseFilter } from './odata/index.js';

/** Group properties a delta query may select and track (`members` is reported as members@delta). */
const groupDeltaProperties = new Set<string>([...defaultGroupSelect, 'members']);

interface Resource {
  shape: ResourceShape;
  table: 'users' | 'groups';
  collection: string;
  permission: string;
  selectable: ReadonlySet<string>;
  parse(data: string): Record<string, unknown>;
}

const resources: Record<DeltaResource, Resource> = {
  user: {
    // A mail change rewrites proxyAddresses; a UPN change rewrites the UPN identity.
    shape: { resource: 'user', defaults: defaultUserSelect, derived: { mail: ['proxyAddresses'], userPrincipalName: ['identities'], externalUserState: ['externalUserStateChangeDateTime'] } },
    table: 'users', collection: 'users', permission: 'User.Read.All', selectable: allUserProperties,
    parse: (d) => userFromData(d) as unknown as Record<string, unknown>,
  },
  group: {
    shape: { resource: 'group', defaults: null, derived: { mail: ['proxyAddresses'] } },
    table: 'groups', collection: 'groups', permission: 'Group.Read.All', selectable: groupDeltaProperties,
    parse: (d) => JSON.parse(d) as Record<string, unknown>,
  },
};

/** Query options Graph's delta functions don't take; refused rather than silently ignored. */
const unsupported = ['$orderby', '$search', '$expand', '$count', '$skip', '$top'];

/** `$filter=id eq 'a' or id eq 'b'` (the one filter Graph's directory delta takes), as lowercased ids. */
function parseIdFilter(raw: string | undefined): string[] | null {
  if (raw === undefined) return null;
  const ids: string[] = [];
  const walk = (n: FilterNode): boolean => {
    if (n.kind === 'or') return walk(n.left) && walk(n.right);
    if (n.kind !== 'compare' || n.op !== 'eq' || n.path.length !== 1 || n.path[0] !== 'id') return false;
    if (n.value.kind !== 'string' && n.value.kind !== 'guid') return false;
    ids.push(n.value.value.toLowerCase());
    return true;
  };
  if (!walk(parseFilter(raw))) {
    throw errors.unsupportedQuery("Delta queries support $filter only on id, as 'id eq' terms joined by 'or'.");
  }
  if (ids.length > MAX_DELTA_IDS) throw errors.unsupportedQuery(`A delta query can filter on at most ${MAX_DELTA_IDS} ids.`);
  return [...new Set(ids)];
}

/**
 * A delta token is the client's to tamper with: beyond its shape (directory/delta.ts), every string in
 * it is bounded and NUL-free (they reach SQL) and its $select names only properties of the resource.
 */
function checkedState(state: DeltaState, res: Resource): DeltaState {
  const bad = () => errors.badRequest('The delta token or skip token is invalid or malformed.');
  const text = (v: string, max: number) => v.length <= max && !v.includes('\u0000');
  if (state.s && (state.s.length > res.selectable.size || state.s.some((n) => !res.selectable.has(n)))) throw bad();
  if (state.f?.some((id) => !text(id, 256))) throw bad();
  if (state.p && !text(state.p.a, 256)) throw bad();
  if (Number.isNaN(Date.parse(state.i))) throw bad();
  if (!Number.isSafeInteger(state.w) || (state.p?.k === 'chg' && !Number.isSafeInteger(state.p.u))) throw bad();
  return state;
}

/** `Prefer: odata.maxpagesize=N, return=minimal` (several headers or one comma list). */
function parsePrefer(req: FastifyRequest): { pageSize?: number; minimal: boolean } {
  const raw = [req.headers.prefer ?? []].flat().join(',');
  const out: { pageSize?: number; minimal: boolean } = { minimal: false };
  for (const part of raw.split(',')) {
    const [k, v] = part.split('=').map((x) => x.trim().toLowerCase());
    if (k === 'odata.maxpagesize' && v && /^\d+$/.test(v) && Number(v) >= 1) out.pageSize = Math.min(Number(v), MAX_TOP);
    if (k === 'return' && v === 'minimal') out.minimal = true;
  }
  return out;
}

async function loadObjects(db: Db, res: Resource, tenantId: string, ids: readonly string[]): Promise<Map<string, DeltaObject>> {
  const rows = await changeReader.objects(db, tenantId, res.shape.resource, ids);
  return new Map(rows.map((r) => [r.id, { id: r.id, data: res.parse(r.data), deleted: r.deleted }]));
}

/** Live objects in id order after `afterId`; one extra row tells whether another page follows. */
async function listLive(db: Db, res: Resource, tenantId: string, afterId: string, ids: readonly string[] | null, limit: number) {
  const rows = await changeReader.liveObjects(db, tenantId, res.shape.resource, afterId, ids, limit);
  return rows.map((r): DeltaObject => ({ id: r.id, data: res.parse(r.data), deleted: false }));
}

async function currentMembers(db: Db, tenantId: string, groupIds: readonly string[]): Promise<Map<string, MemberRef[]>> {
  const out = new Map<string, MemberRef[]>();
  for (const r of await changeReader.groupMembers(db, tenantId, groupIds)) {
    out.set(r.groupId, [...(out.get(r.groupId) ?? []), { id: r.memberId, type: r.memberType }]);
  }
  return out;
}

/** Removed members are gone from group_members; a member id that names a group is a group, else a user. */
async function memberTypes(db: Db, tenantId: string, ids: readonly string[]): Promise<Map<string, string>> {
  return new Map((await changeReader.groupIdsAmong(db, tenantId, ids)).map((id) => [id, 'group']));
}

async function handle(ctx: GraphContext, kind: DeltaResource, req: FastifyRequest, reply: FastifyReply) {
  const res = resources[kind];
  requireEnumerate(req.actor, res.permission);
  const tenantId = tenantOf(req);
  const db = ctx.deps.store.db;
  const now = ctx.deps.clock.now();
  const q = req.query as Query;
  const prefer = parsePrefer(req);
  for (const p of unsupported) if (q[p] !== undefined) throw errors.unsupportedQuery(`The query parameter '${p}' is not supported with delta queries.`);

  const token = q.$skiptoken ?? (q.$deltatoken === 'latest' ? undefined : q.$deltatoken);
  let state: DeltaState;
  if (token !== undefined) {
    if (q.$skiptoken !== undefined && q.$deltatoken !== undefined) throw errors.badRequest('Use either $skiptoken or $deltatoken, not both.');
    // The first call's options live in the token; a different $select now would silently change what is tracked.
    if (q.$select !== undefined || q.$filter !== undefined) {
      throw errors.badRequest('Query options belong to the first delta call only; follow the nextLink or deltaLink as given.');
    }
    state = checkedState(decodeDeltaToken(token, kind), res);
    const [floor, head] = await Promise.all([changeReader.floor(db, tenantId), changeReader.head(db, tenantId)]);
    checkFresh(state, now, floor, head);
  } else {
    const select = parseSelectParam(q.$select, res.selectable, kind);
    state = {
      v: 1, r: kind, w: await changeReader.head(db, tenantId), s: select ?? null, f: parseIdFilter(q.$filter),
      n: prefer.pageSize ?? DEFAULT_TOP, i: now.toISOString(), p: q.$deltatoken === 'latest' ? null : { k: 'init', a: '' },
    };
    if (q.$deltatoken === 'latest') return render(req, reply, ctx, res, state, [], null, prefer);
  }
  const size = prefer.pageSize ?? state.n;
  const issued = now.toISOString();

  if (state.p?.k === 'init') {
    const objects = await listLive(db, res, tenantId, state.p.a, state.f, size + 1);
    const page = objects.slice(0, size);
    const members = kind === 'group' && (state.s === null || state.s.includes('members'))
      ? await currentMembers(db, tenantId, page.map((o) => o.id)) : new Map<string, MemberRef[]>();
    const entries = planInitial(res.shape, page, state.s, members);
    const last = page[page.length - 1];
    const next: DeltaState = objects.length > size && last
      ? { ...state, i: issued, p: { k: 'init', a: last.id } }
      : { ...state, i: issued, p: null };
    return render(req, reply, ctx, res, next, entries, next.p, prefer);
  }

  // Change round: upTo is pinned on its first page so later pages page through the same change set.
  const upTo = state.p?.k === 'chg' ? state.p.u : await changeReader.head(db, tenantId);
  const afterId = state.p?.k === 'chg' ? state.p.a : '';
  const found = await changeReader.changedObjects(db, tenantId, kind, state.w, upTo, { afterId, limit: size + 1, ids: state.f });
  const ids = found.slice(0, size);
  const rows = await changeReader.ofObjects(db, tenantId, kind, ids, state.w, upTo);
  const objects = await loadObjects(db, res, tenantId, ids);
  const members = kind === 'group' ? await currentMembers(db, tenantId, ids) : new Map<string, MemberRef[]>();
  const types = kind === 'group' ? await memberTypes(db, tenantId, memberIdsIn(rows)) : new Map<string, string>();
  const entries = planChanges({
    shape: res.shape, ids, rows, objects, select: state.s, minimal: prefer.minimal, members, memberTypes: types,
  });
  const lastId = ids[ids.length - 1];
  const next: DeltaState = found.length > size && lastId
    ? { ...state, i: issued, p: { k: 'chg', u: upTo, a: lastId } }
    : { ...state, w: upTo, i: issued, p: null };
  return render(req, reply, ctx, res, next, entries, next.p, prefer);
}

function render(
  req: FastifyRequest, reply: FastifyReply, ctx: GraphContext, res: Resource, next: DeltaState, value: Entry[],
  more: DeltaState['p'], prefer: { pageSize?: number; minimal: boolean },
) {
  const root = serviceRoot(req, ctx.version);
  const link = `${root}/${res.collection}/delta?${more ? '$skiptoken' : '$deltatoken'}=${encodeDeltaToken(next)}`;
  const applied = [
    ...(prefer.pageSize !== undefined ? [`odata.maxpagesize=${prefer.pageSize}`] : []),
    ...(prefer.minimal ? ['return=minimal'] : []),
  ];
  if (applied.length) reply.header('preference-applied', applied.join(', '));
  return {
    '@odata.context': `${root}/$metadata#${res.collection}${next.s ? `(${next.s.join(',')})` : ''}`,
    value,
    // A page carries exactly one of the two links: nextLink while the round goes on, deltaLink at its end.
    ...(more ? { '@odata.nextLink': link } : { '@odata.deltaLink': link }),
  };
}

export function deltaRoutes(ctx: GraphContext) {
  return async (app: FastifyInstance) => {
    // Static segments win over `/users/:id` in Fastify's router, so these are never read as an object id.
    for (const kind of ['user', 'group'] as const) {
      const path = `/${resources[kind].collection}/delta`;
      app.get(path, (req, reply) => handle(ctx, kind, req, reply));
      // Graph also answers the function-call spelling some SDKs emit.
      app.get(`${path}()`, (req, reply) => handle(ctx, kind, req, reply));
    }
  };
}
