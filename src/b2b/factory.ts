// The one factory of B2B users. An invitation makes a pending one (redeemed later by its invitee, or at
// once by automatic redemption); cross-tenant sync makes a redeemed one, linked to its home user from the
// start. Both are the same kind of object, so they are built in one place.
import { newObjectId } from '../domain/ids.js';
import { proxyAddressesFor, type User, type UserRecord, type UserType } from '../domain/user.js';
import { acceptedIdentities } from './redemption.js';

export interface B2bUserSpec {
  tenantId: string;
  tenantDomain: string;
  /** The invitee's address: the B2B user's mail, first otherMails entry and SMTP proxy address. */
  email: string;
  upn: string;
  mailNickname: string;
  displayName: string | null;
  userType: UserType;
  now: string;
  /** A home user: the B2B user is created redeemed (Accepted) and linked to it; otherwise pending. */
  home?: { tenantId: string; userId: string } | null;
  /** Further Graph properties (sync's mapped attributes); they cannot override identity or state. */
  props?: Record<string, unknown>;
  /** Overrides the shown-in-address-list default (members shown, guests hidden). */
  showInAddressList?: boolean;
  accountEnabled?: boolean;
}

/** Before redemption a B2B user signs in with its UPN at the host tenant (Entra shows the host's domain). */
export const pendingIdentities = (tenantDomain: string, upn: string) => [{ signInType: 'userPrincipalName', issuer: tenantDomain, issuerAssignedId: upn }];

export function newB2bUser(s: B2bUserSpec): UserRecord {
  const redeemed = Boolean(s.home);
  const user: User = {
    businessPhones: [],
    ...s.props,
    id: newObjectId(),
    userPrincipalName: s.upn,
    mailNickname: s.mailNickname,
    // Entra names an invitee without a display name after the address's local part.
    displayName: s.displayName ?? s.email.slice(0, s.email.indexOf('@')),
    accountEnabled: s.accountEnabled ?? true,
    userType: s.userType,
    mail: s.email,
    otherMails: [s.email],
    proxyAddresses: proxyAddressesFor(s.email),
    identities: redeemed ? acceptedIdentities() : pendingIdentities(s.tenantDomain, s.upn),
    creationType: 'Invitation',
    externalUserState: redeemed ? 'Accepted' : 'PendingAcceptance',
    externalUserStateChangeDateTime: s.now,
    // Guests are hidden from the address list by default; B2B members are shown (people search needs them).
    showInAddressList: s.showInAddressList ?? s.userType === 'Member',
    createdDateTime: s.now,
    deletedDateTime: null,
  };
  return { tenantId: s.tenantId, user, homeTenantId: s.home?.tenantId ?? null, homeUserId: s.home?.userId ?? null, passwordHash: null, roles: [] };
}
