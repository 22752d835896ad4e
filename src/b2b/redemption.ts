// Redeeming an invitation: the invitee opens the redeem URL, signs in at home (only tenants hosted on
// this server can be home tenants), consents, and the B2B user in the resource tenant becomes
// `Accepted` and linked to the home user. Automatic redemption (both tenants' automaticUserConsent
// flags) does the same with no page at all. Steps carry state in a short-lived HS256 token bound to
// the ticket, never the password. The helpers for home discovery and policy checks are shared with
// invitations.ts.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import type { Clock } from '../domain/clock.js';
import { type EffectiveSettings, resolveEffective } from '../domain/cross-tenant-policy.js';
import { DomainError } from '../domain/errors.js';
import type { UserRecord } from '../domain/user.js';
import { secretSetting } from '../identity/keyring.js';
import { verifySecret } from '../identity/secrets.js';
import {
  defaultPolicyFrom, effectivePartnerSettings, effectiveSettingsFrom, getDefaultPolicy, isCollaborationAllowed,
} from '../policy/partners.js';
import { changesRepo } from '../store/repos/changes.js';
import { documentsRepo } from '../store/repos/documents.js';
import { groupsRepo } from '../store/repos/groups.js';
import { type TenantRecord, tenantsRepo } from '../store/repos/tenants.js';
import { usersRepo } from '../store/repos/users.js';
import type { Db, Store } from '../store/store.js';
export interface B2bContext {
  store: Store;
  clock: Clock;
}

/** tenant_documents kinds: the pending ticket per B2B user (key: user id) and the invitation records (key: invitation id). */
export const ticketKind = 'b2b.redemptionTicket';
export const invitationKind = 'b2b.invitation';

export interface TicketDoc {
  invitationId: string;
  /** sha256 of the ticket; the ticket itself exists only in the redeem URL handed to the inviter. */
  ticketHash: string;
  /** The invited address: the identity that must sign in at home. */
  email: string;
  inviteRedirectUrl: string;
  issuedDateTime: string;
  failedSignIns: number;
}

/** The invitee's home: the hosted tenant owning the address's domain, and the user there with that address. */
export interface Home {
  tenant: TenantRecord;
  user?: UserRecord;
}
type HomeWithUser = Home & { user: UserRecord };

/** After redemption through a hosted (Entra-style) home tenant, as Entra shows it for Entra ID guests. */
export const acceptedIdentities = () => [{ signInType: 'federated', issuer: 'ExternalAzureAD', issuerAssignedId: null }];

/** A hosted tenant by initial or verified domain. Tenants are few per server, so the verified-domain scan is cheap. */
export async function findTenantByDomain(db: Db, domain: string): Promise<TenantRecord | undefined> {
  const d = domain.toLowerCase();
  return (await tenantsRepo.find(db, d)) ?? tenantOwningDomain(await tenantsRepo.list(db), d);
}

/** Among `tenants`, the one whose initial domain is `domain`, else the one that verified it. */
export function tenantOwningDomain(tenants: readonly TenantRecord[], domain: string): TenantRecord | undefined {
  const d = domain.toLowerCase();
  return tenants.find((t) => t.domain === d) ?? tenants.find((t) => t.data.verifiedDomains.some((v) => v.toLowerCase() === d));
}

/**
 * Live users holding an address as UPN, mail, SMTP proxy address or in otherMails (the invitation
 * manager's dedupe lookup), case-insensitive. Two are enough to tell "one match" from "ambiguous";
 * the callers take the first, a UPN match before a mail match before a proxy or other address.
 */
export function findUsersByAddress(db: Db, tenantId: string, address: string): Promise<UserRecord[]> {
  return usersRepo.byAddress(db, tenantId, address, 2);
}

/** `tenants`, when the caller has listed them already, saves reading them again. */
export async function findHome(db: Db, email: string, tenants?: readonly TenantRecord[]): Promise<Home | undefined> {
  const domain = email.slice(email.lastIndexOf('@') + 1);
  const tenant = tenants ? tenantOwningDomain(tenants, domain) : await findTenantByDomain(db, domain);
  if (!tenant) return undefined;
  const [user] = await findUsersByAddress(db, tenant.id, email);
  return user ? { tenant, user } : { tenant };
}

// Partner targets name groups by id; direct memberships are evaluated, nested ones are not (bounded at
// 1000 groups, far above any real targeting list).
export const groupIdsOf = (db: Db, tenantId: string, userId: string) => groupsRepo.memberOf(db, tenantId, userId, '', 1000);

