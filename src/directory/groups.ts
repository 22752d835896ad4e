// Tenant-scoped security-group use cases: create, read, update, permanent delete, direct membership.
// Only security groups (securityEnabled, not mail-enabled, no groupTypes) exist here; Microsoft 365 and
// dynamic groups are refused with a clear 400. Every mutation is one transaction that also appends the
// group's change-log entry (membership changes as `updated` with props ['members']).
import { z } from 'zod';
import { DomainError, errors } from '../domain/errors.js';
import { newObjectId } from '../domain/ids.js';
import type { User } from '../domain/user.js';
import { appRoleAssignmentsRepo } from '../store/repos/appRoleAssignments.js';
import { type Change, changesRepo } from '../store/repos/changes.js';
import { type Group, groupsRepo } from '../store/repos/groups.js';
import { userFromData, usersRepo } from '../store/repos/users.js';
import type { Db } from '../store/store.js';
import { type Actor, guestVisibleUserProperties, requireAppPermission, requireDirectoryWrite } from './access.js';
import { type DirectoryContext, getUser } from './users.js';

export type { Group };

/** A user or group as a member or a directoryObject; `@odata.type` is derived from `type`. */
export type DirectoryObject = { type: 'user'; object: User } | { type: 'group'; object: Group };

/** Graph returns every property of a group by default. */
export const defaultGroupSelect = [
  'id', 'deletedDateTime', 'classification', 'createdDateTime', 'creationOptions', 'description', 'displayName',
  'expirationDateTime', 'groupTypes', 'isAssignableToRole', 'mail', 'mailEnabled', 'mailNickname', 'membershipRule',
  'membershipRuleProcessingState', 'onPremisesDomainName', 'onPremisesLastSyncDateTime', 'onPremisesNetBiosName',
  'onPremisesSamAccountName', 'onPremisesSecurityIdentifier', 'onPremisesSyncEnabled', 'preferredDataLocation',
  'preferredLanguage', 'proxyAddresses', 'renewedDateTime', 'resourceBehaviorOptions', 'resourceProvisioningOptions',
  'securityEnabled', 'securityIdentifier', 'theme', 'visibility', 'onPremisesProvisioningErrors', 'serviceProvisioningErrors',
] as const;
export const allGroupProperties = new Set<string>(defaultGroupSelect);

// Graph's mailNickname alphabet: printable ASCII without @ ( ) \ [ ] " ; : < > , and space.
const nickname = z.string().min(1).max(64).regex(/^[!#-'*+\-./0-9=?A-Z^-~]+$/);
const writable: Record<string, z.ZodType> = {
  displayName: z.string().min(1).max(256),
  mailNickname: nickname,
  description: z.string().max(1024).nullable(),
  securityEnabled: z.boolean(),
  mailEnabled: z.boolean(),
  groupTypes: z.array(z.string()).max(10),
  isAssignableToRole: z.boolean().nullable(),
};
/** Set once at creation (Entra fixes role-assignability for the group's lifetime). */
const createOnly = new Set(['isAssignableToRole']);
/** Graph adds at most 20 members per request through members@odata.bind (on create or update). */
const MAX_BIND = 20;

const outOfScope = () =>
  errors.badRequest(
    "Only security groups are supported: Microsoft 365 ('Unified') and dynamic ('DynamicMembership') groups can't be created here. Use securityEnabled: true, mailEnabled: false, groupTypes: [].",
  );

export function parseGroupBody(body: unknown, mode: 'create' | 'update'): { props: Record<string, unknown>; bind: string[] } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest('The request body must be a JSON object.');
  const props: Record<string, unknown> = {};
  let bind: string[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (key === 'members@odata.bind') {
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
        throw errors.badRequest("Invalid value specified for property 'members@odata.bind' of resource 'Group'.");
      }
      if (value.length > MAX_BIND) throw errors.badRequest(`At most ${MAX_BIND} members can be added in one request.`);
      bind = value as string[];
      continue;
    }
    if (key === 'owners@odata.bind') throw errors.badRequest('Group owners are not supported by this server.');
    if (key.startsWith('@odata.')) continue;
    if (allGroupProperties.has(key) && (!writable[key] || (mode === 'update' && createOnly.has(key)))) {
      throw errors.badRequest(`Property '${key}' is read-only and cannot be set.`);
    }
    const schema = writable[key];
    if (!schema) throw errors.badRequest(`Property '${key}' does not exist on type 'microsoft.graph.group'.`);
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw errors.badRequest(`Invalid value specified for property '${key}' of resource 'Group'.`);
    props[key] = parsed.data;
  }
  if (Array.isArray(props.groupTypes) && props.groupTypes.length) throw outOfScope();
  if (props.mailEnabled === true) throw outOfScope();
  if (props.securityEnabled === false) throw errors.badRequest('A security group must have securityEnabled: true.');
  if (mode === 'create') {
    for (const key of ['displayName', 'mailNickname']) {
      if (props[key] === undefined) {
        throw new DomainError('badRequest', 'Request_BadRequest', `Property '${key}' is required when creating the resource.`);
      }
    }
  }
  return { props, bind };
}

