// The three cross-tenant access settings cross-tenant sync needs (entra-mto-cts.md §2.3), checked with
// Entra's codes and messages: by validateCredentials ("test connection") and by every cycle, so a target
// that switches inbound sync off stops exports at once and deletes nothing.
import { effectivePartnerSettings } from '../policy/partners.js';
import { tenantsRepo } from '../store/repos/tenants.js';
import type { Db } from '../store/store.js';
import type { SyncError } from './model.js';

export const CREDENTIALS_PREFIX = 'You appear to have entered invalid credentials. Please confirm you are using the correct information for an administrative account.';

const POLICY_CHECK = 'AzureActiveDirectoryCrossTenantSyncPolicyCheckFailure';
const messages = {
  outbound: 'The source tenant has not enabled automatic user consent with the target tenant. Please enable the outbound cross-tenant access '
    + 'policy for automatic user consent in the source tenant. aka.ms/TroubleshootingCrossTenantSyncPolicyCheck',
  inboundSync: 'The target tenant has not enabled inbound synchronization with this tenant. Please request the target tenant admin to enable '
    + 'the inbound synchronization on their cross-tenant access policy. Learn more: aka.ms/TroubleshootingCrossTenantSyncPolicyCheck',
  inboundConsent: 'Policy permitting auto-redemption of invitations not configured.',
};

export type TargetInfo = { id: string; domain: string; displayName: string };

/** The target tenant, or the error a sync with it fails with; null error when all three settings allow it. */
export async function checkSyncPolicies(db: Db, sourceTenantId: string, targetTenantId: string | null): Promise<{ target?: TargetInfo; error: SyncError | null }> {
  const target = targetTenantId ? await tenantsRepo.find(db, targetTenantId) : undefined;
  if (!target || target.id === sourceTenantId) {
    return { error: { code: 'ExternalTenantNotFound', message: targetTenantId
      ? `The target tenant '${targetTenantId}' is not a tenant of this server${target ? ' other than the source' : ''}. Set the CompanyId secret to the target tenant's id.`
      : "No target tenant is configured: set the CompanyId secret to the target tenant's id.", tenantActionable: true } };
  }
  const info = { id: target.id, domain: target.domain, displayName: target.displayName };
  const outbound = await effectivePartnerSettings(db, sourceTenantId, target.id);
  if (!outbound.automaticUserConsent.outboundAllowed) return { target: info, error: { code: POLICY_CHECK, message: messages.outbound, tenantActionable: true } };
  const inbound = await effectivePartnerSettings(db, target.id, sourceTenantId);
  if (!inbound.userSyncInbound) return { target: info, error: { code: POLICY_CHECK, message: messages.inboundSync, tenantActionable: true } };
  if (!inbound.automaticUserConsent.inboundAllowed) {
    return { target: info, error: { code: 'AzureDirectoryB2BManagementPolicyCheckFailure', message: messages.inboundConsent, tenantActionable: true } };
  }
  return { target: info, error: null };
}
