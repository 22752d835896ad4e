// Tenant-scoped user use cases: create, read, update, soft delete, restore, permanent delete, purge.
// Each mutation is one transaction that writes the user and the tenant's change log together.
import type { Clock } from '../domain/clock.js';
import { newObjectId } from '../domain/ids.js';
import { DomainError, errors } from '../domain/errors.js';
import {
  parseUserBody, proxyAddressesFor, type User, type UserRecord, validatePasswordComplexity, validateUpn,
} from '../domain/user.js';
import { hashSecret } from '../identity/secrets.js';
import { appRoleAssignmentsRepo } from '../store/repos/appRoleAssignments.js';
import { type Change, changesRepo } from '../store/repos/changes.js';
import { tenantsRepo } from '../store/repos/tenants.js';
import { usersRepo } from '../store/repos/users.js';
import type { Db, Store } from '../store/store.js';
import { type Actor, guestVisibleUserProperties, requireAppPermission, requireDirectoryWrite } from './access.js';

export interface DirectoryContext {
  store: Store;
  clock: Clock;
}

/** Soft-deleted users stay restorable this long, then are purged (Entra's recycle-bin period). */
export const SOFT_DELETE_RETENTION_DAYS = 30;

const duplicateUpn = () =>
  new DomainError('badRequest', 'Request_MultipleObjectsWithSameKeyValue', 'Another object with the same value for property userPrincipalName already exists.', [
    { code: 'ObjectConflict', message: 'userPrincipalName', target: 'userPrincipalName' },
  ]);

async function verifiedDomains(db: Db, tenantId: string): Promise<string[]> {
  const t = await tenantsRepo.find(db, tenantId);
  if (!t) throw errors.notFound(tenantId);
  return [t.domain, ...t.data.verifiedDomains].map((d) => d.toLowerCase());
}

/** Builds a new user object from validated create properties; shared by Graph create and bulk import. */
export function newUser(props: Record<string, unknown>, issuerDomain: string, now: string): User {
  const { passwordProfile: _pw, ...rest } = props;
  const upn = String(props.userPrincipalName);
  const mail = (props.mail as string | null | undefined) ?? null;
  return {
    businessPhones: [],
    otherMails: [],
    identities: [{ signInType: 'userPrincipalName', issuer: issuerDomain, issuerAssignedId: upn }],
    creationType: null,
    externalUserState: null,
    externalUserStateChangeDateTime: null,
    showInAddressList: null,
    ...rest,
    id: newObjectId(),
    userPrincipalName: upn,
    displayName: String(props.displayName),
    accountEnabled: Boolean(props.accountEnabled),
    userType: (props.userType as User['userType']) ?? 'Member',
    mail,
    proxyAddresses: proxyAddressesFor(mail),
    createdDateTime: now,
    deletedDateTime: null,
  };
}

export async function createUser(ctx: DirectoryContext, tenantId: string, actor: Actor, body: unknown): Promise<User> {
  requireDirectoryWrite(actor, 'User.ReadWrite.All');
  const props = parseUserBody(body, 'create');
  const password = (props.passwordProfile as { password?: string }).password;
  if (!password) throw errors.badRequest("Invalid value specified for property 'passwordProfile' of resource 'User'.");
  validatePasswordComplexity(password);
  const passwordHash = await hashSecret(password);
  const now = ctx.clock.now().toISOString();
  return ctx.store.transaction(async (db) => {
    const domains = await verifiedDomains(db, tenantId);
    validateUpn(String(props.userPrincipalName), domains);
    if (await usersRepo.upnTaken(db, tenantId, String(props.userPrincipalName))) throw duplicateUpn();
    const user = newUser(props, domains[0]!, now);
    await usersRepo.insert(db, tenantId, [{ tenantId, user, homeTenantId: null, homeUserId: null, passwordHash, roles: [] }]);
    await changesRepo.append(db, tenantId, [{ objectType: 'user', objectId: user.id, change: 'created' }], now);
    return user;
  });
}

