// Cross-tenant access policy storage: the tenant's default, its partner configurations and their
// identity synchronization policies, kept as tenant documents. Every function takes the Kysely handle
// of the caller's transaction, so invitations and the multi-tenant organization compose them with
// their own writes. Permission checks belong to the callers (routes, CLI).
import {
  applyDefaultPatch, applyIdentitySyncBody, applyPartnerPatch, type DefaultPolicy, type EffectiveSettings,
  type IdentitySyncPolicy, isGuid, newIdentitySync, type PartnerPolicy, parseNewPartnerTenantId, partnerNotFound,
  resolveEffective, serviceDefaultPolicy, unconfiguredPartner,
} from '../domain/cross-tenant-policy.js';
import { DomainError, errors } from '../domain/errors.js';
import { documentKey, documentsRepo } from '../store/repos/documents.js';
import type { Db } from '../store/store.js';

export { isCollaborationAllowed } from '../domain/cross-tenant-policy.js';
export type { DefaultPolicy, EffectiveSettings, IdentitySyncPolicy, PartnerPolicy } from '../domain/cross-tenant-policy.js';

export const kinds = {
  default: 'crossTenantAccessPolicy.default',
  partner: 'crossTenantAccessPolicy.partner',
  identitySync: 'crossTenantAccessPolicy.identitySynchronization',
} as const;

const keyOf = (partnerTenantId: string) => partnerTenantId.toLowerCase();

function requireGuid(partnerTenantId: string): string {
  if (!isGuid(partnerTenantId)) {
    throw errors.badRequest("Invalid value specified for property 'tenantId' of resource 'CrossTenantAccessPolicyConfigurationPartner'.");
  }
  return keyOf(partnerTenantId);
}

export async function getDefaultPolicy(db: Db, tenantId: string): Promise<DefaultPolicy> {
  return (await documentsRepo.get<DefaultPolicy>(db, tenantId, kinds.default)) ?? serviceDefaultPolicy();
}

export async function patchDefaultPolicy(db: Db, tenantId: string, patch: unknown, at: string): Promise<DefaultPolicy> {
  const next = applyDefaultPatch(await getDefaultPolicy(db, tenantId), patch);
  await documentsRepo.put(db, tenantId, kinds.default, '', next, at);
  return next;
}

/** `resetToDefaultSettings`: back to the service default (isServiceDefault true again). */
export async function resetDefaultPolicy(db: Db, tenantId: string): Promise<DefaultPolicy> {
  await documentsRepo.remove(db, tenantId, kinds.default);
  return serviceDefaultPolicy();
}

export async function getPartner(db: Db, tenantId: string, partnerTenantId: string): Promise<PartnerPolicy | undefined> {
  return documentsRepo.get<PartnerPolicy>(db, tenantId, kinds.partner, keyOf(partnerTenantId));
}

export async function listPartners(db: Db, tenantId: string): Promise<PartnerPolicy[]> {
  return (await documentsRepo.list<PartnerPolicy>(db, tenantId, kinds.partner)).map((r) => r.data);
}

function refuseSelf(tenantId: string, partnerTenantId: string): void {
  // Entra has no partner configuration for the tenant itself; the default already governs nothing there.
  if (keyOf(tenantId) === partnerTenantId) {
    throw errors.badRequest('A partner configuration cannot be created for the tenant itself.');
  }
}

/** `POST …/partners`: 409 when the partner exists; other settings in the body are applied as a PATCH. */
export async function createPartner(db: Db, tenantId: string, body: unknown, at: string): Promise<PartnerPolicy> {
  const partnerTenantId = parseNewPartnerTenantId(body);
  refuseSelf(tenantId, partnerTenantId);
  if (await getPartner(db, tenantId, partnerTenantId)) throw errors.conflict('tenantId');
  const partner = applyPartnerPatch(unconfiguredPartner(partnerTenantId), body);
  await documentsRepo.put(db, tenantId, kinds.partner, partnerTenantId, partner, at);
  return partner;
}

/** Creates an unconfigured partner (every setting inherits the default) unless one exists. */
export async function ensurePartner(
  db: Db, tenantId: string, partnerTenantId: string, at: string,
): Promise<{ partner: PartnerPolicy; created: boolean }> {
  const key = requireGuid(partnerTenantId);
  refuseSelf(tenantId, key);
  const existing = await getPartner(db, tenantId, key);
  if (existing) return { partner: existing, created: false };
  const partner = unconfiguredPartner(key);
  await documentsRepo.put(db, tenantId, kinds.partner, key, partner, at);
  return { partner, created: true };
}

/** `PATCH …/partners/{id}`: each property given replaces the stored one; `null` resets it to inherit. */
export async function patchPartner(db: Db, tenantId: string, partnerTenantId: string, patch: unknown, at: string): Promise<PartnerPolicy> {
  const current = await getPartner(db, tenantId, partnerTenantId);
  if (!current) throw partnerNotFound();
  const next = applyPartnerPatch(current, patch);
  await documentsRepo.put(db, tenantId, kinds.partner, current.tenantId, next, at);
  return next;
}

