// The invitation manager (`POST /invitations`, `openmto invite`): creates the B2B user at once, or
// finds the one who already holds the address, checks who may invite and the cross-tenant access
// policy, issues a single-use redemption ticket (stored hashed), and redeems automatically when both
// tenants allow it. Everything runs in one transaction with the change log.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { DomainError, errors } from '../domain/errors.js';
import { newObjectId } from '../domain/ids.js';
import type { User, UserRecord, UserType } from '../domain/user.js';
import {
  type Actor, type AuthorizationPolicy, authorizationPolicyFrom, authorizationPolicyKind, requireAppPermission,
} from '../directory/access.js';
import { adminRoles } from '../identity/permissions.js';
import { effectivePartnerSettings, partnerDocuments } from '../policy/partners.js';
import { changesRepo } from '../store/repos/changes.js';
import { documentKey, documentsRepo } from '../store/repos/documents.js';
import { type TenantRecord, tenantsRepo } from '../store/repos/tenants.js';
import { usersRepo } from '../store/repos/users.js';
import type { Db } from '../store/store.js';
import { newB2bUser, pendingIdentities } from './factory.js';
import { b2bMailNickname, b2bUserPrincipalName, emailDomain, validateInviteEmail } from './email.js';
import {
  acceptInDb, type B2bContext, canAutoRedeem, findHome, findUsersByAddress, type Home, hashTicket, inboundDecision,
  invitationKind, type TicketDoc, tenantOwningDomain, ticketKind,
} from './redemption.js';

/** Who invites: a Graph caller, or the server operator through the CLI (bound only by allowInvitesFrom 'none'). */
export type Inviter = Actor | 'operator';

export interface Invitation {
  id: string;
  inviteRedeemUrl: string;
  invitedUserDisplayName: string | null;
  invitedUserType: UserType;
  invitedUserEmailAddress: string;
  sendInvitationMessage: boolean;
  resetRedemption: boolean;
  inviteRedirectUrl: string;
  status: 'PendingAcceptance' | 'Completed';
  invitedUserMessageInfo: { ccRecipients: unknown[]; customizedMessageBody: string | null; messageLanguage: string | null };
  invitedUser: { id: string };
}

const invalidValue = (property: string) => errors.badRequest(`Invalid value specified for property '${property}' of resource 'Invitation'.`);

const recipient = z.object({ emailAddress: z.object({ address: z.string().max(256), name: z.string().max(256).nullable().optional() }) });
const messageInfo = z.object({
  // Graph accepts at most one CC recipient.
  ccRecipients: z.array(recipient).max(1).nullable().optional(),
  customizedMessageBody: z.string().max(10_000).nullable().optional(),
  // ISO 639 language, optionally with a region (en-US); Graph ignores it when a custom body is given.
  messageLanguage: z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/).nullable().optional(),
});
const properties: Record<string, z.ZodType> = {
  invitedUserEmailAddress: z.string(),
  inviteRedirectUrl: z.string().max(2048),
  invitedUserDisplayName: z.string().max(256).nullable(),
  invitedUserType: z.string().nullable(),
  sendInvitationMessage: z.boolean().nullable(),
  invitedUserMessageInfo: messageInfo.nullable(),
  resetRedemption: z.boolean().nullable(),
  invitedUser: z.object({ id: z.string().max(64) }).loose().nullable(),
};
const readOnly = new Set(['id', 'inviteRedeemUrl', 'status']);

interface InvitationRequest {
  email: string;
  redirectUrl: string;
  displayName: string | null;
  userType: UserType;
  sendInvitationMessage: boolean;
  messageInfo: Invitation['invitedUserMessageInfo'];
  resetRedemption: boolean;
  invitedUserId: string | null;
}

