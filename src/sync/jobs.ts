// Synchronization use cases behind Graph's /servicePrincipals/{id}/synchronization: jobs (create, read,
// start, pause, restart, delete), their schema, the configuration's secrets and validateCredentials.
// Every mutation is one transaction; the scheduler is told afterwards (kick) so a started job runs at once.
import { randomUUID } from 'node:crypto';
import { type Actor, requireAppPermission } from '../directory/access.js';
import type { Clock } from '../domain/clock.js';
import { DomainError, errors } from '../domain/errors.js';
import { appAdminRoles } from '../identity/permissions.js';
import { documentsRepo } from '../store/repos/documents.js';
import { servicePrincipalsRepo } from '../store/repos/servicePrincipals.js';
import { syncRepo, type SyncJobRecord } from '../store/repos/sync.js';
import { workRepo } from '../store/repos/work.js';
import type { Db, Store } from '../store/store.js';
import { noCounts } from './batch.js';
import { SECRETS_KIND, SYNC_QUEUE } from './engine.js';
import {
  AZURE2AZURE, credentialsSchema, DEFAULT_INTERVAL, defaultJobSettings, initialStatus, interpretSecrets, parseRestart, secretsBodySchema,
  type SyncStatus,
} from './model.js';
import { CREDENTIALS_PREFIX, checkSyncPolicies } from './policyCheck.js';
import { compileSchema, defaultSchema } from './schema.js';

export interface SyncContext {
  store: Store;
  clock: Clock;
  /** Tells the scheduler these jobs may have work now. */
  kick?: (tenantId: string, jobIds: readonly string[]) => void;
}

const isAppAdmin = (actor: Actor) => actor.user?.roles.some((r) => appAdminRoles.has(r)) ?? false;

/** Reading configurations, jobs, schemas and secrets. */
export function requireSyncRead(actor: Actor): void {
  requireAppPermission(actor, 'Synchronization.Read.All', 'Application.Read.All', 'Directory.Read.All');
  if (actor.principal.kind === 'user' && !isAppAdmin(actor)) throw errors.denied();
}
/** Changing them (Entra: Hybrid Identity / Application / Cloud Application Administrator; apps Synchronization.ReadWrite.All). */
export function requireSyncWrite(actor: Actor): void {
  if (actor.principal.kind === 'app') requireAppPermission(actor, 'Synchronization.ReadWrite.All', 'Application.ReadWrite.All', 'Directory.ReadWrite.All');
  else if (!isAppAdmin(actor)) throw errors.denied();
}

const jobNotFound = (id: string) => new DomainError('notFound', 'Request_ResourceNotFound', `The synchronization job '${id}' does not exist on this service principal.`);

async function servicePrincipal(db: Db, tenantId: string, spId: string) {
  const sp = await servicePrincipalsRepo.get(db, tenantId, spId.toLowerCase());
  if (!sp) throw errors.notFound(spId);
  return sp;
}

async function jobOf(db: Db, tenantId: string, spId: string, jobId: string): Promise<SyncJobRecord> {
  const job = await syncRepo.job(db, tenantId, jobId);
  if (!job || job.spId !== spId.toLowerCase()) throw jobNotFound(jobId);
  return job;
}

/** A job as Graph's synchronizationJob. */
export function renderJob(j: SyncJobRecord): Record<string, unknown> {
  return {
    id: j.id, templateId: j.templateId,
    schedule: { expiration: null, interval: j.scheduleInterval, state: j.scheduleState },
    status: j.status, synchronizationJobSettings: j.settings,
  };
}

const queueRun = (db: Db, tenantId: string, jobId: string, at: string) =>
  workRepo.touch(db, tenantId, SYNC_QUEUE, { id: jobId, kind: 'cycle', ref: null, notBefore: at, createdAt: at });

const compact = () => randomUUID().replaceAll('-', '');

export async function createJob(ctx: SyncContext, tenantId: string, actor: Actor, spId: string, body: unknown): Promise<SyncJobRecord> {
  requireSyncWrite(actor);
  const templateId = (body && typeof body === 'object' && !Array.isArray(body) ? (body as { templateId?: unknown }).templateId : undefined);
  if (typeof templateId !== 'string' || !templateId) throw errors.badRequest("Property 'templateId' is required when creating the resource.");
  if (templateId.toLowerCase() !== AZURE2AZURE.toLowerCase()) {
    throw errors.badRequest(`The synchronization template '${templateId.slice(0, 64)}' is not available for this application; use '${AZURE2AZURE}'.`);
  }
  return ctx.store.transaction(async (db) => {
    const sp = await servicePrincipal(db, tenantId, spId);
    const job: SyncJobRecord = {
      tenantId, id: `${AZURE2AZURE}.${compact()}.${sp.id.replaceAll('-', '')}`, spId: sp.id, templateId: AZURE2AZURE, scheduleState: 'Disabled',
      scheduleInterval: DEFAULT_INTERVAL, status: initialStatus() as unknown as Record<string, unknown>, settings: defaultJobSettings(), schemaDoc: null,
      phase: 'initial', cursor: null, upTo: null, watermark: 0, cycle: null, createdAt: ctx.clock.now().toISOString(),
    };
    await syncRepo.insertJob(db, job);
    return job;
  });
}

