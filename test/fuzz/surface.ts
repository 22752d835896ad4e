// What the fuzz suite aims at and what it checks. The routes come from the app's own route table, so a
// resource added later is fuzzed without touching this file; `extraPaths` names paths that should be
// tried whether or not they exist yet (404 is a 4xx), and `bodyTemplates` gives realistic bodies to
// damage for the routes that take one. Add to either list; nothing else needs to change.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { changesRepo } from '../../src/store/repos/changes.js';
import type { TestServer } from '../helpers/harness.js';
import { tenantKeyOf } from '../../src/store/repos/tenantKeys.js';

/** Paths tried in addition to the route table (relative to /v1.0 and /beta). */
export const extraPaths = [
  '/servicePrincipals', '/servicePrincipals/:id', '/servicePrincipals/:id/synchronization/jobs',
  '/servicePrincipals/:id/synchronization/jobs/:jobId', '/servicePrincipals/:id/synchronization/jobs/:jobId/start',
  '/servicePrincipals/:id/synchronization/jobs/:jobId/schema', '/servicePrincipals/:id/synchronization/templates',
  '/servicePrincipals/:id/synchronization/secrets', '/applicationTemplates', '/applicationTemplates/:id/instantiate',
  '/auditLogs/provisioning', '/users/:id/manager', '/me', '/users/delta', '/groups/delta', '/$metadata', '/',
];

/** Realistic bodies by route URL suffix (longest match wins); the fuzzer damages them. */
export function bodyTemplates(domain: string): [suffix: string, body: Record<string, unknown>][] {
  return [
    ['/users', { accountEnabled: true, displayName: 'Fuzz', mailNickname: 'fuzz', userPrincipalName: `fuzz@${domain}`, passwordProfile: { password: 'Str0ng!Passw0rd' } }],
    ['/users/:id', { displayName: 'Renamed', jobTitle: 'x', otherMails: ['a@b.c'] }],
    ['/groups', { displayName: 'G', mailEnabled: false, mailNickname: 'g', securityEnabled: true }],
    ['/groups/:id', { description: 'd' }],
    ['/members/$ref', { '@odata.id': 'https://graph.microsoft.com/v1.0/directoryObjects/00000000-0000-0000-0000-000000000000' }],
    ['/invitations', { invitedUserEmailAddress: 'guest@example.com', inviteRedirectUrl: 'https://example.com/', sendInvitationMessage: false }],
    ['/$batch', { requests: [{ id: '1', method: 'GET', url: '/users?$top=1' }, { id: '2', method: 'GET', url: '/./$batch' }] }],
    ['/partners', { tenantId: '00000000-0000-0000-0000-000000000001' }],
    ['/identitySynchronization', { userSyncInbound: { isSyncAllowed: true } }],
    ['/multiTenantOrganization', { displayName: 'MTO', description: 'd' }],
    ['/multiTenantOrganization/tenants', { tenantId: '00000000-0000-0000-0000-000000000001' }],
    ['/joinRequest', { addedByTenantId: '00000000-0000-0000-0000-000000000001' }],
    ['/organization/:id', { marketingNotificationEmails: ['a@b.c'] }],
    ['/instantiate', { displayName: 'App' }],
    ['/appRoleAssignedTo', { principalId: '00000000-0000-0000-0000-000000000000', resourceId: '00000000-0000-0000-0000-000000000000', appRoleId: '00000000-0000-0000-0000-000000000000' }],
    ['/tenants', { displayName: 'T', domain: 'x.example' }],
    ['/synchronization/jobs', { templateId: 'Azure2Azure' }],
    ['/synchronization/secrets', { value: [{ key: 'CompanyId', value: '00000000-0000-0000-0000-000000000001' }, { key: 'AuthenticationType', value: 'SyncPolicy' }] }],
    ['/validateCredentials', { useSavedCredentials: false, templateId: 'Azure2Azure', credentials: [{ key: 'CompanyId', value: 'x' }] }],
    ['/schema/parseExpression', { expression: 'Join(" ", [givenName], IIF([surname]="x", "a", Mid([mail], 1, 3)))', testInputObject: { definition: null, properties: [{ key: 'givenName', value: 'Ann' }] } }],
    ['/provisionOnDemand', { parameters: [{ ruleId: 'x', subjects: [{ objectId: '00000000-0000-0000-0000-000000000000', objectTypeName: 'User' }] }] }],
    ['/schema', { synchronizationRules: [{ objectMappings: [{ sourceObjectName: 'User', targetObjectName: 'User', attributeMappings: [{ targetAttributeName: 'displayName', source: { expression: '[displayName]', type: 'Attribute', name: 'displayName', parameters: [] } }] }] }] }],
    ['/applications/:id', { displayName: 'Renamed app' }],
    ['/servicePrincipals/:id', { accountEnabled: true, notes: 'n' }],
  ];
}