/**
 * The resource tenant's inbound decision; for a home tenant not hosted here, the default policy applies.
 * `docs`: the resource tenant's documents read with partnerDocuments(home's tenant id), when the caller has them.
 */
export async function inboundDecision(
  db: Db, resourceTenantId: string, home: Home | undefined, domain = '', docs?: ReadonlyMap<string, unknown>,
): Promise<{ allowed: boolean; settings: EffectiveSettings }> {
  const settings = home
    ? (docs ? effectiveSettingsFrom(docs, home.tenant.id) : await effectivePartnerSettings(db, resourceTenantId, home.tenant.id))
    : resolveEffective(domain, docs ? defaultPolicyFrom(docs) : await getDefaultPolicy(db, resourceTenantId), undefined, undefined);
  const subject = home?.user ? { userId: home.user.user.id, groupIds: await groupIdsOf(db, home.tenant.id, home.user.user.id) } : {};
  return { allowed: isCollaborationAllowed(settings, 'inbound', subject), settings };
}

async function outboundAllowed(db: Db, home: HomeWithUser, resourceTenantId: string): Promise<EffectiveSettings | undefined> {
  const settings = await effectivePartnerSettings(db, home.tenant.id, resourceTenantId);
  const subject = { userId: home.user.user.id, groupIds: await groupIdsOf(db, home.tenant.id, home.user.user.id) };
  return isCollaborationAllowed(settings, 'outbound', subject) ? settings : undefined;
}

/**
 * Automatic redemption: the home tenant's outbound and the resource tenant's inbound
 * automaticUserConsent are both on, both B2B collaboration policies let this user through, and the
 * home user is enabled.
 */
export async function canAutoRedeem(db: Db, resourceTenantId: string, home: Home): Promise<boolean> {
  if (!home.user?.user.accountEnabled) return false;
  const inbound = await inboundDecision(db, resourceTenantId, home);
  if (!inbound.allowed || !inbound.settings.automaticUserConsent.inboundAllowed) return false;
  const outbound = await outboundAllowed(db, home as HomeWithUser, resourceTenantId);
  return outbound?.automaticUserConsent.outboundAllowed === true;
}

export const hashTicket = (ticket: string): string => createHash('sha256').update(ticket).digest('base64url');

// A consent page left open longer than this must start over from the invitation link; long enough to
// read the page, short enough that a leaked state token is soon useless.
const STATE_LIFETIME_S = 600;
// Wrong passwords allowed per ticket before it locks; a new invitation issues a fresh ticket. Bounds
// online guessing of the home password through this page to 10 tries per invitation.
export const MAX_FAILED_SIGN_INS = 10;

const redeemError = (message: string, kind: 'badRequest' | 'forbidden' = 'badRequest') =>
  new DomainError(kind, 'Request_BadRequest', message);
const invalidLink = () =>
  redeemError('This invitation link is not valid. It may have been used already, replaced by a newer invitation, or copied incompletely.');

const stateKeys = new WeakMap<Store, Uint8Array>();
/**
 * The HS256 key for redemption state, made once per server and kept in server_settings. Two servers
 * racing on first use may each write one; the last write wins and a state signed with the other key
 * fails as "expired", which only means starting over from the link.
 */
async function stateKey(store: Store): Promise<Uint8Array> {
  let key = stateKeys.get(store);
  if (key) return key;
  // Wrapped at rest by the key encryption key when one is configured (identity/keyring.ts).
  const stored = await secretSetting(store, 'b2b.redemptionStateKey', () => randomBytes(32).toString('base64url'));
  key = new Uint8Array(Buffer.from(stored, 'base64url'));
  stateKeys.set(store, key);
  return key;
}

interface Pending {
  ticket: TicketDoc;
  user: UserRecord;
  tenantName: string;
}

/** The ticket document and user behind a redeem URL; throws when the ticket is unknown, used or replaced. */
async function loadTicket(db: Db, tenantId: string, userId: string, ticketOrHash: { ticket?: string; hash?: string }): Promise<Pending> {
  const tenant = await tenantsRepo.find(db, tenantId);
  const doc = tenant && (await documentsRepo.get<TicketDoc>(db, tenant.id, ticketKind, userId.toLowerCase()));
  const hash = Buffer.from(ticketOrHash.hash ?? hashTicket(ticketOrHash.ticket ?? ''));
  const stored = Buffer.from(doc?.ticketHash ?? '');
  if (!tenant || !doc || stored.length !== hash.length || !timingSafeEqual(stored, hash)) throw invalidLink();
  const user = await usersRepo.get(db, tenant.id, userId);
  if (!user) throw invalidLink();
  return { ticket: doc, user, tenantName: tenant.displayName };
}