export function parseInvitation(body: unknown): InvitationRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest('The request body must be a JSON object.');
  const v: Record<string, unknown> = Object.create(null);
  for (const [key, value] of Object.entries(body)) {
    if (key.startsWith('@odata.')) continue;
    if (readOnly.has(key)) throw errors.badRequest(`Property '${key}' is read-only and cannot be set.`);
    // Own properties only: `constructor` must not find Object.prototype's.
    const schema = Object.hasOwn(properties, key) ? properties[key as keyof typeof properties] : undefined;
    if (!schema) throw errors.badRequest(`Property '${key}' does not exist on type 'microsoft.graph.invitation'.`);
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw invalidValue(key);
    v[key] = parsed.data;
  }
  for (const key of ['invitedUserEmailAddress', 'inviteRedirectUrl']) {
    if (typeof v[key] !== 'string' || v[key] === '') throw errors.badRequest(`Property '${key}' is required when creating the resource.`);
  }
  const email = v.invitedUserEmailAddress as string;
  validateInviteEmail(email);
  const redirectUrl = v.inviteRedirectUrl as string;
  // Absolute http(s) only: the redemption pages redirect the browser there, so no javascript: or data:.
  // Printable ASCII only: the URL goes out in a Location header, and the URL parser would silently drop
  // a CR/LF or tab that the stored text still carries (non-ASCII is sent percent-encoded, as browsers do).
  if (!/^[\x21-\x7e]{1,2048}$/.test(redirectUrl) || !URL.canParse(redirectUrl) || !/^https?:$/.test(new URL(redirectUrl).protocol)) {
    throw errors.badRequest("Property 'inviteRedirectUrl' must be an absolute http or https URL.");
  }
  const type = String(v.invitedUserType ?? 'Guest').toLowerCase();
  if (type !== 'guest' && type !== 'member') throw invalidValue('invitedUserType');
  const info = (v.invitedUserMessageInfo ?? {}) as z.infer<typeof messageInfo>;
  for (const cc of info.ccRecipients ?? []) validateInviteEmail(cc.emailAddress.address);
  const reset = v.resetRedemption === true;
  const invitedUserId = (v.invitedUser as { id?: string } | null | undefined)?.id ?? null;
  if (reset && !invitedUserId) throw errors.badRequest("Property 'invitedUser' with the user's id is required when 'resetRedemption' is true.");
  return {
    email, redirectUrl, displayName: (v.invitedUserDisplayName as string | null | undefined) ?? null,
    userType: type === 'member' ? 'Member' : 'Guest', sendInvitationMessage: v.sendInvitationMessage === true,
    messageInfo: { ccRecipients: info.ccRecipients ?? [], customizedMessageBody: info.customizedMessageBody ?? null, messageLanguage: info.messageLanguage ?? null },
    resetRedemption: reset, invitedUserId,
  };
}

const refused = (message: string) => new DomainError('forbidden', 'Authorization_RequestDenied', message);
const inviterRoles = new Set([...adminRoles, 'Guest Inviter']);

/** allowInvitesFrom for users; apps only under 'adminsGuestInvitersAndAllMembers' and 'everyone' (Graph's rule). */
function authorizeInviter(policy: AuthorizationPolicy, inviter: Inviter, req: InvitationRequest, target?: UserRecord): void {
  const { allowInvitesFrom: from } = policy;
  const setting = `authorizationPolicy.allowInvitesFrom is '${from}'`;
  if (from === 'none') refuse(`Guest invitations not allowed for your company. Contact your company administrator for more details. (${setting}: nobody may invite.)`);
  if (inviter === 'operator') return;
  if (inviter.principal.kind === 'app') {
    requireAppPermission(inviter, 'User.Invite.All');
    if (from === 'adminsAndGuestInviters') refuse(`Applications cannot invite in this tenant: ${setting}, which admits only signed-in administrators and Guest Inviters.`);
    if (req.resetRedemption && target?.roles.length) refuse('An application cannot reset the redemption of a user who holds directory roles.');
    return;
  }
  const me = inviter.user;
  const privileged = me?.roles.some((r) => inviterRoles.has(r)) ?? false;
  const allowed = privileged || (from === 'everyone') || (from === 'adminsGuestInvitersAndAllMembers' && me?.user.userType === 'Member');
  if (!allowed) {
    const who = from === 'adminsAndGuestInviters' ? 'administrators and Guest Inviters' : 'administrators, Guest Inviters and members';
    refuse(`You cannot invite users: ${setting}, which admits only ${who}.`);
  }
  if (req.userType === 'Member' && !inviter.isAdmin) refuse("Only administrators can invite a user with invitedUserType 'Member'.");
  if (req.resetRedemption && !inviter.isAdmin) refuse("Only administrators can reset a user's redemption status.");
}
function refuse(message: string): never {
  throw refused(message);
}