/** Reads one user as the actor is allowed to see it (limited properties for default guests). */
export async function getUser(ctx: DirectoryContext, tenantId: string, actor: Actor, idOrUpn: string): Promise<User> {
  requireAppPermission(actor, 'User.Read.All', 'User.ReadWrite.All');
  const record = await usersRepo.get(ctx.store.db, tenantId, idOrUpn);
  const self = actor.user?.user.id;
  const isSelf = record !== undefined && record.user.id === self;
  if (!record) throw errors.notFound(idOrUpn);
  if (actor.principal.kind === 'user' && !isSelf) {
    if (actor.readLevel === 'self') throw errors.denied();
    // Default guests look other users up by object id only, never by UPN.
    if (actor.readLevel === 'byIdLimited') {
      if (idOrUpn.includes('@')) throw errors.denied();
      return Object.fromEntries(Object.entries(record.user).filter(([k]) => guestVisibleUserProperties.has(k))) as User;
    }
  }
  return record.user;
}

/** Properties a non-admin user may change on their own object. */
const selfServiceProperties = new Set(['businessPhones', 'mobilePhone', 'officeLocation', 'preferredLanguage', 'passwordProfile', 'aboutMe']);

export async function updateUser(ctx: DirectoryContext, tenantId: string, actor: Actor, idOrUpn: string, body: unknown): Promise<void> {
  const props = parseUserBody(body, 'update');
  const now = ctx.clock.now().toISOString();
  let passwordHash: string | undefined;
  const pw = (props.passwordProfile as { password?: string } | undefined)?.password;
  if (pw) {
    validatePasswordComplexity(pw);
    passwordHash = await hashSecret(pw);
  }
  await ctx.store.transaction(async (db) => {
    const record = await usersRepo.get(db, tenantId, idOrUpn);
    if (!record) throw errors.notFound(idOrUpn);
    const isSelf = actor.user?.user.id === record.user.id;
    if (isSelf && !actor.isAdmin) {
      if (Object.keys(props).some((k) => !selfServiceProperties.has(k))) throw errors.denied();
    } else {
      requireDirectoryWrite(actor, 'User.ReadWrite.All');
    }
    const next = applyUserChanges(record, props, now);
    if (props.userPrincipalName !== undefined) {
      const upn = String(props.userPrincipalName);
      validateUpn(upn, await verifiedDomains(db, tenantId));
      if (await usersRepo.upnTaken(db, tenantId, upn, record.user.id)) throw duplicateUpn();
    }
    if (passwordHash) next.passwordHash = passwordHash;
    const changed = Object.keys(props).filter((k) => k !== 'passwordProfile');
    if (next.user.showInAddressList !== record.user.showInAddressList && !changed.includes('showInAddressList')) changed.push('showInAddressList');
    await usersRepo.update(db, tenantId, next);
    await changesRepo.append(db, tenantId, [{ objectType: 'user', objectId: record.user.id, change: 'updated', props: changed }], now);
  });
}

/** Applies validated properties to a stored user, keeping the derived ones (proxyAddresses, identities) right. */
export function applyUserChanges(record: UserRecord, props: Record<string, unknown>, now: string): UserRecord {
  const { passwordProfile: _pw, ...rest } = props;
  const user: User = { ...record.user, ...rest } as User;
  if (props.mail !== undefined) {
    user.proxyAddresses = proxyAddressesFor(props.mail as string | null, (record.user.proxyAddresses as string[] | undefined) ?? []);
  }
  if (props.userPrincipalName !== undefined && props.identities === undefined && Array.isArray(user.identities)) {
    user.identities = (user.identities as Record<string, unknown>[]).map((i) =>
      i.signInType === 'userPrincipalName' ? { ...i, issuerAssignedId: props.userPrincipalName } : i,
    );
  }
  if (props.externalUserState !== undefined && props.externalUserState !== record.user.externalUserState) {
    user.externalUserStateChangeDateTime = now;
  }
  // An invited user's address-list visibility follows a userType conversion while it still has the
  // invitation's default (guests hidden, members shown); a value given in the same change is kept.
  if (record.user.creationType === 'Invitation' && props.userType !== undefined && props.showInAddressList === undefined
    && props.userType !== record.user.userType && record.user.showInAddressList === (record.user.userType === 'Member')) {
    user.showInAddressList = props.userType === 'Member';
  }
  return { ...record, user };
}

