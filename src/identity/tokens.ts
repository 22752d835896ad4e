// Per-tenant OAuth2/OIDC: discovery, JWKS, the token endpoint (client credentials, resource-owner
// password, and the code flow's authorization_code and refresh_token grants in authorizeGrant.ts) and
// access-token verification. Tokens are RS256 JWTs shaped like Entra's v2 tokens.
import { randomUUID } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import type { Clock } from '../domain/clock.js';
import { DomainError, errors } from '../domain/errors.js';
import type { UserRecord } from '../domain/user.js';
import { type AppRecord, appsRepo } from '../store/repos/apps.js';
import { type TenantRecord, tenantsRepo } from '../store/repos/tenants.js';
import { usersRepo } from '../store/repos/users.js';
import type { Store } from '../store/store.js';
import type { SigningKey } from './keys.js';
import { redeemGrant } from './authorizeGrant.js';
import { CONSOLE_CLIENT_ID, consoleClient } from './console.js';
import { defaultDelegatedScopes } from './permissions.js';
import { refusal, SignInGuard } from './throttle.js';

const grants = new Set(['client_credentials', 'password', 'authorization_code', 'refresh_token']);

export const GRAPH_AUDIENCES = ['https://graph.microsoft.com', '00000003-0000-0000-c000-000000000000'];
/** Entra's default access-token lifetime is 60–90 min; one hour keeps MSAL's cache behaviour the same. */
export const TOKEN_LIFETIME_S = 3599;

export interface Principal {
  tenantId: string;
  kind: 'app' | 'user';
  appId: string;
  /** Application permissions (app tokens). */
  roles: ReadonlySet<string>;
  /** Delegated scopes (user tokens). */
  scopes: ReadonlySet<string>;
  userId?: string;
}

const oauth = (status: 'badRequest' | 'unauthenticated', code: string, aadsts: number, text: string) =>
  new DomainError(status, code, `AADSTS${aadsts}: ${text}`);

export function discoveryDocument(origin: string, tenant: TenantRecord) {
  const base = `${origin}/${tenant.id}`;
  return {
    issuer: `${base}/v2.0`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    token_endpoint: `${base}/oauth2/v2.0/token`,
    jwks_uri: `${origin}/${tenant.id}/discovery/v2.0/keys`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials', 'password'],
    response_modes_supported: ['query'],
    code_challenge_methods_supported: ['S256'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'name', 'tid', 'oid', 'upn', 'preferred_username', 'roles', 'scp'],
    tenant_region_scope: 'WW',
    cloud_instance_name: 'openmto',
  };
}

