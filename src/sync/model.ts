// The sync room's vocabulary in Graph's shapes (synchronizationJob, synchronizationStatus, secrets,
// restart criteria), with the defaults Entra gives a new cross-tenant sync job. No I/O.
import { z } from 'zod';
import { DomainError, errors } from '../domain/errors.js';

/** The gallery template behind every cross-tenant sync configuration ("Azure AD to Azure AD"). */
export const AZURE2AZURE_APP_TEMPLATE_ID = '518e5f48-1fc8-4c48-9387-9fdf28b0dfe7';
export const AZURE2AZURE = 'Azure2Azure';
/** Entra's fixed cycle interval; ours runs on commit, and an interval schedule is there for those who want it. */
export const DEFAULT_INTERVAL = 'PT40M';
/** A date Entra shows for "never": .NET's DateTime.MinValue. */
export const NEVER = '0001-01-01T00:00:00Z';

export type ScheduleState = 'Active' | 'Disabled' | 'Paused';
export type StatusCode = 'NotConfigured' | 'NotRun' | 'Active' | 'Paused' | 'Quarantine';
export type QuarantineReason =
  | 'EncounteredBaseEscrowThreshold' | 'EncounteredTotalEscrowThreshold' | 'EncounteredEscrowProportionThreshold'
  | 'EncounteredQuarantineException' | 'Unknown' | 'QuarantinedOnDemand' | 'TooManyDeletes' | 'IngestionInterrupted';

export interface SyncError {
  code: string;
  message: string;
  tenantActionable: boolean;
}

export interface TaskExecution {
  activityIdentifier: string;
  countEntitled: number;
  countEntitledForProvisioning: number;
  countEscrowed: number;
  countEscrowedRaw: number;
  countExported: number;
  countExports: number;
  countImported: number;
  countImportedDeltas: number;
  countImportedReferenceDeltas: number;
  error: SyncError | null;
  state: 'Succeeded' | 'Failed' | 'EntryLevelErrors';
  timeBegan: string;
  timeEnded: string;
}

export interface Quarantine {
  currentBegan: string;
  nextAttempt: string | null;
  reason: QuarantineReason;
  seriesBegan: string;
  seriesCount: number;
  error: SyncError | null;
}

export interface Progress {
  completedUnits: number;
  totalUnits: number;
  units: string;
  progressObservationDateTime: string;
}

export interface SyncStatus {
  code: StatusCode;
  countSuccessiveCompleteFailures: number;
  escrowsPruned: boolean;
  lastExecution: TaskExecution | null;
  lastSuccessfulExecution: TaskExecution | null;
  lastSuccessfulExecutionWithExports: TaskExecution | null;
  progress: Progress[];
  quarantine: Quarantine | null;
  steadyStateFirstAchievedTime: string;
  steadyStateLastAchievedTime: string;
  synchronizedEntryCountByType: { key: string; value: number }[];
  troubleshootingUrl: string | null;
}

export const initialStatus = (): SyncStatus => ({
  code: 'Paused', countSuccessiveCompleteFailures: 0, escrowsPruned: false, lastExecution: null, lastSuccessfulExecution: null,
  lastSuccessfulExecutionWithExports: null, progress: [], quarantine: null, steadyStateFirstAchievedTime: NEVER,
  steadyStateLastAchievedTime: NEVER, synchronizedEntryCountByType: [], troubleshootingUrl: null,
});

export const defaultJobSettings = () => [
  { name: 'AzureIngestionAttributeOptimization', value: 'False' },
  { name: 'LookaheadQueryEnabled', value: 'False' },
];

// ---- secrets ----------------------------------------------------------------------------------------

/** What the secrets of a sync configuration mean to the engine. */
export interface SyncSecrets {
  companyId: string | null;
  authenticationType: string | null;
  /** SyncAll=true: every internal member is in scope; false: assigned users and direct members of assigned groups. */
  syncAll: boolean;
  deleteThresholdEnabled: boolean;
  deleteThresholdValue: number;
  /** Every key as written, for GET (unknown keys of the enum are kept, not interpreted). */
  raw: { key: string; value: string }[];
}

/** Entra's default for "prevent accidental deletions" in cross-tenant sync. */
export const DEFAULT_DELETE_THRESHOLD = 500;

