// The first-party admin console client: a public client that exists in every tenant without registration
// and signs users in through the authorization-code flow with PKCE (identity/authorize.ts). Its only
// redirect URI is the console itself, at the origin the request came in on.
import type { AppRecord } from '../store/repos/apps.js';

/** Fixed for every tenant and server, so the console's front end can name it without asking. */
export const CONSOLE_CLIENT_ID = '3f6a9d2e-8c41-4b7a-9e05-6d1c2b8a4f70';

export const consoleRedirectUri = (origin: string) => `${origin}/`;

/** The console as an app of `tenantId`: public, no secret, no application permissions. */
export const consoleClient = (tenantId: string): AppRecord => ({
  tenantId, clientId: CONSOLE_CLIENT_ID, displayName: 'openmto admin console', secretHash: null, publicClient: true,
  permissions: [], createdDateTime: '1970-01-01T00:00:00Z',
});