/** Accepts a pending B2B user for its home identity: state, identities, link, change log; consumes the ticket. */
export async function acceptInDb(db: Db, tenantId: string, record: UserRecord, home: HomeWithUser, now: string): Promise<void> {
  const other = await usersRepo.byHome(db, tenantId, home.tenant.id, home.user.user.id);
  if (other && other.user.id !== record.user.id) {
    throw redeemError(`${home.user.user.userPrincipalName} already has a B2B user in this tenant (${other.user.userPrincipalName}); one person is represented once.`);
  }
  const user = {
    ...record.user, externalUserState: 'Accepted', externalUserStateChangeDateTime: now, identities: acceptedIdentities(),
  };
  await usersRepo.update(db, tenantId, { ...record, user, homeTenantId: home.tenant.id, homeUserId: home.user.user.id });
  await changesRepo.append(db, tenantId, [{
    objectType: 'user', objectId: record.user.id, change: 'updated', props: ['externalUserState', 'externalUserStateChangeDateTime', 'identities'],
  }], now);
}

/** Marks the invitation record Completed and removes the (single-use) ticket. */
async function completeTicket(db: Db, tenantId: string, ticket: TicketDoc, userId: string, now: string): Promise<void> {
  await documentsRepo.remove(db, tenantId, ticketKind, userId.toLowerCase());
  const inv = await documentsRepo.get<Record<string, unknown>>(db, tenantId, invitationKind, ticket.invitationId);
  if (inv) await documentsRepo.put(db, tenantId, invitationKind, ticket.invitationId, { ...inv, status: 'Completed' }, now);
}

export type RedeemView =
  | { kind: 'redirect'; url: string }
  | { kind: 'signIn'; resourceTenant: string; homeTenant: string; email: string }
  | { kind: 'unsupported'; resourceTenant: string; email: string; domain: string };

/**
 * GET /redeem: a redeemed (or internal) user goes straight to the redirect URL; a pending user whose
 * tenants both allow automatic redemption is accepted now and redirected; otherwise the sign-in page
 * for a hosted home tenant, or an explanation when the home tenant is not hosted here.
 */
export async function openInvitation(ctx: B2bContext, tenantId: string, userId: string, ticket: string): Promise<RedeemView> {
  const now = ctx.clock.now().toISOString();
  return ctx.store.transaction(async (db) => {
    const p = await loadTicket(db, tenantId, userId, { ticket });
    const tid = p.user.tenantId;
    if (p.user.user.externalUserState !== 'PendingAcceptance') {
      await completeTicket(db, tid, p.ticket, userId, now);
      return { kind: 'redirect', url: p.ticket.inviteRedirectUrl };
    }
    const home = await findHome(db, p.ticket.email);
    if (!home) return { kind: 'unsupported', resourceTenant: p.tenantName, email: p.ticket.email, domain: p.ticket.email.split('@')[1] ?? '' };
    if (home.user && (await canAutoRedeem(db, tid, home))) {
      await acceptInDb(db, tid, p.user, home as HomeWithUser, now);
      await completeTicket(db, tid, p.ticket, userId, now);
      return { kind: 'redirect', url: p.ticket.inviteRedirectUrl };
    }
    if (p.ticket.failedSignIns >= MAX_FAILED_SIGN_INS) throw tooManyFailures();
    return { kind: 'signIn', resourceTenant: p.tenantName, homeTenant: home.tenant.displayName, email: p.ticket.email };
  });
}

const tooManyFailures = () =>
  redeemError('Too many failed sign-ins for this invitation. Ask the person who invited you to send a new invitation.', 'forbidden');

/** Checks both tenants' B2B collaboration policies for this home user; throws a message naming the policy. */
async function requireCollaboration(db: Db, resourceTenantId: string, resourceName: string, home: HomeWithUser) {
  if (!(await inboundDecision(db, resourceTenantId, home)).allowed) {
    throw redeemError(`${resourceName} does not accept B2B collaboration from ${home.tenant.displayName} for your account `
      + `(its cross-tenant access policy, b2bCollaborationInbound).`, 'forbidden');
  }
  if (!(await outboundAllowed(db, home, resourceTenantId))) {
    throw redeemError(`${home.tenant.displayName} does not allow your account to collaborate with ${resourceName} `
      + `(its cross-tenant access policy, b2bCollaborationOutbound).`, 'forbidden');
  }
}