export async function deleteUser(ctx: DirectoryContext, tenantId: string, actor: Actor, idOrUpn: string): Promise<void> {
  requireDirectoryWrite(actor, 'User.ReadWrite.All');
  const now = ctx.clock.now().toISOString();
  await ctx.store.transaction(async (db) => {
    const record = await usersRepo.get(db, tenantId, idOrUpn);
    if (!record) throw errors.notFound(idOrUpn);
    await usersRepo.update(db, tenantId, { ...record, user: { ...record.user, deletedDateTime: now } });
    await changesRepo.append(db, tenantId, [{ objectType: 'user', objectId: record.user.id, change: 'softDeleted' }], now);
  });
}

export async function restoreUser(ctx: DirectoryContext, tenantId: string, actor: Actor, id: string): Promise<User> {
  requireDirectoryWrite(actor, 'User.ReadWrite.All');
  const now = ctx.clock.now().toISOString();
  return ctx.store.transaction(async (db) => {
    const record = await usersRepo.get(db, tenantId, id, true);
    if (!record) throw errors.notFound(id);
    const user = { ...record.user, deletedDateTime: null };
    await usersRepo.update(db, tenantId, { ...record, user });
    await changesRepo.append(db, tenantId, [{ objectType: 'user', objectId: user.id, change: 'restored' }], now);
    return user;
  });
}

export async function getDeletedUser(ctx: DirectoryContext, tenantId: string, actor: Actor, id: string): Promise<User> {
  requireAppPermission(actor, 'User.Read.All');
  const record = await usersRepo.get(ctx.store.db, tenantId, id, true);
  if (!record) throw errors.notFound(id);
  return record.user;
}

export async function purgeUser(ctx: DirectoryContext, tenantId: string, actor: Actor, id: string): Promise<void> {
  requireDirectoryWrite(actor, 'User.ReadWrite.All');
  const now = ctx.clock.now().toISOString();
  await ctx.store.transaction(async (db) => {
    const record = await usersRepo.get(db, tenantId, id, true);
    if (!record) throw errors.notFound(id);
    const groups = await usersRepo.remove(db, tenantId, record.user.id);
    await appRoleAssignmentsRepo.removeOfPrincipal(db, tenantId, record.user.id);
    await changesRepo.append(db, tenantId, [{ objectType: 'user', objectId: record.user.id, change: 'deleted' }, ...lostMemberships(record.user.id, groups)], now);
  });
}

/** Change-log entries telling each group that a purged user left it (delta's members@delta). */
const lostMemberships = (userId: string, groupIds: readonly string[]): Change[] =>
  groupIds.map((g) => ({ objectType: 'group', objectId: g, change: 'updated', props: ['members', `members:-${userId}`] }));

/** Permanently deletes users soft-deleted more than 30 days ago. Returns how many were purged. */
export async function purgeExpiredUsers(ctx: DirectoryContext, tenantId: string): Promise<number> {
  const now = ctx.clock.now();
  const before = new Date(now.getTime() - SOFT_DELETE_RETENTION_DAYS * 86_400_000).toISOString();
  let total = 0;
  // Batches bound each transaction so a large recycle bin never holds the write lock for long.
  for (;;) {
    const n = await ctx.store.transaction(async (db) => {
      const ids = await usersRepo.expired(db, tenantId, before, 500);
      const changes: Change[] = [];
      for (const id of ids) {
        const groups = await usersRepo.remove(db, tenantId, id);
        await appRoleAssignmentsRepo.removeOfPrincipal(db, tenantId, id);
        changes.push({ objectType: 'user', objectId: id, change: 'deleted' }, ...lostMemberships(id, groups));
      }
      await changesRepo.append(db, tenantId, changes, now.toISOString());
      return ids.length;
    });
    total += n;
    if (n < 500) return total;
  }
}
