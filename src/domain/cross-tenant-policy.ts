// Cross-tenant access policy: the Graph shapes of the default and partner configurations and of the
// partner's identity synchronization policy, their PATCH rules, and inheritance (a partner's `null`
// means "use the default"). Pure: no I/O, no clock.
import { z } from 'zod';
import { DomainError, errors } from './errors.js';

export const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isGuid = (s: string) => guidPattern.test(s);

const userKeywords = new Set(['AllUsers']);
const applicationKeywords = new Set(['AllApplications', 'AllMicrosoftApps', 'Office365']);
// Bounds one stored document (each target is ~80 bytes); the portal lets an admin pick far fewer.
const MAX_TARGETS = 1000;

const target = z.strictObject({ target: z.string().min(1).max(256), targetType: z.enum(['user', 'group', 'application']) });

const targetConfiguration = (half: 'usersAndGroups' | 'applications') =>
  z.strictObject({ accessType: z.enum(['allowed', 'blocked']), targets: z.array(target).min(1).max(MAX_TARGETS) })
    .refine((c) => c.targets.every((t) => half === 'applications'
      ? t.targetType === 'application' && (applicationKeywords.has(t.target) || isGuid(t.target))
      : t.targetType !== 'application' && (t.targetType === 'user' && userKeywords.has(t.target) ? true : isGuid(t.target))));

const usersAndGroupsSchema = targetConfiguration('usersAndGroups');
const applicationsSchema = targetConfiguration('applications');
export type TargetConfiguration = z.infer<typeof usersAndGroupsSchema>;

const b2bSettingSchema = z.strictObject({
  usersAndGroups: usersAndGroupsSchema.nullish(),
  applications: applicationsSchema.nullish(),
});

/** A B2B setting as a partner stores it: a `null` half inherits the default's half. */
export interface B2BSetting {
  usersAndGroups: TargetConfiguration | null;
  applications: TargetConfiguration | null;
}
/** A B2B setting with nothing left to inherit. */
export interface ResolvedB2BSetting {
  usersAndGroups: TargetConfiguration;
  applications: TargetConfiguration;
}

export interface InboundTrust {
  isMfaAccepted: boolean;
  isCompliantDeviceAccepted: boolean;
  isHybridAzureADJoinedDeviceAccepted: boolean;
}
// A trust object is replaced whole; a flag left out is false, as Graph reads a missing Boolean.
const inboundTrustSchema = z.strictObject({
  isMfaAccepted: z.boolean().nullish(),
  isCompliantDeviceAccepted: z.boolean().nullish(),
  isHybridAzureADJoinedDeviceAccepted: z.boolean().nullish(),
}).transform((t): InboundTrust => ({
  isMfaAccepted: t.isMfaAccepted ?? false,
  isCompliantDeviceAccepted: t.isCompliantDeviceAccepted ?? false,
  isHybridAzureADJoinedDeviceAccepted: t.isHybridAzureADJoinedDeviceAccepted ?? false,
}));

export interface ConsentSettings<T> {
  inboundAllowed: T;
  outboundAllowed: T;
}
const consentSchema = z.strictObject({ inboundAllowed: z.boolean().nullish(), outboundAllowed: z.boolean().nullish() })
  .transform((c): ConsentSettings<boolean | null> => ({ inboundAllowed: c.inboundAllowed ?? null, outboundAllowed: c.outboundAllowed ?? null }));

const b2bKeys = ['b2bCollaborationInbound', 'b2bCollaborationOutbound', 'b2bDirectConnectInbound', 'b2bDirectConnectOutbound'] as const;
export type B2BKey = (typeof b2bKeys)[number];

export interface DefaultPolicy extends Record<B2BKey, ResolvedB2BSetting> {
  isServiceDefault: boolean;
  inboundTrust: InboundTrust;
  /** Always false in the default: automatic redemption is only ever granted per partner. */
  automaticUserConsentSettings: ConsentSettings<false>;
}

export interface PartnerPolicy extends Record<B2BKey, B2BSetting | null> {
  tenantId: string;
  isServiceProvider: boolean | null;
  /** Set by the multi-tenant organization, never by a PATCH. */
  isInMultiTenantOrganization: boolean;
  inboundTrust: InboundTrust | null;
  automaticUserConsentSettings: ConsentSettings<boolean | null>;
  /** Shown for Graph's shape; tenant restrictions are not implemented, so it is always null. */
  tenantRestrictions: null;
}

export interface IdentitySyncPolicy {
  tenantId: string;
  displayName: string | null;
  userSyncInbound: { isSyncAllowed: boolean };
}

const everyone = (accessType: 'allowed' | 'blocked'): ResolvedB2BSetting => ({
  usersAndGroups: { accessType, targets: [{ target: 'AllUsers', targetType: 'user' }] },
  applications: { accessType, targets: [{ target: 'AllApplications', targetType: 'application' }] },
});

