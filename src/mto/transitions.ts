// The background worker that completes multi-tenant organization transitions (joins, removals, role
// changes). Entra takes 2–4 hours per join; we finish in well under a second after the commit that
// queued the work. Jobs are items of the shared work queue (store/repos/work.ts), so a restart loses nothing: a job claimed
// by a worker that died is picked up again once its lease runs out.
import { reconcileAllSharing, reconcileOrganizationSharing } from '../collaboration/index.js';
import type { Clock } from '../domain/clock.js';
import { isDomainError } from '../domain/errors.js';
import { decide, MAX_ACTIVE_TENANTS, type Member } from '../domain/mto.js';
import { getPartner, setInMultiTenantOrganization } from '../policy/partners.js';
import { mtoRepo, type TransitionJob } from '../store/repos/mto.js';
import type { Db, Store } from '../store/store.js';
import { type WorkLoop, startWorkLoop } from '../work/loop.js';
import { applyTemplatesTo } from './templates.js';

export interface TransitionOptions {
  /** Active-tenant cap checked at join; defaults to `transitionDefaults.maxActiveTenants`. */
  maxActiveTenants?: number;
  /** Poll interval in ms; wakes after commits make polling only the safety net. */
  pollMs?: number;
  onError?: (e: unknown) => void;
}

/** Module-wide defaults; tests lower `maxActiveTenants` to reach the cap with a handful of tenants. */
export const transitionDefaults = { maxActiveTenants: MAX_ACTIVE_TENANTS, pollMs: 200 };

interface WorkerContext {
  store: Store;
  clock: Clock;
}

// A claimed job is the claimer's for this long; a worker that dies mid-job delays it by at most this.
const LEASE_MS = 30_000;
// Unexpected failures (not a refused transition, which fails at once) are retried with a growing delay.
const MAX_ATTEMPTS = 3;
const RETRY_DELAY_MS = 1_000;
// What Entra shows for a failure it does not explain; our own refusals carry their reason instead.
const UNEXPECTED = 'DirectoryService Exception';

const counts = (members: Member[]) => {
  const active = members.filter((m) => m.state === 'active');
  return { activeTenants: active.length, activeOwners: active.filter((m) => m.role === 'owner').length };
};

async function markRunning(db: Db, job: TransitionJob): Promise<void> {
  const row = job.mtoId ? await mtoRepo.member(db, job.tenantId, job.mtoId) : undefined;
  if (row?.transition) await mtoRepo.updateMember(db, job.tenantId, { ...row, transition: { ...row.transition, status: 'running' } });
}

async function recordFailure(db: Db, job: TransitionJob, details: string): Promise<void> {
  const row = job.mtoId ? await mtoRepo.member(db, job.tenantId, job.mtoId) : undefined;
  if (row?.transition) await mtoRepo.updateMember(db, job.tenantId, { ...row, transition: { ...row.transition, status: 'failed', details } });
  // A failed join stays as the tenant's join request (GET joinRequest shows it until reset or retried).
  if (job.kind === 'join') await mtoRepo.finish(db, job.tenantId, job.id, 'failed', details);
  else await mtoRepo.deleteJob(db, job.tenantId, job.id);
}

async function applyJoin(db: Db, job: TransitionJob, at: string, max: number): Promise<void> {
  const addedBy = job.payload.addedByTenantId ?? '';
  const locked = job.mtoId !== null && (await mtoRepo.lockOrganization(db, job.mtoId));
  const members = locked ? await mtoRepo.membersOf(db, job.mtoId!) : [];
  const row = members.find((m) => m.tenantId === job.tenantId);
  const elsewhere = (await mtoRepo.memberships(db, job.tenantId)).some((m) => m.mtoId !== job.mtoId && m.state !== 'pending');
  const d = decide({
    op: 'join', target: row?.state ?? 'absent', actor: row?.state === 'active' ? row.role : 'nonMember',
    role: row?.transition?.desiredRole ?? 'member', addedByTenantId: addedBy,
    addedByIsOwner: row?.addedByTenantId === addedBy && members.some((m) => m.tenantId === addedBy && m.state === 'active' && m.role === 'owner'),
    joinerInOtherOrganization: elsewhere, maxActiveTenants: max, ...counts(members),
  });
  if (d.outcome === 'error') return recordFailure(db, job, d.error.message);
  if (d.outcome !== 'activate' || !row) throw new Error(`unexpected join decision ${d.outcome}`);
  await mtoRepo.updateMember(db, job.tenantId, { ...row, state: 'active', role: d.role, joinedDateTime: at, transition: null });
  for (const other of members.filter((m) => m.state === 'active' && m.tenantId !== job.tenantId)) {
    // The joiner's templates go to every partner; each partner's templates go to the joiner only.
    await applyTemplatesTo(db, job.tenantId, other.tenantId, at);
    await applyTemplatesTo(db, other.tenantId, job.tenantId, at);
    await setInMultiTenantOrganization(db, job.tenantId, other.tenantId, true, at);
    await setInMultiTenantOrganization(db, other.tenantId, job.tenantId, true, at);
  }
  await mtoRepo.deleteJoins(db, job.tenantId);
}

