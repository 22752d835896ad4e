// Multi-tenant organization use cases: create/read/update the organization, add, list, re-role and
// remove member tenants, and the joining tenant's join request. Every write is one transaction that
// takes the organization's row lock, asks the pure state machine (domain/mto.ts) and, for the steps
// Entra runs asynchronously (join, removal, role change), queues a transition for the worker.
import { randomUUID } from 'node:crypto';
import type { Actor } from '../directory/access.js';
import type { Clock } from '../domain/clock.js';
import { errors } from '../domain/errors.js';
import {
  type ActorStanding, type Decision, type DecisionInput, decide, type Member, mtoErrors, type Organization, parseAddBody,
  parseCreateBody, parseJoinBody, parseRoleBody, parseUpdateBody, ZERO_GUID,
} from '../domain/mto.js';
import { grants, policyAdminRoles } from '../identity/permissions.js';
import { mtoRepo, type TransitionJob, type TransitionKind } from '../store/repos/mto.js';
import { tenantsRepo } from '../store/repos/tenants.js';
import type { Db, Store } from '../store/store.js';

export interface MtoContext {
  store: Store;
  clock: Clock;
  /** Wakes the transition worker after a commit that queued work. */
  wake?: (topic: string, tenantId: string) => void;
}

/** `basic`: only active tenants, only tenantId and displayName (MultiTenantOrganization.ReadBasic.All, non-admin users). */
export type MtoAccess = 'full' | 'basic';

export function readAccess(actor: Actor): MtoAccess {
  if (actor.principal.kind === 'app') {
    if (grants(actor.principal.roles, 'MultiTenantOrganization.Read.All')) return 'full';
    if (grants(actor.principal.roles, 'MultiTenantOrganization.ReadBasic.All')) return 'basic';
    throw errors.denied();
  }
  if (actor.user?.roles.some((r) => policyAdminRoles.has(r))) return 'full';
  // Any signed-in member user may read basic details; guests are outside the organization's people.
  if (actor.user?.user.userType === 'Guest') throw errors.denied();
  return 'basic';
}

export function requireWrite(actor: Actor): void {
  if (actor.principal.kind === 'app') {
    if (!grants(actor.principal.roles, 'MultiTenantOrganization.ReadWrite.All')) throw errors.denied();
    return;
  }
  if (!actor.user?.roles.some((r) => policyAdminRoles.has(r))) throw errors.denied();
}

/** The row through which a tenant sees its organization: active, or being removed. Pending rows don't count. */
export async function currentMembership(db: Db, tenantId: string): Promise<Member | undefined> {
  return (await mtoRepo.memberships(db, tenantId)).find((m) => m.state !== 'pending');
}

const standingOf = (m: Member | undefined): ActorStanding => (m?.state === 'active' ? m.role : 'nonMember');

function counts(members: Member[]) {
  const active = members.filter((m) => m.state === 'active');
  return { activeTenants: active.length, activeOwners: active.filter((m) => m.role === 'owner').length };
}

function orThrow(d: Decision): Exclude<Decision, { outcome: 'error' }> {
  if (d.outcome === 'error') throw d.error;
  return d;
}

export interface OrganizationView {
  id: string | null;
  createdDateTime: string | null;
  displayName: string | null;
  description: string | null;
  state: 'active' | 'inactive';
}

const viewOf = (o: Organization, m: Member): OrganizationView => ({
  id: m.localObjectId, createdDateTime: o.createdDateTime, displayName: o.displayName, description: o.description, state: 'active',
});

export async function getOrganization(ctx: MtoContext, tenantId: string, actor: Actor): Promise<OrganizationView> {
  readAccess(actor);
  const m = await currentMembership(ctx.store.db, tenantId);
  const o = m && (await mtoRepo.organization(ctx.store.db, m.mtoId));
  if (!m || !o) return { id: null, createdDateTime: null, displayName: null, description: null, state: 'inactive' };
  return viewOf(o, m);
}

