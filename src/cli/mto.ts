// `openmto mto create|add|join|leave|show`: the multi-tenant organization lifecycle from the command
// line, through the same use cases as Graph. The CLI acts as the tenant's administrator. Transitions the
// command queued are run before it exits (a server running on the same data may claim them first; the
// claim is safe either way), so `join` and `leave` print their outcome.
import { type Command, Option } from 'commander';
import { type CommonOptions, dataOption, notFoundError, out, table, withTenant } from './common.js';
import type { Actor } from '../directory/access.js';
import { systemClock } from '../domain/clock.js';
import { isGuid } from '../domain/cross-tenant-policy.js';
import {
  addMember, changeRole, createOrganization, getJoinRequest, getOrganization, listMembers, type MtoContext, removeMember, requestJoin,
} from '../mto/organization.js';
import { runDueTransitions } from '../mto/transitions.js';
import { tenantsRepo } from '../store/repos/tenants.js';

type Common = CommonOptions;

const adminActor = (tenantId: string): Actor => ({
  principal: {
    tenantId, kind: 'app', appId: 'openmto-cli', scopes: new Set(),
    roles: new Set(['MultiTenantOrganization.ReadWrite.All', 'Policy.ReadWrite.CrossTenantAccess']),
  },
  readLevel: 'all',
  isAdmin: true,
});

function inTenant<T>(o: Common, fn: (ctx: MtoContext, tenantId: string, actor: Actor) => Promise<T>): Promise<T> {
  return withTenant(o.data, o.tenant, async (store, t) => {
    const ctx: MtoContext = { store, clock: systemClock };
    const result = await fn(ctx, t.id, adminActor(t.id));
    // The CLI process ends right after: finish the transitions it queued instead of leaving them to a server.
    await runDueTransitions(ctx);
    return result;
  });
}

/** A tenant named by id, or by the domain of a tenant hosted here. */
async function tenantRef(ctx: MtoContext, ref: string): Promise<{ id: string; displayName: string | null }> {
  const hosted = await tenantsRepo.find(ctx.store.db, ref);
  if (hosted) return { id: hosted.id, displayName: hosted.displayName };
  if (isGuid(ref)) return { id: ref.toLowerCase(), displayName: null };
  throw notFoundError(`'${ref}' is neither a tenant id nor the domain of a tenant hosted here`);
}

async function show(ctx: MtoContext, tenantId: string, actor: Actor) {
  const organization = await getOrganization(ctx, tenantId, actor);
  const { members } = await listMembers(ctx, tenantId, actor);
  const joinRequest = await getJoinRequest(ctx, tenantId, actor);
  return { organization, tenants: members.map(({ mtoId: _m, localObjectId: _l, transition, ...m }) => ({ ...m, transitionDetails: transition })), joinRequest };
}

type Shown = Awaited<ReturnType<typeof show>>;
const describe = (s: Shown) => {
  if (s.organization.state === 'inactive') {
    const j = s.joinRequest.transitionDetails;
    return `not in a multi-tenant organization${j ? `\njoin request: ${j.status}${j.details ? ` (${j.details})` : ''}` : ''}`;
  }
  return [
    `${s.organization.displayName} (${s.organization.id})`,
    ...s.tenants.map((t) => `  ${t.tenantId}  ${t.role.padEnd(6)}  ${t.state.padEnd(7)}  ${t.displayName}${t.transitionDetails ? `  [${t.transitionDetails.status}${t.transitionDetails.details ? `: ${t.transitionDetails.details}` : ''}]` : ''}`),
  ].join('\n');
};

