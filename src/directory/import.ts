// Bulk import of users into one tenant: each item is validated like a Graph create; valid items are
// written in chunked transactions (users, values, tokens and change log together); invalid ones are
// reported with their position and error, and the import goes on.
import type { Change } from '../store/repos/changes.js';
import { changesRepo } from '../store/repos/changes.js';
import { tenantsRepo } from '../store/repos/tenants.js';
import { usersRepo } from '../store/repos/users.js';
import { isDomainError } from '../domain/errors.js';
import { parseUserBody, type UserRecord, validatePasswordComplexity, validateUpn } from '../domain/user.js';
import { hashSecret } from '../identity/secrets.js';
import { type DirectoryContext, newUser } from './users.js';

export interface ImportResult {
  imported: number;
  failed: { index: number; code: string; message: string }[];
}

// One transaction per chunk of 10,000 users: commits (and WAL checkpoints) are amortized over many rows,
// measured 1.3–1.5× faster than 2,000-user chunks. The price: online writes wait up to ~1.5 s for the
// write lock while a chunk commits; reads are never blocked (WAL).
export const IMPORT_CHUNK = 10_000;

/**
 * Items are Graph user bodies; `passwordProfile` is optional here (imported users without one cannot
 * sign in until an admin sets a password), and a non-Graph `roles` array grants directory roles.
 */
export async function importUsers(ctx: DirectoryContext, tenantId: string, items: readonly Record<string, unknown>[]): Promise<ImportResult> {
  const tenant = await tenantsRepo.find(ctx.store.db, tenantId);
  if (!tenant) throw new Error(`tenant ${tenantId} does not exist`);
  const domains = [tenant.domain, ...tenant.data.verifiedDomains];
  const result: ImportResult = { imported: 0, failed: [] };
  for (let start = 0; start < items.length; start += IMPORT_CHUNK) {
    const now = ctx.clock.now().toISOString();
    const records: UserRecord[] = [];
    const indices: number[] = [];
    const seen = new Set<string>();
    for (let i = start; i < Math.min(items.length, start + IMPORT_CHUNK); i++) {
      try {
        const { roles, ...body } = items[i]!;
        const withPw = body.passwordProfile ? body : { ...body, passwordProfile: {} };
        const props = parseUserBody(withPw, 'create');
        const upn = String(props.userPrincipalName);
        validateUpn(upn, domains);
        if (seen.has(upn.toLowerCase())) throw new Error('Another object with the same value for property userPrincipalName already exists.');
        seen.add(upn.toLowerCase());
        const pw = (props.passwordProfile as { password?: string }).password;
        if (pw) validatePasswordComplexity(pw);
        records.push({
          tenantId, user: newUser(props, tenant.domain, now), homeTenantId: null, homeUserId: null,
          passwordHash: pw ? await hashSecret(pw) : null, roles: Array.isArray(roles) ? roles.map(String) : [],
        });
        indices.push(i);
      } catch (e) {
        result.failed.push({ index: i, code: isDomainError(e) ? e.code : 'Request_BadRequest', message: (e as Error).message });
      }
    }
    const written = await ctx.store.transaction(async (db) => {
      const taken = new Set<string>();
      for (let i = 0; i < records.length; i += 500) {
        const upns = records.slice(i, i + 500).map((r) => r.user.userPrincipalName.toLowerCase());
        const rows = await db.selectFrom('users').select('upn_lc').where('tenant_id', '=', tenantId).where('upn_lc', 'in', upns).execute();
        for (const r of rows) taken.add(r.upn_lc);
      }
      const fresh = records.filter((r) => !taken.has(r.user.userPrincipalName.toLowerCase()));
      await usersRepo.insert(db, tenantId, fresh);
      const changes: Change[] = fresh.map((r) => ({ objectType: 'user', objectId: r.user.id, change: 'created' }));
      await changesRepo.append(db, tenantId, changes, now);
      return { fresh, taken };
    });
    result.imported += written.fresh.length;
    records.forEach((r, k) => {
      if (written.taken.has(r.user.userPrincipalName.toLowerCase())) {
        result.failed.push({ index: indices[k]!, code: 'Request_MultipleObjectsWithSameKeyValue', message: 'Another object with the same value for property userPrincipalName already exists.' });
      }
    });
  }
  return result;
}
