// Graph permissions this server understands, and which one implies which. A route asks for the weakest
// permission that suffices; a token holding any permission that implies it passes.

export const applicationPermissions = [
  'User.Read.All', 'User.ReadWrite.All', 'User.Invite.All', 'Group.Read.All', 'Group.ReadWrite.All',
  'GroupMember.Read.All', 'GroupMember.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All',
  'Organization.Read.All', 'Organization.ReadWrite.All', 'Policy.Read.All', 'Policy.ReadWrite.CrossTenantAccess', 'Policy.ReadWrite.Authorization',
  'MultiTenantOrganization.ReadBasic.All', 'MultiTenantOrganization.Read.All', 'MultiTenantOrganization.ReadWrite.All',
  'Synchronization.Read.All', 'Synchronization.ReadWrite.All', 'AuditLog.Read.All', 'Application.ReadWrite.All',
  'Application.Read.All', 'AppRoleAssignment.ReadWrite.All',
] as const;
export type Permission = (typeof applicationPermissions)[number];

const implied: Record<string, readonly string[]> = {
  'User.ReadWrite.All': ['User.Read.All', 'User.Invite.All'],
  'Group.ReadWrite.All': ['Group.Read.All', 'GroupMember.ReadWrite.All', 'GroupMember.Read.All'],
  'GroupMember.ReadWrite.All': ['GroupMember.Read.All'],
  'Group.Read.All': ['GroupMember.Read.All'],
  'Directory.Read.All': ['User.Read.All', 'Group.Read.All', 'GroupMember.Read.All', 'Organization.Read.All'],
  'Directory.ReadWrite.All': [
    'Directory.Read.All', 'User.ReadWrite.All', 'Group.ReadWrite.All', 'User.Read.All', 'Group.Read.All',
    'GroupMember.ReadWrite.All', 'GroupMember.Read.All', 'Organization.Read.All', 'User.Invite.All',
  ],
  'Organization.ReadWrite.All': ['Organization.Read.All'],
  'Policy.ReadWrite.CrossTenantAccess': ['Policy.Read.All'],
  'Policy.ReadWrite.Authorization': ['Policy.Read.All'],
  'MultiTenantOrganization.ReadWrite.All': ['MultiTenantOrganization.Read.All', 'MultiTenantOrganization.ReadBasic.All'],
  'MultiTenantOrganization.Read.All': ['MultiTenantOrganization.ReadBasic.All'],
  'Synchronization.ReadWrite.All': ['Synchronization.Read.All'],
  'Application.ReadWrite.All': ['Application.Read.All'],
};

/** True when one of `held` is `wanted` or implies it. */
export function grants(held: Iterable<string>, wanted: string): boolean {
  for (const h of held) {
    if (h === wanted || implied[h]?.includes(wanted)) return true;
  }
  return false;
}

export const isKnownPermission = (p: string): p is Permission => (applicationPermissions as readonly string[]).includes(p);

/** Delegated scopes issued to user tokens: the app acts as the signed-in user, within the user's rights. */
export const defaultDelegatedScopes = ['Directory.AccessAsUser.All', 'User.Read', 'openid', 'profile', 'offline_access'];

/** Directory roles that let a signed-in user write other users and groups. */
export const adminRoles = new Set(['Global Administrator', 'User Administrator', 'Privileged Role Administrator']);
/** Roles that may manage cross-tenant and MTO policy. */
export const policyAdminRoles = new Set(['Global Administrator', 'Security Administrator']);
/** Roles that may create, change and delete applications and service principals and assign users to them. */
export const appAdminRoles = new Set(['Global Administrator', 'Application Administrator', 'Cloud Application Administrator']);
