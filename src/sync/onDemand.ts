// Provision on demand (Graph's provisionOnDemand: one user now, whatever the job's schedule) and the dry
// run Entra lacks (what the first cycle would create, update and delete, writing nothing).
import type { Actor } from '../directory/access.js';
import { DomainError, errors } from '../domain/errors.js';
import { syncRepo } from '../store/repos/sync.js';
import { syncReads } from '../store/repos/syncReads.js';
import { noCounts, type Outcome, processSubjects } from './batch.js';
import { defaultEngineOptions, prepare } from './engine.js';
import { expand } from './logEntry.js';
import { CREDENTIALS_PREFIX } from './policyCheck.js';
import { requireSyncWrite, type SyncContext } from './jobs.js';
import { z } from 'zod';

const onDemandSchema = z.object({
  parameters: z.array(z.object({
    ruleId: z.string().max(256).nullable().optional(),
    subjects: z.array(z.object({ objectId: z.string().min(1).max(64), objectTypeName: z.string().max(32).nullable().optional() }).loose()).min(1).max(5),
  }).loose()).min(1).max(1),
});

const STATUS_KEY = 'Microsoft.Identity.Health.CPP.Common.DataContracts.SyncFabric.StatusInfo';

async function loadJob(ctx: SyncContext, tenantId: string, spId: string, jobId: string) {
  const job = await syncRepo.job(ctx.store.db, tenantId, jobId);
  if (!job || job.spId !== spId.toLowerCase()) throw new DomainError('notFound', 'Request_ResourceNotFound', `The synchronization job '${jobId}' does not exist on this service principal.`);
  return job;
}

/** POST …/jobs/{id}/provisionOnDemand: the subjects are evaluated and exported now, in one transaction. */
export async function provisionOnDemand(ctx: SyncContext, tenantId: string, actor: Actor, spId: string, jobId: string, body: unknown) {
  requireSyncWrite(actor);
  const r = onDemandSchema.safeParse(body);
  if (!r.success) throw errors.badRequest('The request must be {"parameters":[{"ruleId":"…","subjects":[{"objectId":"…","objectTypeName":"User"}]}]} with one to five subjects.');
  const subjects = r.data.parameters[0]!.subjects;
  const bad = subjects.find((s) => s.objectTypeName && s.objectTypeName.toLowerCase() !== 'user');
  if (bad) throw errors.badRequest(`On-demand provisioning of '${bad.objectTypeName}' objects is not supported by cross-tenant synchronization; only User.`);
  const job = await loadJob(ctx, tenantId, spId, jobId);
  const ids = subjects.map((s) => s.objectId.toLowerCase());
  const outcomes = await ctx.store.transaction(async (db) => {
    const prep = await prepare(db, job, { now: () => ctx.clock.now(), escrowRetryMs: defaultEngineOptions.escrowRetryMs, via: 'onDemand' });
    if (prep.error) throw new DomainError('badRequest', prep.error.code, `${CREDENTIALS_PREFIX} ${prep.error.message}`);
    // One user at a time is the admin's explicit act: no deletion threshold applies to it.
    prep.rc.holdDestructive = false;
    const found = await syncReads.users(db, tenantId, ids);
    for (const id of ids) if (!found.has(id)) throw errors.notFound(id);
    const external = ids.find((id) => !found.get(id)!.internal);
    if (external) throw errors.badRequest(`User '${external}' is a B2B user of this tenant; cross-tenant synchronization provisions internal members only.`);
    return processSubjects(db, prep.rc, ids, found, noCounts());
  });
  const o = outcomes[0]!;
  const detail = expand(tenantId, o.log!);
  const result = o.status === 'success' ? 'Success' : o.status === 'skipped' ? 'Skipped' : 'Failure';
  const err = (detail.provisioningStatusInfo as { errorInformation: { errorCode: string; reason: string } | null }).errorInformation;
  return {
    key: STATUS_KEY,
    value: JSON.stringify({
      result, details: err ? { errorCode: err.errorCode, errorMessage: err.reason } : {},
      action: o.action === 'other' ? 'Skip' : o.action[0]!.toUpperCase() + o.action.slice(1), changeId: detail.changeId, startTime: detail.activityDateTime,
      endTime: ctx.clock.now().toISOString(), modifiedProperties: detail.modifiedProperties, provisioningSteps: detail.provisioningSteps,
      reportableIdentifier: (outcomes[0]!.log ? JSON.parse(outcomes[0]!.log.data).s.upn : null), statusInfo: detail.provisioningStatusInfo,
      sourceIdentity: detail.sourceIdentity, sourceSystem: detail.sourceSystem, targetIdentity: detail.targetIdentity, targetSystem: detail.targetSystem,
      results: outcomes.map((x) => ({ sourceId: x.sourceId, action: x.action, status: x.status, targetId: x.targetId })),
    }),
  };
}

export interface DryRunReport {
  counts: Record<'create' | 'update' | 'delete' | 'disable' | 'skip' | 'failure', number>;
  /** Up to `limit` objects that would change or fail (skips are counted, not listed). */
  objects: { sourceId: string; userPrincipalName: string | null; action: string; status: string; reason: string | null; modifiedProperties: unknown }[];
  truncated: boolean;
}

/** What the job's first cycle would do now; reads only. Meant for a job not started yet, allowed on any. */
export async function dryRun(ctx: SyncContext, tenantId: string, actor: Actor, spId: string, jobId: string, limit = 1000): Promise<DryRunReport> {
  requireSyncWrite(actor);
  const job = await loadJob(ctx, tenantId, spId, jobId);
  const db = ctx.store.db;
  const prep = await prepare(db, job, { now: () => ctx.clock.now(), escrowRetryMs: defaultEngineOptions.escrowRetryMs, dryRun: true });
  if (prep.error) throw new DomainError('badRequest', prep.error.code, `${CREDENTIALS_PREFIX} ${prep.error.message}`);
  prep.rc.holdDestructive = false;
  const report: DryRunReport = { counts: { create: 0, update: 0, delete: 0, disable: 0, skip: 0, failure: 0 }, objects: [], truncated: false };
  for (let after = ''; ;) {
    const page = await syncReads.usersPage(db, tenantId, after, 500);
    if (!page.length) break;
    const outcomes: Outcome[] = await processSubjects(db, prep.rc, page.map((u) => u.id), new Map(page.map((u) => [u.id, u])), noCounts());
    for (const o of outcomes) {
      const key = o.status === 'failure' ? 'failure' : o.plan.action === 'skip' ? 'skip' : o.plan.action === 'stagedDelete' || o.plan.action === 'other' ? 'skip' : o.plan.action;
      report.counts[key] += 1;
      if (key === 'skip') continue;
      if (report.objects.length >= limit) {
        report.truncated = true;
        continue;
      }
      report.objects.push({
        sourceId: o.sourceId, userPrincipalName: JSON.parse(o.log!.data).s.upn, action: o.plan.action, status: o.status,
        reason: o.plan.reason?.message ?? null, modifiedProperties: o.plan.modified,
      });
    }
    after = page.at(-1)!.id;
  }
  return report;
}
