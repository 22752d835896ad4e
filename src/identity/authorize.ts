// The authorization endpoint's rules (authorization code with PKCE): which client may ask, where the answer
// may go, what a request must carry, the CSRF token of the sign-in page, and issuing the code. The page
// itself is rendered in api/authorize.ts. Two kinds of failure (RFC 6749 §4.1.2.1): a bad client or
// redirect URI is shown to the user and never redirected (`AuthorizeFatal`); anything else goes back to the
// client's redirect URI as `error=…` (`AuthorizeRedirect`).
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../domain/clock.js';
import { DomainError } from '../domain/errors.js';
import type { AppRecord } from '../store/repos/apps.js';
import { authorizationGrantsRepo } from '../store/repos/authorizationGrants.js';
import type { TenantRecord } from '../store/repos/tenants.js';
import type { Store } from '../store/store.js';
import { CONSOLE_CLIENT_ID, consoleRedirectUri } from './console.js';
import { secretSetting } from './keyring.js';
import { delegatedScopes, type TokenService } from './tokens.js';

/** A failure shown on our own page: the client or its redirect URI can't be trusted with a redirect. */
export class AuthorizeFatal extends DomainError {
  constructor(text: string) {
    super('badRequest', 'invalid_request', text);
  }
}

/** A failure sent back to the client's redirect URI. */
export class AuthorizeRedirect extends Error {
  constructor(readonly error: string, readonly description: string) {
    super(description);
  }
}

/** The authorize request's parameters, each at most once (a repeated one is `invalid_request`). */
export type AuthorizeParams = Record<string, string>;

/** Longest parameter value kept: state and nonce are the client's, redirect URIs stay far below. */
const MAX_PARAM = 2048;

export function readAuthorizeParams(source: unknown): { params: AuthorizeParams; repeated?: string } {
  const params: AuthorizeParams = Object.create(null);
  let repeated: string | undefined;
  if (!source || typeof source !== 'object' || Array.isArray(source)) return { params };
  for (const [k, v] of Object.entries(source)) {
    if (Array.isArray(v)) repeated ??= k;
    else if (typeof v === 'string' && v.length <= MAX_PARAM) params[k] = v;
    else repeated ??= k;
  }
  return repeated ? { params, repeated } : { params };
}

const loopbackHosts = new Set(['localhost', '127.0.0.1', '[::1]']);

/** May `app` have its answer sent to `redirectUri`, given the origin the request came in on? */
export function redirectAllowed(app: AppRecord, redirectUri: string, origin: string): boolean {
  if (app.clientId === CONSOLE_CLIENT_ID) return redirectUri === consoleRedirectUri(origin);
  // It goes back out in a Location header as written: printable ASCII only (a URL parser would accept more).
  if (!/^[\x21-\x7e]+$/.test(redirectUri)) return false;
  let url: URL;
  try {
    url = new URL(redirectUri);
  } catch {
    return false;
  }
  if (url.hash || url.username || url.password) return false;
  // MSAL's loopback redirect (any port, RFC 8252 §7.3) or a page of this server.
  return (url.protocol === 'http:' && loopbackHosts.has(url.hostname)) || url.origin === origin;
}

/** The client and redirect URI, checked before anything may be redirected. */
export async function checkClient(tokens: TokenService, tenant: TenantRecord, p: AuthorizeParams, origin: string, repeated?: string) {
  if (repeated === 'client_id' || repeated === 'redirect_uri') throw new AuthorizeFatal(`The parameter '${repeated}' was given more than once.`);
  if (!p.client_id) throw new AuthorizeFatal("AADSTS900144: The request body must contain the following parameter: 'client_id'.");
  const app = await tokens.client(tenant.id, p.client_id);
  if (!app) throw new AuthorizeFatal(`AADSTS700016: Application with identifier '${p.client_id}' was not found in the directory '${tenant.displayName}'.`);
  if (!p.redirect_uri) throw new AuthorizeFatal("AADSTS900144: The request body must contain the following parameter: 'redirect_uri'.");
  if (!redirectAllowed(app, p.redirect_uri, origin)) {
    throw new AuthorizeFatal(`AADSTS50011: The redirect URI '${p.redirect_uri}' specified in the request does not match the redirect URIs configured for the application '${app.clientId}'.`);
  }
  return { app, redirectUri: p.redirect_uri };
}

const verifierOrChallenge = /^[A-Za-z0-9\-._~]{43,128}$/;

