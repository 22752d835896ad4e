// One batch of source users through scoping, matching, planning and export, inside the caller's
// transaction. Every object yields one outcome and one provisioning log entry; a failing object is
// escrowed and retried later while the batch goes on (the caller re-runs a batch object by object when
// the batch as a whole fails, see engine.ts).
import { appRoleAssignmentsRepo } from '../store/repos/appRoleAssignments.js';
import { type LogRow, syncRepo, type SyncJobRecord } from '../store/repos/sync.js';
import { type SourceUser, syncReads } from '../store/repos/syncReads.js';
import type { Db } from '../store/store.js';
import type { ExportItem, TargetConnector } from './connectors/connector.js';
import { logRow } from './logEntry.js';
import type { ProvisioningAction, ProvisioningResult, SyncSecrets } from './model.js';
import { type Entitlement, type Plan, plan, type TargetUser } from './plan.js';
import { type CompiledSchema, sourceReader } from './schema.js';
import { evaluateScope } from './scoping/index.js';

export interface RunContext {
  job: SyncJobRecord;
  sourceTenantId: string;
  spName: string;
  secrets: SyncSecrets;
  schema: CompiledSchema;
  connector: TargetConnector;
  /** Security groups assigned to the configuration (read once per run). */
  assignedGroups: readonly string[];
  cycleId: string;
  /** Deletes and disables are staged, not executed, until the run knows they stay under the threshold. */
  holdDestructive: boolean;
  escrowRetryMs: number;
  /** The source's change-log head before this run read its view (assignments, secrets): no window reaches past it. */
  horizon: number;
  via: 'cycle' | 'onDemand';
  /** Plan only: write nothing (dry run, on-demand preview). */
  dryRun: boolean;
  now(): Date;
}

export interface Counts {
  imported: number;
  entitled: number;
  exported: number;
  escrowed: number;
  staged: number;
  skipped: number;
  created: number;
  deleted: number;
}
export const noCounts = (): Counts => ({ imported: 0, entitled: 0, exported: 0, escrowed: 0, staged: 0, skipped: 0, created: 0, deleted: 0 });

export interface Outcome {
  sourceId: string;
  plan: Plan;
  entitlement: Entitlement;
  status: ProvisioningResult;
  action: ProvisioningAction;
  targetId: string | null;
  /** The log entry written (absent for objects not provisioned by this engine: B2B users of the source). */
  log?: LogRow;
}

/** Entitlement of each source user: active, assigned (SyncAll, directly, or through an assigned security group), in scope. */
async function entitlements(db: Db, rc: RunContext, subjects: readonly { id: string; src: SourceUser | undefined }[]): Promise<Map<string, Entitlement>> {
  const ids = subjects.filter((s) => s.src && !s.src.deleted).map((s) => s.id);
  let assigned = new Set<string>();
  if (!rc.secrets.syncAll && ids.length) {
    assigned = await appRoleAssignmentsRepo.ofPrincipals(db, rc.sourceTenantId, rc.job.spId, ids);
    const viaGroups = await syncReads.memberships(db, rc.sourceTenantId, ids.filter((id) => !assigned.has(id)), rc.assignedGroups);
    for (const id of viaGroups) assigned.add(id);
  }
  const out = new Map<string, Entitlement>();
  for (const s of subjects) {
    const active = Boolean(s.src && !s.src.deleted);
    // Only internal members are provisioned (internal guests are not, as Entra's FAQ says); a member who
    // becomes a guest leaves the scope like any other user who stops passing it.
    const member = active && s.src!.record.user.userType === 'Member';
    const scope = !active ? { inScope: false, results: {} } : !member ? { inScope: false, results: { 'userType EQUALS Member': false } }
      : evaluateScope(rc.schema.scope, sourceReader(s.src!.record.user as Record<string, unknown>, false));
    out.set(s.id, { active, assigned: active && (rc.secrets.syncAll || assigned.has(s.id)), scope });
  }
  return out;
}

const addressesOf = (u: SourceUser) => [u.record.user.mail, u.record.user.userPrincipalName]
  .filter((a): a is string => typeof a === 'string' && a.length > 0).map((a) => a.toLowerCase());

/**
 * Processes source users `ids` (missing from `sources`: purged in the source). B2B users of the source are
 * never provisioned (only internal members are, so nothing loops back through a mesh) and get no entry.
 */
