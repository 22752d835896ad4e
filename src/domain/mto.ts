// Multi-tenant organization: the Graph shapes of the organization, its member tenants and join requests,
// the pure state machine that decides every lifecycle operation, and the rule that turns a tenant's
// templates into partner-policy changes. No I/O, no clock.
import { z } from 'zod';
import {
  applyPartnerPatch, type B2BKey, type B2BSetting, type InboundTrust, isGuid, type PartnerPolicy, parseBody, unconfiguredPartner,
} from './cross-tenant-policy.js';
import { DomainError, errors } from './errors.js';

export const ZERO_GUID = '00000000-0000-0000-0000-000000000000';

/**
 * Entra's cap on active tenants, owner included. Owners may add more pending tenants; a join that
 * would go past it fails (recorded in transitionDetails), as Entra enforces it at join time.
 */
export const MAX_ACTIVE_TENANTS = 100;

export type MemberRole = 'owner' | 'member';
/** `removed` means "being removed": the row disappears when the removal transition completes. */
export type MemberState = 'pending' | 'active' | 'removed';
export type TransitionStatus = 'notStarted' | 'running' | 'succeeded' | 'failed';

export interface TransitionDetails {
  desiredRole: MemberRole | null;
  desiredState: MemberState | null;
  status: TransitionStatus;
  details: string | null;
}

export interface Organization {
  id: string;
  displayName: string;
  description: string | null;
  createdDateTime: string;
  creatorTenantId: string;
}

export interface Member {
  tenantId: string;
  mtoId: string;
  displayName: string;
  role: MemberRole;
  state: MemberState;
  addedByTenantId: string;
  addedDateTime: string;
  joinedDateTime: string | null;
  transition: TransitionDetails | null;
  /** The id under which this member tenant sees the organization (each tenant has its own). */
  localObjectId: string;
}

// ---------------------------------------------------------------------------------------------
// Errors. Graph publishes only a few of these strings (marked); the rest say what to do next.

const bad = (message: string) => new DomainError('badRequest', 'Request_BadRequest', message);

export const mtoErrors = {
  /** Published (Graph, add tenant). */
  alreadyAdding: () => bad('Tenant is already being added in Multi-Tenant Organization.'),
  /** Published (Graph, GET of a removed tenant). */
  companyNotFound: () =>
    new DomainError('notFound', 'Directory_ObjectNotFound', 'Unable to read the company information from the directory.'),
  noOrganization: () =>
    new DomainError('notFound', 'Request_ResourceNotFound', 'The tenant is not part of an active multi-tenant organization.'),
  alreadyInOrganization: () => bad('The tenant is already part of a multi-tenant organization. A tenant can be part of only one.'),
  beingRemoved: () => bad('Tenant is being removed from Multi-Tenant Organization. Wait for the removal to complete.'),
  lastOwner: () =>
    bad('A Multi-Tenant Organization must keep at least one active owner tenant. Make another active tenant an owner first.'),
  creatorCannotBeRemoved: () => bad('The tenant that created the Multi-Tenant Organization cannot be removed while other active tenants remain.'),
  ownerMustBeDemoted: () => bad('An owner tenant cannot be removed by another tenant. Change its role to member first.'),
  notAddedByOwner: (addedBy: string) =>
    bad(`The tenant was not added to a Multi-Tenant Organization by an active owner tenant with id '${addedBy}'.`),
  alreadyMember: () => bad('The tenant is already an active member of this Multi-Tenant Organization.'),
  inAnotherOrganization: () => bad('The tenant is already part of another Multi-Tenant Organization. Leave it before joining.'),
  limitReached: (max: number) =>
    bad(`The Multi-Tenant Organization already has the maximum of ${max} active tenants; the join would exceed it.`),
  noFailedJoin: () => bad('There is no failed join request to reset.'),
  joinInProgress: () => bad('A join request is already being processed for this tenant.'),
};

// ---------------------------------------------------------------------------------------------
// The state machine

export type Operation = 'add' | 'join' | 'changeRole' | 'removeSelf' | 'removeOther' | 'reset';
/** The calling tenant's standing in the organization: its active role, or none. */
export type ActorStanding = 'owner' | 'member' | 'nonMember';
export type TargetState = MemberState | 'absent';

