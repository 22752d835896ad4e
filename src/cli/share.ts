// `openmto share …`: the tenant's shared users and security groups (the Microsoft 365 admin center's "Share
// users"), as the server operator; the same use cases as `/operator/v1/tenants/{id}/sharing`. Every change
// reconciles the tenant's MTO_Sync_<target> configurations at once; a running server's engine picks the work up.
import type { Command } from 'commander';
import { editSharing, getSharing, type SharingView } from '../collaboration/index.js';
import { systemClock } from '../domain/clock.js';
import { usersRepo } from '../store/repos/users.js';
import type { Store } from '../store/store.js';
import { dataOption, out, usageError, withTenant } from './common.js';

type Options = { tenant: string; user?: string[]; group?: string[]; json?: boolean; data: string };

async function describe(store: Store, tenantId: string, v: SharingView): Promise<string> {
  const users: string[] = [];
  for (const id of v.users) users.push((await usersRepo.get(store.db, tenantId, id))?.user.userPrincipalName ?? `${id} (deleted)`);
  const lines = [
    `users (${users.length}): ${users.join(', ') || '-'}`,
    `groups (${v.groups.length}): ${v.groups.join(', ') || '-'}`,
    ...(v.configurations.length ? ['configurations:'] : ['no MTO_Sync_ configurations (the tenant shares nothing, or is alone in its organization)']),
    ...v.configurations.map((c) => `  MTO_Sync_${c.targetTenantId}  ${c.state.padEnd(8)} ${c.status ?? ''}  job ${c.jobId ?? '-'}`),
  ];
  return lines.join('\n');
}

export function registerShareCommands(program: Command): void {
  const share = program.command('share').description("share users with every tenant of the tenant's multi-tenant organization (MTO_Sync_* configurations)")
    .addHelpText('after', `
Examples:
  openmto share set --tenant tenanta.openmto.test --user annie@tenanta.openmto.test
  openmto share add --tenant tenantb.openmto.test --group <security group id>
  openmto share remove --tenant tenantb.openmto.test --user barbara@tenantb.openmto.test
  openmto share show --tenant tenanta.openmto.test --json`);
  const common = (c: Command) => c.requiredOption('--tenant <tenant>', 'tenant id or domain').option('--json', 'JSON output').addOption(dataOption());

  common(share.command('show').description('the shared users and groups, and the MTO_Sync_* configurations with their state'))
    .action(async (o: Options) => {
      const text = { value: '' };
      const v = await withTenant(o.data, o.tenant, async (store, t) => {
        const r = await getSharing({ store, clock: systemClock }, t.id);
        if (!o.json) text.value = await describe(store, t.id, r);
        return r;
      });
      out(o.json, v, () => text.value);
    });

  const edits = [
    ['set', 'replace the shared scope with these users and groups (none: share nobody)'],
    ['add', 'add users and groups to the shared scope'],
    ['remove', 'remove users and groups from the shared scope (their B2B users are soft-deleted in the targets)'],
  ] as const;
  for (const [mode, text] of edits) {
    common(share.command(mode).description(text))
      .option('--user <user...>', 'user id or UPN (internal members)').option('--group <id...>', 'security group id')
      .action(async (o: Options) => {
        if (mode !== 'set' && !o.user?.length && !o.group?.length) throw usageError(`give at least one --user or --group to ${mode}`);
        const shown = { value: '' };
        const v = await withTenant(o.data, o.tenant, async (store, t) => {
          const r = await editSharing({ store, clock: systemClock }, t.id, { users: o.user ?? [], groups: o.group ?? [] }, mode);
          if (!o.json) shown.value = await describe(store, t.id, r);
          return r;
        });
        out(o.json, v, () => shown.value);
      });
  }
}
