import type { Db } from '../store.js';

export interface AppRecord {
  tenantId: string;
  clientId: string;
  displayName: string;
  secretHash: string | null;
  publicClient: boolean;
  /** Application permissions (app roles) granted to the app, e.g. `User.Read.All`. */
  permissions: string[];
  createdDateTime: string;
}

export const appsRepo = {
  async insert(db: Db, a: AppRecord): Promise<void> {
    await db.insertInto('apps').values({
      tenant_id: a.tenantId, client_id: a.clientId, display_name: a.displayName, secret_hash: a.secretHash,
      public_client: a.publicClient ? 1 : 0, permissions: JSON.stringify(a.permissions), created_at: a.createdDateTime,
    }).execute();
  },
  async get(db: Db, tenantId: string, clientId: string): Promise<AppRecord | undefined> {
    const r = await db.selectFrom('apps').selectAll().where('tenant_id', '=', tenantId).where('client_id', '=', clientId).executeTakeFirst();
    return r && {
      tenantId: r.tenant_id, clientId: r.client_id, displayName: r.display_name, secretHash: r.secret_hash,
      publicClient: r.public_client === 1, permissions: JSON.parse(r.permissions), createdDateTime: r.created_at,
    };
  },
  async list(db: Db, tenantId: string): Promise<AppRecord[]> {
    const rows = await db.selectFrom('apps').select('client_id').where('tenant_id', '=', tenantId).orderBy('created_at').execute();
    const out: AppRecord[] = [];
    for (const r of rows) {
      const a = await appsRepo.get(db, tenantId, r.client_id);
      if (a) out.push(a);
    }
    return out;
  },
};