/** What a valid request asks for; everything else is an `AuthorizeRedirect`. */
export function checkRequest(p: AuthorizeParams, repeated?: string) {
  const bad = (text: string, error = 'invalid_request') => new AuthorizeRedirect(error, text);
  if (repeated) throw bad(`The parameter '${repeated}' was given more than once, or is longer than ${MAX_PARAM} characters.`);
  if (!p.response_type) throw bad("AADSTS900144: The request body must contain the following parameter: 'response_type'.");
  if (p.response_type !== 'code') throw bad(`openmto supports response_type=code only, not '${p.response_type}'.`, 'unsupported_response_type');
  if (p.response_mode && p.response_mode !== 'query') throw bad(`openmto supports response_mode=query only, not '${p.response_mode}'.`);
  if (!p.scope) throw bad("AADSTS900144: The request body must contain the following parameter: 'scope'.");
  if (!p.code_challenge) throw bad('AADSTS9002325: Proof Key for Code Exchange is required for cross-origin authorization code redemption.');
  if (p.code_challenge_method !== 'S256') throw bad('openmto requires code_challenge_method=S256 (PKCE); plain and a missing method are refused.');
  // S256 of a verifier is 32 bytes in base64url: 43 characters.
  if (p.code_challenge.length !== 43 || !verifierOrChallenge.test(p.code_challenge)) throw bad('AADSTS501491: Invalid size of Code_Challenge parameter.');
  if (p.prompt === 'none') throw bad('AADSTS50058: A silent sign-in request was sent but no user is signed in.', 'login_required');
  return { scope: p.scope, challenge: p.code_challenge, ...(p.nonce ? { nonce: p.nonce } : {}), ...(p.state !== undefined ? { state: p.state } : {}) };
}

/**
 * The URL that hands the answer back: `redirect_uri` exactly as the client wrote it (no normalising a
 * default port away: clients compare it) with its own query kept and ours appended. It has no fragment
 * (redirectAllowed).
 */
export function answerUrl(redirectUri: string, fields: Record<string, string | undefined>): string {
  const ours = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) ours.set(k, v);
  return `${redirectUri}${redirectUri.includes('?') ? '&' : '?'}${ours}`;
}

// CSRF: the page carries an HMAC over the browser's cookie and the request it was rendered for, with an
// expiry; a post without the cookie, from another request, or after an hour is refused before any
// password is checked. The key is a server setting so every process behind one database accepts it.
const csrfKeys = new WeakMap<Store, Buffer>();
async function csrfKey(store: Store): Promise<Buffer> {
  let key = csrfKeys.get(store);
  if (!key) {
    key = Buffer.from(await secretSetting(store, 'identity.authorizeCsrfKey', () => randomBytes(32).toString('base64url')), 'base64url');
    csrfKeys.set(store, key);
  }
  return key;
}

/** An hour to fill in the page; after that it is rendered again with a fresh token. */
const CSRF_LIFETIME_S = 3600;

export const newBrowserId = () => randomBytes(24).toString('base64url');

const csrfBinding = (tenantId: string, p: AuthorizeParams) =>
  [tenantId, p.client_id, p.redirect_uri, p.code_challenge, p.state ?? '', p.nonce ?? ''].join('\n');

export async function csrfToken(store: Store, now: Date, browser: string, tenantId: string, p: AuthorizeParams): Promise<string> {
  const exp = Math.floor(now.getTime() / 1000) + CSRF_LIFETIME_S;
  const mac = createHmac('sha256', await csrfKey(store)).update(`${exp}\n${browser}\n${csrfBinding(tenantId, p)}`).digest('base64url');
  return `${exp}.${mac}`;
}

export async function csrfValid(store: Store, now: Date, browser: string | undefined, token: string | undefined, tenantId: string, p: AuthorizeParams): Promise<boolean> {
  const m = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token ?? '');
  if (!browser || !m || Number(m[1]) < now.getTime() / 1000) return false;
  const want = createHmac('sha256', await csrfKey(store)).update(`${m[1]}\n${browser}\n${csrfBinding(tenantId, p)}`).digest();
  return timingSafeEqual(want, Buffer.from(m[2]!, 'base64url'));
}

/** What a code stands for, stored (by the code's hash) until it is redeemed. */
export interface CodeGrant {
  clientId: string;
  redirectUri: string;
  challenge: string;
  userId: string;
  scp: string[];
  offline: boolean;
  nonce?: string;
}

/** Entra's codes live about 10 minutes: long enough for a slow redirect, short enough to be worthless stolen. */
export const CODE_LIFETIME_MS = 10 * 60 * 1000;
/** Spent and expired grants are kept a day past expiry, so a replay is recognised (and revokes its line). */
export const GRANT_RETENTION_MS = 24 * 60 * 60 * 1000;

export const grantHash = (value: string) => createHash('sha256').update(value).digest('base64url');

export async function issueCode(store: Store, clock: Clock, tenantId: string, g: Omit<CodeGrant, 'scp' | 'offline'> & { scope: string }): Promise<string> {
  const code = randomBytes(32).toString('base64url');
  const now = clock.now();
  const { scope, ...rest } = g;
  const data: CodeGrant = { ...rest, scp: delegatedScopes(scope), offline: scope.split(' ').includes('offline_access') };
  await store.transaction(async (db) => {
    await authorizationGrantsRepo.purgeExpired(db, tenantId, new Date(now.getTime() - GRANT_RETENTION_MS).toISOString());
    await authorizationGrantsRepo.insert(db, tenantId, {
      hash: grantHash(code), kind: 'code', family: randomUUID(), expiresAt: new Date(now.getTime() + CODE_LIFETIME_MS).toISOString(), data,
    });
  });
  return code;
}
