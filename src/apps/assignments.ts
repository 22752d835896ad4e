// App role assignments: users and security groups assigned to a service principal. Each create and
// delete appends a change-log row for the principal in the same transaction; the sync engine learns of
// scope changes from it. Group assignment means the group's direct members (Entra's rule for CTS).
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Actor } from '../directory/access.js';
import { errors } from '../domain/errors.js';
import { type AppRoleAssignmentRecord, appRoleAssignmentsRepo, type PrincipalType } from '../store/repos/appRoleAssignments.js';
import { changesRepo } from '../store/repos/changes.js';
import { groupsRepo } from '../store/repos/groups.js';
import { servicePrincipalsRepo } from '../store/repos/servicePrincipals.js';
import { usersRepo } from '../store/repos/users.js';
import type { Db } from '../store/store.js';
import { requireAssignmentRead, requireAssignmentWrite } from './access.js';
import { type AppsContext, parseBody } from './context.js';
import { findServicePrincipal, type ListPage } from './servicePrincipals.js';
import { DEFAULT_ACCESS_ROLE_ID } from './template.js';

/** An appRoleAssignment as Graph renders it. */
export interface AppRoleAssignment {
  id: string;
  deletedDateTime: null;
  appRoleId: string;
  createdDateTime: string;
  principalDisplayName: string | null;
  principalId: string;
  principalType: PrincipalType;
  resourceDisplayName: string | null;
  resourceId: string;
}

const guid = z.guid().transform((s) => s.toLowerCase());
const assignmentBody = {
  type: 'appRoleAssignment',
  declared: new Set(['appRoleId', 'createdDateTime', 'principalDisplayName', 'principalId', 'principalType', 'resourceDisplayName', 'resourceId', 'deletedDateTime']),
  writable: { appRoleId: guid, principalId: guid, resourceId: guid },
};

/**
 * Entra's assignment ids are 43-character base64url strings, not GUIDs; ours are the principal's 16
 * bytes and 16 random ones, in the same shape.
 */
function newAssignmentId(principalId: string): string {
  return Buffer.concat([Buffer.from(principalId.replace(/-/g, ''), 'hex'), randomBytes(16)]).toString('base64url');
}

const changeFor = (a: { principalId: string; principalType: PrincipalType }) => ({
  objectType: a.principalType === 'User' ? ('user' as const) : ('group' as const), objectId: a.principalId, change: 'updated' as const,
  props: ['appRoleAssignments'],
});

async function resolvePrincipal(db: Db, tenantId: string, id: string): Promise<{ type: PrincipalType; displayName: string | null }> {
  const user = await usersRepo.get(db, tenantId, id);
  if (user) return { type: 'User', displayName: user.user.displayName ?? null };
  const group = await groupsRepo.get(db, tenantId, id);
  if (group) {
    // Cross-tenant synchronization scopes by security groups only; Entra refuses the others at job time.
    if (!group.securityEnabled) throw errors.badRequest(`Group '${id}' is not a security group; only security-enabled groups can be assigned.`);
    return { type: 'Group', displayName: group.displayName ?? null };
  }
  if (await servicePrincipalsRepo.get(db, tenantId, id)) {
    throw errors.badRequest('Only users and groups can be assigned to this application; service principals cannot.');
  }
  throw errors.notFound(id);
}

export async function createAssignment(ctx: AppsContext, tenantId: string, actor: Actor, spId: string, body: unknown): Promise<AppRoleAssignment> {
  requireAssignmentWrite(actor);
  const props = parseBody(assignmentBody, body);
  for (const key of ['principalId', 'resourceId', 'appRoleId']) {
    if (props[key] === undefined) throw errors.badRequest(`Property '${key}' is required when creating the resource.`);
  }
  const now = ctx.clock.now().toISOString();
  const result = await ctx.store.transaction(async (db) => {
    const sp = await findServicePrincipal(db, tenantId, spId);
    if (props.resourceId !== sp.id) throw errors.badRequest(`The resourceId '${String(props.resourceId)}' does not match the service principal '${spId}' of the request URL.`);
    const appRoleId = String(props.appRoleId);
    if (appRoleId !== DEFAULT_ACCESS_ROLE_ID && !sp.appRoles.some((r) => r.id === appRoleId && r.isEnabled)) {
      throw errors.badRequest(`Permission being assigned was not found on application '${sp.appId}'.`);
    }
    const principalId = String(props.principalId);
    const principal = await resolvePrincipal(db, tenantId, principalId);
    if (await appRoleAssignmentsRepo.exists(db, tenantId, sp.id, principalId, appRoleId)) {
      throw errors.badRequest('Permission being assigned already exists on the object.');
    }
    const record: AppRoleAssignmentRecord = {
      id: newAssignmentId(principalId), resourceId: sp.id, principalId, principalType: principal.type, appRoleId,
      principalDisplayName: principal.displayName, createdDateTime: now,
    };
    await appRoleAssignmentsRepo.insert(db, tenantId, record);
    await changesRepo.append(db, tenantId, [changeFor(record)], now);
    return render(record, sp.displayName);
  });
  ctx.wake?.('appRoleAssignments', tenantId);
  return result;
}

