// Tenant-scoped JSON documents: policies, templates, MTO views — singletons or keyed collections whose
// shape is owned by their room (validated there with zod), stored here as text.
import type { Db } from '../store.js';

export const documentsRepo = {
  async get<T>(db: Db, tenantId: string, kind: string, key = ''): Promise<T | undefined> {
    const r = await db.selectFrom('tenant_documents').select('data')
      .where('tenant_id', '=', tenantId).where('kind', '=', kind).where('key', '=', key).executeTakeFirst();
    return r ? (JSON.parse(r.data) as T) : undefined;
  },
  async list<T>(db: Db, tenantId: string, kind: string): Promise<{ key: string; data: T }[]> {
    const rows = await db.selectFrom('tenant_documents').select(['key', 'data'])
      .where('tenant_id', '=', tenantId).where('kind', '=', kind).orderBy('key').execute();
    return rows.map((r) => ({ key: r.key, data: JSON.parse(r.data) as T }));
  },
  async put(db: Db, tenantId: string, kind: string, key: string, data: unknown, at: string): Promise<void> {
    const text = JSON.stringify(data);
    await db.insertInto('tenant_documents').values({ tenant_id: tenantId, kind, key, data: text, updated_at: at })
      .onConflict((oc) => oc.columns(['tenant_id', 'kind', 'key']).doUpdateSet({ data: text, updated_at: at })).execute();
  },
  async remove(db: Db, tenantId: string, kind: string, key = ''): Promise<boolean> {
    const r = await db.deleteFrom('tenant_documents')
      .where('tenant_id', '=', tenantId).where('kind', '=', kind).where('key', '=', key).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  },
};
