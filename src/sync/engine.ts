// Runs one sync job's work item: batches of source users through the pipeline, each batch one
// transaction that also advances the job's cursor and renews its lease, then the end of the run
// (escrow retries, the accidental-deletion guard, status, the next due time).
//
// Crash safety: a batch's exports, log entries and cursor commit together, so a process killed at any
// point resumes after the last committed batch (the lease runs out and any worker claims the job), and
// nothing is exported twice or skipped. A worker that lost its lease cannot commit: every batch first
// fences on the work item.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../domain/clock.js';
import { appRoleAssignmentsRepo } from '../store/repos/appRoleAssignments.js';
import { type ChangeRow, changeReader } from '../directory/changes.js';
import { documentsRepo } from '../store/repos/documents.js';
import { servicePrincipalsRepo } from '../store/repos/servicePrincipals.js';
import { syncRepo, type SyncJobRecord } from '../store/repos/sync.js';
import { syncReads } from '../store/repos/syncReads.js';
import { type WorkItem, workRepo } from '../store/repos/work.js';
import { type Db, inSavepoint, type Store } from '../store/store.js';
import { type Counts, noCounts, type Outcome, processSubjects, type RunContext } from './batch.js';
import { localConnector } from './connectors/local.js';
import type { ExportResult, TargetConnector } from './connectors/connector.js';
import { interpretSecrets, type Quarantine, type QuarantineReason, type SyncError, type SyncStatus, type TaskExecution } from './model.js';
import { checkSyncPolicies } from './policyCheck.js';
import { compiledSchemaOf } from './schema.js';

export const SYNC_QUEUE = 'sync';
export const SECRETS_KIND = 'synchronization.secrets';

export interface EngineOptions {
  /** Source users per batch transaction: large enough to amortize the per-batch reads, small enough to keep a lease fresh. */
  batchSize: number;
  /** Change-log sequence numbers per incremental batch. */
  changeBatchSize: number;
  /** A claimed job is its worker's this long after its last committed batch; a killed worker delays it at most this. */
  leaseMs: number;
  /** First retry of an escrowed object (doubling per attempt, capped at a day). Entra: 40 minutes. */
  escrowRetryMs: number;
  /** Quarantine retries after +6 h, +12 h, +24 h, then daily (Entra), as delays from the start of the quarantine. */
  quarantineBackoffMs: readonly number[];
  /** After this long in quarantine the job is disabled (Entra: 4 weeks). */
  quarantineGiveUpMs: number;
  /** Escrow thresholds (Entra): evaluated from `base` failures; quarantine past `proportion` of the run's objects or `total`. */
  escrow: { base: number; proportion: number; total: number };
}

export const defaultEngineOptions: EngineOptions = {
  batchSize: 2500,
  changeBatchSize: 2000,
  leaseMs: 15_000,
  escrowRetryMs: 40 * 60_000,
  quarantineBackoffMs: [6 * 3_600_000, 12 * 3_600_000, 24 * 3_600_000],
  quarantineGiveUpMs: 28 * 86_400_000,
  escrow: { base: 5000, proportion: 0.4, total: 40_000 },
};

export interface EngineContext {
  store: Store;
  clock: Clock;
  options: EngineOptions;
  /** This worker's identity in leases. */
  owner: string;
  /** True once the process is stopping: a run hands its job over at the next batch boundary. */
  stopping?: () => boolean;
}

class LeaseLost extends Error {
  constructor() {
    super('the job lease passed to another worker');
  }
}

interface CycleState {
  id: string;
  began: string;
  counts: Counts;
  forceDeletes: boolean;
  totalUnits: number;
  completedUnits: number;
}

export interface PreparedJob {
  rc: RunContext;
  error: null;
}