export interface DecisionInput {
  op: Operation;
  /** The target tenant's row; for join, reset and removeSelf the target is the caller itself. */
  target: TargetState;
  actor: ActorStanding;
  targetRole?: MemberRole;
  /** add: the requested role; changeRole: the new role. */
  role?: MemberRole;
  targetIsCreator?: boolean;
  activeOwners: number;
  activeTenants: number;
  maxActiveTenants?: number;
  /** join: the tenant id the joiner named, whether it is an active owner that added it, and other memberships. */
  addedByTenantId?: string;
  addedByIsOwner?: boolean;
  joinerInOtherOrganization?: boolean;
  /** reset: the tenant's latest join request failed. */
  joinFailed?: boolean;
}

export type Decision =
  | { outcome: 'addPending'; transition: TransitionDetails }
  | { outcome: 'activate'; role: MemberRole }
  | { outcome: 'setRole'; role: MemberRole }
  | { outcome: 'setDesiredRole'; role: MemberRole }
  | { outcome: 'remove'; deletesOrganization: boolean }
  | { outcome: 'resetJoin' }
  | { outcome: 'noop' }
  | { outcome: 'error'; error: DomainError };

const fail = (error: DomainError): Decision => ({ outcome: 'error', error });

/** Only an active owner manages other tenants; a caller outside the organization can't even address it. */
function ownerOnly(actor: ActorStanding): Decision | null {
  if (actor === 'nonMember') return fail(mtoErrors.noOrganization());
  if (actor === 'member') return fail(errors.denied());
  return null;
}

export function decide(i: DecisionInput): Decision {
  switch (i.op) {
    case 'add': {
      const denied = ownerOnly(i.actor);
      if (denied) return denied;
      if (i.target === 'pending' || i.target === 'active') return fail(mtoErrors.alreadyAdding());
      if (i.target === 'removed') return fail(mtoErrors.beingRemoved());
      return {
        outcome: 'addPending',
        transition: { desiredRole: i.role ?? 'member', desiredState: 'active', status: 'notStarted', details: null },
      };
    }
    case 'join': {
      if (i.target === 'active') return fail(mtoErrors.alreadyMember());
      if (i.target === 'removed') return fail(mtoErrors.beingRemoved());
      if (i.target === 'absent' || !i.addedByIsOwner) return fail(mtoErrors.notAddedByOwner(i.addedByTenantId ?? ZERO_GUID));
      if (i.joinerInOtherOrganization) return fail(mtoErrors.inAnotherOrganization());
      const max = i.maxActiveTenants ?? MAX_ACTIVE_TENANTS;
      if (i.activeTenants + 1 > max) return fail(mtoErrors.limitReached(max));
      return { outcome: 'activate', role: i.role ?? 'member' };
    }
    case 'changeRole': {
      const denied = ownerOnly(i.actor);
      if (denied) return denied;
      const role = i.role ?? 'member';
      if (i.target === 'absent') return fail(mtoErrors.companyNotFound());
      if (i.target === 'removed') return fail(mtoErrors.beingRemoved());
      if (i.target === 'pending') return { outcome: 'setDesiredRole', role };
      if (i.targetRole === role) return { outcome: 'noop' };
      if (i.targetRole === 'owner' && i.activeOwners <= 1) return fail(mtoErrors.lastOwner());
      return { outcome: 'setRole', role };
    }
    case 'removeSelf': {
      if (i.target === 'removed') return fail(mtoErrors.beingRemoved());
      // A pending tenant has not joined: to it the organization does not exist yet.
      if (i.target !== 'active' || i.actor === 'nonMember') return fail(mtoErrors.noOrganization());
      if (i.activeTenants <= 1) return { outcome: 'remove', deletesOrganization: true };
      if (i.targetIsCreator) return fail(mtoErrors.creatorCannotBeRemoved());
      if (i.actor === 'owner' && i.activeOwners <= 1) return fail(mtoErrors.lastOwner());
      return { outcome: 'remove', deletesOrganization: false };
    }
    case 'removeOther': {
      const denied = ownerOnly(i.actor);
      if (denied) return denied;
      if (i.target === 'absent') return fail(mtoErrors.companyNotFound());
      if (i.target === 'removed') return fail(mtoErrors.beingRemoved());
      if (i.targetIsCreator) return fail(mtoErrors.creatorCannotBeRemoved());
      // The API doc lets an owner remove "any other tenant", the configure guide says owners can't be
      // removed; we take the safe reading: demote first, so an owner is never dropped by a peer.
      if (i.target === 'active' && i.targetRole === 'owner') return fail(mtoErrors.ownerMustBeDemoted());
      return { outcome: 'remove', deletesOrganization: false };
    }
    case 'reset':
      return i.joinFailed ? { outcome: 'resetJoin' } : fail(mtoErrors.noFailedJoin());
  }
}

