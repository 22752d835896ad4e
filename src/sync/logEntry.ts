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

interface Stored {
  c: string;
  sp: string;
  tt: string;
  tn: string;
  s: LogFacts['source'];
  t: LogFacts['targetUser'];
  sit: Situation;
  ent: Entitlement;
  m: ModifiedProperty[];
  e?: LogFacts['error'];
  d: number;
  v: LogFacts['via'];
  st: string;
}

export function logRow(f: LogFacts): LogRow {
  const data: Stored = {
    c: f.cycleId, sp: f.spName, tt: f.target.tenantId, tn: f.target.displayName, s: f.source, t: f.targetUser, sit: f.situation,
    ent: f.entitlement, m: f.modified, d: f.durationMs, v: f.via, st: f.sourceTenantId, ...(f.error ? { e: f.error } : {}),
  };
  return { id: newObjectId(Date.parse(f.at)), jobId: f.jobId, spId: f.spId, action: f.action, status: f.status, sourceId: f.source.id, at: f.at, data: JSON.stringify(data) };
}

const SERVICE = 'Azure AD Provisioning Service';
const SOURCE_SYSTEM = 'Azure Active Directory';
const TARGET_SYSTEM = 'Azure Active Directory (target tenant)';

const step = (name: string, type: string, status: string, description: string, details: Record<string, unknown> = {}) =>
  ({ name, provisioningStepType: type, status, description, details });

const verb: Record<string, string> = { create: 'created', update: 'updated', delete: 'deleted', disable: 'disabled', stagedDelete: 'held for deletion', other: 'processed' };

/** A stored entry as Graph's provisioningObjectSummary. */
export function expand(tenantId: string, row: LogRow): Record<string, unknown> {
  const d = JSON.parse(row.data) as Stored;
  const name = d.s.displayName ?? d.s.upn ?? d.s.id;
  const failed = row.status === 'failure';
  const scopeOk = d.ent.active && d.ent.assigned && d.ent.scope.inScope;
  const steps = [
    step('EntryImportAdd', 'import', 'success', `Received User '${name}' change of type (Add) from ${SOURCE_SYSTEM}`,
      { netId: d.s.id, userPrincipalName: d.s.upn ?? '', IsSoftDeleted: d.ent.active ? 'False' : 'True' }),
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
    id: row.id, activityDateTime: row.at, changeId: row.id, cycleId: d.c, durationInMilliseconds: d.d, jobId: row.jobId, tenantId,
    initiatedBy: { id: '', displayName: d.v === 'onDemand' ? 'On-demand provisioning' : SERVICE, initiatorType: 'system' },
    modifiedProperties: d.m, provisioningAction: row.action,
    provisioningStatusInfo: {
      status: row.status,
      errorInformation: d.e && row.status !== 'success' ? {
        errorCode: d.e.code, errorCategory: d.e.failure ? 'failure' : 'nonServiceFailure', reason: d.e.message, additionalDetails: null,
        recommendedAction: d.e.failure ? 'Fix the cause in the source or target named in the reason; the object is retried automatically.' : null,
      } : null,
    },
    provisioningSteps: steps,
    servicePrincipal: { id: row.spId, displayName: d.sp },
    sourceIdentity: { id: d.s.id, displayName: d.s.displayName, identityType: 'User', details: { UserPrincipalName: d.s.upn } },
    sourceSystem: { id: d.st, displayName: SOURCE_SYSTEM, details: {} },
    targetIdentity: { id: d.t?.id ?? null, displayName: d.t?.displayName ?? null, identityType: 'User', details: { UserPrincipalName: d.t?.upn ?? null } },
    targetSystem: { id: d.tt, displayName: TARGET_SYSTEM, details: { ApplicationId: null, ServicePrincipalId: row.spId, ServicePrincipalDisplayName: d.sp, TenantDisplayName: d.tn } },
  };
}
