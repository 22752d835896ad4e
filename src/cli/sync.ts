// `openmto sync …`: cross-tenant synchronization from the command line, as the server operator: the same
// use cases as Graph's /servicePrincipals/{id}/synchronization, /appRoleAssignedTo and /auditLogs/provisioning.
// `openmto worker` runs sync and MTO work without HTTP (PostgreSQL: any number of them share the jobs).
import type { Command } from 'commander';
import { type FilterNode, lit, node } from '../domain/odata.js';
import { createAssignment, instantiateTemplate } from '../apps/index.js';
import { AZURE2AZURE_TEMPLATE_ID } from '../apps/index.js';
import { type Actor, resolveActor } from '../directory/access.js';
import { systemClock } from '../domain/clock.js';
import { applicationPermissions } from '../identity/permissions.js';
import { servicePrincipalsRepo } from '../store/repos/servicePrincipals.js';
import { syncRepo } from '../store/repos/sync.js';
import { tenantsRepo } from '../store/repos/tenants.js';
import { usersRepo } from '../store/repos/users.js';
import type { Store } from '../store/store.js';
import {
  createJob, deleteSynchronizationOf, dryRun, listProvisioningLog, pauseJob, provisionOnDemand, putSecrets, renderJob, restartJob, startJob,
  type SyncContext, testExpression, validateCredentials,
} from '../sync/index.js';
import { CliError, type Columns, dataOption, details, EXIT, notFoundError, out, progressBar, progressOption, table, usageError, withTenant } from './common.js';

/** The operator acts in a tenant as an app holding every permission (the CLI is the server's own console). */
async function operator(store: Store, tenantId: string): Promise<Actor> {
  return resolveActor(store.db, {
    tenantId, kind: 'app', appId: 'openmto-operator', roles: new Set(applicationPermissions), scopes: new Set(),
  } as Parameters<typeof resolveActor>[1]);
}

const ctxOf = (store: Store): SyncContext => ({ store, clock: systemClock });

/** The configuration named by --config (service principal id or display name) in the tenant. */
async function configOf(store: Store, tenantId: string, ref: string): Promise<string> {
  const byId = await servicePrincipalsRepo.get(store.db, tenantId, ref.toLowerCase());
  if (byId) return byId.id;
  const rows = await servicePrincipalsRepo.byDisplayName(store.db, tenantId, ref);
  if (rows.length > 1) throw usageError(`two or more configurations are named '${ref}'; use the service principal id`);
  if (rows.length === 0) throw notFoundError(`no sync configuration '${ref}' in this tenant`, 'openmto sync status --tenant <tenant> lists the configurations');
  return rows[0]!.id;
}

async function jobOf(store: Store, tenantId: string, spId: string, jobRef?: string): Promise<string> {
  if (jobRef) return jobRef;
  const jobs = await syncRepo.jobsOf(store.db, tenantId, spId);
  if (jobs.length > 1) throw usageError('the configuration has several jobs; name one with --job');
  if (jobs.length === 0) throw notFoundError('the configuration has no job');
  return jobs[0]!.id;
}

type Base = { tenant: string; data: string; json?: boolean; config: string; job?: string };


type Step = { name?: string; provisioningStepType?: string; status?: string; description?: string };
type Modified = { displayName?: string; oldValue?: string | null; newValue?: string | null };
type LogItem = {
  id: string; activityDateTime: string; provisioningAction: string;
  provisioningStatusInfo: { status: string; errorInformation: { errorCode?: string; reason: string } | null };
  sourceIdentity: { id: string; details?: { UserPrincipalName?: string } }; targetIdentity?: { id?: string };
  provisioningSteps: Step[]; modifiedProperties: Modified[];
};
type JobStatus = {
  code: string; lastExecution: { countExported: number; countEscrowed: number; timeEnded: string } | null;
  quarantine: { reason: string; error?: { message?: string } } | null; steadyStateLastAchievedTime: string;
  progress?: { completedUnits: number; totalUnits: number; units: string }[];
};

// Bound on the entries `sync log <id>` reads looking for one (the log keeps 30 days).
const LOG_SCAN_LIMIT = 20_000;

