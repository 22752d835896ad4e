// Who may read and write a tenant's directory. Apps need application permissions; signed-in users act
// within their own rights: members read the directory, guests are limited by the tenant's
// authorization policy (guestUserRoleId), and only admin roles write other users.
import { DomainError, errors } from '../domain/errors.js';
import type { UserRecord } from '../domain/user.js';
import { adminRoles, grants } from '../identity/permissions.js';
import type { Principal } from '../identity/tokens.js';
import { documentsRepo } from '../store/repos/documents.js';
import { usersRepo } from '../store/repos/users.js';
import type { Db } from '../store/store.js';

export const guestRoles = {
  member: 'a0b1b346-4d3e-4e8b-98f8-753987be4970',
  guest: '10dae51f-b6af-4016-8d66-8c2a99b929b3',
  restricted: '2af84b1e-32c8-42b7-82bc-daa82404023b',
} as const;

export interface AuthorizationPolicy {
  id: 'authorizationPolicy';
  displayName: string;
  description: string;
  guestUserRoleId: string;
  allowInvitesFrom: 'none' | 'adminsAndGuestInviters' | 'adminsGuestInvitersAndAllMembers' | 'everyone';
  allowedToSignUpEmailBasedSubscriptions: boolean;
  allowEmailVerifiedUsersToJoinOrganization: boolean;
  blockMsolPowerShell: boolean;
  defaultUserRolePermissions: {
    allowedToCreateApps: boolean;
    allowedToCreateSecurityGroups: boolean;
    allowedToCreateTenants: boolean;
    allowedToReadBitlockerKeysForOwnedDevice: boolean;
    allowedToReadOtherUsers: boolean;
  };
}

export const defaultAuthorizationPolicy = (): AuthorizationPolicy => ({
  id: 'authorizationPolicy',
  displayName: 'Authorization Policy',
  description: 'Used to manage authorization related settings across the company.',
  guestUserRoleId: guestRoles.guest,
  allowInvitesFrom: 'everyone',
  allowedToSignUpEmailBasedSubscriptions: true,
  allowEmailVerifiedUsersToJoinOrganization: false,
  blockMsolPowerShell: false,
  defaultUserRolePermissions: {
    allowedToCreateApps: true,
    allowedToCreateSecurityGroups: true,
    allowedToCreateTenants: true,
    allowedToReadBitlockerKeysForOwnedDevice: true,
    allowedToReadOtherUsers: true,
  },
});

export async function authorizationPolicy(db: Db, tenantId: string): Promise<AuthorizationPolicy> {
  return authorizationPolicyFrom(await documentsRepo.get<Partial<AuthorizationPolicy>>(db, tenantId, authorizationPolicyKind));
}

/** The tenant_documents kind of the authorization policy (a singleton: key ''). */
export const authorizationPolicyKind = 'authorizationPolicy';

/** The policy in force given the stored document (absent: the defaults), for callers that read it with others. */
export function authorizationPolicyFrom(stored: Partial<AuthorizationPolicy> | undefined): AuthorizationPolicy {
  const base = defaultAuthorizationPolicy();
  return stored
    ? { ...base, ...stored, defaultUserRolePermissions: { ...base.defaultUserRolePermissions, ...stored.defaultUserRolePermissions } }
    : base;
}

/** How much of the directory a caller can see. */
export type ReadLevel =
  | 'all' // apps with read permission, members, guests with member rights
  | 'byIdLimited' // default guests: no enumeration, other users by id with a limited property set
  | 'self'; // restricted guests (and members when allowedToReadOtherUsers is off)

export interface Actor {
  principal: Principal;
  /** The signed-in user, for delegated tokens. */
  user?: UserRecord;
  readLevel: ReadLevel;
  /** Can create, update and delete other users and groups. */
  isAdmin: boolean;
}

/** Properties a default guest may read of other users. */
export const guestVisibleUserProperties = new Set(['id', 'displayName', 'mail', 'userPrincipalName', 'userType', 'otherMails', 'identities']);

export async function resolveActor(db: Db, principal: Principal): Promise<Actor> {
  if (principal.kind === 'app') {
    const canRead = grants(principal.roles, 'User.Read.All') || grants(principal.roles, 'Group.Read.All');
    return { principal, readLevel: canRead ? 'all' : 'self', isAdmin: false };
  }
  const user = await usersRepo.get(db, principal.tenantId, principal.userId ?? '');
  // A token whose user was deleted since issue is as good as no token.
  const gone = () => errors.unauthenticated('Access token validation failure. The user no longer exists or is disabled.');
  if (!user) throw gone();
  if (!user.user.accountEnabled) throw gone();
  const isAdmin = user.roles.some((r) => adminRoles.has(r));
  let readLevel: ReadLevel = 'all';
  if (!isAdmin) {
    const policy = await authorizationPolicy(db, principal.tenantId);
    if (user.user.userType === 'Guest') {
      readLevel = policy.guestUserRoleId === guestRoles.member ? 'all' : policy.guestUserRoleId === guestRoles.restricted ? 'self' : 'byIdLimited';
    } else if (!policy.defaultUserRolePermissions.allowedToReadOtherUsers) {
      readLevel = 'self';
    }
  }
  return { principal, user, readLevel, isAdmin };
}

/** Application permission check; delegated callers are checked against their own rights elsewhere. */
export function requireAppPermission(actor: Actor, ...anyOf: string[]): void {
  if (actor.principal.kind !== 'app') return;
  if (!anyOf.some((p) => grants(actor.principal.roles, p))) throw errors.denied();
}

/** Enumeration (`GET /users`, `$search`, `/$count`). */
export function requireEnumerate(actor: Actor, permission: string): void {
  requireAppPermission(actor, permission);
  if (actor.principal.kind === 'user' && actor.readLevel !== 'all') throw errors.denied();
}

/** Writes to other objects than oneself. */
export function requireDirectoryWrite(actor: Actor, permission: string): void {
  if (actor.principal.kind === 'app') {
    requireAppPermission(actor, permission);
    return;
  }
  if (!actor.isAdmin) throw errors.denied();
}

export const denied = () => new DomainError('forbidden', 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