/** The `scp` of a user token: the defaults plus what was asked for (Graph scopes by their short name). */
export function delegatedScopes(scope: string): string[] {
  const requested = scope.split(' ').filter(Boolean).filter((s) => !s.endsWith('/.default'));
  return [...new Set([...defaultDelegatedScopes, ...requested.map((s) => s.replace(/^https:\/\/graph\.microsoft\.com\//, ''))])];
}

export interface TokenRequest {
  grant_type?: string;
  client_id?: string;
  client_secret?: string;
  scope?: string;
  username?: string;
  password?: string;
  [field: string]: string | undefined;
}

export class TokenService {
  constructor(
    readonly store: Store,
    private readonly key: SigningKey,
    private readonly clock: Clock,
    /** Lockout and scrypt admission for every secret this service checks (identity/throttle.ts). */
    readonly guard: SignInGuard = new SignInGuard(),
  ) {}

  /** Tokens issued by grant since start (a metrics counter). */
  readonly issued = { client_credentials: 0, password: 0, authorization_code: 0, refresh_token: 0 };

  jwks() {
    return { keys: [this.key.publicJwk] };
  }

  async tenant(ref: string): Promise<TenantRecord> {
    const t = await tenantsRepo.find(this.store.db, ref);
    if (!t) {
      throw oauth('badRequest', 'invalid_tenant', 90002, `Tenant '${ref}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
    }
    return t;
  }

  /**
   * The token endpoint. Unknown form fields (MSAL telemetry, CAE `claims`) are ignored. `address` is the
   * client's address, for the per-address lockout.
   */
  async issue(tenantRef: string, form: TokenRequest, origin: string, address = '') {
    const tenant = await this.tenant(tenantRef);
    const grant = form.grant_type;
    if (!grant) throw oauth('badRequest', 'invalid_request', 900144, "The request body must contain the following parameter: 'grant_type'.");
    if (!grants.has(grant)) {
      throw oauth('badRequest', 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    }
    if (!form.client_id) throw oauth('badRequest', 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.");
    const app = await this.client(tenant.id, form.client_id);
    if (!app) {
      throw oauth('badRequest', 'unauthorized_client', 700016, `Application with identifier '${form.client_id}' was not found in the directory '${tenant.displayName}'.`);
    }
    const scope = form.scope ?? '';
    if (grant === 'client_credentials') {
      if (!form.client_secret) {
        throw oauth('badRequest', 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
      }
      await this.checkClientSecret(tenant.id, app.clientId, form.client_secret, app.secretHash, address);
      if (!scope.split(' ').some((s) => s.endsWith('/.default'))) {
        throw oauth('badRequest', 'invalid_scope', 1002012, `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
      }
      this.issued.client_credentials++;
      return this.sign(origin, tenant.id, { roles: app.permissions, idtyp: 'app', oid: app.clientId, sub: app.clientId }, app.clientId);
    }
    // Every user grant: a confidential client must still prove itself.
    await this.authenticateClient(tenant.id, app, form, address);
    if (grant === 'authorization_code' || grant === 'refresh_token') {
      const out = await redeemGrant(this, tenant, app, form, origin);
      this.issued[grant]++;
      return out;
    }
    if (!form.username || !form.password) {
      throw oauth('badRequest', 'invalid_request', 900144, "The request body must contain the following parameter: 'username' and 'password'.");
    }
    const user = await this.authenticateUser(tenant.id, form.username, form.password, address);
    this.issued.password++;
    return this.sign(origin, tenant.id, this.userClaims(user, delegatedScopes(scope)), app.clientId);
  }

  /** A client of the tenant: a registered app, or the first-party console client every tenant has. */
  async client(tenantId: string, clientId: string): Promise<AppRecord | undefined> {
    if (clientId.toLowerCase() === CONSOLE_CLIENT_ID) return consoleClient(tenantId);
    return appsRepo.get(this.store.db, tenantId, clientId);
  }

  /** A confidential client proves its secret; a public client may send none (and a wrong one is refused). */
  async authenticateClient(tenantId: string, app: AppRecord, form: TokenRequest, address: string): Promise<void> {
    if (app.publicClient && !form.client_secret) return;
    if (!form.client_secret) {
      throw oauth('unauthenticated', 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    }
    await this.checkClientSecret(tenantId, app.clientId, form.client_secret, app.secretHash, address);
  }

  /**
   * A user's name and password, checked the one way every sign-in takes (the password grant and the
   * authorize page): the sign-in guard's lockouts, B2B users proving their home password, disabled users
   * refused. Returns the user the token is for (for a B2B user, its object in this tenant).
   */
  async authenticateUser(tenantId: string, username: string, password: string, address: string): Promise<UserRecord> {
    // The lockout is per name asked for in this tenant, whether or not it is a user, so a lockout tells
    // nothing about which names exist; a locked name is refused before any lookup.
    const subject = `${tenantId}/${username.toLowerCase()}`;
    const early = this.guard.refused('password', subject, address);
    if (early) throw refusal('password', early);
    const found = await usersRepo.get(this.store.db, tenantId, username);
    // A redeemed B2B user has no password here: it proves the home user's password, and the token is
    // for its object in this tenant.
    const b2b = await this.redeemedB2bUser(tenantId, username, found);
    const user = b2b?.resource ?? found;
    const credential = b2b?.home ?? found;
    const verdict = await this.guard.verify('password', subject, password, user ? credential?.passwordHash : null, address);
    if (!verdict.ok && verdict.reason !== 'wrong') throw refusal('password', verdict);
    if (!verdict.ok || !user || !credential) {
      throw oauth('badRequest', 'invalid_grant', 50126, 'Error validating credentials due to invalid username or password.');
    }
    if (!user.user.accountEnabled || !credential.user.accountEnabled) {
      throw oauth('badRequest', 'invalid_grant', 50057, 'The user account is disabled.');
    }
    return user;
  }

  /** The claims of a delegated user token, the same for every grant that issues one. */
  userClaims(user: UserRecord, scp: readonly string[]): JWTPayload {
    return {
      scp: scp.join(' '), idtyp: 'user', oid: user.user.id, sub: user.user.id,
      upn: user.user.userPrincipalName, preferred_username: user.user.userPrincipalName, name: user.user.displayName ?? undefined,
    };
  }

  /** An OIDC id_token for `clientId` (MSAL reads the account from it), signed like access tokens. */
  async idToken(origin: string, tenantId: string, user: UserRecord, clientId: string, nonce?: string): Promise<string> {
    const now = Math.floor(this.clock.now().getTime() / 1000);
    return new SignJWT({
      oid: user.user.id, tid: tenantId, preferred_username: user.user.userPrincipalName, name: user.user.displayName ?? undefined,
      ver: '2.0', ...(nonce ? { nonce } : {}),
    })
      .setProtectedHeader({ alg: 'RS256', kid: this.key.kid, typ: 'JWT' })
      .setIssuer(`${origin}/${tenantId}/v2.0`)
      .setSubject(user.user.id)
      .setAudience(clientId)
      .setIssuedAt(now)
      .setNotBefore(now - 300)
      .setExpirationTime(now + TOKEN_LIFETIME_S)
      .sign(this.key.privateKey);
  }

  /** Signs an access token for the user grants (authorize*.ts). */
  signUser(origin: string, tenantId: string, user: UserRecord, scp: readonly string[], clientId: string) {
    return this.sign(origin, tenantId, this.userClaims(user, scp), clientId);
  }

  get now(): Date {
    return this.clock.now();
  }

  private async checkClientSecret(tenantId: string, clientId: string, secret: string, stored: string | null, address: string) {
    const verdict = await this.guard.verify('clientSecret', `${tenantId}/${clientId}`, secret, stored, address);
    if (verdict.ok) return;
    if (verdict.reason !== 'wrong') throw refusal('clientSecret', verdict);
    throw oauth('unauthenticated', 'invalid_client', 7000215, 'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.');
  }

  /** The B2B user (by its UPN here, or by its home UPN and home link) and its home user, once redeemed. */
  private async redeemedB2bUser(tenantId: string, username: string, found: UserRecord | undefined) {
    const db = this.store.db;
    let resource = found;
    let home: UserRecord | undefined;
    if (found?.homeTenantId && found.homeUserId) {
      home = await usersRepo.get(db, found.homeTenantId, found.homeUserId);
    } else if (!found && username.includes('@')) {
      const homeTenant = await tenantsRepo.find(db, username.slice(username.lastIndexOf('@') + 1));
      home = homeTenant && homeTenant.id !== tenantId ? await usersRepo.get(db, homeTenant.id, username) : undefined;
      resource = home && (await usersRepo.byHome(db, tenantId, home.tenantId, home.user.id));
    }
    return resource && home && resource.user.externalUserState === 'Accepted' ? { resource, home } : undefined;
  }

  private async sign(origin: string, tenantId: string, claims: JWTPayload, appId: string) {
    const now = Math.floor(this.clock.now().getTime() / 1000);
    const token = await new SignJWT({ ...claims, tid: tenantId, azp: appId, appid: appId, ver: '2.0', uti: randomUUID() })
      .setProtectedHeader({ alg: 'RS256', kid: this.key.kid, typ: 'JWT' })
      .setIssuer(`${origin}/${tenantId}/v2.0`)
      .setAudience(GRAPH_AUDIENCES[0]!)
      .setIssuedAt(now)
      .setNotBefore(now - 300)
      .setExpirationTime(now + TOKEN_LIFETIME_S)
      .sign(this.key.privateKey);
    return { token_type: 'Bearer', expires_in: TOKEN_LIFETIME_S, ext_expires_in: TOKEN_LIFETIME_S, access_token: token };
  }

  /** Verifies a bearer token: signature, lifetime, audience, and that its tenant still exists. */
  /**
   * Tokens already verified, by their exact text: a signature check (RSA through WebCrypto, on the thread
   * pool) is the largest per-request cost after the query itself, and a client sends the same token for an
   * hour. An entry is only ever a token that passed every check; it is dropped at the token's expiry, and the
   * tenant is still checked on every request (a deleted tenant's tokens stop at once; tenantsRepo.exists reads
   * only when something was committed since its last read). Bounded, oldest first.
   */
  private readonly verified = new Map<string, { principal: Principal; exp: number }>();
  private static readonly VERIFIED_CACHE_SIZE = 10_000;

  /** Verifies a bearer token: signature, lifetime, audience, and that its tenant still exists. */
  async verify(token: string | undefined): Promise<Principal> {
    if (!token) throw errors.unauthenticated('Access token is empty.');
    const nowS = this.clock.now().getTime() / 1000;
    const hit = this.verified.get(token);
    let principal: Principal;
    if (hit && hit.exp + 30 > nowS) {
      principal = hit.principal;
    } else {
      if (hit) this.verified.delete(token);
      const { principal: p, exp } = await this.verifySignedToken(token);
      principal = p;
      if (this.verified.size >= TokenService.VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value as string);
      this.verified.set(token, { principal, exp });
    }
    if (!(await tenantsRepo.exists(this.store.db, principal.tenantId))) {
      throw errors.unauthenticated('Access token validation failure. Unknown tenant.');
    }
    return principal;
  }

  private async verifySignedToken(token: string): Promise<{ principal: Principal; exp: number }> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, async (header) => {
        const k = header.kid && this.key.publicKeys.get(header.kid);
        if (!k) throw new joseErrors.JWKSNoMatchingKey();
        return k;
      }, { algorithms: ['RS256'], audience: GRAPH_AUDIENCES, currentDate: this.clock.now(), clockTolerance: 30 }));
    } catch (e) {
      if (e instanceof joseErrors.JWTExpired) throw errors.unauthenticated('Lifetime validation failed, the token is expired.');
      if (e instanceof joseErrors.JWTClaimValidationFailed) throw errors.unauthenticated(`Access token validation failure. Invalid ${e.claim}.`);
      throw errors.unauthenticated('Access token validation failure. Invalid signature.');
    }
    const tid = typeof payload.tid === 'string' ? payload.tid : '';
    if (!payload.iss?.endsWith(`/${tid}/v2.0`)) throw errors.unauthenticated('Access token validation failure. Invalid issuer.');
    if (typeof payload.exp !== 'number') throw errors.unauthenticated('Access token validation failure. Missing expiry.');
    const kind = payload.idtyp === 'user' ? 'user' : 'app';
    const principal: Principal = {
      tenantId: tid,
      kind,
      appId: String(payload.appid ?? ''),
      roles: new Set(Array.isArray(payload.roles) ? (payload.roles as string[]) : []),
      scopes: new Set(typeof payload.scp === 'string' ? payload.scp.split(' ') : []),
      ...(kind === 'user' ? { userId: String(payload.oid) } : {}),
    };
    return { principal, exp: payload.exp };
  }
}