export async function processSubjects(db: Db, rc: RunContext, ids: readonly string[], sources: Map<string, SourceUser>, counts: Counts): Promise<Outcome[]> {
  const subjects = ids.map((id) => ({ id, src: sources.get(id) })).filter((s) => !s.src || s.src.internal);
  if (!subjects.length) return [];
  const began = Date.now();
  const now = rc.now();
  const at = now.toISOString();
  const ent = await entitlements(db, rc, subjects);
  const { linked } = await rc.connector.lookup(db, rc.sourceTenantId, subjects.map((s) => s.id), []);
  // Addresses are looked up only for entitled users nothing is linked to: the ones a create would be for.
  const unlinked = subjects.filter((s) => !linked.has(s.id) && s.src && ent.get(s.id)!.assigned && ent.get(s.id)!.scope.inScope);
  const { byAddress } = unlinked.length
    ? await rc.connector.lookup(db, rc.sourceTenantId, [], [...new Set(unlinked.flatMap((s) => addressesOf(s.src!)))])
    : { byAddress: new Map<string, TargetUser[]>() };
  const held = rc.dryRun ? new Map() : await syncRepo.held(db, rc.sourceTenantId, rc.job.id, subjects.map((s) => s.id));

  const plans = new Map<string, Plan>();
  const exports: ExportItem[] = [];
  const stage: string[] = [];
  for (const s of subjects) {
    const e = ent.get(s.id)!;
    counts.imported += 1;
    if (e.active && e.assigned && e.scope.inScope) counts.entitled += 1;
    const candidates = linked.has(s.id) || !s.src ? [] : [...new Map(addressesOf(s.src).flatMap((a) => byAddress.get(a) ?? [])
      .map((t) => [t.record.user.id, t])).values()];
    const p = plan({
      source: { id: s.id, user: s.src?.record.user ?? null, deleted: s.src?.deleted ?? true }, entitlement: e, linked: linked.get(s.id),
      candidates, schema: rc.schema, targetDomain: rc.connector.domain, now, jobId: rc.job.id,
    });
    plans.set(s.id, p);
    if (p.destructive && rc.holdDestructive) stage.push(s.id);
    else if (p.write) exports.push({ sourceId: s.id, write: p.write, current: linked.get(s.id) ?? candidates.find((c) => c.record.user.id === p.targetId) });
  }

  const results = rc.dryRun || !exports.length ? new Map() : await rc.connector.export(db, rc.sourceTenantId, exports, at);
  const outcomes: Outcome[] = [];
  const logs: LogRow[] = [];
  const escrow: { id: string; code: string; message: string }[] = [];
  const release: string[] = [];
  const duration = Math.max(0, Math.round((Date.now() - began) / Math.max(1, subjects.length)));
  for (const s of subjects) {
    const p = plans.get(s.id)!;
    const e = ent.get(s.id)!;
    const staged = stage.includes(s.id);
    let status: ProvisioningResult;
    let action: ProvisioningAction = p.action === 'skip' ? 'other' : p.action;
    let error = p.reason;
    let targetId = p.targetId ?? null;
    let targetUpn: string | null = null;
    if (staged) {
      counts.staged += 1;
      continue;
    }
    if (p.reason?.failure) status = 'failure';
    else if (p.action === 'skip') status = 'skipped';
    else if (rc.dryRun) status = 'success';
    else {
      const r = results.get(s.id);
      if (r?.ok) {
        status = 'success';
        targetId = r.targetId;
        targetUpn = r.upn;
      } else {
        status = 'failure';
        error = { code: r?.code ?? 'ExportFailed', message: r?.message ?? 'The export did not complete.', failure: true };
      }
    }
    if (status === 'failure') {
      counts.escrowed += 1;
      escrow.push({ id: s.id, code: error!.code, message: error!.message });
    } else {
      if (held.get(s.id)) release.push(s.id);
      if (status === 'skipped') counts.skipped += 1;
      else {
        counts.exported += 1;
        // A restore or an adopted invitation brings one more target user into sync, as a create does.
        if (action === 'create' || (p.write?.kind === 'update' && (p.write.restore || p.write.adopt))) counts.created += 1;
        if (action === 'delete') counts.deleted += 1;
      }
    }
    if (p.action === 'skip' && !error) action = 'other';
    const tu = linked.get(s.id)?.record.user;
    const log = logRow({
      cycleId: rc.cycleId, jobId: rc.job.id, spId: rc.job.spId, spName: rc.spName, sourceTenantId: rc.sourceTenantId,
      target: { tenantId: rc.connector.tenantId, displayName: rc.connector.displayName },
      source: { id: s.id, displayName: s.src?.record.user.displayName ?? null, upn: s.src?.record.user.userPrincipalName ?? null },
      targetUser: targetId ? { id: targetId, displayName: tu?.displayName ?? s.src?.record.user.displayName ?? null, upn: targetUpn ?? tu?.userPrincipalName ?? null } : null,
      action, status, situation: p.situation, entitlement: e, modified: p.modified, error, at, durationMs: duration, via: rc.via,
    });
    logs.push(log);
    outcomes.push({ sourceId: s.id, plan: p, entitlement: e, status, action, targetId, log });
  }
  if (rc.dryRun) return outcomes;
  for (const id of stage) {
    await syncRepo.hold(db, rc.sourceTenantId, rc.job.id, { objectId: id, state: 'staged', attempts: 0, nextAttempt: null, since: at, data: {} });
  }
  for (const f of escrow) {
    const prior = held.get(f.id);
    const attempts = (prior?.state === 'escrow' ? prior.attempts : 0) + 1;
    // Back-off doubles per failed attempt, up to a day: a persistent failure costs a retry a day, not a retry a cycle.
    const wait = Math.min(rc.escrowRetryMs * 2 ** (attempts - 1), 86_400_000);
    await syncRepo.hold(db, rc.sourceTenantId, rc.job.id, {
      objectId: f.id, state: 'escrow', attempts, nextAttempt: new Date(now.getTime() + wait).toISOString(), since: prior?.since ?? at,
      data: { code: f.code, message: f.message },
    });
  }
  await syncRepo.release(db, rc.sourceTenantId, rc.job.id, release);
  await syncRepo.log(db, rc.sourceTenantId, logs);
  return outcomes;
}
