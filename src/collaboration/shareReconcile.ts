// Reconciles a tenant's shared scope with its MTO_Sync_<targetTenantId> configurations, as the Microsoft 365
// admin center keeps them: one per other active tenant of the organization (Azure2Azure template, job,
// secrets with CompanyId and SyncAll false, the default deletion threshold, assignments = the scope), started.
// Idempotent: every step looks before it writes, so running it again, or after a crash halfway, converges.
// Configurations with any other name are never read or written.
import { AZURE2AZURE_TEMPLATE_ID, createAssignment, deleteAssignment, instantiateTemplate } from '../apps/index.js';
import { type Actor, resolveActor } from '../directory/access.js';
import type { Clock } from '../domain/clock.js';
import { applicationPermissions } from '../identity/permissions.js';
import { effectivePartnerSettings, ensurePartner, patchPartner } from '../policy/partners.js';
import { appRoleAssignmentsRepo } from '../store/repos/appRoleAssignments.js';
import { mtoRepo } from '../store/repos/mto.js';
import { servicePrincipalsRepo } from '../store/repos/servicePrincipals.js';
import { syncRepo } from '../store/repos/sync.js';
import { tenantsRepo } from '../store/repos/tenants.js';
import type { Db, Store } from '../store/store.js';
import { createJob, deleteSynchronizationOf, getSecrets, pauseJob, putSecrets, type SyncContext, startJob } from '../sync/index.js';
import { readScope, type SharedScope, writeScope } from './shareScope.js';

export interface ShareContext {
  store: Store;
  clock: Clock;
  /** Tells the sync scheduler these jobs have work now (the server's); without it they run on its next poll. */
  kick?: (tenantId: string, jobIds: readonly string[]) => void;
}

export const MTO_SYNC_PREFIX = 'MTO_Sync_';
export const configurationName = (targetTenantId: string) => `${MTO_SYNC_PREFIX}${targetTenantId}`;
// Entra's default accidental-deletion guard for a new configuration (docs/sync.md).
const DEFAULT_DELETE_THRESHOLD = 500;

/** Sharing acts as the tenant's own operator: an app holding every permission, as the CLI does. */
export function operatorActor(db: Db, tenantId: string): Promise<Actor> {
  return resolveActor(db, {
    tenantId, kind: 'app', appId: 'openmto-operator', roles: new Set(applicationPermissions), scopes: new Set(),
  } as Parameters<typeof resolveActor>[1]);
}

/** The other active tenants of the tenant's organization; none while it is in none, pending, or being removed. */
export async function sharingTargets(db: Db, tenantId: string): Promise<string[]> {
  const self = (await mtoRepo.memberships(db, tenantId)).find((m) => m.state === 'active');
  if (!self) return [];
  return (await mtoRepo.membersOf(db, self.mtoId)).filter((m) => m.state === 'active' && m.tenantId !== tenantId).map((m) => m.tenantId);
}

export interface ShareConfiguration {
  targetTenantId: string;
  servicePrincipalId: string;
  jobId: string | null;
  /** The job's schedule state: Active, Paused or Disabled. */
  state: string;
  /** The job's status code (NotRun, Active, Paused, Quarantine). */
  status: string | null;
}

/** The tenant's MTO_Sync_* configurations, by name (hand-made configurations are not listed). */
export async function shareConfigurations(db: Db, tenantId: string): Promise<ShareConfiguration[]> {
  const out: ShareConfiguration[] = [];
  for (const job of await syncRepo.jobsOfTenant(db, tenantId)) {
    const sp = await servicePrincipalsRepo.get(db, tenantId, job.spId);
    if (!sp?.displayName.startsWith(MTO_SYNC_PREFIX)) continue;
    out.push({
      targetTenantId: sp.displayName.slice(MTO_SYNC_PREFIX.length), servicePrincipalId: sp.id, jobId: job.id, state: job.scheduleState,
      status: String((job.status as { code?: string }).code ?? '') || null,
    });
  }
  return out;
}

async function ensureOutboundConsent(ctx: ShareContext, tenantId: string, targetTenantId: string): Promise<void> {
  // The one setting of the three the source owns; the target's two come from its MTO templates (docs/collaboration.md).
  if ((await effectivePartnerSettings(ctx.store.db, tenantId, targetTenantId)).automaticUserConsent.outboundAllowed) return;
  const at = ctx.clock.now().toISOString();
  await ctx.store.transaction(async (db) => {
    const { partner } = await ensurePartner(db, tenantId, targetTenantId, at);
    await patchPartner(db, tenantId, targetTenantId, {
      automaticUserConsentSettings: { inboundAllowed: partner.automaticUserConsentSettings.inboundAllowed, outboundAllowed: true },
    }, at);
  });
}

