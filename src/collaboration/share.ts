// Share users: the operator's use cases behind `/operator/v1/tenants/{id}/sharing` and `openmto share`.
// Setting the scope is one transaction (validated, then saved); the MTO_Sync_* configurations follow it
// right after through the reconciler, which is idempotent, so a failure there is repaired by the next edit,
// join or removal.
import { errors } from '../domain/errors.js';
import { tenantsRepo } from '../store/repos/tenants.js';
import { reconcileSharing, type ShareConfiguration, type ShareContext, shareConfigurations } from './shareReconcile.js';
import { parseScope, readScope, resolveScope, type SharedScopeInput, writeScope } from './shareScope.js';

export interface SharingView {
  users: string[];
  groups: string[];
  configurations: ShareConfiguration[];
}

async function tenantOf(ctx: ShareContext, ref: string): Promise<string> {
  const t = await tenantsRepo.find(ctx.store.db, ref);
  if (!t) throw errors.notFound(ref);
  return t.id;
}

export async function getSharing(ctx: ShareContext, tenantRef: string): Promise<SharingView> {
  const tenantId = await tenantOf(ctx, tenantRef);
  const scope = await readScope(ctx.store.db, tenantId);
  return { users: scope?.users ?? [], groups: scope?.groups ?? [], configurations: await shareConfigurations(ctx.store.db, tenantId) };
}

export type ScopeEdit = { mode: 'set' | 'add' | 'remove'; users: string[]; groups: string[] };

/** Replaces (or adds to, or removes from) the shared scope, then reconciles every MTO_Sync_* configuration. */
export async function editSharing(ctx: ShareContext, tenantRef: string, body: unknown, mode: ScopeEdit['mode'] = 'set'): Promise<SharingView> {
  const input: SharedScopeInput = parseScope(body);
  const tenantId = await tenantOf(ctx, tenantRef);
  await ctx.store.transaction(async (db) => {
    const current = await readScope(db, tenantId);
    const given = mode === 'remove' ? await resolveRemoval(db, tenantId, input) : await resolveScope(db, tenantId, input);
    const base = { users: current?.users ?? [], groups: current?.groups ?? [] };
    const next = mode === 'set' ? given
      : mode === 'add' ? { users: union(base.users, given.users), groups: union(base.groups, given.groups) }
      : { users: base.users.filter((u) => !given.users.includes(u)), groups: base.groups.filter((g) => !given.groups.includes(g)) };
    await writeScope(db, tenantId, { ...next, pausedTargets: current?.pausedTargets ?? [] }, ctx.clock.now().toISOString());
  });
  await reconcileSharing(ctx, tenantId);
  return getSharing(ctx, tenantId);
}

const union = (a: string[], b: string[]) => [...new Set([...a, ...b])];

/** Removing names what is shared: a user who was deleted since can still be named by id. */
async function resolveRemoval(db: Parameters<typeof resolveScope>[0], tenantId: string, input: SharedScopeInput) {
  const scope = await readScope(db, tenantId);
  const users: string[] = [];
  for (const ref of input.users) {
    if (scope?.users.includes(ref.toLowerCase())) users.push(ref.toLowerCase());
    else users.push(...(await resolveScope(db, tenantId, { users: [ref], groups: [] })).users);
  }
  const groups = input.groups.map((g) => g.toLowerCase());
  return { users, groups };
}