export function templateFor(url: string, templates: [string, Record<string, unknown>][]): Record<string, unknown> {
  let best: [string, Record<string, unknown>] | undefined;
  for (const t of templates) if (url.endsWith(t[0]) && (!best || t[0].length > best[0].length)) best = t;
  return best?.[1] ?? {};
}

/** A Graph error: `{error:{code,message,innerError:{date,request-id,client-request-id}}}`, JSON. */
export function assertGraphShape(res: LightMyRequestResponse, what: string): void {
  assert.match(String(res.headers['content-type']), /^application\/json/, `${what}: content type of ${res.statusCode}`);
  const body = JSON.parse(res.payload) as { error?: Record<string, unknown> };
  const e = body.error;
  assert.ok(e && typeof e === 'object', `${what}: Graph error shape: ${res.payload.slice(0, 300)}`);
  assert.equal(typeof e.code, 'string', `${what}: code`);
  assert.equal(typeof e.message, 'string', `${what}: message`);
  const inner = e.innerError as Record<string, unknown> | undefined;
  assert.equal(typeof inner?.['request-id'], 'string', `${what}: innerError.request-id`);
  assert.equal(typeof inner?.date, 'string', `${what}: innerError.date`);
  assert.equal(res.headers['request-id'], inner?.['request-id'], `${what}: request-id header`);
}

/** An OAuth error: `{error, error_description, error_codes, trace_id, correlation_id}`, JSON. */
export function assertOAuthShape(res: LightMyRequestResponse, what: string): void {
  assert.match(String(res.headers['content-type']), /^application\/json/, `${what}: content type`);
  const body = JSON.parse(res.payload) as Record<string, unknown>;
  assert.equal(typeof body.error, 'string', `${what}: OAuth error shape: ${res.payload.slice(0, 300)}`);
  assert.match(String(body.error), /^[a-z_]+$/, `${what}: OAuth error code`);
  assert.equal(typeof body.error_description, 'string', `${what}: error_description`);
  assert.ok(Array.isArray(body.error_codes), `${what}: error_codes`);
  assert.equal(typeof body.trace_id, 'string', `${what}: trace_id`);
}

/** The answer of any request: never 5xx, and an error in the shape of its surface. */
export function assertClean(res: LightMyRequestResponse, what: string): void {
  assert.ok(res.statusCode < 500, `${what} → ${res.statusCode}: ${res.payload.slice(0, 500)}`);
  assert.ok(res.headers['request-id'], `${what}: request-id header`);
  if (res.statusCode < 400 || res.payload === '') return;
  // Classified by the path as the server saw it (dot segments resolved, as inject and browsers do).
  const path = new URL(what.split(' ')[1] ?? '/', 'http://x').pathname;
  // The authorize endpoint answers a person, not a client: its errors are HTML pages.
  if (/^\/[^/?]*\/oauth2\/v2\.0\/authorize$/.test(path) && String(res.headers['content-type']).startsWith('text/html')) return;
  if (/^\/[^/?]*\/oauth2\//.test(path)) assertOAuthShape(res, what);
  else if (String(res.headers['content-type']).startsWith('text/html')) return; // redemption pages
  else assertGraphShape(res, what);
}

/**
 * What a refused mutation must leave as it was: every user, group and document of the tenant, byte for
 * byte (a digest), and its change-log head.
 */
export async function snapshot(ts: TestServer, tenantId: string) {
  const db = ts.server.store.db;
  const hash = createHash('sha256');
  for (const table of ['users', 'groups'] as const) {
    const rows = await db.selectFrom(table).select(['id', 'data']).where('tenant_no', '=', tenantKeyOf(tenantId)).orderBy('id').execute();
    for (const r of rows) hash.update(`${table}\u0000${r.id}\u0000${r.data}\u0000`);
  }
  const docs = await db.selectFrom('tenant_documents').select(['kind', 'key', 'data']).where('tenant_id', '=', tenantId).orderBy('kind').orderBy('key').execute();
  for (const d of docs) hash.update(`doc\u0000${d.kind}\u0000${d.key}\u0000${d.data}\u0000`);
  return { digest: hash.digest('hex'), seq: await changesRepo.head(db, tenantId) };
}