/** Everything a run needs that does not change during it: secrets, schema, assigned groups, the target connector. */
export async function prepare(db: Db, job: SyncJobRecord, opts: { now: () => Date; escrowRetryMs: number; via?: 'cycle' | 'onDemand'; dryRun?: boolean })
  : Promise<{ rc: RunContext; error: null } | { rc: null; error: SyncError }> {
  // Read first: a change committed after it (an assignment, say) may be missing from the view read below, so it waits for the next run.
  const horizon = await changeReader.head(db, job.tenantId);
  const sp = await servicePrincipalsRepo.get(db, job.tenantId, job.spId);
  const secretsDoc = await documentsRepo.get<{ value: { key: string; value: string }[] }>(db, job.tenantId, SECRETS_KIND, job.spId);
  const secrets = interpretSecrets(secretsDoc?.value ?? []);
  const { target, error } = await checkSyncPolicies(db, job.tenantId, secrets.companyId);
  if (error || !target) return { rc: null, error: error! };
  let schema: ReturnType<typeof compiledSchemaOf>;
  try {
    schema = compiledSchemaOf(job.schemaDoc);
  } catch (e) {
    return { rc: null, error: { code: 'SchemaInvalid', message: (e as Error).message, tenantActionable: true } };
  }
  const principals = secrets.syncAll ? [] : await appRoleAssignmentsRepo.principalsOf(db, job.tenantId, job.spId);
  const groupIds = principals.filter((p) => p.principalType === 'Group').map((p) => p.principalId);
  const assignedGroups = [...(await syncReads.securityGroups(db, job.tenantId, groupIds))];
  const connector: TargetConnector = localConnector(target);
  return {
    error: null,
    rc: {
      job, sourceTenantId: job.tenantId, spName: sp?.displayName ?? job.spId, secrets, schema, connector, assignedGroups,
      cycleId: randomUUID(), holdDestructive: secrets.deleteThresholdEnabled, escrowRetryMs: opts.escrowRetryMs, horizon,
      via: opts.via ?? 'cycle', dryRun: opts.dryRun ?? false, now: opts.now,
    },
  };
}

/** Source user ids a run of change-log rows touches: users themselves, members added to or removed from groups, members of groups whose assignment changed. */
async function affectedUsers(db: Db, tenantId: string, rows: readonly ChangeRow[], assignedGroups: readonly string[]): Promise<string[]> {
  const ids = new Set<string>();
  // A deleted group's members lost it too (its change rows name them); whether it was assigned can't be known
  // any more, so they are evaluated again.
  const groupIds = [...new Set(rows.filter((r) => r.objectType === 'group').map((r) => r.objectId))];
  const existing = new Set(groupIds.length ? await changeReader.groupIdsAmong(db, tenantId, groupIds) : []);
  for (const r of rows) {
    if (r.objectType === 'user') ids.add(r.objectId);
    else if (r.objectType === 'group' && r.props) {
      if (assignedGroups.includes(r.objectId) || !existing.has(r.objectId)) {
        for (const p of r.props) if (p.startsWith('members:')) ids.add(p.slice(9));
      }
      if (r.props.includes('appRoleAssignments')) {
        for (let after = ''; ;) {
          const page = await syncReads.userMembers(db, tenantId, r.objectId, after, 5000);
          for (const id of page) ids.add(id);
          if (page.length < 5000) break;
          after = page.at(-1)!;
        }
      }
    }
  }
  return [...ids];
}

/**
 * Users a statement of a batch reads or writes at most. A batch (batchSize users, one transaction) runs
 * its reads, plans and exports chunk by chunk: on SQLite every statement runs synchronously, and one that
 * loads 2,500 users' rows (plus parsing them) held the event loop ~100 ms, longer than the store's pacing
 * can split (it gives the loop a turn between statements, store/sqlite/pace.ts). People searches waiting
 * meanwhile saw 13× their idle p99 while a mesh re-read its sources (bench/ measurement 6). Between two
 * statements a chunk's planning and logging run in one stretch too (its provisioning-log entries are
 * deflated one by one, ~16 µs each): in the 10 × 1k mesh, chunks of 100 gave a search p99 of 19 ms during a
 * resync against 27.5 ms with 250, for 4,000 instead of 4,800 objects/s at convergence.
 */
const SUBJECT_CHUNK = 100;

/** Runs subjects through processSubjects in chunks of `batch`. */
async function processIds(db: Db, rc: RunContext, ids: readonly string[], counts: Counts, batch: number): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (let i = 0; i < ids.length; i += batch) {
    const chunk = ids.slice(i, i + batch);
    out.push(...(await processSubjects(db, rc, chunk, await syncReads.users(db, rc.sourceTenantId, chunk), counts)));
  }
  return out;
}

type StepResult = 'more' | 'done';

