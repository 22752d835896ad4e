// A tenant's shared scope: the users and security groups it shares with every other tenant of its
// multi-tenant organization (the Microsoft 365 admin center's "Share users"). Kept as one tenant
// document; the reconciler (shareReconcile.ts) turns it into the MTO_Sync_<target> configurations.
import { z } from 'zod';
import { DomainError } from '../domain/errors.js';
import { documentsRepo } from '../store/repos/documents.js';
import { groupsRepo } from '../store/repos/groups.js';
import { usersRepo } from '../store/repos/users.js';
import type { Db } from '../store/store.js';

export const SHARED_SCOPE_KIND = 'collaboration.sharedScope';

// A scope is picked by an admin, one principal at a time; the bound keeps one PUT one small transaction
// (large audiences are shared through security groups, as the admin center asks).
const MAX_PRINCIPALS = 1_000;

export const sharedScopeSchema = z.object({
  users: z.array(z.string().min(1).max(256)).max(MAX_PRINCIPALS),
  groups: z.array(z.string().min(1).max(256)).max(MAX_PRINCIPALS),
}).strict();
export type SharedScopeInput = z.infer<typeof sharedScopeSchema>;

export interface SharedScope {
  /** User and group object ids. */
  users: string[];
  groups: string[];
  /** Targets whose MTO_Sync_ job sharing paused because they left the organization (started again if they come back). */
  pausedTargets: string[];
}

export async function readScope(db: Db, tenantId: string): Promise<SharedScope | undefined> {
  return documentsRepo.get<SharedScope>(db, tenantId, SHARED_SCOPE_KIND);
}

export async function writeScope(db: Db, tenantId: string, scope: SharedScope, at: string): Promise<void> {
  await documentsRepo.put(db, tenantId, SHARED_SCOPE_KIND, '', scope, at);
}

const bad = (message: string) => new DomainError('badRequest', 'Request_BadRequest', message);

export function parseScope(body: unknown): SharedScopeInput {
  const r = sharedScopeSchema.safeParse(body);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw bad(`Invalid request body: ${issue?.path.join('.') || 'body'}: ${issue?.message}. Send {"users":[id or UPN…],"groups":[id…]}.`);
  }
  return r.data;
}

/**
 * Users by id or UPN, live internal members only (the engine provisions nothing else, so sharing a guest or
 * a B2B user would be a silent no-op); groups by id, security-enabled only (Entra's rule for sync scope).
 */
export async function resolveScope(db: Db, tenantId: string, input: SharedScopeInput): Promise<{ users: string[]; groups: string[] }> {
  const users = new Set<string>();
  for (const ref of input.users) {
    const u = await usersRepo.get(db, tenantId, ref);
    if (!u) throw bad(`User '${ref}' does not exist in this tenant.`);
    if (u.user.userType !== 'Member' || u.homeTenantId) throw bad(`User '${ref}' is not an internal member; only internal members can be shared.`);
    users.add(u.user.id);
  }
  const groups = new Set<string>();
  for (const ref of input.groups) {
    const g = await groupsRepo.get(db, tenantId, ref);
    if (!g) throw bad(`Group '${ref}' does not exist in this tenant.`);
    if (!g.securityEnabled) throw bad(`Group '${ref}' (${g.displayName ?? ''}) is not a security group; only security groups can be shared.`);
    groups.add(g.id);
  }
  return { users: [...users], groups: [...groups] };
}
