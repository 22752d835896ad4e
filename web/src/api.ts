// Every call the console makes goes through here: the signed-in admin's bearer token, JSON in and out,
// and failures turned into ApiError whose `advice` says what went wrong and what to do, in words.
import { currentSession, refreshSession, type Session } from './auth';

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, readonly detail: string) {
    super(detail);
  }
  get advice(): string {
    return explain(this.status, this.code, this.detail);
  }
}

/** Graph and Entra codes an admin meets, as sentences: the cause, then the fix. */
const ADVICE: Record<string, string> = {
  Authorization_RequestDenied: 'Your account lacks the administrator role this needs. Ask a Global Administrator of this tenant to do it or to give you the role.',
  InvalidAuthenticationToken: 'Your sign-in has expired or is no longer valid. Sign out and sign in again.',
  Request_ResourceNotFound: 'The object no longer exists; someone may have deleted it. Refresh the page.',
  Directory_ObjectNotFound: 'The object no longer exists; someone may have deleted it. Refresh the page.',
  AzureActiveDirectoryCrossTenantSyncPolicyCheckFailure:
    'The cross-tenant access settings do not allow this sync: the source must allow outbound automatic redemption for the target, and the target must allow inbound user sync from the source. Fix the partner policies (Sharing page) in both tenants, then start the job again.',
  AzureDirectoryB2BManagementPolicyCheckFailure:
    'The target tenant does not allow automatic redemption of invitations from this tenant. Ask the target admin to allow inbound automatic redemption for this tenant (Sharing page), then start the job again.',
  TooManyDeletes:
    'The job stopped because a cycle would delete more users than the accidental-deletion threshold allows. Check the provisioning logs; if the deletions are intended, use "Allow deletes", otherwise fix the scope.',
  EncounteredQuarantineException: 'The job failed repeatedly and is retried less often. Read the error, fix its cause, then restart the job.',
  TooManyRequests: 'Too many requests in a short time. Wait a few seconds and try again.',
  schemaInvalid: 'The attribute mappings are not valid. Correct the mapping named in the message.',
  BadRequest: 'The server refused the request as it was written.',
};

export function explain(status: number, code: string, detail: string): string {
  const advice = ADVICE[code] ?? (status === 403
    ? ADVICE.Authorization_RequestDenied
    : status === 401
      ? ADVICE.InvalidAuthenticationToken
      : status === 429
        ? ADVICE.TooManyRequests
        : status === 404
          ? 'The server does not know this object or feature. Refresh the page; if it persists, the server may be older than this console.'
          : status >= 500
            ? 'The server failed. Try again in a moment; if it persists, the server operator can find the request id in the log.'
            : '');
  const what = detail ? `${detail.replace(/\s+$/, '')}${/[.!?]$/.test(detail.trim()) ? '' : '.'}` : `The request failed (HTTP ${status}).`;
  return advice ? `${what} ${advice}` : what;
}

/** Set by the app: called when the token is missing or expired so it can show the sign-in form. */
export const authHooks: { onUnauthenticated: () => void } = { onUnauthenticated: () => {} };

let refreshing: Promise<Session | null> | null = null;

export async function call<T = unknown>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  // One refresh at a time: parallel calls of a page share it (refresh tokens are single use).
  let session = currentSession();
  if (!session) {
    refreshing ??= refreshSession().finally(() => {
      refreshing = null;
    });
    session = await refreshing;
  }
  if (!session) {
    authHooks.onUnauthenticated();
    throw new ApiError(401, 'InvalidAuthenticationToken', 'You are not signed in');
  }
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: {
        authorization: `Bearer ${session.accessToken}`,
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch {
    throw new ApiError(0, 'NetworkError', 'The server could not be reached. Check your connection and that the openmto server is running');
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string } | string; error_description?: string } | undefined) ?? {};
    const code = typeof e.error === 'object' ? e.error.code ?? '' : e.error ?? '';
    const message = typeof e.error === 'object' ? e.error.message ?? '' : e.error_description ?? '';
    if (res.status === 401) authHooks.onUnauthenticated();
    throw new ApiError(res.status, code, message);
  }
  return json as T;
}

export const graph = <T = unknown>(method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  call<T>(method, `/v1.0${path}`, body, headers);

export interface Collection<T> {
  value: T[];
  '@odata.nextLink'?: string;
}

/** Reads every page of a Graph collection (bounded: the console lists at most `max` items). */
export async function listAll<T>(path: string, max = 5000, headers?: Record<string, string>): Promise<T[]> {
  const out: T[] = [];
  let next: string | undefined = `/v1.0${path}`;
  while (next && out.length < max) {
    const url = new URL(next, location.origin);
    const page: Collection<T> = await call<Collection<T>>('GET', `${url.pathname}${url.search}`, undefined, headers);
    out.push(...page.value);
    next = page['@odata.nextLink'];
  }
  return out;
}

export const adviceOf = (e: unknown): string =>
  e instanceof ApiError ? e.advice : e instanceof Error ? e.message : String(e);