export const serviceDefaultPolicy = (): DefaultPolicy => ({
  isServiceDefault: true,
  inboundTrust: { isMfaAccepted: false, isCompliantDeviceAccepted: false, isHybridAzureADJoinedDeviceAccepted: false },
  b2bCollaborationOutbound: everyone('allowed'),
  b2bCollaborationInbound: everyone('allowed'),
  b2bDirectConnectOutbound: everyone('blocked'),
  b2bDirectConnectInbound: everyone('blocked'),
  automaticUserConsentSettings: { inboundAllowed: false, outboundAllowed: false },
});

export const unconfiguredPartner = (tenantId: string): PartnerPolicy => ({
  tenantId: tenantId.toLowerCase(),
  isServiceProvider: null,
  isInMultiTenantOrganization: false,
  inboundTrust: null,
  b2bCollaborationOutbound: null,
  b2bCollaborationInbound: null,
  b2bDirectConnectOutbound: null,
  b2bDirectConnectInbound: null,
  tenantRestrictions: null,
  automaticUserConsentSettings: { inboundAllowed: null, outboundAllowed: null },
});

/** Drops `@odata.*` annotations anywhere in a body (the SDKs add `@odata.type` to nested objects). */
function withoutAnnotations(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutAnnotations);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).filter(([k]) => !k.startsWith('@odata.')).map(([k, x]) => [k, withoutAnnotations(x)]));
}

interface BodyRules {
  type: string;
  resource: string;
  writable: Record<string, z.ZodType>;
  /** Read-only properties and their current value: sending the same value back is fine (GET → PATCH round trips). */
  readOnly: Record<string, unknown>;
}

/** Validates a PATCH-style body property by property; returns the accepted values. */
export function parseBody(body: unknown, rules: BodyRules): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest('The request body must be a JSON object.');
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(withoutAnnotations(body) as Record<string, unknown>)) {
    if (key in rules.readOnly) {
      const current = rules.readOnly[key];
      const same = typeof current === 'string' && typeof value === 'string' ? current.toLowerCase() === value.toLowerCase() : current === value;
      if (!same) throw errors.badRequest(`Property '${key}' is read-only and cannot be set.`);
      continue;
    }
    const schema = rules.writable[key];
    if (!schema) throw errors.badRequest(`Property '${key}' does not exist on type 'microsoft.graph.${rules.type}'.`);
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw errors.badRequest(`Invalid value specified for property '${key}' of resource '${rules.resource}'.`);
    out[key] = parsed.data;
  }
  return out;
}

const nullableB2B = b2bSettingSchema.nullable().transform((s): B2BSetting | null =>
  s ? { usersAndGroups: s.usersAndGroups ?? null, applications: s.applications ?? null } : null);
const tenantRestrictionsSchema = z.null();

/** Applies a partner PATCH (or the settings of a create body): each property given replaces the stored one. */
export function applyPartnerPatch(current: PartnerPolicy, body: unknown, extraReadOnly: Record<string, unknown> = {}): PartnerPolicy {
  const accepted = parseBody(body, {
    type: 'crossTenantAccessPolicyConfigurationPartner',
    resource: 'CrossTenantAccessPolicyConfigurationPartner',
    readOnly: { tenantId: current.tenantId, isInMultiTenantOrganization: current.isInMultiTenantOrganization, ...extraReadOnly },
    writable: {
      isServiceProvider: z.boolean().nullable(),
      inboundTrust: inboundTrustSchema.nullable(),
      // null resets both directions to inherit; the object itself is never null in Graph's output.
      automaticUserConsentSettings: consentSchema.nullable()
        .transform((c) => c ?? { inboundAllowed: null, outboundAllowed: null }),
      tenantRestrictions: tenantRestrictionsSchema,
      ...Object.fromEntries(b2bKeys.map((k) => [k, nullableB2B])),
    },
  });
  return { ...current, ...accepted } as PartnerPolicy;
}

/** Applies a PATCH to the default. It has nothing to inherit from, so a missing half takes the service default's. */
export function applyDefaultPatch(current: DefaultPolicy, body: unknown): DefaultPolicy {
  const service = serviceDefaultPolicy();
  const accepted = parseBody(body, {
    type: 'crossTenantAccessPolicyConfigurationDefault',
    resource: 'CrossTenantAccessPolicyConfigurationDefault',
    readOnly: { isServiceDefault: current.isServiceDefault },
    writable: {
      inboundTrust: inboundTrustSchema,
      // Read-only in the default: only the fixed value is accepted (so GET → PATCH round trips work).
      automaticUserConsentSettings: z.strictObject({ inboundAllowed: z.literal(false).optional(), outboundAllowed: z.literal(false).optional() })
        .transform(() => service.automaticUserConsentSettings),
      ...Object.fromEntries(b2bKeys.map((k) => [k, b2bSettingSchema.transform((s): ResolvedB2BSetting => ({
        usersAndGroups: s.usersAndGroups ?? service[k].usersAndGroups,
        applications: s.applications ?? service[k].applications,
      }))])),
    },
  });
  return { ...current, ...accepted, isServiceDefault: false } as DefaultPolicy;
}