/** One batch of the job's current pass, in the caller's transaction. */
async function step(db: Db, ctx: EngineContext, rc: RunContext, job: SyncJobRecord, cycle: CycleState): Promise<StepResult> {
  const o = ctx.options;
  const source = job.tenantId;
  if (job.phase === 'initial') {
    if (job.upTo === null) {
      job.upTo = Math.min(await changeReader.head(db, source), rc.horizon);
      job.cursor = '';
    }
    // One transaction per batch, its statements per chunk (see SUBJECT_CHUNK).
    for (let taken = 0; taken < o.batchSize;) {
      const want = Math.min(SUBJECT_CHUNK, o.batchSize - taken);
      const page = await syncReads.usersPage(db, source, job.cursor ?? '', want);
      if (!page.length) {
        if (taken) return 'more';
        job.phase = 'incremental';
        job.watermark = job.upTo;
        job.cursor = null;
        job.upTo = null;
        return 'more';
      }
      await processSubjects(db, rc, page.map((u) => u.id), new Map(page.map((u) => [u.id, u])), cycle.counts);
      job.cursor = page.at(-1)!.id;
      cycle.completedUnits += page.length;
      taken += page.length;
      if (page.length < want) return 'more';
    }
    return 'more';
  }
  if (job.upTo === null) {
    // History pruned past the watermark (a job paused longer than the change log's retention): read everything again.
    if (job.watermark < (await changeReader.floor(db, source))) {
      job.phase = 'initial';
      job.cursor = null;
      return 'more';
    }
    const head = Math.min(await changeReader.head(db, source), rc.horizon);
    if (head <= job.watermark) return 'done';
    job.upTo = head;
    job.cursor = String(job.watermark);
  }
  // Sequences are dense within a tenant, so a batch is a range of them (rows of B2B users are left out by the read).
  const from = Number(job.cursor);
  if (from >= job.upTo) {
    job.watermark = job.upTo;
    job.cursor = null;
    job.upTo = null;
    return 'more';
  }
  const end = Math.min(job.upTo, from + o.changeBatchSize);
  const rows = await changeReader.internalRows(db, source, from, end);
  await processIds(db, rc, await affectedUsers(db, source, rows, rc.assignedGroups), cycle.counts, Math.min(SUBJECT_CHUNK, o.batchSize));
  job.cursor = String(end);
  cycle.completedUnits += end - from;
  return 'more';
}

export interface RunReport {
  counts: Counts;
  quarantined: QuarantineReason | null;
}

const leaseUntil = (ctx: EngineContext) => new Date(ctx.clock.now().getTime() + ctx.options.leaseMs).toISOString();

/** A transaction fenced on the work item: it commits only while this worker still holds the lease. */
async function fenced<T>(ctx: EngineContext, item: WorkItem, fn: (db: Db, job: () => Promise<SyncJobRecord | undefined>) => Promise<T>): Promise<T> {
  // Alone, not in a group commit: a batch writes hundreds of objects, which a group's savepoint would copy.
  return ctx.store.transaction(async (db) => {
    // Lock order on PostgreSQL: the job row, then its work item. Admin actions and policy changes lock the
    // job and then touch the item; fencing the item first took the two in the other order and deadlocked.
    // The row locked here is the one the body reads (`job()`), so a batch reads its job once. On SQLite the
    // one writer already serializes, and bodies that never look at the job don't read it.
    const pg = ctx.store.dialect === 'postgres';
    const locked = pg ? await syncRepo.lockJob(db, item.tenantId, item.id, true) : undefined;
    if (!(await workRepo.fence(db, item, ctx.owner, leaseUntil(ctx)))) throw new LeaseLost();
    return fn(db, async () => (pg ? locked : syncRepo.lockJob(db, item.tenantId, item.id, false)));
  }, { group: false });
}

const isActive = (j: SyncJobRecord | undefined): j is SyncJobRecord => j?.scheduleState === 'Active';

function quarantineOf(status: SyncStatus, reason: QuarantineReason, error: SyncError | null, now: Date, o: EngineOptions, waitForAdmin: boolean): Quarantine {
  const prior = status.quarantine;
  const seriesBegan = prior?.seriesBegan ?? now.toISOString();
  const seriesCount = (prior?.seriesCount ?? 0) + 1;
  const delay = o.quarantineBackoffMs[Math.min(seriesCount - 1, o.quarantineBackoffMs.length - 1)] ?? 86_400_000;
  return {
    currentBegan: prior?.reason === reason ? prior.currentBegan : now.toISOString(), seriesBegan, seriesCount, reason, error,
    nextAttempt: waitForAdmin ? null : new Date(now.getTime() + delay).toISOString(),
  };
}