// ---------------------------------------------------------------------------------------------
// Request bodies

const nameSchema = z.string().trim().min(1).max(256);

export function parseCreateBody(body: unknown): { displayName: string; description: string | null } {
  const b = parseBody(body, {
    type: 'multiTenantOrganization', resource: 'MultiTenantOrganization', readOnly: {},
    writable: { displayName: nameSchema, description: z.string().max(1024).nullable() },
  });
  if (b.displayName === undefined) throw errors.badRequest("Property 'displayName' is required when creating the resource.");
  return { displayName: b.displayName as string, description: (b.description as string | null | undefined) ?? null };
}

export function parseUpdateBody(body: unknown, current: { id: string; state: string }): { displayName?: string; description?: string | null } {
  return parseBody(body, {
    type: 'multiTenantOrganization', resource: 'MultiTenantOrganization', readOnly: { id: current.id, state: current.state },
    writable: { displayName: nameSchema, description: z.string().max(1024).nullable() },
  }) as { displayName?: string; description?: string | null };
}

const roleSchema = z.enum(['owner', 'member']);

export function parseAddBody(body: unknown): { tenantId: string; displayName: string; role: MemberRole } {
  const b = parseBody(body, {
    type: 'multiTenantOrganizationMember', resource: 'MultiTenantOrganizationMember', readOnly: {},
    writable: { tenantId: z.string().refine(isGuid), displayName: nameSchema, role: roleSchema },
  });
  if (b.tenantId === undefined) throw errors.badRequest("Property 'tenantId' is required when creating the resource.");
  if (b.displayName === undefined) throw errors.badRequest("Property 'displayName' is required when creating the resource.");
  return { tenantId: (b.tenantId as string).toLowerCase(), displayName: b.displayName as string, role: (b.role as MemberRole) ?? 'member' };
}

export function parseRoleBody(body: unknown, current: Member): MemberRole {
  const b = parseBody(body, {
    type: 'multiTenantOrganizationMember', resource: 'MultiTenantOrganizationMember',
    // displayName "cannot be changed once set": sending the same value back is accepted, another is not.
    readOnly: { tenantId: current.tenantId, displayName: current.displayName, state: current.state },
    writable: { role: roleSchema },
  });
  if (b.role === undefined) throw errors.badRequest("Property 'role' is required.");
  return b.role as MemberRole;
}

export function parseJoinBody(body: unknown): string {
  const b = parseBody(body, {
    type: 'multiTenantOrganizationJoinRequestRecord', resource: 'MultiTenantOrganizationJoinRequestRecord', readOnly: {},
    writable: { addedByTenantId: z.string().refine(isGuid) },
  });
  if (b.addedByTenantId === undefined) throw errors.badRequest("Property 'addedByTenantId' is required.");
  return (b.addedByTenantId as string).toLowerCase();
}

// ---------------------------------------------------------------------------------------------
// Templates

export type TemplateLevelFlag = 'none' | 'newPartners' | 'existingPartners' | 'unknownFutureValue';
const levelFlags = new Set<string>(['none', 'newPartners', 'existingPartners', 'unknownFutureValue']);
export const DEFAULT_TEMPLATE_LEVEL = 'newPartners,existingPartners';

export interface PartnerConfigurationTemplate extends Record<B2BKey, B2BSetting | null> {
  templateApplicationLevel: string;
  inboundTrust: InboundTrust | null;
  automaticUserConsentSettings: { inboundAllowed: boolean | null; outboundAllowed: boolean | null };
}

export interface IdentitySyncTemplate {
  templateApplicationLevel: string;
  userSyncInbound: { isSyncAllowed: boolean } | null;
}

const b2bKeys: readonly B2BKey[] = ['b2bCollaborationInbound', 'b2bCollaborationOutbound', 'b2bDirectConnectInbound', 'b2bDirectConnectOutbound'];

