// The two multi-tenant organization templates of a tenant (partner configuration and identity
// synchronization): read, update, reset, and their application to partner policies when a join completes.
import type { Actor } from '../directory/access.js';
import { errors } from '../domain/errors.js';
import {
  applyIdentitySyncTemplatePatch, applyPartnerTemplatePatch, defaultIdentitySyncTemplate, defaultPartnerTemplate,
  type IdentitySyncTemplate, type PartnerConfigurationTemplate, partnerPatchFromTemplate, templateApplies,
} from '../domain/mto.js';
import { grants, policyAdminRoles } from '../identity/permissions.js';
import { ensurePartner, getIdentitySync, patchIdentitySync, patchPartner, putIdentitySync } from '../policy/partners.js';
import { documentsRepo } from '../store/repos/documents.js';
import type { Db } from '../store/store.js';
import type { MtoContext } from './organization.js';

export const templateKinds = {
  partner: 'crossTenantAccessPolicy.template.multiTenantOrganizationPartnerConfiguration',
  identitySync: 'crossTenantAccessPolicy.template.multiTenantOrganizationIdentitySynchronization',
} as const;

export type TemplateName = 'partner' | 'identitySync';

function requirePolicy(actor: Actor, permission: 'Policy.Read.All' | 'Policy.ReadWrite.CrossTenantAccess'): void {
  if (actor.principal.kind === 'app') {
    if (!grants(actor.principal.roles, permission)) throw errors.denied();
    return;
  }
  if (!actor.user?.roles.some((r) => policyAdminRoles.has(r))) throw errors.denied();
}

export async function partnerTemplate(db: Db, tenantId: string): Promise<PartnerConfigurationTemplate> {
  return { ...defaultPartnerTemplate(), ...(await documentsRepo.get<PartnerConfigurationTemplate>(db, tenantId, templateKinds.partner)) };
}

export async function identitySyncTemplate(db: Db, tenantId: string): Promise<IdentitySyncTemplate> {
  return { ...defaultIdentitySyncTemplate(), ...(await documentsRepo.get<IdentitySyncTemplate>(db, tenantId, templateKinds.identitySync)) };
}

/** Graph gives each template an id; ours is the tenant's own id, stable and unique per tenant. */
export const templateId = (tenantId: string) => tenantId;

export async function getTemplate(ctx: MtoContext, tenantId: string, actor: Actor, name: TemplateName) {
  requirePolicy(actor, 'Policy.Read.All');
  const t = name === 'partner' ? await partnerTemplate(ctx.store.db, tenantId) : await identitySyncTemplate(ctx.store.db, tenantId);
  return { id: templateId(tenantId), ...t };
}

export async function updateTemplate(ctx: MtoContext, tenantId: string, actor: Actor, name: TemplateName, body: unknown): Promise<void> {
  requirePolicy(actor, 'Policy.ReadWrite.CrossTenantAccess');
  const at = ctx.clock.now().toISOString();
  await ctx.store.transaction(async (db) => {
    const next = name === 'partner'
      ? applyPartnerTemplatePatch(await partnerTemplate(db, tenantId), body, templateId(tenantId))
      : applyIdentitySyncTemplatePatch(await identitySyncTemplate(db, tenantId), body, templateId(tenantId));
    await documentsRepo.put(db, tenantId, templateKinds[name], '', next, at);
  });
}

/** `resetToDefaultSettings`: back to the unconfigured template (every value null, so joins change nothing). */
export async function resetTemplate(ctx: MtoContext, tenantId: string, actor: Actor, name: TemplateName): Promise<void> {
  requirePolicy(actor, 'Policy.ReadWrite.CrossTenantAccess');
  await ctx.store.transaction((db) => documentsRepo.remove(db, tenantId, templateKinds[name]));
}

/**
 * Makes sure `tenantId` has a partner policy for `partnerTenantId` and applies its templates to it when
 * the template's level covers it (`newPartners` if the policy was just created, `existingPartners` if not).
 * Runs inside the join's transaction.
 */
export async function applyTemplatesTo(db: Db, tenantId: string, partnerTenantId: string, at: string): Promise<{ created: boolean }> {
  const { partner, created } = await ensurePartner(db, tenantId, partnerTenantId, at);
  const pt = await partnerTemplate(db, tenantId);
  if (templateApplies(pt.templateApplicationLevel, created)) {
    const patch = partnerPatchFromTemplate(pt, partner);
    if (patch) await patchPartner(db, tenantId, partnerTenantId, patch, at);
  }
  const st = await identitySyncTemplate(db, tenantId);
  if (st.userSyncInbound !== null && templateApplies(st.templateApplicationLevel, created)) {
    const body = { userSyncInbound: { isSyncAllowed: st.userSyncInbound.isSyncAllowed } };
    if (await getIdentitySync(db, tenantId, partnerTenantId)) await patchIdentitySync(db, tenantId, partnerTenantId, body, at);
    else await putIdentitySync(db, tenantId, partnerTenantId, body, at);
  }
  return { created };
}