function execution(cycle: CycleState, now: string, error: SyncError | null): TaskExecution {
  const c = cycle.counts;
  return {
    activityIdentifier: cycle.id, countEntitled: c.entitled, countEntitledForProvisioning: c.entitled, countEscrowed: c.escrowed,
    countEscrowedRaw: c.escrowed, countExported: c.exported, countExports: c.exported, countImported: c.imported, countImportedDeltas: c.imported,
    countImportedReferenceDeltas: 0, error, state: error ? 'Failed' : c.escrowed ? 'EntryLevelErrors' : 'Succeeded', timeBegan: cycle.began, timeEnded: now,
  };
}

/** Runs a claimed sync work item to the end of its pass; returns what it did (tests and metrics read it). */
export async function runSyncItem(ctx: EngineContext, item: WorkItem): Promise<RunReport> {
  const { store, clock, options: o } = ctx;
  const nowIso = () => clock.now().toISOString();
  const report: RunReport = { counts: noCounts(), quarantined: null };
  const job0 = await syncRepo.job(store.db, item.tenantId, item.id);
  if (!isActive(job0)) {
    await store.transaction((db) => workRepo.remove(db, item.tenantId, SYNC_QUEUE, item.id));
    return report;
  }
  const q = job0.status.quarantine as Quarantine | null;
  if (q && (q.nextAttempt === null || q.nextAttempt > nowIso())) {
    await store.transaction(async (db) => {
      if (q.nextAttempt) await workRepo.release(db, item, ctx.owner, { at: q.nextAttempt }, nowIso());
      else await workRepo.remove(db, item.tenantId, SYNC_QUEUE, item.id);
    });
    return report;
  }
  const prep = await prepare(store.db, job0, { now: () => clock.now(), escrowRetryMs: o.escrowRetryMs });
  if (prep.error) {
    // Most often a cross-tenant policy the target switched off: nothing is exported, nothing deleted, retried with back-off.
    await fenced(ctx, item, async (db, lockedJob) => {
      const job = await lockedJob();
      if (!isActive(job)) return;
      const status = job.status as unknown as SyncStatus;
      const now = clock.now();
      const giveUp = status.quarantine && now.getTime() - Date.parse(status.quarantine.seriesBegan) > o.quarantineGiveUpMs;
      status.quarantine = quarantineOf(status, 'EncounteredQuarantineException', prep.error, now, o, false);
      status.code = 'Quarantine';
      status.countSuccessiveCompleteFailures += 1;
      const began = job.cycle ? (job.cycle as unknown as CycleState).began : now.toISOString();
      status.lastExecution = execution({ id: randomUUID(), began, counts: noCounts(), forceDeletes: false, totalUnits: 0, completedUnits: 0 }, now.toISOString(), prep.error);
      if (giveUp) job.scheduleState = 'Disabled';
      job.status = status as unknown as Record<string, unknown>;
      await syncRepo.updateJob(db, job);
      await workRepo.release(db, item, ctx.owner, giveUp ? null : { at: status.quarantine.nextAttempt! }, now.toISOString());
      report.quarantined = 'EncounteredQuarantineException';
    });
    return report;
  }
  const rc = prep.rc;
  let cycle: CycleState | null = null;
  let schemaKey = JSON.stringify(job0.schemaDoc ?? null);
  for (;;) {
    if (ctx.stopping?.()) {
      // Shutting down: the job goes back to the queue now, not when the lease runs out, and resumes after its last batch.
      await store.transaction((db) => workRepo.handOver(db, item, ctx.owner, nowIso()));
      return report;
    }
    let result: StepResult;
    const run = (isolate: boolean) => fenced(ctx, item, async (db, lockedJob) => {
      const job = await lockedJob();
      if (!isActive(job)) return 'done' as const;
      // A schema saved during the run restarted the pass (putSchema); the pass must use that schema, not the one prepared.
      const key = JSON.stringify(job.schemaDoc ?? null);
      if (key !== schemaKey) {
        rc.schema = compiledSchemaOf(job.schemaDoc);
        schemaKey = key;
      }
      cycle = (job.cycle as unknown as CycleState | null) ?? {
        id: rc.cycleId, began: nowIso(), counts: noCounts(), forceDeletes: false, totalUnits: 0, completedUnits: 0,
      };
      rc.job = job;
      rc.cycleId = cycle.id;
      const before = { ...cycle.counts };
      const r = isolate ? await isolatedStep(db, ctx, rc, job, cycle) : await step(db, ctx, rc, job, cycle);
      for (const k of Object.keys(before) as (keyof Counts)[]) report.counts[k] += cycle.counts[k] - before[k];
      job.cycle = cycle as unknown as Record<string, unknown>;
      const status = job.status as unknown as SyncStatus;
      status.progress = job.phase === 'initial' ? [{ completedUnits: cycle.completedUnits, totalUnits: Math.max(cycle.totalUnits, cycle.completedUnits), units: 'Users', progressObservationDateTime: nowIso() }] : [];
      await syncRepo.updateJob(db, job);
      return r;
    });
    try {
      result = await run(false);
    } catch (e) {
      if (e instanceof LeaseLost) return report;
      // A batch that fails as a whole is run again object by object, so one bad object can't stop the others.
      result = await run(true);
    }
    if (result === 'done') break;
  }
  await finish(ctx, item, rc, report);
  return report;
}

