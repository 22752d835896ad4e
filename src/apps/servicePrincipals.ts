// Service principal use cases: read, list, update, delete. Deleting one removes its assignments (each
// principal gets its change-log row) and, through the context's onDelete, its synchronization.
import { z } from 'zod';
import type { Actor } from '../directory/access.js';
import { errors } from '../domain/errors.js';
import type { FilterNode } from '../domain/odata.js';
import { appRoleAssignmentsRepo } from '../store/repos/appRoleAssignments.js';
import { countObjects } from '../store/repos/applications.js';
import { type Change, changesRepo } from '../store/repos/changes.js';
import { type ServicePrincipal, type ServicePrincipalRecord, servicePrincipalsRepo } from '../store/repos/servicePrincipals.js';
import type { Db } from '../store/store.js';
import { requireAppsRead, requireAppsWrite } from './access.js';
import { type AppsContext, parseBody } from './context.js';
import { toObjectFilter } from './query.js';
import { allServicePrincipalProperties } from './template.js';

export interface ListInput {
  filter?: FilterNode;
  afterId: string;
  top: number;
  count: boolean;
}

export interface ListPage<T> {
  items: T[];
  /** Id to continue after, when there may be more. */
  next?: string;
  count?: number;
}

const url = z.string().max(2048).nullable();
const spBody = {
  type: 'servicePrincipal',
  declared: allServicePrincipalProperties,
  writable: {
    accountEnabled: z.boolean(),
    appRoleAssignmentRequired: z.boolean(),
    appDescription: z.string().max(1024).nullable(),
    description: z.string().max(1024).nullable(),
    displayName: z.string().min(1).max(256),
    homepage: url,
    loginUrl: url,
    logoutUrl: url,
    notes: z.string().max(1024).nullable(),
    notificationEmailAddresses: z.array(z.email()).max(100),
    preferredSingleSignOnMode: z.enum(['password', 'saml', 'notSupported', 'oidc']).nullable(),
    tags: z.array(z.string().min(1).max(256)).max(100),
  },
};

export async function findServicePrincipal(db: Db, tenantId: string, id: string): Promise<ServicePrincipalRecord> {
  const sp = await servicePrincipalsRepo.get(db, tenantId, id);
  if (!sp) throw errors.notFound(id);
  return sp;
}

export async function getServicePrincipal(ctx: AppsContext, tenantId: string, actor: Actor, id: string): Promise<ServicePrincipal> {
  requireAppsRead(actor);
  return (await findServicePrincipal(ctx.store.db, tenantId, id)).object;
}

export async function listServicePrincipals(ctx: AppsContext, tenantId: string, actor: Actor, q: ListInput): Promise<ListPage<ServicePrincipal>> {
  requireAppsRead(actor);
  const filter = q.filter ? toObjectFilter(q.filter, 'ServicePrincipal') : undefined;
  const rows = await servicePrincipalsRepo.list(ctx.store.db, tenantId, { ...(filter ? { filter } : {}), afterId: q.afterId, limit: q.top + 1 });
  const items = rows.slice(0, q.top).map((r) => r.object);
  return {
    items,
    ...(rows.length > q.top ? { next: items[items.length - 1]!.id } : {}),
    ...(q.count ? { count: await countObjects(ctx.store.db, 'service_principals', tenantId, filter) } : {}),
  };
}

export async function updateServicePrincipal(ctx: AppsContext, tenantId: string, actor: Actor, id: string, body: unknown): Promise<void> {
  requireAppsWrite(actor);
  const props = parseBody(spBody, body);
  await ctx.store.transaction(async (db) => {
    const sp = await findServicePrincipal(db, tenantId, id);
    await servicePrincipalsRepo.update(db, tenantId, { ...sp.object, ...props } as ServicePrincipal);
  });
}

export async function deleteServicePrincipal(ctx: AppsContext, tenantId: string, actor: Actor, id: string): Promise<void> {
  requireAppsWrite(actor);
  const now = ctx.clock.now().toISOString();
  const changed = await ctx.store.transaction(async (db) => removeServicePrincipal(ctx, db, tenantId, await findServicePrincipal(db, tenantId, id), now));
  if (changed) ctx.wake?.('appRoleAssignments', tenantId);
}

/** Deletes a service principal with everything hanging off it, inside the caller's transaction. Returns how many assignments went. */
export async function removeServicePrincipal(ctx: AppsContext, db: Db, tenantId: string, sp: ServicePrincipalRecord, now: string): Promise<number> {
  // The one place synchronization hears of a deleted configuration: its jobs and secrets go in this transaction.
  await ctx.onDelete?.(db, tenantId, sp.id);
  const removed = await appRoleAssignmentsRepo.removeOfResource(db, tenantId, sp.id);
  const changes: Change[] = removed.map((a) => ({
    objectType: a.principalType === 'User' ? 'user' : 'group', objectId: a.principalId, change: 'updated', props: ['appRoleAssignments'],
  }));
  await changesRepo.append(db, tenantId, changes, now);
  await servicePrincipalsRepo.remove(db, tenantId, sp.id);
  return removed.length;
}