export function registerMtoCommands(program: Command): void {
  const mto = program.command('mto').description('multi-tenant organization: create, add tenants, join, leave');
  const common = (c: Command) => c.requiredOption('--tenant <tenant>', 'tenant id or domain').option('--json', 'JSON output').addOption(dataOption());

  common(mto.command('create').description('create a multi-tenant organization; the tenant becomes its owner'))
    .requiredOption('--name <name>', 'display name')
    .option('--description <text>', 'description')
    .action(async (o: Common & { name: string; description?: string }) => {
      const s = await inTenant(o, async (ctx, t, actor) => {
        await createOrganization(ctx, t, actor, { displayName: o.name, ...(o.description ? { description: o.description } : {}) });
        return show(ctx, t, actor);
      });
      out(o.json, s, () => describe(s));
    });

  common(mto.command('add').description('add a tenant (pending until it joins); owners only'))
    .requiredOption('--member <tenant>', 'tenant id, or domain of a tenant hosted here')
    .option('--name <name>', 'display name of the added tenant (default: its own name)')
    .addOption(new Option('--role <role>', 'role once joined').choices(['member', 'owner']).default('member'))
    .action(async (o: Common & { member: string; name?: string; role: string }) => {
      const s = await inTenant(o, async (ctx, t, actor) => {
        const member = await tenantRef(ctx, o.member);
        await addMember(ctx, t, actor, { tenantId: member.id, displayName: o.name ?? member.displayName ?? member.id, role: o.role });
        return show(ctx, t, actor);
      });
      out(o.json, s, () => describe(s));
    });

  common(mto.command('join').description('join the organization of the owner tenant that added this tenant'))
    .requiredOption('--owner <tenant>', 'owner tenant id or domain (use 00000000-0000-0000-0000-000000000000 to reset a failed join)')
    .action(async (o: Common & { owner: string }) => {
      const s = await inTenant(o, async (ctx, t, actor) => {
        await requestJoin(ctx, t, actor, { addedByTenantId: (await tenantRef(ctx, o.owner)).id });
        await runDueTransitions(ctx);
        return show(ctx, t, actor);
      });
      out(o.json, s, () => describe(s));
      if (s.joinRequest.transitionDetails?.status === 'failed') process.exitCode = 1;
    });

  common(mto.command('leave').description('leave the organization (an owner must leave another active owner behind)'))
    .action(async (o: Common) => {
      const s = await inTenant(o, async (ctx, t, actor) => {
        await removeMember(ctx, t, actor, t);
        await runDueTransitions(ctx);
        return show(ctx, t, actor);
      });
      out(o.json, s, () => describe(s));
    });

  common(mto.command('show').description('the organization, its tenants and this tenant\'s join request'))
    .action(async (o: Common) => {
      const s = await inTenant(o, (ctx, t, actor) => show(ctx, t, actor));
      out(o.json, s, () => describe(s));
    });
  common(mto.command('pending').description('tenants added to the organization that have not joined yet (and failed transitions)'))
    .action(async (o: Common) => {
      const s = await inTenant(o, (ctx, t, actor) => show(ctx, t, actor));
      const pending = s.tenants.filter((m) => m.state === 'pending' || m.transitionDetails?.status === 'failed');
      out(o.json, pending, () => table(pending, [['tenantId', (m) => m.tenantId], ['displayName', (m) => m.displayName], ['role', (m) => m.role],
        ['state', (m) => m.state], ['addedDateTime', (m) => m.addedDateTime], ['transition', (m) => m.transitionDetails ? `${m.transitionDetails.status}${m.transitionDetails.details ? `: ${m.transitionDetails.details}` : ''}` : '-']],
      'no pending tenants'));
    });

  common(mto.command('set-role').description("change a tenant's role (owners only; a pending tenant gets the role when it joins)"))
    .requiredOption('--member <tenant>', 'tenant id, or domain of a tenant hosted here')
    .addOption(new Option('--role <role>', 'the new role').choices(['member', 'owner']).makeOptionMandatory())
    .action(async (o: Common & { member: string; role: string }) => {
      const s = await inTenant(o, async (ctx, t, actor) => {
        await changeRole(ctx, t, actor, (await tenantRef(ctx, o.member)).id, { role: o.role });
        await runDueTransitions(ctx);
        return show(ctx, t, actor);
      });
      out(o.json, s, () => describe(s));
    });

  common(mto.command('remove').description('remove another tenant from the organization (owners only)'))
    .requiredOption('--member <tenant>', 'tenant id, or domain of a tenant hosted here')
    .action(async (o: Common & { member: string }) => {
      const s = await inTenant(o, async (ctx, t, actor) => {
        await removeMember(ctx, t, actor, (await tenantRef(ctx, o.member)).id);
        await runDueTransitions(ctx);
        return show(ctx, t, actor);
      });
      out(o.json, s, () => describe(s));
    });
}