/** The same batch with every object in its own savepoint: failures are escrowed, the rest commits. */
async function isolatedStep(db: Db, ctx: EngineContext, rc: RunContext, job: SyncJobRecord, cycle: CycleState): Promise<StepResult> {
  const original = rc.connector;
  rc.connector = {
    ...original,
    lookup: original.lookup.bind(original),
    async export(d, sourceTenantId, items, now) {
      const out = new Map<string, ExportResult>();
      for (const it of items) {
        try {
          for (const [k, v] of await inSavepoint(d, () => original.export(d, sourceTenantId, [it], now))) out.set(k, v);
        } catch (e) {
          out.set(it.sourceId, { ok: false, code: 'ExportFailed', message: `The target refused the write: ${(e as Error).message.slice(0, 300)}` });
        }
      }
      return out;
    },
  };
  try {
    return await step(db, ctx, rc, job, cycle);
  } finally {
    rc.connector = original;
  }
}

/** Pages through held objects of one state, re-evaluating them (deletes allowed when `execute`). */
async function reevaluateHeld(ctx: EngineContext, item: WorkItem, rc: RunContext, state: 'escrow' | 'staged', dueBy: string | null, execute: boolean, report: RunReport) {
  let after = '';
  for (;;) {
    const done = await fenced(ctx, item, async (db) => {
      const ids = await syncRepo.heldIds(db, rc.sourceTenantId, rc.job.id, state, dueBy, after, ctx.options.batchSize);
      if (!ids.length) return true;
      const hold = rc.holdDestructive;
      rc.holdDestructive = !execute && hold;
      try {
        await processIds(db, rc, ids, report.counts, ctx.options.batchSize);
      } finally {
        rc.holdDestructive = hold;
      }
      if (execute && state === 'staged') await syncRepo.release(db, rc.sourceTenantId, rc.job.id, ids);
      after = ids.at(-1)!;
      return ids.length < ctx.options.batchSize;
    });
    if (done) return;
  }
}

/** Logs each staged object as held (stagedDelete) for the admin to review before allowing deletes. */
async function logStaged(ctx: EngineContext, item: WorkItem, rc: RunContext) {
  let after = '';
  for (;;) {
    const done = await fenced(ctx, item, async (db) => {
      const ids = await syncRepo.heldIds(db, rc.sourceTenantId, rc.job.id, 'staged', null, after, ctx.options.batchSize);
      if (!ids.length) return true;
      const preview = { ...rc, dryRun: true, holdDestructive: false };
      const outcomes = await processSubjects(db, preview, ids, await syncReads.users(db, rc.sourceTenantId, ids), noCounts());
      await syncRepo.log(db, rc.sourceTenantId, outcomes.filter((x) => x.log && x.plan.destructive).map((x) => {
        const d = JSON.parse(x.log!.data);
        d.e = { code: 'TooManyDeletes', message: 'Held by the accidental-deletion threshold: allow deletes (restart with ForceDeletes) to apply it.', failure: false };
        return { ...x.log!, action: 'stagedDelete', status: 'skipped', data: JSON.stringify(d) };
      }));
      after = ids.at(-1)!;
      return ids.length < ctx.options.batchSize;
    });
    if (done) return;
  }
}