export interface ConsentView {
  state: string;
  resourceTenant: string;
  resourceDomain: string;
  homeTenant: string;
  displayName: string;
  email: string;
  redirectOrigin: string;
}

export type SignInResult = { kind: 'consent'; consent: ConsentView } | { kind: 'wrongPassword'; view: RedeemView & { kind: 'signIn' } };

/** POST /redeem/sign-in: verifies the home password and both policies; returns the consent page's state. */
export async function signInAtHome(ctx: B2bContext, tenantId: string, userId: string, ticket: string, password: string): Promise<SignInResult> {
  const db = ctx.store.db;
  const p = await loadTicket(db, tenantId, userId, { ticket });
  const tid = p.user.tenantId;
  if (p.user.user.externalUserState !== 'PendingAcceptance') throw invalidLink();
  if (p.ticket.failedSignIns >= MAX_FAILED_SIGN_INS) throw tooManyFailures();
  const home = await findHome(db, p.ticket.email);
  if (!home) throw redeemError('Only users of organizations hosted on this openmto server can redeem invitations here.');
  const ok = home.user ? await verifySecret(password, home.user.passwordHash) : false;
  if (!home.user || !ok) {
    await ctx.store.transaction(async (tx) => {
      const doc = await documentsRepo.get<TicketDoc>(tx, tid, ticketKind, userId.toLowerCase());
      if (doc) await documentsRepo.put(tx, tid, ticketKind, userId.toLowerCase(), { ...doc, failedSignIns: doc.failedSignIns + 1 }, ctx.clock.now().toISOString());
    });
    return { kind: 'wrongPassword', view: { kind: 'signIn', resourceTenant: p.tenantName, homeTenant: home.tenant.displayName, email: p.ticket.email } };
  }
  if (!home.user.user.accountEnabled) throw redeemError('Your account is disabled in your home organization.', 'forbidden');
  const withUser = home as HomeWithUser;
  await requireCollaboration(db, tid, p.tenantName, withUser);
  const now = Math.floor(ctx.clock.now().getTime() / 1000);
  const state = await new SignJWT({ tid, uid: p.user.user.id, tkh: p.ticket.ticketHash, htid: home.tenant.id, huid: home.user.user.id })
    .setProtectedHeader({ alg: 'HS256' }).setAudience('openmto:b2b-consent').setIssuedAt(now).setExpirationTime(now + STATE_LIFETIME_S)
    .sign(await stateKey(ctx.store));
  const resource = await tenantsRepo.find(db, tid);
  return {
    kind: 'consent',
    consent: {
      state, resourceTenant: p.tenantName, resourceDomain: resource?.domain ?? '', homeTenant: home.tenant.displayName,
      displayName: home.user.user.displayName ?? p.ticket.email, email: p.ticket.email, redirectOrigin: new URL(p.ticket.inviteRedirectUrl).origin,
    },
  };
}

/** POST /redeem/consent with Accept: the state must be valid, unexpired and bound to the current ticket. */
export async function acceptInvitation(ctx: B2bContext, state: string): Promise<string> {
  let claims: Record<string, unknown>;
  try {
    ({ payload: claims } = await jwtVerify(state, await stateKey(ctx.store), {
      algorithms: ['HS256'], audience: 'openmto:b2b-consent', currentDate: ctx.clock.now(),
    }));
  } catch {
    throw redeemError('This consent page has expired. Open the invitation link again to start over.');
  }
  const [tid, uid, tkh, htid, huid] = [claims.tid, claims.uid, claims.tkh, claims.htid, claims.huid].map(String) as [string, string, string, string, string];
  const now = ctx.clock.now().toISOString();
  return ctx.store.transaction(async (db) => {
    const p = await loadTicket(db, tid, uid, { hash: tkh });
    if (p.user.user.externalUserState !== 'PendingAcceptance') throw invalidLink();
    const homeTenant = await tenantsRepo.find(db, htid);
    const homeUser = homeTenant && (await usersRepo.get(db, homeTenant.id, huid));
    if (!homeTenant || !homeUser?.user.accountEnabled) throw redeemError('Your home account is no longer available.', 'forbidden');
    const home = { tenant: homeTenant, user: homeUser };
    // Policies are checked again: an admin may have changed them while the consent page was open.
    await requireCollaboration(db, tid, p.tenantName, home);
    await acceptInDb(db, tid, p.user, home, now);
    await completeTicket(db, tid, p.ticket, uid, now);
    return p.ticket.inviteRedirectUrl;
  });
}
