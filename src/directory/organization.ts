// The tenant as Graph's `organization` resource: read by anyone signed in to the tenant, and a few
// notification/privacy properties writable by Organization.ReadWrite.All apps or Global Administrators.
import { z } from 'zod';
import { errors } from '../domain/errors.js';
import { changesRepo } from '../store/repos/changes.js';
import { type TenantRecord, tenantsRepo } from '../store/repos/tenants.js';
import { type Actor, requireAppPermission } from './access.js';
import type { DirectoryContext } from './users.js';

export interface Organization {
  id: string;
  displayName: string;
  [property: string]: unknown;
}

/**
 * Entra's object quota for a tenant without a verified custom domain (reference §4.3). Reported in
 * directorySizeQuota; creates are not refused at the bound yet.
 */
export const DIRECTORY_QUOTA = 50_000;

const email = z.string().max(256).regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/);
// 50 addresses per list keeps the stored tenant document small; Graph publishes no bound.
const emails = z.array(email).max(50);
const writable: Record<string, z.ZodType> = {
  marketingNotificationEmails: emails,
  technicalNotificationMails: emails,
  securityComplianceNotificationMails: emails,
  securityComplianceNotificationPhones: z.array(z.string().max(64)).max(50),
  privacyProfile: z.object({ contactEmail: email.nullable().optional(), statementUrl: z.string().url().max(2048).nullable().optional() })
    .strict().nullable(),
};

/** Properties Graph returns; any of them not in `writable` is read-only. */
const organizationProperties = [
  'id', 'deletedDateTime', 'assignedPlans', 'businessPhones', 'city', 'country', 'countryLetterCode', 'createdDateTime',
  'defaultUsageLocation', 'directorySizeQuota', 'displayName', 'isMultipleDataLocationsForServicesEnabled',
  'marketingNotificationEmails', 'onPremisesLastSyncDateTime', 'onPremisesSyncEnabled', 'partnerTenantType', 'postalCode',
  'preferredLanguage', 'privacyProfile', 'provisionedPlans', 'securityComplianceNotificationMails',
  'securityComplianceNotificationPhones', 'state', 'street', 'technicalNotificationMails', 'tenantType', 'verifiedDomains',
] as const;
export const allOrganizationProperties = new Set<string>(organizationProperties);

type StoredOrganization = Partial<Record<keyof typeof writable, unknown>>;


function render(t: TenantRecord, used: number): Organization {
  const stored = (t.data.organization ?? {}) as StoredOrganization;
  const domains = [...new Set([t.domain, ...t.data.verifiedDomains].map((d) => d.toLowerCase()))];
  return {
    id: t.id,
    deletedDateTime: null,
    assignedPlans: [],
    businessPhones: [],
    city: null,
    country: null,
    countryLetterCode: null,
    createdDateTime: t.createdDateTime,
    defaultUsageLocation: null,
    directorySizeQuota: { used, total: DIRECTORY_QUOTA },
    displayName: t.displayName,
    isMultipleDataLocationsForServicesEnabled: null,
    marketingNotificationEmails: stored.marketingNotificationEmails ?? [],
    onPremisesLastSyncDateTime: null,
    onPremisesSyncEnabled: null,
    partnerTenantType: null,
    postalCode: null,
    preferredLanguage: null,
    privacyProfile: stored.privacyProfile ?? null,
    provisionedPlans: [],
    securityComplianceNotificationMails: stored.securityComplianceNotificationMails ?? [],
    securityComplianceNotificationPhones: stored.securityComplianceNotificationPhones ?? [],
    state: null,
    street: null,
    technicalNotificationMails: stored.technicalNotificationMails ?? [],
    tenantType: 'AAD',
    // The initial domain is also the default until custom-domain management exists.
    verifiedDomains: domains.map((name) => ({
      capabilities: 'None', isDefault: name === t.domain.toLowerCase(), isInitial: name === t.domain.toLowerCase(), name, type: 'Managed',
    })),
  };
}

/** Every signed-in user of the tenant may read it (guests included: they see the company name and domains). */
export async function getOrganization(ctx: DirectoryContext, tenantId: string, actor: Actor): Promise<Organization> {
  requireAppPermission(actor, 'Organization.Read.All', 'User.Read.All');
  const t = await tenantsRepo.find(ctx.store.db, tenantId);
  if (!t) throw errors.notFound(tenantId);
  return render(t, await changesRepo.objectCount(ctx.store.db, tenantId));
}

export async function updateOrganization(ctx: DirectoryContext, tenantId: string, actor: Actor, id: string, body: unknown): Promise<void> {
  if (actor.principal.kind === 'app') requireAppPermission(actor, 'Organization.ReadWrite.All');
  // Entra lets only Global Administrators change the tenant profile; User Administrators can't.
  else if (!actor.user?.roles.includes('Global Administrator')) throw errors.denied();
  if (id.toLowerCase() !== tenantId.toLowerCase()) throw errors.notFound(id);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest('The request body must be a JSON object.');
  const props: StoredOrganization = {};
  for (const [key, value] of Object.entries(body)) {
    if (key.startsWith('@odata.')) continue;
    const schema = writable[key];
    if (!schema) {
      throw errors.badRequest(allOrganizationProperties.has(key)
        ? `Property '${key}' is read-only and cannot be set.`
        : `Property '${key}' does not exist on type 'microsoft.graph.organization'.`);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw errors.badRequest(`Invalid value specified for property '${key}' of resource 'Organization'.`);
    props[key] = parsed.data;
  }
  // The organization is not a user or group, so it has no change-log entry (delta doesn't track it).
  await ctx.store.transaction(async (db) => {
    const t = await tenantsRepo.find(db, tenantId);
    if (!t) throw errors.notFound(id);
    const organization = { ...((t.data.organization ?? {}) as StoredOrganization), ...props };
    await tenantsRepo.update(db, { ...t, data: { ...t.data, organization } });
  });
}
