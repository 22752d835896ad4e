// The per-tenant change log: every directory mutation appends here in its own transaction. Delta queries
// and the sync engine read it by sequence number.
import type { ChangeLogRow } from '../schema.js';
import type { Db } from '../store.js';

export type ChangeKind = 'created' | 'updated' | 'softDeleted' | 'restored' | 'deleted';

export interface Change {
  objectType: 'user' | 'group';
  objectId: string;
  change: ChangeKind;
  /** Properties that changed (for `updated`); delta uses them to honour `$select` tracking. */
  props?: readonly string[];
}

export const changesRepo = {
  /** Appends changes; returns the tenant's new high-water sequence. */
  async append(db: Db, tenantId: string, changes: readonly Change[], at: string): Promise<number> {
    if (!changes.length) return changesRepo.head(db, tenantId);
    // Incrementing the tenant's counter locks its row until commit (PostgreSQL), so per-tenant sequence
    // order is commit order; SQLite writers are serialized by BEGIN IMMEDIATE already.
    const row = await db.updateTable('tenants').set((eb) => ({ change_seq: eb('change_seq', '+', changes.length) }))
      .where('id', '=', tenantId).returning('change_seq').executeTakeFirstOrThrow();
    const first = Number(row.change_seq) - changes.length + 1;
    const rows: ChangeLogRow[] = changes.map((c, i) => ({
      tenant_id: tenantId, seq: first + i, object_type: c.objectType, object_id: c.objectId, change: c.change,
      props: c.props ? JSON.stringify(c.props) : null, at,
    }));
    for (let i = 0; i < rows.length; i += 1000) await db.insertInto('change_log').values(rows.slice(i, i + 1000)).execute();
    return Number(row.change_seq);
  },
  async head(db: Db, tenantId: string): Promise<number> {
    const r = await db.selectFrom('tenants').select('change_seq').where('id', '=', tenantId).executeTakeFirst();
    return Number(r?.change_seq ?? 0);
  },
  /** Oldest sequence still kept (older entries were pruned); 0 when nothing was ever pruned. */
  async floor(db: Db, tenantId: string): Promise<number> {
    const r = await db.selectFrom('tenant_documents').select('data')
      .where('tenant_id', '=', tenantId).where('kind', '=', 'changeLog').where('key', '=', 'floor').executeTakeFirst();
    return r ? Number(JSON.parse(r.data)) : 0;
  },
  async since(db: Db, tenantId: string, objectType: 'user' | 'group', after: number, upTo: number, limit: number) {
    const rows = await db.selectFrom('change_log').selectAll()
      .where('tenant_id', '=', tenantId).where('object_type', '=', objectType)
      .where('seq', '>', after).where('seq', '<=', upTo).orderBy('seq').limit(limit).execute();
    return rows.map((r) => ({ ...r, seq: Number(r.seq), props: r.props ? (JSON.parse(r.props) as string[]) : null }));
  },
};