export const defaultPartnerTemplate = (): PartnerConfigurationTemplate => ({
  templateApplicationLevel: DEFAULT_TEMPLATE_LEVEL,
  inboundTrust: null,
  automaticUserConsentSettings: { inboundAllowed: null, outboundAllowed: null },
  b2bCollaborationInbound: null, b2bCollaborationOutbound: null, b2bDirectConnectInbound: null, b2bDirectConnectOutbound: null,
});

export const defaultIdentitySyncTemplate = (): IdentitySyncTemplate => ({ templateApplicationLevel: DEFAULT_TEMPLATE_LEVEL, userSyncInbound: null });

/** Graph documents disabling with "" and says "null" in prose; both mean none. */
const levelSchema = z.string().nullable().transform((v, ctx) => {
  const flags = (v ?? '').split(',').map((f) => f.trim()).filter(Boolean);
  if (!flags.every((f) => levelFlags.has(f))) {
    ctx.addIssue({ code: 'custom', message: 'bad flag' });
    return z.NEVER;
  }
  return flags.join(',');
});

const withoutAnnotations = (body: unknown): Record<string, unknown> => {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest('The request body must be a JSON object.');
  return Object.fromEntries(Object.entries(body).filter(([k]) => !k.startsWith('@odata.')));
};

export function applyPartnerTemplatePatch(current: PartnerConfigurationTemplate, body: unknown, id: string): PartnerConfigurationTemplate {
  const { templateApplicationLevel, id: sentId, ...settings } = withoutAnnotations(body);
  const type = 'multiTenantOrganizationPartnerConfigurationTemplate';
  const level = parseBody({ ...(templateApplicationLevel !== undefined ? { templateApplicationLevel } : {}), ...(sentId !== undefined ? { id: sentId } : {}) }, {
    type, resource: 'MultiTenantOrganizationPartnerConfigurationTemplate', readOnly: { id }, writable: { templateApplicationLevel: levelSchema },
  });
  const allowed = new Set<string>(['inboundTrust', 'automaticUserConsentSettings', ...b2bKeys]);
  for (const k of Object.keys(settings)) {
    if (!allowed.has(k)) throw errors.badRequest(`Property '${k}' does not exist on type 'microsoft.graph.${type}'.`);
  }
  // The settings have the partner configuration's shapes; its validator is the one source of truth.
  const parsed = applyPartnerPatch(unconfiguredPartner(ZERO_GUID), settings) as unknown as Record<string, unknown>;
  const next: Record<string, unknown> = { ...current, ...level };
  for (const k of Object.keys(settings)) next[k] = parsed[k];
  return next as unknown as PartnerConfigurationTemplate;
}

export function applyIdentitySyncTemplatePatch(current: IdentitySyncTemplate, body: unknown, id: string): IdentitySyncTemplate {
  const b = parseBody(body, {
    type: 'multiTenantOrganizationIdentitySyncPolicyTemplate', resource: 'MultiTenantOrganizationIdentitySyncPolicyTemplate',
    readOnly: { id },
    writable: { templateApplicationLevel: levelSchema, userSyncInbound: z.strictObject({ isSyncAllowed: z.boolean() }).nullable() },
  });
  return { ...current, ...b } as IdentitySyncTemplate;
}

/** `newPartners` covers partner policies created by this join; `existingPartners` the ones that were there. */
export function templateApplies(level: string, partnerCreated: boolean): boolean {
  return level.split(',').map((f) => f.trim()).includes(partnerCreated ? 'newPartners' : 'existingPartners');
}

/** The partner PATCH a template asks for: a null template value leaves the partner's alone, a set one overwrites. */
export function partnerPatchFromTemplate(t: PartnerConfigurationTemplate, partner: PartnerPolicy): Record<string, unknown> | null {
  const patch: Record<string, unknown> = {};
  if (t.inboundTrust !== null) patch.inboundTrust = t.inboundTrust;
  for (const k of b2bKeys) if (t[k] !== null) patch[k] = t[k];
  const c = t.automaticUserConsentSettings;
  if (c.inboundAllowed !== null || c.outboundAllowed !== null) {
    patch.automaticUserConsentSettings = {
      inboundAllowed: c.inboundAllowed ?? partner.automaticUserConsentSettings.inboundAllowed,
      outboundAllowed: c.outboundAllowed ?? partner.automaticUserConsentSettings.outboundAllowed,
    };
  }
  return Object.keys(patch).length ? patch : null;
}
