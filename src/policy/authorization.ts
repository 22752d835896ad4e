// The tenant's authorization policy (guest role, who may invite) and who may read or write policies.
// The stored document and its defaults live in directory/access.ts, which reads them on every request;
// this module validates and writes it.
import { z } from 'zod';
import { parseBody } from '../domain/cross-tenant-policy.js';
import { errors } from '../domain/errors.js';
import { type Actor, type AuthorizationPolicy, authorizationPolicy, guestRoles, requireAppPermission } from '../directory/access.js';
import { documentsRepo } from '../store/repos/documents.js';
import type { Db } from '../store/store.js';

/** Roles that may change the authorization policy (Graph's least privileged one is Privileged Role Administrator). */
export const authorizationPolicyAdminRoles = new Set(['Global Administrator', 'Privileged Role Administrator']);

/** Graph properties the directory's AuthorizationPolicy type does not carry; stored in the same document. */
interface ExtraProperties {
  allowedToUseSSPR: boolean;
  allowUserConsentForRiskyApps: boolean;
}
const extraDefaults: ExtraProperties = { allowedToUseSSPR: true, allowUserConsentForRiskyApps: false };

export type AuthorizationPolicyView = AuthorizationPolicy & ExtraProperties;

export async function getAuthorizationPolicy(db: Db, tenantId: string): Promise<AuthorizationPolicyView> {
  const policy = await authorizationPolicy(db, tenantId);
  const stored = policy as Partial<ExtraProperties>;
  return {
    ...policy,
    allowedToUseSSPR: stored.allowedToUseSSPR ?? extraDefaults.allowedToUseSSPR,
    allowUserConsentForRiskyApps: stored.allowUserConsentForRiskyApps ?? extraDefaults.allowUserConsentForRiskyApps,
  };
}

const guestRoleIds = new Set<string>(Object.values(guestRoles));

const writable: Record<string, z.ZodType> = {
  displayName: z.string().min(1).max(256),
  description: z.string().max(1024),
  guestUserRoleId: z.string().transform((s) => s.toLowerCase()).refine((s) => guestRoleIds.has(s)),
  allowInvitesFrom: z.enum(['none', 'adminsAndGuestInviters', 'adminsGuestInvitersAndAllMembers', 'everyone']),
  allowedToSignUpEmailBasedSubscriptions: z.boolean(),
  allowedToUseSSPR: z.boolean(),
  allowEmailVerifiedUsersToJoinOrganization: z.boolean(),
  allowUserConsentForRiskyApps: z.boolean(),
  blockMsolPowerShell: z.boolean(),
  // Merged into the current flags: Graph's own example PATCHes one flag and expects the others kept.
  defaultUserRolePermissions: z.strictObject({
    allowedToCreateApps: z.boolean().optional(),
    allowedToCreateSecurityGroups: z.boolean().optional(),
    allowedToCreateTenants: z.boolean().optional(),
    allowedToReadBitlockerKeysForOwnedDevice: z.boolean().optional(),
    allowedToReadOtherUsers: z.boolean().optional(),
  }),
};

/** `PATCH /policies/authorizationPolicy`; returns the policy as stored. */
export async function patchAuthorizationPolicy(db: Db, tenantId: string, body: unknown, at: string): Promise<AuthorizationPolicyView> {
  const current = await getAuthorizationPolicy(db, tenantId);
  const accepted = parseBody(body, { type: 'authorizationPolicy', resource: 'AuthorizationPolicy', readOnly: { id: current.id }, writable });
  const next: AuthorizationPolicyView = {
    ...current,
    ...accepted,
    defaultUserRolePermissions: {
      ...current.defaultUserRolePermissions,
      ...(accepted.defaultUserRolePermissions as Partial<AuthorizationPolicy['defaultUserRolePermissions']> | undefined),
    },
  };
  await documentsRepo.put(db, tenantId, 'authorizationPolicy', '', next, at);
  return next;
}

/**
 * Reading policies: apps need Policy.Read.All (or a permission implying it); members may read policies
 * by default; guests may not, unless the guest role gives them member permissions.
 */
export function requirePolicyRead(actor: Actor): void {
  requireAppPermission(actor, 'Policy.Read.All');
  if (actor.principal.kind === 'user' && actor.user?.user.userType === 'Guest' && actor.readLevel !== 'all') throw errors.denied();
}

/** Writing a policy: apps need `permission`; signed-in users need one of `roles`. */
export function requirePolicyWrite(actor: Actor, permission: string, roles: ReadonlySet<string>): void {
  if (actor.principal.kind === 'app') {
    requireAppPermission(actor, permission);
    return;
  }
  if (!actor.user?.roles.some((r) => roles.has(r))) throw errors.denied();
}