/** For the multi-tenant organization: the one writer of `isInMultiTenantOrganization`. Creates the partner if missing. */
export async function setInMultiTenantOrganization(
  db: Db, tenantId: string, partnerTenantId: string, value: boolean, at: string,
): Promise<PartnerPolicy> {
  const { partner } = await ensurePartner(db, tenantId, partnerTenantId, at);
  if (partner.isInMultiTenantOrganization === value) return partner;
  const next = { ...partner, isInMultiTenantOrganization: value };
  await documentsRepo.put(db, tenantId, kinds.partner, partner.tenantId, next, at);
  return next;
}

export async function deletePartner(db: Db, tenantId: string, partnerTenantId: string): Promise<void> {
  const current = await getPartner(db, tenantId, partnerTenantId);
  if (!current) throw partnerNotFound();
  if (await getIdentitySync(db, tenantId, partnerTenantId)) {
    // Graph refuses this too; its wording is not published, so ours says what to do.
    throw new DomainError('badRequest', 'Request_BadRequest',
      `The partner configuration for tenant '${current.tenantId}' has an identity synchronization policy. ` +
      'Delete it first (DELETE /policies/crossTenantAccessPolicy/partners/{tenantId}/identitySynchronization).');
  }
  await documentsRepo.remove(db, tenantId, kinds.partner, current.tenantId);
}

export async function getIdentitySync(db: Db, tenantId: string, partnerTenantId: string): Promise<IdentitySyncPolicy | undefined> {
  return documentsRepo.get<IdentitySyncPolicy>(db, tenantId, kinds.identitySync, keyOf(partnerTenantId));
}

const conflictingObject = () => {
  const message = 'A conflicting object with one or more of the specified property values is present in the directory.';
  return new DomainError('conflict', 'Request_MultipleObjectsWithSameKeyValue', message, [
    { code: 'ConflictingObjects', message, target: 'ConflictingObjects' },
  ]);
};

/**
 * `PUT …/identitySynchronization` creates the policy (Graph answers 409 when it exists). It lives under
 * a partner configuration, so the partner must exist (404 like a PATCH of a missing partner).
 */
export async function putIdentitySync(db: Db, tenantId: string, partnerTenantId: string, body: unknown, at: string): Promise<IdentitySyncPolicy> {
  const partner = await getPartner(db, tenantId, partnerTenantId);
  if (!partner) throw partnerNotFound();
  if (await getIdentitySync(db, tenantId, partner.tenantId)) throw conflictingObject();
  const policy = applyIdentitySyncBody(newIdentitySync(partner.tenantId), body);
  await documentsRepo.put(db, tenantId, kinds.identitySync, partner.tenantId, policy, at);
  return policy;
}

export async function patchIdentitySync(db: Db, tenantId: string, partnerTenantId: string, body: unknown, at: string): Promise<IdentitySyncPolicy> {
  const current = await getIdentitySync(db, tenantId, partnerTenantId);
  if (!current) throw partnerNotFound();
  const next = applyIdentitySyncBody(current, body);
  await documentsRepo.put(db, tenantId, kinds.identitySync, current.tenantId, next, at);
  return next;
}

export async function deleteIdentitySync(db: Db, tenantId: string, partnerTenantId: string): Promise<void> {
  if (!(await documentsRepo.remove(db, tenantId, kinds.identitySync, keyOf(partnerTenantId)))) throw partnerNotFound();
}

/**
 * The documents that govern collaboration with `partnerTenantId` (or, without one, the default alone), for a
 * caller that reads them in one statement with others of its own (documentsRepo.getMany).
 */
export function partnerDocuments(partnerTenantId?: string): { kind: string; key?: string }[] {
  if (partnerTenantId === undefined) return [{ kind: kinds.default }];
  const key = keyOf(partnerTenantId);
  return [{ kind: kinds.default }, { kind: kinds.partner, key }, { kind: kinds.identitySync, key }];
}

/** The default policy among documents read with partnerDocuments. */
export const defaultPolicyFrom = (docs: ReadonlyMap<string, unknown>): DefaultPolicy =>
  (docs.get(documentKey(kinds.default)) as DefaultPolicy | undefined) ?? serviceDefaultPolicy();

/** effectivePartnerSettings over documents read with partnerDocuments(partnerTenantId). */
export function effectiveSettingsFrom(docs: ReadonlyMap<string, unknown>, partnerTenantId: string): EffectiveSettings {
  const key = keyOf(partnerTenantId);
  const partner = docs.get(documentKey(kinds.partner, key)) as PartnerPolicy | undefined;
  const sync = docs.get(documentKey(kinds.identitySync, key)) as IdentitySyncPolicy | undefined;
  return resolveEffective(partnerTenantId, defaultPolicyFrom(docs), partner, sync);
}

/** Everything that governs collaboration with one partner, resolved against the default (no nulls left). */
export async function effectivePartnerSettings(db: Db, tenantId: string, partnerTenantId: string): Promise<EffectiveSettings> {
  // One read for the three documents: invitations and redemption resolve this on every call.
  return effectiveSettingsFrom(await documentsRepo.getMany(db, tenantId, partnerDocuments(partnerTenantId)), partnerTenantId);
}