export async function createOrganization(ctx: MtoContext, tenantId: string, actor: Actor, body: unknown): Promise<OrganizationView> {
  requireWrite(actor);
  const input = parseCreateBody(body);
  const now = ctx.clock.now().toISOString();
  // Two concurrent creates by one tenant both pass the check on PostgreSQL; the unique index stops the second.
  return ctx.store.transaction(async (db) => {
    if (await currentMembership(db, tenantId)) throw mtoErrors.alreadyInOrganization();
    const tenant = await tenantsRepo.find(db, tenantId);
    const o: Organization = { id: randomUUID(), ...input, createdDateTime: now, creatorTenantId: tenantId };
    await mtoRepo.insertOrganization(db, tenantId, o);
    // Entra shows joinedDateTime null for the creator; we keep its shape.
    const m: Member = {
      tenantId, mtoId: o.id, displayName: tenant?.displayName ?? tenantId, role: 'owner', state: 'active', addedByTenantId: tenantId,
      addedDateTime: now, joinedDateTime: null, transition: null, localObjectId: randomUUID(),
    };
    await mtoRepo.insertMember(db, tenantId, m);
    return viewOf(o, m);
  }).catch((e: unknown) => {
    const code = (e as { code?: string }).code;
    if (code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE') throw mtoErrors.alreadyInOrganization();
    throw e;
  });
}

/** Runs `fn` with the caller's membership and the organization locked; throws when the caller is in none. */
async function inOrganization<T>(
  ctx: MtoContext, tenantId: string, fn: (db: Db, self: Member, members: Member[], o: Organization) => Promise<T>,
): Promise<T> {
  return ctx.store.transaction(async (db) => {
    const self = await currentMembership(db, tenantId);
    if (!self || !(await mtoRepo.lockOrganization(db, self.mtoId))) throw mtoErrors.noOrganization();
    const o = (await mtoRepo.organization(db, self.mtoId))!;
    return fn(db, self, await mtoRepo.membersOf(db, self.mtoId), o);
  });
}

export async function updateOrganization(ctx: MtoContext, tenantId: string, actor: Actor, body: unknown): Promise<void> {
  requireWrite(actor);
  await inOrganization(ctx, tenantId, async (db, self) => {
    if (standingOf(self) !== 'owner') throw errors.denied();
    await mtoRepo.updateOrganization(db, self.mtoId, parseUpdateBody(body, { id: self.localObjectId, state: 'active' }));
  });
}

/** Members the caller may see: none outside an organization, only active ones at basic access. */
export async function listMembers(ctx: MtoContext, tenantId: string, actor: Actor): Promise<{ access: MtoAccess; members: Member[] }> {
  const access = readAccess(actor);
  const self = await currentMembership(ctx.store.db, tenantId);
  if (!self) return { access, members: [] };
  const members = await mtoRepo.membersOf(ctx.store.db, self.mtoId);
  return { access, members: access === 'basic' ? members.filter((m) => m.state === 'active') : members };
}

export async function getMember(ctx: MtoContext, tenantId: string, actor: Actor, memberTenantId: string): Promise<{ access: MtoAccess; member: Member }> {
  const { access, members } = await listMembers(ctx, tenantId, actor);
  const member = members.find((m) => m.tenantId === memberTenantId.toLowerCase());
  if (!member) throw mtoErrors.companyNotFound();
  return { access, member };
}

async function enqueue(db: Db, ctx: MtoContext, tenantId: string, kind: TransitionKind, mtoId: string | null, payload: TransitionJob['payload']) {
  const now = ctx.clock.now().toISOString();
  await mtoRepo.enqueue(db, tenantId, { id: randomUUID(), kind, mtoId, notBefore: now, payload, createdAt: now });
}

export async function addMember(ctx: MtoContext, tenantId: string, actor: Actor, body: unknown): Promise<Member> {
  requireWrite(actor);
  const input = parseAddBody(body);
  const now = ctx.clock.now().toISOString();
  return inOrganization(ctx, tenantId, async (db, self, members) => {
    const target = members.find((m) => m.tenantId === input.tenantId);
    const d = orThrow(decide({ op: 'add', target: target?.state ?? 'absent', actor: standingOf(self), role: input.role, ...counts(members) }));
    if (d.outcome !== 'addPending') throw new Error(`unexpected decision ${d.outcome}`);
    // Only tenants hosted here can ever join (they need our tokens), so an unknown id is refused up front.
    if (!(await tenantsRepo.find(db, input.tenantId)) || input.tenantId === ZERO_GUID) throw mtoErrors.companyNotFound();
    const m: Member = {
      tenantId: input.tenantId, mtoId: self.mtoId, displayName: input.displayName, role: 'member', state: 'pending',
      addedByTenantId: tenantId, addedDateTime: now, joinedDateTime: null, transition: d.transition, localObjectId: randomUUID(),
    };
    await mtoRepo.insertMember(db, input.tenantId, m);
    return m;
  });
}

export async function changeRole(ctx: MtoContext, tenantId: string, actor: Actor, memberTenantId: string, body: unknown): Promise<void> {
  requireWrite(actor);
  const queued = await inOrganization(ctx, tenantId, async (db, self, members) => {
    const target = members.find((m) => m.tenantId === memberTenantId.toLowerCase());
    if (!target) throw mtoErrors.companyNotFound();
    const role = parseRoleBody(body, target);
    const d = orThrow(decide({ op: 'changeRole', target: target.state, actor: standingOf(self), targetRole: target.role, role, ...counts(members) }));
    if (d.outcome === 'noop') return false;
    const transition = { desiredRole: role, desiredState: 'active' as const, status: 'notStarted' as const, details: null };
    if (d.outcome === 'setDesiredRole') {
      // The stored role of a pending tenant stays member until it joins; the join applies the desired role.
      await mtoRepo.updateMember(db, target.tenantId, { ...target, transition: { ...(target.transition ?? transition), desiredRole: role } });
      return false;
    }
    await mtoRepo.updateMember(db, target.tenantId, { ...target, transition });
    await enqueue(db, ctx, target.tenantId, 'changeRole', target.mtoId, { role });
    return true;
  });
  if (queued) ctx.wake?.('mto', tenantId);
}

export async function removeMember(ctx: MtoContext, tenantId: string, actor: Actor, memberTenantId: string): Promise<void> {
  requireWrite(actor);
  const targetId = memberTenantId.toLowerCase();
  await inOrganization(ctx, tenantId, async (db, self, members, o) => {
    const target = members.find((m) => m.tenantId === targetId);
    const input: DecisionInput = {
      op: targetId === tenantId ? 'removeSelf' : 'removeOther', target: target?.state ?? 'absent', actor: standingOf(self),
      targetIsCreator: o.creatorTenantId === targetId, ...(target ? { targetRole: target.role } : {}), ...counts(members),
    };
    orThrow(decide(input));
    if (!target) throw mtoErrors.companyNotFound();
    await mtoRepo.updateMember(db, targetId, {
      ...target, state: 'removed', transition: { desiredRole: null, desiredState: 'removed', status: 'notStarted', details: null },
    });
    await enqueue(db, ctx, targetId, 'remove', target.mtoId, {});
  });
  ctx.wake?.('mto', tenantId);
}

export interface JoinRequestView {
  id: string;
  addedByTenantId: string;
  memberState: Member['state'] | null;
  role: Member['role'] | null;
  transitionDetails: { desiredMemberState: Member['state'] | null; status: string; details: string } | null;
}

const jobStatus = (j: TransitionJob) => (j.status === 'queued' ? 'notStarted' : j.status);

export async function getJoinRequest(ctx: MtoContext, tenantId: string, actor: Actor): Promise<JoinRequestView> {
  if (readAccess(actor) !== 'full') throw errors.denied();
  const db = ctx.store.db;
  const job = await mtoRepo.latestJoin(db, tenantId);
  // The latest join attempt speaks first while it is in flight or failed: it is what the admin last did.
  if (job && job.status !== 'succeeded') {
    const row = job.mtoId ? await mtoRepo.member(db, tenantId, job.mtoId) : undefined;
    return {
      id: job.id, addedByTenantId: job.payload.addedByTenantId ?? ZERO_GUID, memberState: row?.state ?? 'pending', role: null,
      transitionDetails: { desiredMemberState: 'active', status: jobStatus(job), details: job.error ?? '' },
    };
  }
  const m = await currentMembership(db, tenantId);
  if (!m) return { id: tenantId, addedByTenantId: ZERO_GUID, memberState: null, role: null, transitionDetails: null };
  return {
    id: job?.id ?? m.localObjectId, addedByTenantId: m.addedByTenantId, memberState: m.state, role: m.role,
    transitionDetails: m.transition
      ? { desiredMemberState: m.transition.desiredState, status: m.transition.status, details: m.transition.details ?? '' }
      : null,
  };
}

/** PATCH joinRequest: queues the join (decided in the background) or, with the zero GUID, resets a failed one. */
export async function requestJoin(ctx: MtoContext, tenantId: string, actor: Actor, body: unknown): Promise<void> {
  requireWrite(actor);
  const addedBy = parseJoinBody(body);
  await ctx.store.transaction(async (db) => {
    const job = await mtoRepo.latestJoin(db, tenantId);
    const rows = await mtoRepo.memberships(db, tenantId);
    if (addedBy === ZERO_GUID) {
      const row = job?.mtoId ? rows.find((r) => r.mtoId === job.mtoId) : undefined;
      orThrow(decide({ op: 'reset', target: row?.state ?? 'absent', actor: 'nonMember', joinFailed: job?.status === 'failed', activeOwners: 0, activeTenants: 0 }));
      await mtoRepo.deleteJoins(db, tenantId);
      if (row?.state === 'pending' && row.transition) {
        await mtoRepo.updateMember(db, tenantId, { ...row, transition: { ...row.transition, status: 'notStarted', details: null } });
      }
      return;
    }
    if (job && (job.status === 'queued' || job.status === 'running')) throw mtoErrors.joinInProgress();
    // The row the named tenant added; pending first (the usual case), else whatever state the worker will judge.
    const matching = rows.filter((r) => r.addedByTenantId === addedBy);
    const row = matching.find((r) => r.state === 'pending') ?? matching[0];
    await mtoRepo.deleteJoins(db, tenantId);
    if (row?.state === 'pending') {
      const t = row.transition ?? { desiredRole: 'member', desiredState: 'active', status: 'notStarted', details: null };
      await mtoRepo.updateMember(db, tenantId, { ...row, transition: { ...t, status: 'notStarted', details: null } });
    }
    await enqueue(db, ctx, tenantId, 'join', row?.mtoId ?? null, { addedByTenantId: addedBy });
  });
  ctx.wake?.('mto', tenantId);
}