export async function listJobs(ctx: SyncContext, tenantId: string, actor: Actor, spId: string): Promise<SyncJobRecord[]> {
  requireSyncRead(actor);
  await servicePrincipal(ctx.store.db, tenantId, spId);
  return syncRepo.jobsOf(ctx.store.db, tenantId, spId.toLowerCase());
}

export async function getJob(ctx: SyncContext, tenantId: string, actor: Actor, spId: string, jobId: string): Promise<SyncJobRecord> {
  requireSyncRead(actor);
  return jobOf(ctx.store.db, tenantId, spId, jobId);
}

/** Deleting a job stops it and deletes its state (held objects, queued work); its provisioning log stays. */
export async function deleteJob(ctx: SyncContext, tenantId: string, actor: Actor, spId: string, jobId: string): Promise<void> {
  requireSyncWrite(actor);
  await ctx.store.transaction(async (db) => {
    const job = await jobOf(db, tenantId, spId, jobId);
    await syncRepo.deleteJob(db, tenantId, job.id);
    await workRepo.remove(db, tenantId, SYNC_QUEUE, job.id);
  });
}

/** Removes every job of a deleted service principal and its secrets (the service principal's delete calls it). */
export async function deleteSynchronizationOf(db: Db, tenantId: string, spId: string): Promise<void> {
  for (const job of await syncRepo.jobsOf(db, tenantId, spId)) {
    await syncRepo.deleteJob(db, tenantId, job.id);
    await workRepo.remove(db, tenantId, SYNC_QUEUE, job.id);
  }
  await documentsRepo.remove(db, tenantId, SECRETS_KIND, spId);
}

async function mutateJob(ctx: SyncContext, tenantId: string, actor: Actor, spId: string, jobId: string, fn: (job: SyncJobRecord, db: Db) => Promise<void> | void) {
  requireSyncWrite(actor);
  const job = await ctx.store.transaction(async (db) => {
    const j = await jobOf(db, tenantId, spId, jobId);
    const locked = (await syncRepo.lockJob(db, tenantId, j.id, ctx.store.dialect === 'postgres'))!;
    await fn(locked, db);
    await syncRepo.updateJob(db, locked);
    // Queued in the same transaction, so the work survives a crash and any process (or the server, after a CLI change) picks it up.
    if (locked.scheduleState === 'Active') await queueRun(db, tenantId, locked.id, ctx.clock.now().toISOString());
    return locked;
  });
  if (job.scheduleState === 'Active') ctx.kick?.(tenantId, [job.id]);
  return job;
}

/** Start: resumes a paused job where it stopped; clears a quarantine. */
export function startJob(ctx: SyncContext, tenantId: string, actor: Actor, spId: string, jobId: string) {
  return mutateJob(ctx, tenantId, actor, spId, jobId, (job) => {
    const status = job.status as unknown as SyncStatus;
    job.scheduleState = 'Active';
    status.quarantine = null;
    status.code = status.lastExecution ? 'Active' : 'NotRun';
    job.status = status as unknown as Record<string, unknown>;
  });
}

/** Pause: keeps every bit of state; the running pass stops at its next batch. */
export function pauseJob(ctx: SyncContext, tenantId: string, actor: Actor, spId: string, jobId: string) {
  return mutateJob(ctx, tenantId, actor, spId, jobId, (job) => {
    job.scheduleState = 'Paused';
    (job.status as unknown as SyncStatus).code = 'Paused';
  });
}

export function restartJob(ctx: SyncContext, tenantId: string, actor: Actor, spId: string, jobId: string, body: unknown) {
  const r = parseRestart(body);
  return mutateJob(ctx, tenantId, actor, spId, jobId, async (job, db) => {
    const status = job.status as unknown as SyncStatus;
    if (r.escrows) await syncRepo.releaseAll(db, tenantId, job.id, 'escrow');
    if (r.quarantine) {
      status.quarantine = null;
      if (status.code === 'Quarantine') status.code = job.scheduleState === 'Active' ? (status.lastExecution ? 'Active' : 'NotRun') : 'Paused';
    }
    if (r.watermark) {
      // A new initial cycle: every source user is evaluated again; links (the target users' home links) are kept.
      job.phase = 'initial';
      job.cursor = null;
      job.upTo = null;
    }
    const now = ctx.clock.now().toISOString();
    job.cycle = { id: randomUUID(), began: now, counts: noCounts(), forceDeletes: r.forceDeletes, totalUnits: 0, completedUnits: 0 };
    job.status = status as unknown as Record<string, unknown>;
  });
}