/** Entra's objectSid for cloud groups: S-1-12-1- followed by the object id's 16 bytes as four little-endian uint32. */
export function securityIdentifierFor(id: string): string {
  const hex = id.replace(/-/g, '');
  const b = Buffer.from(hex, 'hex');
  // Guid byte order: the first three fields are little-endian, the last eight bytes as written.
  const bytes = Buffer.concat([Buffer.from(b.subarray(0, 4)).reverse(), Buffer.from(b.subarray(4, 6)).reverse(), Buffer.from(b.subarray(6, 8)).reverse(), b.subarray(8)]);
  return `S-1-12-1-${[0, 4, 8, 12].map((o) => bytes.readUInt32LE(o)).join('-')}`;
}

function newGroup(props: Record<string, unknown>, now: string): Group {
  const id = newObjectId();
  const group: Record<string, unknown> = Object.fromEntries(defaultGroupSelect.map((k) => [k, null]));
  for (const k of ['creationOptions', 'groupTypes', 'proxyAddresses', 'resourceBehaviorOptions', 'resourceProvisioningOptions',
    'onPremisesProvisioningErrors', 'serviceProvisioningErrors']) group[k] = [];
  return {
    ...group, ...props, id, createdDateTime: now, renewedDateTime: now, securityEnabled: true, mailEnabled: false,
    displayName: String(props.displayName), securityIdentifier: securityIdentifierFor(id), deletedDateTime: null,
  } as Group;
}

