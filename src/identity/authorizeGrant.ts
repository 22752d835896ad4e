// The token endpoint's side of the code flow: `authorization_code` (a code from identity/authorize.ts and
// its PKCE verifier) and `refresh_token` (rotated on every use). A grant is spent in the transaction that
// checks it, and a refusal is thrown only after that commits, so a wrong verifier still burns the code and a
// replayed code or refresh token revokes every refresh token that came from the same sign-in.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { DomainError } from '../domain/errors.js';
import type { UserRecord } from '../domain/user.js';
import type { AppRecord } from '../store/repos/apps.js';
import { authorizationGrantsRepo, type GrantKind } from '../store/repos/authorizationGrants.js';
import type { TenantRecord } from '../store/repos/tenants.js';
import { usersRepo } from '../store/repos/users.js';
import { type CodeGrant, GRANT_RETENTION_MS, grantHash } from './authorize.js';
import type { TokenRequest, TokenService } from './tokens.js';

/** Refresh tokens live a day (Entra's are 90 days): the console signs in again each day, and a stolen one is worth a day. */
export const REFRESH_LIFETIME_MS = 24 * 60 * 60 * 1000;

interface RefreshGrant {
  clientId: string;
  userId: string;
  scp: string[];
}

const invalidGrant = (aadsts: number, text: string) => new DomainError('badRequest', 'invalid_grant', `AADSTS${aadsts}: ${text}`);
const missing = (name: string) => new DomainError('badRequest', 'invalid_request', `AADSTS900144: The request body must contain the following parameter: '${name}'.`);

const verifierShape = /^[A-Za-z0-9\-._~]{43,128}$/;

/** RFC 7636 §4.6, S256: BASE64URL(SHA256(verifier)) equals the challenge; compared in constant time. */
export function pkceMatches(verifier: string, challenge: string): boolean {
  if (!verifierShape.test(verifier)) return false;
  const got = Buffer.from(createHash('sha256').update(verifier, 'ascii').digest('base64url'));
  const want = Buffer.from(challenge);
  return got.length === want.length && timingSafeEqual(got, want);
}

export async function redeemGrant(tokens: TokenService, tenant: TenantRecord, app: AppRecord, form: TokenRequest, origin: string) {
  const kind: GrantKind = form.grant_type === 'refresh_token' ? 'refresh' : 'code';
  const value = kind === 'code' ? form.code : form.refresh_token;
  if (!value) throw missing(kind === 'code' ? 'code' : 'refresh_token');
  if (kind === 'code') {
    if (!form.redirect_uri) throw missing('redirect_uri');
    if (!form.code_verifier) throw missing('code_verifier');
  }
  const now = tokens.now;
  const at = now.toISOString();
  const store = tokens.store;
  const notValid = invalidGrant(70000, `The provided value for the '${kind === 'code' ? 'code' : 'refresh_token'}' parameter is not valid.`);
  // One transaction decides; its verdict is thrown after commit so spends and revocations stay.
  const verdict = await store.transaction(async (db): Promise<{ error: DomainError } | { grant: CodeGrant | RefreshGrant; user: UserRecord; family: string; refresh?: string }> => {
    const spent = await authorizationGrantsRepo.spend(db, tenant.id, kind, grantHash(value), at);
    if (spent.state === 'unknown') return { error: notValid };
    if (spent.state === 'alreadyUsed') {
      await authorizationGrantsRepo.revokeFamily(db, tenant.id, spent.family, at);
      return {
        error: kind === 'code'
          ? invalidGrant(54005, 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.')
          : notValid,
      };
    }
    if (spent.expiresAt <= at) {
      return { error: invalidGrant(70008, 'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.') };
    }
    const grant = spent.data as CodeGrant | RefreshGrant;
    if (grant.clientId !== app.clientId) return { error: notValid };
    if (kind === 'code') {
      const code = grant as CodeGrant;
      if (code.redirectUri !== form.redirect_uri) {
        return { error: invalidGrant(70000, `The redirect_uri '${form.redirect_uri}' is not the one the authorization code was issued for.`) };
      }
      if (!pkceMatches(form.code_verifier ?? '', code.challenge)) {
        return { error: invalidGrant(50148, 'The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.') };
      }
    }
    // The user (or a B2B user's home user) may have been deleted or disabled since the sign-in.
    const user = await usersRepo.get(db, tenant.id, grant.userId);
    const home = user?.homeTenantId && user.homeUserId ? await usersRepo.get(db, user.homeTenantId, user.homeUserId) : user;
    if (!user?.user.accountEnabled || !home?.user.accountEnabled) return { error: invalidGrant(50057, 'The user account is disabled.') };
    const offline = kind === 'refresh' || (grant as CodeGrant).offline;
    let refresh: string | undefined;
    if (offline) {
      refresh = randomBytes(32).toString('base64url');
      const data: RefreshGrant = { clientId: grant.clientId, userId: grant.userId, scp: grant.scp };
      await authorizationGrantsRepo.purgeExpired(db, tenant.id, new Date(now.getTime() - GRANT_RETENTION_MS).toISOString());
      await authorizationGrantsRepo.insert(db, tenant.id, {
        hash: grantHash(refresh), kind: 'refresh', family: spent.family, expiresAt: new Date(now.getTime() + REFRESH_LIFETIME_MS).toISOString(), data,
      });
    }
    return { grant, user, family: spent.family, ...(refresh ? { refresh } : {}) };
  });
  if ('error' in verdict) throw verdict.error;
  const { grant, user, refresh } = verdict;
  const access = await tokens.signUser(origin, tenant.id, user, grant.scp, app.clientId);
  const nonce = kind === 'code' ? (grant as CodeGrant).nonce : undefined;
  return {
    token_type: access.token_type,
    scope: grant.scp.join(' '),
    expires_in: access.expires_in,
    ext_expires_in: access.ext_expires_in,
    access_token: access.access_token,
    ...(refresh ? { refresh_token: refresh } : {}),
    id_token: await tokens.idToken(origin, tenant.id, user, app.clientId, nonce),
    // MSAL asks for client_info=1 and keys its account cache by it (uid.utid), as Entra answers.
    ...(form.client_info === '1' ? { client_info: Buffer.from(JSON.stringify({ uid: user.user.id, utid: tenant.id })).toString('base64url') } : {}),
  };
}