/** One target: the configuration exists, its secrets name the target, its assignments equal the scope. Returns whether it is new. */
async function ensureConfiguration(ctx: ShareContext, tenantId: string, actor: Actor, targetTenantId: string, scope: SharedScope) {
  const sync: SyncContext = { store: ctx.store, clock: ctx.clock, ...(ctx.kick ? { kick: ctx.kick } : {}) };
  const db = ctx.store.db;
  const name = configurationName(targetTenantId);
  let sp = (await servicePrincipalsRepo.byDisplayName(db, tenantId, name))[0];
  const created = !sp;
  if (!sp) {
    const made = await instantiateTemplate({ store: ctx.store, clock: ctx.clock, onDelete: deleteSynchronizationOf }, tenantId, actor, AZURE2AZURE_TEMPLATE_ID, { displayName: name });
    sp = (await servicePrincipalsRepo.get(db, tenantId, made.servicePrincipal.id as string))!;
  }
  const job = (await syncRepo.jobsOf(db, tenantId, sp.id))[0] ?? (await createJob(sync, tenantId, actor, sp.id, { templateId: 'Azure2Azure' }));
  if (!(await getSecrets(sync, tenantId, actor, sp.id)).some((s) => s.key.toLowerCase() === 'companyid')) {
    await putSecrets(sync, tenantId, actor, sp.id, { value: [
      { key: 'AuthenticationType', value: 'SyncPolicy' }, { key: 'CompanyId', value: targetTenantId }, { key: 'SyncAll', value: 'false' },
      { key: 'SyncNotificationSettings', value: JSON.stringify({ Enabled: false, DeleteThresholdEnabled: true, DeleteThresholdValue: DEFAULT_DELETE_THRESHOLD }) },
    ] });
  }
  const wanted = new Set([...scope.users, ...scope.groups]);
  // A scope holds at most 1,000 users and 1,000 groups (shareScope.ts), so one read covers every assignment.
  const have = await appRoleAssignmentsRepo.ofResource(db, tenantId, sp.id, '', 100_000);
  const apps = { store: ctx.store, clock: ctx.clock };
  for (const a of have) if (!wanted.has(a.principalId)) await deleteAssignment(apps, tenantId, actor, sp.id, a.id);
  const present = new Set(have.map((a) => a.principalId));
  for (const principalId of wanted) {
    if (!present.has(principalId)) await createAssignment(apps, tenantId, actor, sp.id, { principalId, resourceId: sp.id, appRoleId: sp.appRoles[0]?.id });
  }
  return { spId: sp.id, jobId: job.id, fresh: created || job.scheduleState === 'Disabled' };
}

/**
 * Brings the tenant's MTO_Sync_* configurations in line with its shared scope and its organization. A tenant that
 * never shared is left alone (Entra runs these jobs only once users are shared). Targets that are no longer active
 * tenants of the organization get their job paused (and nothing deleted in them); they are started again when the
 * target comes back. A job the admin paused by hand stays paused.
 */
async function reconcileTenant(ctx: ShareContext, tenantId: string): Promise<void> {
  const db = ctx.store.db;
  const scope = await readScope(db, tenantId);
  if (!scope) return;
  const actor = await operatorActor(db, tenantId);
  const sync: SyncContext = { store: ctx.store, clock: ctx.clock, ...(ctx.kick ? { kick: ctx.kick } : {}) };
  const targets = new Set(await sharingTargets(db, tenantId));
  const paused = new Set(scope.pausedTargets);
  for (const c of await shareConfigurations(db, tenantId)) {
    if (targets.has(c.targetTenantId) || !c.jobId || c.state !== 'Active') continue;
    await pauseJob(sync, tenantId, actor, c.servicePrincipalId, c.jobId);
    paused.add(c.targetTenantId);
  }
  for (const target of targets) {
    await ensureOutboundConsent(ctx, tenantId, target);
    const c = await ensureConfiguration(ctx, tenantId, actor, target, scope);
    if (c.fresh || paused.has(target)) await startJob(sync, tenantId, actor, c.spId, c.jobId);
    paused.delete(target);
  }
  const next = [...paused].sort();
  if (next.join() !== [...scope.pausedTargets].sort().join()) {
    await ctx.store.transaction(async (tx) => {
      const current = await readScope(tx, tenantId);
      if (current) await writeScope(tx, tenantId, { ...current, pausedTargets: next }, ctx.clock.now().toISOString());
    });
  }
}

// One reconciliation per tenant at a time in this process: two at once would both create MTO_Sync_<target>.
const running = new Map<string, Promise<void>>();

export function reconcileSharing(ctx: ShareContext, tenantId: string): Promise<void> {
  const prev = running.get(tenantId) ?? Promise.resolve();
  const next = prev.catch(() => {}).then(() => reconcileTenant(ctx, tenantId));
  const tracked = next.finally(() => {
    if (running.get(tenantId) === tracked) running.delete(tenantId);
  });
  running.set(tenantId, tracked);
  return next;
}

/**
 * After a join or removal committed: the tenant and every tenant of the organization it was in. One tenant's
 * failure does not stop the others; the first is rethrown at the end.
 */
export async function reconcileOrganizationSharing(ctx: ShareContext, tenantId: string, mtoId: string | null): Promise<void> {
  const tenants = new Set([tenantId]);
  if (mtoId) for (const m of await mtoRepo.membersOf(ctx.store.db, mtoId)) tenants.add(m.tenantId);
  let first: unknown;
  for (const t of tenants) await reconcileSharing(ctx, t).catch((e) => { first ??= e; });
  if (first) throw first;
}

/** Every tenant that shares, once (a worker's start): repairs what a crash between a transition and its reconciliation left. */
export async function reconcileAllSharing(ctx: ShareContext): Promise<void> {
  for (const t of await tenantsRepo.list(ctx.store.db)) {
    if (await readScope(ctx.store.db, t.id)) await reconcileSharing(ctx, t.id);
  }
}