// ---- schema ----

export async function getSchema(ctx: SyncContext, tenantId: string, actor: Actor, spId: string, jobId: string): Promise<Record<string, unknown>> {
  requireSyncRead(actor);
  const job = await jobOf(ctx.store.db, tenantId, spId, jobId);
  return { id: job.templateId, ...((job.schemaDoc as Record<string, unknown> | null) ?? defaultSchema()), directories: [] };
}

/** PUT schema: validated and compiled before it is kept; a change re-evaluates every user (a new initial cycle). */
export function putSchema(ctx: SyncContext, tenantId: string, actor: Actor, spId: string, jobId: string, body: unknown) {
  const { doc } = compileSchema(stripIds(body));
  return mutateJob(ctx, tenantId, actor, spId, jobId, (job) => {
    job.schemaDoc = doc;
    job.phase = 'initial';
    job.cursor = null;
    job.upTo = null;
  });
}

/** DELETE schema: back to the template's defaults, with the same full re-evaluation. */
export function resetSchema(ctx: SyncContext, tenantId: string, actor: Actor, spId: string, jobId: string) {
  return mutateJob(ctx, tenantId, actor, spId, jobId, (job) => {
    job.schemaDoc = null;
    job.phase = 'initial';
    job.cursor = null;
    job.upTo = null;
  });
}

function stripIds(body: unknown): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
  const { id: _id, '@odata.context': _c, directories: _d, ...rest } = body as Record<string, unknown>;
  return rest;
}

// ---- secrets and credentials ----

export async function putSecrets(ctx: SyncContext, tenantId: string, actor: Actor, spId: string, body: unknown): Promise<void> {
  requireSyncWrite(actor);
  const r = secretsBodySchema.safeParse(body);
  if (!r.success) throw errors.badRequest('The request body must be {"value":[{"key":"…","value":"…"}]}.');
  interpretSecrets(r.data.value);
  const jobs = await ctx.store.transaction(async (db) => {
    const sp = await servicePrincipal(db, tenantId, spId);
    const current = (await documentsRepo.get<{ value: { key: string; value: string }[] }>(db, tenantId, SECRETS_KIND, sp.id))?.value ?? [];
    // PUT replaces the keys it names and keeps the others (the portal saves them in parts).
    const merged = new Map(current.map((p) => [p.key.toLowerCase(), p]));
    for (const p of r.data.value) merged.set(p.key.toLowerCase(), { key: p.key, value: p.value ?? '' });
    const at = ctx.clock.now().toISOString();
    await documentsRepo.put(db, tenantId, SECRETS_KIND, sp.id, { value: [...merged.values()] }, at);
    const jobs = await syncRepo.jobsOf(db, tenantId, sp.id);
    for (const j of jobs) if (j.scheduleState === 'Active') await queueRun(db, tenantId, j.id, at);
    return jobs;
  });
  ctx.kick?.(tenantId, jobs.filter((j) => j.scheduleState === 'Active').map((j) => j.id));
}

export async function getSecrets(ctx: SyncContext, tenantId: string, actor: Actor, spId: string): Promise<{ key: string; value: string }[]> {
  requireSyncRead(actor);
  const sp = await servicePrincipal(ctx.store.db, tenantId, spId);
  return (await documentsRepo.get<{ value: { key: string; value: string }[] }>(ctx.store.db, tenantId, SECRETS_KIND, sp.id))?.value ?? [];
}

/**
 * validateCredentials ("Test connection"): 204 when the three cross-tenant access settings allow sync with the
 * target named by CompanyId (from the body, or the saved secrets with useSavedCredentials), else Entra's error.
 */
export async function validateCredentials(ctx: SyncContext, tenantId: string, actor: Actor, spId: string, body: unknown): Promise<void> {
  requireSyncWrite(actor);
  const parsed = (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
  const useSaved = parsed.useSavedCredentials === true;
  const creds = credentialsSchema.safeParse(parsed.credentials ?? []);
  if (!creds.success) throw errors.badRequest("Property 'credentials' must be a list of {key, value} pairs.");
  if (parsed.templateId !== undefined && parsed.templateId !== null && String(parsed.templateId).toLowerCase() !== AZURE2AZURE.toLowerCase()) {
    throw errors.badRequest(`The synchronization template '${String(parsed.templateId).slice(0, 64)}' is not available; use '${AZURE2AZURE}'.`);
  }
  const db = ctx.store.db;
  const sp = await servicePrincipal(db, tenantId, spId);
  const saved = (await documentsRepo.get<{ value: { key: string; value: string }[] }>(db, tenantId, SECRETS_KIND, sp.id))?.value ?? [];
  const secrets = interpretSecrets(useSaved ? saved : creds.data);
  const { error } = await checkSyncPolicies(db, tenantId, secrets.companyId);
  if (error) throw new DomainError('badRequest', error.code, `${CREDENTIALS_PREFIX} ${error.message}`);
}