async function finish(ctx: EngineContext, item: WorkItem, rc: RunContext, report: RunReport): Promise<void> {
  const { store, clock, options: o } = ctx;
  const now = () => clock.now();
  // Escrowed objects whose retry is due are evaluated again (a success releases them).
  await reevaluateHeld(ctx, item, rc, 'escrow', now().toISOString(), false, report);
  const job = (await syncRepo.job(store.db, item.tenantId, item.id))!;
  const cycle = (job.cycle as unknown as CycleState | null) ?? { id: rc.cycleId, began: now().toISOString(), counts: noCounts(), forceDeletes: false, totalUnits: 0, completedUnits: 0 };
  const staged = await syncRepo.heldCount(store.db, item.tenantId, item.id, 'staged');
  let quarantine: { reason: QuarantineReason; error: SyncError } | null = null;
  if (staged > 0) {
    const threshold = rc.secrets.deleteThresholdValue;
    if (cycle.forceDeletes || !rc.secrets.deleteThresholdEnabled || staged <= threshold) {
      await reevaluateHeld(ctx, item, rc, 'staged', null, true, report);
    } else {
      await logStaged(ctx, item, rc);
      quarantine = { reason: 'TooManyDeletes', error: {
        code: 'TooManyDeletes', tenantActionable: true,
        message: `This run would delete or disable ${staged} users, more than the accidental-deletion threshold of ${threshold}. Nothing was deleted. `
          + 'Review the provisioning log (action stagedDelete), then allow deletes (restart with resetScope ForceDeletes) or fix the scope and restart.',
      } };
    }
  }
  const c = report.counts;
  if (!quarantine && c.escrowed >= o.escrow.base) {
    const total = c.imported || 1;
    if (c.escrowed > o.escrow.total) quarantine = { reason: 'EncounteredTotalEscrowThreshold', error: { code: 'EncounteredTotalEscrowThreshold', message: `${c.escrowed} objects failed in one run.`, tenantActionable: true } };
    else if (c.escrowed / total > o.escrow.proportion) quarantine = { reason: 'EncounteredEscrowProportionThreshold', error: { code: 'EncounteredEscrowProportionThreshold', message: `${c.escrowed} of ${total} objects failed in one run.`, tenantActionable: true } };
  }
  await fenced(ctx, item, async (db, lockedJob) => {
    const j = await lockedJob();
    if (!j) return;
    const status = j.status as unknown as SyncStatus;
    const at = now();
    const exec = execution({ ...cycle, counts: report.counts }, at.toISOString(), null);
    status.lastExecution = exec;
    status.progress = [];
    if (quarantine) {
      status.quarantine = quarantineOf(status, quarantine.reason, quarantine.error, at, o, quarantine.reason === 'TooManyDeletes');
      status.code = 'Quarantine';
      report.quarantined = quarantine.reason;
    } else {
      status.quarantine = null;
      status.code = j.scheduleState === 'Active' ? 'Active' : 'Paused';
      status.countSuccessiveCompleteFailures = 0;
      status.lastSuccessfulExecution = exec;
      if (exec.countExported > 0) status.lastSuccessfulExecutionWithExports = exec;
      if (j.phase === 'incremental') {
        if (status.steadyStateFirstAchievedTime.startsWith('0001')) status.steadyStateFirstAchievedTime = at.toISOString();
        status.steadyStateLastAchievedTime = at.toISOString();
      }
    }
    const synced = status.synchronizedEntryCountByType.find((e) => e.key === 'user to user');
    const n = Math.max(0, (synced?.value ?? 0) + report.counts.created - report.counts.deleted);
    status.synchronizedEntryCountByType = [{ key: 'user to user', value: n }];
    j.status = status as unknown as Record<string, unknown>;
    j.cycle = null;
    await syncRepo.updateJob(db, j);
    let next: string | null = status.quarantine?.nextAttempt ?? null;
    if (!status.quarantine) next = await syncRepo.nextEscrowAttempt(db, item.tenantId, item.id);
    if (!status.quarantine && intervalMode(j)) {
      const due = new Date(at.getTime() + intervalMs(j.scheduleInterval)).toISOString();
      next = next && next < due ? next : due;
    }
    if (status.quarantine && !status.quarantine.nextAttempt) {
      await workRepo.remove(db, item.tenantId, SYNC_QUEUE, item.id);
      return;
    }
    await workRepo.release(db, item, ctx.owner, next ? { at: next } : null, at.toISOString());
  });
}

/** Jobs run when their source changes; a job with the setting `openmto.Schedule` = `Interval` runs on its interval instead. */
export const intervalMode = (j: SyncJobRecord) => j.settings.some((s) => s.name === 'openmto.Schedule' && s.value.toLowerCase() === 'interval');

/** ISO-8601 durations of the form PnDTnHnMnS. */
export function intervalMs(iso: string): number {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(iso);
  if (!m) return 40 * 60_000;
  const [, d, h, min, s] = m;
  return ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(min ?? 0)) * 60_000 + Number(s ?? 0) * 1000;
}
