// Builders for cross-tenant sync scenarios: the policies on both sides, a configuration made the way
// Microsoft documents it (instantiate → validateCredentials → job → secrets → assign → start), and a
// way to wait until the engine has nothing left to do.
import assert from 'node:assert/strict';
import type { Client } from '@microsoft/microsoft-graph-client';
import { syncRepo } from '../../src/store/repos/sync.js';
import { graphClient, type TestServer, type TestTenant } from './harness.js';
import { userOfRow } from '../../src/store/repos/users.js';
import { tenantKeyOf } from '../../src/store/repos/tenantKeys.js';

export const AZURE2AZURE_TEMPLATE = '518e5f48-1fc8-4c48-9387-9fdf28b0dfe7';

/** The target's partner policy for the source: inbound sync and automatic redemption allowed (or not). */
export async function allowInbound(ts: TestServer, target: TestTenant, source: TestTenant, opts: { sync?: boolean; consent?: boolean } = {}) {
  const token = target.adminToken;
  const base = '/v1.0/policies/crossTenantAccessPolicy/partners';
  const existing = await ts.request('GET', `${base}/${source.tenantId}`, { token });
  if (existing.status === 404) assert.equal((await ts.request('POST', base, { token, body: { tenantId: source.tenantId } })).status, 201);
  if (opts.sync !== false) {
    const put = await ts.request('PUT', `${base}/${source.tenantId}/identitySynchronization`, { token, body: { displayName: source.displayName, userSyncInbound: { isSyncAllowed: true } } });
    assert.ok(put.status === 204 || put.status === 409, put.text);
  }
  if (opts.consent !== false) {
    const r = await ts.request('PATCH', `${base}/${source.tenantId}`, { token, body: { automaticUserConsentSettings: { inboundAllowed: true } } });
    assert.equal(r.status, 204, r.text);
  }
}

/** The source's partner policy for the target: automatic redemption outbound. */
export async function allowOutbound(ts: TestServer, source: TestTenant, target: TestTenant) {
  const token = source.adminToken;
  const base = '/v1.0/policies/crossTenantAccessPolicy/partners';
  const existing = await ts.request('GET', `${base}/${target.tenantId}`, { token });
  if (existing.status === 404) assert.equal((await ts.request('POST', base, { token, body: { tenantId: target.tenantId } })).status, 201);
  const r = await ts.request('PATCH', `${base}/${target.tenantId}`, { token, body: { automaticUserConsentSettings: { outboundAllowed: true } } });
  assert.equal(r.status, 204, r.text);
}

export interface SyncConfig {
  spId: string;
  jobId: string;
  base: string;
}

/** Instantiates the template, creates the job and saves its secrets through the Graph SDK (not started, nothing assigned). */
export async function configure(ts: TestServer, source: TestTenant, target: TestTenant, secrets: Record<string, string> = {}): Promise<SyncConfig> {
  const sdk = graphClient(ts, source.adminToken);
  const inst = await sdk.api(`/applicationTemplates/${AZURE2AZURE_TEMPLATE}/instantiate`).post({ displayName: `Sync to ${target.displayName}` });
  const spId = inst.servicePrincipal.id as string;
  const base = `/v1.0/servicePrincipals/${spId}/synchronization`;
  const job = await sdk.api(`/servicePrincipals/${spId}/synchronization/jobs`).post({ templateId: 'Azure2Azure' });
  const value = Object.entries({
    AuthenticationType: 'SyncPolicy', CompanyId: target.tenantId, SyncAll: 'false',
    SyncNotificationSettings: JSON.stringify({ Enabled: false, DeleteThresholdEnabled: false }), ...secrets,
  }).map(([key, v]) => ({ key, value: v }));
  await sdk.api(`/servicePrincipals/${spId}/synchronization/secrets`).put({ value });
  return { spId, jobId: job.id, base };
}

export async function assign(ts: TestServer, source: TestTenant, cfg: SyncConfig, principalId: string) {
  const sp = await ts.request('GET', `/v1.0/servicePrincipals/${cfg.spId}`, { token: source.adminToken });
  const r = await ts.request('POST', `/v1.0/servicePrincipals/${cfg.spId}/appRoleAssignedTo`, {
    token: source.adminToken, body: { principalId, resourceId: cfg.spId, appRoleId: sp.body.appRoles[0].id },
  });
  assert.equal(r.status, 201, r.text);
  return r.body.id as string;
}

export async function jobAction(ts: TestServer, source: TestTenant, cfg: SyncConfig, action: string, body?: unknown) {
  const r = await ts.request('POST', `${cfg.base}/jobs/${cfg.jobId}/${action}`, { token: source.adminToken, ...(body !== undefined ? { body } : {}) });
  assert.equal(r.status, 204, r.text);
}

const tick = () => new Promise((r) => setTimeout(r, 15));

/**
 * Waits until no sync work is due: drains until two empty passes with nothing behind, and on PostgreSQL also
 * a quiet spell, because commits and policy changes reach the scheduler there by NOTIFY, which a busy machine
 * delays by more than a few ticks.
 */