const logColumns: Columns<LogItem> = [
  ['time', (x) => x.activityDateTime], ['action', (x) => x.provisioningAction], ['status', (x) => x.provisioningStatusInfo.status],
  ['user', (x) => x.sourceIdentity.details?.UserPrincipalName ?? x.sourceIdentity.id], ['reason', (x) => x.provisioningStatusInfo.errorInformation?.reason ?? ''],
  ['id', (x) => x.id],
];

function stepsText(steps: Step[] = [], modified: Modified[] = []): string[] {
  return [
    'steps:', ...steps.map((st, i) => `  ${i + 1}. ${st.provisioningStepType ?? ''} ${st.status ?? ''}: ${st.description ?? st.name ?? ''}`),
    ...(modified.length ? ['modified properties:', ...modified.map((m) => `  ${m.displayName}: ${m.oldValue ?? '-'} -> ${m.newValue ?? '-'}`)] : []),
  ];
}

type WaitOptions = { wait?: boolean; timeout: string; progress?: boolean };
type WaitResult = { configuration: string; jobId: string; converged: boolean; status: JobStatus };

const describeWait = (r: WaitResult) => r.status.quarantine
  ? `${r.configuration}: QUARANTINE ${r.status.quarantine.reason}${r.status.quarantine.error?.message ? `: ${r.status.quarantine.error.message}` : ''}`
  : `${r.configuration}: converged (${r.status.lastExecution ? `${r.status.lastExecution.countExported} exported, ${r.status.lastExecution.countEscrowed} failed` : 'nothing to do'})`;

// How often --wait and --watch re-read the job (a cycle takes seconds; the bar needs no finer steps).
const WAIT_POLL_MS = 500;

/**
 * Runs `act` on the job; with --wait, then follows it until a steady state newer than the act is reached
 * (converged) or it is quarantined, with a progress bar. A server or `openmto worker` runs the cycles.
 */
async function runThenWait(
  o: Base & WaitOptions, act: (ctx: SyncContext, tenantId: string, actor: Actor, spId: string, jobId: string) => Promise<unknown>,
  anySteadyState = false,
): Promise<WaitResult | undefined> {
  const timeout = Number(o.timeout);
  if (!/^\d+$/.test(o.timeout) || timeout < 1) throw usageError('--timeout is a whole number of seconds');
  return withTenant(o.data, o.tenant, async (store, t) => {
    const spId = await configOf(store, t.id, o.config);
    const jobId = await jobOf(store, t.id, spId, o.job);
    // After an act, only a steady state reached after it counts; --watch takes the current one.
    const since = anySteadyState ? '0001-01-01T00:00:00Z' : systemClock.now().toISOString();
    await act(ctxOf(store), t.id, await operator(store, t.id), spId, jobId);
    if (!o.wait) return undefined;
    const sp = await servicePrincipalsRepo.get(store.db, t.id, spId);
    const bar = await progressBar('syncing', 1, o);
    const deadline = Date.now() + timeout * 1000;
    try {
      for (;;) {
        const job = (await syncRepo.jobsOf(store.db, t.id, spId)).find((j) => j.id === jobId);
        if (!job) throw notFoundError(`job '${jobId}' no longer exists`);
        const status = job.status as unknown as JobStatus;
        const p = status.progress?.[0];
        if (p) bar.update(p.completedUnits, Math.max(1, p.totalUnits));
        if (job.scheduleState !== 'Active') {
          throw new CliError('JobNotRunning', `the job is ${job.scheduleState.toLowerCase()}; it will not converge`, EXIT.failure, 'openmto sync start --tenant <tenant> --config <configuration>');
        }
        const converged = status.steadyStateLastAchievedTime > since && job.cycle === null;
        if (converged || status.quarantine) {
          const r = { configuration: sp?.displayName ?? spId, jobId, converged, status };
          if (status.quarantine) process.exitCode = EXIT.failure;
          return r;
        }
        if (Date.now() > deadline) {
          throw new CliError('Timeout', `the job did not converge within ${timeout} s (state ${job.scheduleState}, ${status.code})`, EXIT.failure,
            'the CLI does not run jobs itself: is `openmto serve` or `openmto worker` running on this data?');
        }
        await new Promise((r) => setTimeout(r, WAIT_POLL_MS));
      }
    } finally {
      bar.stop();
    }
  });
}