async function clearFlag(db: Db, tenantId: string, partnerTenantId: string, at: string): Promise<void> {
  // Only the flag changes: leaving reverts no other setting, and no partner policy is created for it.
  if (await getPartner(db, tenantId, partnerTenantId)) await setInMultiTenantOrganization(db, tenantId, partnerTenantId, false, at);
}

async function applyRemove(db: Db, job: TransitionJob, at: string): Promise<void> {
  await mtoRepo.deleteJob(db, job.tenantId, job.id);
  if (!job.mtoId || !(await mtoRepo.lockOrganization(db, job.mtoId))) return;
  await mtoRepo.deleteMember(db, job.tenantId, job.mtoId);
  const rest = await mtoRepo.membersOf(db, job.mtoId);
  for (const other of rest.filter((m) => m.state === 'active')) {
    await clearFlag(db, other.tenantId, job.tenantId, at);
    await clearFlag(db, job.tenantId, other.tenantId, at);
  }
  // The last active tenant left: the organization goes, with any tenants still pending in it.
  if (!rest.some((m) => m.state === 'active')) await mtoRepo.deleteOrganization(db, job.mtoId);
}

async function applyRoleChange(db: Db, job: TransitionJob): Promise<void> {
  const row = job.mtoId && (await mtoRepo.lockOrganization(db, job.mtoId)) ? await mtoRepo.member(db, job.tenantId, job.mtoId) : undefined;
  if (!row) return mtoRepo.deleteJob(db, job.tenantId, job.id);
  // Decided again under the lock: two owners demoting each other at once must not leave none.
  const d = decide({
    op: 'changeRole', target: row.state, actor: 'owner', targetRole: row.role, role: job.payload.role ?? 'member',
    ...counts(await mtoRepo.membersOf(db, row.mtoId)),
  });
  if (d.outcome === 'error') return recordFailure(db, job, d.error.message);
  await mtoRepo.updateMember(db, job.tenantId, { ...row, role: d.outcome === 'setRole' ? d.role : row.role, transition: null });
  await mtoRepo.deleteJob(db, job.tenantId, job.id);
}

async function runJob(ctx: WorkerContext, job: TransitionJob, max: number): Promise<void> {
  const at = ctx.clock.now().toISOString();
  try {
    await ctx.store.transaction(async (db) => {
      if (job.kind === 'join') await applyJoin(db, job, at, max);
      else if (job.kind === 'remove') await applyRemove(db, job, at);
      else await applyRoleChange(db, job);
    });
  } catch (e) {
    const details = isDomainError(e) ? e.message : UNEXPECTED;
    await ctx.store.transaction(async (db) => {
      if (job.attempts < MAX_ATTEMPTS) {
        const retryAt = new Date(ctx.clock.now().getTime() + RETRY_DELAY_MS * job.attempts).toISOString();
        await mtoRepo.retry(db, job.tenantId, job.id, retryAt, details);
      } else {
        await recordFailure(db, job, details);
      }
    });
    throw e;
  }
  // Share users follows a join or removal right after its commit, not inside it: reconciling writes a tenant's
  // MTO_Sync_* configurations, assignments and jobs (a few transactions per pair), while this transaction holds
  // the organization's lock and must stay small. It is idempotent; a crash in between is repaired when a
  // transition worker starts (reconcileAllSharing) or by the next scope edit.
  if (job.kind !== 'changeRole') await reconcileOrganizationSharing(ctx, job.tenantId, job.mtoId);
}

/** Claims and runs every due job, one transaction each; returns how many ran. Used by the worker and the CLI. */
export async function runDueTransitions(ctx: WorkerContext, options: TransitionOptions = {}): Promise<number> {
  const max = options.maxActiveTenants ?? transitionDefaults.maxActiveTenants;
  let ran = 0;
  for (;;) {
    const now = ctx.clock.now();
    const job = await ctx.store.transaction(async (db) => {
      const claimed = await mtoRepo.claim(db, now.toISOString(), new Date(now.getTime() + LEASE_MS).toISOString(), ctx.store.dialect === 'postgres');
      if (claimed) await markRunning(db, claimed);
      return claimed;
    });
    if (!job) return ran;
    ran += 1;
    // One job's failure is recorded on it and never stops the others.
    await runJob(ctx, job, max).catch((e) => options.onError?.(e));
  }
}

export type TransitionWorker = WorkLoop;

export function startTransitionWorker(ctx: WorkerContext, options: TransitionOptions = {}): TransitionWorker {
  reconcileAllSharing(ctx).catch((e) => options.onError?.(e));
  return startWorkLoop(() => runDueTransitions(ctx, options), {
    pollMs: options.pollMs ?? transitionDefaults.pollMs,
    ...(options.onError ? { onError: options.onError } : {}),
  });
}
