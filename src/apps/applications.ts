// Application use cases: instantiate the gallery template (application + service principal in one
// transaction), read, list, update, delete. Deleting an application deletes its service principal too,
// as Entra does; deleting a service principal leaves its application.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Actor } from '../directory/access.js';
import { errors } from '../domain/errors.js';
import { newObjectId } from '../domain/ids.js';
import { type Application, applicationsRepo, countObjects } from '../store/repos/applications.js';
import { type ServicePrincipal, servicePrincipalsRepo } from '../store/repos/servicePrincipals.js';
import { tenantsRepo } from '../store/repos/tenants.js';
import type { Db } from '../store/store.js';
import { requireAppsRead, requireAppsWrite } from './access.js';
import { type AppsContext, parseBody } from './context.js';
import { toObjectFilter } from './query.js';
import { type ListInput, type ListPage, removeServicePrincipal } from './servicePrincipals.js';
import { AZURE2AZURE_TEMPLATE_ID, allApplicationProperties, azure2AzureTemplate, newApplication, newServicePrincipal } from './template.js';

export interface ApplicationServicePrincipal {
  application: Application;
  servicePrincipal: ServicePrincipal;
}

/** Any signed-in caller may read the gallery, as in Graph. */
export function getApplicationTemplate(id: string): typeof azure2AzureTemplate {
  if (id.toLowerCase() !== AZURE2AZURE_TEMPLATE_ID) throw errors.notFound(id);
  return azure2AzureTemplate;
}

const instantiateBody = {
  type: 'applicationTemplate',
  declared: new Set<string>(),
  writable: { displayName: z.string().trim().min(1).max(256), serviceManagementReference: z.string().max(256).nullable() },
};

export async function instantiateTemplate(
  ctx: AppsContext, tenantId: string, actor: Actor, templateId: string, body: unknown,
): Promise<ApplicationServicePrincipal> {
  requireAppsWrite(actor);
  getApplicationTemplate(templateId);
  const props = parseBody(instantiateBody, body);
  if (props.displayName === undefined) throw errors.badRequest("Parameter 'displayName' is required and cannot be null or empty.");
  const now = ctx.clock.now().toISOString();
  const ids = { applicationId: newObjectId(), servicePrincipalId: newObjectId(), appId: randomUUID(), roleId: randomUUID() };
  return ctx.store.transaction(async (db) => {
    const tenant = await tenantsRepo.find(db, tenantId);
    if (!tenant) throw errors.notFound(tenantId);
    const input = {
      displayName: String(props.displayName), serviceManagementReference: (props.serviceManagementReference as string | null | undefined) ?? null,
      tenantId, publisherDomain: tenant.domain, createdByAppId: actor.principal.appId || null, now,
    };
    const application = newApplication(ids, input);
    const servicePrincipal = newServicePrincipal(ids, input);
    await applicationsRepo.insert(db, tenantId, application);
    await servicePrincipalsRepo.insert(db, tenantId, servicePrincipal, application.id, now);
    return { application, servicePrincipal };
  });
}

const appBody = {
  type: 'application',
  declared: allApplicationProperties,
  writable: {
    displayName: z.string().min(1).max(256),
    description: z.string().max(1024).nullable(),
    notes: z.string().max(1024).nullable(),
    serviceManagementReference: z.string().max(256).nullable(),
    tags: z.array(z.string().min(1).max(256)).max(100),
  },
};

async function findApplication(db: Db, tenantId: string, id: string): Promise<Application> {
  const app = await applicationsRepo.get(db, tenantId, id);
  if (!app) throw errors.notFound(id);
  return app;
}

export async function getApplication(ctx: AppsContext, tenantId: string, actor: Actor, id: string): Promise<Application> {
  requireAppsRead(actor);
  return findApplication(ctx.store.db, tenantId, id);
}

export async function listApplications(ctx: AppsContext, tenantId: string, actor: Actor, q: ListInput): Promise<ListPage<Application>> {
  requireAppsRead(actor);
  const filter = q.filter ? toObjectFilter(q.filter, 'Application') : undefined;
  const rows = await applicationsRepo.list(ctx.store.db, tenantId, { ...(filter ? { filter } : {}), afterId: q.afterId, limit: q.top + 1 });
  const items = rows.slice(0, q.top);
  return {
    items,
    ...(rows.length > q.top ? { next: items[items.length - 1]!.id } : {}),
    ...(q.count ? { count: await countObjects(ctx.store.db, 'applications', tenantId, filter) } : {}),
  };
}

/** A new application name also becomes its service principals' appDisplayName, as in Entra. */
export async function updateApplication(ctx: AppsContext, tenantId: string, actor: Actor, id: string, body: unknown): Promise<void> {
  requireAppsWrite(actor);
  const props = parseBody(appBody, body);
  await ctx.store.transaction(async (db) => {
    const app = await findApplication(db, tenantId, id);
    await applicationsRepo.update(db, tenantId, { ...app, ...props } as Application);
    if (props.displayName === undefined) return;
    for (const sp of await servicePrincipalsRepo.ofApplication(db, tenantId, app.id)) {
      await servicePrincipalsRepo.update(db, tenantId, { ...sp.object, appDisplayName: props.displayName });
    }
  });
}

export async function deleteApplication(ctx: AppsContext, tenantId: string, actor: Actor, id: string): Promise<void> {
  requireAppsWrite(actor);
  const now = ctx.clock.now().toISOString();
  const removed = await ctx.store.transaction(async (db) => {
    const app = await findApplication(db, tenantId, id);
    let n = 0;
    for (const sp of await servicePrincipalsRepo.ofApplication(db, tenantId, app.id)) n += await removeServicePrincipal(ctx, db, tenantId, sp, now);
    await applicationsRepo.remove(db, tenantId, app.id);
    return n;
  });
  if (removed) ctx.wake?.('appRoleAssignments', tenantId);
}