export function registerSyncCommands(program: Command): void {
  const sync = program.command('sync').description('cross-tenant synchronization: configurations, jobs, logs, expressions')
    .addHelpText('after', `
Examples:
  openmto sync create --tenant tenanta.openmto.test --target tenantb.openmto.test --name "A to B"
  openmto sync assign --tenant tenanta.openmto.test --config "A to B" --user annie@tenanta.openmto.test
  openmto sync start --tenant tenanta.openmto.test --config "A to B"
  openmto sync status --tenant tenanta.openmto.test
  openmto sync logs --tenant tenanta.openmto.test --action create --top 20
  openmto sync test-expression --expression 'Join("@", [mailNickname], "contoso.com")' --input mailNickname=annie`);
  const withConfig = (c: Command) => c.requiredOption('--tenant <tenant>', 'source tenant id or domain').requiredOption('--config <sp>', 'service principal id or display name')
    .option('--job <id>', 'job id (when the configuration has several)').option('--json', 'JSON output').addOption(dataOption());

  sync.command('create').description('create a configuration from the Azure2Azure template, with its job and secrets (not started)')
    .requiredOption('--tenant <tenant>', 'source tenant id or domain').requiredOption('--target <tenant>', 'target tenant id or domain')
    .option('--name <name>', 'display name (default MTO_Sync_<target id>)').option('--sync-all', 'every internal member instead of assigned users and groups')
    .option('--delete-threshold <n>', 'accidental-deletion threshold (0 turns it off)', '500').option('--json', 'JSON output').addOption(dataOption())
    .action(async (o: { tenant: string; target: string; name?: string; syncAll?: boolean; deleteThreshold: string; json?: boolean; data: string }) => {
      const threshold = Number(o.deleteThreshold);
      if (!Number.isInteger(threshold) || threshold < 0) throw usageError('--delete-threshold is a whole number (0 turns the guard off)');
      const r = await withTenant(o.data, o.tenant, async (store, t) => {
        const target = await tenantsRepo.find(store.db, o.target);
        if (!target) throw notFoundError(`tenant '${o.target}' does not exist`);
        const actor = await operator(store, t.id);
        const ctx = ctxOf(store);
        const created = await instantiateTemplate({ store, clock: systemClock, onDelete: deleteSynchronizationOf }, t.id, actor, AZURE2AZURE_TEMPLATE_ID,
          { displayName: o.name ?? `MTO_Sync_${target.id}` });
        const spId = created.servicePrincipal.id as string;
        const job = await createJob(ctx, t.id, actor, spId, { templateId: 'Azure2Azure' });
        await putSecrets(ctx, t.id, actor, spId, { value: [
          { key: 'AuthenticationType', value: 'SyncPolicy' }, { key: 'CompanyId', value: target.id }, { key: 'SyncAll', value: o.syncAll ? 'true' : 'false' },
          { key: 'SyncNotificationSettings', value: JSON.stringify({ Enabled: false, DeleteThresholdEnabled: threshold > 0, ...(threshold > 0 ? { DeleteThresholdValue: threshold } : {}) }) },
        ] });
        return { servicePrincipalId: spId, jobId: job.id, target: target.id };
      });
      out(o.json, r, () => `configuration ${r.servicePrincipalId}\njob ${r.jobId}\nnext: assign users or groups (openmto sync assign), check the policies (openmto sync validate), then openmto sync start`);
    });

  withConfig(sync.command('assign').description('assign a user or a security group to the configuration'))
    .option('--user <user>', 'user id or UPN').option('--group <id>', 'security group id')
    .action(async (o: Base & { user?: string; group?: string }) => {
      if (Boolean(o.user) === Boolean(o.group)) throw usageError('give one of --user or --group');
      const r = await withTenant(o.data, o.tenant, async (store, t) => {
        const spId = await configOf(store, t.id, o.config);
        const sp = (await servicePrincipalsRepo.get(store.db, t.id, spId))!;
        let principalId = o.group ?? '';
        if (o.user) {
          const u = await usersRepo.get(store.db, t.id, o.user);
          if (!u) throw notFoundError(`user '${o.user}' does not exist`);
          principalId = u.user.id;
        }
        return createAssignment({ store, clock: systemClock }, t.id, await operator(store, t.id), spId, { principalId, resourceId: spId, appRoleId: sp.appRoles[0]?.id });
      });
      out(o.json, r, () => `assigned ${r.principalDisplayName ?? r.principalId}`);
    });

  const waitable = (c: Command) => c.option('--wait', 'wait until the job converges (steady state) or is quarantined; a server or `openmto worker` runs it')
    .option('--timeout <seconds>', 'give up waiting after this long (exit 1)', '600').addOption(progressOption());

  waitable(withConfig(sync.command('start').description("start the configuration's job"))).action(async (o: Base & WaitOptions) => {
    const r = await runThenWait(o, async (ctx, t, actor, spId, jobId) => startJob(ctx, t, actor, spId, jobId));
    out(o.json, r ?? { ok: true }, () => (r ? describeWait(r) : 'started'));
  });

  withConfig(sync.command('pause').description("pause the configuration's job (it keeps its state; start resumes it)")).action(async (o: Base) => {
    await withTenant(o.data, o.tenant, async (store, t) => {
      const spId = await configOf(store, t.id, o.config);
      await pauseJob(ctxOf(store), t.id, await operator(store, t.id), spId, await jobOf(store, t.id, spId, o.job));
    });
    out(o.json, { ok: true }, () => 'paused');
  });

  waitable(withConfig(sync.command('restart').description('restart the job (default: Watermark, Escrows, QuarantineState, as the portal does)')))
    .option('--scope <list>', 'resetScope, e.g. Full or ForceDeletes').action(async (o: Base & WaitOptions & { scope?: string }) => {
      const r = await runThenWait(o, (ctx, t, actor, spId, jobId) => restartJob(ctx, t, actor, spId, jobId, { criteria: { resetScope: o.scope ?? '' } }));
      out(o.json, r ?? { ok: true }, () => (r ? describeWait(r) : 'restarted'));
    });

  waitable(withConfig(sync.command('allow-deletes')
    .description('let a job quarantined by the accidental-deletion threshold carry out its held deletions (restart with ForceDeletes)')))
    .action(async (o: Base & WaitOptions) => {
      const r = await runThenWait(o, (ctx, t, actor, spId, jobId) => restartJob(ctx, t, actor, spId, jobId, { criteria: { resetScope: 'ForceDeletes' } }));
      out(o.json, r ?? { ok: true }, () => (r ? describeWait(r) : 'deletions allowed: the job runs its held deletions in its next cycle'));
    });

  withConfig(sync.command('on-demand').description('provision one user now (evaluated and exported in one transaction), as "Provision on demand"'))
    .requiredOption('--user <user>', 'source user: object id or UPN')
    .action(async (o: Base & { user: string }) => {
      const r = await withTenant(o.data, o.tenant, async (store, t) => {
        const spId = await configOf(store, t.id, o.config);
        const jobId = await jobOf(store, t.id, spId, o.job);
        const u = await usersRepo.get(store.db, t.id, o.user);
        if (!u) throw notFoundError(`user '${o.user}' does not exist`);
        const body = { parameters: [{ ruleId: 'onDemand', subjects: [{ objectId: u.user.id, objectTypeName: 'User' }] }] };
        const res = await provisionOnDemand(ctxOf(store), t.id, await operator(store, t.id), spId, jobId, body);
        return JSON.parse(res.value) as { result: string; action: string; details: { errorCode?: string; errorMessage?: string }; provisioningSteps: Step[]; modifiedProperties: Modified[] };
      });
      out(o.json, r, () => [`${r.result}: ${r.action}${r.details.errorMessage ? ` (${r.details.errorCode}: ${r.details.errorMessage})` : ''}`,
        ...stepsText(r.provisioningSteps, r.modifiedProperties)].join('\n'));
      if (r.result === 'Failure') process.exitCode = EXIT.failure;
    });

  withConfig(sync.command('validate').description('test the connection: the three cross-tenant access settings')).action(async (o: Base) => {
    await withTenant(o.data, o.tenant, async (store, t) => {
      const spId = await configOf(store, t.id, o.config);
      await validateCredentials(ctxOf(store), t.id, await operator(store, t.id), spId, { useSavedCredentials: true });
    });
    out(o.json, { ok: true }, () => 'the cross-tenant access settings allow synchronization');
  });

  withConfig(sync.command('dry-run').description('what the first cycle would create, update and delete; writes nothing')).action(async (o: Base) => {
    const r = await withTenant(o.data, o.tenant, async (store, t) => {
      const spId = await configOf(store, t.id, o.config);
      return dryRun(ctxOf(store), t.id, await operator(store, t.id), spId, await jobOf(store, t.id, spId, o.job));
    });
    out(o.json, r, () => [
      Object.entries(r.counts).map(([k, v]) => `${k} ${v}`).join(', '),
      ...r.objects.slice(0, 50).map((x) => `${x.action.padEnd(8)} ${x.status.padEnd(8)} ${x.userPrincipalName ?? x.sourceId}${x.reason ? `  (${x.reason})` : ''}`),
      ...(r.objects.length > 50 || r.truncated ? ['… (use --json for the whole list)'] : []),
    ].join('\n'));
  });

  sync.command('status').description("the tenant's sync jobs: state, progress, last run, quarantine and its reason")
    .requiredOption('--tenant <tenant>', 'source tenant id or domain').option('--config <sp>', 'only this configuration (needed for --watch)')
    .option('--job <id>', 'job id (when the configuration has several)')
    .option('--watch', 'follow the job until it converges or is quarantined').option('--timeout <seconds>', 'with --watch: give up after this long (exit 1)', '600')
    .addOption(progressOption()).option('--json', 'JSON output').addOption(dataOption())
    .action(async (o: Base & WaitOptions & { watch?: boolean }) => {
      if (o.watch) {
        if (!o.config) throw usageError('--watch follows one job: give --config');
        const r = await runThenWait({ ...o, wait: true }, async () => {}, true);
        out(o.json, r, () => describeWait(r!));
        return;
      }
      const rows = await withTenant(o.data, o.tenant, async (store, t) => {
        const out: Record<string, unknown>[] = [];
        const only = o.config ? await configOf(store, t.id, o.config) : undefined;
        for (const j of await syncRepo.jobsOfTenant(store.db, t.id)) {
          if (only && j.spId !== only) continue;
          const sp = await servicePrincipalsRepo.get(store.db, t.id, j.spId);
          out.push({ configuration: sp?.displayName ?? j.spId, servicePrincipalId: j.spId, ...renderJob(j) });
        }
        return out;
      });
      out(o.json, rows, () => rows.length ? rows.map((r) => {
        const s = r.status as JobStatus;
        const last = s.lastExecution ? `last run ${s.lastExecution.timeEnded}: ${s.lastExecution.countExported} exported, ${s.lastExecution.countEscrowed} failed` : 'not run yet';
        const p = s.progress?.[0];
        return `${String(r.configuration).padEnd(48)} ${s.code.padEnd(10)} ${last}${p ? `  progress ${p.completedUnits}/${p.totalUnits} ${p.units}` : ''}${s.quarantine ? `  QUARANTINE ${s.quarantine.reason}` : ''}`;
      }).join('\n') : 'no sync jobs');
    });

  withConfig(sync.command('logs').description('provisioning log of the configuration, newest first'))
    .option('--action <a>', 'create, update, delete, disable, stagedDelete or other').option('--status <s>', 'success, failure, skipped or warning')
    .option('--user <user>', 'source user: object id or UPN').option('--top <n>', 'entries', '50')
    .option('--details', 'with each entry\'s steps and modified properties')
    .action(async (o: Base & { action?: string; status?: string; user?: string; top: string; details?: boolean }) => {
      const top = Number(o.top);
      if (!/^\d+$/.test(o.top) || top < 1 || top > 999) throw usageError('--top is 1 to 999');
      const page = await withTenant(o.data, o.tenant, async (store, t) => {
        const spId = await configOf(store, t.id, o.config);
        let filter: FilterNode = node.compare('eq', ['servicePrincipal', 'id'], lit.string(spId));
        if (o.action) filter = node.and(filter, node.compare('eq', ['provisioningAction'], lit.string(o.action)));
        if (o.status) filter = node.and(filter, node.compare('eq', ['provisioningStatusInfo', 'status'], lit.string(o.status)));
        if (o.user) {
          const u = await usersRepo.get(store.db, t.id, o.user);
          if (!u) throw notFoundError(`user '${o.user}' does not exist`);
          filter = node.and(filter, node.compare('eq', ['sourceIdentity', 'id'], lit.string(u.user.id)));
        }
        return listProvisioningLog(store.db, t.id, await operator(store, t.id), filter, top, null);
      });
      const items = page.items as unknown as LogItem[];
      out(o.json, page.items, () => {
        if (!o.details) return table(items, logColumns, 'no entries');
        return items.map((x) => [table([x], logColumns), ...stepsText(x.provisioningSteps, x.modifiedProperties)].join('\n')).join('\n\n') || 'no entries';
      });
    });

  withConfig(sync.command('log <id>').description('one provisioning log entry: its steps and modified properties'))
    .action(async (id: string, o: Base) => {
      const entry = await withTenant(o.data, o.tenant, async (store, t) => {
        const spId = await configOf(store, t.id, o.config);
        const actor = await operator(store, t.id);
        const filter = node.compare('eq', ['servicePrincipal', 'id'], lit.string(spId));
        // The log has no lookup by id; scan newest first, bounded by the entries a log page lists.
        let before: string | null = null;
        for (let scanned = 0; scanned < LOG_SCAN_LIMIT;) {
          const page = await listProvisioningLog(store.db, t.id, actor, filter, 999, before);
          const hit = page.items.find((x) => x.id === id);
          if (hit) return hit as unknown as LogItem;
          scanned += page.items.length;
          if (!page.next) break;
          before = page.next;
        }
        throw notFoundError(`no provisioning log entry '${id}' among the newest ${LOG_SCAN_LIMIT} of this configuration`, 'openmto sync logs shows the entries with their ids (--json)');
      });
      out(o.json, entry, () => [details([
        ['id', entry.id], ['activityDateTime', entry.activityDateTime], ['action', entry.provisioningAction], ['status', entry.provisioningStatusInfo.status],
        ['reason', entry.provisioningStatusInfo.errorInformation?.reason], ['source', entry.sourceIdentity.details?.UserPrincipalName ?? entry.sourceIdentity.id],
        ['target', entry.targetIdentity?.id],
      ]), ...stepsText(entry.provisioningSteps, entry.modifiedProperties)].join('\n'));
    });

  sync.command('test-expression').description('evaluate an attribute-mapping expression against test values (the portal\'s "test expression")')
    .requiredOption('--expression <text>', 'expression').option('--input <key=value...>', 'source attribute values').option('--json', 'JSON output')
    .action((o: { expression: string; input?: string[]; json?: boolean }) => {
      const properties = (o.input ?? []).map((kv) => {
        const i = kv.indexOf('=');
        if (i < 1) throw usageError(`--input takes key=value, not '${kv}'`);
        return { key: kv.slice(0, i), value: kv.slice(i + 1) };
      });
      const r = testExpression({ expression: o.expression, testInputObject: { definition: null, properties } }, new Date());
      out(o.json, r, () => r.parsingSucceeded && r.evaluationSucceeded ? `${JSON.stringify(r.evaluationResult)}`
        : `${r.parsingSucceeded ? 'evaluation failed' : 'parsing failed'}: ${(r.error as { message?: string } | null)?.message ?? ''}`);
      if (!r.parsingSucceeded || !r.evaluationSucceeded) process.exitCode = 1;
    });

  program.command('worker').description('run sync jobs and MTO transitions without HTTP (PostgreSQL: share the work with the servers)')
    .addOption(dataOption()).action(async (o: { data: string }) => {
      const { startWorker } = await import('../worker.js');
      const w = await startWorker(o.data);
      process.stdout.write(`openmto worker ${w.owner} running; SIGTERM or Ctrl-C stops it\n`);
      const stop = () => w.close().then(() => process.exit(0), () => process.exit(1));
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
}