/**
 * Sync items a scheduler is running now (leased, lease not run out). The server's own loop claims the work a
 * commit queued; `drain()` then finds nothing due and `behind()` skips a job with a work item, so without this
 * a busy machine let `settle` return while that run was still going.
 */
async function running(ts: TestServer): Promise<number> {
  const now = ts.clock.now().toISOString(); // leases are stamped by the server's clock, which tests move
  const r = await ts.server.store.db.selectFrom('work_items').select((eb) => eb.fn.countAll<number>().as('n'))
    .where('queue', '=', 'sync').where('status', '=', 'running').where('not_before', '>', now).executeTakeFirst();
  return Number(r?.n ?? 0);
}

export async function settle(ts: TestServer): Promise<void> {
  const sync = ts.server.sync;
  assert.ok(sync, 'the test server runs the sync scheduler');
  const quietMs = ts.dialect === 'postgres' ? 200 : 0;
  let idle = 0;
  let busyAt = Date.now();
  for (let i = 0; i < 600 && (idle < 2 || Date.now() - busyAt < quietMs); i++) {
    await tick();
    if ((await sync.drain()) !== 0 || (await running(ts)) > 0) {
      idle = 0;
      busyAt = Date.now();
      continue;
    }
    // An active job behind its source (and not held by a quarantine) is not idle: queue it as the sweep would.
    let waiting = 0;
    for (const b of await syncRepo.behind(ts.server.store.db)) {
      const job = await syncRepo.job(ts.server.store.db, b.tenantId, b.id);
      if (!job || job.status.quarantine) continue;
      waiting += 1;
      await sync.kick(b.tenantId, [b.id]);
    }
    idle = waiting ? 0 : idle + 1;
    if (waiting) busyAt = Date.now();
  }
}

/** The target's users linked to a source tenant (live and deleted), as rows. */
export async function b2bUsersIn(ts: TestServer, target: TestTenant, sourceTenantId: string) {
  // The whole object comes from the row: `data` holds only what the columns don't (store/repos/userData.ts).
  const rows = await ts.server.store.db.selectFrom('users').selectAll()
    .where('tenant_no', '=', tenantKeyOf(target.tenantId)).where('home_tenant_id', '=', sourceTenantId).execute();
  return rows.map((r) => ({ id: r.id, homeUserId: r.home_user_id!, deleted: r.deleted_at !== null, user: userOfRow(r) as Record<string, unknown> }));
}

/** Both tenants' policies allowing sync, and a configuration from `source` to `target` (not started). */
export async function connectedPair(ts: TestServer, secrets: Record<string, string> = {}, beforePolicies?: (source: TestTenant, target: TestTenant) => Promise<void>) {
  const source = await ts.tenant('Source');
  const target = await ts.tenant('Target');
  await beforePolicies?.(source, target);
  await allowInbound(ts, target, source);
  await allowOutbound(ts, source, target);
  const cfg = await configure(ts, source, target, secrets);
  return { source, target, cfg, sdk: graphClient(ts, source.adminToken) };
}

/** The job's Graph path under the v1.0 root, for the SDK. */
export const jobPath = (cfg: SyncConfig, suffix = '') => `/servicePrincipals/${cfg.spId}/synchronization/jobs/${cfg.jobId}${suffix}`;

export async function unassign(ts: TestServer, source: TestTenant, cfg: SyncConfig, assignmentId: string) {
  const r = await ts.request('DELETE', `/v1.0/servicePrincipals/${cfg.spId}/appRoleAssignedTo/${assignmentId}`, { token: source.adminToken });
  assert.equal(r.status, 204, r.text);
}

/** A security group of `tenant` with these direct members. */
export async function securityGroup(sdk: Client, members: readonly string[] = []): Promise<string> {
  const g = await sdk.api('/groups').post({ displayName: `G ${Math.random().toString(36).slice(2, 8)}`, mailEnabled: false, mailNickname: `g${Date.now()}`, securityEnabled: true });
  for (const m of members) await addMember(sdk, g.id, m);
  return g.id as string;
}
export const addMember = (sdk: Client, groupId: string, userId: string) =>
  sdk.api(`/groups/${groupId}/members/$ref`).post({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${userId}` });
export const removeMember = (sdk: Client, groupId: string, userId: string) => sdk.api(`/groups/${groupId}/members/${userId}/$ref`).delete();

/** Live and deleted B2B users of `target` linked to `source`, keyed by their source (home) user id. */
export async function linkedByHome(ts: TestServer, target: TestTenant, sourceTenantId: string) {
  return new Map((await b2bUsersIn(ts, target, sourceTenantId)).map((u) => [u.homeUserId, u]));
}

/** The provisioning log of `tenant` (newest first), optionally filtered. */
// biome-ignore lint/suspicious/noExplicitAny: log entries are Graph JSON inspected freely
export async function provisioningLog(sdk: Client, filter?: string): Promise<Record<string, any>[]> {
  let req = sdk.api('/auditLogs/provisioning').top(999);
  if (filter) req = req.filter(filter);
  return (await req.get()).value;
}

export async function jobOf(sdk: Client, cfg: SyncConfig) {
  return sdk.api(jobPath(cfg)).get();
}