// Mail-derived UPNs collide only when long addresses are cut or a soft-deleted user keeps the UPN;
// ten numbered forms are far more than either case needs.
const UPN_ATTEMPTS = 10;

async function createB2bUser(db: Db, tenant: TenantRecord, req: InvitationRequest, now: string): Promise<UserRecord> {
  let attempt = 0;
  while (await usersRepo.upnTaken(db, tenant.id, b2bUserPrincipalName(req.email, tenant.domain, attempt))) {
    if (++attempt === UPN_ATTEMPTS) throw errors.conflict('userPrincipalName');
  }
  const record = newB2bUser({
    tenantId: tenant.id, tenantDomain: tenant.domain, email: req.email, upn: b2bUserPrincipalName(req.email, tenant.domain, attempt),
    mailNickname: b2bMailNickname(req.email, attempt), displayName: req.displayName, userType: req.userType, now,
  });
  const { user } = record;
  await usersRepo.insert(db, tenant.id, [record]);
  await changesRepo.append(db, tenant.id, [{ objectType: 'user', objectId: user.id, change: 'created' }], now);
  return record;
}

/** resetRedemption: back to PendingAcceptance; object id, UPN, memberships kept; the home link is cleared. */
async function resetUser(db: Db, tenant: TenantRecord, target: UserRecord, req: InvitationRequest, now: string): Promise<UserRecord> {
  if (target.user.creationType !== 'Invitation') {
    throw errors.badRequest('Redemption can only be reset for B2B users created by an invitation.');
  }
  const addresses = [target.user.mail, ...((target.user.otherMails as string[] | undefined) ?? [])].map((a) => String(a ?? '').toLowerCase());
  if (!addresses.includes(req.email.toLowerCase())) {
    throw errors.badRequest(`'${req.email}' is neither the user's mail nor one of its otherMails; add it there before resetting redemption to it.`);
  }
  if ((await findUsersByAddress(db, tenant.id, req.email)).some((u) => u.user.id !== target.user.id)) throw errors.conflict('mail');
  if (target.user.externalUserState === 'Accepted' && target.homeTenantId
    && (await effectivePartnerSettings(db, tenant.id, target.homeTenantId)).isInMultiTenantOrganization) {
    throw errors.badRequest('Redemption cannot be reset for a redeemed user whose home tenant is in the same multi-tenant organization as this tenant.');
  }
  const user: User = {
    ...target.user, externalUserState: 'PendingAcceptance', externalUserStateChangeDateTime: now,
    identities: pendingIdentities(tenant.domain, target.user.userPrincipalName),
  };
  const record = { ...target, user, homeTenantId: null, homeUserId: null };
  await usersRepo.update(db, tenant.id, record);
  await changesRepo.append(db, tenant.id, [{
    objectType: 'user', objectId: user.id, change: 'updated', props: ['externalUserState', 'externalUserStateChangeDateTime', 'identities'],
  }], now);
  return record;
}

/**
 * POST /invitations. `origin` is this server's public origin: the redeem URL points here. An address
 * that already belongs to a user of the tenant returns that user (no duplicate); a pending one gets a
 * fresh ticket, which replaces the previous one.
 */
