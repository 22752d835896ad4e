import { markChanged } from '../changeEvents.js';
import { run, sql } from '../query/sqlText.js';
import type { Db } from '../store.js';
import { tenantRowCacheOf, tenantSeq } from '../tenantRows.js';
import { allocateTenantNo, tenantNo } from './tenantKeys.js';

export interface TenantRecord {
  id: string;
  displayName: string;
  /** The initial domain, e.g. `contoso.openmto.test`; lowercased, unique across the server. */
  domain: string;
  createdDateTime: string;
  /** Extra verified domains and organization properties. */
  data: { verifiedDomains: string[]; [k: string]: unknown };
}

const fromRow = (r: { id: string; display_name: string; domain: string; created_at: string; data: string }): TenantRecord => ({
  id: r.id, displayName: r.display_name, domain: r.domain, createdDateTime: r.created_at, data: JSON.parse(r.data),
});

export const tenantsRepo = {
  async insert(db: Db, t: TenantRecord): Promise<void> {
    await db.insertInto('tenants').values({
      id: t.id, no: await allocateTenantNo(db), display_name: t.displayName, domain: t.domain, created_at: t.createdDateTime, data: JSON.stringify(t.data),
    }).execute();
  },
  async update(db: Db, t: TenantRecord): Promise<void> {
    await db.updateTable('tenants').set({ display_name: t.displayName, data: JSON.stringify(t.data) }).where('id', '=', t.id).execute();
  },
  /** By id or by (initial or verified) domain. */
  async find(db: Db, idOrDomain: string): Promise<TenantRecord | undefined> {
    const key = idOrDomain.toLowerCase();
    const row = await db.selectFrom('tenants').selectAll().where((eb) => eb.or([eb('id', '=', key), eb('domain', '=', key)])).executeTakeFirst();
    return row ? fromRow(row) : undefined;
  },
  /** By id only: the per-request check that a token's tenant still exists. */
  async exists(db: Db, tenantId: string): Promise<boolean> {
    // Runs on every Graph request: the same read as the people index's freshness check, which neither
    // database repeats while the tenant is unchanged (tenantRows.ts).
    return (await tenantSeq(db, tenantId)) !== undefined;
  },
  async list(db: Db): Promise<TenantRecord[]> {
    // Read on every invitation (home-tenant lookup): precompiled text, no query builder.
    const rows = await run<{ id: string; display_name: string; domain: string; created_at: string; data: string }>(db,
      sql`select id, display_name, domain, created_at, data from tenants order by created_at, id`);
    return rows.map(fromRow);
  },
  /** Removes a tenant and every row it owns. */
  async remove(db: Db, tenantId: string): Promise<void> {
    const no = await tenantNo(db, tenantId);
    for (const table of ['user_values', 'group_values', 'search_tokens', 'group_members', 'users', 'groups', 'change_log',
      'provisioning_log', 'provisioning_log_runs', 'provisioning_log_jobs'] as const) {
      await db.deleteFrom(table).where('tenant_no', '=', no).execute();
    }
    for (const table of [
      'apps', 'tenant_documents', 'mto_members', 'work_items', 'sync_jobs', 'sync_objects',
      'applications', 'service_principals', 'app_role_assignments', 'authorization_grants',
    ] as const) {
      await db.deleteFrom(table).where('tenant_id', '=', tenantId).execute();
    }
    await db.deleteFrom('tenants').where('id', '=', tenantId).execute();
    // Every process forgets the tenant's row (tenantRows.ts): with the commit's NOTIFY and, in this process,
    // as the commit returns (as the engine's own change, so no sync scheduler wakes for it); outside a
    // transaction, at once.
    if (db.isTransaction) markChanged(db, tenantId, true);
    else tenantRowCacheOf(db)?.forget([tenantId]);
  },
};