/** The tenant id of a partner create body; the rest of the body is applied as a PATCH. */
export function parseNewPartnerTenantId(body: unknown): string {
  const id = (body as { tenantId?: unknown } | null)?.tenantId;
  if (typeof id !== 'string' || !id) throw errors.badRequest("Property 'tenantId' is required when creating the resource.");
  if (!isGuid(id)) throw errors.badRequest("Invalid value specified for property 'tenantId' of resource 'CrossTenantAccessPolicyConfigurationPartner'.");
  return id.toLowerCase();
}

/** Validates an identitySynchronization PUT (create) or PATCH body against the stored (or new) policy. */
export function applyIdentitySyncBody(current: IdentitySyncPolicy, body: unknown): IdentitySyncPolicy {
  const accepted = parseBody(body, {
    type: 'crossTenantIdentitySyncPolicyPartner',
    resource: 'CrossTenantIdentitySyncPolicyPartner',
    readOnly: { tenantId: current.tenantId },
    writable: {
      displayName: z.string().max(256).nullable(),
      userSyncInbound: z.strictObject({ isSyncAllowed: z.boolean() }),
    },
  });
  return { ...current, ...accepted } as IdentitySyncPolicy;
}

export const newIdentitySync = (tenantId: string): IdentitySyncPolicy => ({
  tenantId: tenantId.toLowerCase(), displayName: null, userSyncInbound: { isSyncAllowed: false },
});

export interface EffectiveSettings extends Record<B2BKey, ResolvedB2BSetting> {
  partnerTenantId: string;
  /** A partner configuration exists; otherwise everything below comes from the default. */
  isConfigured: boolean;
  isServiceProvider: boolean;
  isInMultiTenantOrganization: boolean;
  inboundTrust: InboundTrust;
  automaticUserConsent: ConsentSettings<boolean>;
  /** identitySynchronization.userSyncInbound.isSyncAllowed; false when there is no identitySynchronization. */
  userSyncInbound: boolean;
}

const resolveSetting = (own: B2BSetting | null | undefined, inherited: ResolvedB2BSetting): ResolvedB2BSetting => ({
  usersAndGroups: own?.usersAndGroups ?? inherited.usersAndGroups,
  applications: own?.applications ?? inherited.applications,
});

export function resolveEffective(
  partnerTenantId: string, def: DefaultPolicy, partner: PartnerPolicy | undefined, sync: IdentitySyncPolicy | undefined,
): EffectiveSettings {
  const consent = partner?.automaticUserConsentSettings;
  return {
    partnerTenantId: partnerTenantId.toLowerCase(),
    isConfigured: partner !== undefined,
    isServiceProvider: partner?.isServiceProvider ?? false,
    isInMultiTenantOrganization: partner?.isInMultiTenantOrganization ?? false,
    inboundTrust: partner?.inboundTrust ?? def.inboundTrust,
    automaticUserConsent: {
      inboundAllowed: consent?.inboundAllowed ?? def.automaticUserConsentSettings.inboundAllowed,
      outboundAllowed: consent?.outboundAllowed ?? def.automaticUserConsentSettings.outboundAllowed,
    },
    userSyncInbound: sync?.userSyncInbound.isSyncAllowed ?? false,
    ...Object.fromEntries(b2bKeys.map((k) => [k, resolveSetting(partner?.[k], def[k])])) as Record<B2BKey, ResolvedB2BSetting>,
  };
}

export interface CollaborationSubject {
  userId?: string;
  groupIds?: string[];
}

/**
 * B2B collaboration for one user in one direction: `allowed` lets in only the listed targets, `blocked`
 * lets in everyone but them. Inbound targets are ids in the partner tenant, outbound ones are local ids.
 */
export function isCollaborationAllowed(settings: EffectiveSettings, direction: 'inbound' | 'outbound', subject: CollaborationSubject): boolean {
  const config = (direction === 'inbound' ? settings.b2bCollaborationInbound : settings.b2bCollaborationOutbound).usersAndGroups;
  const userId = subject.userId?.toLowerCase();
  const groups = new Set((subject.groupIds ?? []).map((g) => g.toLowerCase()));
  const matches = config.targets.some((t) => {
    if (t.targetType === 'user') return t.target === 'AllUsers' || (userId !== undefined && t.target.toLowerCase() === userId);
    if (t.targetType === 'group') return groups.has(t.target.toLowerCase());
    return false;
  });
  return config.accessType === 'allowed' ? matches : !matches;
}

export const partnerNotFound = () =>
  new DomainError('notFound', 'Directory_ObjectNotFound', 'Unable to read the company information from the directory.');