const refPattern = /^(?:https?:\/\/[^/]+)?\/?(?:(?:v1\.0|beta)\/)?(directoryObjects|users|groups)\/([^/?#]+)$/i;

/** Resolves an `@odata.id` / `@odata.bind` URL to a live user or group of the same tenant. */
async function resolveRef(db: Db, tenantId: string, ref: unknown): Promise<{ id: string; type: 'user' | 'group' }> {
  const m = typeof ref === 'string' ? refPattern.exec(ref.trim()) : null;
  if (!m) throw errors.badRequest(`Invalid object identifier '${String(ref)}'.`);
  const kind = m[1]!.toLowerCase();
  const key = decodeURIComponent(m[2]!);
  if (kind !== 'groups') {
    const u = await usersRepo.get(db, tenantId, key);
    if (u) return { id: u.user.id, type: 'user' };
  }
  if (kind !== 'users') {
    const g = await groupsRepo.get(db, tenantId, key);
    if (g) return { id: g.id, type: 'group' };
  }
  throw errors.notFound(key);
}

/** Adds `members@odata.bind` references; any one already a member refuses the whole request. */
async function bindMembers(db: Db, tenantId: string, groupId: string, refs: readonly string[], now: string): Promise<string[]> {
  const seen = new Set<string>();
  for (const ref of refs) {
    const member = await resolveRef(db, tenantId, ref);
    if (member.id === groupId) throw selfMember();
    if (seen.has(member.id) || (await groupsRepo.isMember(db, tenantId, groupId, member.id))) throw alreadyMember();
    seen.add(member.id);
    await groupsRepo.addMember(db, tenantId, groupId, member.id, member.type, now);
  }
  return [...seen];
}

// Entra refuses a group as its own member; deeper cycles are not checked (membership here is direct only).
const selfMember = () => errors.badRequest('A group cannot be a member of itself.');

// Membership changes name the member (`members:+id` / `members:-id`) so delta can report additions and
// removals exactly (members@delta) without diffing the current membership.
export const memberProps = (sign: '+' | '-', memberIds: readonly string[]) =>
  memberIds.length ? ['members', ...memberIds.map((id) => `members:${sign}${id}`)] : [];
const memberChange = (groupId: string, sign: '+' | '-', memberId: string): Change =>
  ({ objectType: 'group', objectId: groupId, change: 'updated', props: memberProps(sign, [memberId]) });

const alreadyMember = () =>
  errors.badRequest("One or more added object references already exist for the following modified properties: 'members'.");

export async function createGroup(ctx: DirectoryContext, tenantId: string, actor: Actor, body: unknown): Promise<Group> {
  requireDirectoryWrite(actor, 'Group.ReadWrite.All');
  const { props, bind } = parseGroupBody(body, 'create');
  const now = ctx.clock.now().toISOString();
  return ctx.store.transaction(async (db) => {
    const group = newGroup(props, now);
    await groupsRepo.insert(db, tenantId, group);
    await bindMembers(db, tenantId, group.id, bind, now);
    await changesRepo.append(db, tenantId, [{ objectType: 'group', objectId: group.id, change: 'created' }], now);
    return group;
  });
}

/** Delegated readers: restricted guests see no groups; default guests may read a group they know the id of. */
function requireGroupRead(actor: Actor, permission: string): void {
  requireAppPermission(actor, permission);
  if (actor.principal.kind === 'user' && actor.readLevel === 'self' && actor.user?.user.userType === 'Guest') throw errors.denied();
}

async function findGroup(ctx: DirectoryContext, tenantId: string, id: string): Promise<Group> {
  const group = await groupsRepo.get(ctx.store.db, tenantId, id);
  if (!group) throw errors.notFound(id);
  return group;
}

export async function getGroup(ctx: DirectoryContext, tenantId: string, actor: Actor, id: string): Promise<Group> {
  requireGroupRead(actor, 'Group.Read.All');
  return findGroup(ctx, tenantId, id);
}

export async function updateGroup(ctx: DirectoryContext, tenantId: string, actor: Actor, id: string, body: unknown): Promise<void> {
  requireDirectoryWrite(actor, 'Group.ReadWrite.All');
  const { props, bind } = parseGroupBody(body, 'update');
  const now = ctx.clock.now().toISOString();
  await ctx.store.transaction(async (db) => {
    const group = await groupsRepo.get(db, tenantId, id);
    if (!group) throw errors.notFound(id);
    await groupsRepo.update(db, tenantId, { ...group, ...props } as Group);
    const added = await bindMembers(db, tenantId, group.id, bind, now);
    const changed = [...Object.keys(props), ...memberProps('+', added)];
    await changesRepo.append(db, tenantId, [{ objectType: 'group', objectId: group.id, change: 'updated', props: changed }], now);
  });
}

/** Security groups have no recycle bin: deletion is permanent, and every parent group records the lost member. */
export async function deleteGroup(ctx: DirectoryContext, tenantId: string, actor: Actor, id: string): Promise<void> {
  requireDirectoryWrite(actor, 'Group.ReadWrite.All');
  const now = ctx.clock.now().toISOString();
  await ctx.store.transaction(async (db) => {
    const group = await groupsRepo.get(db, tenantId, id);
    if (!group) throw errors.notFound(id);
    const parents: string[] = [];
    for (let after = ''; ;) {
      const page = await groupsRepo.memberOf(db, tenantId, group.id, after, 1000);
      parents.push(...page);
      if (page.length < 1000) break;
      after = page[page.length - 1]!;
    }
    // The members lose this membership too: recorded before the deletion, so a reader of the change log (the
    // sync engine, for a group assigned to a configuration) learns who they were.
    const members: string[] = [];
    for (let after = ''; ;) {
      const page = (await groupsRepo.members(db, tenantId, group.id, after, 1000)).map((m) => m.member_id);
      members.push(...page);
      if (page.length < 1000) break;
      after = page[page.length - 1]!;
    }
    const lost: Change[] = [];
    for (let i = 0; i < members.length; i += 1000) {
      lost.push({ objectType: 'group', objectId: group.id, change: 'updated', props: memberProps('-', members.slice(i, i + 1000)) });
    }
    await groupsRepo.remove(db, tenantId, group.id);
    await appRoleAssignmentsRepo.removeOfPrincipal(db, tenantId, group.id);
    await changesRepo.append(db, tenantId, [...lost, { objectType: 'group', objectId: group.id, change: 'deleted' }, ...parents.map((p) => memberChange(p, '-', group.id))], now);
  });
}

export async function addGroupMember(ctx: DirectoryContext, tenantId: string, actor: Actor, groupId: string, body: unknown): Promise<void> {
  requireDirectoryWrite(actor, 'GroupMember.ReadWrite.All');
  if (body === null || typeof body !== 'object' || Array.isArray(body) || !('@odata.id' in body)) {
    throw errors.badRequest("The request body must be a JSON object with an '@odata.id' reference.");
  }
  const ref = (body as Record<string, unknown>)['@odata.id'];
  const now = ctx.clock.now().toISOString();
  await ctx.store.transaction(async (db) => {
    const group = await groupsRepo.get(db, tenantId, groupId);
    if (!group) throw errors.notFound(groupId);
    const member = await resolveRef(db, tenantId, ref);
    if (member.id === group.id) throw selfMember();
    if (await groupsRepo.isMember(db, tenantId, group.id, member.id)) throw alreadyMember();
    await groupsRepo.addMember(db, tenantId, group.id, member.id, member.type, now);
    await changesRepo.append(db, tenantId, [memberChange(group.id, '+', member.id)], now);
  });
}

export async function removeGroupMember(ctx: DirectoryContext, tenantId: string, actor: Actor, groupId: string, memberId: string): Promise<void> {
  requireDirectoryWrite(actor, 'GroupMember.ReadWrite.All');
  const now = ctx.clock.now().toISOString();
  await ctx.store.transaction(async (db) => {
    const group = await groupsRepo.get(db, tenantId, groupId);
    if (!group) throw errors.notFound(groupId);
    if (!(await groupsRepo.removeMember(db, tenantId, group.id, memberId.toLowerCase()))) throw errors.notFound(memberId);
    await changesRepo.append(db, tenantId, [memberChange(group.id, '-', memberId.toLowerCase())], now);
  });
}

/** A default guest sees other users through the same narrow window as on /users/{id}. */
function visibleUser(actor: Actor, user: User): User {
  if (actor.readLevel !== 'byIdLimited' || actor.user?.user.id === user.id) return user;
  return Object.fromEntries(Object.entries(user).filter(([k]) => guestVisibleUserProperties.has(k))) as User;
}

export interface MemberPage {
  items: DirectoryObject[];
  /** Member id to continue after, when there may be more. */
  next?: string;
}

export async function listGroupMembers(
  ctx: DirectoryContext, tenantId: string, actor: Actor, groupId: string, after: string, top: number,
): Promise<MemberPage> {
  requireGroupRead(actor, 'GroupMember.Read.All');
  const group = await findGroup(ctx, tenantId, groupId);
  const rows = await groupsRepo.liveMembers(ctx.store.db, tenantId, group.id, after, top + 1);
  const items: DirectoryObject[] = rows.slice(0, top).map((r) =>
    r.userData !== null
      ? { type: 'user', object: visibleUser(actor, userFromData(r.userData)) }
      : { type: 'group', object: JSON.parse(r.groupData as string) as Group },
  );
  return rows.length > top ? { items, next: rows[top - 1]!.id } : { items };
}

export async function countGroupMembers(ctx: DirectoryContext, tenantId: string, actor: Actor, groupId: string): Promise<number> {
  requireGroupRead(actor, 'GroupMember.Read.All');
  const group = await findGroup(ctx, tenantId, groupId);
  return groupsRepo.countLiveMembers(ctx.store.db, tenantId, group.id);
}

/** Direct memberships of a user (live) or a group; a caller may always read their own. */
export async function listMemberOf(
  ctx: DirectoryContext, tenantId: string, actor: Actor, kind: 'user' | 'group', id: string, after: string, top: number,
): Promise<{ items: Group[]; next?: string }> {
  requireAppPermission(actor, 'GroupMember.Read.All');
  let objectId: string;
  if (kind === 'user') {
    const user = await getUser(ctx, tenantId, actor, id);
    const self = actor.user?.user.id === user.id;
    if (!self && actor.principal.kind === 'user' && actor.readLevel !== 'all') throw errors.denied();
    objectId = user.id;
  } else {
    requireGroupRead(actor, 'GroupMember.Read.All');
    objectId = (await findGroup(ctx, tenantId, id)).id;
  }
  const rows = await groupsRepo.memberOfGroups(ctx.store.db, tenantId, objectId, after, top + 1);
  const items = rows.slice(0, top).map((r) => JSON.parse(r.data) as Group);
  return rows.length > top ? { items, next: rows[top - 1]!.id } : { items };
}

/** `GET /directoryObjects/{id}`: a live user or a group of the caller's tenant. */
export async function getDirectoryObject(ctx: DirectoryContext, tenantId: string, actor: Actor, id: string): Promise<DirectoryObject> {
  if (!id.includes('@') && (await usersRepo.get(ctx.store.db, tenantId, id))) {
    return { type: 'user', object: await getUser(ctx, tenantId, actor, id) };
  }
  return { type: 'group', object: await getGroup(ctx, tenantId, actor, id) };
}
