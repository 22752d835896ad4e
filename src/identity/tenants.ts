// Tenant and app-registration provisioning: what `openmto tenant create` and the operator API do.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../domain/clock.js';
import { DomainError } from '../domain/errors.js';
import { type AppRecord, appsRepo } from '../store/repos/apps.js';
import { type TenantRecord, tenantsRepo } from '../store/repos/tenants.js';
import type { Store } from '../store/store.js';
import { applicationPermissions, isKnownPermission } from './permissions.js';
import { hashSecret, newClientSecret } from './secrets.js';

export interface CreatedApp {
  clientId: string;
  clientSecret: string | null;
  displayName: string;
  permissions: string[];
  publicClient: boolean;
}

export interface CreatedTenant {
  tenantId: string;
  displayName: string;
  domain: string;
  adminApp: { clientId: string; clientSecret: string };
}

const domainPattern = /^(?=.{3,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

export const slug = (name: string) =>
  name.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '').slice(0, 40) || 'tenant';

export async function createTenant(
  store: Store, clock: Clock, input: { name: string; domain?: string; id?: string },
): Promise<CreatedTenant> {
  const name = input.name.trim();
  if (!name || name.length > 256) throw new DomainError('badRequest', 'Request_BadRequest', 'A tenant needs a name of 1 to 256 characters.');
  const domain = (input.domain ?? `${slug(name)}.openmto.test`).toLowerCase();
  if (!domainPattern.test(domain)) throw new DomainError('badRequest', 'Request_BadRequest', `'${domain}' is not a valid domain name.`);
  const now = clock.now().toISOString();
  const tenant: TenantRecord = {
    id: input.id ?? randomUUID(), displayName: name, domain, createdDateTime: now, data: { verifiedDomains: [domain] },
  };
  const secret = newClientSecret();
  const app: AppRecord = {
    tenantId: tenant.id, clientId: randomUUID(), displayName: `${name} admin`, secretHash: await hashSecret(secret),
    publicClient: false, permissions: [...applicationPermissions], createdDateTime: now,
  };
  await store.transaction(async (db) => {
    if (await tenantsRepo.find(db, domain)) {
      throw new DomainError('conflict', 'Request_MultipleObjectsWithSameKeyValue', `A tenant with domain '${domain}' already exists.`);
    }
    await tenantsRepo.insert(db, tenant);
    await appsRepo.insert(db, app);
  });
  return { tenantId: tenant.id, displayName: name, domain, adminApp: { clientId: app.clientId, clientSecret: secret } };
}

export async function createApp(
  store: Store, clock: Clock, tenantId: string,
  input: { name: string; permissions: string[]; publicClient?: boolean },
): Promise<CreatedApp> {
  const unknown = input.permissions.filter((p) => !isKnownPermission(p));
  if (unknown.length) throw new DomainError('badRequest', 'Request_BadRequest', `Unknown permission(s): ${unknown.join(', ')}.`);
  const publicClient = input.publicClient ?? false;
  const secret = publicClient ? null : newClientSecret();
  const app: AppRecord = {
    tenantId, clientId: randomUUID(), displayName: input.name, secretHash: secret ? await hashSecret(secret) : null,
    publicClient, permissions: [...new Set(input.permissions)], createdDateTime: clock.now().toISOString(),
  };
  await store.transaction(async (db) => {
    if (!(await tenantsRepo.find(db, tenantId))) throw new DomainError('notFound', 'Request_ResourceNotFound', `Tenant '${tenantId}' does not exist.`);
    await appsRepo.insert(db, app);
  });
  return { clientId: app.clientId, clientSecret: secret, displayName: app.displayName, permissions: app.permissions, publicClient };
}

export async function deleteTenant(store: Store, tenantRef: string): Promise<void> {
  await store.transaction(async (db) => {
    const t = await tenantsRepo.find(db, tenantRef);
    if (!t) throw new DomainError('notFound', 'Request_ResourceNotFound', `Tenant '${tenantRef}' does not exist.`);
    // Deleting an active member would leave its partners with a dangling organization; leaving is an
    // explicit MTO transition with its own rules, so the operator must do that first.
    const membership = await db.selectFrom('mto_members').select('state')
      .where('tenant_id', '=', t.id).where('state', '!=', 'pending').executeTakeFirst();
    if (membership) {
      throw new DomainError('conflict', 'Request_BadRequest', `Tenant '${tenantRef}' is in a multi-tenant organization; it must leave it before it can be deleted.`);
    }
    await tenantsRepo.remove(db, t.id);
  });
}