export async function createInvitation(ctx: B2bContext, tenantId: string, inviter: Inviter, body: unknown, origin: string): Promise<Invitation> {
  const req = parseInvitation(body);
  const now = ctx.clock.now().toISOString();
  const ticket = randomBytes(32).toString('base64url');
  return ctx.store.transaction(async (db) => {
    // One read of the (few) hosted tenants serves both this tenant and the invitee's home lookup.
    const tenants = await tenantsRepo.list(db);
    const tenant = tenants.find((t) => t.id === tenantId.toLowerCase());
    if (!tenant) throw errors.notFound(tenantId);
    // One read for the tenant's documents this invitation consults: who may invite, and the cross-tenant
    // access policy toward the invitee's home tenant (known from the tenant list, before any user lookup).
    const homeTenantId = tenantOwningDomain(tenants, req.email.slice(req.email.lastIndexOf('@') + 1))?.id;
    const docs = await documentsRepo.getMany(db, tenantId, [{ kind: authorizationPolicyKind }, ...partnerDocuments(homeTenantId)]);
    const target = req.invitedUserId ? await usersRepo.get(db, tenantId, req.invitedUserId) : undefined;
    if (req.resetRedemption && !target) throw errors.notFound(req.invitedUserId ?? '');
    authorizeInviter(authorizationPolicyFrom(docs.get(documentKey(authorizationPolicyKind)) as Partial<AuthorizationPolicy> | undefined), inviter, req, target);
    const found = await findHome(db, req.email, tenants);
    const internal = found?.tenant.id === tenantId;
    const home: Home | undefined = internal ? undefined : found;
    let user: UserRecord | undefined;
    if (req.resetRedemption) {
      user = await resetUser(db, tenant, target!, req, now);
    } else {
      [user] = await findUsersByAddress(db, tenantId, req.email);
      if (!user && internal) {
        throw errors.badRequest(`'${req.email}' is in a domain of this tenant; create the user instead of inviting it.`);
      }
    }
    if (!internal && user?.user.externalUserState !== 'Accepted' && !(await inboundDecision(db, tenantId, home, emailDomain(req.email), home?.tenant.id === homeTenantId ? docs : undefined)).allowed) {
      const policy = home ? `the partner configuration for tenant ${home.tenant.id} (${home.tenant.displayName})` : 'the default configuration';
      refuse(`Invitations of '${req.email}' are blocked by this tenant's cross-tenant access policy: b2bCollaborationInbound in ${policy}.`);
    }
    user ??= await createB2bUser(db, tenant, req, now);
    if (user.user.externalUserState === 'PendingAcceptance' && home?.user && (await canAutoRedeem(db, tenantId, home))) {
      await acceptInDb(db, tenantId, user, home as Home & { user: UserRecord }, now);
      user = (await usersRepo.get(db, tenantId, user.user.id))!;
    }
    // Time-ordered like object ids, so invitation records append at the right edge of their index.
    const id = newObjectId();
    const ticketDoc: TicketDoc = {
      invitationId: id, ticketHash: hashTicket(ticket), email: req.email, inviteRedirectUrl: req.redirectUrl, issuedDateTime: now, failedSignIns: 0,
    };
    const redeem = new URL('/redeem', origin);
    redeem.search = new URLSearchParams({ tenant: tenantId, user: user.user.id, ticket }).toString();
    const invitation: Invitation = {
      id, inviteRedeemUrl: redeem.toString(), invitedUserDisplayName: req.displayName ?? user.user.displayName,
      // The user's actual type: re-inviting an existing user does not change it.
      invitedUserType: user.user.userType, invitedUserEmailAddress: req.email, sendInvitationMessage: req.sendInvitationMessage,
      resetRedemption: req.resetRedemption, inviteRedirectUrl: req.redirectUrl,
      status: user.user.externalUserState === 'PendingAcceptance' ? 'PendingAcceptance' : 'Completed',
      invitedUserMessageInfo: req.messageInfo, invitedUser: { id: user.user.id },
    };
    const { inviteRedeemUrl: _secret, ...record } = invitation;
    const invitedBy = inviter === 'operator' ? 'operator' : (inviter.user?.user.id ?? inviter.principal.appId);
    await documentsRepo.putMany(db, tenantId, [
      { kind: ticketKind, key: user.user.id, data: ticketDoc },
      { kind: invitationKind, key: id, data: { ...record, createdDateTime: now, invitedBy } },
    ], now);
    return invitation;
  });
}