const secretPair = z.object({ key: z.string().min(1).max(64), value: z.string().max(4096).nullable() });
export const secretsBodySchema = z.object({ value: z.array(secretPair).max(64) });
export const credentialsSchema = z.array(secretPair).max(64);

const notificationSchema = z.object({
  Enabled: z.boolean().optional(),
  Recipients: z.string().max(2048).optional(),
  DeleteThresholdEnabled: z.boolean().optional(),
  DeleteThresholdValue: z.number().int().min(1).max(10_000_000).optional(),
  HumanResourcesLookaheadQueryEnabled: z.boolean().optional(),
}).loose();

export function interpretSecrets(pairs: readonly { key: string; value: string | null }[]): SyncSecrets {
  const get = (k: string) => pairs.find((p) => p.key.toLowerCase() === k.toLowerCase())?.value ?? null;
  let notification: z.infer<typeof notificationSchema> = {};
  const n = get('SyncNotificationSettings');
  if (n) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(n);
    } catch {
      throw errors.badRequest("The value of secret 'SyncNotificationSettings' must be a JSON object.");
    }
    const r = notificationSchema.safeParse(parsed);
    if (!r.success) throw errors.badRequest("The value of secret 'SyncNotificationSettings' is not valid: DeleteThresholdValue must be a positive integer.");
    notification = r.data;
  }
  const companyId = get('CompanyId');
  if (companyId !== null && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(companyId)) {
    throw errors.badRequest("The value of secret 'CompanyId' must be the target tenant's id (a GUID).");
  }
  return {
    companyId: companyId?.toLowerCase() ?? null,
    authenticationType: get('AuthenticationType'),
    syncAll: (get('SyncAll') ?? 'false').toLowerCase() === 'true',
    // A threshold applies unless it is explicitly switched off: deleting is the costly mistake.
    deleteThresholdEnabled: notification.DeleteThresholdEnabled ?? true,
    deleteThresholdValue: notification.DeleteThresholdValue ?? DEFAULT_DELETE_THRESHOLD,
    raw: pairs.map((p) => ({ key: p.key, value: p.value ?? '' })),
  };
}

// ---- restart --------------------------------------------------------------------------------------

export const resetScopes = ['None', 'ConnectorDataStore', 'Escrows', 'Watermark', 'QuarantineState', 'Full', 'ForceDeletes'] as const;
export type ResetScope = (typeof resetScopes)[number];

export interface RestartPlan {
  escrows: boolean;
  watermark: boolean;
  quarantine: boolean;
  forceDeletes: boolean;
}

/** `resetScope` is Graph's flags enum as a comma list; empty is the portal's "Restart provisioning". */
export function parseRestart(body: unknown): RestartPlan {
  const r = z.object({ criteria: z.object({ resetScope: z.string().max(256).nullable().optional() }).nullable().optional() }).loose().safeParse(body ?? {});
  if (!r.success) throw errors.badRequest('The restart request is not valid: expected {"criteria":{"resetScope":"…"}}.');
  const text = r.data.criteria?.resetScope ?? '';
  const scopes = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of scopes) {
    if (!resetScopes.some((k) => k.toLowerCase() === s.toLowerCase())) {
      throw new DomainError('badRequest', 'Request_BadRequest', `'${s}' is not a valid resetScope; use a comma list of ${resetScopes.join(', ')}.`);
    }
  }
  const has = (k: ResetScope) => scopes.some((s) => s.toLowerCase() === k.toLowerCase());
  if (!scopes.length) return { escrows: true, watermark: true, quarantine: true, forceDeletes: false };
  const full = has('Full');
  return {
    escrows: full || has('Escrows'),
    watermark: full || has('Watermark') || has('ConnectorDataStore'),
    quarantine: full || has('QuarantineState') || has('ForceDeletes'),
    forceDeletes: has('ForceDeletes'),
  };
}

// ---- provisioning log ---------------------------------------------------------------------------

export type ProvisioningAction = 'create' | 'update' | 'delete' | 'disable' | 'stagedDelete' | 'other';
export type ProvisioningResult = 'success' | 'failure' | 'skipped' | 'warning';

export interface ModifiedProperty {
  displayName: string;
  oldValue: string | null;
  newValue: string | null;
}
