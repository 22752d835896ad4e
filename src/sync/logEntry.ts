// Provisioning log entries: stored compact (what happened to one object in one cycle) and expanded at read
// time into Graph's provisioningObjectSummary with its steps, so a cycle of 100k objects writes ~300 bytes
// an object rather than the ~2 KB of the Graph shape.
import { newObjectId } from '../domain/ids.js';
import type { LogRow } from '../store/repos/sync.js';
import type { ModifiedProperty, ProvisioningAction, ProvisioningResult } from './model.js';
import type { Entitlement, Situation } from './plan.js';

export interface LogFacts {
  cycleId: string;
  jobId: string;
  spId: string;
  spName: string;
  sourceTenantId: string;
  target: { tenantId: string; displayName: string };
  source: { id: string; displayName: string | null; upn: string | null };
  targetUser: { id: string; displayName: string | null; upn: string | null } | null;
  action: ProvisioningAction;
  status: ProvisioningResult;
  situation: Situation;
  entitlement: Entitlement;
  modified: ModifiedProperty[];
  error?: { code: string; message: string; failure: boolean } | undefined;
  at: string;
  durationMs: number;
  /** 'cycle' or 'onDemand'. */
  via: 'cycle' | 'onDemand';
}

/** What a run (one cycle of one job, or one on-demand request) writes the same in each of its entries: stored once per run. */
interface RunPart {
  c: string;
  sp: string;
  tt: string;
  tn: string;
  st: string;
  v: LogFacts['via'];
}

/** The entry's own facts. The source id is the row's sourceId (entries written before migration 012 may still carry it here). */
interface EntryPart {
  s: { id?: string; displayName: string | null; upn: string | null };
  t: LogFacts['targetUser'];
  sit: Situation;
  ent: Entitlement;
  m: ModifiedProperty[];
  e?: LogFacts['error'];
  d: number;
}

export function logRow(f: LogFacts): LogRow {
  // Key order is fixed (the run part is looked up by its text; the store's compression dictionary follows this shape).
  const run: RunPart = { c: f.cycleId, sp: f.spName, tt: f.target.tenantId, tn: f.target.displayName, st: f.sourceTenantId, v: f.via };
  const data: EntryPart = {
    s: { displayName: f.source.displayName, upn: f.source.upn }, t: f.targetUser, sit: f.situation, ent: f.entitlement, m: f.modified,
    ...(f.error ? { e: f.error } : {}), d: f.durationMs,
  };
  return {
    id: newObjectId(Date.parse(f.at)), jobId: f.jobId, spId: f.spId, action: f.action, status: f.status, sourceId: f.source.id, at: f.at,
    run: JSON.stringify(run), data: JSON.stringify(data),
  };
}

const SERVICE = 'Azure AD Provisioning Service';
const SOURCE_SYSTEM = 'Azure Active Directory';
const TARGET_SYSTEM = 'Azure Active Directory (target tenant)';

const step = (name: string, type: string, status: string, description: string, details: Record<string, unknown> = {}) =>
  ({ name, provisioningStepType: type, status, description, details });

const verb: Record<string, string> = { create: 'created', update: 'updated', delete: 'deleted', disable: 'disabled', stagedDelete: 'held for deletion', other: 'processed' };

/** A stored entry as Graph's provisioningObjectSummary. */
export function expand(tenantId: string, row: LogRow): Record<string, unknown> {
  // Two objects, not one spread from both: the merged object's shape made expand several times slower (V8).
  const r = JSON.parse(row.run) as RunPart;
  const d = JSON.parse(row.data) as EntryPart;
  const sourceId = d.s.id ?? row.sourceId ?? '';
  const name = d.s.displayName ?? d.s.upn ?? sourceId;
  const failed = row.status === 'failure';
  const scopeOk = d.ent.active && d.ent.assigned && d.ent.scope.inScope;
  const steps = [
    step('EntryImportAdd', 'import', 'success', `Received User '${name}' change of type (Add) from ${SOURCE_SYSTEM}`,
      { netId: sourceId, userPrincipalName: d.s.upn ?? '', IsSoftDeleted: d.ent.active ? 'False' : 'True' }),
    step('EntrySynchronizationScoping', 'scoping', scopeOk ? 'success' : 'skipped', 'Determine if User in scope by evaluating against each scoping filter', {
      'Active in the source system': d.ent.active ? 'True' : 'False', 'Assigned to the application': d.ent.assigned ? 'True' : 'False',
      'Scoping filter evaluation passed': d.ent.scope.inScope ? 'True' : 'False', ScopeEvaluationResult: JSON.stringify(d.ent.scope.results),
    }),
    step('EntryExportUpdate', 'matching', d.sit === 'unmatched' ? 'skipped' : 'success', d.sit === 'unmatched' || !d.t
      ? `No User matching '${name}' was found in ${TARGET_SYSTEM}` : `Matched User '${d.t.upn ?? d.t.id}' in ${TARGET_SYSTEM} (${d.sit})`, { situation: d.sit }),
  ];
  if (row.action !== 'other') {
    const skipped = row.status === 'skipped';
    steps.push(step(skipped ? 'EntrySynchronizationSkip' : failed ? 'EntryExportError' : `EntryExport${row.action[0]!.toUpperCase()}${row.action.slice(1)}`,
      'export', row.status, skipped ? `User '${name}' was skipped: ${d.e?.message ?? ''}`.trim()
        : failed ? `Failed to ${row.action} User '${name}' in ${TARGET_SYSTEM}: ${d.e?.message ?? ''}`
          : `User '${name}' was ${verb[row.action] ?? row.action} in ${TARGET_SYSTEM}`,
      d.e ? { SkipReason: d.e.code } : {}));
  }
  return {
    id: row.id, activityDateTime: row.at, changeId: row.id, cycleId: r.c, durationInMilliseconds: d.d, jobId: row.jobId, tenantId,
    initiatedBy: { id: '', displayName: r.v === 'onDemand' ? 'On-demand provisioning' : SERVICE, initiatorType: 'system' },
    modifiedProperties: d.m, provisioningAction: row.action,
    provisioningStatusInfo: {
      status: row.status,
      errorInformation: d.e && row.status !== 'success' ? {
        errorCode: d.e.code, errorCategory: d.e.failure ? 'failure' : 'nonServiceFailure', reason: d.e.message, additionalDetails: null,
        recommendedAction: d.e.failure ? 'Fix the cause in the source or target named in the reason; the object is retried automatically.' : null,
      } : null,
    },
    provisioningSteps: steps,
    servicePrincipal: { id: row.spId, displayName: r.sp },
    sourceIdentity: { id: sourceId, displayName: d.s.displayName, identityType: 'User', details: { UserPrincipalName: d.s.upn } },
    sourceSystem: { id: r.st, displayName: SOURCE_SYSTEM, details: {} },
    targetIdentity: { id: d.t?.id ?? null, displayName: d.t?.displayName ?? null, identityType: 'User', details: { UserPrincipalName: d.t?.upn ?? null } },
    targetSystem: { id: r.tt, displayName: TARGET_SYSTEM, details: { ApplicationId: null, ServicePrincipalId: row.spId, ServicePrincipalDisplayName: r.sp, TenantDisplayName: r.tn } },
  };
}
