// `openmto sync …`: cross-tenant synchronization from the command line, as the server operator: the same
// use cases as Graph's /servicePrincipals/{id}/synchronization, /appRoleAssignedTo and /auditLogs/provisioning.
// `openmto worker` runs sync and MTO work without HTTP (PostgreSQL: any number of them share the jobs).
import type { Command } from 'commander';
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
  createJob, deleteSynchronizationOf, dryRun, listProvisioningLog, pauseJob, putSecrets, renderJob, restartJob, startJob,
  type SyncContext, testExpression, validateCredentials,
} from '../sync/index.js';
import { dataOption, out, withTenant } from './common.js';

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
  if (rows.length !== 1) throw new Error(rows.length ? `two or more configurations are named '${ref}'; use the service principal id` : `no sync configuration '${ref}' in this tenant`);
  return rows[0]!.id;
}

async function jobOf(store: Store, tenantId: string, spId: string, jobRef?: string): Promise<string> {
  if (jobRef) return jobRef;
  const jobs = await syncRepo.jobsOf(store.db, tenantId, spId);
  if (jobs.length !== 1) throw new Error(jobs.length ? 'the configuration has several jobs; name one with --job' : 'the configuration has no job');
  return jobs[0]!.id;
}

type Base = { tenant: string; data: string; json?: boolean; config: string; job?: string };

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
      if (!Number.isInteger(threshold) || threshold < 0) throw new Error('--delete-threshold is a whole number (0 turns the guard off)');
      const r = await withTenant(o.data, o.tenant, async (store, t) => {
        const target = await tenantsRepo.find(store.db, o.target);
        if (!target) throw new Error(`tenant '${o.target}' does not exist`);
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
      if (Boolean(o.user) === Boolean(o.group)) throw new Error('give one of --user or --group');
      const r = await withTenant(o.data, o.tenant, async (store, t) => {
        const spId = await configOf(store, t.id, o.config);
        const sp = (await servicePrincipalsRepo.get(store.db, t.id, spId))!;
        let principalId = o.group ?? '';
        if (o.user) {
          const u = await usersRepo.get(store.db, t.id, o.user);
          if (!u) throw new Error(`user '${o.user}' does not exist`);
          principalId = u.user.id;
        }
        return createAssignment({ store, clock: systemClock }, t.id, await operator(store, t.id), spId, { principalId, resourceId: spId, appRoleId: sp.appRoles[0]?.id });
      });
      out(o.json, r, () => `assigned ${r.principalDisplayName ?? r.principalId}`);
    });

  for (const [name, fn, text] of [['start', startJob, 'started'], ['pause', pauseJob, 'paused']] as const) {
    withConfig(sync.command(name).description(`${name} the configuration's job`)).action(async (o: Base) => {
      await withTenant(o.data, o.tenant, async (store, t) => {
        const spId = await configOf(store, t.id, o.config);
        await fn(ctxOf(store), t.id, await operator(store, t.id), spId, await jobOf(store, t.id, spId, o.job));
      });
      out(o.json, { ok: true }, () => text);
    });
  }

  withConfig(sync.command('restart').description('restart the job (default: Watermark, Escrows, QuarantineState, as the portal does)'))
    .option('--scope <list>', 'resetScope, e.g. Full or ForceDeletes').action(async (o: Base & { scope?: string }) => {
      await withTenant(o.data, o.tenant, async (store, t) => {
        const spId = await configOf(store, t.id, o.config);
        await restartJob(ctxOf(store), t.id, await operator(store, t.id), spId, await jobOf(store, t.id, spId, o.job), { criteria: { resetScope: o.scope ?? '' } });
      });
      out(o.json, { ok: true }, () => 'restarted');
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

  sync.command('status').description("the tenant's sync jobs: state, last run, quarantine")
    .requiredOption('--tenant <tenant>', 'source tenant id or domain').option('--json', 'JSON output').addOption(dataOption())
    .action(async (o: { tenant: string; json?: boolean; data: string }) => {
      const rows = await withTenant(o.data, o.tenant, async (store, t) => {
        const out: Record<string, unknown>[] = [];
        for (const j of await syncRepo.jobsOfTenant(store.db, t.id)) {
          const sp = await servicePrincipalsRepo.get(store.db, t.id, j.spId);
          out.push({ configuration: sp?.displayName ?? j.spId, servicePrincipalId: j.spId, ...renderJob(j) });
        }
        return out;
      });
      out(o.json, rows, () => rows.length ? rows.map((r) => {
        const s = r.status as { code: string; lastExecution: { countExported: number; countEscrowed: number; timeEnded: string } | null; quarantine: { reason: string } | null };
        const last = s.lastExecution ? `last run ${s.lastExecution.timeEnded}: ${s.lastExecution.countExported} exported, ${s.lastExecution.countEscrowed} failed` : 'not run yet';
        return `${String(r.configuration).padEnd(48)} ${s.code.padEnd(10)} ${last}${s.quarantine ? `  QUARANTINE ${s.quarantine.reason}` : ''}`;
      }).join('\n') : 'no sync jobs');
    });

  withConfig(sync.command('logs').description('provisioning log of the configuration, newest first'))
    .option('--action <a>', 'create, update, delete, disable, stagedDelete or other').option('--top <n>', 'entries', '50')
    .action(async (o: Base & { action?: string; top: string }) => {
      const top = Number(o.top);
      if (!Number.isInteger(top) || top < 1 || top > 999) throw new Error('--top is 1 to 999');
      const page = await withTenant(o.data, o.tenant, async (store, t) => {
        const spId = await configOf(store, t.id, o.config);
        const filter = { kind: 'and', left: { kind: 'compare', op: 'eq', path: ['servicePrincipal', 'id'], value: { kind: 'string', value: spId } },
          right: o.action ? { kind: 'compare', op: 'eq', path: ['provisioningAction'], value: { kind: 'string', value: o.action } }
            : { kind: 'compare', op: 'eq', path: ['servicePrincipal', 'id'], value: { kind: 'string', value: spId } } } as const;
        return listProvisioningLog(store.db, t.id, await operator(store, t.id), filter as never, top, null);
      });
      out(o.json, page.items, () => page.items.map((e) => {
        const x = e as { activityDateTime: string; provisioningAction: string; provisioningStatusInfo: { status: string; errorInformation: { reason: string } | null }; sourceIdentity: { details: { UserPrincipalName: string } } };
        return `${x.activityDateTime}  ${x.provisioningAction.padEnd(12)} ${x.provisioningStatusInfo.status.padEnd(8)} ${x.sourceIdentity.details.UserPrincipalName ?? ''}${x.provisioningStatusInfo.errorInformation ? `  ${x.provisioningStatusInfo.errorInformation.reason}` : ''}`;
      }).join('\n') || 'no entries');
    });

  sync.command('test-expression').description('evaluate an attribute-mapping expression against test values (the portal\'s "test expression")')
    .requiredOption('--expression <text>', 'expression').option('--input <key=value...>', 'source attribute values').option('--json', 'JSON output')
    .action((o: { expression: string; input?: string[]; json?: boolean }) => {
      const properties = (o.input ?? []).map((kv) => {
        const i = kv.indexOf('=');
        if (i < 1) throw new Error(`--input takes key=value, not '${kv}'`);
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
