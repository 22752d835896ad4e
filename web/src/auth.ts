// Sign-in: authorization code with PKCE against openmto's own authorize endpoint. The verifier and state
// live in sessionStorage only between the redirect and the code exchange; the access token lives in
// sessionStorage (this tab only) until it expires or the admin signs out.

export interface Session {
  tenant: string;
  clientId: string;
  accessToken: string;
  /** Rotated on every use (identity/authorizeGrant.ts); absent when the server issued none. */
  refreshToken?: string;
  expiresAt: number;
  tenantId: string;
  userId: string;
  name: string;
  upn: string;
}

const SESSION_KEY = 'openmto.session';
const PENDING_KEY = 'openmto.pending';
export const GRAPH_SCOPE = 'openid profile offline_access https://graph.microsoft.com/.default';

const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

function randomString(bytes = 32): string {
  return b64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

async function challengeOf(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return b64url(new Uint8Array(digest));
}

const redirectUri = () => `${location.origin}/`;

export async function loadClientId(): Promise<string> {
  const res = await fetch('/console/config.json', { headers: { accept: 'application/json' } });
  const body = (await res.json()) as { clientId?: string | null };
  if (!body.clientId) throw new Error('This openmto server has no console sign-in client configured. Upgrade the server, or ask its operator.');
  return body.clientId;
}

/** Sends the browser to the tenant's authorize endpoint. */
export async function beginSignIn(tenant: string): Promise<void> {
  const clientId = await loadClientId();
  const verifier = randomString(48);
  const state = randomString(16);
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ tenant, verifier, state, clientId }));
  const q = new URLSearchParams({
    client_id: clientId, response_type: 'code', redirect_uri: redirectUri(), scope: GRAPH_SCOPE, state,
    code_challenge: await challengeOf(verifier), code_challenge_method: 'S256', response_mode: 'query',
  });
  location.assign(`/${encodeURIComponent(tenant)}/oauth2/v2.0/authorize?${q}`);
}

function claimsOf(token: string): Record<string, unknown> {
  const part = token.split('.')[1] ?? '';
  const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
  return JSON.parse(decodeURIComponent(Array.from(json, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join(''))) as Record<string, unknown>;
}

export class SignInError extends Error {}

/**
 * Finishes a sign-in when the URL carries `code` and `state` (or an `error`), then cleans the URL.
 * Returns the new session, null when the URL carries no sign-in answer.
 */
export async function completeSignIn(): Promise<Session | null> {
  const params = new URLSearchParams(location.search);
  if (!params.has('code') && !params.has('error')) return null;
  history.replaceState(null, '', `/${location.hash}`);
  const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) ?? 'null') as
    | { tenant: string; verifier: string; state: string; clientId: string } | null;
  sessionStorage.removeItem(PENDING_KEY);
  if (params.has('error')) {
    throw new SignInError(`Sign-in did not finish: ${params.get('error_description') ?? params.get('error')}. Try again, or ask your administrator.`);
  }
  if (!pending || pending.state !== params.get('state')) {
    throw new SignInError('This sign-in answer does not belong to a sign-in started in this tab (the state does not match). Start the sign-in again.');
  }
  const res = await fetch(`/${encodeURIComponent(pending.tenant)}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code', client_id: pending.clientId, code: params.get('code') ?? '', redirect_uri: redirectUri(),
      code_verifier: pending.verifier, scope: GRAPH_SCOPE,
    }),
  });
  const body = (await res.json()) as TokenAnswer;
  if (!body.access_token) {
    throw new SignInError(`The sign-in code could not be exchanged for a token: ${body.error_description ?? body.error ?? res.status}. Start the sign-in again.`);
  }
  return storeSession(pending.tenant, pending.clientId, body);
}

interface TokenAnswer {
  access_token?: string;
  refresh_token?: string;
  expires_in?: number;
  error?: string;
  error_description?: string;
}

/**
 * A new access token from the stored refresh token when the current one has (nearly) expired; null when
 * there is none or the server refuses it (then the admin signs in again).
 */
export async function refreshSession(): Promise<Session | null> {
  const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null') as Session | null;
  if (!s?.refreshToken) return null;
  const res = await fetch(`/${encodeURIComponent(s.tenant)}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', client_id: s.clientId, refresh_token: s.refreshToken, scope: GRAPH_SCOPE }),
  }).catch(() => null);
  const body = res ? ((await res.json().catch(() => ({}))) as TokenAnswer) : {};
  if (!body.access_token) {
    signOut();
    return null;
  }
  return storeSession(s.tenant, s.clientId, body);
}

function storeSession(tenant: string, clientId: string, answer: TokenAnswer): Session {
  const accessToken = answer.access_token ?? '';
  const c = claimsOf(accessToken);
  const session: Session = {
    tenant,
    clientId,
    accessToken,
    ...(answer.refresh_token ? { refreshToken: answer.refresh_token } : {}),
    expiresAt: Date.now() + (answer.expires_in ?? 3600) * 1000,
    tenantId: String(c.tid ?? ''),
    userId: String(c.oid ?? ''),
    name: String(c.name ?? c.preferred_username ?? ''),
    upn: String(c.preferred_username ?? c.upn ?? ''),
  };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

export function currentSession(): Session | null {
  const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null') as Session | null;
  if (!s || s.expiresAt < Date.now() + 30_000) return null;
  return s;
}

export function signOut(): void {
  sessionStorage.removeItem(SESSION_KEY);
}
