// The sync room's front door: what the API, the CLI and the server may use.
export { SECRETS_KIND, SYNC_QUEUE, defaultEngineOptions, type EngineOptions, intervalMs } from './engine.js';
export {
  createJob, deleteJob, deleteSynchronizationOf, getJob, getSchema, getSecrets, listJobs, pauseJob, putSchema, putSecrets, renderJob,
  requireSyncRead, requireSyncWrite, resetSchema, restartJob, startJob, type SyncContext, validateCredentials,
} from './jobs.js';
export { dryRun, type DryRunReport, provisionOnDemand } from './onDemand.js';
export { listProvisioningLog, pruneProvisioningLog, PROVISIONING_LOG_RETENTION_DAYS } from './provisioningLog.js';
export { type SchedulerOptions, type SyncScheduler, startSyncScheduler } from './scheduler.js';
export { expressionFunctions, testExpression } from './expression/index.js';
export { filterOperators } from './scoping/index.js';
