// The user resource as Graph shapes it, and the rules Graph applies when one is created or changed.
// Stored users are plain Graph-shaped objects (`User`); a few facts that are not Graph properties (the
// B2B home link, the password hash) travel beside them in `UserRecord`.
import { z } from 'zod';
import { DomainError, errors } from './errors.js';

export const userTypes = ['Member', 'Guest'] as const;
export type UserType = (typeof userTypes)[number];

export const identitySchema = z.object({
  signInType: z.string().max(64).nullable().optional(),
  issuer: z.string().max(256).nullable().optional(),
  issuerAssignedId: z.string().max(256).nullable().optional(),
});
export type ObjectIdentity = z.infer<typeof identitySchema>;

export interface User {
  id: string;
  userPrincipalName: string;
  displayName: string | null;
  accountEnabled: boolean;
  userType: UserType;
  createdDateTime: string;
  deletedDateTime?: string | null;
  [property: string]: unknown;
}

export interface UserRecord {
  tenantId: string;
  user: User;
  homeTenantId: string | null;
  homeUserId: string | null;
  passwordHash: string | null;
  /** Directory roles held by the user (e.g. `Global Administrator`); drives delegated writes. */
  roles: string[];
  /**
   * Sync jobs (of the home tenant) that provisioned or matched this B2B user: only they may deprovision it,
   * as each Entra job deprovisions only what its own connector data store holds.
   */
  syncJobs?: string[];
}

const str = (max: number) => z.string().max(max).nullable();
const strList = (max: number) => z.array(z.string().max(max)).max(250);

/** Writable properties and their Graph limits. Everything else is read-only or unknown. */
export const writableUserProperties = {
  accountEnabled: z.boolean(),
  ageGroup: str(64),
  businessPhones: strList(64).max(1),
  city: str(128),
  companyName: str(64),
  country: str(128),
  department: str(64),
  displayName: z.string().min(1).max(256),
  employeeId: str(16),
  employeeType: str(64),
  employeeHireDate: str(64),
  faxNumber: str(64),
  givenName: str(64),
  identities: z.array(identitySchema).max(50),
  jobTitle: str(128),
  mail: str(256),
  mailNickname: z.string().min(1).max(64),
  mobilePhone: str(64),
  officeLocation: str(128),
  otherMails: strList(256).max(50),
  passwordPolicies: str(256),
  passwordProfile: z.object({
    password: z.string().max(256).optional(),
    forceChangePasswordNextSignIn: z.boolean().optional(),
    forceChangePasswordNextSignInWithMfa: z.boolean().optional(),
  }),
  postalCode: str(40),
  preferredLanguage: str(64),
  showInAddressList: z.boolean().nullable(),
  state: str(128),
  streetAddress: str(1024),
  surname: str(64),
  usageLocation: str(2),
  userPrincipalName: z.string().min(1).max(113),
  userType: z.enum(userTypes),
  externalUserState: z.enum(['PendingAcceptance', 'Accepted']).nullable(),
} as const;

export type WritableUserProperty = keyof typeof writableUserProperties;

/** Properties Graph returns but never lets a caller set. */
export const readOnlyUserProperties = new Set([
  'id', 'createdDateTime', 'creationType', 'deletedDateTime', 'externalUserStateChangeDateTime', 'proxyAddresses',
  'imAddresses', 'onPremisesSyncEnabled', 'lastPasswordChangeDateTime', 'securityIdentifier', 'signInSessionsValidFromDateTime',
]);

/** Graph's default `$select` for user collections and single users. */
export const defaultUserSelect = [
  'businessPhones', 'displayName', 'givenName', 'jobTitle', 'mail', 'mobilePhone', 'officeLocation',
  'preferredLanguage', 'surname', 'userPrincipalName', 'id',
] as const;

/** Every property a stored user can return (for `$select` validation). */
export const allUserProperties = new Set<string>([
  ...Object.keys(writableUserProperties).filter((p) => p !== 'passwordProfile'),
  ...readOnlyUserProperties,
]);

export const requiredOnCreate = ['accountEnabled', 'displayName', 'mailNickname', 'passwordProfile', 'userPrincipalName'] as const;

// UPN local part: Graph allows A-Z a-z 0-9 ' . - _ ! # ^ ~ (the '#' is what lets B2B UPNs carry #EXT#).
const upnLocal = /^[A-Za-z0-9'._!#^~-]+$/;

export function validateUpn(upn: string, verifiedDomains: readonly string[]): void {
  const at = upn.lastIndexOf('@');
  const local = upn.slice(0, at);
  const domain = upn.slice(at + 1).toLowerCase();
  if (at <= 0 || !upnLocal.test(local) || local.startsWith('.') || local.endsWith('.') || local.length > 64) {
    throw errors.badRequest(`Invalid value specified for property 'userPrincipalName' of resource 'User'.`);
  }
  if (!verifiedDomains.includes(domain)) {
    throw errors.badRequest(
      'The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.',
    );
  }
}

/** Entra's complexity rule: 8–256 characters with three of lower, upper, digit, symbol. */
export function validatePasswordComplexity(password: string): void {
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((r) => r.test(password)).length;
  if (password.length < 8 || password.length > 256 || classes < 3) {
    throw errors.badRequest(
      'The specified password does not comply with password complexity requirements. Please provide a different password.',
    );
  }
}

/**
 * Validates a create or update body the way Graph does: unknown and read-only properties are refused,
 * each value is checked against its type and length. Returns the accepted properties.
 */
export function parseUserBody(body: unknown, mode: 'create' | 'update'): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw errors.badRequest('The request body must be a JSON object.');
  }
  const out: Record<string, unknown> = Object.create(null);
  for (const [key, value] of Object.entries(body)) {
    if (key.startsWith('@odata.')) continue;
    if (readOnlyUserProperties.has(key)) {
      throw errors.badRequest(`Property '${key}' is read-only and cannot be set.`);
    }
    // Own properties only: `constructor` or `toString` must not find Object.prototype's members.
    const schema = Object.hasOwn(writableUserProperties, key) ? (writableUserProperties as Record<string, z.ZodType>)[key] : undefined;
    if (!schema) {
      throw errors.badRequest(`Property '${key}' does not exist on type 'microsoft.graph.user'.`);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      throw errors.badRequest(`Invalid value specified for property '${key}' of resource 'User'.`);
    }
    out[key] = parsed.data;
  }
  if (mode === 'create') {
    for (const key of requiredOnCreate) {
      if (out[key] === undefined || out[key] === null) {
        throw new DomainError('badRequest', 'Request_BadRequest', `Property '${key}' is required when creating the resource.`);
      }
    }
  }
  return out;
}

/** The primary SMTP address and the proxyAddresses Graph derives from `mail`. */
export function proxyAddressesFor(mail: string | null | undefined, previous: readonly string[] = []): string[] {
  const secondary = previous.map((p) => (p.startsWith('SMTP:') ? `smtp:${p.slice(5)}` : p));
  if (!mail) return secondary;
  const primary = `SMTP:${mail}`;
  return [primary, ...secondary.filter((p) => p.toLowerCase() !== primary.toLowerCase())];
}