export async function deleteAssignment(ctx: AppsContext, tenantId: string, actor: Actor, spId: string, assignmentId: string): Promise<void> {
  requireAssignmentWrite(actor);
  const now = ctx.clock.now().toISOString();
  await ctx.store.transaction(async (db) => {
    const sp = await findServicePrincipal(db, tenantId, spId);
    const a = await appRoleAssignmentsRepo.get(db, tenantId, assignmentId);
    if (!a || a.resourceId !== sp.id) throw errors.notFound(assignmentId);
    await appRoleAssignmentsRepo.remove(db, tenantId, a.id);
    await changesRepo.append(db, tenantId, [changeFor(a)], now);
  });
  ctx.wake?.('appRoleAssignments', tenantId);
}

const render = (a: AppRoleAssignmentRecord, resourceDisplayName: string | null, principalDisplayName = a.principalDisplayName): AppRoleAssignment => ({
  id: a.id, deletedDateTime: null, appRoleId: a.appRoleId, createdDateTime: a.createdDateTime, principalDisplayName,
  principalId: a.principalId, principalType: a.principalType, resourceDisplayName, resourceId: a.resourceId,
});

/** Renders a page with the principals' and resources' current display names. */
async function renderPage(db: Db, tenantId: string, rows: AppRoleAssignmentRecord[], top: number): Promise<ListPage<AppRoleAssignment>> {
  const page = rows.slice(0, top);
  const names = await appRoleAssignmentsRepo.displayNames(db, tenantId, page.map((a) => a.principalId));
  const resources = new Map<string, string | null>();
  for (const id of new Set(page.map((a) => a.resourceId))) resources.set(id, (await servicePrincipalsRepo.get(db, tenantId, id))?.displayName ?? null);
  const items = page.map((a) => render(a, resources.get(a.resourceId) ?? null, names.get(a.principalId) ?? a.principalDisplayName));
  return rows.length > top ? { items, next: page[page.length - 1]!.id } : { items };
}

/** `GET /servicePrincipals/{id}/appRoleAssignedTo`. */
export async function listAssignedTo(
  ctx: AppsContext, tenantId: string, actor: Actor, spId: string, afterId: string, top: number,
): Promise<ListPage<AppRoleAssignment>> {
  requireAssignmentRead(actor);
  const db = ctx.store.db;
  const sp = await findServicePrincipal(db, tenantId, spId);
  return renderPage(db, tenantId, await appRoleAssignmentsRepo.ofResource(db, tenantId, sp.id, afterId, top + 1), top);
}

/** `GET /users/{id}/appRoleAssignments` and `GET /groups/{id}/appRoleAssignments`; anyone may read their own. */
export async function listAssignmentsOf(
  ctx: AppsContext, tenantId: string, actor: Actor, kind: 'user' | 'group', id: string, afterId: string, top: number,
): Promise<ListPage<AppRoleAssignment>> {
  const db = ctx.store.db;
  const me = actor.user?.user;
  const self = kind === 'user' && me !== undefined && [me.id, me.userPrincipalName.toLowerCase()].includes(id.toLowerCase());
  requireAssignmentRead(actor, kind === 'user' ? 'User.Read.All' : 'Group.Read.All', self);
  const principalId = kind === 'user' ? (await usersRepo.get(db, tenantId, id))?.user.id : (await groupsRepo.get(db, tenantId, id))?.id;
  if (!principalId) throw errors.notFound(id);
  return renderPage(db, tenantId, await appRoleAssignmentsRepo.ofPrincipal(db, tenantId, principalId, afterId, top + 1), top);
}
